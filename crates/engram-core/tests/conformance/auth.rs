//! `signed-requests.json` and `auth-messages.json`: request bodies signed by the original's
//! clients verify under our re-serialization rule, and namespace and attestation
//! signatures verify.

use engram_core::auth::{
    attestation_message, body_hash, namespace_message, request_message, verify_message,
    verify_request,
};
use serde_json::{Map, Value};

use super::{cases, vectors};

fn check_request(case: &Value) {
    let endpoint = case["endpoint"].as_str().unwrap();
    let body: Map<String, Value> =
        serde_json::from_str(case["request_body_json"].as_str().unwrap()).unwrap();
    let nonce = body["nonce"].as_u64().unwrap();
    assert_eq!(
        request_message(nonce, endpoint, &body),
        case["canonical_message"].as_str().unwrap(),
        "{endpoint}"
    );
    if let Some(h) = case.get("payload_hash") {
        assert_eq!(body_hash(&body), h.as_str().unwrap());
    }
    let auth = verify_request(&body, endpoint).unwrap();
    assert_eq!(auth.hotkey, case["hotkey"].as_str().unwrap());
    assert!(verify_request(&body, "SomeOtherSynapse").is_err());
    let mut tampered = body.clone();
    tampered.insert("nonce".into(), Value::from(nonce + 1));
    assert!(verify_request(&tampered, endpoint).is_err());
}

#[test]
fn every_signed_request_verifies() {
    for case in cases(&vectors("signed-requests.json"), "cases") {
        check_request(case);
    }
    for case in cases(&vectors("auth-messages.json"), "cases") {
        check_request(case);
    }
}

#[test]
fn namespace_and_attestation_signatures_verify() {
    let doc = vectors("auth-messages.json");
    for (key, build) in [
        (
            "namespace_signature",
            namespace_message as fn(&str, u64) -> String,
        ),
        ("attestation_signature", attestation_message),
    ] {
        for case in cases(&doc, key) {
            let ns = case["namespace"].as_str().unwrap();
            let ts = case["timestamp_ms"].as_u64().unwrap();
            let message = build(ns, ts);
            assert_eq!(message, case["message_utf8"].as_str().unwrap());
            let hotkey = case["signer"]["ss58"].as_str().unwrap();
            let sig = case["signature"].as_str().unwrap();
            verify_message(hotkey, &message, sig).unwrap();
            verify_message(hotkey, &message, sig.trim_start_matches("0x")).unwrap();
            assert!(verify_message(hotkey, &build(ns, ts + 1), sig).is_err());
        }
    }
}
