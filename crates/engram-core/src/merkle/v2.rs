//! Merkle v2: an RFC 6962-style tree over the sorted leaf set, with the size in the root.
//!
//! leaf = SHA-256(0x00 ‖ cid ‖ 0x00 ‖ embedding hash [32]); node = SHA-256(0x01 ‖ l ‖ r);
//! a tree of n > 1 leaves splits at the largest power of two below n (no node is ever
//! duplicated, so different sets cannot share a shape); root = SHA-256(0x02 ‖
//! "engram-merkle-v2" ‖ n as u64 big-endian ‖ tree hash), where the empty tree hash is
//! SHA-256(""). Binding n means a proof also pins the corpus size a node committed to.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Hash;
use super::v1::hex_hash;
use crate::error::CoreError;

const ROOT_DOMAIN: &[u8] = b"engram-merkle-v2";

/// The v2 leaf of a record.
pub fn leaf_hash(cid: &str, embedding_hash: &[u8; 32]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(cid.as_bytes());
    h.update([0u8]);
    h.update(embedding_hash);
    h.finalize().into()
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Largest power of two strictly below `n` (n ≥ 2).
fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

fn tree_hash(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => Sha256::digest(b"").into(),
        [only] => *only,
        _ => {
            let k = split_point(leaves.len());
            node_hash(&tree_hash(&leaves[..k]), &tree_hash(&leaves[k..]))
        }
    }
}

fn bind_size(size: u64, tree: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([2u8]);
    h.update(ROOT_DOMAIN);
    h.update(size.to_be_bytes());
    h.update(tree);
    h.finalize().into()
}

/// The v2 root over sorted, deduplicated leaves.
pub fn root(sorted_leaves: &[Hash]) -> Hash {
    bind_size(sorted_leaves.len() as u64, &tree_hash(sorted_leaves))
}

/// A v2 inclusion proof: the leaf, its index, the tree size and the audit path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The leaf being proven.
    #[serde(with = "hex_hash")]
    pub leaf_hex: Hash,
    /// Its position in the sorted leaf set.
    pub index: u64,
    /// The number of leaves the root commits to.
    pub tree_size: u64,
    /// Sibling hashes from the leaf upward (RFC 6962 audit path).
    pub path: Vec<String>,
}

fn audit_path(index: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split_point(leaves.len());
    if index < k {
        audit_path(index, &leaves[..k], out);
        out.push(tree_hash(&leaves[k..]));
    } else {
        audit_path(index - k, &leaves[k..], out);
        out.push(tree_hash(&leaves[..k]));
    }
}

/// Builds the inclusion proof of `leaf` in the sorted, deduplicated `sorted_leaves`.
///
/// # Errors
/// [`CoreError::NotAMember`] when the leaf is not in the set.
pub fn prove(sorted_leaves: &[Hash], leaf: &Hash, cid: &str) -> Result<InclusionProof, CoreError> {
    let index = sorted_leaves
        .binary_search(leaf)
        .map_err(|_| CoreError::NotAMember {
            cid: cid.to_string(),
        })?;
    let mut path = Vec::new();
    audit_path(index, sorted_leaves, &mut path);
    Ok(InclusionProof {
        leaf_hex: *leaf,
        index: index as u64,
        tree_size: sorted_leaves.len() as u64,
        path: path.iter().map(hex::encode).collect(),
    })
}

impl InclusionProof {
    /// True when the proof climbs to `root` (RFC 9162 §2.1.3.2 verification).
    pub fn verify(&self, root: &Hash) -> bool {
        if self.index >= self.tree_size {
            return false;
        }
        let (mut f_n, mut s_n) = (self.index, self.tree_size - 1);
        let mut r = self.leaf_hex;
        for p in &self.path {
            let mut sibling = [0u8; 32];
            if hex::decode_to_slice(p, &mut sibling).is_err() || s_n == 0 {
                return false;
            }
            if f_n & 1 == 1 || f_n == s_n {
                r = node_hash(&sibling, &r);
                if f_n & 1 == 0 {
                    while f_n & 1 == 0 && f_n != 0 {
                        f_n >>= 1;
                        s_n >>= 1;
                    }
                }
            } else {
                r = node_hash(&r, &sibling);
            }
            f_n >>= 1;
            s_n >>= 1;
        }
        s_n == 0 && &bind_size(self.tree_size, &r) == root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::normalize_leaves;

    #[test]
    fn every_leaf_proves_for_many_sizes() {
        for n in 0u8..=33 {
            let set = normalize_leaves((0..n).map(|i| [i; 32]).collect());
            let r = root(&set);
            for leaf in &set {
                let proof = prove(&set, leaf, "c").unwrap();
                assert!(proof.verify(&r), "n={n}");
                let mut lie = proof.clone();
                lie.tree_size += 1;
                assert!(!lie.verify(&r), "size is bound, n={n}");
                if !proof.path.is_empty() {
                    let mut bad = proof.clone();
                    bad.path[0] = hex::encode([0xee; 32]);
                    assert!(!bad.verify(&r));
                }
            }
        }
    }

    #[test]
    fn duplicating_the_last_leaf_changes_the_root() {
        // In v1 [a,b,c] and [a,b,c,c] share a root; v2 never builds the second (dedup) and
        // binds the size, so no two distinct sets collide.
        let abc: Vec<Hash> = vec![[1; 32], [2; 32], [3; 32]];
        let abcc: Vec<Hash> = vec![[1; 32], [2; 32], [3; 32], [3; 32]];
        assert_eq!(super::super::v1::root(&abc), super::super::v1::root(&abcc));
        assert_ne!(root(&abc), root(&abcc));
    }
}
