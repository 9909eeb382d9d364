//! The corpus commitment: Merkle roots (v1 and v2) over every record the store holds.
//!
//! Leaves are kept in memory, keyed by their v1 hash, and changed per upsert or delete; the
//! roots are cached and recomputed only on the first read after a change. A snapshot of
//! the leaves is written at each checkpoint, so opening a store reads one file instead of
//! scanning every record; journal entries newer than the snapshot are re-applied on open.
//! Leaves are keyed by the record's point id (namespace and CID), so applying the same
//! change twice (a journal replayed over a snapshot that already has it) is harmless; the
//! same memory in two namespaces is still one leaf of the tree.

use std::collections::BTreeMap;
use std::path::Path;

use engram_core::Cid;
use engram_core::merkle::{self, Hash, v1, v2};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{StoreError, io};

const MAGIC: &[u8; 8] = b"ENGRAMC2";
/// Bytes per snapshot row: point id, v1 leaf, v2 leaf.
const ROW: usize = 16 + 32 + 32;

/// What a node commits to: its record count and the Merkle roots over them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Commitment {
    /// Distinct (CID, embedding hash) leaves.
    pub count: u64,
    /// The v1 root (the published network's tree).
    #[serde(serialize_with = "hex_ser")]
    pub root_v1: Hash,
    /// The v2 root (size-bound, RFC 6962-style).
    #[serde(serialize_with = "hex_ser")]
    pub root_v2: Hash,
}

fn hex_ser<S: serde::Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(h))
}

#[derive(Default)]
pub(crate) struct Leaves {
    /// point id → (v1 leaf, v2 leaf).
    leaves: BTreeMap<[u8; 16], (Hash, Hash)>,
    cached: Option<Commitment>,
}

fn leaf_pair(cid: &Cid, ehash: &[u8; 32]) -> (Hash, Hash) {
    let cid = cid.to_string();
    (
        v1::leaf_hash(&cid, &hex::encode(ehash)),
        v2::leaf_hash(&cid, ehash),
    )
}

impl Leaves {
    pub(crate) fn add(&mut self, id: [u8; 16], cid: &Cid, ehash: &[u8; 32]) {
        self.leaves.insert(id, leaf_pair(cid, ehash));
        self.cached = None;
    }

    pub(crate) fn len(&self) -> usize {
        self.leaves.len()
    }

    pub(crate) fn remove(&mut self, id: [u8; 16]) {
        self.leaves.remove(&id);
        self.cached = None;
    }

    fn sorted_v1(&self) -> Vec<Hash> {
        merkle::normalize_leaves(self.leaves.values().map(|(l1, _)| *l1).collect())
    }

    fn sorted_v2(&self) -> Vec<Hash> {
        merkle::normalize_leaves(self.leaves.values().map(|(_, l2)| *l2).collect())
    }

    pub(crate) fn commitment(&mut self) -> Commitment {
        if let Some(c) = self.cached {
            return c;
        }
        let sorted_v1 = self.sorted_v1();
        let c = Commitment {
            count: sorted_v1.len() as u64,
            root_v1: v1::root(&sorted_v1),
            root_v2: v2::root(&self.sorted_v2()),
        };
        self.cached = Some(c);
        c
    }

    pub(crate) fn prove_v1(
        &self,
        cid: &Cid,
        ehash: &[u8; 32],
    ) -> Result<v1::InclusionProof, StoreError> {
        let (l1, _) = leaf_pair(cid, ehash);
        Ok(v1::prove(&self.sorted_v1(), &l1, &cid.to_string())?)
    }

    pub(crate) fn prove_v2(
        &self,
        cid: &Cid,
        ehash: &[u8; 32],
    ) -> Result<v2::InclusionProof, StoreError> {
        let (_, l2) = leaf_pair(cid, ehash);
        Ok(v2::prove(&self.sorted_v2(), &l2, &cid.to_string())?)
    }

    /// Writes the snapshot atomically (temp file, fsync, rename).
    pub(crate) fn save(&self, path: &Path) -> Result<(), StoreError> {
        let mut buf = Vec::with_capacity(16 + self.leaves.len() * ROW + 32);
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&(self.leaves.len() as u64).to_le_bytes());
        for (id, (l1, l2)) in &self.leaves {
            buf.extend_from_slice(id);
            buf.extend_from_slice(l1);
            buf.extend_from_slice(l2);
        }
        let digest = Sha256::digest(&buf);
        buf.extend_from_slice(&digest);
        engram_os::write_atomic(path, &buf).map_err(io("writing commitment snapshot", path))
    }

    /// Reads a snapshot; `None` when it is absent or does not check out (then the caller
    /// rebuilds from the records).
    pub(crate) fn load(path: &Path) -> Option<Self> {
        let bytes = std::fs::read(path).ok()?;
        let (body, digest) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
        if Sha256::digest(body).as_slice() != digest || !body.starts_with(MAGIC) {
            return None;
        }
        let n = u64::from_le_bytes(body.get(8..16)?.try_into().ok()?) as usize;
        let rows = body.get(16..)?;
        if rows.len() != n.checked_mul(ROW)? {
            return None;
        }
        let leaves = rows
            .chunks_exact(ROW)
            .map(|r| {
                let id: [u8; 16] = r[..16].try_into().expect("16 bytes");
                let l1: Hash = r[16..48].try_into().expect("32 bytes");
                let l2: Hash = r[48..80].try_into().expect("32 bytes");
                (id, (l1, l2))
            })
            .collect();
        Some(Self {
            leaves,
            cached: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotent_shared_and_snapshot_round_trip() {
        let cid = engram_core::cid_v1(&[1.0], &Default::default(), "v1");
        let mut l = Leaves::default();
        let empty = l.commitment();
        assert_eq!(empty.root_v1, [0; 32]);
        l.add([1; 16], &cid, &[1; 32]);
        l.add([1; 16], &cid, &[1; 32]); // replayed: no change
        l.add([2; 16], &cid, &[1; 32]); // same memory, second namespace
        let one = l.commitment();
        assert_eq!(one.count, 1);
        l.remove([2; 16]);
        assert_eq!(l.commitment(), one);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c");
        l.save(&path).unwrap();
        let mut back = Leaves::load(&path).unwrap();
        assert_eq!(back.commitment(), one);
        assert!(back.prove_v1(&cid, &[1; 32]).unwrap().verify(&one.root_v1));
        assert!(back.prove_v2(&cid, &[1; 32]).unwrap().verify(&one.root_v2));
        l.remove([1; 16]);
        assert_eq!(l.commitment(), empty);
        std::fs::write(&path, b"garbage").unwrap();
        assert!(Leaves::load(&path).is_none());
    }
}
