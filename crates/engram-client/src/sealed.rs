//! Private memories, client side: the text and metadata are sealed to an X25519 public
//! key before anything leaves the machine, and opened again in results; a vector bound for
//! a private namespace is noised first ([`noised`], [`for_namespace`]).
//!
//! A sealed memory is stored as its vector (embedded locally by the caller) plus metadata
//! holding only the ciphertext under [`ENCRYPTED_FIELD`], in the original SDK's hybrid
//! format (`engram_core::crypto`). Since the vector itself leaks meaning (embedding
//! inversion recovers much of a text from its vector), vectors going into a private
//! namespace carry Gaussian noise by default (DESIGN §4): a node never sees the exact
//! vector, and the CID covers the noised one.

use engram_core::crypto::{decrypt_memory, encrypt_memory, public_key};
use serde_json::{Map, Value};

use crate::ClientError;
use engram_wire::QueryResult;

/// The metadata key under which an encrypted memory keeps its ciphertext.
pub const ENCRYPTED_FIELD: &str = "engram_encrypted";

/// The metadata to store for `text` and `metadata` sealed to `recipient_public`.
///
/// # Errors
/// [`ClientError::Randomness`] if the OS has no randomness.
pub fn seal(
    recipient_public: &[u8; 32],
    text: &str,
    metadata: &Map<String, Value>,
) -> Result<Map<String, Value>, ClientError> {
    let mut ephemeral = [0u8; 32];
    let mut nonce = [0u8; 12];
    getrandom::getrandom(&mut ephemeral)
        .and_then(|()| getrandom::getrandom(&mut nonce))
        .map_err(ClientError::Randomness)?;
    let blob = encrypt_memory(recipient_public, text, metadata, &ephemeral, &nonce);
    let mut out = Map::new();
    out.insert(ENCRYPTED_FIELD.into(), Value::String(blob));
    Ok(out)
}

/// `vector` with inversion-resisting noise at `epsilon` (σ = 1/(ε·√d) per dimension, then
/// re-normalized), seeded from the OS.
///
/// # Errors
/// [`ClientError::Randomness`] if the OS has no randomness.
pub fn noised(vector: &[f32], epsilon: f64) -> Result<Vec<f32>, ClientError> {
    let mut seed = [0u8; 8];
    getrandom::getrandom(&mut seed).map_err(ClientError::Randomness)?;
    let rng = engram_core::noise::splitmix(u64::from_le_bytes(seed));
    Ok(engram_core::noise::add_noise(vector, epsilon, rng))
}

/// The vector to send into `namespace`: [`noised`] at `epsilon` when the namespace is
/// private and `epsilon` is set (the default is `engram_core::noise::DEFAULT_EPSILON`),
/// unchanged for the public namespace, where exact vectors are the point.
///
/// # Errors
/// As [`noised`].
pub fn for_namespace(
    vector: Vec<f32>,
    namespace: Option<&str>,
    epsilon: Option<f64>,
) -> Result<Vec<f32>, ClientError> {
    match (engram_core::auth::private_namespace(namespace), epsilon) {
        (Some(_), Some(eps)) => noised(&vector, eps),
        _ => Ok(vector),
    }
}

/// The public key that [`seal`] encrypts to for a private key.
pub fn recipient(private: &[u8; 32]) -> [u8; 32] {
    public_key(private)
}

/// Replaces the ciphertext of sealed hits by their text and metadata; hits this key cannot
/// open are left as they are.
pub fn open_hits(private: &[u8; 32], hits: &mut [QueryResult]) {
    for h in hits {
        if let Some(Value::String(blob)) = h.metadata.get(ENCRYPTED_FIELD)
            && let Ok((text, metadata)) = decrypt_memory(private, blob)
        {
            h.text = Some(text);
            h.metadata = metadata;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_namespaces_get_noised_unit_vectors_and_public_ones_exact() {
        let v = engram_core::testing::unit_vector(7);
        assert_eq!(for_namespace(v.clone(), None, Some(3.0)).unwrap(), v);
        assert_eq!(
            for_namespace(v.clone(), Some("public"), Some(3.0)).unwrap(),
            v
        );
        assert_eq!(for_namespace(v.clone(), Some("diary"), None).unwrap(), v);
        let a = for_namespace(v.clone(), Some("diary"), Some(3.0)).unwrap();
        let b = for_namespace(v.clone(), Some("diary"), Some(3.0)).unwrap();
        assert_ne!(a, b, "fresh noise each time");
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "re-normalized: {norm}");
        let cos = engram_core::cosine(&a, &v);
        assert!((0.85..0.99).contains(&cos), "close but not equal: {cos}");
    }

    #[test]
    fn sealed_hits_open_only_with_their_key() {
        let (mine, theirs) = ([3u8; 32], [4u8; 32]);
        let mut meta = Map::new();
        meta.insert("k".into(), Value::from(1));
        let hit = |m: Map<String, Value>| QueryResult {
            cid: "v1::00".into(),
            score: 1.0,
            metadata: m,
            trust_tier: engram_wire::TrustTier::Anonymous,
            text: None,
        };
        let sealed = seal(&recipient(&mine), "secret", &meta).unwrap();
        let mut hits = vec![hit(sealed.clone())];
        open_hits(&theirs, &mut hits);
        assert_eq!(hits[0].text, None);
        open_hits(&mine, &mut hits);
        assert_eq!(hits[0].text.as_deref(), Some("secret"));
        assert_eq!(hits[0].metadata, meta);
    }
}
