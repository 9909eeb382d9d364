//! The store: records in a Qdrant Edge shard, a journal in front, a commitment beside.
//!
//! Layout of `<data dir>/store/`: `shard/` (Qdrant Edge: segments, HNSW, payload),
//! `journal` (changes since the last checkpoint), `commitment` (leaf snapshot at the last
//! checkpoint) and `LOCK` (held while a process has the store open; it also guards
//! `<data dir>/blobs/`, see [`crate::Blobs`]). Writes are serialized
//! by one mutex, which also keeps Qdrant's flush from racing an update; a second one keeps
//! flushes and index builds apart; reads go straight to the shard.
//!
//! Each point carries two vectors: the embedding (unnamed, cosine, HNSW) and, when the
//! record has text, its BM25 term weights (`bm25`, sparse, IDF applied by Qdrant at query
//! time over the whole shard). Keyword search and hybrid search are queries on the same
//! shard — one engine, one copy of every record — and the sparse vector is derived from
//! the stored text, so it is in no CID and no commitment and is rebuilt, not journaled.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use engram_core::merkle::{v1, v2};
use engram_core::{Cid, EMBEDDING_DIM, validate_embedding};
use qdrant_edge::bm25_embed::{EdgeBm25, EdgeBm25Config};
use qdrant_edge::external::ordered_float::OrderedFloat;
use qdrant_edge::{
    Condition, CountRequest, CreateIndex, CreateVectorName, Distance, EdgeConfig,
    EdgeOptimizersConfig, EdgeShard, EdgeSparseVectorParams, EdgeVectorParams, FieldCondition,
    FieldIndexOperations, Filter, Fusion, HasVectorCondition, JsonPath, Match, Modifier,
    NamedQuery, PayloadFieldSchema, PayloadSchemaType, PointId, PointInsertOperations,
    PointOperations, PointStruct, PointVectorsPersisted, Prefetch, QuantizationConfig,
    QuantizationSearchParams, QueryEnum, QueryRequest, Range, Record as QRecord, ScoredPoint,
    ScoringQuery, ScrollRequest, SearchParams, SearchRequest, SparseVector, SparseVectorConfig,
    UpdateOperation, UpdateVectorsOp, ValueVariants, Vector, VectorInternal, VectorNameConfig,
    VectorNameOperations, VectorOperations, VectorStructInternal, Vectors, WithPayloadInterface,
    WithVector,
};
use serde_json::Value;

use crate::commitment::{Commitment, Leaves};
use crate::error::{StoreError, io};
use crate::journal::{Entry, Journal};
use crate::record::{F_CID, F_EXPIRES, F_META, F_NS, Record, point_id, point_key};

/// Journal size that triggers a checkpoint.
const CHECKPOINT_BYTES: u64 = 16 << 20;
/// HNSW beam width at query time; recall@10 ≥ 0.99 at 100k vectors (docs/benchmarks.md).
const SEARCH_EF: usize = 128;
/// Vector bytes (1,536 per record) above which a segment gets an HNSW index: ~1,000 records.
const INDEXING_THRESHOLD_KB: usize = 1_500;
/// Segments the merge optimizer aims for: new segments merge with each other, not into the
/// largest one.
const SEGMENTS: usize = 4;
/// Candidates re-scored on the original vectors, as a multiple of `top_k`.
const RESCORE_OVERSAMPLING: f64 = 2.0;
/// The sparse vector of BM25 term weights.
const BM25: &str = "bm25";
/// Written once every stored text has its BM25 vector: a store made before hybrid search
/// is backfilled on open until this exists (the backfill is idempotent).
const BM25_MARKER: &str = "bm25-v1";
/// Left by stores of an earlier version after a delete, asking the next open to remove
/// Qdrant Edge's write-ahead log without continuing its operation numbers (which made later
/// deletes of older points no-ops; see [`continue_numbering`]). Removed on open: a delete
/// now recycles the log at once ([`Store::recycle_wal`]).
const WAL_PURGE_MARKER: &str = "wal-purge";
/// Qdrant Edge's write-ahead log inside the shard directory.
const WAL_DIR: &str = "wal";
/// Written before a recycle removes the WAL and removed once the new log's numbering is
/// continued ([`continue_numbering`]): an open that finds it (a crash in between) numbers
/// again. Advancing further than needed is harmless; stopping short is not.
const WAL_RENUMBER_MARKER: &str = "wal-renumber";
/// The WAL size past which a checkpoint recycles it ([`Store::recycle_wal`]): about
/// 80,000 records' worth, so a store that only grows reloads its shard rarely.
const WAL_RECYCLE_BYTES: u64 = 256 << 20;
/// Reciprocal rank fusion's k in Qdrant's form `1 / (rank + k - 1)` (1-based rank): the
/// classic RRF constant 60 of Cormack et al., which damps the head of each list.
const RRF_K: usize = 61;
/// Candidates each ranking contributes to a fusion, as a multiple of `top_k` (at least
/// [`FUSION_MIN_CANDIDATES`]): a memory ranked low by one and high by the other must be in
/// both lists to be fused.
const FUSION_OVERSAMPLING: usize = 3;
/// Smallest candidate list per ranking in a fusion.
const FUSION_MIN_CANDIDATES: usize = 50;

/// What an upsert did with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// The record is new and now stored.
    Stored,
    /// The same CID was already in that namespace; nothing changed.
    Existing,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Cosine similarity to the query ([`Ranking::Dense`]), BM25 score
    /// ([`Ranking::Keyword`]) or reciprocal-rank-fusion score ([`Ranking::Hybrid`]).
    pub score: f32,
    /// The stored record.
    pub record: Record,
}

/// What to search.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery<'a> {
    /// Only this namespace.
    pub namespace: &'a str,
    /// Metadata equality filters (`key == value`), all of which must hold.
    pub filters: &'a [(String, Value)],
}

/// How a search ranks records.
#[derive(Debug, Clone, Copy)]
pub enum Ranking<'a> {
    /// By cosine similarity to this vector.
    Dense(&'a [f32]),
    /// By BM25 over the stored texts for these words (records without text never match).
    Keyword(&'a str),
    /// Both, fused by reciprocal rank fusion; the keyword list weighs `keyword_weight`
    /// against the dense list's 1 (see [`engram_core::search::validate_keyword_weight`]).
    Hybrid {
        /// The query's embedding.
        vector: &'a [f32],
        /// The query's words.
        text: &'a str,
        /// The keyword ranking's weight.
        keyword_weight: f32,
    },
}

impl Ranking<'_> {
    /// The search mode this ranking is.
    pub fn mode(&self) -> engram_core::search::SearchMode {
        use engram_core::search::SearchMode;
        match self {
            Ranking::Dense(_) => SearchMode::Dense,
            Ranking::Keyword(_) => SearchMode::Keyword,
            Ranking::Hybrid { .. } => SearchMode::Hybrid,
        }
    }
}

struct WriteState {
    journal: Journal,
    leaves: Leaves,
}

/// A durable, searchable set of memories in one data directory.
pub struct Store {
    dir: PathBuf,
    /// The Qdrant Edge shard; `None` only inside [`Store::recycle_wal`], between dropping
    /// the old handle and loading the new. Reads and writes share it; a recycle takes it
    /// alone.
    shard: std::sync::RwLock<Option<EdgeShard>>,
    state: Mutex<WriteState>,
    /// Held by index builds and by flushes: Qdrant Edge's flush panics if it meets the
    /// segment lock an index build takes, while plain updates run alongside both.
    maintenance: Mutex<()>,
    /// Records stored (the leaves' count), readable without the write lock.
    count: std::sync::atomic::AtomicUsize,
    blobs: crate::blobs::Blobs,
    shards: crate::shards::Shards,
    bm25: EdgeBm25,
    /// Whether any record was ever stored with an expiry: until one is, searches carry no
    /// expiry condition (most stores, all public ones, never have one).
    expiring: std::sync::atomic::AtomicBool,
    /// Points holding a BM25 vector, [`UNCOUNTED`] until counted: kept beside the writes
    /// (under the write lock) so that [`Store::unindexed`], which validators' `/stats`
    /// polls, does not scan every point each time; a delete or a replay makes it unknown.
    texted: std::sync::atomic::AtomicUsize,
    _lock: File,
}

/// [`Store::texted`] not known: count on the next read.
const UNCOUNTED: usize = usize::MAX;

/// Int8 scalar quantization kept in RAM: HNSW walks the graph on one-byte components
/// (a quarter of the memory traffic of f32), then the best candidates are re-scored on the
/// original vectors, so returned scores are exact cosines.
fn quantization() -> QuantizationConfig {
    // Qdrant Edge re-exports the enum but not its `ScalarQuantization` wrapper; its serde
    // form is the documented configuration format.
    serde_json::from_value(serde_json::json!({
        "scalar": {"type": "int8", "quantile": 0.99, "always_ram": true}
    }))
    .expect("scalar quantization config is valid")
}

fn shard_config() -> EdgeConfig {
    EdgeConfig::builder()
        .vector(
            "",
            EdgeVectorParams::builder(EMBEDDING_DIM, Distance::Cosine)
                .quantization_config(quantization())
                .build(),
        )
        .sparse_vector(
            BM25,
            EdgeSparseVectorParams::builder()
                .modifier(Modifier::Idf)
                .build(),
        )
        .on_disk_payload(true)
        .optimizers(optimizers())
        .build()
}

/// Qdrant's BM25 with its defaults (k1 1.2, b 0.75, average length 256 tokens, English
/// stop words and Snowball stemmer, the same token ids as Qdrant's server): changing any
/// of them changes every stored weight, so they are fixed with [`BM25_MARKER`]'s version.
fn bm25() -> EdgeBm25 {
    EdgeBm25::new(EdgeBm25Config::default()).expect("Qdrant's default BM25 config is valid")
}

/// Adds the `bm25` sparse vector to a shard made before it existed (every segment, then
/// the shard's config); its points get their weights from [`Store::backfill_bm25`].
fn add_bm25(shard: &EdgeShard) -> Result<(), StoreError> {
    if shard.config().sparse_vectors.contains_key(BM25) {
        return Ok(());
    }
    shard.update(UpdateOperation::VectorNameOperation(
        VectorNameOperations::CreateVectorName(CreateVectorName {
            vector_name: BM25.into(),
            config: VectorNameConfig::sparse(SparseVectorConfig {
                modifier: Some(Modifier::Idf),
                datatype: None,
            }),
        }),
    ))?;
    Ok(())
}

/// A read hold on the open shard.
struct ShardGuard<'a>(std::sync::RwLockReadGuard<'a, Option<EdgeShard>>);

impl std::ops::Deref for ShardGuard<'_> {
    type Target = EdgeShard;

    fn deref(&self) -> &EdgeShard {
        // Only a recycle whose reload failed leaves no shard; it returned that error, and
        // the store cannot serve without its segments.
        self.0
            .as_ref()
            .expect("the store's shard could not be reloaded after recycling its WAL")
    }
}

/// Removes the shard's write-ahead log directory, if any.
fn remove_wal(shard_dir: &Path) -> Result<(), StoreError> {
    let wal = shard_dir.join(WAL_DIR);
    match std::fs::remove_dir_all(&wal) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(io("removing the shard's write-ahead log", &wal)(e))
        }
        _ => Ok(()),
    }
}

/// Bytes in the shard's write-ahead log directory (0 when unreadable).
fn wal_bytes(shard_dir: &Path) -> u64 {
    std::fs::read_dir(shard_dir.join(WAL_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Numbers the shard's next operations past every version its segments hold, when its
/// write-ahead log was started afresh (a restored snapshot leaves it out). Qdrant Edge
/// numbers an operation by its WAL index and a segment skips one numbered below the
/// version of the point it touches: without this, deleting a restored memory would be a
/// silent no-op. Edge 0.7.2 keeps its WAL's starting index private, so the log is advanced
/// with empty deletes (a few bytes each: 5,000 added 3 ms to an open on an AMD EPYC) up to one past
/// the highest version found in the segments' `segment.json`; then `marker` (the recycle's
/// [`WAL_RENUMBER_MARKER`], absent or not) is removed, as the numbering is done.
fn continue_numbering(
    shard: &EdgeShard,
    shard_dir: &Path,
    marker: &Path,
) -> Result<(), StoreError> {
    let segments = shard_dir.join("segments");
    let mut highest = None;
    for entry in std::fs::read_dir(&segments)
        .map_err(io("listing segments", &segments))?
        .flatten()
    {
        let path = entry.path().join("segment.json");
        let Ok(bytes) = std::fs::read(&path) else {
            continue; // not a segment (a temporary or hidden directory)
        };
        let version = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("version")?.as_u64())
            .ok_or_else(|| StoreError::Corrupt {
                id: path.display().to_string(),
                reason: "a segment without a version".into(),
            })?;
        highest = highest.max(Some(version));
    }
    for _ in 0..highest.map_or(0, |v| v + 1) {
        shard.update(UpdateOperation::PointOperation(
            PointOperations::DeletePoints { ids: Vec::new() },
        ))?;
    }
    engram_os::remove_durable(marker).map_err(io("removing the WAL renumber marker", marker))?;
    Ok(())
}

/// Loads a shard. Adding the sparse vector writes the segments before the shard's config,
/// so a crash between the two leaves segments the recorded config refuses: then the
/// current config, which has it, is the right one.
fn load_shard(dir: &Path) -> Result<EdgeShard, StoreError> {
    match EdgeShard::load(dir, None) {
        Ok(shard) => Ok(shard),
        Err(first) => EdgeShard::load(dir, Some(shard_config())).map_err(|_| first.into()),
    }
}

/// Segments are indexed once their vectors pass [`INDEXING_THRESHOLD_KB`]; below it a
/// segment is searched by brute force. Qdrant's defaults (10,000 KB, ~6,500 of our vectors;
/// two segments on two CPUs, so every new segment was merged into the largest and its HNSW
/// rebuilt for 26 s) left a tail of 6,800 vectors (max 13,400) under 1,000 writes/s; these
/// keep it at 1,100 (max 2,800), for ~25% slower queries than one merged segment
/// (docs/benchmarks.md, "store").
fn optimizers() -> EdgeOptimizersConfig {
    EdgeOptimizersConfig {
        indexing_threshold: Some(INDEXING_THRESHOLD_KB),
        default_segment_number: Some(SEGMENTS),
        ..Default::default()
    }
}

fn field_index(
    shard: &EdgeShard,
    field: &str,
    schema: PayloadSchemaType,
) -> Result<(), StoreError> {
    shard.update(UpdateOperation::FieldIndexOperation(
        FieldIndexOperations::CreateIndex(CreateIndex {
            field_name: json_path(field)?,
            field_schema: Some(PayloadFieldSchema::FieldType(schema)),
        }),
    ))?;
    Ok(())
}

/// Records whose time to live ran out by `now_ms`.
fn expired_by(now_ms: u64) -> Result<Condition, StoreError> {
    Ok(Condition::Field(FieldCondition::new_range(
        json_path(F_EXPIRES)?,
        Range {
            lt: None,
            gt: None,
            gte: None,
            // Milliseconds stay below 2^53: exact in an f64.
            lte: Some(OrderedFloat(now_ms as f64)),
        },
    )))
}

fn json_path(path: &str) -> Result<JsonPath, StoreError> {
    path.parse().map_err(|_| StoreError::BadFilter {
        key: path.to_string(),
        reason: "not a valid field path".into(),
    })
}

fn field_match(path: &str, value: ValueVariants) -> Result<Condition, StoreError> {
    Ok(Condition::Field(FieldCondition::new_match(
        json_path(path)?,
        Match::new_value(value),
    )))
}

fn meta_condition(key: &str, value: &Value) -> Result<Condition, StoreError> {
    let bad = |reason: &str| StoreError::BadFilter {
        key: key.to_string(),
        reason: reason.to_string(),
    };
    if key.is_empty() || key.contains('"') || key.contains('\\') {
        return Err(bad(
            "keys must be non-empty and contain no quote or backslash",
        ));
    }
    let variant = match value {
        Value::String(s) => ValueVariants::String(s.clone()),
        Value::Bool(b) => ValueVariants::Bool(*b),
        Value::Number(n) => ValueVariants::Integer(
            n.as_i64()
                .ok_or_else(|| bad("only integer numbers can be matched"))?,
        ),
        _ => return Err(bad("only strings, integers and booleans can be matched")),
    };
    field_match(&format!("{F_META}.\"{key}\""), variant)
}

/// The namespace and metadata conditions of a search or listing; with `expiring`,
/// expired records are out of every answer even before the sweep removes them.
fn scope_filter(query: &SearchQuery<'_>, expiring: bool) -> Result<Filter, StoreError> {
    let mut conditions = vec![field_match(
        F_NS,
        ValueVariants::String(query.namespace.to_string()),
    )?];
    for (k, v) in query.filters {
        conditions.push(meta_condition(k, v)?);
    }
    let mut filter = all_of(conditions);
    if expiring {
        filter.must_not = Some(vec![expired_by(engram_os::now_ms())?]);
    }
    Ok(filter)
}

fn all_of(conditions: Vec<Condition>) -> Filter {
    Filter {
        should: None,
        min_should: None,
        must: Some(conditions),
        must_not: None,
    }
}

impl Store {
    /// Opens the store in `data_dir`, creating it when absent, and re-applies any journal
    /// entries a crash left behind.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another process has it open, [`StoreError::Io`] or
    /// [`StoreError::Engine`] when its files cannot be used.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let dir = data_dir.join("store");
        std::fs::create_dir_all(&dir).map_err(io("creating store directory", &dir))?;
        let lock_path = dir.join("LOCK");
        let lock = File::create(&lock_path).map_err(io("creating lock file", &lock_path))?;
        if lock.try_lock().is_err() {
            return Err(StoreError::Locked {
                path: data_dir.to_path_buf(),
            });
        }

        let shard_dir = dir.join("shard");
        let fresh = !shard_dir.join("edge_config.json").exists();
        std::fs::create_dir_all(&shard_dir).map_err(io("creating shard directory", &shard_dir))?;
        let purge = dir.join(WAL_PURGE_MARKER);
        engram_os::remove_durable(&purge).map_err(io("removing the WAL purge marker", &purge))?;
        let shard = if fresh {
            let shard = EdgeShard::new(&shard_dir, shard_config())?;
            field_index(&shard, F_NS, PayloadSchemaType::Keyword)?;
            field_index(&shard, F_CID, PayloadSchemaType::Keyword)?;
            field_index(&shard, F_EXPIRES, PayloadSchemaType::Integer)?;
            engram_os::write_atomic(&dir.join(BM25_MARKER), b"")
                .map_err(io("writing the BM25 marker", &dir))?;
            shard
        } else {
            let renumber = dir.join(WAL_RENUMBER_MARKER);
            let wal_lost = !shard_dir.join(WAL_DIR).exists() || renumber.exists();
            let shard = load_shard(&shard_dir)?;
            if wal_lost {
                continue_numbering(&shard, &shard_dir, &renumber)?;
            }
            // Stores created before a tuning change get the current optimizer settings.
            if shard.config().optimizers != optimizers() {
                shard.set_optimizers_config(optimizers())?;
            }
            add_bm25(&shard)?;
            // Stores from before expiry get the index the sweep reads.
            if !shard
                .info()
                .payload_schema
                .keys()
                .any(|k| k.to_string() == F_EXPIRES)
            {
                field_index(&shard, F_EXPIRES, PayloadSchemaType::Integer)?;
            }
            shard
        };

        let (journal, pending) = Journal::open(&dir.join("journal"))?;
        let blobs = crate::blobs::Blobs::open(data_dir)?;
        let shards = crate::shards::Shards::open(data_dir)?;
        let mut store = Self {
            dir,
            shard: std::sync::RwLock::new(Some(shard)),
            state: Mutex::new(WriteState {
                journal,
                leaves: Leaves::default(),
            }),
            maintenance: Mutex::new(()),
            count: std::sync::atomic::AtomicUsize::new(0),
            blobs,
            shards,
            bm25: bm25(),
            expiring: std::sync::atomic::AtomicBool::new(false),
            texted: std::sync::atomic::AtomicUsize::new(UNCOUNTED),
            _lock: lock,
        };
        let leaves = match Leaves::load(&store.commitment_path()) {
            Some(leaves) => leaves,
            None => store.rebuild_leaves()?,
        };
        *store.count.get_mut() = leaves.len();
        store.state.get_mut().expect("fresh mutex").leaves = leaves;
        if !pending.is_empty() {
            let mut state = store.lock();
            for entry in &pending {
                store.apply(&mut state, entry)?;
            }
            let _m = store.maintenance.lock().unwrap_or_else(|p| p.into_inner());
            store.checkpoint_locked(&mut state)?;
        }
        if !store.dir.join(BM25_MARKER).exists() {
            store.backfill_bm25()?;
        }
        let any_expiry = all_of(vec![Condition::Field(FieldCondition::new_range(
            json_path(F_EXPIRES)?,
            Range {
                lt: None,
                gt: None,
                gte: Some(OrderedFloat(0.0)),
                lte: None,
            },
        ))]);
        let expiring = store.shard().count(CountRequest {
            filter: Some(any_expiry),
            exact: true,
        })? > 0;
        *store.expiring.get_mut() = expiring;
        store.expire(engram_os::now_ms())?;
        Ok(store)
    }

    fn expiring(&self) -> bool {
        self.expiring.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Gives every stored text its BM25 vector (a store made before hybrid search), then
    /// writes [`BM25_MARKER`].
    fn backfill_bm25(&self) -> Result<(), StoreError> {
        let mut cursor = None;
        loop {
            let (page, next) = self.scroll(None, cursor, 1024)?;
            let points: Vec<PointVectorsPersisted> = page
                .iter()
                .filter_map(|r| {
                    let sparse = self.sparse(r)?;
                    let named = VectorStructInternal::Named(
                        [(BM25.to_string(), VectorInternal::from(sparse))]
                            .into_iter()
                            .collect(),
                    );
                    Some(PointVectorsPersisted {
                        id: point_id(r.key()),
                        vector: named.into(),
                    })
                })
                .collect();
            if !points.is_empty() {
                self.shard().update(UpdateOperation::VectorOperation(
                    VectorOperations::UpdateVectors(UpdateVectorsOp {
                        points,
                        update_filter: None,
                    }),
                ))?;
            }
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        self.shard().flush();
        engram_os::write_atomic(&self.dir.join(BM25_MARKER), b"")
            .map_err(io("writing the BM25 marker", &self.dir))
    }

    /// The BM25 weights of a record's text; none without text or when every word is a
    /// stop word.
    fn sparse(&self, record: &Record) -> Option<SparseVector> {
        let sparse = self.bm25.embed_document(record.text.as_deref()?);
        (!sparse.indices.is_empty()).then_some(sparse)
    }

    /// The raw files kept beside the records, under the same data-directory lock.
    pub fn blobs(&self) -> &crate::blobs::Blobs {
        &self.blobs
    }

    /// The erasure-code shards held for the network, under the same lock.
    pub fn shards(&self) -> &crate::shards::Shards {
        &self.shards
    }

    fn commitment_path(&self) -> PathBuf {
        self.dir.join("commitment")
    }

    fn lock(&self) -> MutexGuard<'_, WriteState> {
        // A panic mid-write leaves the journal as the source of truth; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn apply(&self, state: &mut WriteState, entry: &Entry) -> Result<(), StoreError> {
        match entry {
            Entry::Upsert(record) => {
                // A replayed upsert may find its point there already: count again later.
                self.texted
                    .store(UNCOUNTED, std::sync::atomic::Ordering::Relaxed);
                self.write_points(std::slice::from_ref(record))?;
                state
                    .leaves
                    .add(record.key(), &record.cid, &record.embedding_hash());
                self.counted(state);
            }
            Entry::Delete { namespace, cid } => {
                self.texted
                    .store(UNCOUNTED, std::sync::atomic::Ordering::Relaxed);
                let key = point_key(namespace, cid);
                self.shard().update(UpdateOperation::PointOperation(
                    PointOperations::DeletePoints {
                        ids: vec![point_id(key)],
                    },
                ))?;
                state.leaves.remove(key);
                self.counted(state);
            }
        }
        Ok(())
    }

    fn counted(&self, state: &WriteState) {
        self.count
            .store(state.leaves.len(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Writes `records` as points; how many carry a BM25 vector.
    fn write_points(&self, records: &[Record]) -> Result<usize, StoreError> {
        let mut texted = 0;
        let points = records
            .iter()
            .map(|r| {
                let vectors = match self.sparse(r) {
                    Some(sparse) => {
                        texted += 1;
                        Vectors::new_named([
                            ("", Vector::new_dense(r.vector.clone())),
                            (BM25, Vector::from(sparse)),
                        ])
                    }
                    None => Vectors::from(r.vector.clone()),
                };
                PointStruct::new(point_id(r.key()), vectors, r.to_payload()).into()
            })
            .collect();
        self.shard().update(UpdateOperation::PointOperation(
            PointOperations::UpsertPoints(PointInsertOperations::PointsList(points)),
        ))?;
        Ok(texted)
    }

    /// Stores records; a record whose CID is already in its namespace is left as it is,
    /// except that one stored again with an expiry takes the new expiry (a refresh; the
    /// CID does not cover it). Either every record is validated and written, or (on
    /// invalid input) none is.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a vector of the wrong dimension or with NaN/inf;
    /// [`StoreError::Io`]/[`StoreError::Engine`] when writing fails.
    pub fn upsert(&self, records: Vec<Record>) -> Result<Vec<Upserted>, StoreError> {
        for r in &records {
            validate_embedding(&r.vector)?;
        }
        let mut state = self.lock();
        let existing = self.existing_keys(records.iter().map(Record::key))?;
        let mut seen = std::collections::HashSet::new();
        let mut outcomes = Vec::with_capacity(records.len());
        let (mut fresh, mut refreshed) = (Vec::new(), Vec::new());
        for r in records {
            let key = r.key();
            if existing.contains(&key) || !seen.insert(key) {
                outcomes.push(Upserted::Existing);
                // Stored again with a time to live: the newest one holds (a refresh).
                if let Some(at) = r.expires_ms
                    && let Some(mut stored) = self.get(&r.namespace, &r.cid)?
                    && stored.expires_ms != Some(at)
                {
                    stored.expires_ms = Some(at);
                    refreshed.push(stored);
                }
            } else {
                outcomes.push(Upserted::Stored);
                fresh.push(r);
            }
        }
        if fresh.is_empty() && refreshed.is_empty() {
            return Ok(outcomes);
        }
        if fresh
            .iter()
            .chain(&refreshed)
            .any(|r| r.expires_ms.is_some())
        {
            self.expiring
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let entries: Vec<Entry> = fresh
            .iter()
            .chain(&refreshed)
            .cloned()
            .map(Entry::Upsert)
            .collect();
        state.journal.append(&entries)?;
        if !refreshed.is_empty() {
            // The same points rewritten (same vectors, new expiry): nothing to count.
            self.write_points(&refreshed)?;
        }
        let texted = if fresh.is_empty() {
            0
        } else {
            self.write_points(&fresh)?
        };
        // Fresh points only (existing keys were skipped above), under the write lock.
        let _ = self.texted.fetch_update(
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
            |n| {
                if n == UNCOUNTED {
                    None
                } else {
                    Some(n + texted)
                }
            },
        );
        for r in &fresh {
            state.leaves.add(r.key(), &r.cid, &r.embedding_hash());
        }
        self.counted(&state);
        if state.journal.len() > CHECKPOINT_BYTES {
            // An index build in progress defers the checkpoint to a later write.
            if let Ok(_m) = self.maintenance.try_lock() {
                self.checkpoint_locked(&mut state)?;
            }
        }
        Ok(outcomes)
    }

    fn existing_keys(
        &self,
        keys: impl Iterator<Item = [u8; 16]>,
    ) -> Result<std::collections::HashSet<[u8; 16]>, StoreError> {
        let ids: Vec<PointId> = keys.map(point_id).collect();
        let found = self.shard().retrieve(
            &ids,
            Some(WithPayloadInterface::Bool(false)),
            Some(WithVector::Bool(false)),
        )?;
        Ok(found
            .into_iter()
            .filter_map(|r| match r.id {
                PointId::Uuid(u) => Some(*u.as_bytes()),
                PointId::NumId(_) => None,
            })
            .collect())
    }

    fn decode(record: QRecord) -> Result<Record, StoreError> {
        let payload = record.payload.unwrap_or_default();
        Record::from_payload(&record.id, &payload.0)
    }

    /// The record with `cid` in `namespace`, if stored.
    ///
    /// # Errors
    /// [`StoreError::Engine`] or [`StoreError::Corrupt`].
    pub fn get(&self, namespace: &str, cid: &Cid) -> Result<Option<Record>, StoreError> {
        let id = point_id(point_key(namespace, cid));
        let found = self.shard().retrieve(
            &[id],
            Some(WithPayloadInterface::Bool(true)),
            Some(WithVector::Bool(false)),
        )?;
        found.into_iter().next().map(Self::decode).transpose()
    }

    /// Deletes the record with `cid` in `namespace`, and forgets it: false when there was
    /// none. Once this returns, the record is in no answer and not in the commitment, and
    /// no file of the store holds it: the journal is checkpointed (emptied), the segments
    /// that held the point are rewritten without it (a vacuum, which rebuilds their HNSW
    /// index: a delete costs as much as indexing the segment it was in), and Qdrant Edge's
    /// write-ahead log, which still held the original write, is replaced by an empty one
    /// ([`Store::recycle_wal`]; reads wait for the shard's reload).
    ///
    /// # Errors
    /// [`StoreError::Io`] or [`StoreError::Engine`].
    pub fn delete(&self, namespace: &str, cid: &Cid) -> Result<bool, StoreError> {
        Ok(self.forget(&[(namespace.to_string(), *cid)])? == 1)
    }

    /// Removes every record whose time to live ran out by `now_ms`, as [`Store::delete`]
    /// does (journal, commitment, vacuum, WAL): the sweep a node runs with its index builds
    /// and every open runs first. Returns how many went.
    ///
    /// # Errors
    /// [`StoreError::Io`] or [`StoreError::Engine`].
    pub fn expire(&self, now_ms: u64) -> Result<usize, StoreError> {
        if !self.expiring() {
            return Ok(0);
        }
        let due = all_of(vec![expired_by(now_ms)?]);
        let (mut keys, mut cursor) = (Vec::new(), None);
        loop {
            let (page, next) = self.shard().scroll(ScrollRequest {
                offset: cursor,
                limit: Some(1024),
                filter: Some(due.clone()),
                with_payload: Some(WithPayloadInterface::Bool(true)),
                with_vector: WithVector::Bool(false),
                order_by: None,
            })?;
            for r in page {
                let r = Self::decode(r)?;
                keys.push((r.namespace, r.cid));
            }
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        if keys.is_empty() {
            return Ok(0);
        }
        self.forget(&keys)
    }

    /// Deletes the records stored under `keys` (namespace, CID; the absent ones are
    /// skipped) as [`Store::delete`] does, in one journal write and one vacuum; how many
    /// were there.
    ///
    /// # Errors
    /// [`StoreError::Io`] or [`StoreError::Engine`].
    pub fn forget(&self, keys: &[(String, Cid)]) -> Result<usize, StoreError> {
        // Maintenance before state, as everywhere: the vacuum below must not meet an
        // index build.
        let _m = self.maintenance.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = self.lock();
        let mut present = self.existing_keys(keys.iter().map(|(ns, cid)| point_key(ns, cid)))?;
        let entries: Vec<Entry> = keys
            .iter()
            // `remove`: a key named twice is deleted once.
            .filter(|(ns, cid)| present.remove(&point_key(ns, cid)))
            .map(|(ns, cid)| Entry::Delete {
                namespace: ns.clone(),
                cid: *cid,
            })
            .collect();
        if entries.is_empty() {
            return Ok(0);
        }
        state.journal.append(&entries)?;
        for entry in &entries {
            self.apply(&mut state, entry)?;
        }
        self.checkpoint_locked(&mut state)?;
        self.vacuum()?;
        self.recycle_wal()?;
        Ok(entries.len())
    }

    /// Rewrites every segment holding a deleted point, so deleted payloads, vectors and
    /// index links leave the files; then the usual settings again.
    fn vacuum(&self) -> Result<(), StoreError> {
        self.shard().set_optimizers_config(EdgeOptimizersConfig {
            deleted_threshold: Some(0.0),
            vacuum_min_vector_number: Some(1),
            ..optimizers()
        })?;
        let vacuumed = self.shard().optimize();
        self.shard().set_optimizers_config(optimizers())?;
        vacuumed?;
        self.shard().flush();
        Ok(())
    }

    /// Number of records, in one namespace or in all.
    ///
    /// # Errors
    /// [`StoreError::Engine`].
    pub fn count(&self, namespace: Option<&str>) -> Result<u64, StoreError> {
        let filter = namespace
            .map(|ns| {
                field_match(F_NS, ValueVariants::String(ns.to_string())).map(|c| all_of(vec![c]))
            })
            .transpose()?;
        Ok(self.shard().count(CountRequest {
            filter,
            exact: true,
        })? as u64)
    }

    /// A page of records in point-id order; pass the returned cursor to continue.
    ///
    /// # Errors
    /// [`StoreError::Engine`] or [`StoreError::Corrupt`].
    pub fn scroll(
        &self,
        namespace: Option<&str>,
        cursor: Option<Cursor>,
        limit: usize,
    ) -> Result<(Vec<Record>, Option<Cursor>), StoreError> {
        let filter = namespace
            .map(|ns| {
                field_match(F_NS, ValueVariants::String(ns.to_string())).map(|c| all_of(vec![c]))
            })
            .transpose()?;
        let (records, next) = self.shard().scroll(ScrollRequest {
            offset: cursor.map(|c| c.0),
            limit: Some(limit.max(1)),
            filter,
            with_payload: Some(WithPayloadInterface::Bool(true)),
            with_vector: WithVector::Bool(false),
            order_by: None,
        })?;
        let records = records
            .into_iter()
            .map(Self::decode)
            .collect::<Result<_, _>>()?;
        Ok((records, next.map(Cursor)))
    }

    /// Records of one namespace whose metadata matches every filter, in the store's
    /// stable order: `limit` of them after skipping `offset`. The skipped records are read
    /// and dropped (Qdrant pages by cursor, not by position), so a deep `offset` costs
    /// time in proportion to it.
    ///
    /// # Errors
    /// [`StoreError::BadFilter`] or [`StoreError::Engine`].
    pub fn list(
        &self,
        query: &SearchQuery<'_>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let filter = scope_filter(query, self.expiring())?;
        let (mut skip, mut out, mut cursor) = (offset, Vec::new(), None);
        while out.len() < limit {
            let page = (skip + limit - out.len()).min(1024);
            let (records, next) = self.shard().scroll(ScrollRequest {
                offset: cursor,
                limit: Some(page),
                filter: Some(filter.clone()),
                with_payload: Some(WithPayloadInterface::Bool(true)),
                with_vector: WithVector::Bool(false),
                order_by: None,
            })?;
            for r in records {
                if skip > 0 {
                    skip -= 1;
                } else if out.len() < limit {
                    out.push(Self::decode(r)?);
                }
            }
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        Ok(out)
    }

    /// The `top_k` records nearest to `vector` by cosine similarity, best first.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad query vector, [`StoreError::BadFilter`], or
    /// [`StoreError::Engine`].
    pub fn search(
        &self,
        vector: &[f32],
        top_k: usize,
        query: &SearchQuery<'_>,
    ) -> Result<Vec<Hit>, StoreError> {
        self.rank(Ranking::Dense(vector), top_k, query)
    }

    /// The `top_k` best records by `ranking`, best first. A keyword query of stop words
    /// only finds nothing; a hybrid one then ranks by meaning alone.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a bad query vector or keyword weight,
    /// [`StoreError::BadFilter`], or [`StoreError::Engine`].
    pub fn rank(
        &self,
        ranking: Ranking<'_>,
        top_k: usize,
        query: &SearchQuery<'_>,
    ) -> Result<Vec<Hit>, StoreError> {
        let filter = scope_filter(query, self.expiring())?;
        let points = match ranking {
            Ranking::Dense(vector) => {
                validate_embedding(vector)?;
                self.shard().search(dense_request(vector, top_k, filter))?
            }
            Ranking::Keyword(text) => {
                let sparse = self.bm25.embed_query(text);
                if sparse.indices.is_empty() {
                    return Ok(Vec::new());
                }
                self.shard().search(SearchRequest {
                    query: sparse_query(sparse),
                    filter: Some(filter),
                    params: None,
                    limit: top_k,
                    offset: 0,
                    with_payload: Some(WithPayloadInterface::Bool(true)),
                    with_vector: Some(WithVector::Bool(false)),
                    score_threshold: None,
                })?
            }
            Ranking::Hybrid {
                vector,
                text,
                keyword_weight,
            } => {
                validate_embedding(vector)?;
                engram_core::search::validate_keyword_weight(f64::from(keyword_weight))?;
                let sparse = self.bm25.embed_query(text);
                if sparse.indices.is_empty() {
                    self.shard().search(dense_request(vector, top_k, filter))?
                } else {
                    let candidates = (top_k * FUSION_OVERSAMPLING).max(FUSION_MIN_CANDIDATES);
                    let dense = dense_request(vector, candidates, filter.clone());
                    self.shard().query(QueryRequest {
                        prefetches: vec![
                            Prefetch {
                                prefetches: Vec::new(),
                                query: Some(ScoringQuery::Vector(dense.query)),
                                limit: candidates,
                                params: dense.params,
                                filter: None,
                                score_threshold: None,
                            },
                            Prefetch {
                                prefetches: Vec::new(),
                                query: Some(ScoringQuery::Vector(sparse_query(sparse))),
                                limit: candidates,
                                params: None,
                                filter: None,
                                score_threshold: None,
                            },
                        ],
                        query: Some(ScoringQuery::Fusion(Fusion::Rrf {
                            k: RRF_K,
                            weights: Some(vec![OrderedFloat(1.0), OrderedFloat(keyword_weight)]),
                        })),
                        // Applied to both prefetches.
                        filter: Some(filter),
                        score_threshold: None,
                        limit: top_k,
                        offset: 0,
                        params: None,
                        with_vector: WithVector::Bool(false),
                        with_payload: WithPayloadInterface::Bool(true),
                    })?
                }
            }
        };
        points.into_iter().map(hit).collect()
    }

    /// Records stored, every namespace counted: what the commitment covers, without
    /// computing its roots or waiting for a write in progress.
    pub fn len(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The current commitment (count and Merkle roots), recomputed only after a change.
    pub fn commitment(&self) -> Commitment {
        self.lock().leaves.commitment()
    }

    /// The v1 and v2 inclusion proofs of `cid` (looked up in `namespace`).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] with `NotAMember` when the CID is not stored.
    pub fn prove(
        &self,
        namespace: &str,
        cid: &Cid,
    ) -> Result<(v1::InclusionProof, v2::InclusionProof), StoreError> {
        let record =
            self.get(namespace, cid)?
                .ok_or_else(|| engram_core::CoreError::NotAMember {
                    cid: cid.to_string(),
                })?;
        let ehash = record.embedding_hash();
        let state = self.lock();
        Ok((
            state.leaves.prove_v1(cid, &ehash)?,
            state.leaves.prove_v2(cid, &ehash)?,
        ))
    }

    /// Makes everything written so far durable in the shard and empties the journal.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the snapshot or journal cannot be written.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let _m = self.maintenance.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = self.lock();
        self.checkpoint_locked(&mut state)
    }

    fn checkpoint_locked(&self, state: &mut WriteState) -> Result<(), StoreError> {
        self.shard().flush();
        state.leaves.save(&self.commitment_path())?;
        state.journal.clear()?;
        if wal_bytes(&self.dir.join("shard")) > WAL_RECYCLE_BYTES {
            self.recycle_wal()?;
        }
        Ok(())
    }

    /// The shard for a read or a write; [`Store::recycle_wal`] waits for these.
    fn shard(&self) -> ShardGuard<'_> {
        ShardGuard(self.shard.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Replaces Qdrant Edge's write-ahead log by an empty one while the store stays open:
    /// Edge 0.7.2 writes every update there and never reads it back or truncates it, so
    /// left alone it grows with every write and keeps a copy of every deleted record. With
    /// the shard to itself (reads wait; callers hold the maintenance and write locks, so no
    /// write or index build is under way) the old handle is dropped (which flushes it and
    /// lets go of segments an optimization replaced), the log removed, and the shard loaded
    /// again with its operation numbers continued ([`continue_numbering`]).
    fn recycle_wal(&self) -> Result<(), StoreError> {
        let mut shard = self.shard.write().unwrap_or_else(|p| p.into_inner());
        drop(shard.take());
        let shard_dir = self.dir.join("shard");
        let renumber = self.dir.join(WAL_RENUMBER_MARKER);
        engram_os::write_atomic(&renumber, b"")
            .map_err(io("writing the WAL renumber marker", &renumber))?;
        remove_wal(&shard_dir)?;
        let fresh = load_shard(&shard_dir)?;
        continue_numbering(&fresh, &shard_dir, &renumber)?;
        *shard = Some(fresh);
        Ok(())
    }

    /// Builds HNSW indexes for segments that have grown past the indexing threshold.
    /// Blocking; reads and writes go on meanwhile. Returns whether anything was rebuilt.
    ///
    /// # Errors
    /// [`StoreError::Engine`].
    pub fn optimize(&self) -> Result<bool, StoreError> {
        let _m = self.maintenance.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.shard().optimize()?)
    }

    /// Embeddings not yet covered by an HNSW index (searched by brute force).
    pub fn unindexed(&self) -> usize {
        let info = self.shard().info();
        // Qdrant counts every sparse (BM25) vector as indexed, in any segment: take them
        // out to leave the dense vectors the HNSW index covers.
        let sparse = self.texted();
        let dense_indexed = info.indexed_vectors_count.saturating_sub(sparse);
        info.points_count.saturating_sub(dense_indexed)
    }

    /// Points holding a BM25 vector: kept count, or counted (exactly, under the write
    /// lock so no write lands between the count and its keeping) when unknown.
    fn texted(&self) -> usize {
        use std::sync::atomic::Ordering::Relaxed;
        match self.texted.load(Relaxed) {
            UNCOUNTED => {
                let _state = self.lock();
                let counted = self.shard().count(CountRequest {
                    filter: Some(all_of(vec![Condition::HasVector(HasVectorCondition {
                        has_vector: BM25.into(),
                    })])),
                    exact: true,
                });
                // A failed count is not kept: the next read counts again.
                counted.map_or(0, |n| {
                    self.texted.store(n, Relaxed);
                    n
                })
            }
            n => n,
        }
    }

    /// Bytes the store occupies on disk (allocated blocks: Qdrant preallocates sparse
    /// files whose apparent size is far larger).
    pub fn disk_usage(&self) -> u64 {
        fn size(m: &std::fs::Metadata) -> u64 {
            #[cfg(unix)]
            {
                std::os::unix::fs::MetadataExt::blocks(m) * 512
            }
            #[cfg(not(unix))]
            {
                m.len()
            }
        }
        fn walk(p: &Path) -> u64 {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| match e.metadata() {
                            Ok(m) if m.is_dir() => walk(&e.path()),
                            Ok(m) => size(&m),
                            Err(_) => 0,
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        walk(&self.dir)
    }

    /// Takes a snapshot of the data directory's memories into `out` (a new `.tar.gz`; see
    /// [`crate::snapshot`]) while the store serves: writes wait until it is written, reads
    /// go on.
    ///
    /// # Errors
    /// [`StoreError::Io`] when a file cannot be read or the snapshot written.
    pub fn snapshot(&self, out: &Path) -> Result<crate::snapshot::Manifest, StoreError> {
        let _m = self.maintenance.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = self.lock();
        self.checkpoint_locked(&mut state)?;
        let c = state.leaves.commitment();
        let data_dir = self
            .dir
            .parent()
            .expect("the store lives in a data directory");
        crate::snapshot::write(
            data_dir,
            out,
            engram_os::now_ms(),
            c.count,
            (hex::encode(c.root_v1), hex::encode(c.root_v2)),
        )
    }

    /// The commitment recomputed from the stored records themselves (every record read),
    /// not from the leaves kept beside them: what a restore checks a snapshot against.
    ///
    /// # Errors
    /// [`StoreError::Engine`] or [`StoreError::Corrupt`].
    pub fn recompute_commitment(&self) -> Result<Commitment, StoreError> {
        Ok(self.rebuild_leaves()?.commitment())
    }

    fn rebuild_leaves(&self) -> Result<Leaves, StoreError> {
        let mut leaves = Leaves::default();
        let mut cursor = None;
        loop {
            let (page, next) = self.scroll(None, cursor, 1024)?;
            for r in &page {
                leaves.add(r.key(), &r.cid, &r.embedding_hash());
            }
            match next {
                Some(c) => cursor = Some(c),
                None => return Ok(leaves),
            }
        }
    }
}

fn dense_request(vector: &[f32], top_k: usize, filter: Filter) -> SearchRequest {
    SearchRequest {
        query: QueryEnum::Nearest(NamedQuery {
            query: vector.to_vec().into(),
            using: None,
        }),
        filter: Some(filter),
        params: Some(SearchParams {
            hnsw_ef: Some(SEARCH_EF.max(top_k)),
            quantization: Some(QuantizationSearchParams {
                ignore: false,
                rescore: Some(true),
                oversampling: Some(RESCORE_OVERSAMPLING),
            }),
            ..Default::default()
        }),
        limit: top_k,
        offset: 0,
        with_payload: Some(WithPayloadInterface::Bool(true)),
        with_vector: Some(WithVector::Bool(false)),
        score_threshold: None,
    }
}

fn sparse_query(sparse: SparseVector) -> QueryEnum {
    QueryEnum::Nearest(NamedQuery {
        query: VectorInternal::from(sparse),
        using: Some(BM25.into()),
    })
}

fn hit(point: ScoredPoint) -> Result<Hit, StoreError> {
    let payload = point.payload.unwrap_or_default();
    Ok(Hit {
        score: point.score,
        record: Record::from_payload(&point.id, &payload.0)?,
    })
}

/// Where a [`Store::scroll`] page ended.
#[derive(Debug, Clone)]
pub struct Cursor(PointId);

impl Drop for Store {
    fn drop(&mut self) {
        // `&mut self`: no other thread holds either lock.
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        // Best effort: whatever is not checkpointed is still in the journal.
        if let Some(shard) = self.shard.get_mut().unwrap_or_else(|p| p.into_inner()) {
            shard.flush();
        }
        if state.leaves.save(&self.dir.join("commitment")).is_ok() {
            let _ = state.journal.clear();
        }
    }
}
