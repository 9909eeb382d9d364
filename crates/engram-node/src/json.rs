//! Our own JSON extractor, so that every malformed body gets our error shape: invalid JSON
//! and wrong types are 400 with the parser's explanation, an oversize body is 413. It also
//! checks a signed body's signature (`auth`) before anything else looks at it.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::error::ApiError;
use crate::server::AppState;

/// A JSON request body and, when it was signed, the verified hotkey.
pub(crate) struct Json<T>(pub(crate) T, pub(crate) Option<String>);

impl<T: DeserializeOwned> FromRequest<std::sync::Arc<AppState>> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(
        req: Request,
        state: &std::sync::Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let endpoint =
            engram_core::auth::endpoint_name(req.method().as_str(), req.uri().path()).to_string();
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge {
                    limit: state.config.max_body_bytes,
                }
            } else {
                ApiError::BadRequest(format!("cannot read request body: {e}"))
            }
        })?;
        let invalid = |e: serde_json::Error| match e.classify() {
            Category::Data => ApiError::BadRequest(format!("invalid request: {e}")),
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::BadRequest(format!("invalid JSON: {e}"))
            }
        };
        let typed: T = serde_json::from_slice(&bytes).map_err(invalid)?;
        // The common unsigned body is parsed once, straight into its type; only a body that
        // carries auth fields (or a node that requires them) is read again as a map to hash.
        let probe: AuthProbe = serde_json::from_slice(&bytes).map_err(invalid)?;
        let signed = probe.hotkey.is_some() || probe.nonce.is_some() || probe.signature.is_some();
        // An attestation is a signature itself (its `signature` field is not a request's).
        if endpoint == "AttestNamespace" || (!signed && !state.config.require_hotkey_sig) {
            return Ok(Json(typed, None));
        }
        let body: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&bytes).map_err(invalid)?;
        let caller = crate::auth::check(
            &body,
            &endpoint,
            state.config.require_hotkey_sig,
            &state.replay,
            engram_os::now_ms(),
        )?;
        Ok(Json(typed, caller))
    }
}

/// A query string, with malformed ones answered 400 in our error shape.
pub(crate) struct Query<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(raw)
            .map(Query)
            .map_err(|e| ApiError::BadRequest(format!("invalid query string: {e}")))
    }
}

/// Which auth fields a body carries, read without building the body.
#[derive(serde::Deserialize)]
struct AuthProbe {
    #[serde(default)]
    hotkey: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    nonce: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    signature: Option<serde::de::IgnoredAny>,
}
