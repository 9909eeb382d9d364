//! Erasure-coded blobs: a file as `n` Reed–Solomon shards of which any `k` rebuild it.
//!
//! Why: records are small and replicated three times, but a 20 MB PDF kept whole on three
//! nodes costs 60 MB and survives two losses, while 4-of-6 shards cost 30 MB and survive
//! two losses too. The price is paid at repair: re-creating one lost shard reads `k` shards
//! (one blob's worth) where a replica copy reads one blob — docs/validator.md measures it.
//!
//! Layout: the bytes are padded with zeros to `k · L` (L = ⌈size / k⌉ rounded up to even,
//! because the codec works on 16-bit symbols) and cut into `k` data shards (indices
//! `0..k`); `reed-solomon-simd` (GF(2¹⁶), the Leopard construction) derives `n − k`
//! parity shards (indices `k..n`). Finite-field arithmetic is exact, so every CPU computes
//! the same parity bytes and each shard's CID (`sha256:` of its bytes) is the same
//! everywhere. The [`Manifest`] names the blob, its size and type, the layout and every
//! shard's CID: a reader checks each shard against it before decoding and the result
//! against the blob's CID after, so a node serving altered bytes is caught either way.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::cid::Cid;
use crate::error::CoreError;

/// Most shards one blob may be cut into (a devnet or subnet seldom has more nodes to hold
/// them, and each holds at most one shard of a blob).
pub const MAX_SHARDS: usize = 64;

/// Largest blob a manifest may describe (1 GiB): far above any document limit, low enough
/// that no arithmetic on it overflows and no reader is asked to hold more.
pub const MAX_BLOB_BYTES: u64 = 1 << 30;

/// 4-of-6: half the disk of 3× replication, and like it survives any two lost holders.
pub const DEFAULT_LAYOUT: Layout = Layout { data: 4, total: 6 };

/// How a blob is cut: `data` shards rebuild it, `total` are written. Written `k/n` in
/// configuration files and JSON, as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Layout {
    /// Shards any reader needs (k).
    pub data: usize,
    /// Shards written (n).
    pub total: usize,
}

impl Layout {
    /// A checked layout.
    ///
    /// # Errors
    /// [`CoreError::ErasureLayout`] unless 1 ≤ data < total ≤ [`MAX_SHARDS`].
    pub fn new(data: usize, total: usize) -> Result<Self, CoreError> {
        if data >= 1 && data < total && total <= MAX_SHARDS {
            Ok(Self { data, total })
        } else {
            Err(CoreError::ErasureLayout { data, total })
        }
    }

    /// Parity shards (n − k): how many holders may be lost.
    pub fn parity(&self) -> usize {
        self.total - self.data
    }

    /// Bytes stored per byte of blob (n / k).
    pub fn overhead(&self) -> f64 {
        self.total as f64 / self.data as f64
    }

    /// Length of every shard of a blob of `size` bytes (`size` ≤ [`MAX_BLOB_BYTES`]; larger
    /// sizes are refused by [`Manifest::check`] before this matters).
    pub fn shard_len(&self, size: u64) -> usize {
        let len = size.min(MAX_BLOB_BYTES).div_ceil(self.data as u64).max(1);
        usize::try_from(len + len % 2).unwrap_or(usize::MAX)
    }
}

impl Default for Layout {
    fn default() -> Self {
        DEFAULT_LAYOUT
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.data, self.total)
    }
}

impl FromStr for Layout {
    type Err = CoreError;

    /// `k/n`, e.g. `4/6`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parse = |part: &str| part.trim().parse::<usize>().ok();
        match s.split_once('/').map(|(k, n)| (parse(k), parse(n))) {
            Some((Some(data), Some(total))) => Self::new(data, total),
            _ => Err(CoreError::ErasureLayout { data: 0, total: 0 }),
        }
    }
}

impl TryFrom<String> for Layout {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Layout> for String {
    fn from(layout: Layout) -> Self {
        layout.to_string()
    }
}

/// What a reader needs to check and rebuild a blob from its shards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The blob's content CID (`sha256:` of the whole file).
    pub blob: Cid,
    /// The blob's length in bytes (the shards carry padding).
    pub size: u64,
    /// Its MIME type, as given at ingest.
    pub content_type: String,
    /// Shards any reader needs (k).
    pub data: usize,
    /// Shards written (n).
    pub total: usize,
    /// Length of every shard.
    pub shard_len: usize,
    /// Each shard's content CID, by index: data shards, then parity shards.
    pub shards: Vec<Cid>,
}

impl Manifest {
    /// The layout it describes.
    pub fn layout(&self) -> Layout {
        Layout {
            data: self.data,
            total: self.total,
        }
    }

    /// Checks that the fields agree with each other (not that the shards exist).
    ///
    /// # Errors
    /// [`CoreError::ErasureLayout`] or [`CoreError::ErasureManifest`].
    pub fn check(&self) -> Result<(), CoreError> {
        let layout = Layout::new(self.data, self.total)?;
        let bad = |reason| Err(CoreError::ErasureManifest { reason });
        if !matches!(self.blob, Cid::Content(_)) {
            return bad("the blob must be a content CID (sha256:…)");
        }
        if self.size == 0 {
            return bad("an empty blob has no shards");
        }
        if self.size > MAX_BLOB_BYTES {
            return bad("the blob is larger than 1 GiB");
        }
        if self.shards.len() != self.total {
            return bad("it must name exactly `total` shards");
        }
        if self.shards.iter().any(|c| !matches!(c, Cid::Content(_))) {
            return bad("every shard must be a content CID (sha256:…)");
        }
        if self.shard_len != layout.shard_len(self.size) {
            return bad("shard_len does not follow from size and data");
        }
        Ok(())
    }

    /// The manifest's own content CID (SHA-256 of its JSON): holders name the manifest
    /// their shards are under by it, so shards under another manifest are never counted.
    pub fn digest(&self) -> Cid {
        Cid::for_content(&serde_json::to_vec(self).expect("a manifest serializes"))
    }

    /// Checks one shard's bytes against the manifest.
    ///
    /// # Errors
    /// [`CoreError::ErasureShard`] when the index is out of range, or the length or hash
    /// differ.
    pub fn check_shard(&self, index: usize, bytes: &[u8]) -> Result<(), CoreError> {
        let bad = |reason| Err(CoreError::ErasureShard { index, reason });
        let Some(want) = self.shards.get(index) else {
            return bad("no such index");
        };
        if bytes.len() != self.shard_len {
            return bad("wrong length");
        }
        if Cid::for_content(bytes) != *want {
            return bad("wrong hash");
        }
        Ok(())
    }
}

/// The codec's own error, kept as the source of [`CoreError::ErasureCodec`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodecError(pub reed_solomon_simd::Error);

// The codec's error holds only counts and indices, so equality is total.
impl Eq for CodecError {}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for CodecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

fn codec(e: reed_solomon_simd::Error) -> CoreError {
    CoreError::ErasureCodec(CodecError(e))
}

/// Cuts `bytes` into `layout.total` shards; returns the manifest and the shards by index.
///
/// # Errors
/// [`CoreError::ErasureManifest`] for empty bytes.
pub fn encode(
    bytes: &[u8],
    content_type: &str,
    layout: Layout,
) -> Result<(Manifest, Vec<Vec<u8>>), CoreError> {
    if bytes.is_empty() || bytes.len() as u64 > MAX_BLOB_BYTES {
        return Err(CoreError::ErasureManifest {
            reason: "a blob to cut must hold 1 byte to 1 GiB",
        });
    }
    let layout = Layout::new(layout.data, layout.total)?;
    let len = layout.shard_len(bytes.len() as u64);
    let mut shards: Vec<Vec<u8>> = (0..layout.data)
        .map(|i| {
            let start = (i * len).min(bytes.len());
            let end = ((i + 1) * len).min(bytes.len());
            let mut shard = bytes[start..end].to_vec();
            shard.resize(len, 0);
            shard
        })
        .collect();
    let parity = reed_solomon_simd::encode(layout.data, layout.parity(), &shards).map_err(codec)?;
    shards.extend(parity);
    let manifest = Manifest {
        blob: Cid::for_content(bytes),
        size: bytes.len() as u64,
        content_type: content_type.to_string(),
        data: layout.data,
        total: layout.total,
        shard_len: len,
        shards: shards.iter().map(|s| Cid::for_content(s)).collect(),
    };
    Ok((manifest, shards))
}

/// Rebuilds the blob from any `data` of its shards, each checked against the manifest;
/// the result is checked against the blob's CID.
///
/// # Errors
/// [`CoreError::ErasureShard`] for a shard that does not match (callers drop bad shards
/// first, with [`Manifest::check_shard`]), [`CoreError::ErasureTooFew`] when fewer than
/// `data` distinct shards are given, [`CoreError::ErasureMismatch`] when the manifest
/// itself lies about the blob.
pub fn decode(manifest: &Manifest, shards: &[(usize, &[u8])]) -> Result<Vec<u8>, CoreError> {
    manifest.check()?;
    let k = manifest.data;
    let mut by_index: Vec<Option<&[u8]>> = vec![None; manifest.total];
    for &(index, bytes) in shards {
        manifest.check_shard(index, bytes)?;
        by_index[index] = Some(bytes);
    }
    let have = by_index.iter().flatten().count();
    if have < k {
        return Err(CoreError::ErasureTooFew { have, need: k });
    }
    let mut data: Vec<Vec<u8>> = by_index[..k]
        .iter()
        .map(|s| s.map(<[u8]>::to_vec).unwrap_or_default())
        .collect();
    if data.iter().any(Vec::is_empty) {
        let original = by_index[..k]
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (i, s)));
        let recovery = by_index[k..]
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (i, s)));
        let restored =
            reed_solomon_simd::decode(k, manifest.total - k, original, recovery).map_err(codec)?;
        for (i, shard) in restored {
            data[i] = shard;
        }
    }
    let mut bytes = data.concat();
    bytes.truncate(manifest.size as usize);
    if Cid::for_content(&bytes) != manifest.blob {
        return Err(CoreError::ErasureMismatch {
            blob: manifest.blob,
        });
    }
    Ok(bytes)
}

/// Re-creates the shards at `wanted` indices from any `data` others (what repair sends to
/// a node that lost its shard).
///
/// # Errors
/// As [`decode`]; [`CoreError::ErasureShard`] for a wanted index out of range.
pub fn rebuild(
    manifest: &Manifest,
    shards: &[(usize, &[u8])],
    wanted: &[usize],
) -> Result<Vec<Vec<u8>>, CoreError> {
    let bytes = decode(manifest, shards)?;
    let (again, mut all) = encode(&bytes, &manifest.content_type, manifest.layout())?;
    if again != *manifest {
        return Err(CoreError::ErasureMismatch {
            blob: manifest.blob,
        });
    }
    wanted
        .iter()
        .map(|&i| {
            if i < all.len() {
                Ok(std::mem::take(&mut all[i]))
            } else {
                Err(CoreError::ErasureShard {
                    index: i,
                    reason: "no such index",
                })
            }
        })
        .collect()
}

/// What one node keeps of a blob, as placement sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holding {
    /// Shard indices it keeps.
    pub shards: Vec<usize>,
    /// Whether it keeps the whole blob (it read the document).
    pub whole: bool,
}

/// Which node repairs a blob this round: the one nearest the blob (XOR distance of
/// [`crate::dht`]) among those keeping it whole, else among those keeping a shard. One
/// repairer per blob keeps two nodes from rebuilding the same shard twice (repair traffic
/// is the price of erasure coding). `holdings` is aligned with `hotkeys`.
pub fn repairer<S: AsRef<str>>(blob: &Cid, hotkeys: &[S], holdings: &[Holding]) -> Option<usize> {
    let order = crate::dht::by_distance(&blob.to_string(), hotkeys);
    let first =
        |keep: &dyn Fn(&Holding) -> bool| order.iter().copied().find(|&i| keep(&holdings[i]));
    first(&|h| h.whole).or_else(|| first(&|h| !h.shards.is_empty()))
}

/// The shards a blob lacks and where they go: `(node, shard index)` pairs. A blob's `total`
/// nearest live nodes should each keep one distinct shard; an index kept nowhere goes to
/// the nearest node that keeps none (one of those `total` while any is free, else the next
/// in distance order). Shards stay where they are (an extra copy costs disk, a missing one
/// costs data). `holdings` is aligned with `hotkeys`, and holds only shards under the one
/// manifest the caller trusts.
pub fn gaps<S: AsRef<str>>(
    blob: &Cid,
    total: usize,
    hotkeys: &[S],
    holdings: &[Holding],
) -> Vec<(usize, usize)> {
    let present: std::collections::BTreeSet<usize> = holdings
        .iter()
        .flat_map(|h| h.shards.iter().copied())
        .collect();
    let missing = (0..total).filter(|i| !present.contains(i));
    let mut free = crate::dht::by_distance(&blob.to_string(), hotkeys);
    free.retain(|&i| holdings[i].shards.is_empty());
    free.into_iter().zip(missing).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 + i / 7) as u8).collect()
    }

    #[test]
    fn layouts_are_checked_at_every_boundary() {
        for (text, ok) in [
            ("1/2", true),
            ("4/6", true),
            ("63/64", true),
            ("0/2", false),
            ("2/2", false),
            ("3/2", false),
            ("64/65", false),
            ("4", false),
            ("a/b", false),
            ("", false),
        ] {
            assert_eq!(text.parse::<Layout>().is_ok(), ok, "{text}");
        }
        assert_eq!(DEFAULT_LAYOUT.to_string(), "4/6");
        assert_eq!(DEFAULT_LAYOUT.parity(), 2);
        assert!((DEFAULT_LAYOUT.overhead() - 1.5).abs() < 1e-9);
    }

    #[test]
    fn any_k_of_n_rebuild_every_size() {
        let layout = Layout::new(3, 5).unwrap();
        for size in [1usize, 2, 3, 5, 6, 7, 1000, 65_537] {
            let input = bytes(size);
            let (m, shards) = encode(&input, "application/pdf", layout).unwrap();
            m.check().unwrap();
            assert_eq!(shards.len(), 5);
            assert!(shards.iter().all(|s| s.len() == m.shard_len));
            // All ten 3-subsets of five.
            for mask in 0u32..32 {
                if mask.count_ones() != 3 {
                    continue;
                }
                let picked: Vec<(usize, &[u8])> = (0..5)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| (i, shards[i].as_slice()))
                    .collect();
                assert_eq!(
                    decode(&m, &picked).unwrap(),
                    input,
                    "size {size} mask {mask:b}"
                );
            }
        }
    }

    #[test]
    fn fewer_than_k_or_altered_shards_are_refused() {
        let input = bytes(10_000);
        let (m, shards) = encode(&input, "image/png", DEFAULT_LAYOUT).unwrap();
        let three: Vec<(usize, &[u8])> = (1..4).map(|i| (i, shards[i].as_slice())).collect();
        assert_eq!(
            decode(&m, &three),
            Err(CoreError::ErasureTooFew { have: 3, need: 4 })
        );
        // The same shard twice counts once.
        let twice: Vec<(usize, &[u8])> = [1, 1, 2, 3]
            .iter()
            .map(|&i| (i, shards[i].as_slice()))
            .collect();
        assert!(matches!(
            decode(&m, &twice),
            Err(CoreError::ErasureTooFew { .. })
        ));
        let mut bad = shards[5].clone();
        bad[0] ^= 1;
        let with_bad: Vec<(usize, &[u8])> =
            vec![(0, &shards[0]), (1, &shards[1]), (2, &shards[2]), (5, &bad)];
        assert!(matches!(
            decode(&m, &with_bad),
            Err(CoreError::ErasureShard { index: 5, .. })
        ));
        assert!(m.check_shard(6, &shards[0]).is_err());
        assert!(m.check_shard(0, &shards[0][1..]).is_err());
    }

    #[test]
    fn a_lying_manifest_is_caught_after_decoding() {
        let (mut m, shards) = encode(&bytes(4096), "text/html", DEFAULT_LAYOUT).unwrap();
        m.blob = Cid::for_content(b"another file");
        let all: Vec<(usize, &[u8])> = shards.iter().map(Vec::as_slice).enumerate().collect();
        assert!(matches!(
            decode(&m, &all),
            Err(CoreError::ErasureMismatch { .. })
        ));
        for (field, broken) in [
            ("total", {
                let mut b = m.clone();
                b.shards.pop();
                b
            }),
            ("shard_len", {
                let mut b = m.clone();
                b.shard_len += 2;
                b
            }),
            ("size", {
                let mut b = m.clone();
                b.size = 0;
                b
            }),
        ] {
            assert!(broken.check().is_err(), "{field}");
        }
    }

    #[test]
    fn rebuild_recreates_exactly_the_lost_shards() {
        let input = bytes(123_457);
        let (m, shards) = encode(&input, "application/pdf", DEFAULT_LAYOUT).unwrap();
        let survivors: Vec<(usize, &[u8])> = [0, 2, 4, 5]
            .iter()
            .map(|&i| (i, shards[i].as_slice()))
            .collect();
        let again = rebuild(&m, &survivors, &[1, 3]).unwrap();
        assert_eq!(again, vec![shards[1].clone(), shards[3].clone()]);
        assert!(rebuild(&m, &survivors, &[6]).is_err());
    }

    #[test]
    fn sizes_beyond_the_limit_are_refused_without_overflow() {
        let layout = Layout::new(1, 2).unwrap();
        assert!(layout.shard_len(u64::MAX) > 0);
        let (mut m, _) = encode(b"abc", "text/plain", layout).unwrap();
        m.size = u64::MAX;
        m.shard_len = layout.shard_len(m.size);
        assert!(m.check().is_err());
        m.size = MAX_BLOB_BYTES + 1;
        assert!(m.check().is_err());
    }

    #[test]
    fn shards_are_the_same_bytes_on_every_machine() {
        // Pinned once from this code: field arithmetic is exact, so any CPU (and any
        // later version of the codec) must produce these shard CIDs for this input.
        let (m, _) = encode(&bytes(5000), "application/octet-stream", DEFAULT_LAYOUT).unwrap();
        let joined: String = m
            .shards
            .iter()
            .map(|c| c.digest_hex()[..8].to_string())
            .collect();
        assert_eq!(joined, PINNED, "shard CIDs changed: {joined}");
    }

    #[test]
    fn the_simd_engine_equals_the_portable_one() {
        use reed_solomon_simd::engine::NoSimd;
        use reed_solomon_simd::rate::{DefaultRateEncoder, RateEncoder};
        let input = bytes(40_000);
        let (m, shards) = encode(&input, "application/pdf", DEFAULT_LAYOUT).unwrap();
        let mut portable = DefaultRateEncoder::new(4, 2, m.shard_len, NoSimd::new(), None).unwrap();
        for shard in &shards[..4] {
            portable.add_original_shard(shard).unwrap();
        }
        let result = portable.encode().unwrap();
        let parity: Vec<&[u8]> = result.recovery_iter().collect();
        assert_eq!(parity, [shards[4].as_slice(), shards[5].as_slice()]);
    }

    #[test]
    fn placement_fills_the_nearest_free_nodes_and_one_node_repairs() {
        let blob = Cid::for_content(b"a document");
        let hotkeys: Vec<String> = (0..8).map(|i| format!("node-{i}")).collect();
        let order = crate::dht::by_distance(&blob.to_string(), &hotkeys);
        let mut holdings = vec![Holding::default(); 8];
        // Nobody keeps anything: nobody repairs.
        assert_eq!(repairer(&blob, &hotkeys, &holdings), None);
        // The reader keeps it whole: it spreads all six to the six nearest.
        holdings[order[7]].whole = true;
        assert_eq!(repairer(&blob, &hotkeys, &holdings), Some(order[7]));
        let plan = gaps(&blob, 6, &hotkeys, &holdings);
        assert_eq!(plan, (0..6).map(|i| (order[i], i)).collect::<Vec<_>>());
        for (node, index) in plan {
            holdings[node].shards.push(index);
        }
        assert!(gaps(&blob, 6, &hotkeys, &holdings).is_empty());
        // The reader and the holder of shard 2 die: the nearest shard holder repairs, and
        // the lost index goes to the nearest node that keeps none.
        holdings[order[7]] = Holding::default();
        holdings[order[2]] = Holding::default();
        let alive: Vec<usize> = (0..8).filter(|&i| i != order[2] && i != order[7]).collect();
        let keys: Vec<&String> = alive.iter().map(|&i| &hotkeys[i]).collect();
        let held: Vec<Holding> = alive.iter().map(|&i| holdings[i].clone()).collect();
        let nearest = |node: usize| alive.iter().position(|&i| i == node).unwrap();
        assert_eq!(repairer(&blob, &keys, &held), Some(nearest(order[0])));
        assert_eq!(gaps(&blob, 6, &keys, &held), vec![(nearest(order[6]), 2)]);
    }

    const PINNED: &str = "fa85f74f05761d7359992c82720adbe2322f75d36f81b626";
}
