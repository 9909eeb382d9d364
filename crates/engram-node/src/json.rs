//! Our own JSON extractor, so that every malformed body gets our error shape: invalid JSON
//! and wrong types are 400 with the parser's explanation, an oversize body is 413.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::error::ApiError;
use crate::server::AppState;

/// A JSON request body.
pub(crate) struct Json<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<std::sync::Arc<AppState>> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(
        req: Request,
        state: &std::sync::Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge {
                    limit: state.config.max_body_bytes,
                }
            } else {
                ApiError::BadRequest(format!("cannot read request body: {e}"))
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(Json)
            .map_err(|e| match e.classify() {
                Category::Data => ApiError::BadRequest(format!("invalid request: {e}")),
                Category::Syntax | Category::Eof | Category::Io => {
                    ApiError::BadRequest(format!("invalid JSON: {e}"))
                }
            })
    }
}
