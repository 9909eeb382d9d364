//! The one error type of `engram-validator`.

use std::path::PathBuf;

use thiserror::Error;

/// What stops a validator.
#[derive(Debug, Error)]
pub enum ValidatorError {
    /// The registry failed.
    #[error(transparent)]
    Chain(#[from] engram_chain::ChainError),
    /// The network client failed where no fallback exists.
    #[error(transparent)]
    Client(#[from] engram_client::ClientError),
    /// The state directory could not be read or written.
    #[error("validator state {path}: {reason}")]
    State {
        /// The file involved.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}
