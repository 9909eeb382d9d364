//! Chunking, `data_root` and per-chunk `data_path` proofs.
//!
//! A format-2 transaction signs only the 32-byte `data_root` and the size of its data, so data
//! of any length can be uploaded after the header in 256 KiB chunks, each carrying a proof that it
//! belongs under that root at a given offset. The rules below must match the Arweave node byte for
//! byte, or mainnet refuses the chunks (`invalid_proof`) even though the header was accepted:
//!
//! - Chunks are 256 KiB, except that when the remainder after a full chunk would be smaller than
//!   32 KiB the last two chunks split the rest evenly, the first taking the odd byte.
//! - When the size is a non-zero multiple of 256 KiB the chunker ends with a **zero-length**
//!   chunk. Its leaf is part of the tree (the node builds the same tree), but it is never uploaded.
//! - Leaves pair up left to right; an odd node at the end of a level is carried up unchanged.
//! - Every offset in the tree is written as a 32-byte big-endian "note".

use std::ops::Range;

use sha2::{Digest, Sha256};

/// Size of a full chunk: 256 KiB.
pub const MAX_CHUNK_SIZE: usize = 256 * 1024;
/// Smallest size the chunker leaves for a last chunk, unless the data itself is smaller: 32 KiB.
pub const MIN_CHUNK_SIZE: usize = 32 * 1024;

const HASH_SIZE: usize = 32;
const NOTE_SIZE: usize = 32;
const BRANCH_SIZE: usize = 2 * HASH_SIZE + NOTE_SIZE;
const LEAF_SIZE: usize = HASH_SIZE + NOTE_SIZE;

/// The byte ranges the data of `len` bytes is cut into, in order.
///
/// Ends with an empty range at `len` when `len` is a multiple of [`MAX_CHUNK_SIZE`] (including
/// `len == 0`), as the Arweave node's chunker does.
pub fn chunk_ranges(len: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::with_capacity(len / MAX_CHUNK_SIZE + 1);
    let mut start = 0;
    let mut rest = len;
    while rest >= MAX_CHUNK_SIZE {
        let after = rest - MAX_CHUNK_SIZE;
        let size = if after > 0 && after < MIN_CHUNK_SIZE {
            rest.div_ceil(2)
        } else {
            MAX_CHUNK_SIZE
        };
        ranges.push(start..start + size);
        start += size;
        rest -= size;
    }
    ranges.push(start..start + rest);
    ranges
}

/// A leaf of the tree: the SHA-256 of one chunk and the chunk's end offset in the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    /// SHA-256 of the chunk's bytes.
    pub data_hash: [u8; 32],
    /// Offset one past the chunk's last byte.
    pub end: u64,
}

/// The root of a tree and the `data_path` of every leaf, in leaf order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// The `data_root`.
    pub root: [u8; 32],
    /// The proof of each leaf: the branches from the root down, then the leaf.
    pub paths: Vec<Vec<u8>>,
}

/// Builds the tree over `leaves`; `None` when there are none.
pub fn build_tree(leaves: &[Leaf]) -> Option<Tree> {
    let mut level: Vec<Node> = leaves
        .iter()
        .map(|leaf| Node::Leaf {
            id: hash_leaf(&leaf.data_hash, &note(leaf.end)),
            leaf: *leaf,
        })
        .collect();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut nodes = level.into_iter();
        while let Some(left) = nodes.next() {
            match nodes.next() {
                Some(right) => next.push(Node::branch(left, right)),
                None => next.push(left),
            }
        }
        level = next;
    }
    let root = level.pop()?;
    let mut paths = Vec::with_capacity(leaves.len());
    root.collect_paths(&mut Vec::new(), &mut paths);
    Some(Tree {
        root: root.id(),
        paths,
    })
}

/// What a valid `data_path` proves: which bytes of the data a chunk with this hash occupies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvenChunk {
    /// SHA-256 the chunk's bytes must have.
    pub data_hash: [u8; 32],
    /// Offset of the chunk's first byte.
    pub start: u64,
    /// Offset one past its last byte.
    pub end: u64,
}

/// Checks `path` against `root` for the byte at `offset` of data of `data_size` bytes, as a
/// node does before accepting a chunk. Offsets past the end are taken as the last byte.
///
/// Returns `None` when the path is malformed, does not hash to `root`, or its leaf does not end
/// where the branches above it say it must.
pub fn validate_path(
    root: &[u8; 32],
    offset: u64,
    data_size: u64,
    path: &[u8],
) -> Option<ProvenChunk> {
    let dest = offset.min(data_size.checked_sub(1)?);
    let (mut id, mut left, mut right) = (*root, 0, data_size);
    let mut rest = path;
    while rest.len() > LEAF_SIZE {
        let (branch, tail) = rest.split_at_checked(BRANCH_SIZE)?;
        let (children, split_note) = branch.split_at(2 * HASH_SIZE);
        let (left_id, right_id) = children.split_at(HASH_SIZE);
        if hash_branch(left_id, right_id, split_note) != id {
            return None;
        }
        let split = note_value(split_note)?;
        if dest < split {
            id = left_id.try_into().ok()?;
            right = right.min(split);
        } else {
            id = right_id.try_into().ok()?;
            left = left.max(split);
        }
        rest = tail;
    }
    if rest.len() != LEAF_SIZE {
        return None;
    }
    let (data_hash, end_note) = rest.split_at(HASH_SIZE);
    if hash_leaf(data_hash, end_note) != id {
        return None;
    }
    let end = note_value(end_note)?;
    (end == right && left < right).then_some(ProvenChunk {
        data_hash: data_hash.try_into().ok()?,
        start: left,
        end,
    })
}

/// The chunk layout of some data: its `data_root` and the chunks to upload with their proofs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLayout {
    data_size: u64,
    data_root: Option<[u8; 32]>,
    chunks: Vec<Chunk>,
}

/// One chunk to upload: its bytes' range in the data and its `data_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Where the chunk's bytes are in the data.
    pub range: Range<usize>,
    /// The proof that the chunk belongs under the `data_root` at this range.
    pub data_path: Vec<u8>,
}

impl Chunk {
    /// The `offset` sent with the chunk: its last byte's offset in the data.
    pub fn offset(&self) -> u64 {
        self.range.end as u64 - 1
    }
}

impl DataLayout {
    /// Chunks `data` and builds its tree.
    pub fn new(data: &[u8]) -> Self {
        let ranges = chunk_ranges(data.len());
        let leaves: Vec<Leaf> = ranges
            .iter()
            .map(|range| Leaf {
                data_hash: Sha256::digest(&data[range.clone()]).into(),
                end: range.end as u64,
            })
            .collect();
        let tree = match build_tree(&leaves) {
            Some(tree) if !data.is_empty() => tree,
            // No data: arweave-js and the node sign an empty data_root, not the empty chunk's.
            _ => {
                return Self {
                    data_size: 0,
                    data_root: None,
                    chunks: Vec::new(),
                };
            }
        };
        let chunks = ranges
            .into_iter()
            .zip(tree.paths)
            .filter(|(range, _)| !range.is_empty())
            .map(|(range, data_path)| Chunk { range, data_path })
            .collect();
        Self {
            data_size: data.len() as u64,
            data_root: Some(tree.root),
            chunks,
        }
    }

    /// Bytes of data.
    pub fn data_size(&self) -> u64 {
        self.data_size
    }

    /// The `data_root`; `None` for empty data.
    pub fn data_root(&self) -> Option<&[u8; 32]> {
        self.data_root.as_ref()
    }

    /// The chunks to upload, in order; the zero-length trailing chunk is not among them.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// Whether the data goes inline in the transaction body: at most one chunk, which is
    /// `data_size <= 256 KiB` (arweave-js's rule).
    pub fn fits_inline(&self) -> bool {
        self.data_size <= MAX_CHUNK_SIZE as u64
    }
}

enum Node {
    Leaf {
        id: [u8; 32],
        leaf: Leaf,
    },
    Branch {
        id: [u8; 32],
        left: Box<Node>,
        right: Box<Node>,
        split: u64,
        end: u64,
    },
}

impl Node {
    fn branch(left: Node, right: Node) -> Node {
        let split = left.end();
        Node::Branch {
            id: hash_branch(&left.id(), &right.id(), &note(split)),
            end: right.end(),
            left: Box::new(left),
            right: Box::new(right),
            split,
        }
    }

    fn id(&self) -> [u8; 32] {
        match self {
            Node::Leaf { id, .. } | Node::Branch { id, .. } => *id,
        }
    }

    fn end(&self) -> u64 {
        match self {
            Node::Leaf { leaf, .. } => leaf.end,
            Node::Branch { end, .. } => *end,
        }
    }

    /// Appends the path of every leaf under `self` to `out`; `prefix` holds the branches above.
    fn collect_paths(&self, prefix: &mut Vec<u8>, out: &mut Vec<Vec<u8>>) {
        match self {
            Node::Leaf { leaf, .. } => {
                let mut path = Vec::with_capacity(prefix.len() + LEAF_SIZE);
                path.extend_from_slice(prefix);
                path.extend_from_slice(&leaf.data_hash);
                path.extend_from_slice(&note(leaf.end));
                out.push(path);
            }
            Node::Branch {
                left, right, split, ..
            } => {
                let depth = prefix.len();
                prefix.extend_from_slice(&left.id());
                prefix.extend_from_slice(&right.id());
                prefix.extend_from_slice(&note(*split));
                left.collect_paths(prefix, out);
                right.collect_paths(prefix, out);
                prefix.truncate(depth);
            }
        }
    }
}

/// `value` as a 32-byte big-endian note.
fn note(value: u64) -> [u8; NOTE_SIZE] {
    let mut note = [0; NOTE_SIZE];
    note[NOTE_SIZE - 8..].copy_from_slice(&value.to_be_bytes());
    note
}

/// The value of a note, if it fits in a `u64`.
fn note_value(note: &[u8]) -> Option<u64> {
    let (high, low) = note.split_at(NOTE_SIZE - 8);
    if high.iter().any(|&b| b != 0) {
        return None;
    }
    Some(u64::from_be_bytes(low.try_into().ok()?))
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn hash_leaf(data_hash: &[u8], end_note: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(sha256(data_hash));
    hasher.update(sha256(end_note));
    hasher.finalize().into()
}

fn hash_branch(left: &[u8], right: &[u8], split_note: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(sha256(left));
    hasher.update(sha256(right));
    hasher.update(sha256(split_note));
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b64;
    use serde::Deserialize;

    const VECTORS: &str = include_str!("../../tests/vectors/merkle.json");

    #[derive(Deserialize)]
    struct Vectors {
        generated: Vec<Generated>,
        from_leaf_hashes: Vec<FromLeafHashes>,
    }

    #[derive(Deserialize)]
    struct Generated {
        name: String,
        data: DataRule,
        chunk_sizes: Vec<usize>,
        data_root: String,
        #[serde(default)]
        proofs: Vec<ProofVector>,
        #[serde(default)]
        proof_lengths: Vec<usize>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum DataRule {
        Utf8(String),
        Mod251(usize),
        #[serde(untagged)]
        Repeat {
            repeat: String,
            len: usize,
        },
    }

    #[derive(Deserialize)]
    struct FromLeafHashes {
        name: String,
        data_size: u64,
        chunks: Vec<LeafVector>,
        data_root: String,
        #[serde(default)]
        proofs: Vec<ProofVector>,
    }

    #[derive(Deserialize)]
    struct LeafVector {
        end: u64,
        sha256: String,
    }

    #[derive(Deserialize)]
    struct ProofVector {
        offset: u64,
        data_path: String,
    }

    fn vectors() -> Vectors {
        serde_json::from_str(VECTORS).unwrap()
    }

    fn data(rule: &DataRule) -> Vec<u8> {
        match rule {
            DataRule::Utf8(text) => text.as_bytes().to_vec(),
            DataRule::Mod251(len) => (0..*len).map(|i| (i % 251) as u8).collect(),
            DataRule::Repeat { repeat, len } => repeat.bytes().cycle().take(*len).collect(),
        }
    }

    fn leaves_of(data: &[u8]) -> Vec<Leaf> {
        chunk_ranges(data.len())
            .into_iter()
            .map(|range| Leaf {
                data_hash: sha256(&data[range.clone()]),
                end: range.end as u64,
            })
            .collect()
    }

    /// Every path proves its own leaf, and only its own leaf.
    fn assert_paths_validate(root: &[u8; 32], leaves: &[Leaf], paths: &[Vec<u8>], size: u64) {
        let mut start = 0;
        for (leaf, path) in leaves.iter().zip(paths) {
            if leaf.end == start {
                continue; // the zero-length leaf: no byte offset lands in it
            }
            let proven = validate_path(root, leaf.end - 1, size, path).expect("valid path");
            assert_eq!(
                proven,
                ProvenChunk {
                    data_hash: leaf.data_hash,
                    start,
                    end: leaf.end
                }
            );
            assert_eq!(validate_path(root, start, size, path), Some(proven));
            if start > 0 {
                assert_eq!(
                    validate_path(root, start - 1, size, path),
                    None,
                    "wrong offset"
                );
            }
            let mut tampered = path.clone();
            tampered[path.len() - 40] ^= 1;
            assert_eq!(validate_path(root, leaf.end - 1, size, &tampered), None);
            start = leaf.end;
        }
    }

    #[test]
    fn generated_vectors() {
        for case in vectors().generated {
            let data = data(&case.data);
            let sizes: Vec<usize> = chunk_ranges(data.len()).iter().map(|r| r.len()).collect();
            assert_eq!(sizes, case.chunk_sizes, "{}", case.name);

            let layout = DataLayout::new(&data);
            assert_eq!(
                b64::encode(layout.data_root().unwrap()),
                case.data_root,
                "{}",
                case.name
            );

            let leaves = leaves_of(&data);
            let tree = build_tree(&leaves).unwrap();
            if !case.proofs.is_empty() {
                let expected: Vec<(u64, String)> = case
                    .proofs
                    .iter()
                    .map(|p| (p.offset, p.data_path.clone()))
                    .collect();
                let got: Vec<(u64, String)> = leaves
                    .iter()
                    .zip(&tree.paths)
                    .map(|(leaf, path)| (leaf.end.saturating_sub(1), b64::encode(path)))
                    .collect();
                assert_eq!(got, expected, "{}", case.name);
            }
            if !case.proof_lengths.is_empty() {
                let lengths: Vec<usize> = tree.paths.iter().map(Vec::len).collect();
                assert_eq!(lengths, case.proof_lengths, "{}", case.name);
            }
            assert_paths_validate(&tree.root, &leaves, &tree.paths, data.len() as u64);

            // The uploaded chunks are the non-empty leaves with their paths.
            let uploaded: Vec<usize> = layout.chunks().iter().map(|c| c.range.len()).collect();
            let non_empty: Vec<usize> = sizes.iter().copied().filter(|&s| s > 0).collect();
            assert_eq!(uploaded, non_empty, "{}", case.name);
            for chunk in layout.chunks() {
                let proven = validate_path(
                    &tree.root,
                    chunk.offset(),
                    layout.data_size(),
                    &chunk.data_path,
                )
                .unwrap();
                assert_eq!(proven.data_hash, sha256(&data[chunk.range.clone()]));
            }
        }
    }

    /// Upstream fixtures too large to copy, checked through their chunk hashes: rebar3 (the
    /// arweave-js root and chunk-0 proof), 1mb.bin and the signed-transaction fixture's data.
    #[test]
    fn upstream_vectors_from_leaf_hashes() {
        for case in vectors().from_leaf_hashes {
            let ends: Vec<u64> = chunk_ranges(case.data_size as usize)
                .iter()
                .map(|r| r.end as u64)
                .collect();
            let leaves: Vec<Leaf> = case
                .chunks
                .iter()
                .map(|c| Leaf {
                    data_hash: hex::decode(&c.sha256).unwrap().try_into().unwrap(),
                    end: c.end,
                })
                .collect();
            assert_eq!(
                ends,
                leaves.iter().map(|l| l.end).collect::<Vec<_>>(),
                "{}",
                case.name
            );
            let tree = build_tree(&leaves).unwrap();
            assert_eq!(b64::encode(tree.root), case.data_root, "{}", case.name);
            for proof in &case.proofs {
                let index = leaves
                    .iter()
                    .position(|l| l.end - 1 == proof.offset)
                    .unwrap();
                assert_eq!(
                    b64::encode(&tree.paths[index]),
                    proof.data_path,
                    "{}",
                    case.name
                );
                let path = b64::decode(&proof.data_path).unwrap();
                assert!(validate_path(&tree.root, proof.offset, case.data_size, &path).is_some());
            }
            assert_paths_validate(&tree.root, &leaves, &tree.paths, case.data_size);
        }
    }

    /// Sizes where a chunking rule changes, each against the rule it exercises.
    #[test]
    fn chunk_boundaries() {
        let sizes = |len| -> Vec<usize> { chunk_ranges(len).iter().map(|r| r.len()).collect() };
        const M: usize = MAX_CHUNK_SIZE;
        assert_eq!(
            sizes(0),
            [0],
            "empty data: one empty chunk (the layout signs no root)"
        );
        assert_eq!(sizes(M - 1), [M - 1], "under one chunk");
        assert_eq!(
            sizes(M),
            [M, 0],
            "exact multiple: zero-length trailing chunk"
        );
        assert_eq!(
            sizes(M + 1),
            [M / 2 + 1, M / 2],
            "rebalanced, first takes the odd byte"
        );
        assert_eq!(
            sizes(M + MIN_CHUNK_SIZE - 1),
            [147_456, 147_455],
            "last rebalanced size"
        );
        assert_eq!(
            sizes(M + MIN_CHUNK_SIZE),
            [M, MIN_CHUNK_SIZE],
            "remainder of 32 KiB is kept"
        );
        assert_eq!(
            sizes(3 * M + 10),
            [M, M, M / 2 + 5, M / 2 + 5],
            "only the last two rebalance"
        );
        assert_eq!(sizes(2 * M), [M, M, 0]);
    }

    #[test]
    fn empty_data_has_no_root_and_no_chunks() {
        let layout = DataLayout::new(b"");
        assert_eq!(layout.data_size(), 0);
        assert_eq!(layout.data_root(), None);
        assert!(layout.chunks().is_empty());
        assert!(layout.fits_inline());
    }

    #[test]
    fn inline_threshold_is_one_chunk() {
        assert!(DataLayout::new(&vec![7; MAX_CHUNK_SIZE]).fits_inline());
        assert!(!DataLayout::new(&vec![7; MAX_CHUNK_SIZE + 1]).fits_inline());
    }

    #[test]
    fn malformed_paths_are_refused() {
        let layout = DataLayout::new(b"hello");
        let root = layout.data_root().unwrap();
        let path = &layout.chunks()[0].data_path;
        assert!(validate_path(root, 4, 5, path).is_some());
        assert_eq!(validate_path(root, 4, 6, path), None, "wrong data size");
        assert_eq!(validate_path(root, 4, 0, path), None, "no data");
        assert_eq!(validate_path(root, 4, 5, &path[..63]), None, "truncated");
        assert_eq!(
            validate_path(root, 4, 5, &[path.as_slice(), &[0]].concat()),
            None
        );
        assert_eq!(
            validate_path(root, 99, 5, path).map(|p| p.end),
            Some(5),
            "clamped"
        );
    }
}
