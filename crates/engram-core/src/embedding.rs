//! Embedding bytes, hashes, validation and the v1 CID of a record.
//!
//! A CID hashes exact little-endian f32 bytes, so everything here works on `&[f32]` and
//! spells the byte order; nothing re-normalizes or rounds.

use sha2::{Digest, Sha256};

use crate::canonical::{Metadata, canonical_metadata_json};
use crate::cid::Cid;
use crate::error::CoreError;
use crate::limits::{EMBEDDING_DIM, MAX_TEXT_CHARS};

/// The little-endian IEEE-754 bytes of an embedding.
pub fn embedding_bytes(embedding: &[f32]) -> Vec<u8> {
    embedding.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Reads little-endian f32 bytes back into a vector.
///
/// # Errors
/// [`CoreError::DimensionMismatch`] when the length is not a multiple of four.
pub fn embedding_from_bytes(bytes: &[u8]) -> Result<Vec<f32>, CoreError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(CoreError::DimensionMismatch {
            expected: EMBEDDING_DIM,
            got: bytes.len() / 4,
        });
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// SHA-256 of the embedding's little-endian f32 bytes.
pub fn embedding_hash(embedding: &[f32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for x in embedding {
        hasher.update(x.to_le_bytes());
    }
    hasher.finalize().into()
}

/// Lowercase hex of [`embedding_hash`], the form proofs and Merkle leaves use.
pub fn embedding_hash_hex(embedding: &[f32]) -> String {
    hex::encode(embedding_hash(embedding))
}

/// The v1 CID: SHA-256(f32 LE bytes ‖ canonical metadata JSON).
pub fn cid_v1(embedding: &[f32], metadata: &Metadata, model_version: &str) -> Cid {
    let mut hasher = Sha256::new();
    for x in embedding {
        hasher.update(x.to_le_bytes());
    }
    hasher.update(canonical_metadata_json(metadata, model_version).as_bytes());
    Cid::V1(hasher.finalize().into())
}

/// Checks a vector for the protocol: exactly [`EMBEDDING_DIM`] finite values.
///
/// # Errors
/// [`CoreError::DimensionMismatch`] or [`CoreError::NonFiniteEmbedding`].
pub fn validate_embedding(embedding: &[f32]) -> Result<(), CoreError> {
    if embedding.len() != EMBEDDING_DIM {
        return Err(CoreError::DimensionMismatch {
            expected: EMBEDDING_DIM,
            got: embedding.len(),
        });
    }
    match embedding.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(CoreError::NonFiniteEmbedding { index }),
        None => Ok(()),
    }
}

/// Checks a text for ingestion: not blank and at most [`MAX_TEXT_CHARS`] characters.
///
/// # Errors
/// [`CoreError::EmptyText`] or [`CoreError::TextTooLong`].
pub fn validate_text(text: &str) -> Result<(), CoreError> {
    if text.trim().is_empty() {
        return Err(CoreError::EmptyText);
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(CoreError::TextTooLong {
            chars,
            limit: MAX_TEXT_CHARS,
        });
    }
    Ok(())
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        dot += f64::from(*x) * f64::from(*y);
        na += f64::from(*x) * f64::from(*x);
        nb += f64::from(*y) * f64::from(*y);
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        (dot / (na.sqrt() * nb.sqrt())) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Boundary dimensions around the protocol's 384, each with the rule it probes.
    const INTERESTING_DIMS: [(usize, bool); 4] = [
        (0, false),   // an empty vector is never a memory
        (383, false), // one short of the model's output
        (384, true),  // the canonical dimension
        (385, false), // one over
    ];

    #[test]
    fn dimension_boundaries() {
        for (dim, ok) in INTERESTING_DIMS {
            assert_eq!(validate_embedding(&vec![0.1; dim]).is_ok(), ok, "dim {dim}");
        }
    }

    #[test]
    fn non_finite_rejected() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut v = vec![0.1; EMBEDDING_DIM];
            v[7] = bad;
            assert_eq!(
                validate_embedding(&v),
                Err(CoreError::NonFiniteEmbedding { index: 7 })
            );
        }
    }

    #[test]
    fn text_limits() {
        assert_eq!(validate_text("  \n"), Err(CoreError::EmptyText));
        assert!(validate_text(&"é".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(matches!(
            validate_text(&"a".repeat(MAX_TEXT_CHARS + 1)),
            Err(CoreError::TextTooLong { .. })
        ));
    }

    #[test]
    fn bytes_round_trip() {
        let v = vec![0.1f32, -0.0, 1.5e-39, f32::MAX];
        let back = embedding_from_bytes(&embedding_bytes(&v)).unwrap();
        assert_eq!(
            back.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }
}
