//! The node's small registries (namespace owners, attestations) live as JSON files in the
//! data directory, read whole at start and replaced atomically on every change, so a crash
//! leaves either the old file or the new one.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, NodeError};

/// Reads `path`, or the default value when it does not exist.
///
/// # Errors
/// [`NodeError::Config`] for an unreadable or malformed file.
pub(crate) fn load<T: DeserializeOwned + Default>(path: &Path) -> Result<T, NodeError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| NodeError::Config(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(NodeError::Config(format!("{}: {e}", path.display()))),
    }
}

/// Writes `value` to `path` through a temporary file and a rename.
///
/// # Errors
/// [`ApiError::Internal`] when the file cannot be written.
pub(crate) fn save<T: Serialize>(path: &Path, value: &T) -> Result<(), ApiError> {
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(value).expect("registry serializes");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| ApiError::Internal(format!("cannot save {}: {e}", path.display())))
}
