//! Protocol constants (DESIGN §7). Every limit a node enforces is named here once.

/// Dimension of every canonical embedding (all-MiniLM-L6-v2).
pub const EMBEDDING_DIM: usize = 384;
/// The model version written into every CID's canonical metadata by default.
pub const DEFAULT_MODEL_VERSION: &str = "v1";
/// Maximum length of an ingested text, in Unicode scalar values (Python `len`).
pub const MAX_TEXT_CHARS: usize = 8192;
/// Maximum size of a record's metadata, as compact JSON bytes.
pub const MAX_METADATA_BYTES: usize = 4096;
/// Smallest `top_k` a query may ask for.
pub const MIN_TOP_K: usize = 1;
/// Largest `top_k` a query may ask for.
pub const MAX_TOP_K: usize = 100;
/// `top_k` when a query does not say.
pub const DEFAULT_TOP_K: usize = 10;
/// Length of a challenge nonce in bytes.
pub const NONCE_LEN: usize = 32;
/// Seconds a challenge stays answerable.
pub const CHALLENGE_TTL_SECS: u64 = 10;
/// The default port of a node.
pub const DEFAULT_PORT: u16 = 8091;
