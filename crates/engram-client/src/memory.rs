//! [`Memory`]: the same ingest/query/get/status surface over the embedded default or a
//! remote node, chosen by configuration, so application code does not change when it moves
//! from a laptop to the network.

use std::path::PathBuf;
use std::sync::Arc;

use engram_core::{Cid, DEFAULT_MODEL_VERSION};
use serde_json::{Map, Value};

use crate::error::ClientError;
pub use engram_core::search::SearchMode;

/// How a query ranks and which results it keeps: by meaning ([`SearchMode::Dense`], the
/// default), by words, or both fused, the keyword ranking weighing `keyword_weight`
/// (0.01–100, 1 when `None`) against the dense one's 1; only namespaces at least `min_tier`
/// trusted when given.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Retrieval {
    /// The ranking.
    pub mode: SearchMode,
    /// The keyword ranking's weight in [`SearchMode::Hybrid`].
    pub keyword_weight: Option<f64>,
    /// The least trust tier a result's namespace must have.
    pub min_tier: Option<TrustTier>,
}
use crate::http::{Client, ClientOptions};
use engram_wire::{
    DeleteRequest, DeleteResponse, IngestRequest, ListRequest, ListedRecord, QueryRequest,
    QueryResult, RetrieveResponse, TrustTier,
};

/// Where memories live.
#[derive(Debug, Clone, Default)]
pub struct MemoryConfig {
    /// A node URL (`--node`, `ENGRAM_NODE`); the embedded default when `None`.
    pub node: Option<String>,
    /// The data directory of the embedded default.
    pub data_dir: PathBuf,
    /// The model directory of the embedded default.
    pub model_dir: Option<PathBuf>,
    /// Timeouts and retries for a node.
    pub client: Option<ClientOptions>,
}

/// The outcome of one ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The memory's CID.
    pub cid: Cid,
    /// False when it was already stored.
    pub new: bool,
}

impl Stored {
    /// A node's answer to an ingest, whose CID must parse.
    fn answered(url: &str, r: engram_wire::IngestResponse) -> Result<Self, ClientError> {
        let cid = r.cid.unwrap_or_default();
        let cid = cid.parse().map_err(|source| ClientError::BadCid {
            url: url.to_string(),
            cid,
            source,
        })?;
        Ok(Self { cid, new: r.stored })
    }
}

/// Counts and commitment, from either backend.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemoryStatus {
    /// The embedded store's own report (model, kernel path, index, disk); `None` for a node.
    #[serde(skip)]
    pub local: Option<engram_engine::Status>,
    /// Where the memories are: a data directory or a node URL.
    pub location: String,
    /// Records stored.
    pub count: u64,
    /// Merkle v1 root, hex.
    pub root_hex: String,
    /// Merkle v2 root, hex.
    pub root_v2_hex: String,
    /// Blobs kept (documents' raw bytes).
    pub blobs: u64,
    /// Blobs waiting for their Arweave upload.
    pub pending_uploads: u64,
}

/// A text to store.
#[derive(Debug, Clone, Default)]
pub struct NewText {
    /// The text.
    pub text: String,
    /// Metadata object or null.
    pub metadata: Value,
    /// Namespace; public when `None`.
    pub namespace: Option<String>,
    /// When a private memory expires, unix milliseconds ([`engram_core::expiry_ms`]).
    pub expires_ms: Option<u64>,
}

/// The `ttl_s` a node is sent for a memory expiring at `expires_ms`: the seconds left,
/// rounded up, at least 1 (the node counts them from its own clock).
fn ttl_s(expires_ms: u64) -> u64 {
    expires_ms
        .saturating_sub(engram_os::now_ms())
        .div_ceil(1000)
        .max(1)
}

/// Memory, embedded or remote.
pub enum Memory {
    /// A local store and in-process embedder.
    Embedded(Arc<engram_engine::Engine>),
    /// An Engram node over HTTP.
    Remote(Client),
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, engram_engine::EngineError> + Send + 'static,
) -> Result<T, ClientError> {
    // The caller's span goes along: the engine's spans stay in the caller's trace.
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .await?
        .map_err(ClientError::from)
}

/// Concurrent requests a remote batch ingest keeps in flight.
const REMOTE_CONCURRENCY: usize = 8;

impl Memory {
    /// Opens the backend the configuration names.
    ///
    /// # Errors
    /// [`ClientError::InvalidUrl`] for a bad node URL; engine errors for the embedded store.
    pub fn open(config: MemoryConfig) -> Result<Self, ClientError> {
        match config.node {
            Some(url) => Ok(Memory::Remote(Client::with_options(
                &url,
                config.client.unwrap_or_default(),
            )?)),
            None => Ok(Memory::Embedded(Arc::new(engram_engine::Engine::open(
                engram_engine::EngineConfig {
                    data_dir: config.data_dir,
                    model_dir: config.model_dir,
                },
            )?))),
        }
    }

    /// True for a node over HTTP.
    pub fn is_remote(&self) -> bool {
        matches!(self, Memory::Remote(_))
    }

    /// Loads and verifies the model now, so that a missing model fails before any work
    /// (the embedded store embeds; a node embeds for itself).
    ///
    /// # Errors
    /// The model's error.
    pub fn check_model(&self) -> Result<(), ClientError> {
        match self {
            Memory::Embedded(engine) => engine.embedder().map(|_| ()).map_err(Into::into),
            Memory::Remote(_) => Ok(()),
        }
    }

    /// Builds search indexes for what was just ingested: true when the embedded store
    /// built one (a node indexes in the background itself).
    ///
    /// # Errors
    /// Store failures.
    pub async fn build_index(&self) -> Result<bool, ClientError> {
        match self {
            Memory::Embedded(engine) => {
                let engine = engine.clone();
                blocking(move || Ok(engine.store().optimize()?)).await
            }
            Memory::Remote(_) => Ok(false),
        }
    }

    /// How a vector made here leaves for this backend: exact into the user's own store;
    /// for a node, noised at `epsilon` when `namespace` is private.
    pub fn outgoing<'a>(
        &self,
        namespace: Option<&'a str>,
        seal_to: Option<&'a [u8; 32]>,
        epsilon: Option<f64>,
    ) -> crate::outgoing::Outgoing<'a> {
        crate::outgoing::Outgoing {
            seal_to,
            namespace,
            epsilon: epsilon.filter(|_| self.is_remote()),
        }
    }

    /// Stores texts; embedded: validated together then embedded in batches; remote: sent
    /// concurrently (the node micro-batches them). Results are in input order.
    ///
    /// # Errors
    /// The first failure; embedded ingest stores nothing if any item is invalid.
    pub async fn ingest_texts(&self, items: Vec<NewText>) -> Result<Vec<Stored>, ClientError> {
        match self {
            Memory::Embedded(engine) => {
                let engine = engine.clone();
                let items = items
                    .into_iter()
                    .map(|i| engram_engine::TextItem {
                        text: i.text,
                        metadata: i.metadata,
                        namespace: i.namespace,
                        expires_ms: i.expires_ms,
                    })
                    .collect();
                let out = blocking(move || engine.ingest_texts(items)).await?;
                Ok(out
                    .into_iter()
                    .map(|o| Stored {
                        cid: o.cid,
                        new: o.stored,
                    })
                    .collect())
            }
            Memory::Remote(client) => {
                let mut results: Vec<Option<Stored>> = vec![None; items.len()];
                let mut tasks = tokio::task::JoinSet::new();
                for (i, item) in items.into_iter().enumerate() {
                    if tasks.len() >= REMOTE_CONCURRENCY
                        && let Some(done) = tasks.join_next().await
                    {
                        let (j, stored) = done??;
                        results[j] = Some(stored);
                    }
                    let client = client.clone();
                    tasks.spawn(async move {
                        let req = IngestRequest {
                            text: Some(item.text),
                            metadata: item.metadata,
                            model_version: DEFAULT_MODEL_VERSION.into(),
                            ttl_s: item.expires_ms.map(ttl_s),
                            auth: client.namespace_auth(item.namespace.as_deref())?,
                            ..Default::default()
                        };
                        let r = client.ingest(&req).await?;
                        Ok::<_, ClientError>((i, Stored::answered(client.base_url(), r)?))
                    });
                }
                while let Some(done) = tasks.join_next().await {
                    let (j, stored) = done??;
                    results[j] = Some(stored);
                }
                Ok(results
                    .into_iter()
                    .map(|r| r.expect("every task reported"))
                    .collect())
            }
        }
    }

    /// Stores one ready-made vector, byte for byte, with the text it stands for when given
    /// (kept beside it, never embedded again), expiring at `expires_ms` when given (private
    /// namespaces only).
    ///
    /// # Errors
    /// Invalid vector or metadata, an expiry on a public memory, or a backend failure.
    pub async fn ingest_vector(
        &self,
        embedding: Vec<f32>,
        metadata: Value,
        model_version: Option<String>,
        namespace: Option<&str>,
        text: Option<String>,
        expires_ms: Option<u64>,
    ) -> Result<Stored, ClientError> {
        let model_version = model_version.unwrap_or_else(|| DEFAULT_MODEL_VERSION.to_string());
        match self {
            Memory::Embedded(engine) => {
                let engine = engine.clone();
                let item = engram_engine::VectorItem {
                    embedding,
                    metadata,
                    model_version,
                    namespace: namespace.map(str::to_string),
                    text,
                    expires_ms,
                };
                let out = blocking(move || engine.ingest_vectors(vec![item])).await?;
                Ok(Stored {
                    cid: out[0].cid,
                    new: out[0].stored,
                })
            }
            Memory::Remote(client) => {
                let req = IngestRequest {
                    raw_embedding: Some(embedding),
                    source_text: text,
                    metadata,
                    model_version,
                    ttl_s: expires_ms.map(ttl_s),
                    auth: client.namespace_auth(namespace)?,
                    ..Default::default()
                };
                Stored::answered(client.base_url(), client.ingest(&req).await?)
            }
        }
    }

    /// The `top_k` best memories for a text (or, with `vector`, nearest to that vector),
    /// ranked and kept as `how` says.
    ///
    /// # Errors
    /// Bad `top_k`, text, vector, filter or weight; a keyword or hybrid query without
    /// text; backend failures.
    pub async fn query(
        &self,
        text: Option<String>,
        vector: Option<Vec<f32>>,
        top_k: usize,
        namespace: Option<&str>,
        filter: Map<String, Value>,
        how: Retrieval,
    ) -> Result<Vec<QueryResult>, ClientError> {
        let min_tier = how.min_tier;
        if text.is_none() && how.mode.needs_text() {
            return Err(ClientError::ModeNeedsText(how.mode));
        }
        match self {
            Memory::Embedded(engine) => {
                let engine = engine.clone();
                let scope = engram_engine::Where::new(namespace, filter);
                let weight = how
                    .keyword_weight
                    .unwrap_or(engram_core::search::DEFAULT_KEYWORD_WEIGHT);
                let hits = blocking(move || match (text, vector) {
                    (Some(t), _) => engine.query_text_with(&t, how.mode, weight, top_k, &scope),
                    (None, Some(v)) => engine.query_vector(&v, top_k, &scope),
                    (None, None) => Err(engram_engine::EngineError::Invalid(
                        engram_core::CoreError::EmptyText,
                    )),
                })
                .await?;
                // The local store attests nothing: every namespace is anonymous there.
                let tier = TrustTier::Anonymous;
                if !tier.meets(min_tier) {
                    return Ok(Vec::new());
                }
                Ok(hits
                    .into_iter()
                    .map(|h| QueryResult::from_hit(h, tier))
                    .collect())
            }
            Memory::Remote(client) => {
                let req = QueryRequest {
                    query_text: text,
                    query_vector: vector,
                    top_k: Some(top_k as i64),
                    filter: if filter.is_empty() {
                        None
                    } else {
                        Some(filter)
                    },
                    min_trust_tier: min_tier,
                    // Absent for dense: what the original protocol's nodes understand.
                    mode: (how.mode != SearchMode::Dense).then_some(how.mode),
                    keyword_weight: how.keyword_weight,
                    auth: client.namespace_auth(namespace)?,
                };
                Ok(client.query(&req).await?.results)
            }
        }
    }

    /// A page of `namespace`'s memories (public when `None`) whose metadata matches
    /// `filter`: `limit` 1–200 after skipping `offset`.
    ///
    /// # Errors
    /// A bad page or filter; backend failures.
    pub async fn list(
        &self,
        filter: Map<String, Value>,
        limit: i64,
        offset: i64,
        namespace: Option<&str>,
    ) -> Result<Vec<ListedRecord>, ClientError> {
        match self {
            Memory::Embedded(engine) => {
                let engine = engine.clone();
                let scope = engram_engine::Where::new(namespace, filter);
                let records = blocking(move || engine.list(&scope, limit, offset)).await?;
                Ok(records.into_iter().map(ListedRecord::from).collect())
            }
            Memory::Remote(client) => {
                let req = ListRequest {
                    filter: (!filter.is_empty()).then_some(filter),
                    limit: Some(limit),
                    offset: Some(offset),
                    auth: client.namespace_auth(namespace)?,
                };
                Ok(client.list(&req).await?.records)
            }
        }
    }

    /// The record under `cid` in `namespace` (public when `None`); `None` when absent.
    /// A node needs the client's signer for a private namespace.
    ///
    /// # Errors
    /// A backend failure.
    pub async fn get(
        &self,
        cid: &Cid,
        namespace: Option<&str>,
    ) -> Result<Option<RetrieveResponse>, ClientError> {
        let parsed = *cid;
        match self {
            Memory::Embedded(engine) => {
                let engine = engine.clone();
                let ns = namespace.map(str::to_string);
                let r = blocking(move || engine.get(&parsed, ns.as_deref())).await?;
                Ok(r.map(RetrieveResponse::from))
            }
            Memory::Remote(client) => {
                client
                    .retrieve_in(&parsed, &client.namespace_auth(namespace)?)
                    .await
            }
        }
    }

    /// Deletes the memory under `cid` from `namespace`; false when it was not there.
    /// Nodes keep public memories forever and delete only from a private namespace, for
    /// its owner.
    ///
    /// # Errors
    /// A refusal (403 for public memories), or a backend failure.
    pub async fn delete(&self, cid: &Cid, namespace: Option<&str>) -> Result<bool, ClientError> {
        let parsed = *cid;
        match self {
            Memory::Embedded(engine) => {
                let engine = engine.clone();
                let ns = namespace.map(str::to_string);
                blocking(move || engine.delete(&parsed, ns.as_deref())).await
            }
            Memory::Remote(client) => {
                client
                    .delete(&parsed, &client.namespace_auth(namespace)?)
                    .await
            }
        }
    }

    /// Deletes the memories under `cids` from `namespace` in one pass of the store (one
    /// rewrite of the segments that held them, where one [`Memory::delete`] each would
    /// rewrite them each time); a document's file goes with its last memory. Absent CIDs
    /// are skipped; the answer lists what went and the commitment after.
    ///
    /// # Errors
    /// [`ClientError::Invalid`] for no CID or more than [`engram_core::MAX_DELETE_BATCH`];
    /// a refusal (403 for public memories on a node); a backend failure.
    pub async fn delete_many(
        &self,
        cids: &[Cid],
        namespace: Option<&str>,
    ) -> Result<DeleteResponse, ClientError> {
        engram_core::validate_delete_batch(cids.len())?;
        self.forget(cids.to_vec(), None, namespace).await
    }

    /// Deletes a document: its file `blob` (the `content_cid` its ingest answered with),
    /// every memory of `namespace` whose metadata names it and, opened with `key`, every
    /// sealed memory whose sealed metadata does. Memories go first, in batches of
    /// [`engram_core::MAX_DELETE_BATCH`], the file with the last batch: a delete cut short
    /// is finished by running it again.
    ///
    /// # Errors
    /// [`ClientError::SealedNeedsKey`] when the namespace holds sealed memories and no
    /// `key` was given (nothing is deleted then); a memory CID for `blob`; a refusal; a
    /// backend failure.
    pub async fn delete_document(
        &self,
        blob: &Cid,
        namespace: Option<&str>,
        key: Option<&[u8; 32]>,
    ) -> Result<DeleteResponse, ClientError> {
        if !matches!(blob, Cid::Content(_)) {
            return Err(ClientError::Store(engram_store::StoreError::NotContentCid(
                *blob,
            )));
        }
        let page = engram_core::MAX_LIST_LIMIT as i64;
        let (mut sealed, mut unreadable, mut offset) = (Vec::new(), 0, 0);
        loop {
            let records = self.list(Map::new(), page, offset, namespace).await?;
            for r in &records {
                let Some(Value::String(ciphertext)) =
                    r.metadata.get(crate::sealed::ENCRYPTED_FIELD)
                else {
                    continue; // plain metadata: the store finds those itself
                };
                let Some(key) = key else {
                    unreadable += 1;
                    continue;
                };
                if let Ok((_, meta)) = engram_core::crypto::decrypt_memory(key, ciphertext)
                    && meta.get("blob_cid").and_then(Value::as_str) == Some(&blob.to_string())
                {
                    sealed.push(r.cid.parse::<Cid>()?);
                }
            }
            if (records.len() as i64) < page {
                break;
            }
            offset += page;
        }
        if unreadable > 0 {
            return Err(ClientError::SealedNeedsKey(unreadable));
        }
        let mut batches: Vec<Vec<Cid>> = sealed
            .chunks(engram_core::MAX_DELETE_BATCH)
            .map(<[Cid]>::to_vec)
            .collect();
        let last = batches.pop().unwrap_or_default();
        let mut done = DeleteResponse::default();
        for batch in batches {
            let part = self.forget(batch, None, namespace).await?;
            done.deleted.extend(part.deleted);
        }
        let part = self.forget(last, Some(*blob), namespace).await?;
        done.deleted.extend(part.deleted);
        done.blobs = part.blobs;
        done.commitment = part.commitment;
        Ok(done)
    }

    async fn forget(
        &self,
        cids: Vec<Cid>,
        document: Option<Cid>,
        namespace: Option<&str>,
    ) -> Result<DeleteResponse, ClientError> {
        match self {
            Memory::Embedded(engine) => {
                let (engine, ns) = (engine.clone(), namespace.map(str::to_string));
                let (gone, c) = blocking(move || {
                    let ns = ns.as_deref();
                    let gone = match document {
                        Some(blob) => engine.delete_document(&blob, &cids, ns)?,
                        None => engine.delete_many(&cids, ns)?,
                    };
                    Ok((gone, engine.store().commitment()))
                })
                .await?;
                Ok(DeleteResponse {
                    deleted: gone.memories.iter().map(Cid::to_string).collect(),
                    blobs: gone.blobs.iter().map(Cid::to_string).collect(),
                    commitment: (&c).into(),
                })
            }
            Memory::Remote(client) => {
                let req = DeleteRequest {
                    cids: cids.iter().map(Cid::to_string).collect(),
                    document: document.map(|d| d.to_string()),
                    auth: client.namespace_auth(namespace)?,
                };
                client.delete_many(&req).await
            }
        }
    }

    /// Stores a document (PDF, image or web page): its blob and one memory per chunk.
    /// Embedded: read here, archived on Arweave when `archiver` is set, stored locally;
    /// remote: sent to the node's `POST /IngestDocument`, which reads and archives it with
    /// its own configuration (`opts` then only limits what is sent). With `seal`, for a
    /// private namespace: read here, the file and every chunk sealed to the owner's key
    /// before anything is stored or sent (`media::seal_document`).
    ///
    /// # Errors
    /// [`ClientError::Media`] for a document that cannot be read, engine errors, a node's
    /// refusal; [`ClientError::PrivateDocument`] for a private namespace on a node without
    /// `seal`; [`ClientError::SealNeedsNamespace`] for `seal` without a private namespace.
    pub async fn ingest_document(
        &self,
        source: crate::media::DocumentSource,
        metadata: Value,
        namespace: Option<&str>,
        opts: &crate::media::MediaOptions,
        archiver: Option<&crate::media::Archiver>,
        seal: Option<&crate::media::Seal>,
    ) -> Result<engram_wire::DocumentResponse, ClientError> {
        let private = engram_core::auth::private_namespace(namespace);
        match (private, seal) {
            (Some(ns), Some(seal)) => {
                return self
                    .ingest_sealed_document(source, metadata, ns, opts, archiver, seal)
                    .await;
            }
            (None, Some(_)) => return Err(ClientError::SealNeedsNamespace),
            (Some(_), None) if self.is_remote() => return Err(ClientError::PrivateDocument),
            _ => {}
        }
        match self {
            Memory::Embedded(engine) => {
                let doc = crate::media::read_document(source, opts).await?;
                crate::media::ingest_document(
                    engine.clone(),
                    archiver,
                    doc,
                    metadata,
                    namespace.map(str::to_string),
                    opts.limits,
                )
                .await
            }
            Memory::Remote(client) => {
                use base64::Engine as _;
                let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
                let kind = source.kind().to_string();
                let mut req = engram_wire::DocumentRequest {
                    kind,
                    metadata,
                    auth: client.namespace_auth(namespace)?,
                    ..Default::default()
                };
                match source {
                    crate::media::DocumentSource::Pdf { bytes, filename } => {
                        opts.limits.check_size("PDF", bytes.len())?;
                        req.data_b64 = Some(b64(&bytes));
                        req.filename = Some(filename);
                    }
                    crate::media::DocumentSource::Image {
                        bytes,
                        filename,
                        description,
                    } => {
                        opts.limits.check_size("image", bytes.len())?;
                        req.data_b64 = Some(b64(&bytes));
                        req.filename = Some(filename);
                        req.description = description;
                    }
                    crate::media::DocumentSource::Url(url) => req.url = Some(url),
                }
                client.ingest_document(&req).await
            }
        }
    }

    /// [`Memory::ingest_document`] for a PDF's bytes, with the limits, vision model and
    /// (embedded) Arweave wallet the environment configures.
    ///
    /// # Errors
    /// As [`Memory::ingest_document`].
    pub async fn ingest_pdf(
        &self,
        bytes: Vec<u8>,
        filename: &str,
        metadata: Value,
        namespace: Option<&str>,
    ) -> Result<engram_wire::DocumentResponse, ClientError> {
        let source = crate::media::DocumentSource::Pdf {
            bytes,
            filename: filename.to_string(),
        };
        self.ingest_from_env(source, metadata, namespace).await
    }

    /// [`Memory::ingest_document`] for a web page (or a PDF) at `url`; loopback, private and
    /// link-local addresses are refused unless `ENGRAM_ALLOW_PRIVATE_URLS=true`.
    ///
    /// # Errors
    /// As [`Memory::ingest_document`].
    pub async fn ingest_url(
        &self,
        url: &str,
        metadata: Value,
        namespace: Option<&str>,
    ) -> Result<engram_wire::DocumentResponse, ClientError> {
        let source = crate::media::DocumentSource::Url(url.to_string());
        self.ingest_from_env(source, metadata, namespace).await
    }

    /// [`Memory::ingest_document`] for an image, embedded by `description` when given.
    ///
    /// # Errors
    /// As [`Memory::ingest_document`].
    pub async fn ingest_image(
        &self,
        bytes: Vec<u8>,
        filename: &str,
        description: Option<String>,
        metadata: Value,
        namespace: Option<&str>,
    ) -> Result<engram_wire::DocumentResponse, ClientError> {
        let source = crate::media::DocumentSource::Image {
            bytes,
            filename: filename.to_string(),
            description,
        };
        self.ingest_from_env(source, metadata, namespace).await
    }

    async fn ingest_from_env(
        &self,
        source: crate::media::DocumentSource,
        metadata: Value,
        namespace: Option<&str>,
    ) -> Result<engram_wire::DocumentResponse, ClientError> {
        let opts = crate::media::MediaOptions::from_env(crate::media::private_urls_allowed());
        let archiver = match self {
            Memory::Embedded(_) => crate::media::Archiver::from_env()?,
            Memory::Remote(_) => None,
        };
        self.ingest_document(source, metadata, namespace, &opts, archiver.as_ref(), None)
            .await
    }

    async fn ingest_sealed_document(
        &self,
        source: crate::media::DocumentSource,
        metadata: Value,
        namespace: &str,
        opts: &crate::media::MediaOptions,
        archiver: Option<&crate::media::Archiver>,
        seal: &crate::media::Seal,
    ) -> Result<engram_wire::DocumentResponse, ClientError> {
        let doc = crate::media::read_document(source, opts).await?;
        let (ns, seal2, limits) = (namespace.to_string(), seal.clone(), opts.limits);
        let sealed = tokio::task::spawn_blocking(move || {
            crate::media::seal_document(&doc, metadata, &ns, &seal2, limits)
        })
        .await??;
        let blob_cid = Cid::for_content(&sealed.blob);
        let info = match self {
            Memory::Embedded(engine) => {
                let archive = match archiver {
                    None => engram_store::Archive::Off,
                    Some(a) => {
                        a.archive_or_queue(&sealed.blob, crate::media::SEALED_TYPE, &blob_cid, true)
                            .await
                    }
                };
                let (engine, blob, ns) = (engine.clone(), sealed.blob, namespace.to_string());
                blocking(move || {
                    Ok(engine.store().blobs().put(
                        &blob,
                        crate::media::SEALED_TYPE,
                        &ns,
                        true,
                        archive,
                    )?)
                })
                .await?
            }
            Memory::Remote(client) => {
                client
                    .put_blob(&sealed.blob, &client.namespace_auth(Some(namespace))?)
                    .await?
            }
        };
        let mut response = sealed.response;
        (
            response.arweave,
            response.arweave_tx_id,
            response.arweave_url,
        ) = {
            let (a, t, u) = crate::media::archive_fields(&info.archive);
            (a.to_string(), t, u)
        };
        for p in sealed.memories {
            let stored = self
                .ingest_vector(
                    p.embedding,
                    p.metadata,
                    None,
                    Some(namespace),
                    p.source_text,
                    None,
                )
                .await?;
            response.cids.push(stored.cid.to_string());
        }
        Ok(response)
    }

    /// A blob's bytes by content CID, checked against it; a private namespace's blob from
    /// a node with this client's signature for `namespace`.
    ///
    /// # Errors
    /// [`ClientError::Store`] (not kept here, damaged) or a node's answer.
    pub async fn blob(&self, cid: &Cid, namespace: Option<&str>) -> Result<Vec<u8>, ClientError> {
        match self {
            Memory::Embedded(engine) => Ok(engine.store().blobs().get(cid)?),
            Memory::Remote(client) => {
                client
                    .blob_in(cid, &client.namespace_auth(namespace)?)
                    .await
            }
        }
    }

    /// Whether the backend answers: a node's `/health`; the embedded store is up when open.
    ///
    /// # Errors
    /// A node that cannot be reached or answers an error.
    pub async fn health(&self) -> Result<engram_wire::HealthResponse, ClientError> {
        match self {
            Memory::Embedded(engine) => Ok(engram_wire::HealthResponse {
                status: "ok".into(),
                vectors: Some(engine.store().len() as u64),
                ..Default::default()
            }),
            Memory::Remote(client) => client.health().await,
        }
    }

    /// Count and commitment roots.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn status(&self) -> Result<MemoryStatus, ClientError> {
        match self {
            Memory::Embedded(engine) => {
                let engine = engine.clone();
                let local = blocking(move || engine.status()).await?;
                let (count, c) = (local.count, local.commitment);
                Ok(MemoryStatus {
                    blobs: local.blobs as u64,
                    pending_uploads: local.pending_uploads as u64,
                    location: local.data_dir.display().to_string(),
                    local: Some(local),
                    count,
                    root_hex: hex::encode(c.root_v1),
                    root_v2_hex: hex::encode(c.root_v2),
                })
            }
            Memory::Remote(client) => {
                let stats = client.stats().await?;
                let c = client.commitment().await?;
                let health = client.health().await?;
                Ok(MemoryStatus {
                    blobs: health.blobs.unwrap_or(0),
                    pending_uploads: health.pending_uploads.unwrap_or(0),
                    local: None,
                    location: client.base_url().into(),
                    count: stats.memories,
                    root_hex: c.root_hex,
                    root_v2_hex: c.root_v2_hex,
                })
            }
        }
    }
}
