//! A stored memory and how it maps onto a Qdrant point.
//!
//! The vector index uses cosine distance, which normalizes what it stores; a CID hashes
//! the exact bytes that were sent. So the payload keeps those bytes (`vec`, base64 of the
//! f32 LE bytes) and everything read back from the store comes from the payload.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use engram_core::{Cid, Metadata, embedding_bytes, embedding_from_bytes, embedding_hash};
use qdrant_edge::PointId;
use qdrant_edge::external::uuid::Uuid;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::StoreError;

/// The namespace records go to when none is named.
pub use engram_core::auth::PUBLIC_NAMESPACE;

pub(crate) const F_CID: &str = "cid";
pub(crate) const F_NS: &str = "ns";
pub(crate) const F_META: &str = "meta";
pub(crate) const F_VEC: &str = "vec";
pub(crate) const F_EXPIRES: &str = "expires_ms";

/// A memory as the store holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The content identifier (computed from `vector`, `metadata`, `model_version`).
    pub cid: Cid,
    /// The exact vector that was stored.
    pub vector: Vec<f32>,
    /// The metadata as sent, typed values kept for filtering.
    pub metadata: Metadata,
    /// The model version the CID was computed under.
    pub model_version: String,
    /// The namespace the record lives in.
    pub namespace: String,
    /// When the record was first stored, in unix milliseconds.
    pub created_ms: u64,
    /// The source text, when the record came from text.
    pub text: Option<String>,
    /// When a private memory expires, in unix milliseconds (never for public ones): not
    /// part of the CID; the store stops answering with it then and sweeps it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<u64>,
}

impl Record {
    /// A record of `vector` and `metadata` in the public namespace under the default model
    /// version, with its CID computed, no text and creation time 0.
    pub fn new_public(vector: Vec<f32>, metadata: Metadata) -> Self {
        let model_version = engram_core::DEFAULT_MODEL_VERSION.to_string();
        Self {
            cid: engram_core::cid_v1(&vector, &metadata, &model_version),
            vector,
            metadata,
            model_version,
            namespace: PUBLIC_NAMESPACE.to_string(),
            created_ms: 0,
            text: None,
            expires_ms: None,
        }
    }

    /// The SHA-256 of the vector bytes.
    pub fn embedding_hash(&self) -> [u8; 32] {
        embedding_hash(&self.vector)
    }

    pub(crate) fn key(&self) -> [u8; 16] {
        point_key(&self.namespace, &self.cid)
    }

    pub(crate) fn to_payload(&self) -> Value {
        let mut payload = json!({
            F_CID: self.cid.to_string(),
            F_NS: self.namespace,
            F_META: self.metadata,
            "model_version": self.model_version,
            "created_ms": self.created_ms,
            "text": self.text,
            "ehash": hex::encode(self.embedding_hash()),
            F_VEC: B64.encode(embedding_bytes(&self.vector)),
        });
        // Only when set: a range condition on an absent field never matches, so records
        // without it are never taken for expired.
        if let Some(at) = self.expires_ms {
            payload[F_EXPIRES] = json!(at);
        }
        payload
    }

    pub(crate) fn from_payload(
        id: &PointId,
        payload: &serde_json::Map<String, Value>,
    ) -> Result<Self, StoreError> {
        let corrupt = |reason: &str| StoreError::Corrupt {
            id: id.to_string(),
            reason: reason.to_string(),
        };
        let str_field = |k: &str| {
            payload
                .get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| corrupt(k))
        };
        let cid = str_field(F_CID)?.parse().map_err(|_| corrupt("cid"))?;
        let bytes = B64.decode(str_field(F_VEC)?).map_err(|_| corrupt("vec"))?;
        Ok(Record {
            cid,
            vector: embedding_from_bytes(&bytes).map_err(|_| corrupt("vec"))?,
            metadata: payload
                .get(F_META)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            model_version: str_field("model_version")?.to_string(),
            namespace: str_field(F_NS)?.to_string(),
            created_ms: payload
                .get("created_ms")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            text: payload
                .get("text")
                .and_then(Value::as_str)
                .map(str::to_string),
            expires_ms: payload.get(F_EXPIRES).and_then(Value::as_u64),
        })
    }
}

/// The key of a (namespace, CID) pair: the same memory may live in several namespaces.
pub(crate) fn point_key(namespace: &str, cid: &Cid) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(namespace.as_bytes());
    h.update([0u8]);
    h.update(cid.to_string().as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes
}

/// The Qdrant point id of a key.
pub(crate) fn point_id(key: [u8; 16]) -> PointId {
    PointId::Uuid(Uuid::from_bytes(key))
}
