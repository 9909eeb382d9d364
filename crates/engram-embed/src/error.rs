//! The one error type of `engram-embed`.

use std::path::PathBuf;

use thiserror::Error;

/// The command that fetches and verifies the model; every model error names it.
pub const SETUP_HINT: &str = "run ./setup.sh (or scripts/fetch-model.sh) to fetch and verify it";

/// What can go wrong loading the model or embedding text.
#[derive(Debug, Error)]
pub enum EmbedError {
    /// No model directory, or one without the files the embedder needs.
    #[error("embedding model not found at {}: missing {missing}; {SETUP_HINT}", path.display())]
    ModelMissing {
        /// The directory that was searched.
        path: PathBuf,
        /// The file that is absent.
        missing: &'static str,
    },
    /// A `model.safetensors` whose SHA-256 is not the canonical model's.
    #[error("model weights at {} have SHA-256 {got}, expected {expected}: the file is corrupt or a different model; {SETUP_HINT}", path.display())]
    ModelChecksum {
        /// The weights file.
        path: PathBuf,
        /// The canonical SHA-256.
        expected: &'static str,
        /// The SHA-256 found.
        got: String,
    },
    /// A weights file that does not hold the expected tensors.
    #[error("model weights are malformed: {reason}; {SETUP_HINT}")]
    ModelMalformed {
        /// What was wrong.
        reason: String,
    },
    /// The tokenizer file could not be used.
    #[error("tokenizer failed: {reason}")]
    Tokenizer {
        /// The tokenizer library's message.
        reason: String,
    },
    /// `ENGRAM_KERNELS` names no kernel path.
    #[error("unknown kernel path {value:?} in ENGRAM_KERNELS: expected one of {known}")]
    UnknownKernels {
        /// The value given.
        value: String,
        /// The names that exist.
        known: String,
    },
    /// A kernel path this CPU cannot run.
    #[error("kernel path {kernels} is not supported by this CPU (it runs: {available})")]
    KernelsUnsupported {
        /// The path asked for.
        kernels: crate::Kernels,
        /// The paths this CPU runs.
        available: String,
    },
    /// Reading a model file failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}
