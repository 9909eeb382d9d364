//! Signed requests: who sent this, and is it fresh?
//!
//! A body may carry `hotkey`, `nonce` (unix ms) and `signature` over
//! `{nonce}:{endpoint}:{body_hash}` (`engram_core::auth`). When it does, the node checks
//! the signature, that the nonce is within ±30 s of its clock, and that the (hotkey, nonce)
//! pair was not seen before: a replay inside the window is refused, and one outside it is
//! stale. With `require_hotkey_sig` every data request must be signed; with a challenge
//! allowlist only listed validators may challenge. A verified hotkey also keys the rate
//! limiter, instead of the IP address.

use engram_core::auth::{REQUEST_WINDOW_MS, ReplayCache, within};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Checks a body's signature for `endpoint`; returns the verified hotkey, or `None` for
/// an unsigned body when signatures are optional.
///
/// # Errors
/// [`ApiError::Unauthorized`] for a required but missing, malformed, wrong, stale or
/// replayed signature.
pub(crate) fn check(
    body: &Map<String, Value>,
    endpoint: &str,
    required: bool,
    replay: &ReplayCache,
    now_ms: u64,
) -> Result<Option<String>, ApiError> {
    let signed = engram_core::auth::AUTH_FIELDS
        .iter()
        .any(|f| body.contains_key(*f));
    if !signed {
        return if required {
            Err(ApiError::Unauthorized(
                "this node requires signed requests: send hotkey, nonce and signature".into(),
            ))
        } else {
            Ok(None)
        };
    }
    let auth = engram_core::auth::verify_request(body, endpoint)
        .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    if !within(auth.nonce, now_ms, REQUEST_WINDOW_MS) {
        return Err(ApiError::Unauthorized(format!(
            "request nonce {} is outside the ±{} s window of this node's clock",
            auth.nonce,
            REQUEST_WINDOW_MS / 1000
        )));
    }
    if !replay.first_use(&auth.hotkey, auth.nonce, now_ms) {
        return Err(ApiError::Unauthorized(
            "replayed request: this hotkey already used this nonce".into(),
        ));
    }
    Ok(Some(auth.hotkey))
}

#[cfg(test)]
mod tests {
    use super::*;
    use engram_core::keys::Keypair;
    use serde_json::json;

    fn signed(nonce: u64) -> Map<String, Value> {
        let Value::Object(mut body) = json!({"query_text": "hi"}) else {
            unreachable!()
        };
        let key = Keypair::from_uri("//Alice").unwrap();
        engram_core::auth::sign_request(&mut body, "QuerySynapse", &key, nonce).unwrap();
        body
    }

    #[test]
    fn fresh_stale_replayed_forged_and_missing() {
        let cache = ReplayCache::default();
        let now = 1_800_000_000_000;
        let body = signed(now);
        assert!(
            check(&body, "QuerySynapse", true, &cache, now)
                .unwrap()
                .is_some()
        );
        assert!(
            check(&body, "QuerySynapse", true, &cache, now + 1).is_err(),
            "replay"
        );
        assert!(
            check(&signed(now - 31_000), "QuerySynapse", false, &cache, now).is_err(),
            "stale"
        );
        let mut forged = signed(now + 5);
        forged.insert("query_text".into(), json!("changed"));
        assert!(check(&forged, "QuerySynapse", false, &cache, now).is_err());
        let unsigned = Map::new();
        assert_eq!(
            check(&unsigned, "QuerySynapse", false, &cache, now).unwrap(),
            None
        );
        assert!(check(&unsigned, "QuerySynapse", true, &cache, now).is_err());
    }
}
