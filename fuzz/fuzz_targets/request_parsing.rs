//! Any bytes as a request body: parsing into every request type, the input checks a node
//! runs next, and the signed-request path (Python-exact body hash, signature check) must
//! return errors, never panic, hang or blow the stack.
#![no_main]

use engram_client::api::{
    AttestRequest, ChallengeRequest, IngestRequest, NamespaceAuth, ProveMemoryRequest,
    QueryRequest,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = serde_json::from_slice::<IngestRequest>(data) {
        let _ = engram_core::validate_metadata(&req.metadata);
        if let Some(text) = &req.text {
            let _ = engram_core::validate_text(text);
        }
        if let Some(v) = &req.raw_embedding
            && engram_core::validate_embedding(v).is_ok()
            && let Ok(meta) = engram_core::validate_metadata(&req.metadata)
        {
            let _ = engram_core::cid_v1(v, &meta, &req.model_version);
        }
    }
    if let Ok(req) = serde_json::from_slice::<QueryRequest>(data)
        && let Some(v) = &req.query_vector
    {
        let _ = engram_core::validate_embedding(v);
    }
    if let Ok(req) = serde_json::from_slice::<ChallengeRequest>(data) {
        let _ = req.cid.parse::<engram_core::Cid>();
    }
    let _ = serde_json::from_slice::<ProveMemoryRequest>(data);
    let _ = serde_json::from_slice::<AttestRequest>(data);
    let _ = serde_json::from_slice::<NamespaceAuth>(data);
    if let Ok(body) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(data) {
        let _ = engram_core::auth::body_hash(&body);
        let _ = engram_core::auth::verify_request(&body, "IngestSynapse");
    }
});
