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
/// [`NodeError::RegistryRead`] or [`NodeError::RegistryParse`].
pub(crate) fn load<T: DeserializeOwned + Default>(path: &Path) -> Result<T, NodeError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| NodeError::RegistryParse {
            path: path.to_path_buf(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(source) => Err(NodeError::RegistryRead {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Replaces `path` with `value` atomically and durably.
///
/// # Errors
/// [`ApiError::Persist`] when the file cannot be written.
pub(crate) fn save<T: Serialize>(path: &Path, value: &T) -> Result<(), ApiError> {
    let bytes = serde_json::to_vec_pretty(value).expect("registry serializes");
    engram_os::write_atomic(path, &bytes).map_err(|source| ApiError::Persist {
        path: path.to_path_buf(),
        source,
    })
}
