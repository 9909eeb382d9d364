//! The node's errors: [`ApiError`] for requests (each maps to one HTTP status in one
//! exhaustive match) and [`NodeError`] for starting and stopping.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use engram_engine::EngineError;
use engram_wire::ErrorBody;
use thiserror::Error;

/// Why a request was refused or failed. A refused request changed nothing.
#[derive(Debug, Error)]
pub enum ApiError {
    /// 400: the request is malformed or breaks a protocol limit.
    #[error("{0}")]
    BadRequest(String),
    /// 401: a signature is missing, malformed, stale, replayed or wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the signer is not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such CID (or endpoint).
    #[error("{0}")]
    NotFound(String),
    /// 405: the endpoint exists but not with this method.
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    /// 413: the body is over the limit.
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 429: the caller is over its rate limit.
    #[error("rate limit exceeded: at most {per_minute} ingests per minute; retry in {}s", retry_after.as_secs().max(1))]
    RateLimited {
        /// The limit.
        per_minute: u32,
        /// When a retry will succeed.
        retry_after: Duration,
    },
    /// 400 for the caller's bad input (a protocol limit), else 500.
    #[error(transparent)]
    Invalid(#[from] engram_core::CoreError),
    /// 400 when the engine refused the caller's input, else 500.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// 500: the model failed on a text (shared by every request of the batch).
    #[error("embedding failed: {0}")]
    Embed(#[source] std::sync::Arc<engram_embed::EmbedError>),
    /// 500: the node's client side failed (drawing noise from the OS).
    #[error(transparent)]
    Client(#[from] engram_client::ClientError),
    /// 500: a registry file could not be saved.
    #[error("cannot save {}: {source}", path.display())]
    Persist {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// 500: a worker task panicked or was cancelled.
    #[error("worker failed: {0}")]
    Worker(#[from] tokio::task::JoinError),
    /// 503: the embedding queue is full.
    #[error("node is busy: {0}; retry shortly")]
    Busy(String),
    /// 500: our failure, logged with detail.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::Engine(e) if e.is_bad_input() => StatusCode::BAD_REQUEST,
            ApiError::Client(e) => client_status(e),
            ApiError::Engine(_)
            | ApiError::Embed(_)
            | ApiError::Persist { .. }
            | ApiError::Worker(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The status for a failure of the client-side pipeline a node runs (documents): the
/// document's own faults are 4xx, an upstream that failed is 502.
fn client_status(e: &engram_client::ClientError) -> StatusCode {
    use engram_client::ClientError as C;
    use engram_media::MediaError as M;
    match e {
        C::Media(M::TooLarge { .. } | M::TooManyChunks { .. })
        | C::Engine(EngineError::Media(M::TooManyChunks { .. })) => StatusCode::PAYLOAD_TOO_LARGE,
        C::Media(M::Forbidden { .. }) => StatusCode::FORBIDDEN,
        C::Media(
            M::Fetch { .. }
            | M::Status { .. }
            | M::Timeout { .. }
            | M::Redirects { .. }
            | M::Resolve { .. }
            | M::VisionRequest { .. }
            | M::VisionStatus { .. }
            | M::VisionAnswer { .. }
            | M::VisionEmpty { .. },
        ) => StatusCode::BAD_GATEWAY,
        e if e.is_bad_input() => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() && !matches!(self, ApiError::Busy(_)) {
            tracing::error!(error = %self, "request failed");
        }
        let retry_after = match &self {
            ApiError::RateLimited { retry_after, .. } => Some(retry_after.as_secs().max(1)),
            ApiError::Busy(_) => Some(1),
            _ => None,
        };
        let mut response = (
            status,
            axum::Json(ErrorBody {
                error: self.to_string(),
            }),
        )
            .into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Why a node could not start or stop cleanly.
#[derive(Debug, Error)]
pub enum NodeError {
    /// A configuration value breaks a rule of the node's own.
    #[error("configuration: {0}")]
    Config(String),
    /// An environment variable does not parse as its setting.
    #[error("configuration: {name}={raw:?}: {source}")]
    Env {
        /// The variable.
        name: &'static str,
        /// Its value.
        raw: String,
        /// The parse error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The config file cannot be read.
    #[error("configuration: cannot read {}: {source}", path.display())]
    ConfigRead {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for the node's settings.
    #[error("configuration: {}: {source}", path.display())]
    ConfigParse {
        /// The file.
        path: std::path::PathBuf,
        /// The TOML error.
        source: toml::de::Error,
    },
    /// A challenge allowlist entry is not an SS58 address.
    #[error("configuration: challenge_allowlist: {0}")]
    Allowlist(#[source] engram_core::CoreError),
    /// `ENGRAM_FAULT` is unknown or this build cannot misbehave.
    #[error("configuration: {0}")]
    Fault(#[from] crate::fault::FaultError),
    /// A registry file in the data directory cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    RegistryRead {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A registry file in the data directory is corrupt.
    #[error("{} is corrupt: {source}", path.display())]
    RegistryParse {
        /// The file.
        path: std::path::PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// The data directory or model could not be opened.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The server stopped with an error.
    #[error("server: {0}")]
    Serve(std::io::Error),
    /// The registry (chain) refused or failed.
    #[error("network: {0}")]
    Chain(#[from] engram_chain::ChainError),
    /// Peers could not be listed.
    #[error("network: {0}")]
    Client(#[from] engram_client::ClientError),
    /// A start-up, shutdown or repair task panicked or was cancelled.
    #[error("worker failed: {0}")]
    Worker(#[from] tokio::task::JoinError),
    /// The store failed under a repair round.
    #[error(transparent)]
    Store(#[from] engram_store::StoreError),
    /// Shards that could not be encoded or rebuilt.
    #[error("erasure coding: {0}")]
    Erasure(#[from] engram_core::CoreError),
}
