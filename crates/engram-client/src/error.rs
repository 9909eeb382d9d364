//! The one error type of `engram-client`.

use engram_core::Cid;
use thiserror::Error;

/// What can go wrong talking to a node or to the embedded store.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The node answered with an error status and message.
    #[error("node answered {status}: {message}")]
    Http {
        /// HTTP status code.
        status: u16,
        /// The node's `error` message.
        message: String,
    },
    /// A line of an export file that is not an exported memory.
    #[error("line {line}: not an exported memory: {source}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// Why it does not parse.
        source: serde_json::Error,
    },
    /// An exported memory whose CID is not what its content hashes to.
    #[error(
        "memory {line}: the file says {claimed}, its vector and metadata hash to {computed}; nothing was imported"
    )]
    CidMismatch {
        /// 1-based position in the file.
        line: usize,
        /// The CID the file gives.
        claimed: String,
        /// The CID of the content.
        computed: Cid,
    },
    /// The node could not be reached or did not answer in time.
    #[cfg(feature = "http")]
    #[error("cannot reach node {url}: {source}")]
    Transport {
        /// The URL requested.
        url: String,
        /// What failed.
        source: reqwest::Error,
    },
    /// The node's answer was not what the protocol says.
    #[error("unexpected answer from {url}: {source}")]
    Decode {
        /// The URL requested.
        url: String,
        /// Why it does not parse.
        source: serde_json::Error,
    },
    /// A background task of the client panicked or was cancelled.
    #[cfg(feature = "http")]
    #[error("client task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The operating system has no randomness to give (for encryption keys or noise).
    #[error("no randomness from the OS: {0}")]
    Randomness(#[source] getrandom::Error),
    /// A node answered with a CID that does not parse.
    #[error("{url} answered a malformed CID {cid:?}: {source}")]
    BadCid {
        /// The node.
        url: String,
        /// What it answered.
        cid: String,
        /// Why it does not parse.
        source: engram_core::CoreError,
    },
    /// The signer could not sign (a key held outside this process failed).
    #[error("signing failed: {0}")]
    Sign(#[source] engram_core::keys::SignError),
    /// The call needs a hotkey to sign with and the client has none.
    #[error("this needs a hotkey to sign with: configure the client's signer (CLI: --wallet NAME)")]
    NoSigner,
    /// The node URL is not usable.
    #[error("invalid node URL {0:?}: expected http://host:port")]
    InvalidUrl(String),
    /// The embedded engine failed.
    #[cfg(feature = "embedded")]
    #[error(transparent)]
    Engine(#[from] engram_engine::EngineError),
    /// The network's registry could not be read.
    #[cfg(feature = "network")]
    #[error(transparent)]
    Chain(#[from] engram_chain::ChainError),
    /// A document bound for a private namespace on a node without a key to seal it: its
    /// bytes and text would reach the node in the clear.
    #[error(
        "a document for a private namespace on a node must be sealed first: pass an encryption key (--encrypt KEY_FILE; Python: encryption=HybridEncryption(...))"
    )]
    PrivateDocument,
    /// An Arweave upload failed and stays queued (`engram blob push` retries it).
    #[error("the upload of {0} failed and stays pending")]
    UploadPending(Cid),
    /// A keyword or hybrid query given a vector instead of text.
    #[error("mode {0} ranks by words: query with text, not a vector")]
    ModeNeedsText(engram_core::search::SearchMode),
    /// A document delete in a namespace holding sealed memories, without the key that
    /// opens them: its chunks could not be found.
    #[error(
        "{0} sealed memories in this namespace cannot be read without their key: pass it (--decrypt KEY_FILE) so the document's chunks are found and deleted with it"
    )]
    SealedNeedsKey(usize),
    /// A sealed document without a private namespace to keep it in.
    #[error("sealed documents go to a private namespace: pass --namespace NAME")]
    SealNeedsNamespace,
    /// A node served bytes for a blob that do not hash to its content CID.
    #[error("{url} served bytes hashing to {got}, not to {expected}")]
    BlobMismatch {
        /// Where they came from.
        url: String,
        /// The CID asked for.
        expected: Cid,
        /// What the bytes hash to.
        got: Cid,
    },
    /// A node paged its `GET /shards` listing inconsistently (another offset, an oversized
    /// page or an absurd total): its listing is not read.
    #[error("{url} answered GET /shards with a page it was not asked for")]
    BadListing {
        /// The node.
        url: String,
    },
    /// No live node did what was asked.
    #[error("no node {action} ({live} live nodes; failures: {failures:?})")]
    NoNode {
        /// What was asked, e.g. "stored v1::…" or "answered the query".
        action: String,
        /// Live nodes asked.
        live: usize,
        /// `(node, why)` for each node that failed.
        failures: Vec<(String, String)>,
    },
    /// A network write must carry the vector (embed once, locally, and ship the bytes).
    #[error("a network ingest sends raw_embedding: embed once, locally, and ship the bytes")]
    NotRawEmbedding,
    /// The request is invalid before it is sent.
    #[error(transparent)]
    Invalid(#[from] engram_core::CoreError),
    /// A document that cannot be read (wrong type, damaged, too large, unreachable URL, …).
    #[cfg(feature = "embedded")]
    #[error(transparent)]
    Media(#[from] engram_media::MediaError),
    /// Arweave refused or could not be reached.
    #[cfg(feature = "embedded")]
    #[error("arweave: {0}")]
    Arweave(#[from] engram_arweave::ArweaveError),
    /// A store failure outside an engine call (blobs).
    #[cfg(feature = "embedded")]
    #[error(transparent)]
    Store(#[from] engram_store::StoreError),
}

impl ClientError {
    /// True when a node refused the request itself (400 or 413): asking another node
    /// would get the same answer.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ClientError::Http {
                status: 400 | 413,
                ..
            }
        ) || matches!(self, ClientError::Invalid(_))
    }

    /// True when the caller's input was at fault (a 4xx from a node, or a local rejection).
    pub fn is_bad_input(&self) -> bool {
        match self {
            ClientError::Http { status, .. } => (400..500).contains(status),
            ClientError::Invalid(_)
            | ClientError::NoSigner
            | ClientError::PrivateDocument
            | ClientError::SealNeedsNamespace
            | ClientError::ModeNeedsText(_)
            | ClientError::SealedNeedsKey(_)
            | ClientError::BadLine { .. }
            | ClientError::CidMismatch { .. } => true,
            #[cfg(feature = "embedded")]
            ClientError::Engine(e) => e.is_bad_input(),
            #[cfg(feature = "embedded")]
            ClientError::Media(e) => e.is_bad_input(),
            #[cfg(feature = "embedded")]
            ClientError::Arweave(_) | ClientError::Store(_) | ClientError::UploadPending(_) => {
                false
            }
            ClientError::NotRawEmbedding => true,
            #[cfg(feature = "http")]
            ClientError::Transport { .. } | ClientError::Task(_) => false,
            #[cfg(feature = "network")]
            ClientError::Chain(_) => false,
            ClientError::Decode { .. }
            | ClientError::InvalidUrl(_)
            | ClientError::Randomness(_)
            | ClientError::BadCid { .. }
            | ClientError::BlobMismatch { .. }
            | ClientError::BadListing { .. }
            | ClientError::Sign(_)
            | ClientError::NoNode { .. } => false,
        }
    }
}
