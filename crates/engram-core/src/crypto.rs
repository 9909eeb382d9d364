//! Client-side encryption of private memories.
//!
//! Hybrid scheme (the original SDK's): a fresh X25519 key pair per message; the AES-256-GCM
//! key is HKDF-SHA256 of the shared secret (salt = the ephemeral public key, info
//! `engram-hybrid-v1`); the blob is base64url (with padding) of
//! `ephemeral public [32] ‖ nonce [12] ‖ ciphertext ‖ tag [16]`, and the plaintext is
//! `json.dumps({"text": …, "metadata": …})` as Python writes it. A node never sees the text,
//! so the client embeds locally and sends the vector. The legacy password scheme
//! (`namespace_key`: PBKDF2-HMAC-SHA256, 100,000 rounds, salt = namespace) is kept so the
//! original's `NamespaceEncryption` users can go on reading and writing their blobs.
//!
//! Randomness comes from the caller (the ephemeral key and nonce), so this stays pure.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use hkdf::Hkdf;
use serde_json::{Map, Value, json};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::CoreError;
use crate::pyjson::{Style, dumps};

const INFO: &[u8] = b"engram-hybrid-v1";
/// PBKDF2 rounds of the legacy namespace-key scheme.
pub const LEGACY_PBKDF2_ROUNDS: u32 = 100_000;

/// The X25519 public key of a 32-byte private key.
pub fn public_key(private: &[u8; 32]) -> [u8; 32] {
    PublicKey::from(&StaticSecret::from(*private)).to_bytes()
}

fn hybrid_key(shared: &[u8; 32], ephemeral_public: &[u8; 32]) -> [u8; 32] {
    let mut key = [0u8; 32];
    Hkdf::<Sha256>::new(Some(ephemeral_public), shared)
        .expand(INFO, &mut key)
        .expect("32 bytes is a valid HKDF length");
    key
}

fn failed(reason: &str) -> CoreError {
    CoreError::Decryption {
        reason: reason.into(),
    }
}

/// Encrypts raw bytes to `recipient`: `ephemeral public ‖ nonce ‖ ciphertext ‖ tag`.
pub fn encrypt_raw(
    recipient: &[u8; 32],
    plaintext: &[u8],
    ephemeral: &[u8; 32],
    nonce: &[u8; 12],
) -> Vec<u8> {
    let secret = StaticSecret::from(*ephemeral);
    let eph_public = PublicKey::from(&secret).to_bytes();
    let shared = secret
        .diffie_hellman(&PublicKey::from(*recipient))
        .to_bytes();
    let cipher = Aes256Gcm::new_from_slice(&hybrid_key(&shared, &eph_public)).expect("32-byte key");
    let sealed = cipher
        .encrypt(Nonce::from_slice(nonce), plaintext)
        .expect("AES-GCM encrypts any length we send");
    [&eph_public[..], nonce, &sealed].concat()
}

/// Decrypts what [`encrypt_raw`] made.
///
/// # Errors
/// [`CoreError::Decryption`] when the bytes are short, or the key or tag is wrong.
pub fn decrypt_raw(private: &[u8; 32], blob: &[u8]) -> Result<Vec<u8>, CoreError> {
    if blob.len() < 32 + 12 + 16 {
        return Err(failed("blob is too short"));
    }
    let eph_public: [u8; 32] = blob[..32].try_into().expect("32 bytes");
    let shared = StaticSecret::from(*private)
        .diffie_hellman(&PublicKey::from(eph_public))
        .to_bytes();
    let cipher = Aes256Gcm::new_from_slice(&hybrid_key(&shared, &eph_public)).expect("32-byte key");
    cipher
        .decrypt(Nonce::from_slice(&blob[32..44]), &blob[44..])
        .map_err(|_| failed("wrong key or tampered blob"))
}

/// The plaintext the original encrypts: `json.dumps({"text": …, "metadata": …})`.
pub fn memory_plaintext(text: &str, metadata: &Map<String, Value>) -> String {
    dumps(
        &json!({"text": text, "metadata": metadata}),
        Style {
            sort_keys: false,
            compact: false,
        },
    )
}

/// Encrypts a memory's text and metadata to `recipient` as a base64url blob.
pub fn encrypt_memory(
    recipient: &[u8; 32],
    text: &str,
    metadata: &Map<String, Value>,
    ephemeral: &[u8; 32],
    nonce: &[u8; 12],
) -> String {
    URL_SAFE.encode(encrypt_raw(
        recipient,
        memory_plaintext(text, metadata).as_bytes(),
        ephemeral,
        nonce,
    ))
}

fn parse_memory(plaintext: &[u8]) -> Result<(String, Map<String, Value>), CoreError> {
    let v: Value =
        serde_json::from_slice(plaintext).map_err(|_| failed("plaintext is not JSON"))?;
    let text = v["text"]
        .as_str()
        .ok_or_else(|| failed("plaintext has no text"))?;
    let metadata = match &v["metadata"] {
        Value::Object(m) => m.clone(),
        Value::Null => Map::new(),
        _ => return Err(failed("plaintext metadata is not an object")),
    };
    Ok((text.to_string(), metadata))
}

fn base64url(blob: &str) -> Result<Vec<u8>, CoreError> {
    let trimmed = blob.trim();
    URL_SAFE
        .decode(trimmed)
        .or_else(|_| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('='))
        })
        .map_err(|_| failed("blob is not base64url"))
}

/// Decrypts a hybrid blob into text and metadata.
///
/// # Errors
/// [`CoreError::Decryption`] for bad base64, a wrong key, a tampered blob or a plaintext
/// that is not `{"text", "metadata"}`.
pub fn decrypt_memory(
    private: &[u8; 32],
    blob: &str,
) -> Result<(String, Map<String, Value>), CoreError> {
    parse_memory(&decrypt_raw(private, &base64url(blob)?)?)
}

/// The AES key of the deprecated `namespace_key` scheme.
pub fn legacy_namespace_key(namespace: &str, namespace_key: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(
        namespace_key.as_bytes(),
        namespace.as_bytes(),
        LEGACY_PBKDF2_ROUNDS,
        &mut key,
    );
    key
}

/// What a node records as the owner of a legacy-key namespace: SHA-256 of the derived
/// key, never the key itself (the original recorded the key, so anyone reading a node's
/// registry could decrypt the namespace).
pub fn legacy_owner_hash(namespace: &str, namespace_key: &str) -> [u8; 32] {
    use sha2::Digest;
    Sha256::digest(legacy_namespace_key(namespace, namespace_key)).into()
}

/// Encrypts raw bytes under a legacy key ([`legacy_namespace_key`]): `iv ‖ ciphertext ‖
/// tag`. Kept so the original's `NamespaceEncryption` users can still write and read.
pub fn encrypt_legacy_raw(key: &[u8; 32], plaintext: &[u8], nonce: &[u8; 12]) -> Vec<u8> {
    let cipher = Aes256Gcm::new_from_slice(key).expect("32-byte key");
    let sealed = cipher
        .encrypt(Nonce::from_slice(nonce), plaintext)
        .expect("AES-GCM encrypts any length we send");
    [&nonce[..], &sealed].concat()
}

/// Decrypts what [`encrypt_legacy_raw`] made.
///
/// # Errors
/// [`CoreError::Decryption`] when the bytes are short, or the key or tag is wrong.
pub fn decrypt_legacy_raw(key: &[u8; 32], blob: &[u8]) -> Result<Vec<u8>, CoreError> {
    if blob.len() < 12 + 16 {
        return Err(failed("blob is too short"));
    }
    let cipher = Aes256Gcm::new_from_slice(key).expect("32-byte key");
    cipher
        .decrypt(Nonce::from_slice(&blob[..12]), &blob[12..])
        .map_err(|_| failed("wrong namespace key or tampered blob"))
}

/// Encrypts a memory's text and metadata under the legacy `namespace_key` scheme, as a
/// base64url blob.
pub fn encrypt_legacy(
    namespace: &str,
    namespace_key: &str,
    text: &str,
    metadata: &Map<String, Value>,
    nonce: &[u8; 12],
) -> String {
    URL_SAFE.encode(encrypt_legacy_raw(
        &legacy_namespace_key(namespace, namespace_key),
        memory_plaintext(text, metadata).as_bytes(),
        nonce,
    ))
}

/// Decrypts a blob of the deprecated `namespace_key` scheme (`iv ‖ ciphertext ‖ tag`).
///
/// # Errors
/// As [`decrypt_memory`].
pub fn decrypt_legacy(
    namespace: &str,
    namespace_key: &str,
    blob: &str,
) -> Result<(String, Map<String, Value>), CoreError> {
    let key = legacy_namespace_key(namespace, namespace_key);
    parse_memory(&decrypt_legacy_raw(&key, &base64url(blob)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_key() {
        let recipient = [7u8; 32];
        let mut meta = Map::new();
        meta.insert("k".into(), json!("v"));
        let blob = encrypt_memory(
            &public_key(&recipient),
            "hello",
            &meta,
            &[9u8; 32],
            &[1u8; 12],
        );
        assert_eq!(
            decrypt_memory(&recipient, &blob).unwrap(),
            ("hello".to_string(), meta)
        );
        assert!(decrypt_memory(&[8u8; 32], &blob).is_err());
        assert!(decrypt_memory(&recipient, "not base64 !").is_err());
    }

    #[test]
    fn legacy_round_trip_and_wrong_key() {
        let mut meta = Map::new();
        meta.insert("k".into(), json!(1));
        let blob = encrypt_legacy("diary", "a long enough key", "hi", &meta, &[3u8; 12]);
        assert_eq!(
            decrypt_legacy("diary", "a long enough key", &blob).unwrap(),
            ("hi".to_string(), meta)
        );
        assert!(decrypt_legacy("diary", "another key!!!!!!", &blob).is_err());
        assert!(decrypt_legacy("other", "a long enough key", &blob).is_err());
    }
}
