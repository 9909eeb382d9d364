use std::path::PathBuf;

/// Why a devnet operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// No manifest in the directory.
    #[error("no devnet in {} (start one with `engram devnet up`)", dir.display())]
    NotFound {
        /// The directory asked for.
        dir: PathBuf,
        /// Why the manifest could not be read.
        source: std::io::Error,
    },
    /// The manifest is not valid JSON.
    #[error("{} is corrupt", path.display())]
    Corrupt {
        /// The manifest.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// Processes of a devnet in this directory are still running.
    #[error("a devnet is already running in {} (`engram devnet down --dir {}` first)", dir.display(), dir.display())]
    AlreadyRunning {
        /// The directory.
        dir: PathBuf,
    },
    /// The spec asks for something a devnet cannot be.
    #[error("{0}")]
    Spec(&'static str),
    /// A stake amount that is not a positive number.
    #[error("a stake amount must be a positive number, got {0}")]
    BadStake(f64),
    /// A fault names a process the devnet does not have.
    #[error(
        "--fault names {0:?}, which is not a process of this devnet (miner-N, or validator-N=favour=miner-K)"
    )]
    UnknownFaultTarget(String),
    /// A process exited before it served.
    #[error("{name} exited during start-up ({status}); see {}", log.display())]
    Exited {
        /// The process.
        name: String,
        /// How it exited.
        status: std::process::ExitStatus,
        /// Its log.
        log: PathBuf,
    },
    /// A node did not serve within the start-up deadline.
    #[error("{name} did not come up within {secs} s; see {}", log.display())]
    Timeout {
        /// The process.
        name: String,
        /// The deadline.
        secs: u64,
        /// Its log.
        log: PathBuf,
    },
    /// A file or process operation failed.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The registry refused or failed.
    #[error(transparent)]
    Chain(#[from] engram_chain::ChainError),
    /// A node could not be reached.
    #[error(transparent)]
    Client(#[from] engram_client::ClientError),
    /// A validator's state could not be read.
    #[error(transparent)]
    Validator(#[from] engram_validator::ValidatorError),
    /// The OS gave no randomness for a new wallet.
    #[error("no randomness for a new wallet")]
    Randomness(#[source] getrandom::Error),
}

pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DevnetError {
    let what = what.into();
    move |source| DevnetError::Io { what, source }
}
