//! Finding and verifying the model directory.
//!
//! The weights are fetched once by setup (DESIGN §2) and never at run time. Resolution order:
//! an explicit path (`--model-dir`), `ENGRAM_MODEL_DIR`, then `<data dir>/model`. The
//! weights' SHA-256 is checked on every load: a CID depends on the exact model, so a
//! silently different model would mint different CIDs for the same text.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::EmbedError;

/// SHA-256 of the canonical all-MiniLM-L6-v2 `model.safetensors`.
pub const MODEL_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
/// The environment variable naming a model directory.
pub const MODEL_DIR_ENV: &str = "ENGRAM_MODEL_DIR";
/// The weights file inside a model directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The tokenizer file inside a model directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// The environment variable naming the data directory.
pub const DATA_DIR_ENV: &str = "ENGRAM_DATA_DIR";

/// The data directory when none is given: `$ENGRAM_DATA_DIR`, else the platform's data
/// directory (`~/.local/share/engram` on Linux), else `./.engram`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os(DATA_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("engram")))
        .unwrap_or_else(|| PathBuf::from(".engram"))
}

/// Picks the model directory: `explicit`, else `$ENGRAM_MODEL_DIR`, else `<data_dir>/model`.
pub fn resolve_model_dir(explicit: Option<&Path>, data_dir: &Path) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os(MODEL_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| data_dir.join("model"))
}

/// Reads the weights of `dir`, checking that the needed files exist and the SHA-256 matches.
///
/// # Errors
/// [`EmbedError::ModelMissing`], [`EmbedError::ModelChecksum`] or [`EmbedError::Io`].
pub fn read_verified_weights(dir: &Path) -> Result<Vec<u8>, EmbedError> {
    for file in [WEIGHTS_FILE, TOKENIZER_FILE] {
        if !dir.join(file).is_file() {
            return Err(EmbedError::ModelMissing {
                path: dir.to_path_buf(),
                missing: file,
            });
        }
    }
    let path = dir.join(WEIGHTS_FILE);
    let bytes = std::fs::read(&path).map_err(|source| EmbedError::Io {
        path: path.clone(),
        source,
    })?;
    let got = hex::encode(Sha256::digest(&bytes));
    if got != MODEL_SHA256 {
        return Err(EmbedError::ModelChecksum {
            path,
            expected: MODEL_SHA256,
            got,
        });
    }
    Ok(bytes)
}
