//! Storage proofs: a node shows it still holds a memory by answering a fresh nonce.
//!
//! v1 is what the published network speaks. Its message is only the embedding hash, so a
//! node that kept 32 bytes per record answers it forever. v2 (ours) puts the full vector
//! bytes into the MAC: only a holder of the bytes can answer. See docs/protocol.md.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::cid::Cid;
use crate::limits::NONCE_LEN;

type HmacSha256 = Hmac<Sha256>;

/// A challenge nonce.
pub type Nonce = [u8; NONCE_LEN];
/// A validator's 32-byte hotkey (sr25519 public key).
pub type Hotkey = [u8; 32];

/// Domain separator of the v2 key, so a v1 key can never be replayed as a v2 key.
const V2_DOMAIN: &[u8] = b"engram-proof-v2";

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The v1 HMAC key: SHA-256(validator hotkey ‖ nonce), 32 zero bytes for no hotkey.
pub fn v1_key(validator_hotkey: Option<&Hotkey>, nonce: &Nonce) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(validator_hotkey.unwrap_or(&[0u8; 32]));
    h.update(nonce);
    h.finalize().into()
}

/// Proof v1: HMAC-SHA256(v1 key, ASCII hex of the embedding hash).
pub fn proof_v1(
    embedding_hash_hex: &str,
    nonce: &Nonce,
    validator_hotkey: Option<&Hotkey>,
) -> [u8; 32] {
    hmac(
        &v1_key(validator_hotkey, nonce),
        &[embedding_hash_hex.as_bytes()],
    )
}

/// The batch form of v1: one nonce for many records, each proof bound to its position.
pub fn proof_v1_batch(
    embedding_hash_hexes: &[&str],
    nonce: &Nonce,
    validator_hotkey: Option<&Hotkey>,
) -> Vec<[u8; 32]> {
    let key = v1_key(validator_hotkey, nonce);
    embedding_hash_hexes
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let index = u32::try_from(i).expect("batch under 2^32 entries");
            hmac(&key, &[&index.to_le_bytes(), h.as_bytes()])
        })
        .collect()
}

/// The v2 HMAC key: SHA-256("engram-proof-v2" ‖ validator hotkey ‖ nonce).
pub fn v2_key(validator_hotkey: Option<&Hotkey>, nonce: &Nonce) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(V2_DOMAIN);
    h.update(validator_hotkey.unwrap_or(&[0u8; 32]));
    h.update(nonce);
    h.finalize().into()
}

/// Proof v2: HMAC-SHA256(v2 key, CID ASCII ‖ f32 LE bytes of the stored vector).
pub fn proof_v2(
    cid: &Cid,
    embedding: &[f32],
    nonce: &Nonce,
    validator_hotkey: Option<&Hotkey>,
) -> [u8; 32] {
    let key = v2_key(validator_hotkey, nonce);
    let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC takes keys of any length");
    mac.update(cid.to_string().as_bytes());
    for x in embedding {
        mac.update(&x.to_le_bytes());
    }
    mac.finalize().into_bytes().into()
}

/// Compares two proofs in constant time.
pub fn proofs_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedding::{cid_v1, embedding_hash_hex};

    #[test]
    fn v2_depends_on_every_vector_byte() {
        let v = vec![0.25f32; 384];
        let cid = cid_v1(&v, &Default::default(), "v1");
        let nonce = [7u8; 32];
        let p = proof_v2(&cid, &v, &nonce, None);
        let mut w = v.clone();
        w[383] = f32::from_bits(w[383].to_bits() ^ 1);
        assert_ne!(p, proof_v2(&cid, &w, &nonce, None));
        // and a holder of only the hash gets nowhere: v1 with the same inputs differs
        assert_ne!(p, proof_v1(&embedding_hash_hex(&v), &nonce, None));
    }

    #[test]
    fn v2_binds_hotkey_and_nonce() {
        let v = vec![0.5f32; 384];
        let cid = cid_v1(&v, &Default::default(), "v1");
        let a = proof_v2(&cid, &v, &[1; 32], None);
        assert_ne!(a, proof_v2(&cid, &v, &[2; 32], None));
        assert_ne!(a, proof_v2(&cid, &v, &[1; 32], Some(&[9; 32])));
        assert!(proofs_equal(&a, &a));
        assert!(!proofs_equal(&a, &[0; 32]));
    }
}
