//! Documents and blobs over HTTP: `POST /IngestDocument` reads a PDF, image or URL and
//! stores it (blob + one memory per chunk, through `engram_client::media`, the pipeline
//! the embedded store uses too); `GET /blob/{cid}` serves a blob's bytes, checked against
//! its content CID, with single byte ranges; `GET /blob/{cid}/info` its record. A
//! background task retries pending Arweave uploads.
//!
//! Fetching URLs for strangers makes a node a proxy into its own network, so the fetch
//! refuses loopback, private and link-local addresses unless the operator sets
//! `allow_private_urls` (see `engram_media::fetch`).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use engram_client::media::{self, DocumentSource};
use engram_core::Cid;
use engram_os::now_ms;
use engram_store::{Archive, BlobInfo, PUBLIC_NAMESPACE};
use engram_wire::{DocumentRequest, DocumentResponse, NamespaceAuth};

use crate::error::ApiError;
use crate::json::{Json, Query};
use crate::server::AppState;

type Shared = State<Arc<AppState>>;

/// The body limit of `POST /IngestDocument`: the document cap in base64, plus room for the
/// other fields.
pub(crate) fn body_limit(max_document_bytes: usize) -> usize {
    max_document_bytes.div_ceil(3) * 4 + (64 << 10)
}

pub(crate) async fn ingest_document(
    State(state): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(req, caller): Json<DocumentRequest>,
) -> Result<axum::Json<DocumentResponse>, ApiError> {
    if state
        .namespaces
        .authorize(&req.auth, now_ms(), true)?
        .is_some()
    {
        // Private documents arrive sealed, through POST /blob and sealed memories.
        return Err(ApiError::Client(
            engram_client::ClientError::PrivateDocument,
        ));
    }
    let bytes = |what: &str| -> Result<(Vec<u8>, String), ApiError> {
        let data = req
            .data_b64
            .as_deref()
            .ok_or_else(|| ApiError::BadRequest(format!("a {what} needs data_b64")))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| ApiError::BadRequest(format!("data_b64 is not base64: {e}")))?;
        let name = req
            .filename
            .clone()
            .unwrap_or_else(|| format!("upload.{what}"));
        Ok((bytes, name))
    };
    let source = match req.kind.as_str() {
        "pdf" => {
            let (bytes, filename) = bytes("pdf")?;
            DocumentSource::Pdf { bytes, filename }
        }
        "image" => {
            let (bytes, filename) = bytes("image")?;
            DocumentSource::Image {
                bytes,
                filename,
                description: req.description.clone(),
            }
        }
        "url" => DocumentSource::Url(
            req.url
                .clone()
                .ok_or_else(|| ApiError::BadRequest("a url document needs url".into()))?,
        ),
        other => {
            return Err(ApiError::BadRequest(format!(
                "kind must be pdf, image or url, not {other:?}"
            )));
        }
    };
    // A document is many ingests: it counts against the caller's rate like one.
    rate_limit(&state, caller, peer)?;
    let doc = media::read_document(source, &state.media)
        .await
        .map_err(engram_client::ClientError::from)?;
    let out = media::ingest_document(
        state.engine.clone(),
        state.archiver.as_deref(),
        doc,
        req.metadata,
        None,
        state.media.limits,
    )
    .await?;
    Ok(axum::Json(out))
}

/// Counts a document-sized request against the caller's ingest rate.
fn rate_limit(state: &AppState, caller: Option<String>, peer: SocketAddr) -> Result<(), ApiError> {
    state
        .limiter
        .check(
            &caller.unwrap_or_else(|| peer.ip().to_string()),
            std::time::Instant::now(),
        )
        .map_err(|retry_after| ApiError::RateLimited {
            per_minute: state.limiter.per_minute(),
            retry_after,
        })
}

pub(crate) async fn put_blob(
    State(state): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(auth): Query<NamespaceAuth>,
    body: axum::body::Bytes,
) -> Result<axum::Json<BlobInfo>, ApiError> {
    let Some(ns) = state.namespaces.authorize(&auth, now_ms(), true)? else {
        return Err(ApiError::BadRequest(
            "POST /blob keeps private namespaces' sealed files (sign for a namespace); public documents go to POST /IngestDocument".into(),
        ));
    };
    rate_limit(&state, auth.namespace_hotkey.clone(), peer)?;
    if body.is_empty() {
        return Err(ApiError::BadRequest("the blob is empty".into()));
    }
    let archive = if state.archiver.is_some() {
        Archive::Pending {
            attempts: 0,
            last_error: None,
        }
    } else {
        Archive::Off
    };
    let engine = state.engine.clone();
    let info = tokio::task::spawn_blocking(move || {
        engine
            .store()
            .blobs()
            .put(&body, media::SEALED_TYPE, &ns, true, archive)
    })
    .await?
    .map_err(engram_engine::EngineError::from)?;
    Ok(axum::Json(info))
}

/// A blob's record, if the caller may read it: anyone a public blob, the signed owner a
/// private namespace's.
async fn readable_blob(
    state: &AppState,
    raw: &str,
    auth: &NamespaceAuth,
) -> Result<BlobInfo, ApiError> {
    let cid: Cid = raw.parse()?;
    if !matches!(cid, Cid::Content(_)) {
        return Err(ApiError::BadRequest(format!(
            "{cid} is a memory CID; blobs are named sha256:<hex>"
        )));
    }
    let engine = state.engine.clone();
    let info = tokio::task::spawn_blocking(move || engine.store().blobs().info(&cid))
        .await?
        .map_err(engram_engine::EngineError::from)?
        .ok_or_else(|| ApiError::NotFound(format!("no blob {cid} is stored here")))?;
    // A namespace with no recorded owner (its blobs came from an embedded store this node
    // now serves) is readable by no one: any signature would pass the owner check.
    if info.namespace != PUBLIC_NAMESPACE
        && (!state.namespaces.is_owned(&info.namespace)
            || state
                .namespaces
                .authorize(auth, now_ms(), false)?
                .as_deref()
                != Some(info.namespace.as_str()))
    {
        return Err(ApiError::Forbidden(format!(
            "blob {cid} belongs to a private namespace; sign for it as its owner"
        )));
    }
    Ok(info)
}

pub(crate) async fn blob_info(
    State(state): Shared,
    Path(cid): Path<String>,
    Query(auth): Query<NamespaceAuth>,
) -> Result<axum::Json<BlobInfo>, ApiError> {
    Ok(axum::Json(readable_blob(&state, &cid, &auth).await?))
}

pub(crate) async fn blob(
    State(state): Shared,
    Path(cid): Path<String>,
    Query(auth): Query<NamespaceAuth>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let info = readable_blob(&state, &cid, &auth).await?;
    let engine = state.engine.clone();
    let id = info.cid;
    let bytes = tokio::task::spawn_blocking(move || engine.store().blobs().get(&id))
        .await?
        .map_err(engram_engine::EngineError::from)?;
    let total = bytes.len() as u64;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Range::Whole, |r| parse_range(r, total));
    let mut response = match range {
        Range::Whole => Response::new(Body::from(bytes)),
        Range::Part(start, end) => {
            let mut r = Response::new(Body::from(bytes[start as usize..=end as usize].to_vec()));
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {start}-{end}/{total}"))
                    .expect("a content range is a valid header"),
            );
            r
        }
        Range::Unsatisfiable => {
            let mut r = (
                StatusCode::RANGE_NOT_SATISFIABLE,
                axum::Json(serde_json::json!({
                    "error": format!("range not satisfiable for a blob of {total} bytes")
                })),
            )
                .into_response();
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{total}")).expect("valid header"),
            );
            return Ok(r);
        }
    };
    let h = response.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(ct) = HeaderValue::from_str(&info.content_type) {
        h.insert(header::CONTENT_TYPE, ct);
    }
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", info.cid)) {
        h.insert(header::ETAG, etag);
    }
    // Fetched pages are strangers' HTML: never let a browser run them as this origin's.
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    let inline = info.content_type == "application/pdf" || info.content_type.starts_with("image/");
    if !inline {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    // Content-addressed bytes never change; a private namespace's are nobody's to cache.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if info.namespace == PUBLIC_NAMESPACE {
            "public, max-age=31536000, immutable"
        } else {
            "private, no-store"
        }),
    );
    Ok(response)
}

/// What a `Range` header asks of a blob.
#[derive(Debug, PartialEq, Eq)]
enum Range {
    /// No usable range (absent, malformed, several ranges, another unit): the whole blob,
    /// as RFC 9110 says to answer what cannot be parsed.
    Whole,
    /// Inclusive byte offsets.
    Part(u64, u64),
    /// A well-formed range beyond the blob: 416.
    Unsatisfiable,
}

/// One `bytes=` range of a blob of `total` bytes.
fn parse_range(raw: &str, total: u64) -> Range {
    let Some(spec) = raw.trim().strip_prefix("bytes=") else {
        return Range::Whole;
    };
    let Some((a, b)) = spec.split_once('-').filter(|_| !spec.contains(',')) else {
        return Range::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let parsed = if a.is_empty() {
        b.parse::<u64>()
            .ok()
            .map(|n| (total.saturating_sub(n), total.checked_sub(1), n == 0))
    } else {
        match (a.parse::<u64>().ok(), b.is_empty()) {
            (Some(start), true) => Some((start, total.checked_sub(1), false)),
            (Some(start), false) => b.parse::<u64>().ok().map(|end| {
                (
                    start,
                    total.checked_sub(1).map(|last| end.min(last)),
                    end < start,
                )
            }),
            (None, _) => None,
        }
    };
    match parsed {
        None => Range::Whole,
        Some((start, Some(end), false)) if start <= end => Range::Part(start, end),
        Some(_) => Range::Unsatisfiable,
    }
}

/// Retries pending Arweave uploads every `every`, for as long as the node runs.
pub(crate) fn spawn_upload_retry(
    state: Arc<AppState>,
    every: Duration,
) -> Option<tokio::task::JoinHandle<()>> {
    let archiver = state.archiver.clone()?;
    Some(tokio::spawn(async move {
        for round in 1u64.. {
            tokio::time::sleep(every).await;
            let (done, left) = archiver.retry_pending(&state.engine, Some(round)).await;
            if done + left > 0 {
                tracing::info!(uploaded = done, pending = left, "arweave retry round");
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::{Range, parse_range};

    #[test]
    fn byte_ranges() {
        assert_eq!(parse_range("bytes=0-0", 10), Range::Part(0, 0));
        assert_eq!(parse_range("bytes=2-", 10), Range::Part(2, 9));
        assert_eq!(parse_range("bytes=-3", 10), Range::Part(7, 9));
        assert_eq!(parse_range("bytes=5-100", 10), Range::Part(5, 9));
        assert_eq!(parse_range("bytes=-100", 10), Range::Part(0, 9));
        assert_eq!(parse_range("bytes=10-", 10), Range::Unsatisfiable);
        assert_eq!(parse_range("bytes=5-2", 10), Range::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), Range::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), Range::Unsatisfiable);
        // Unparseable or several ranges: the whole blob (RFC 9110 §14.2).
        assert_eq!(parse_range("bytes=0-1,3-4", 10), Range::Whole);
        assert_eq!(parse_range("items=0-1", 10), Range::Whole);
        assert_eq!(parse_range("bytes=x-1", 10), Range::Whole);
    }
}
