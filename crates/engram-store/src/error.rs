//! The one error type of `engram-store`.

use std::path::PathBuf;

use engram_core::CoreError;
use thiserror::Error;

/// What can go wrong opening or using a store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Input the protocol rejects (bad vector, metadata, CID, …). Nothing was written.
    #[error(transparent)]
    Invalid(#[from] CoreError),
    /// The data directory is held by another process.
    #[error("data directory {} is in use by another engram process", path.display())]
    Locked {
        /// The data directory.
        path: PathBuf,
    },
    /// A filter the store cannot evaluate.
    #[error("unsupported filter on {key:?}: {reason}")]
    BadFilter {
        /// The metadata key.
        key: String,
        /// Why it is unsupported.
        reason: String,
    },
    /// A file of the store could not be read or written.
    #[error("{context} {}: {source}", path.display())]
    Io {
        /// What was being done.
        context: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A blob asked for by a memory CID (`v1::…`) instead of a content CID (`sha256:…`).
    #[error("{0} is a memory CID; blobs are named by content CIDs (sha256:…)")]
    NotContentCid(engram_core::Cid),
    /// A blob's record that does not parse.
    #[error("the record of blob {cid} is corrupt: {source}")]
    BlobInfo {
        /// The blob.
        cid: engram_core::Cid,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// No blob is kept under this content CID.
    #[error("no blob {0} is stored here")]
    BlobNotFound(engram_core::Cid),
    /// A shard sent for a blob whose manifest was not kept first.
    #[error("no shard manifest is kept for {0}: send the manifest first")]
    NoManifest(engram_core::Cid),
    /// A second, different manifest for a blob that already has one.
    #[error("another shard manifest is already kept for {0}")]
    ManifestConflict(engram_core::Cid),
    /// A kept manifest that no longer parses or checks.
    #[error("the shard manifest of {blob} is corrupt: {source}")]
    ManifestCorrupt {
        /// The blob.
        blob: engram_core::Cid,
        /// The parse error or the rule it breaks.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A kept shard whose bytes no longer match its manifest; it was deleted, so repair
    /// re-creates it.
    #[error("shard {index} of {blob} was damaged on disk and is deleted: {source}")]
    ShardCorrupt {
        /// The blob.
        blob: engram_core::Cid,
        /// The shard's index.
        index: usize,
        /// How it differs.
        #[source]
        source: CoreError,
    },
    /// A snapshot that cannot be restored or read.
    #[error("snapshot {}: {problem}", path.display())]
    Snapshot {
        /// The snapshot file.
        path: PathBuf,
        /// What is wrong with it (boxed: the rest of the enum stays small).
        #[source]
        problem: Box<crate::snapshot::SnapshotError>,
    },
    /// The vector engine refused an operation.
    #[error("vector engine: {0}")]
    Engine(String),
    /// A stored record that does not decode (the store was damaged or written by a newer
    /// version).
    #[error("stored record {id} is corrupt: {reason}")]
    Corrupt {
        /// The point id.
        id: String,
        /// What was wrong.
        reason: String,
    },
}

impl From<qdrant_edge::OperationError> for StoreError {
    fn from(e: qdrant_edge::OperationError) -> Self {
        StoreError::Engine(e.to_string())
    }
}

pub(crate) fn io(
    context: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.into();
    move |source| StoreError::Io {
        context,
        path,
        source,
    }
}
