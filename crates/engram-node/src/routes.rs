//! The handlers of the wire protocol (DESIGN §3). Each checks its input completely before
//! touching the store, so a refused request changes nothing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use engram_core::proof::{Hotkey, Nonce, proof_v1, proof_v2};
use engram_core::{
    Cid, DEFAULT_MODEL_VERSION, DEFAULT_TOP_K, embedding_hash_hex, validate_text, validate_top_k,
};
use engram_engine::{Ranking, SearchMode, TextItem, VectorItem, Where};
use engram_os::now_ms;
use engram_store::PUBLIC_NAMESPACE;
use engram_wire::{
    AttestRequest, AttestResponse, AttestationResponse, ChallengeRequest, ChallengeResponse,
    CidsResponse, CommitmentResponse, DeleteRequest, DeleteResponse, HealthResponse, IngestRequest,
    IngestResponse, ListRequest, ListResponse, ListedRecord, MAX_CIDS_PAGE, NamespaceAuth,
    ProveMemoryRequest, ProveMemoryResponse, QueryRequest, QueryResponse, QueryResult,
    RetrieveResponse, StatsResponse,
};

use tracing::Instrument as _;

use crate::error::ApiError;
use crate::fault::Fault;
use crate::json::{Json, Query};
use crate::metrics::{CHALLENGE, INGEST, Kind, QUERY, Sample};
use crate::server::AppState;

type Shared = State<Arc<AppState>>;

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    // The request's span goes along: the engine's spans stay in the request's trace.
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f)).await?
}

fn parse_cid(raw: &str) -> Result<Cid, ApiError> {
    Ok(raw.parse::<Cid>()?)
}

fn hex32(raw: &str, field: &'static str) -> Result<[u8; 32], ApiError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(raw, &mut out).map_err(|_| engram_core::CoreError::BadHex {
        field,
        expected_len: 64,
    })?;
    Ok(out)
}

pub(crate) async fn ingest(
    State(state): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(req, caller): Json<IngestRequest>,
) -> Result<axum::Json<IngestResponse>, ApiError> {
    let verified = caller.clone();
    let ns = state.namespaces.authorize(&req.auth, now_ms(), true)?;
    let expires_ms = req
        .ttl_s
        .map(|ttl| engram_core::expiry_ms(ttl, ns.is_none(), now_ms()))
        .transpose()?;
    // The wire's shape rules are the node's; the ingest rules are the engine's, checked
    // here before the rate limit and the model, so a bad request costs neither.
    let incoming = match (req.text, req.raw_embedding) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "send either text or raw_embedding, not both".into(),
            ));
        }
        (None, None) => return Err(ApiError::BadRequest("send text or raw_embedding".into())),
        (None, Some(embedding)) => {
            let item = VectorItem {
                embedding,
                metadata: req.metadata,
                model_version: req.model_version,
                namespace: ns,
                text: req.source_text,
                expires_ms,
            };
            item.check()?;
            Err(item)
        }
        (Some(_), None) if req.source_text.is_some() => {
            return Err(ApiError::BadRequest(
                "source_text goes with raw_embedding; text is embedded by the node".into(),
            ));
        }
        (Some(text), None) => {
            if req.model_version != DEFAULT_MODEL_VERSION {
                return Err(ApiError::BadRequest(format!(
                    "this node embeds text with model version {DEFAULT_MODEL_VERSION}; send raw_embedding for model_version {:?}",
                    req.model_version
                )));
            }
            let item = TextItem {
                text,
                metadata: req.metadata,
                namespace: ns,
                expires_ms,
            };
            item.check()?;
            Ok(item)
        }
    };
    state
        .limiter
        .check(
            &caller.unwrap_or_else(|| peer.ip().to_string()),
            Instant::now(),
        )
        .map_err(|retry_after| ApiError::RateLimited {
            per_minute: state.limiter.per_minute(),
            retry_after,
        })?;
    let item = match incoming {
        Ok(t) => {
            let mut embedding = state
                .embedder
                .embed(t.text.clone())
                .instrument(tracing::info_span!("embed", texts = 1))
                .await?;
            // Inversion resistance for private memories, before the CID is computed.
            // Raw embeddings arrive as their sender made them (noised client-side).
            if let (Some(_), Some(eps)) = (&t.namespace, state.config.dp_epsilon) {
                embedding = engram_client::sealed::noised(&embedding, eps)?;
            }
            VectorItem {
                embedding,
                metadata: t.metadata,
                model_version: DEFAULT_MODEL_VERSION.to_string(),
                namespace: t.namespace,
                text: Some(t.text),
                expires_ms: t.expires_ms,
            }
        }
        Err(raw) => raw,
    };
    if state.config.fault() != Fault::None {
        let cid = item.cid()?;
        if state.config.fault().discards(&cid) {
            return Ok(axum::Json(IngestResponse {
                cid: Some(cid.to_string()),
                stored: true,
                error: None,
            }));
        }
    }
    let engine = state.engine.clone();
    let out = blocking(move || Ok(engine.ingest_vectors(vec![item])?)).await?;
    if let Some(hotkey) = &verified {
        state.wallets.ingest(hotkey, &out[0].cid.to_string());
    }
    Ok(axum::Json(IngestResponse {
        cid: Some(out[0].cid.to_string()),
        stored: out[0].stored,
        error: None,
    }))
}

/// A query text's vector: from the engine's cache for public queries (repeats skip the
/// model), else from the batching thread.
async fn embed_query(
    state: &AppState,
    text: String,
    namespace: Option<&str>,
) -> Result<Vec<f32>, ApiError> {
    let cache = state.engine.query_cache();
    if let Some(v) = cache.get(&text, namespace) {
        return Ok(v.to_vec());
    }
    let v = state
        .embedder
        .embed(text.clone())
        .instrument(tracing::info_span!("embed", texts = 1, cache = "miss"))
        .await?;
    cache.insert(&text, namespace, v.as_slice().into());
    Ok(v)
}

/// The smallest padded answer: every private answer is at least this long.
pub(crate) const PAD_MIN_BYTES: usize = 16 << 10;

/// `body` as JSON, padded for a private namespace with trailing whitespace (which every JSON
/// parser skips) to the next size bucket — [`PAD_MIN_BYTES`], then powers of two — so an
/// answer's length does not tell how many memories matched or how long they are, only its
/// power-of-two bucket. Public answers are sent as they are.
pub(crate) fn uniform<T: serde::Serialize>(body: &T, private: bool) -> axum::response::Response {
    let mut bytes = serde_json::to_vec(body).expect("a response serializes");
    if private {
        let bucket = bytes.len().max(PAD_MIN_BYTES).next_power_of_two();
        bytes.resize(bucket, b' ');
    }
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

pub(crate) async fn query(
    State(state): Shared,
    Json(req, caller): Json<QueryRequest>,
) -> Result<axum::response::Response, ApiError> {
    let started = Instant::now();
    let top_k = validate_top_k(req.top_k.unwrap_or(DEFAULT_TOP_K as i64))?;
    let scope = Where {
        namespace: state.namespaces.authorize(&req.auth, now_ms(), false)?,
        filters: req.filter.unwrap_or_default().into_iter().collect(),
    };
    let mode = req.mode.unwrap_or_default();
    let keyword_weight = engram_core::search::validate_keyword_weight(
        req.keyword_weight
            .unwrap_or(engram_core::search::DEFAULT_KEYWORD_WEIGHT),
    )?;
    let (text, vector) = match (req.query_text, req.query_vector) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "send either query_text or query_vector, not both".into(),
            ));
        }
        (None, None) => {
            return Err(ApiError::BadRequest(
                "send query_text or query_vector".into(),
            ));
        }
        (None, Some(_)) if mode.needs_text() => {
            return Err(ApiError::BadRequest(format!(
                "mode {mode} ranks by words: send query_text, not query_vector"
            )));
        }
        (None, Some(v)) => {
            engram_core::validate_embedding(&v)?;
            (None, Some(v))
        }
        (Some(text), None) => {
            validate_text(&text)?;
            let vector = match mode {
                SearchMode::Keyword => None,
                _ => Some(embed_query(&state, text.clone(), scope.namespace.as_deref()).await?),
            };
            (Some(text), vector)
        }
    };
    // A plain search runs inline on the async worker: HNSW over a bounded unindexed tail
    // takes a few hundred microseconds, less than a round trip through the blocking pool
    // costs under load (1.5x the QPS, docs/benchmarks.md). Metadata filters read payloads
    // from disk, and keyword and hybrid queries walk posting lists, which can take far
    // longer: those go to the blocking pool.
    let search = move |engine: &engram_engine::Engine, scope: &Where| {
        let ranking = match (mode, text.as_deref(), vector.as_deref()) {
            (SearchMode::Keyword, Some(text), _) => Ranking::Keyword(text),
            (SearchMode::Hybrid, Some(text), Some(vector)) => Ranking::Hybrid {
                vector,
                text,
                keyword_weight,
            },
            (_, _, Some(vector)) => Ranking::Dense(vector),
            _ => unreachable!("a vector is embedded for every mode but keyword"),
        };
        engine.query(ranking, top_k, scope)
    };
    let (mut hits, scope) = if scope.filters.is_empty() && mode == SearchMode::Dense {
        (search(&state.engine, &scope)?, scope)
    } else {
        let engine = state.engine.clone();
        blocking(move || Ok((search(&engine, &scope)?, scope))).await?
    };
    match state.config.fault() {
        Fault::DelayMs(ms) => tokio::time::sleep(std::time::Duration::from_millis(ms)).await,
        Fault::HashOnly => hits.clear(),
        _ => {}
    }
    let tier = state.attestations.tier(scope.namespace.as_deref());
    if !tier.meets(req.min_trust_tier) {
        hits.clear();
    }
    let results = hits
        .into_iter()
        .map(|h| QueryResult::from_hit(h, tier))
        .collect();
    if let Some(hotkey) = &caller {
        state.wallets.query(hotkey);
    }
    let answer = QueryResponse {
        results,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        error: None,
    };
    Ok(uniform(&answer, scope.namespace.is_some()))
}

pub(crate) async fn challenge(
    State(state): Shared,
    Json(req, caller): Json<ChallengeRequest>,
) -> Result<axum::Json<ChallengeResponse>, ApiError> {
    let allow = &state.config.challenge_allowlist;
    if !allow.is_empty() && !caller.as_ref().is_some_and(|c| allow.contains(c)) {
        return Err(ApiError::Forbidden(
            "this node takes challenges only from allowlisted validators: sign the request with one of their hotkeys".into(),
        ));
    }
    let cid = parse_cid(&req.cid)?;
    let nonce: Nonce = hex32(&req.nonce_hex, "nonce_hex")?;
    let hotkey: Option<Hotkey> = match req.validator_hotkey_hex.as_deref() {
        None | Some("") => None,
        Some(h) => Some(hex32(h, "validator_hotkey_hex")?),
    };
    let version = req.version.unwrap_or(1);
    if !matches!(version, 1 | 2) {
        return Err(ApiError::BadRequest(format!(
            "version must be 1 or 2, got {version}"
        )));
    }
    if !req.expires_at.is_finite() || req.expires_at * 1000.0 < now_ms() as f64 {
        return Err(ApiError::BadRequest("challenge expired".into()));
    }
    let engine = state.engine.clone();
    let record = blocking(move || Ok(engine.get(&cid, None)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{cid} is not stored on this node")))?;
    let ehash = embedding_hash_hex(&record.vector);
    let proof = match (version, state.config.fault()) {
        (1, _) => proof_v1(&ehash, &nonce, hotkey.as_ref()),
        // Without the vector bytes the best a hash-only node can do is guess.
        (_, Fault::HashOnly) => proof_v2(&record.cid, &[0.0; 384], &nonce, hotkey.as_ref()),
        _ => proof_v2(&record.cid, &record.vector, &nonce, hotkey.as_ref()),
    };
    Ok(axum::Json(ChallengeResponse {
        embedding_hash: ehash,
        proof: hex::encode(proof),
        version,
    }))
}

pub(crate) async fn health(State(state): Shared) -> axum::Json<HealthResponse> {
    let counts = state.engine.store().blobs().counts().ok();
    axum::Json(HealthResponse {
        status: "ok".into(),
        vectors: Some(state.engine.store().len() as u64),
        blobs: counts.map(|c| c.0 as u64),
        pending_uploads: counts.map(|c| c.1 as u64),
    })
}

pub(crate) async fn stats(State(state): Shared) -> Result<axum::Json<StatsResponse>, ApiError> {
    let engine = state.engine.clone();
    let memories = blocking(move || {
        Ok(engine
            .store()
            .count(None)
            .map_err(engram_engine::EngineError::from)?)
    })
    .await?;
    let m = &state.metrics;
    let (ingests, _) = m.outcomes(INGEST);
    let (queries, _) = m.outcomes(QUERY);
    let (proofs, challenges) = m.outcomes(CHALLENGE);
    Ok(axum::Json(StatsResponse {
        memories,
        ingests,
        queries,
        p50_latency_ms: m.query_p50_ms(),
        challenges,
        proof_rate: if challenges == 0 {
            1.0
        } else {
            proofs as f64 / challenges as f64
        },
        uptime_s: m.uptime().as_secs_f64(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    }))
}

pub(crate) async fn metrics(State(state): Shared) -> Result<impl IntoResponse, ApiError> {
    let engine = state.engine.clone();
    let (count, unindexed) = blocking(move || {
        let store = engine.store();
        Ok((store.commitment().count, store.unindexed()))
    })
    .await?;
    let cache = state.engine.query_cache().stats();
    let sample = |name, help, kind, value| Sample {
        name,
        help,
        kind,
        value,
    };
    let mut body = state.metrics.prometheus(&[
        sample(
            "engram_memories",
            "Distinct memories committed to.",
            Kind::Gauge,
            count as f64,
        ),
        sample(
            "engram_embed_queue_depth",
            "Texts waiting for or in the embedder.",
            Kind::Gauge,
            state.embedder.depth() as f64,
        ),
        sample(
            "engram_unindexed_vectors",
            "Vectors not yet in an HNSW index.",
            Kind::Gauge,
            unindexed as f64,
        ),
        sample(
            "engram_query_cache_hits_total",
            "Public query texts answered from the query-embedding cache.",
            Kind::Counter,
            cache.hits as f64,
        ),
        sample(
            "engram_query_cache_misses_total",
            "Public query texts that had to be embedded.",
            Kind::Counter,
            cache.misses as f64,
        ),
        sample(
            "engram_query_cache_entries",
            "Query embeddings cached now (bounded).",
            Kind::Gauge,
            cache.entries as f64,
        ),
    ]);
    state.embedder.with_times(|t| {
        t.wait.write_family(
            &mut body,
            "engram_embed_wait_seconds",
            "Time a text waited for the embedding thread.",
        );
        t.batch.write_family(
            &mut body,
            "engram_embed_batch_seconds",
            "Time the batch a text was embedded in took (one observation per text).",
        );
        t.size.write_family(
            &mut body,
            "engram_embed_batch_size",
            "Texts per embedding batch.",
        );
    });
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body))
}

/// `GET /retrieve/{cid}`: public records, or, with namespace credentials in the query
/// string, the caller's private ones.
pub(crate) async fn retrieve(
    State(state): Shared,
    Path(raw): Path<String>,
    Query(auth): Query<NamespaceAuth>,
) -> Result<axum::response::Response, ApiError> {
    let cid = parse_cid(&raw)?;
    let ns = state.namespaces.authorize(&auth, now_ms(), false)?;
    let private = ns.is_some();
    let engine = state.engine.clone();
    let r = blocking(move || Ok(engine.get(&cid, ns.as_deref())?))
        .await?
        .filter(|_| state.config.fault() != Fault::HashOnly)
        .ok_or_else(|| ApiError::NotFound(format!("{cid} is not stored on this node")))?;
    let mut out = RetrieveResponse::from(r);
    if state.config.fault() == Fault::Tamper
        && let Some(x) = out.embedding.first_mut()
    {
        *x += 0.001;
    }
    Ok(uniform(&out, private))
}

/// `POST /list`: a page of a namespace's memories (the public one, or a private one for
/// its signed owner), optionally filtered by metadata.
pub(crate) async fn list(
    State(state): Shared,
    Json(req, _caller): Json<ListRequest>,
) -> Result<axum::response::Response, ApiError> {
    let limit = req.limit.unwrap_or(engram_core::DEFAULT_LIST_LIMIT as i64);
    let offset = req.offset.unwrap_or(0);
    let scope = Where {
        namespace: state.namespaces.authorize(&req.auth, now_ms(), false)?,
        filters: req.filter.unwrap_or_default().into_iter().collect(),
    };
    let private = scope.namespace.is_some();
    let engine = state.engine.clone();
    // The engine owns the page rule; what it accepted is within range.
    let records = blocking(move || Ok(engine.list(&scope, limit, offset)?)).await?;
    let mut records: Vec<ListedRecord> = records.into_iter().map(ListedRecord::from).collect();
    if state.config.fault() == Fault::LieList {
        for r in &mut records {
            r.cid = Cid::V1(engram_core::dht::cid_key(&r.cid)).to_string();
        }
    }
    let page = ListResponse {
        count: records.len(),
        records,
        offset: offset as usize,
        limit: limit as usize,
    };
    Ok(uniform(&page, private))
}

/// Query string of `GET /cids`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct CidsPage {
    #[serde(default)]
    offset: u64,
    #[serde(default = "default_cids_limit")]
    limit: usize,
}

fn default_cids_limit() -> usize {
    1000
}

/// `GET /cids`: the public CIDs, or with namespace credentials in the query string, the
/// caller's private ones.
pub(crate) async fn cids(
    State(state): Shared,
    Query(page): Query<CidsPage>,
    Query(auth): Query<NamespaceAuth>,
) -> Result<axum::response::Response, ApiError> {
    if page.limit == 0 || page.limit > MAX_CIDS_PAGE {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_CIDS_PAGE}, got {}",
            page.limit
        )));
    }
    let namespace = state.namespaces.authorize(&auth, now_ms(), false)?;
    let private = namespace.is_some();
    let all = match namespace {
        None => state.public_cids().await?,
        Some(ns) => {
            let engine = state.engine.clone();
            let cids = blocking(move || Ok(engine.cids(Some(&ns))?)).await?;
            std::sync::Arc::new(cids.iter().map(ToString::to_string).collect())
        }
    };
    let cids = all
        .iter()
        .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
        .take(page.limit)
        .map(ToString::to_string)
        .collect();
    let answer = CidsResponse {
        total: all.len() as u64,
        offset: page.offset,
        cids,
    };
    Ok(uniform(&answer, private))
}

pub(crate) async fn commitment(
    State(state): Shared,
) -> Result<axum::Json<CommitmentResponse>, ApiError> {
    // The commitment may rebuild Merkle roots under the store's write lock: not on an
    // async worker.
    let engine = state.engine.clone();
    let c = blocking(move || Ok(engine.store().commitment())).await?;
    Ok(axum::Json(CommitmentResponse::from(&c)))
}

pub(crate) async fn prove_memory(
    State(state): Shared,
    Json(req, _caller): Json<ProveMemoryRequest>,
) -> Result<axum::Json<ProveMemoryResponse>, ApiError> {
    let cid = parse_cid(&req.cid)?;
    let engine = state.engine.clone();
    let (record, proofs, c) = blocking(move || {
        let store = engine.store();
        let record = engine
            .get(&cid, None)?
            .ok_or_else(|| ApiError::NotFound(format!("{cid} is not stored on this node")))?;
        let proofs = store
            .prove(PUBLIC_NAMESPACE, &cid)
            .map_err(engram_engine::EngineError::from)?;
        Ok((record, proofs, store.commitment()))
    })
    .await?;
    let ehash = embedding_hash_hex(&record.vector);
    if let Some(expected) = &req.embedding_hash
        && expected != &ehash
    {
        return Err(ApiError::BadRequest(format!(
            "{cid} is stored with embedding hash {ehash}, not {expected}"
        )));
    }
    Ok(axum::Json(ProveMemoryResponse {
        root_hex: hex::encode(c.root_v1),
        cid: cid.to_string(),
        proof: proofs.0.to_json(),
        embedding_hash: ehash,
        root_v2_hex: hex::encode(c.root_v2),
        proof_v2: serde_json::to_value(&proofs.1).expect("a proof serializes"),
    }))
}

/// `POST /RepairSynapse` body.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct RepairRequest {
    #[serde(default)]
    cid: Option<String>,
}

/// `POST /RepairSynapse` (the original's): a public record's exact vector and metadata, for
/// a signed caller re-replicating it (a validator). Private records answer as missing ones.
pub(crate) async fn repair(
    State(state): Shared,
    Json(req, caller): Json<RepairRequest>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    if caller.is_none() {
        return Err(ApiError::Unauthorized(
            "RepairSynapse needs a signed request: send hotkey, nonce and signature".into(),
        ));
    }
    let Some(raw) = req.cid.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
        return Err(ApiError::BadRequest("missing cid".into()));
    };
    let cid = parse_cid(raw)?;
    let engine = state.engine.clone();
    let record = blocking(move || Ok(engine.get(&cid, None)?))
        .await?
        .filter(|_| state.config.fault() != Fault::HashOnly)
        .ok_or_else(|| ApiError::NotFound("not found".into()))?;
    Ok(axum::Json(serde_json::json!({
        "cid": record.cid.to_string(),
        "embedding": record.vector,
        "metadata": record.metadata,
    })))
}

/// `DELETE /retrieve/{cid}`: the owner of a private namespace removes one of its
/// memories. Public memories are permanent.
pub(crate) async fn delete(
    State(state): Shared,
    Path(raw): Path<String>,
    Json(auth, _caller): Json<NamespaceAuth>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let cid = parse_cid(&raw)?;
    let Some(ns) = state.namespaces.authorize(&auth, now_ms(), false)? else {
        return Err(ApiError::Forbidden(
            "public memories are permanent; only a private namespace's owner can delete, with its signature".into(),
        ));
    };
    let engine = state.engine.clone();
    let deleted = blocking(move || Ok(engine.delete(&cid, Some(&ns))?)).await?;
    if !deleted {
        return Err(ApiError::NotFound(format!(
            "{raw} is not stored in this namespace"
        )));
    }
    Ok(axum::Json(
        serde_json::json!({"cid": raw, "deleted": true, "error": null}),
    ))
}

/// `POST /delete`: the owner of a private namespace deletes memories in one pass of the
/// store (one vacuum for the batch), and with `document` that document's file and every
/// memory whose metadata names it; answers with what went and the new commitment.
pub(crate) async fn delete_many(
    State(state): Shared,
    Json(req, _caller): Json<DeleteRequest>,
) -> Result<axum::Json<DeleteResponse>, ApiError> {
    let Some(ns) = state.namespaces.authorize(&req.auth, now_ms(), false)? else {
        return Err(ApiError::Forbidden(
            "public memories are permanent; only a private namespace's owner can delete, with its signature".into(),
        ));
    };
    let cids = req
        .cids
        .iter()
        .map(|c| parse_cid(c))
        .collect::<Result<Vec<_>, _>>()?;
    let document = req.document.as_deref().map(parse_cid).transpose()?;
    let engine = state.engine.clone();
    let (gone, c) = blocking(move || {
        let gone = match document {
            Some(blob) => engine.delete_document(&blob, &cids, Some(&ns))?,
            None => engine.delete_many(&cids, Some(&ns))?,
        };
        Ok((gone, engine.store().commitment()))
    })
    .await?;
    Ok(axum::Json(DeleteResponse {
        deleted: gone.memories.iter().map(Cid::to_string).collect(),
        blobs: gone.blobs.iter().map(Cid::to_string).collect(),
        commitment: CommitmentResponse::from(&c),
    }))
}

/// `POST /AttestNamespace`.
pub(crate) async fn attest(
    State(state): Shared,
    Json(req, _caller): Json<AttestRequest>,
) -> Result<axum::Json<AttestResponse>, ApiError> {
    let st = state.clone();
    let namespace = req.namespace.clone();
    let a = blocking(move || st.attestations.attest(&req, &st.namespaces, now_ms())).await?;
    Ok(axum::Json(AttestResponse {
        ok: true,
        namespace,
        trust_tier: a.trust_tier,
        stake_tao: a.stake_tao,
    }))
}

/// `GET /attestation/{namespace}`: public, and says nothing of the namespace's contents.
pub(crate) async fn attestation(
    State(state): Shared,
    Path(namespace): Path<String>,
) -> Result<axum::Json<AttestationResponse>, ApiError> {
    crate::namespaces::private_name(Some(&namespace))?;
    Ok(axum::Json(state.attestations.describe(&namespace)))
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
