//! Finding and verifying the model directory.
//!
//! The weights are fetched once by setup (DESIGN §2) and never at run time. The model
//! belongs to the user and the machine, not to a store: every data directory uses the same
//! one. Resolution order: an explicit path (`--model-dir`), `ENGRAM_MODEL_DIR`, then the
//! user's model location that setup filled (`$XDG_DATA_HOME/engram/model`, i.e.
//! `~/.local/share/engram/model` on Linux). The weights' SHA-256 is checked on every load:
//! a CID depends on the exact model, so a silently different model would mint different
//! CIDs for the same text.

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

/// The user's model location, where setup puts the model: the platform's data directory
/// (`$XDG_DATA_HOME`, else `~/.local/share` on Linux) + `engram/model`, else
/// `./.engram/model`. Independent of any data directory and of `ENGRAM_DATA_DIR`.
pub fn user_model_dir() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("engram"))
        .unwrap_or_else(|| PathBuf::from(".engram"))
        .join("model")
}

/// Picks the model directory: `explicit`, else `$ENGRAM_MODEL_DIR`, else
/// [`user_model_dir`]. Never derived from a data directory.
pub fn resolve_model_dir(explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os(MODEL_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(user_model_dir)
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
