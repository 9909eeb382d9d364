//! Corpus commitments: one hash that stands for every record a node holds.
//!
//! v1 is the published network's tree (sorted leaves, odd layers repeat their last node);
//! it is kept for compatibility. Repeating the last node lets two different sets share a
//! root (`[a, b, c]` and `[a, b, c, c]` before dedup collide in shape), so v2 is an
//! RFC 6962-style tree with domain-separated leaves and nodes and the leaf count bound
//! into the root. Both take the leaf set in any order and sort it, so the root never
//! depends on insertion order.

pub mod v1;
pub mod v2;

/// A 32-byte hash in a tree.
pub type Hash = [u8; 32];

/// Sorts and deduplicates leaf hashes: the set a tree is built over.
pub fn normalize_leaves(mut leaves: Vec<Hash>) -> Vec<Hash> {
    leaves.sort_unstable();
    leaves.dedup();
    leaves
}
