//! [`Client`]: one node over HTTP, with timeouts and retries.
//!
//! 429 and 503 are the node asking for patience: the client waits (the node's
//! `Retry-After`, else exponential backoff from `backoff`) and tries again, up to
//! `retries` times. Connection failures are retried the same way; every request of the
//! protocol is safe to repeat (ingest is idempotent by CID).

use std::time::Duration;

use engram_core::Cid;
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::error::ClientError;

/// How long `POST /IngestDocument` may take.
pub(crate) const DOCUMENT_TIMEOUT: Duration = Duration::from_secs(900);
use engram_core::erasure::Manifest;
use engram_wire::{
    AttestRequest, AttestResponse, AttestationResponse, ChallengeRequest, ChallengeResponse,
    CidsResponse, CommitmentResponse, DeleteRequest, DeleteResponse, ErrorBody, HealthResponse,
    IngestRequest, IngestResponse, ListRequest, ListResponse, MAX_CIDS_PAGE, NamespaceAuth,
    ProveMemoryRequest, ProveMemoryResponse, QueryRequest, QueryResponse, RetrieveResponse,
    StatsResponse,
};
use engram_wire::{HeldBlob, MAX_SHARD_PAGE, ShardListing, ShardManifest};

/// Most blobs a node's whole `GET /shards` listing may name before a reader gives up.
const MAX_SHARD_LISTING: usize = 1_000_000;

/// Timeouts and retry policy.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Retries after the first attempt on 429, 503 or a connection failure.
    pub retries: u32,
    /// First backoff delay; doubles on each retry.
    pub backoff: Duration,
    /// Longest single wait between attempts.
    pub max_backoff: Duration,
    /// Sign every POST body with this hotkey (`hotkey`, `nonce`, `signature` as the
    /// protocol's signed requests carry them); each attempt gets a fresh nonce.
    pub signer: Option<std::sync::Arc<dyn engram_core::keys::Signer>>,
    /// The deprecated shared password of a private namespace (the original's
    /// `namespace_key`), sent with private-namespace requests when there is no signer.
    pub namespace_key: Option<String>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            retries: 4,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            signer: None,
            namespace_key: None,
        }
    }
}

/// A typed client of one Engram node.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    options: ClientOptions,
}

impl Client {
    /// A client of the node at `base_url` (e.g. `http://127.0.0.1:8091`) with default options.
    ///
    /// # Errors
    /// [`ClientError::InvalidUrl`].
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        Self::with_options(base_url, ClientOptions::default())
    }

    /// A client with explicit timeouts and retries.
    ///
    /// # Errors
    /// [`ClientError::InvalidUrl`].
    pub fn with_options(base_url: &str, options: ClientOptions) -> Result<Self, ClientError> {
        let base = base_url.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|_| ClientError::InvalidUrl(base_url.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(ClientError::InvalidUrl(base_url.to_string()));
        }
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .build()
            .map_err(|e| ClientError::Transport {
                url: base.clone(),
                source: e,
            })?;
        Ok(Self {
            http,
            base,
            options,
        })
    }

    /// The node's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<reqwest::Response, ClientError> {
        self.send_as(method, path, body, true).await
    }

    async fn send_unsigned<B: Serialize + ?Sized>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
    ) -> Result<reqwest::Response, ClientError> {
        self.send_as(method, path, Some(body), false).await
    }

    async fn send_as<B: Serialize + ?Sized>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        sign: bool,
    ) -> Result<reqwest::Response, ClientError> {
        let signer = self.options.signer.as_ref().filter(|_| sign);
        let url = format!("{}{path}", self.base);
        // One span per call (retries included), its trace context sent along so the node's
        // work is part of the caller's trace.
        let span = tracing::info_span!(
            "http.client",
            otel.name = %format!("{method} {}", path.split('?').next().unwrap_or(path)),
            otel.kind = "client",
            server.address = %self.base,
            http.response.status_code = tracing::field::Empty,
        );
        let mut headers = reqwest::header::HeaderMap::new();
        span.in_scope(|| engram_trace::inject(&mut headers));
        let sent = span.clone();
        async move {
            let mut attempt = 0;
            loop {
                let mut req = self
                    .http
                    .request(method.clone(), &url)
                    .headers(headers.clone());
                if let Some(b) = body {
                    req = match (signer, serde_json::to_value(b)) {
                        (Some(key), Ok(serde_json::Value::Object(mut map))) => {
                            let nonce = next_nonce();
                            let endpoint = engram_core::auth::endpoint_name(method.as_str(), path);
                            engram_core::auth::sign_request(
                                &mut map,
                                endpoint,
                                key.as_ref(),
                                nonce,
                            )
                            .map_err(ClientError::Sign)?;
                            req.json(&map)
                        }
                        _ => req.json(b),
                    };
                }
                let wait = match req.send().await {
                    Ok(resp)
                        if matches!(
                            resp.status(),
                            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
                        ) =>
                    {
                        if attempt >= self.options.retries {
                            return Ok(resp);
                        }
                        resp.headers()
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<u64>().ok())
                            .map(Duration::from_secs)
                    }
                    Ok(resp) => {
                        span.record("http.response.status_code", resp.status().as_u16());
                        return Ok(resp);
                    }
                    Err(e)
                        if (e.is_connect() || e.is_timeout()) && attempt < self.options.retries =>
                    {
                        None
                    }
                    Err(e) => {
                        return Err(ClientError::Transport { url, source: e });
                    }
                };
                let backoff = self.options.backoff * 2u32.saturating_pow(attempt);
                tokio::time::sleep(wait.unwrap_or(backoff).min(self.options.max_backoff)).await;
                attempt += 1;
            }
        }
        .instrument(sent)
        .await
    }

    /// The body of a successful answer with its URL; an error status as
    /// [`ClientError::Http`] with the node's message.
    async fn body(resp: reqwest::Response) -> Result<(String, Vec<u8>), ClientError> {
        let url = resp.url().to_string();
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| ClientError::Transport {
            url: url.clone(),
            source: e,
        })?;
        if !status.is_success() {
            let message = serde_json::from_slice::<ErrorBody>(&bytes)
                .map(|b| b.error)
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
            return Err(ClientError::Http {
                status: status.as_u16(),
                message,
            });
        }
        Ok((url, bytes.into()))
    }

    async fn decode<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, ClientError> {
        let (url, bytes) = Self::body(resp).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode { url, source: e })
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        Self::decode(self.send(reqwest::Method::POST, path, Some(body)).await?).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        Self::decode(self.send::<()>(reqwest::Method::GET, path, None).await?).await
    }

    /// `POST /IngestSynapse`.
    ///
    /// # Errors
    /// [`ClientError::Http`] with the node's status and message, or a transport error.
    pub async fn ingest(&self, req: &IngestRequest) -> Result<IngestResponse, ClientError> {
        self.post("/IngestSynapse", req).await
    }

    /// `POST /IngestDocument`: a PDF, image or URL the node reads, archives and stores. It
    /// may take minutes (a 100-page PDF is hundreds of chunks to embed), so it gets
    /// fifteen minutes instead of the client's usual timeout, and no retries.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn ingest_document(
        &self,
        req: &engram_wire::DocumentRequest,
    ) -> Result<engram_wire::DocumentResponse, ClientError> {
        let url = format!("{}/IngestDocument", self.base);
        let resp = self
            .http
            .post(&url)
            .timeout(DOCUMENT_TIMEOUT)
            .json(req)
            .send()
            .await
            .map_err(|source| ClientError::Transport { url, source })?;
        Self::decode(resp).await
    }

    /// `GET /blob/{cid}`: a blob's bytes, checked against the content CID before they are
    /// returned.
    ///
    /// # Errors
    /// [`ClientError::Http`] (404 when the node does not keep it), transport errors, and
    /// [`ClientError::BlobMismatch`] when the bytes do not hash to `cid`.
    pub async fn blob(&self, cid: &Cid) -> Result<Vec<u8>, ClientError> {
        self.blob_in(cid, &NamespaceAuth::default()).await
    }

    /// `POST /blob`: stores a private namespace's sealed blob (the namespace and signature
    /// travel in the query string, the bytes as the body). The node's record of it.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    #[cfg(feature = "embedded")]
    pub async fn put_blob(
        &self,
        sealed: &[u8],
        auth: &NamespaceAuth,
    ) -> Result<engram_store::BlobInfo, ClientError> {
        let url = format!("{}/blob{}", self.base, query_string(auth));
        let resp = self
            .http
            .post(&url)
            .timeout(DOCUMENT_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(sealed.to_vec())
            .send()
            .await
            .map_err(|source| ClientError::Transport { url, source })?;
        Self::decode(resp).await
    }

    /// `GET /blob/{cid}` with a private namespace's credentials.
    ///
    /// # Errors
    /// As [`Client::blob`].
    pub async fn blob_in(&self, cid: &Cid, auth: &NamespaceAuth) -> Result<Vec<u8>, ClientError> {
        let path = format!("/blob/{cid}{}", query_string(auth));
        let resp = self.send::<()>(reqwest::Method::GET, &path, None).await?;
        let (url, bytes) = Self::body(resp).await?;
        let got = Cid::for_content(&bytes);
        if got != *cid {
            return Err(ClientError::BlobMismatch {
                url,
                expected: *cid,
                got,
            });
        }
        Ok(bytes)
    }

    /// `POST /QuerySynapse`.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn query(&self, req: &QueryRequest) -> Result<QueryResponse, ClientError> {
        self.post("/QuerySynapse", req).await
    }

    /// `POST /ChallengeSynapse`.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn challenge(
        &self,
        req: &ChallengeRequest,
    ) -> Result<ChallengeResponse, ClientError> {
        self.post("/ChallengeSynapse", req).await
    }

    /// `POST /list`: a page of a namespace's memories.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn list(&self, req: &ListRequest) -> Result<ListResponse, ClientError> {
        self.post("/list", req).await
    }

    /// `GET /health`.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn health(&self) -> Result<HealthResponse, ClientError> {
        self.get("/health").await
    }

    /// `GET /stats`.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn stats(&self) -> Result<StatsResponse, ClientError> {
        self.get("/stats").await
    }

    /// `GET /metrics` (Prometheus text).
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn metrics(&self) -> Result<String, ClientError> {
        let resp = self
            .send::<()>(reqwest::Method::GET, "/metrics", None)
            .await?;
        let url = resp.url().to_string();
        if !resp.status().is_success() {
            return Err(ClientError::Http {
                status: resp.status().as_u16(),
                message: "metrics unavailable".into(),
            });
        }
        resp.text()
            .await
            .map_err(|e| ClientError::Transport { url, source: e })
    }

    /// `GET /retrieve/{cid}` (public); `None` when the node does not hold it.
    ///
    /// # Errors
    /// As [`Client::ingest`] (404 becomes `Ok(None)`).
    pub async fn retrieve(&self, cid: &Cid) -> Result<Option<RetrieveResponse>, ClientError> {
        self.retrieve_in(cid, &NamespaceAuth::default()).await
    }

    /// `GET /retrieve/{cid}` in the namespace `auth` names, with its credentials;
    /// `None` when the node does not hold it there.
    ///
    /// # Errors
    /// As [`Client::ingest`] (404 becomes `Ok(None)`).
    pub async fn retrieve_in(
        &self,
        cid: &Cid,
        auth: &NamespaceAuth,
    ) -> Result<Option<RetrieveResponse>, ClientError> {
        match self
            .get(&format!("/retrieve/{cid}{}", query_string(auth)))
            .await
        {
            Ok(r) => Ok(Some(r)),
            Err(ClientError::Http { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `DELETE /retrieve/{cid}`: removes a memory from a private namespace (public
    /// memories are permanent); false when it was not there.
    ///
    /// # Errors
    /// As [`Client::ingest`] (404 becomes `Ok(false)`).
    pub async fn delete(&self, cid: &Cid, auth: &NamespaceAuth) -> Result<bool, ClientError> {
        let resp = self
            .send(
                reqwest::Method::DELETE,
                &format!("/retrieve/{cid}"),
                Some(auth),
            )
            .await?;
        match Self::decode::<serde_json::Value>(resp).await {
            Ok(_) => Ok(true),
            Err(ClientError::Http { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `POST /delete`: memories (and with `document`, a document's file) of a private
    /// namespace in one pass.
    ///
    /// # Errors
    /// As [`Client::ingest`]; 403 for the public namespace.
    pub async fn delete_many(&self, req: &DeleteRequest) -> Result<DeleteResponse, ClientError> {
        self.post("/delete", req).await
    }

    /// Credentials for `namespace`: none for the public one; for a private one, a fresh
    /// `engram-ns` signature by this client's signer, else the deprecated `namespace_key`
    /// when one is configured, else just the name (which a node refuses with 401).
    ///
    /// # Errors
    /// [`ClientError::Sign`] when the signer fails.
    pub fn namespace_auth(&self, namespace: Option<&str>) -> Result<NamespaceAuth, ClientError> {
        let mut auth =
            NamespaceAuth::for_namespace(namespace, self.options.signer.as_deref(), unix_ms())
                .map_err(ClientError::Sign)?;
        if auth.namespace_sig.is_none() && engram_core::auth::private_namespace(namespace).is_some()
        {
            auth.namespace_key.clone_from(&self.options.namespace_key);
        }
        Ok(auth)
    }

    /// `POST /AttestNamespace`: binds `namespace` publicly to this client's signer.
    ///
    /// # Errors
    /// [`ClientError::NoSigner`] without a signer; otherwise as [`Client::ingest`].
    pub async fn attest(&self, namespace: &str) -> Result<AttestResponse, ClientError> {
        let key = self.options.signer.as_ref().ok_or(ClientError::NoSigner)?;
        let req = AttestRequest::signed_by(namespace, key.as_ref(), unix_ms())
            .map_err(ClientError::Sign)?;
        // The attestation is its own signature; the body is not signed again.
        Self::decode(
            self.send_unsigned(reqwest::Method::POST, "/AttestNamespace", &req)
                .await?,
        )
        .await
    }

    /// `GET /attestation/{namespace}`.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn attestation(&self, namespace: &str) -> Result<AttestationResponse, ClientError> {
        self.get(&format!("/attestation/{}", path_segment(namespace)))
            .await
    }

    /// `GET /commitment`.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn commitment(&self) -> Result<CommitmentResponse, ClientError> {
        self.get("/commitment").await
    }

    /// `POST /snapshot`: the node snapshots its store into its own data directory (it
    /// answers only on loopback: its operator's call).
    ///
    /// # Errors
    /// As [`Client::ingest`]; 403 from another machine.
    pub async fn snapshot(&self) -> Result<crate::api::SnapshotResponse, ClientError> {
        self.post("/snapshot", &serde_json::json!({})).await
    }

    /// `POST /KeyShareSynapse`: gives this node one share of a private namespace's key
    /// (`req.auth` signed by the namespace's owner).
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn put_key_share(
        &self,
        req: &crate::api::KeyShareRequest,
    ) -> Result<crate::api::KeyShareStored, ClientError> {
        self.post("/KeyShareSynapse", req).await
    }

    /// `POST /KeyShareRetrieve`: this node's share of the namespace's key, `None` when it
    /// keeps none. A share deposited bound to the node is released only to a request this
    /// client signs (`ClientOptions::signer`, the namespace's owner) naming the node.
    ///
    /// # Errors
    /// As [`Client::ingest`] (404 becomes `Ok(None)`).
    pub async fn key_share(
        &self,
        req: &crate::api::KeyShareRetrieveRequest,
    ) -> Result<Option<crate::api::KeyShare>, ClientError> {
        match self.post("/KeyShareRetrieve", req).await {
            Ok(share) => Ok(Some(share)),
            Err(ClientError::Http { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /metagraph` (the original's): the network's neurons with their axons and last
    /// incentive.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn metagraph(&self) -> Result<crate::api::MetagraphResponse, ClientError> {
        self.get("/metagraph").await
    }

    /// `POST /RepairSynapse` (the original's): a public record's exact vector and metadata,
    /// for a client that signs its requests (`ClientOptions::signer`); `None` when the node
    /// does not hold it publicly.
    ///
    /// # Errors
    /// As [`Client::ingest`] (404 becomes `Ok(None)`; 401 without a signer).
    pub async fn repair_read(&self, cid: &Cid) -> Result<Option<serde_json::Value>, ClientError> {
        match self
            .post(
                "/RepairSynapse",
                &serde_json::json!({"cid": cid.to_string()}),
            )
            .await
        {
            Ok(record) => Ok(Some(record)),
            Err(ClientError::Http { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /overview` (ours): the node, and the network it is on (what its dashboard shows).
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn overview(&self) -> Result<crate::api::OverviewResponse, ClientError> {
        self.get("/overview").await
    }

    /// `GET /holders/{cid}` (ours): which nodes of the network hold a public CID.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn holders(&self, cid: &Cid) -> Result<crate::api::HoldersResponse, ClientError> {
        self.get(&format!("/holders/{cid}")).await
    }

    /// `POST /prove-memory`.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn prove_memory(
        &self,
        req: &ProveMemoryRequest,
    ) -> Result<ProveMemoryResponse, ClientError> {
        self.post("/prove-memory", req).await
    }

    /// `GET /cids`: one page of the node's public CIDs, sorted.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn cids(&self, offset: u64, limit: usize) -> Result<CidsResponse, ClientError> {
        self.cids_in(&NamespaceAuth::default(), offset, limit).await
    }

    /// `GET /cids` in the namespace `auth` names, with its credentials.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn cids_in(
        &self,
        auth: &NamespaceAuth,
        offset: u64,
        limit: usize,
    ) -> Result<CidsResponse, ClientError> {
        let creds = query_string(auth);
        let sep = if creds.is_empty() { "?" } else { "&" };
        self.get(&format!("/cids{creds}{sep}offset={offset}&limit={limit}"))
            .await
    }

    /// Every public CID the node holds, page by page.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn all_cids(&self) -> Result<Vec<String>, ClientError> {
        let mut out = Vec::new();
        loop {
            let page = self.cids(out.len() as u64, MAX_CIDS_PAGE).await?;
            let done = page.cids.is_empty() || out.len() + page.cids.len() >= page.total as usize;
            out.extend(page.cids);
            if done {
                return Ok(out);
            }
        }
    }

    /// `GET /shards?offset=&limit=`: one page of what the node keeps of blobs.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn shard_listing(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<ShardListing, ClientError> {
        self.get(&format!("/shards?offset={offset}&limit={limit}"))
            .await
    }

    /// Every page of `GET /shards`.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn all_shard_holdings(&self) -> Result<Vec<HeldBlob>, ClientError> {
        let mut out = Vec::new();
        loop {
            let page = self.shard_listing(out.len(), MAX_SHARD_PAGE).await?;
            // A node that answers another page than asked, an oversized page or an
            // absurd total is not paged through forever.
            if page.offset != out.len()
                || page.blobs.len() > MAX_SHARD_PAGE
                || page.total > MAX_SHARD_LISTING
            {
                return Err(ClientError::BadListing {
                    url: self.base.clone(),
                });
            }
            let done = page.blobs.is_empty() || out.len() + page.blobs.len() >= page.total;
            out.extend(page.blobs);
            if done {
                return Ok(out);
            }
        }
    }

    /// `GET /shards/{blob}`: the blob's manifest and the indices kept there; `None` when
    /// the node keeps no manifest for it.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn shard_manifest(&self, blob: &Cid) -> Result<Option<ShardManifest>, ClientError> {
        match self.get(&format!("/shards/{blob}")).await {
            Err(ClientError::Http { status: 404, .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    /// `PUT /shards/{blob}`: asks the node to keep a manifest (before any of its shards).
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn put_shard_manifest(
        &self,
        manifest: &Manifest,
    ) -> Result<ShardManifest, ClientError> {
        let path = format!("/shards/{}", manifest.blob);
        Self::decode(
            self.send_unsigned(reqwest::Method::PUT, &path, manifest)
                .await?,
        )
        .await
    }

    /// `PUT /shards/{blob}/{index}`: one shard's bytes (the node checks them against the
    /// manifest it keeps).
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn put_shard(
        &self,
        blob: &Cid,
        index: usize,
        bytes: Vec<u8>,
    ) -> Result<ShardManifest, ClientError> {
        let url = format!("{}/shards/{blob}/{index}", self.base);
        let resp = self
            .http
            .put(&url)
            .timeout(DOCUMENT_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .map_err(|source| ClientError::Transport { url, source })?;
        Self::decode(resp).await
    }

    /// `GET /shards/{blob}/{index}`: one shard's bytes as served, unchecked (check them
    /// with [`Manifest::check_shard`] against a manifest you trust); `None` on 404.
    ///
    /// # Errors
    /// As [`Client::ingest`].
    pub async fn shard(&self, blob: &Cid, index: usize) -> Result<Option<Vec<u8>>, ClientError> {
        let path = format!("/shards/{blob}/{index}");
        let resp = self.send::<()>(reqwest::Method::GET, &path, None).await?;
        match Self::body(resp).await {
            Ok((_, bytes)) => Ok(Some(bytes)),
            Err(ClientError::Http { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// `auth` as a query string (`?namespace=…&…`), empty for the public namespace.
fn query_string(auth: &NamespaceAuth) -> String {
    match serde_urlencoded::to_string(auth) {
        Ok(q) if !q.is_empty() => format!("?{q}"),
        _ => String::new(),
    }
}

/// `s` percent-encoded for one path segment.
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The clock, in unix milliseconds: what namespace and attestation signatures carry.
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The last nonce this process signed with. Nonces strictly increase across every client
/// of the process, so two requests in one millisecond, or from two clients of the same
/// hotkey, never look like a replay to a node.
static LAST_NONCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A fresh nonce: the current unix time in ms, or one more than the last, whichever is
/// larger.
fn next_nonce() -> u64 {
    use std::sync::atomic::Ordering;

    let now = unix_ms();
    let mut last = LAST_NONCE.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST_NONCE.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;

    use super::*;

    /// A real HTTP server on 127.0.0.1 whose `/health` answers `status` (with
    /// `Retry-After: 0` when it is 429 or 503) for the first `failures` requests, then 200;
    /// returns its URL and the count of requests it saw.
    async fn flaky(status: StatusCode, failures: u32) -> (String, Arc<AtomicU32>) {
        let seen = Arc::new(AtomicU32::new(0));
        let counter = seen.clone();
        let app = axum::Router::new().route(
            "/health",
            get(move || {
                let counter = counter.clone();
                async move {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    let mut headers = HeaderMap::new();
                    if n < failures {
                        headers.insert("retry-after", "0".parse().unwrap());
                        (status, headers, r#"{"error":"busy"}"#)
                    } else {
                        (StatusCode::OK, headers, r#"{"status":"ok"}"#)
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, seen)
    }

    fn client(url: &str, retries: u32) -> Client {
        Client::with_options(
            url,
            ClientOptions {
                retries,
                backoff: Duration::from_millis(1),
                timeout: Duration::from_secs(5),
                ..Default::default()
            },
        )
        .unwrap()
    }

    /// Boundary table: 429 and 503 are retried up to `retries` times (Retry-After
    /// honoured), then the last answer is the caller's; 400 is never retried.
    #[tokio::test]
    async fn retries_busy_answers_up_to_the_limit_and_never_refusals() {
        for (status, failures, retries, ok, requests) in [
            (StatusCode::TOO_MANY_REQUESTS, 0, 0, true, 1), // nothing to retry
            (StatusCode::TOO_MANY_REQUESTS, 1, 0, false, 1), // no retries allowed
            (StatusCode::TOO_MANY_REQUESTS, 2, 2, true, 3), // exactly enough retries
            (StatusCode::TOO_MANY_REQUESTS, 3, 2, false, 3), // one failure too many
            (StatusCode::SERVICE_UNAVAILABLE, 1, 4, true, 2),
            (StatusCode::BAD_REQUEST, 1, 4, false, 1), // a refusal is final
        ] {
            let (url, seen) = flaky(status, failures).await;
            let got = client(&url, retries).health().await;
            assert_eq!(
                got.is_ok(),
                ok,
                "{status} x{failures}, {retries} retries: {got:?}"
            );
            if let Err(e) = got {
                assert!(
                    matches!(e, ClientError::Http { status: s, .. } if s == status.as_u16()),
                    "{e}"
                );
            }
            assert_eq!(
                seen.load(Ordering::SeqCst),
                requests,
                "{status} x{failures}"
            );
        }
    }

    /// A node that is not there: connection failures are retried with backoff, then
    /// reported as a transport error that keeps reqwest's error as its source.
    #[tokio::test]
    async fn an_absent_node_is_a_transport_error_after_the_retries() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(); // bound, then released: nothing listens there
        let c = Client::with_options(
            &format!("http://127.0.0.1:{port}"),
            ClientOptions {
                retries: 2,
                backoff: Duration::from_millis(20),
                ..Default::default()
            },
        )
        .unwrap();
        let started = std::time::Instant::now();
        let err = c.health().await.unwrap_err();
        assert!(matches!(err, ClientError::Transport { .. }), "{err}");
        assert!(
            std::error::Error::source(&err).is_some(),
            "the cause is kept"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(60),
            "backoff 20 ms then 40 ms"
        );
    }
}
