//! What a memory looks like when it leaves this machine for a node.
//!
//! A node must never see what its owner keeps private, so the private pipeline runs here,
//! once, for every backend that sends (one node or a whole network): check every item,
//! embed locally (a node cannot embed text it cannot read), seal text and metadata to the
//! owner's key, add inversion-resisting noise for a private namespace, and only then hand
//! the vector over. Checking first means a bad item costs no embedding and sends nothing.

use engram_core::validate_text;
use engram_embed::Embedder;
use serde_json::Value;

use crate::error::ClientError;
use crate::memory::NewText;
use crate::sealed;

/// How memories leave: sealed to a key, noised for a private namespace.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outgoing<'a> {
    /// Seal text and metadata to this X25519 public key ([`sealed::recipient`]).
    pub seal_to: Option<&'a [u8; 32]>,
    /// The namespace they go to; noise applies only to a private one.
    pub namespace: Option<&'a str>,
    /// ε of the noise for a private namespace (`None`: exact vectors).
    pub epsilon: Option<f64>,
}

/// One memory ready to send as a raw embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The vector to send (noised when the namespace is private).
    pub embedding: Vec<f32>,
    /// The metadata to send: the sealed blob when sealing, else the item's own.
    pub metadata: Value,
    /// The text to send along (`source_text`): none when sealed.
    pub source_text: Option<String>,
}

/// Prepares texts: every item checked before any is embedded, embedded in one batch,
/// then sealed and noised as `how` says. Results are in input order.
///
/// # Errors
/// [`ClientError::Invalid`] for a bad text or metadata (nothing is embedded), model
/// failures, or [`ClientError::Randomness`].
pub fn texts(
    embedder: &Embedder,
    items: &[NewText],
    how: Outgoing<'_>,
) -> Result<Vec<Prepared>, ClientError> {
    let mut metadata = Vec::with_capacity(items.len());
    for item in items {
        validate_text(&item.text)?;
        metadata.push(engram_core::validate_metadata(&item.metadata)?);
    }
    let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
    let vectors = embedder
        .embed_batch(&texts)
        .map_err(|e| ClientError::Engine(e.into()))?;
    items
        .iter()
        .zip(metadata)
        .zip(vectors)
        .map(|((item, meta), vector)| {
            let (metadata, source_text) = match how.seal_to {
                Some(key) => (Value::Object(sealed::seal(key, &item.text, &meta)?), None),
                None => (item.metadata.clone(), Some(item.text.clone())),
            };
            Ok(Prepared {
                embedding: vector_for(vector, how)?,
                metadata,
                source_text,
            })
        })
        .collect()
}

/// A vector made here as it should leave: noised for a private namespace when `how` has
/// an ε, exact otherwise (the public namespace wants exact vectors).
///
/// # Errors
/// [`ClientError::Randomness`].
pub fn vector_for(vector: Vec<f32>, how: Outgoing<'_>) -> Result<Vec<f32>, ClientError> {
    sealed::for_namespace(vector, how.namespace, how.epsilon)
}
