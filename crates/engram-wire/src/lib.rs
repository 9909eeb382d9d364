//! The wire protocol's request and response bodies (DESIGN §3), shared by the node and the
//! SDK so the two cannot drift. Field names match the published Engram protocol; fields
//! marked "ours" are extensions its clients ignore.

use engram_core::keys::{SignError, Signer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use engram_core::search::SearchMode;
pub use engram_core::tier::TrustTier;

mod overview;
mod shards;
mod shares;
pub use overview::{
    Holder, HoldersResponse, MetagraphNeuron, MetagraphResponse, NetworkNode, NetworkOverview,
    NodeOverview, NodeScore, OverviewResponse, ReplicationView, ValidatorView,
};
pub use shards::{HeldBlob, MAX_SHARD_PAGE, ShardListing, ShardManifest};
pub use shares::{KeyShare, KeyShareRequest, KeyShareRetrieveRequest, KeyShareStored};

/// The model version a request means when it names none.
pub fn default_model_version() -> String {
    engram_core::DEFAULT_MODEL_VERSION.to_string()
}

/// Namespace fields every data request may carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamespaceAuth {
    /// The namespace; public when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// SS58 hotkey that owns a private namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_hotkey: Option<String>,
    /// Signature over `engram-ns:{namespace}:{timestamp_ms}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_sig: Option<String>,
    /// The signed timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_timestamp_ms: Option<u64>,
    /// Legacy shared key (deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_key: Option<String>,
}

impl NamespaceAuth {
    /// Credentials for `namespace` as a client with `signer` sends them: none for the
    /// public namespace; for a private one, a signature made now (or just the name without
    /// a signer, which a node refuses with 401).
    ///
    /// # Errors
    /// Whatever the signer reports.
    pub fn for_namespace(
        namespace: Option<&str>,
        signer: Option<&dyn Signer>,
        timestamp_ms: u64,
    ) -> Result<Self, SignError> {
        match (engram_core::auth::private_namespace(namespace), signer) {
            (Some(ns), Some(key)) => Self::signed_by(ns, key, timestamp_ms),
            _ => Ok(Self {
                namespace: namespace.map(str::to_string),
                ..Self::default()
            }),
        }
    }

    /// Credentials for private namespace `namespace`, signed now by its owner `key`
    /// (`engram-ns:{namespace}:{timestamp_ms}`; nodes accept it for ±60 s).
    ///
    /// # Errors
    /// Whatever the signer reports.
    pub fn signed_by(
        namespace: &str,
        key: &dyn Signer,
        timestamp_ms: u64,
    ) -> Result<Self, SignError> {
        let message = engram_core::auth::namespace_message(namespace, timestamp_ms);
        Ok(Self {
            namespace: Some(namespace.to_string()),
            namespace_hotkey: Some(key.ss58()),
            namespace_sig: Some(format!("0x{}", hex::encode(key.sign(message.as_bytes())?))),
            namespace_timestamp_ms: Some(timestamp_ms),
            namespace_key: None,
        })
    }

    /// [`NamespaceAuth::signed_by`] with one of our own keys, which always signs.
    pub fn signed(namespace: &str, key: &engram_core::keys::Keypair, timestamp_ms: u64) -> Self {
        Self::signed_by(namespace, key, timestamp_ms).expect("a Keypair always signs")
    }
}

/// `POST /IngestSynapse`: a text to embed, or an embedding to keep byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestRequest {
    /// Text (≤ 8192 characters); the node embeds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Exactly 384 floats, stored as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_embedding: Option<Vec<f32>>,
    /// Metadata object (≤ 4096 bytes as JSON).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub metadata: Value,
    /// Model version the CID is computed under.
    #[serde(default = "default_model_version")]
    pub model_version: String,
    /// Ours: source text kept with a `raw_embedding` and returned in results, never
    /// embedded (how replicas receive a memory's text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_text: Option<String>,
    /// Ours: seconds until a private memory expires and leaves the node (1 s – 100 years;
    /// public memories are permanent: 400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_s: Option<u64>,
    /// Namespace and its credentials.
    #[serde(flatten)]
    pub auth: NamespaceAuth,
}

impl Default for IngestRequest {
    fn default() -> Self {
        Self {
            text: None,
            raw_embedding: None,
            source_text: None,
            ttl_s: None,
            metadata: Value::Null,
            model_version: default_model_version(),
            auth: NamespaceAuth::default(),
        }
    }
}

/// The answer to an ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResponse {
    /// The memory's CID.
    pub cid: Option<String>,
    /// Ours: false when the CID was already stored.
    #[serde(default)]
    pub stored: bool,
    /// Always null on success (the protocol's error slot).
    pub error: Option<String>,
}

/// `POST /QuerySynapse`: nearest memories to a text or a vector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryRequest {
    /// Text to embed and search with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_text: Option<String>,
    /// Vector to search with (384 floats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_vector: Option<Vec<f32>>,
    /// 1–100; 10 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<i64>,
    /// Ours: metadata equality filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Map<String, Value>>,
    /// Ours: only results whose namespace is at least this trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_trust_tier: Option<TrustTier>,
    /// Ours: rank by meaning (`dense`, when absent), by words (`keyword`, needs
    /// `query_text`) or both (`hybrid`, needs `query_text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<SearchMode>,
    /// Ours: in `hybrid` mode, the keyword ranking's weight against the dense one's 1
    /// (0.01–100; 1 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword_weight: Option<f64>,
    /// Namespace and its credentials.
    #[serde(flatten)]
    pub auth: NamespaceAuth,
}

/// `POST /delete` (ours): the owner of a private namespace deletes memories in one pass of
/// the store, and with `document` a document's file as well.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteRequest {
    /// The memories (`v1::…`), 1–1000 (`engram_core::MAX_DELETE_BATCH`); may be empty
    /// with `document`.
    #[serde(default)]
    pub cids: Vec<String>,
    /// A document's file (`sha256:…`) to delete with every memory whose metadata names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// The namespace and its owner's signature.
    #[serde(flatten)]
    pub auth: NamespaceAuth,
}

/// The answer to `POST /delete`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteResponse {
    /// The memories deleted (those named but not stored are not listed).
    pub deleted: Vec<String>,
    /// The files removed with them: the document's, and any whose last memory went.
    pub blobs: Vec<String>,
    /// The node's commitment after the delete (the memories no longer in it).
    pub commitment: CommitmentResponse,
}

/// `POST /list`: a page of the memories of a namespace, optionally filtered by metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListRequest {
    /// Metadata equality filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Map<String, Value>>,
    /// 1–200; 50 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Records to skip; 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Namespace and its credentials (a private one must be signed by its owner).
    #[serde(flatten)]
    pub auth: NamespaceAuth,
}

/// One listed memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedRecord {
    /// The memory's CID.
    pub cid: String,
    /// Its metadata.
    pub metadata: Map<String, Value>,
    /// Ours: the stored text, when the memory has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// The answer to `POST /list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListResponse {
    /// The page.
    pub records: Vec<ListedRecord>,
    /// Records in this page.
    pub count: usize,
    /// The offset asked for.
    pub offset: usize,
    /// The limit applied.
    pub limit: usize,
}

/// One query result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    /// The memory's CID.
    pub cid: String,
    /// Cosine similarity.
    pub score: f32,
    /// The memory's metadata.
    pub metadata: Map<String, Value>,
    /// Trust tier of the namespace's attested owner (`anonymous` when unattested).
    #[serde(default)]
    pub trust_tier: TrustTier,
    /// Ours: the source text, when stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// The answer to a query, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResponse {
    /// Results by descending score.
    pub results: Vec<QueryResult>,
    /// Time the node spent, in milliseconds.
    pub latency_ms: f64,
    /// Always null on success.
    pub error: Option<String>,
}

/// `POST /ChallengeSynapse`: prove you still hold a CID.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChallengeRequest {
    /// The challenged CID.
    pub cid: String,
    /// 32 random bytes, hex.
    pub nonce_hex: String,
    /// Unix seconds after which the challenge is void.
    pub expires_at: f64,
    /// The challenging validator's 32-byte hotkey, hex (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_hotkey_hex: Option<String>,
    /// Ours: proof version, 1 (default) or 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u8>,
}

/// The proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeResponse {
    /// Hex SHA-256 of the stored vector bytes.
    pub embedding_hash: String,
    /// Hex HMAC.
    pub proof: String,
    /// Ours: which proof version this is.
    #[serde(default)]
    pub version: u8,
}

/// `GET /health`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    /// `"ok"`.
    pub status: String,
    /// Records the node holds, every namespace counted (the original's SDK reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<u64>,
    /// Ours: blobs kept (documents' raw bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blobs: Option<u64>,
    /// Ours: blobs waiting for their Arweave upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_uploads: Option<u64>,
}

/// `POST /IngestDocument` (ours): a PDF, an image or a URL to read, store as a blob and
/// ingest chunk by chunk. File bytes travel base64-encoded in `data_b64`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocumentRequest {
    /// `"pdf"`, `"image"` or `"url"`.
    pub kind: String,
    /// The file's bytes, base64 (standard alphabet), for `pdf` and `image`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_b64: Option<String>,
    /// The page to fetch, for `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The file's name, for `pdf` and `image`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// An image's description: embedded instead of asking a vision model or OCR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Metadata merged into every chunk's.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub metadata: Value,
    /// Namespace and its credentials.
    #[serde(flatten)]
    pub auth: NamespaceAuth,
}

/// The answer to `POST /IngestDocument`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentResponse {
    /// The blob's content CID (`sha256:<hex>`).
    pub content_cid: Option<String>,
    /// One memory CID per chunk, in document order.
    #[serde(default)]
    pub cids: Vec<String>,
    /// The document's title, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Pages read (PDFs), else 1.
    #[serde(default)]
    pub pages: usize,
    /// Characters of text drawn from the document (after whitespace is normalized).
    #[serde(default)]
    pub chars: usize,
    /// For an image: the text that was embedded (its description, the vision model's, or
    /// OCR's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `"off"` (no wallet), `"pending"` (queued for retry) or `"uploaded"`.
    #[serde(default)]
    pub arweave: String,
    /// The Arweave transaction, once uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arweave_tx_id: Option<String>,
    /// Where a gateway serves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arweave_url: Option<String>,
    /// Why it failed; null on success.
    pub error: Option<String>,
}

/// `GET /stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsResponse {
    /// Records stored.
    pub memories: u64,
    /// Ingests answered successfully since start.
    pub ingests: u64,
    /// Queries answered successfully since start.
    pub queries: u64,
    /// Median query latency in milliseconds (0 before the first query).
    pub p50_latency_ms: f64,
    /// Challenges answered.
    pub challenges: u64,
    /// Share of challenges answered with a proof (the rest: unknown CID, expired).
    pub proof_rate: f64,
    /// Seconds since start.
    pub uptime_s: f64,
    /// Node software version.
    pub version: String,
}

/// `GET /retrieve/{cid}`: a stored record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrieveResponse {
    /// The CID.
    pub cid: String,
    /// The exact stored vector.
    pub embedding: Vec<f32>,
    /// The metadata as sent.
    pub metadata: Map<String, Value>,
    /// The namespace.
    pub namespace: String,
    /// The model version in the CID.
    pub model_version: String,
    /// Ours: the source text, when stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Ours: when first stored (unix ms).
    #[serde(default)]
    pub created_ms: u64,
    /// Ours: when a private memory expires (unix ms); absent for permanent ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<u64>,
}

/// `GET /commitment`: what the node commits to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitmentResponse {
    /// Merkle v1 root, hex.
    pub root_hex: String,
    /// Number of distinct leaves.
    pub size: u64,
    /// Ours: Merkle v2 root (size-bound), hex.
    pub root_v2_hex: String,
}

/// `POST /prove-memory`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProveMemoryRequest {
    /// The CID to prove.
    pub cid: String,
    /// Optional: the embedding hash the caller expects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_hash: Option<String>,
}

/// An inclusion proof against the current root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProveMemoryResponse {
    /// The v1 root the proof climbs to.
    pub root_hex: String,
    /// The CID.
    pub cid: String,
    /// The v1 proof as the original serializes it, JSON-encoded into a string.
    pub proof: String,
    /// Ours: the embedding hash in the leaf.
    pub embedding_hash: String,
    /// Ours: the v2 root.
    pub root_v2_hex: String,
    /// Ours: the v2 proof.
    pub proof_v2: Value,
}

/// `GET /cids?offset=&limit=` (ours): the public CIDs a node holds, sorted, one page.
/// Replication repair and validator audits read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CidsResponse {
    /// Public records on the node.
    pub total: u64,
    /// Index of the first CID of this page.
    pub offset: u64,
    /// The page.
    pub cids: Vec<String>,
}

/// `POST /AttestNamespace`: bind a namespace publicly to its owner's hotkey.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestRequest {
    /// The namespace.
    pub namespace: String,
    /// The owner's SS58 hotkey.
    pub owner_hotkey: String,
    /// Signature over `engram-attest:{namespace}:{timestamp_ms}`, hex (`0x` optional).
    pub signature: String,
    /// The signed timestamp (unix ms, ±60 s of the node's clock).
    pub timestamp_ms: u64,
}

impl AttestRequest {
    /// An attestation of `namespace` signed now by `key`.
    ///
    /// # Errors
    /// Whatever the signer reports.
    pub fn signed_by(
        namespace: &str,
        key: &dyn Signer,
        timestamp_ms: u64,
    ) -> Result<Self, SignError> {
        let message = engram_core::auth::attestation_message(namespace, timestamp_ms);
        Ok(Self {
            namespace: namespace.to_string(),
            owner_hotkey: key.ss58(),
            signature: format!("0x{}", hex::encode(key.sign(message.as_bytes())?)),
            timestamp_ms,
        })
    }

    /// [`AttestRequest::signed_by`] with one of our own keys, which always signs.
    pub fn signed(namespace: &str, key: &engram_core::keys::Keypair, timestamp_ms: u64) -> Self {
        Self::signed_by(namespace, key, timestamp_ms).expect("a Keypair always signs")
    }
}

/// The answer to an attestation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttestResponse {
    /// Always true (failures are error statuses).
    pub ok: bool,
    /// The namespace.
    pub namespace: String,
    /// The tier its owner's stake buys now.
    pub trust_tier: TrustTier,
    /// The owner's stake as the node last read it.
    pub stake_tao: f64,
}

/// `GET /attestation/{namespace}`: who vouches for a namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttestationResponse {
    /// The namespace.
    pub namespace: String,
    /// `anonymous` when unattested.
    pub trust_tier: TrustTier,
    /// Whether the namespace is attested.
    pub attested: bool,
    /// The owner's SS58 hotkey, when attested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_hotkey: Option<String>,
    /// The owner's stake at the last refresh, when attested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stake_tao: Option<f64>,
    /// When it was attested (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attested_at: Option<f64>,
    /// Ours: when the stake was last read (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stake_refreshed_at: Option<f64>,
}

/// Most CIDs in one `/cids` page.
pub const MAX_CIDS_PAGE: usize = 10_000;

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// One clear sentence.
    pub error: String,
}

#[cfg(feature = "store")]
impl From<engram_store::Record> for RetrieveResponse {
    fn from(r: engram_store::Record) -> Self {
        Self {
            cid: r.cid.to_string(),
            embedding: r.vector,
            metadata: r.metadata,
            namespace: r.namespace,
            model_version: r.model_version,
            text: r.text,
            created_ms: r.created_ms,
            expires_ms: r.expires_ms,
        }
    }
}

#[cfg(feature = "store")]
impl From<&engram_store::Commitment> for CommitmentResponse {
    fn from(c: &engram_store::Commitment) -> Self {
        Self {
            root_hex: hex::encode(c.root_v1),
            size: c.count,
            root_v2_hex: hex::encode(c.root_v2),
        }
    }
}

#[cfg(feature = "store")]
impl From<engram_store::Record> for ListedRecord {
    fn from(r: engram_store::Record) -> Self {
        Self {
            cid: r.cid.to_string(),
            metadata: r.metadata,
            text: r.text,
        }
    }
}

#[cfg(feature = "store")]
impl QueryResult {
    /// A search hit as a protocol result with the namespace owner's trust tier.
    pub fn from_hit(hit: engram_store::Hit, trust_tier: TrustTier) -> Self {
        Self {
            cid: hit.record.cid.to_string(),
            score: hit.score,
            metadata: hit.record.metadata,
            trust_tier,
            text: hit.record.text,
        }
    }
}

/// `POST /snapshot` (ours, loopback only): the snapshot the node took of its store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotResponse {
    /// Where the node wrote it (a path on the node's machine).
    pub path: String,
    /// When it was taken, in unix milliseconds.
    pub created_ms: u64,
    /// Memories (commitment leaves) in it.
    pub count: u64,
    /// v1 Merkle root of those memories, hex.
    pub root_v1: String,
    /// v2 Merkle root, hex.
    pub root_v2: String,
    /// Files in it.
    pub files: usize,
    /// Its size.
    pub bytes: u64,
}
