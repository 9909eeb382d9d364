//! Merkle v1, byte-compatible with the original network.
//!
//! leaf = SHA-256("leaf:" ‖ cid ‖ ":" ‖ embedding-hash hex); node = SHA-256("node:" ‖ l ‖ r);
//! leaves sorted and deduplicated; an odd layer repeats its last node; empty root = zeros.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Hash;
use crate::error::CoreError;

/// The root of an empty corpus.
pub const EMPTY_ROOT: Hash = [0u8; 32];

/// The v1 leaf of a record.
pub fn leaf_hash(cid: &str, embedding_hash_hex: &str) -> Hash {
    let mut h = Sha256::new();
    h.update(b"leaf:");
    h.update(cid.as_bytes());
    h.update(b":");
    h.update(embedding_hash_hex.as_bytes());
    h.finalize().into()
}

/// The v1 parent of two nodes.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(b"node:");
    h.update(left);
    h.update(right);
    h.finalize().into()
}

fn next_layer(layer: &[Hash]) -> Vec<Hash> {
    layer
        .chunks(2)
        .map(|pair| node_hash(&pair[0], pair.get(1).unwrap_or(&pair[0])))
        .collect()
}

/// The root over leaves that are already sorted and deduplicated.
pub fn root(sorted_leaves: &[Hash]) -> Hash {
    match sorted_leaves {
        [] => EMPTY_ROOT,
        [only] => *only,
        _ => {
            let mut layer = next_layer(sorted_leaves);
            while layer.len() > 1 {
                layer = next_layer(&layer);
            }
            layer[0]
        }
    }
}

/// Where a sibling sits relative to the node being climbed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// parent = node(sibling, current)
    Left,
    /// parent = node(current, sibling)
    Right,
}

/// One step up an inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The sibling hash, lowercase hex.
    #[serde(with = "hex_hash")]
    pub sibling: Hash,
    /// Which side the sibling is on.
    #[serde(deserialize_with = "side_lenient")]
    pub side: Side,
}

/// A v1 inclusion proof, serialized as the original does (`leaf_hex`, then `steps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The leaf being proven, lowercase hex.
    #[serde(with = "hex_hash")]
    pub leaf_hex: Hash,
    /// Siblings from the leaf level upward.
    pub steps: Vec<Step>,
}

/// Builds the inclusion proof of `leaf` in the sorted, deduplicated `sorted_leaves`.
///
/// # Errors
/// [`CoreError::NotAMember`] when the leaf is not in the set.
pub fn prove(sorted_leaves: &[Hash], leaf: &Hash, cid: &str) -> Result<InclusionProof, CoreError> {
    let mut index = sorted_leaves
        .binary_search(leaf)
        .map_err(|_| CoreError::NotAMember {
            cid: cid.to_string(),
        })?;
    let mut steps = Vec::new();
    let mut layer = sorted_leaves.to_vec();
    while layer.len() > 1 {
        let step = if index.is_multiple_of(2) {
            Step {
                sibling: *layer.get(index + 1).unwrap_or(&layer[index]),
                side: Side::Right,
            }
        } else {
            Step {
                sibling: layer[index - 1],
                side: Side::Left,
            }
        };
        steps.push(step);
        layer = next_layer(&layer);
        index /= 2;
    }
    Ok(InclusionProof {
        leaf_hex: *leaf,
        steps,
    })
}

impl InclusionProof {
    /// The root this proof climbs to.
    pub fn climb(&self) -> Hash {
        self.steps
            .iter()
            .fold(self.leaf_hex, |cur, step| match step.side {
                Side::Left => node_hash(&step.sibling, &cur),
                Side::Right => node_hash(&cur, &step.sibling),
            })
    }

    /// True when the proof climbs to `root`.
    pub fn verify(&self, root: &Hash) -> bool {
        &self.climb() == root
    }

    /// True when the proof is for this record and climbs to `root`.
    pub fn verify_record(&self, cid: &str, embedding_hash_hex: &str, root: &Hash) -> bool {
        self.leaf_hex == leaf_hash(cid, embedding_hash_hex) && self.verify(root)
    }

    /// The original's compact JSON text of the proof.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("proof serializes")
    }

    /// Parses the original's JSON text of a proof.
    ///
    /// # Errors
    /// [`CoreError::MalformedProof`] on anything that is not such a proof.
    pub fn from_json(text: &str) -> Result<Self, CoreError> {
        serde_json::from_str(text).map_err(|e| CoreError::MalformedProof {
            reason: e.to_string(),
        })
    }
}

/// The original's parser reads any side other than `"left"` as right; so do we.
fn side_lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Side, D::Error> {
    let s = String::deserialize(d)?;
    Ok(if s == "left" { Side::Left } else { Side::Right })
}

pub(crate) mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(h))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&s, &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u8) -> Vec<Hash> {
        super::super::normalize_leaves((0..n).map(|i| [i; 32]).collect())
    }

    #[test]
    fn every_leaf_proves_and_tampering_fails() {
        for n in 1..=9 {
            let set = leaves(n);
            let r = root(&set);
            for leaf in &set {
                let proof = prove(&set, leaf, "x").unwrap();
                assert!(proof.verify(&r));
                let mut bad = proof.clone();
                if let Some(step) = bad.steps.first_mut() {
                    step.sibling[0] ^= 1;
                    assert!(!bad.verify(&r));
                }
            }
        }
    }

    #[test]
    fn non_member_has_no_proof() {
        assert!(matches!(
            prove(&leaves(3), &[200; 32], "v1::x"),
            Err(CoreError::NotAMember { .. })
        ));
    }
}
