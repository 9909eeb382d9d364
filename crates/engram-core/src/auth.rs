//! Signed messages: who may write a private namespace, attest it, or send a request.
//!
//! Every signature is sr25519 over the UTF-8 bytes of a message the original network
//! defined:
//! - namespace ownership `engram-ns:{namespace}:{timestamp_ms}` (±60 s),
//! - attestation `engram-attest:{namespace}:{timestamp_ms}` (±60 s),
//! - signed requests `{nonce}:{endpoint}:{body_hash}` (±30 s), where the body carries
//!   `hotkey`, `nonce` (unix ms) and `signature`, and `body_hash` is the hex SHA-256 of the
//!   rest of the body as Python's `json.dumps(…, sort_keys=True, separators=(',', ':'))`
//!   writes it ([`crate::pyjson`]).
//!
//! Clocks are the caller's; this module checks signatures, builds messages and keeps the
//! [`ReplayCache`] every server that takes signed requests uses.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::CoreError;
use crate::keys::{SignError, Signer, ss58_decode, verify};
use crate::pyjson::{Style, dumps};

/// Window for namespace and attestation signatures, in ms.
pub const NAMESPACE_WINDOW_MS: u64 = 60_000;
/// Window for signed requests, in ms.
pub const REQUEST_WINDOW_MS: u64 = 30_000;
/// Keys of a signed request body that are not part of its hash.
pub const AUTH_FIELDS: [&str; 3] = ["hotkey", "nonce", "signature"];
/// The namespace everyone reads; every other namespace is private to its owner.
pub const PUBLIC_NAMESPACE: &str = "public";

/// The private namespace a request names, `None` for the public one (absent, empty or
/// `public`).
pub fn private_namespace(namespace: Option<&str>) -> Option<&str> {
    namespace.filter(|ns| !ns.is_empty() && *ns != PUBLIC_NAMESPACE)
}

/// The endpoint name a signed request signs for `method` and `path`: the path without its
/// leading slash, except `DELETE /retrieve/{cid}`, which the protocol calls `DeleteSynapse`.
pub fn endpoint_name<'a>(method: &str, path: &'a str) -> &'a str {
    if method.eq_ignore_ascii_case("DELETE") && path.starts_with("/retrieve/") {
        "DeleteSynapse"
    } else {
        path.trim_start_matches('/')
    }
}

/// `engram-ns:{namespace}:{timestamp_ms}`.
pub fn namespace_message(namespace: &str, timestamp_ms: u64) -> String {
    format!("engram-ns:{namespace}:{timestamp_ms}")
}

/// `engram-attest:{namespace}:{timestamp_ms}`.
pub fn attestation_message(namespace: &str, timestamp_ms: u64) -> String {
    format!("engram-attest:{namespace}:{timestamp_ms}")
}

/// The hex SHA-256 of a request body without its auth fields, as the original hashes it.
pub fn body_hash(body: &Map<String, Value>) -> String {
    let payload: Map<String, Value> = body
        .iter()
        .filter(|(k, _)| !AUTH_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let text = dumps(
        &Value::Object(payload),
        Style {
            sort_keys: true,
            compact: true,
        },
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `{nonce}:{endpoint}:{body_hash}`.
pub fn request_message(nonce: u64, endpoint: &str, body: &Map<String, Value>) -> String {
    format!("{nonce}:{endpoint}:{}", body_hash(body))
}

/// A 64-byte signature from hex, with or without `0x`.
///
/// # Errors
/// [`CoreError::BadSignature`] for anything else.
pub fn parse_signature(hex_sig: &str) -> Result<[u8; 64], CoreError> {
    let raw = hex_sig.strip_prefix("0x").unwrap_or(hex_sig);
    hex::decode(raw)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .ok_or_else(|| CoreError::BadSignature {
            reason: "signature must be 64 bytes of hex (optionally 0x-prefixed)".into(),
        })
}

/// Checks `signature` by SS58 `hotkey` over `message`.
///
/// # Errors
/// [`CoreError::BadKey`] for a malformed hotkey, [`CoreError::BadSignature`] for a
/// malformed or wrong signature.
pub fn verify_message(hotkey: &str, message: &str, signature: &str) -> Result<(), CoreError> {
    let public = ss58_decode(hotkey)?;
    let sig = parse_signature(signature)?;
    if verify(&public, message.as_bytes(), &sig) {
        Ok(())
    } else {
        Err(CoreError::BadSignature {
            reason: format!("signature does not verify for {hotkey}"),
        })
    }
}

/// The auth fields of a signed request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAuth {
    /// SS58 hotkey.
    pub hotkey: String,
    /// Unix ms; also the replay-cache key with the hotkey.
    pub nonce: u64,
}

/// Verifies a signed request body for `endpoint` (signature only; the caller checks the
/// time window and the replay cache).
///
/// # Errors
/// [`CoreError::BadSignature`] when fields are missing or malformed or the signature fails.
pub fn verify_request(body: &Map<String, Value>, endpoint: &str) -> Result<RequestAuth, CoreError> {
    let missing = |f: &str| CoreError::BadSignature {
        reason: format!("signed request needs `{f}`"),
    };
    let hotkey = body
        .get("hotkey")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("hotkey"))?;
    let nonce = body
        .get("nonce")
        .and_then(Value::as_u64)
        .ok_or_else(|| missing("nonce"))?;
    let signature = body
        .get("signature")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("signature"))?;
    verify_message(hotkey, &request_message(nonce, endpoint, body), signature)?;
    Ok(RequestAuth {
        hotkey: hotkey.to_string(),
        nonce,
    })
}

/// Adds `hotkey`, `nonce` and `signature` to a request body, signed by `key`.
///
/// # Errors
/// Whatever the signer reports; the body is then unchanged.
pub fn sign_request(
    body: &mut Map<String, Value>,
    endpoint: &str,
    key: &dyn Signer,
    nonce: u64,
) -> Result<(), SignError> {
    let message = request_message(nonce, endpoint, body);
    let signature = key.sign(message.as_bytes())?;
    body.insert("hotkey".into(), Value::String(key.ss58()));
    body.insert("nonce".into(), Value::from(nonce));
    body.insert(
        "signature".into(),
        Value::String(format!("0x{}", hex::encode(signature))),
    );
    Ok(())
}

/// Remembers (hotkey, nonce) pairs until they leave the window.
#[derive(Debug, Default)]
pub struct ReplayCache {
    seen: Mutex<HashMap<(String, u64), u64>>,
}

impl ReplayCache {
    /// Records the pair (a hotkey, or any key naming a single-use credential, and its
    /// nonce or timestamp); false if it was already there. Pairs are kept for twice the
    /// longest signature window, longer than any of them stays valid.
    pub fn first_use(&self, hotkey: &str, nonce: u64, now_ms: u64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            let keep = 2 * REQUEST_WINDOW_MS.max(NAMESPACE_WINDOW_MS);
            seen.retain(|_, &mut at| now_ms.saturating_sub(at) <= keep);
        }
        seen.insert((hotkey.to_string(), nonce), now_ms).is_none()
    }
}

/// Whether `timestamp_ms` is within `window_ms` of `now_ms`.
pub fn within(timestamp_ms: u64, now_ms: u64, window_ms: u64) -> bool {
    timestamp_ms.abs_diff(now_ms) <= window_ms
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoint_names_and_private_namespaces() {
        assert_eq!(endpoint_name("POST", "/IngestSynapse"), "IngestSynapse");
        assert_eq!(endpoint_name("DELETE", "/retrieve/v1::ab"), "DeleteSynapse");
        assert_eq!(endpoint_name("GET", "/retrieve/v1::ab"), "retrieve/v1::ab");
        for public in [None, Some(""), Some("public")] {
            assert_eq!(private_namespace(public), None);
        }
        assert_eq!(private_namespace(Some("diary")), Some("diary"));
    }

    #[test]
    fn our_signed_requests_verify_and_tampering_fails() {
        use crate::keys::Keypair;
        let key = Keypair::from_uri("//Alice").unwrap();
        let Value::Object(mut body) = json!({"query_text": "hello", "top_k": 5}) else {
            unreachable!()
        };
        sign_request(&mut body, "QuerySynapse", &key, 1_767_225_600_123).unwrap();
        let auth = verify_request(&body, "QuerySynapse").unwrap();
        assert_eq!(auth.hotkey, key.ss58());
        assert!(
            verify_request(&body, "IngestSynapse").is_err(),
            "endpoint is signed"
        );
        body.insert("top_k".into(), json!(6));
        assert!(
            verify_request(&body, "QuerySynapse").is_err(),
            "body is signed"
        );
        assert!(within(1000, 30_999, REQUEST_WINDOW_MS));
        assert!(!within(1000, 31_001, REQUEST_WINDOW_MS));
    }
}
