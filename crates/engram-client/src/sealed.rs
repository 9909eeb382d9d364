//! Encrypted memories, client side: the text and metadata are sealed to an X25519 public
//! key before anything leaves the machine, and opened again in results.
//!
//! A sealed memory is stored as its vector (embedded locally by the caller) plus metadata
//! holding only the ciphertext under [`ENCRYPTED_FIELD`], in the original SDK's hybrid
//! format (`engram_core::crypto`).

use engram_core::crypto::{decrypt_memory, encrypt_memory, public_key};
use serde_json::{Map, Value};

use crate::ClientError;
use crate::api::QueryResult;

/// The metadata key under which an encrypted memory keeps its ciphertext.
pub const ENCRYPTED_FIELD: &str = "engram_encrypted";

/// The metadata to store for `text` and `metadata` sealed to `recipient_public`.
///
/// # Errors
/// [`ClientError::Network`] if the OS has no randomness.
pub fn seal(
    recipient_public: &[u8; 32],
    text: &str,
    metadata: &Map<String, Value>,
) -> Result<Map<String, Value>, ClientError> {
    let mut ephemeral = [0u8; 32];
    let mut nonce = [0u8; 12];
    getrandom::getrandom(&mut ephemeral)
        .and_then(|()| getrandom::getrandom(&mut nonce))
        .map_err(|e| ClientError::Network(format!("no randomness: {e}")))?;
    let blob = encrypt_memory(recipient_public, text, metadata, &ephemeral, &nonce);
    let mut out = Map::new();
    out.insert(ENCRYPTED_FIELD.into(), Value::String(blob));
    Ok(out)
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
    fn sealed_hits_open_only_with_their_key() {
        let (mine, theirs) = ([3u8; 32], [4u8; 32]);
        let mut meta = Map::new();
        meta.insert("k".into(), Value::from(1));
        let hit = |m: Map<String, Value>| QueryResult {
            cid: "v1::00".into(),
            score: 1.0,
            metadata: m,
            trust_tier: crate::api::TrustTier::Anonymous,
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
