//! The one error type of `engram-engine`.

use engram_core::CoreError;
use engram_embed::EmbedError;
use engram_store::StoreError;
use thiserror::Error;

/// What can go wrong ingesting or querying.
#[derive(Debug, Error)]
pub enum EngineError {
    /// Input the protocol rejects; nothing was stored.
    #[error(transparent)]
    Invalid(#[from] CoreError),
    /// The embedding model is missing, corrupt or failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A document over a media limit (too many chunks).
    #[error(transparent)]
    Media(#[from] engram_media::MediaError),
}

impl EngineError {
    /// True when the caller sent something wrong (as opposed to a failure on our side).
    pub fn is_bad_input(&self) -> bool {
        match self {
            EngineError::Invalid(_) => true,
            EngineError::Store(
                StoreError::Invalid(_)
                | StoreError::BadFilter { .. }
                | StoreError::NotContentCid(_)
                | StoreError::NoManifest(_)
                | StoreError::ManifestConflict(_),
            ) => true,
            EngineError::Media(e) => e.is_bad_input(),
            EngineError::Embed(_) | EngineError::Store(_) => false,
        }
    }
}
