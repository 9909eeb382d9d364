//! `engram keys new` and `engram decrypt`: the client side of private memories.
//!
//! A key file holds one X25519 private key as 64 hex characters. Blobs are the original
//! SDK's hybrid format (`engram_core::crypto`), so a blob from either implementation
//! decrypts with the other's key.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use engram_client::api::QueryResult;
use engram_client::sealed;
use engram_core::crypto::{decrypt_memory, public_key};
use serde_json::{Value, json};

use crate::args::Global;
use crate::output::print_json;

/// Reads a key file.
pub(crate) fn read_key(path: &Path) -> Result<[u8; 32]> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    hex::decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .with_context(|| {
            format!(
                "{} is not a key file: expected 64 hex characters (make one with `engram keys new --out FILE`)",
                path.display()
            )
        })
}

pub(crate) fn new_key(g: &Global, out: &Path) -> Result<()> {
    let mut private = [0u8; 32];
    getrandom::getrandom(&mut private).context("reading OS randomness")?;
    write_key(g, out, &private)
}

/// Writes `private` as a key file at `out` (mode 0600, never over an existing file) and
/// prints its public key.
pub(crate) fn write_key(g: &Global, out: &Path, private: &[u8; 32]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(out) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} exists; refusing to overwrite a key", out.display())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", out.display())),
    };
    writeln!(file, "{}", hex::encode(private))?;
    let public = hex::encode(public_key(private));
    if g.json {
        print_json(&json!({"key_file": out, "public_key_hex": public}));
    } else {
        println!("{public}");
        eprintln!(
            "private key written to {} (mode 0600); the line above is its public key",
            out.display()
        );
    }
    Ok(())
}

pub(crate) fn decrypt(key: &Path) -> Result<()> {
    let private = read_key(key)?;
    let mut blob = String::new();
    std::io::stdin()
        .read_to_string(&mut blob)
        .context("reading stdin")?;
    let (text, metadata) = decrypt_memory(&private, blob.trim())?;
    print_json(&json!({"text": text, "metadata": Value::Object(metadata)}));
    Ok(())
}

/// The public key that memories sealed for this key file are encrypted to.
pub(crate) fn recipient(key_file: &Path) -> Result<[u8; 32]> {
    Ok(sealed::recipient(&read_key(key_file)?))
}

/// Opens the sealed hits this key file can open.
pub(crate) fn decrypt_hits(key_file: &Path, hits: &mut [QueryResult]) -> Result<()> {
    sealed::open_hits(&read_key(key_file)?, hits);
    Ok(())
}
