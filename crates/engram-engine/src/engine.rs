//! [`Engine`]: the ingest and query rules over an embedder and a store.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use engram_core::search::{SearchMode, validate_keyword_weight};
use engram_core::{
    Cid, DEFAULT_MODEL_VERSION, Metadata, cid_v1, validate_embedding, validate_metadata,
    validate_text, validate_top_k,
};
use engram_embed::{Embedder, resolve_model_dir};
use engram_media::{ArchiveRef, Document, Limits};
use engram_os::now_ms;
use engram_store::{
    Archive, BlobInfo, Commitment, Hit, PUBLIC_NAMESPACE, Ranking, Record, SearchQuery, Store,
    Upserted,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::EngineError;
use crate::query_cache::QueryCache;

/// Where an engine keeps its data and finds its model.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The data directory: one store (the model lives in the user's model location).
    pub data_dir: PathBuf,
    /// An explicit model directory (`--model-dir`); else `ENGRAM_MODEL_DIR`, else the
    /// user's model location ([`engram_embed::resolve_model_dir`]).
    pub model_dir: Option<PathBuf>,
}

impl EngineConfig {
    /// A config with the model found the default way.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            model_dir: None,
        }
    }
}

/// A text to ingest.
#[derive(Debug, Clone, Default)]
pub struct TextItem {
    /// The memory's text (≤ 8192 characters, not blank).
    pub text: String,
    /// Metadata object (`null` for none).
    pub metadata: Value,
    /// Namespace; public when `None`.
    pub namespace: Option<String>,
    /// When the memory expires (unix milliseconds; private namespaces only, see
    /// [`engram_core::expiry_ms`]).
    pub expires_ms: Option<u64>,
}

impl TextItem {
    /// A public text with no metadata.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Default::default()
        }
    }

    /// The ingest rules for a text (length, metadata size and shape), checked before any
    /// embedding: what [`Engine::ingest_texts`] applies, for callers (a node) that embed
    /// elsewhere first. Returns the metadata as the CID hashes it.
    ///
    /// # Errors
    /// [`EngineError::Invalid`].
    pub fn check(&self) -> Result<Metadata, EngineError> {
        validate_text(&self.text)?;
        check_expiry(self.expires_ms, &self.namespace)?;
        Ok(validate_metadata(&self.metadata)?)
    }
}

/// Public memories are permanent: only a private one may carry an expiry.
fn check_expiry(expires_ms: Option<u64>, ns: &Option<String>) -> Result<(), EngineError> {
    if expires_ms.is_some() && namespace(ns) == PUBLIC_NAMESPACE {
        return Err(engram_core::CoreError::PublicIsPermanent.into());
    }
    Ok(())
}

/// A ready-made vector to ingest (the raw-embedding path: the bytes are kept exactly).
#[derive(Debug, Clone)]
pub struct VectorItem {
    /// Exactly 384 finite floats.
    pub embedding: Vec<f32>,
    /// Metadata object (`null` for none).
    pub metadata: Value,
    /// Model version the CID is computed under.
    pub model_version: String,
    /// Namespace; public when `None`.
    pub namespace: Option<String>,
    /// Source text, if the sender has it.
    pub text: Option<String>,
    /// When the memory expires (unix milliseconds; private namespaces only).
    pub expires_ms: Option<u64>,
}

impl VectorItem {
    /// The ingest rules for a ready-made vector (384 finite floats, metadata, source text),
    /// as [`Engine::ingest_vectors`] applies them. Returns the metadata as the CID hashes it.
    ///
    /// # Errors
    /// [`EngineError::Invalid`].
    pub fn check(&self) -> Result<Metadata, EngineError> {
        validate_embedding(&self.embedding)?;
        if let Some(text) = &self.text {
            validate_text(text)?;
        }
        check_expiry(self.expires_ms, &self.namespace)?;
        Ok(validate_metadata(&self.metadata)?)
    }

    /// The CID this item is stored under.
    ///
    /// # Errors
    /// As [`VectorItem::check`].
    pub fn cid(&self) -> Result<Cid, EngineError> {
        Ok(cid_v1(&self.embedding, &self.check()?, &self.model_version))
    }
}

/// The outcome of ingesting one item.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Ingested {
    /// The memory's CID.
    pub cid: Cid,
    /// True when newly stored, false when it was already there.
    pub stored: bool,
}

/// What a delete removed.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Forgotten {
    /// The memories deleted, in the order named.
    pub memories: Vec<Cid>,
    /// The files (blobs) removed with them.
    pub blobs: Vec<Cid>,
}

/// The metadata fields by which a memory names the file it came from: `content_cid`
/// (written by `engram_media::Document::chunk_metadata`), `blob_cid` (the sealed file of
/// a private document, beside its plaintext's `content_cid`).
const DOCUMENT_FIELDS: [&str; 2] = ["content_cid", "blob_cid"];

/// Search scope: namespace and metadata equality filters.
#[derive(Debug, Clone, Default)]
pub struct Where {
    /// Namespace; public when `None`.
    pub namespace: Option<String>,
    /// `key == value` filters on metadata.
    pub filters: Vec<(String, Value)>,
}

impl Where {
    /// `namespace` (public when `None`) with metadata equality `filter`.
    pub fn new(namespace: Option<&str>, filter: Map<String, Value>) -> Self {
        Self {
            namespace: namespace.map(str::to_string),
            filters: filter.into_iter().collect(),
        }
    }
}

/// A document stored: its blob and one memory per chunk.
#[derive(Debug, Clone)]
pub struct IngestedDocument {
    /// The blob (content CID, size, type, archive state).
    pub blob: BlobInfo,
    /// The chunks' memories, in document order.
    pub memories: Vec<Ingested>,
}

/// A memory found nearly identical to an earlier one ([`Engine::duplicates`]).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Duplicate {
    /// The earlier memory (by creation time, then CID), kept.
    pub kept: Cid,
    /// The later one, nearly the same.
    pub duplicate: Cid,
    /// Their cosine similarity.
    pub score: f32,
}

/// Near-duplicates are searched among this many nearest neighbours of each memory.
const DUPLICATE_NEIGHBOURS: usize = 10;

/// What `status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The model directory in use.
    pub model_dir: PathBuf,
    /// Whether the model is present and its checksum verified.
    pub model_ok: bool,
    /// The model problem, when there is one.
    pub model_error: Option<String>,
    /// The embedder's kernel path (`avx512`, `avx2`, `neon`, `scalar`; all give the same
    /// bytes), when the model loads.
    pub kernels: Option<String>,
    /// Records in all namespaces.
    pub count: u64,
    /// The corpus commitment.
    pub commitment: Commitment,
    /// Vectors not yet in an HNSW index.
    pub unindexed: usize,
    /// Blobs kept (documents' raw bytes).
    pub blobs: usize,
    /// Blobs waiting for their Arweave upload.
    pub pending_uploads: usize,
    /// Bytes on disk.
    pub disk_bytes: u64,
}

fn namespace(ns: &Option<String>) -> String {
    ns.clone().unwrap_or_else(|| PUBLIC_NAMESPACE.to_string())
}

/// An open data directory with its embedder (loaded on first use).
pub struct Engine {
    data_dir: PathBuf,
    model_dir: PathBuf,
    store: Store,
    embedder: OnceLock<Arc<Embedder>>,
    query_cache: QueryCache,
}

impl Engine {
    /// Opens (creating) the data directory's store. The model loads on first use.
    ///
    /// # Errors
    /// [`EngineError::Store`] when the store cannot be opened.
    pub fn open(config: EngineConfig) -> Result<Self, EngineError> {
        let model_dir = resolve_model_dir(config.model_dir.as_deref());
        let store = Store::open(&config.data_dir)?;
        Ok(Self {
            data_dir: config.data_dir,
            model_dir,
            store,
            embedder: OnceLock::new(),
            query_cache: QueryCache::default(),
        })
    }

    /// The store underneath.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The embedder, loading and verifying the model on first call.
    ///
    /// # Errors
    /// [`EngineError::Embed`] when the model is missing or corrupt.
    pub fn embedder(&self) -> Result<&Arc<Embedder>, EngineError> {
        if let Some(e) = self.embedder.get() {
            return Ok(e);
        }
        let loaded = Arc::new(Embedder::load(&self.model_dir)?);
        Ok(self.embedder.get_or_init(|| loaded))
    }

    /// The cache of public query embeddings, shared with a node that embeds on its own
    /// batching thread.
    pub fn query_cache(&self) -> &QueryCache {
        &self.query_cache
    }

    /// Embeds texts with the canonical model (no limits applied beyond tokenization).
    ///
    /// # Errors
    /// [`EngineError::Embed`].
    #[tracing::instrument(name = "embed", skip_all, fields(texts = texts.len()))]
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EngineError> {
        Ok(self.embedder()?.embed_batch(texts)?)
    }

    /// Ingests texts: validates every item first (so a bad one stores nothing), embeds them
    /// in one batch, stores them idempotently by CID.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for a bad item; model or store failures.
    #[tracing::instrument(name = "engine.ingest_texts", skip_all, fields(memories = items.len()))]
    pub fn ingest_texts(&self, items: Vec<TextItem>) -> Result<Vec<Ingested>, EngineError> {
        let metas = items
            .iter()
            .map(TextItem::check)
            .collect::<Result<Vec<_>, _>>()?;
        let records = self.embedded_records(items, metas)?;
        self.store_records(records)
    }

    /// Checked items embedded in one batch, as records ready to store.
    fn embedded_records(
        &self,
        items: Vec<TextItem>,
        metas: Vec<Metadata>,
    ) -> Result<Vec<Record>, EngineError> {
        let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
        let vectors = self.embed(&texts)?;
        let created = now_ms();
        Ok(items
            .into_iter()
            .zip(metas)
            .zip(vectors)
            .map(|((item, metadata), vector)| Record {
                cid: cid_v1(&vector, &metadata, DEFAULT_MODEL_VERSION),
                vector,
                metadata,
                model_version: DEFAULT_MODEL_VERSION.to_string(),
                namespace: namespace(&item.namespace),
                created_ms: created,
                text: Some(item.text),
                expires_ms: item.expires_ms,
            })
            .collect())
    }

    /// The memories `doc` makes, each checked (text, metadata size and shape with the
    /// document's fields): what [`Engine::ingest_document`] stores, for callers that must
    /// know a document is acceptable before they spend anything on it (an Arweave upload).
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for metadata that is not an object or too large with the
    /// document's fields, or a document with no text; [`EngineError::Media`] for too many
    /// chunks.
    pub fn document_items(
        &self,
        doc: &Document,
        metadata: &Value,
        namespace: Option<&str>,
        limits: &Limits,
        archive: &ArchiveRef,
    ) -> Result<Vec<(TextItem, Metadata)>, EngineError> {
        let user = match metadata {
            Value::Null => Map::new(),
            Value::Object(m) => m.clone(),
            _ => return Err(engram_core::CoreError::MetadataNotObject.into()),
        };
        let chunks = doc.chunks(limits)?;
        if chunks.is_empty() {
            return Err(engram_core::CoreError::EmptyText.into());
        }
        let content_cid = doc.content_cid();
        chunks
            .iter()
            .map(|c| {
                let item = TextItem {
                    text: c.text.clone(),
                    metadata: Value::Object(doc.chunk_metadata(
                        c,
                        chunks.len(),
                        &content_cid,
                        archive,
                        &user,
                    )),
                    namespace: namespace.map(str::to_string),
                    expires_ms: None,
                };
                let meta = item.check()?;
                Ok((item, meta))
            })
            .collect()
    }

    /// Stores a document read by `engram-media`: its bytes as a blob under their content
    /// CID, and each chunk of its text as a memory whose metadata names the blob
    /// ([`Document::chunk_metadata`]). Every chunk is checked and embedded before anything
    /// is written, so a document that cannot be stored leaves nothing behind; `archive` is
    /// the blob's Arweave state, decided by the caller (who did or queued the upload).
    ///
    /// # Errors
    /// As [`Engine::document_items`]; model or store failures.
    pub fn ingest_document(
        &self,
        doc: &Document,
        metadata: Value,
        namespace: Option<String>,
        limits: &Limits,
        archive: Archive,
    ) -> Result<IngestedDocument, EngineError> {
        let archive_ref = match &archive {
            Archive::Off => ArchiveRef::Off,
            Archive::Pending { .. } => ArchiveRef::Pending,
            Archive::Uploaded { tx_id, url } => ArchiveRef::Uploaded {
                tx_id: tx_id.clone(),
                url: url.clone(),
            },
        };
        let (items, metas): (Vec<_>, Vec<_>) = self
            .document_items(doc, &metadata, namespace.as_deref(), limits, &archive_ref)?
            .into_iter()
            .unzip();
        let records = self.embedded_records(items, metas)?;
        let ns = self::namespace(&namespace);
        let blob = self
            .store
            .blobs()
            .put(&doc.bytes, &doc.content_type, &ns, false, archive)?;
        let memories = self.store_records(records)?;
        Ok(IngestedDocument { blob, memories })
    }

    /// Ingests ready-made vectors, keeping their exact bytes.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for a bad vector or metadata; store failures.
    #[tracing::instrument(name = "engine.ingest_vectors", skip_all, fields(memories = items.len()))]
    pub fn ingest_vectors(&self, items: Vec<VectorItem>) -> Result<Vec<Ingested>, EngineError> {
        let created = now_ms();
        let mut records = Vec::with_capacity(items.len());
        for item in items {
            let metadata = item.check()?;
            records.push(Record {
                cid: cid_v1(&item.embedding, &metadata, &item.model_version),
                vector: item.embedding,
                metadata,
                model_version: item.model_version,
                namespace: namespace(&item.namespace),
                created_ms: created,
                text: item.text,
                expires_ms: item.expires_ms,
            });
        }
        self.store_records(records)
    }

    #[tracing::instrument(name = "store.upsert", skip_all, fields(records = records.len()))]
    fn store_records(&self, records: Vec<Record>) -> Result<Vec<Ingested>, EngineError> {
        let cids: Vec<Cid> = records.iter().map(|r| r.cid).collect();
        let outcomes = self.store.upsert(records)?;
        Ok(cids
            .into_iter()
            .zip(outcomes)
            .map(|(cid, o)| Ingested {
                cid,
                stored: o == Upserted::Stored,
            })
            .collect())
    }

    /// The `top_k` memories nearest in meaning to `text`.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for a bad `top_k` or text, model or store failures.
    pub fn query_text(
        &self,
        text: &str,
        top_k: usize,
        scope: &Where,
    ) -> Result<Vec<Hit>, EngineError> {
        self.query_text_with(
            text,
            SearchMode::Dense,
            engram_core::search::DEFAULT_KEYWORD_WEIGHT,
            top_k,
            scope,
        )
    }

    /// The `top_k` best memories for `text` by `mode`: by meaning, by its words (the model
    /// is not used), or both fused with the keyword ranking weighing `keyword_weight`.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for a bad `top_k`, text or weight, model or store failures.
    #[tracing::instrument(name = "engine.query_text", skip_all, fields(mode = mode.as_str(), top_k = top_k))]
    pub fn query_text_with(
        &self,
        text: &str,
        mode: SearchMode,
        keyword_weight: f64,
        top_k: usize,
        scope: &Where,
    ) -> Result<Vec<Hit>, EngineError> {
        validate_top_k(top_k as i64)?;
        validate_text(text)?;
        let keyword_weight = validate_keyword_weight(keyword_weight)?;
        if mode == SearchMode::Keyword {
            return self.query(Ranking::Keyword(text), top_k, scope);
        }
        let vector = self.query_embedding(text, scope.namespace.as_deref())?;
        let ranking = match mode {
            SearchMode::Hybrid => Ranking::Hybrid {
                vector: &vector,
                text,
                keyword_weight,
            },
            _ => Ranking::Dense(&vector),
        };
        self.query(ranking, top_k, scope)
    }

    /// A query text's embedding; public ones come from (and go to) the query cache.
    fn query_embedding(&self, text: &str, ns: Option<&str>) -> Result<Arc<[f32]>, EngineError> {
        if let Some(v) = self.query_cache.get(text, ns) {
            return Ok(v);
        }
        let _span = tracing::info_span!("embed", texts = 1, cache = "miss").entered();
        let v: Arc<[f32]> = self.embedder()?.embed(text)?.into();
        self.query_cache.insert(text, ns, v.clone());
        Ok(v)
    }

    /// The `top_k` memories nearest to `vector`.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for a bad `top_k` or vector, store failures.
    pub fn query_vector(
        &self,
        vector: &[f32],
        top_k: usize,
        scope: &Where,
    ) -> Result<Vec<Hit>, EngineError> {
        self.query(Ranking::Dense(vector), top_k, scope)
    }

    /// The `top_k` best memories in scope by `ranking` (a node that embedded the query
    /// text itself asks this way).
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for a bad `top_k`, vector or weight, store failures.
    #[tracing::instrument(
        name = "store.search",
        skip_all,
        fields(
            mode = ranking.mode().as_str(),
            top_k = top_k,
            private = scope.namespace.is_some(),
            filters = scope.filters.len(),
        )
    )]
    pub fn query(
        &self,
        ranking: Ranking<'_>,
        top_k: usize,
        scope: &Where,
    ) -> Result<Vec<Hit>, EngineError> {
        validate_top_k(top_k as i64)?;
        match ranking {
            Ranking::Dense(vector) => validate_embedding(vector)?,
            Ranking::Keyword(text) => validate_text(text)?,
            Ranking::Hybrid {
                vector,
                text,
                keyword_weight,
            } => {
                validate_embedding(vector)?;
                validate_text(text)?;
                validate_keyword_weight(f64::from(keyword_weight))?;
            }
        }
        let ns = namespace(&scope.namespace);
        Ok(self.store.rank(
            ranking,
            top_k,
            &SearchQuery {
                namespace: &ns,
                filters: &scope.filters,
            },
        )?)
    }

    /// A page of the records in scope (namespace and metadata filters), in the store's
    /// stable order.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for a bad page, bad filters, store failures.
    pub fn list(&self, scope: &Where, limit: i64, offset: i64) -> Result<Vec<Record>, EngineError> {
        let (limit, offset) = engram_core::validate_list_page(limit, offset)?;
        let ns = namespace(&scope.namespace);
        Ok(self.store.list(
            &SearchQuery {
                namespace: &ns,
                filters: &scope.filters,
            },
            offset,
            limit,
        )?)
    }

    /// The record stored under `cid` in the namespace.
    ///
    /// # Errors
    /// Store failures.
    pub fn get(&self, cid: &Cid, ns: Option<&str>) -> Result<Option<Record>, EngineError> {
        Ok(self.store.get(ns.unwrap_or(PUBLIC_NAMESPACE), cid)?)
    }

    /// Every CID stored in the namespace, sorted.
    ///
    /// # Errors
    /// Store failures.
    pub fn cids(&self, ns: Option<&str>) -> Result<Vec<Cid>, EngineError> {
        let ns = ns.unwrap_or(PUBLIC_NAMESPACE);
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = self.store.scroll(Some(ns), cursor, 1024)?;
            out.extend(page.into_iter().map(|r| r.cid));
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        out.sort_by_key(ToString::to_string);
        out.dedup();
        Ok(out)
    }

    /// Memories of a namespace whose embeddings are at least `threshold` (cosine, 0–1]
    /// similar to an earlier one's: each cluster of near-copies is reported against its
    /// earliest member (by creation time, then CID), which is the one to keep. Exact
    /// copies have one CID and are stored once already; these are the paraphrases and
    /// re-encodings. One search per memory.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for a threshold outside (0, 1]; store failures.
    pub fn duplicates(
        &self,
        ns: Option<&str>,
        threshold: f32,
    ) -> Result<Vec<Duplicate>, EngineError> {
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(engram_core::CoreError::DuplicateThreshold(threshold).into());
        }
        let scope = Where::new(ns, Map::new());
        let earlier = |a: &Record, b: &Record| {
            (a.created_ms, a.cid.to_string()) < (b.created_ms, b.cid.to_string())
        };
        let mut out = Vec::new();
        let mut dropped = std::collections::HashSet::new();
        let mut cursor = None;
        loop {
            let (page, next) =
                self.store
                    .scroll(Some(ns.unwrap_or(PUBLIC_NAMESPACE)), cursor, 256)?;
            for r in page {
                if dropped.contains(&r.cid) {
                    continue;
                }
                for hit in self.query(Ranking::Dense(&r.vector), DUPLICATE_NEIGHBOURS, &scope)? {
                    let n = hit.record;
                    if hit.score < threshold || n.cid == r.cid || dropped.contains(&n.cid) {
                        continue;
                    }
                    if earlier(&n, &r) {
                        out.push(Duplicate {
                            kept: n.cid,
                            duplicate: r.cid,
                            score: hit.score,
                        });
                        dropped.insert(r.cid);
                        break;
                    }
                    out.push(Duplicate {
                        kept: r.cid,
                        duplicate: n.cid,
                        score: hit.score,
                    });
                    dropped.insert(n.cid);
                }
            }
            match next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Deletes the record stored under `cid` in the namespace, as [`Engine::delete_many`]
    /// does; false if there was none.
    ///
    /// # Errors
    /// Store failures.
    pub fn delete(&self, cid: &Cid, ns: Option<&str>) -> Result<bool, EngineError> {
        Ok(!self
            .delete_many(std::slice::from_ref(cid), ns)?
            .memories
            .is_empty())
    }

    /// Deletes the records stored under `cids` in the namespace (absent ones are skipped)
    /// in one pass of the store (one journal write, one vacuum: [`Store::forget`]). A
    /// document's file goes with its last memory: a blob of this namespace named by a
    /// deleted record's metadata (`content_cid`, or `blob_cid` for a sealed file) is
    /// removed once no record of the namespace names it any more. Sealed metadata names
    /// nothing the store can read; [`Engine::delete_document`] takes the file explicitly.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] for no CID or more than [`engram_core::MAX_DELETE_BATCH`];
    /// store failures.
    pub fn delete_many(&self, cids: &[Cid], ns: Option<&str>) -> Result<Forgotten, EngineError> {
        engram_core::validate_delete_batch(cids.len())?;
        self.forget(cids, ns, None)
    }

    /// Deletes a document: its file (blob `blob`, with any erasure-code shards kept of
    /// it), the records of the namespace whose metadata names it, and `memories`, the
    /// ones whose sealed metadata names it (which only the owner can read, so the caller
    /// found them). The memories go first: a delete cut short is finished by running it
    /// again. A blob the namespace does not own (another namespace stored the same bytes
    /// first, or they are public) stays.
    ///
    /// # Errors
    /// [`EngineError::Store`] with [`engram_store::StoreError::NotContentCid`] when `blob`
    /// is a memory CID; [`EngineError::Invalid`] for more than
    /// [`engram_core::MAX_DELETE_BATCH`] memories; store failures.
    pub fn delete_document(
        &self,
        blob: &Cid,
        memories: &[Cid],
        ns: Option<&str>,
    ) -> Result<Forgotten, EngineError> {
        if !memories.is_empty() {
            engram_core::validate_delete_batch(memories.len())?;
        }
        self.store.blobs().info(blob)?;
        let mut cids = memories.to_vec();
        for field in DOCUMENT_FIELDS {
            cids.extend(self.naming(blob, field, ns)?);
        }
        self.forget(&cids, ns, Some(*blob))
    }

    /// Memories of the namespace whose metadata `field` is `blob`.
    fn naming(&self, blob: &Cid, field: &str, ns: Option<&str>) -> Result<Vec<Cid>, EngineError> {
        let scope = Where {
            namespace: ns.map(str::to_string),
            filters: vec![(field.to_string(), Value::String(blob.to_string()))],
        };
        let (mut out, mut offset) = (Vec::new(), 0);
        loop {
            let page = self.list(&scope, 200, offset)?;
            out.extend(page.iter().map(|r| r.cid));
            if page.len() < 200 {
                return Ok(out);
            }
            offset += 200;
        }
    }

    fn forget(
        &self,
        cids: &[Cid],
        ns: Option<&str>,
        document: Option<Cid>,
    ) -> Result<Forgotten, EngineError> {
        let space = ns.unwrap_or(PUBLIC_NAMESPACE);
        let mut files: Vec<Cid> = document.into_iter().collect();
        let mut memories = Vec::new();
        for cid in cids {
            if memories.contains(cid) {
                continue;
            }
            if let Some(r) = self.store.get(space, cid)? {
                files.extend(
                    DOCUMENT_FIELDS
                        .iter()
                        .filter_map(|f| r.metadata.get(*f)?.as_str()?.parse::<Cid>().ok())
                        .filter(|c| matches!(c, Cid::Content(_))),
                );
                memories.push(*cid);
            }
        }
        let keys: Vec<_> = memories.iter().map(|c| (space.to_string(), *c)).collect();
        self.store.forget(&keys)?;
        let mut blobs = Vec::new();
        files.sort_unstable();
        files.dedup();
        for file in files {
            let owned = self
                .store
                .blobs()
                .info(&file)?
                .is_some_and(|info| info.namespace == space);
            if !owned {
                continue;
            }
            let mut named = false;
            for field in DOCUMENT_FIELDS {
                named |= !self.naming(&file, field, ns)?.is_empty();
            }
            if named {
                continue;
            }
            self.store.shards().forget(&file)?;
            if self.store.blobs().remove(&file)? {
                blobs.push(file);
            }
        }
        Ok(Forgotten { memories, blobs })
    }

    /// Data dir, model state, counts, commitment and disk use.
    ///
    /// # Errors
    /// Store failures.
    pub fn status(&self) -> Result<Status, EngineError> {
        let embedder = self.embedder();
        let kernels = embedder.as_ref().ok().map(|e| e.kernels().to_string());
        let model_error = embedder.err().map(|e| e.to_string());
        let (blobs, pending_uploads) = self.store.blobs().counts()?;
        Ok(Status {
            kernels,
            data_dir: self.data_dir.clone(),
            model_dir: self.model_dir.clone(),
            model_ok: model_error.is_none(),
            model_error,
            count: self.store.count(None)?,
            commitment: self.store.commitment(),
            unindexed: self.store.unindexed(),
            blobs,
            pending_uploads,
            disk_bytes: self.store.disk_usage(),
        })
    }
}

#[cfg(test)]
mod tests {
    use engram_core::{EMBEDDING_DIM, MAX_METADATA_BYTES, MAX_TEXT_CHARS, MAX_TOP_K, MIN_TOP_K};
    use serde_json::json;

    use super::*;

    fn engine() -> (tempfile::TempDir, Engine) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(EngineConfig::new(dir.path().to_path_buf())).unwrap();
        (dir, engine)
    }

    fn unit(dim: usize) -> Vec<f32> {
        let mut v = vec![0.0; dim];
        if let Some(first) = v.first_mut() {
            *first = 1.0;
        }
        v
    }

    fn vector_item(embedding: Vec<f32>, metadata: Value) -> VectorItem {
        VectorItem {
            embedding,
            metadata,
            model_version: DEFAULT_MODEL_VERSION.into(),
            namespace: None,
            text: None,
            expires_ms: None,
        }
    }

    /// Metadata `{"k": "x…x"}` of exactly `bytes` bytes as compact JSON.
    fn metadata_of(bytes: usize) -> Value {
        json!({ "k": "x".repeat(bytes - r#"{"k":""}"#.len()) })
    }

    /// Boundary tables for every limit the engine owns: below, at and above each one.
    /// A refused item stores nothing, and neither does the valid batch it came in.
    #[test]
    fn every_limit_at_its_boundary() {
        let (_dir, engine) = engine();
        let count = || engine.store().count(None).unwrap();
        let text = |chars: usize| TextItem::new("a".repeat(chars));
        for (item, ok) in [
            (text(0), false),              // empty
            (TextItem::new("   "), false), // blank
            (text(1), true),
            (text(MAX_TEXT_CHARS), true),
            (text(MAX_TEXT_CHARS + 1), false),
        ] {
            let len = item.text.chars().count();
            let before = count();
            let got = engine.ingest_texts(vec![TextItem::new("a valid neighbour"), item]);
            assert_eq!(got.is_ok(), ok, "text of {len} characters");
            if !ok {
                assert!(got.unwrap_err().is_bad_input());
                assert_eq!(
                    count(),
                    before,
                    "nothing stored for a batch with a bad text"
                );
            }
        }
        for (dim, ok) in [
            (0, false),
            (EMBEDDING_DIM - 1, false),
            (EMBEDDING_DIM, true),
            (EMBEDDING_DIM + 1, false),
        ] {
            let got = engine.ingest_vectors(vec![vector_item(unit(dim), Value::Null)]);
            assert_eq!(got.is_ok(), ok, "{dim} dimensions");
        }
        for (bytes, ok) in [
            (MAX_METADATA_BYTES - 1, true),
            (MAX_METADATA_BYTES, true),
            (MAX_METADATA_BYTES + 1, false),
        ] {
            let got =
                engine.ingest_vectors(vec![vector_item(unit(EMBEDDING_DIM), metadata_of(bytes))]);
            assert_eq!(got.is_ok(), ok, "metadata of {bytes} bytes");
        }
        let before = count();
        let nan = {
            let mut v = unit(EMBEDDING_DIM);
            v[7] = f32::NAN;
            v
        };
        assert!(
            engine
                .ingest_vectors(vec![
                    vector_item(unit(EMBEDDING_DIM), json!({"fine": true})),
                    vector_item(nan, Value::Null),
                ])
                .is_err()
        );
        assert_eq!(count(), before);
        for (top_k, ok) in [
            (0, false),
            (MIN_TOP_K, true),
            (MAX_TOP_K, true),
            (MAX_TOP_K + 1, false),
        ] {
            let got = engine.query_vector(&unit(EMBEDDING_DIM), top_k, &Where::default());
            assert_eq!(got.is_ok(), ok, "top_k {top_k}");
        }
    }

    /// One text, one CID: alone, in a batch, and through the vector path with its bytes.
    #[test]
    fn a_text_gets_one_cid_however_it_arrives() {
        let (_dir, engine) = engine();
        let alone = engine
            .ingest_texts(vec![TextItem::new("The sky is blue.")])
            .unwrap()[0]
            .cid;
        let (_dir2, other) = self::engine();
        let batched = other
            .ingest_texts(vec![
                TextItem::new("Something else entirely, and longer than the first."),
                TextItem::new("The sky is blue."),
            ])
            .unwrap()[1]
            .cid;
        assert_eq!(alone, batched);
        let v = engine.embed(&["The sky is blue."]).unwrap().remove(0);
        let by_vector = engine
            .ingest_vectors(vec![vector_item(v, Value::Null)])
            .unwrap()[0]
            .clone();
        assert_eq!(by_vector.cid, alone);
        assert!(!by_vector.stored, "already stored under that CID");
    }

    /// Repeated public query texts skip the model; private ones are never cached.
    #[test]
    fn repeated_public_queries_hit_the_cache() {
        let (_dir, engine) = engine();
        engine
            .ingest_texts(vec![TextItem::new("Rust is a systems language.")])
            .unwrap();
        let public = Where::default();
        let first = engine
            .query_text("systems programming", 1, &public)
            .unwrap();
        let again = engine
            .query_text("systems programming", 1, &public)
            .unwrap();
        assert_eq!(first[0].record.cid, again[0].record.cid);
        let s = engine.query_cache().stats();
        assert_eq!((s.hits, s.misses, s.entries), (1, 1, 1));
        let private = Where {
            namespace: Some("mine".into()),
            ..Where::default()
        };
        engine
            .query_text("systems programming", 1, &private)
            .unwrap();
        engine
            .query_text("systems programming", 1, &private)
            .unwrap();
        assert_eq!(
            engine.query_cache().stats(),
            s,
            "private queries leave no trace"
        );
    }

    #[test]
    fn list_pages_filters_and_keeps_namespaces_apart() {
        let (_d, engine) = engine();
        let items = (0..5)
            .map(|i| VectorItem {
                namespace: Some("notes".into()),
                ..vector_item(
                    engram_core::testing::unit_vector(i),
                    json!({"parity": i % 2}),
                )
            })
            .collect();
        engine.ingest_vectors(items).unwrap();
        engine
            .ingest_vectors(vec![vector_item(unit(EMBEDDING_DIM), json!({"parity": 0}))])
            .unwrap();
        let notes = Where::new(Some("notes"), Map::new());
        assert_eq!(engine.list(&notes, 200, 0).unwrap().len(), 5);
        assert_eq!(engine.list(&Where::default(), 200, 0).unwrap().len(), 1);
        let mut even = Map::new();
        even.insert("parity".into(), json!(0));
        assert_eq!(
            engine
                .list(&Where::new(Some("notes"), even), 200, 0)
                .unwrap()
                .len(),
            3
        );
        let (first, rest) = (
            engine.list(&notes, 2, 0).unwrap(),
            engine.list(&notes, 200, 2).unwrap(),
        );
        assert_eq!((first.len(), rest.len()), (2, 3));
        assert!(first.iter().all(|a| rest.iter().all(|b| a.cid != b.cid)));
        assert!(engine.list(&notes, 200, 5).unwrap().is_empty());
        // Boundary table: the page rule is core's, applied here.
        for (limit, offset, ok) in [
            (0, 0, false),
            (1, 0, true),
            (200, 0, true),
            (201, 0, false),
            (1, -1, false),
        ] {
            assert_eq!(
                engine.list(&notes, limit, offset).is_ok(),
                ok,
                "{limit} {offset}"
            );
        }
    }

    fn document(pages: &[&str]) -> Document {
        Document {
            kind: engram_media::Kind::Pdf,
            bytes: b"%PDF-1.7 stand-in bytes".to_vec(),
            content_type: "application/pdf".into(),
            source: "t.pdf".into(),
            filename: Some("t.pdf".into()),
            title: Some("T".into()),
            pages: pages.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn a_document_is_a_blob_and_one_memory_per_chunk() {
        let (_d, e) = engine();
        let doc = document(&["Owls hunt at night.", "Hawks hunt by day."]);
        let out = e
            .ingest_document(
                &doc,
                json!({"k": 1}),
                None,
                &Limits::default(),
                Archive::Off,
            )
            .unwrap();
        assert_eq!(out.memories.len(), 2);
        assert_eq!(out.blob.cid, doc.content_cid());
        assert_eq!(e.store().blobs().get(&out.blob.cid).unwrap(), doc.bytes);
        let rec = e.get(&out.memories[1].cid, None).unwrap().unwrap();
        assert_eq!(rec.metadata["page"], 2);
        assert_eq!(rec.metadata["k"], 1);
        assert_eq!(rec.metadata["content_cid"], doc.content_cid().to_string());
        assert_eq!(rec.text.as_deref(), Some("Hawks hunt by day."));
        let status = e.status().unwrap();
        assert_eq!((status.blobs, status.pending_uploads), (1, 0));
    }

    #[test]
    fn a_document_file_goes_with_its_last_memory_or_on_its_own() {
        let (_d, e) = engine();
        let ns = Some("diary");
        let doc = document(&["Owls hunt at night.", "Hawks hunt by day."]);
        let store = |e: &Engine, ns: Option<&str>| {
            e.ingest_document(
                &doc,
                Value::Null,
                ns.map(str::to_string),
                &Limits::default(),
                Archive::Off,
            )
            .unwrap()
        };
        let out = store(&e, ns);
        let (m0, m1, blob) = (out.memories[0].cid, out.memories[1].cid, out.blob.cid);
        let other = e
            .ingest_texts(vec![TextItem {
                text: "A note of its own.".into(),
                metadata: Value::Null,
                namespace: ns.map(str::to_string),
                expires_ms: None,
            }])
            .unwrap()[0]
            .cid;

        // One chunk goes: the file still backs the other.
        let gone = e.delete_many(&[m0, m0, other], ns).unwrap();
        assert_eq!((gone.memories, gone.blobs), (vec![m0, other], vec![]));
        assert!(e.store().blobs().info(&blob).unwrap().is_some());
        // The last one goes: so does the file.
        assert!(e.delete(&m1, ns).unwrap());
        assert_eq!(e.store().blobs().info(&blob).unwrap(), None);
        assert_eq!(e.status().unwrap().blobs, 0);

        // By the file's CID: the file and every memory naming it, in one call.
        let out = store(&e, ns);
        let gone = e.delete_document(&blob, &[], ns).unwrap();
        let mut named: Vec<_> = out.memories.iter().map(|m| m.cid).collect();
        named.sort_unstable();
        let mut memories = gone.memories.clone();
        memories.sort_unstable();
        assert_eq!((memories, gone.blobs), (named, vec![blob]));
        assert_eq!(e.status().unwrap().count, 0);

        // A file the public namespace also stored is the public's: it stays.
        store(&e, ns);
        store(&e, None);
        let gone = e.delete_document(&blob, &[], ns).unwrap();
        assert_eq!((gone.memories.len(), gone.blobs.len()), (2, 0));
        assert_eq!(e.store().blobs().get(&blob).unwrap(), doc.bytes);
        assert_eq!(e.status().unwrap().count, 2, "the public memories stay");

        // Bad input: a memory CID for a file, no CIDs, too many.
        assert!(e.delete_document(&m0, &[], ns).unwrap_err().is_bad_input());
        assert!(e.delete_many(&[], ns).unwrap_err().is_bad_input());
        let many = vec![m0; engram_core::MAX_DELETE_BATCH + 1];
        assert!(e.delete_many(&many, ns).unwrap_err().is_bad_input());
        assert_eq!(e.status().unwrap().count, 2);
    }

    #[test]
    fn a_document_that_cannot_be_stored_leaves_nothing() {
        let (_d, e) = engine();
        let doc = document(&["Some text."]);
        for bad in [json!([1]), json!({"big": "x".repeat(MAX_METADATA_BYTES)})] {
            assert!(
                e.ingest_document(&doc, bad, None, &Limits::default(), Archive::Off)
                    .unwrap_err()
                    .is_bad_input()
            );
        }
        let empty = document(&["", "   "]);
        assert!(
            e.ingest_document(&empty, Value::Null, None, &Limits::default(), Archive::Off)
                .unwrap_err()
                .is_bad_input()
        );
        assert_eq!(e.status().unwrap().count, 0);
        assert!(e.store().blobs().all().unwrap().is_empty());
    }
}
