//! The one error type of `engram-core`.

use thiserror::Error;

/// Everything that can go wrong in the pure protocol core: malformed input, never I/O.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// A CID string that is neither `v1::<64 hex>` nor `sha256:<64 hex>`.
    #[error(
        "malformed CID {input:?}: expected `v1::` or `sha256:` followed by 64 lowercase hex characters"
    )]
    MalformedCid {
        /// The rejected input (truncated to 100 characters).
        input: String,
    },
    /// An embedding whose length is not the protocol's dimension.
    #[error("embedding has {got} dimensions, expected exactly {expected}")]
    DimensionMismatch {
        /// The required dimension.
        expected: usize,
        /// The dimension that was supplied.
        got: usize,
    },
    /// An embedding holding NaN or an infinity.
    #[error("embedding value at index {index} is not a finite number")]
    NonFiniteEmbedding {
        /// Position of the first offending value.
        index: usize,
    },
    /// Text that is empty (after trimming whitespace).
    #[error("text is empty")]
    EmptyText,
    /// Text over the protocol's character limit.
    #[error("text is {chars} characters long; the limit is {limit}")]
    TextTooLong {
        /// Length of the supplied text in characters.
        chars: usize,
        /// The protocol limit.
        limit: usize,
    },
    /// Metadata whose JSON encoding is over the protocol's byte limit.
    #[error("metadata is {bytes} bytes as JSON; the limit is {limit}")]
    MetadataTooLarge {
        /// Size of the supplied metadata as compact JSON.
        bytes: usize,
        /// The protocol limit.
        limit: usize,
    },
    /// Metadata that is not a JSON object.
    #[error("metadata must be a JSON object of key/value pairs")]
    MetadataNotObject,
    /// Threshold parameters outside 2 ≤ threshold ≤ total ≤ 255.
    #[error("a {threshold}-of-{total} split is not possible: use 2 ≤ threshold ≤ total ≤ 255")]
    ShamirParameters {
        /// K.
        threshold: u8,
        /// N.
        total: u8,
    },
    /// An empty secret to split.
    #[error("cannot split an empty secret")]
    ShamirEmpty,
    /// Fewer shares than the split's threshold.
    #[error("cannot recover the key: {given} share(s) given; this key needs {needed}")]
    ShamirTooFew {
        /// Shares given.
        given: usize,
        /// The threshold.
        needed: u8,
    },
    /// Shares of different splits (threshold, total or length differ).
    #[error("cannot recover the key: the shares are not of one split")]
    ShamirMixed,
    /// A share index outside 1…total.
    #[error("cannot recover the key: share index {index} is outside 1–{total}")]
    ShamirIndex {
        /// The index.
        index: u8,
        /// The split's total.
        total: u8,
    },
    /// The same share index twice.
    #[error("cannot recover the key: share {index} is given twice")]
    ShamirDuplicate {
        /// The index.
        index: u8,
    },
    /// A share whose bytes are not an even number of hex digits.
    #[error("cannot recover the key: share {index} is not hex")]
    ShamirHex {
        /// The index.
        index: u8,
    },
    /// A hex field of the wrong length or with non-hex characters.
    #[error("{field} must be {expected_len} hex characters")]
    BadHex {
        /// Which field was malformed.
        field: &'static str,
        /// The required number of hex characters.
        expected_len: usize,
    },
    /// A query's `top_k` outside [`crate::MIN_TOP_K`]–[`crate::MAX_TOP_K`].
    #[error("top_k must be between {min} and {max}, got {got}")]
    TopK {
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
        /// What was asked.
        got: i64,
    },
    /// A listing page outside 1–[`crate::MAX_LIST_LIMIT`] or at a negative offset.
    #[error(
        "limit must be between 1 and {max} and offset at least 0, got limit {limit}, offset {offset}"
    )]
    ListPage {
        /// Largest allowed limit.
        max: usize,
        /// What was asked.
        limit: i64,
        /// What was asked.
        offset: i64,
    },
    /// A delete naming no memory or more than [`crate::MAX_DELETE_BATCH`].
    #[error("a delete names 1 to {max} memories, got {got}")]
    DeleteBatch {
        /// Most allowed.
        max: usize,
        /// How many were named.
        got: usize,
    },
    /// A CID asked to prove membership that is not in the committed set.
    #[error("{cid} is not in the committed corpus")]
    NotAMember {
        /// The CID that was asked for.
        cid: String,
    },
    /// A serialized inclusion proof that does not parse.
    #[error("malformed inclusion proof: {reason}")]
    MalformedProof {
        /// What was wrong.
        reason: String,
    },
    /// An erasure layout outside 1 ≤ data < total ≤ [`crate::erasure::MAX_SHARDS`].
    #[error(
        "a {data}-of-{total} erasure layout is not possible: use 1 ≤ data < total ≤ {max}",
        max = crate::erasure::MAX_SHARDS
    )]
    ErasureLayout {
        /// Shards any reader needs (k).
        data: usize,
        /// Shards written (n).
        total: usize,
    },
    /// A shard manifest whose fields disagree with each other.
    #[error("inconsistent shard manifest: {reason}")]
    ErasureManifest {
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A shard whose index or bytes do not match its manifest.
    #[error("shard {index} does not match its manifest ({reason})")]
    ErasureShard {
        /// The shard's index.
        index: usize,
        /// Out of range, wrong length or wrong hash.
        reason: &'static str,
    },
    /// Fewer good shards than the layout needs.
    #[error("cannot rebuild the blob: {have} good shard(s), it needs {need}")]
    ErasureTooFew {
        /// Distinct shards that matched the manifest.
        have: usize,
        /// The layout's data count.
        need: usize,
    },
    /// Shards that decode to bytes whose hash is not the blob's CID.
    #[error("the shards decode to bytes that are not {blob}")]
    ErasureMismatch {
        /// The blob's content CID.
        blob: crate::cid::Cid,
    },
    /// The Reed–Solomon codec refused its input (the checks above should prevent it).
    #[error("erasure codec failed")]
    ErasureCodec(#[source] crate::erasure::CodecError),
    /// A key, mnemonic, secret URI or SS58 address that cannot be used.
    #[error("bad key: {reason}")]
    BadKey {
        /// What was wrong.
        reason: String,
    },
    /// A signature that is malformed or does not verify.
    #[error("bad signature: {reason}")]
    BadSignature {
        /// What was wrong.
        reason: String,
    },
    /// A blob that does not decrypt.
    #[error("decryption error: {reason}")]
    Decryption {
        /// What was wrong.
        reason: String,
    },
    /// A trust tier name that is not one of the four.
    #[error("unknown trust tier {0:?}: expected anonymous, community, verified or sovereign")]
    UnknownTier(String),
    /// A time to live on a public memory.
    #[error("public memories are permanent: ttl_s needs a private namespace")]
    PublicIsPermanent,
    /// A time to live outside 1 s – [`crate::MAX_TTL_S`].
    #[error("ttl_s must be between 1 and {max} seconds, got {got}")]
    Ttl {
        /// Longest allowed.
        max: u64,
        /// What was asked.
        got: u64,
    },
    /// A near-duplicate threshold outside (0, 1].
    #[error("the duplicate threshold is a cosine similarity in (0, 1], got {0}")]
    DuplicateThreshold(f32),
    /// A search mode name that is not one of the three.
    #[error("unknown search mode {0:?}: expected dense, keyword or hybrid")]
    UnknownSearchMode(String),
    /// A hybrid query's keyword weight outside its range.
    #[error("keyword_weight must be between {min} and {max}, got {got}")]
    KeywordWeight {
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
        /// What was asked.
        got: f64,
    },
}
