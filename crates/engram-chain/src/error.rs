//! The one error type of `engram-chain`.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong reading or writing the registry.
#[derive(Debug, Error)]
pub enum ChainError {
    /// The registry file could not be read, locked or written.
    #[error("registry {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The registry file is not what this version writes.
    #[error("registry {path} is corrupt: {reason}")]
    Corrupt {
        /// The file involved.
        path: PathBuf,
        /// What did not parse.
        reason: String,
    },
    /// A write by a hotkey that never registered.
    #[error("hotkey {hotkey} is not registered")]
    NotRegistered {
        /// The SS58 hotkey.
        hotkey: String,
    },
    /// Weights naming unknown uids, or negative or non-finite values.
    #[error("bad weights: {reason}")]
    BadWeights {
        /// What was wrong.
        reason: String,
    },
    /// Every uid is taken.
    #[error("the subnet is full")]
    SubnetFull,
    /// A wallet that cannot be created or used.
    #[error("{reason}")]
    BadWallet {
        /// What was wrong, naming the wallet.
        reason: String,
    },
}
