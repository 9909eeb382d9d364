//! `engram._engram`: the native half of the Python package.
//!
//! The Python package (`python/engram`) keeps the original SDK's names, argument lists,
//! return shapes and exceptions; everything that is a rule lives here, in the Rust crates:
//! embedding (`engram-embed`, with the GIL released), CIDs, signatures and encryption
//! (`engram-core`), the store and the HTTP client with its retries (`engram-client`'s
//! [`Memory`](engram_client::Memory) over the embedded engine or a node), and the network
//! client. Values cross the boundary as Python scalars, `bytes` and JSON text, so the Python
//! side builds dictionaries with `json.loads` and never re-implements a wire type.
//!
//! Calls that wait (embedding, the store, HTTP) release the GIL and run on one shared
//! tokio runtime.
//!
//! Compiled for tests the crate is empty: the module is tested from Python (python/tests)
//! against this very library, and a test harness cannot link CPython's symbols, which an
//! extension leaves to the interpreter that imports it.
#![cfg(not(test))]

mod crypto;
mod error;
mod keys;
mod memory;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use engram_embed::Embedder;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::{invalid, native};

/// The runtime every waiting call blocks on (with the GIL released).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("engram-py")
            .build()
            .expect("a tokio runtime starts")
    })
}

/// The embedder for `model_dir` (resolved as every Engram command resolves it), loaded
/// once per directory and kept.
fn embedder(model_dir: Option<PathBuf>) -> PyResult<Arc<Embedder>> {
    Ok(loaded(model_dir)?.1)
}

/// The resolved model directory and its embedder.
fn loaded(model_dir: Option<PathBuf>) -> PyResult<(PathBuf, Arc<Embedder>)> {
    static LOADED: Mutex<Option<(PathBuf, Arc<Embedder>)>> = Mutex::new(None);
    let dir = engram_embed::resolve_model_dir(model_dir.as_deref());
    let mut slot = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((d, e)) = slot.as_ref()
        && *d == dir
    {
        return Ok((dir, e.clone()));
    }
    let e = Arc::new(Embedder::load(&dir).map_err(native)?);
    *slot = Some((dir.clone(), e.clone()));
    Ok((dir, e))
}

/// Embeds `texts` with the canonical model: little-endian f32 bytes, 384 per text (the
/// Python side views them as a numpy `(N, 384)` array). The GIL is released meanwhile.
#[pyfunction]
#[pyo3(signature = (texts, model_dir=None))]
fn embed<'py>(
    py: Python<'py>,
    texts: Vec<String>,
    model_dir: Option<PathBuf>,
) -> PyResult<Bound<'py, PyBytes>> {
    for t in &texts {
        engram_core::validate_text(t).map_err(invalid)?;
    }
    let e = embedder(model_dir)?;
    let vectors = py.detach(|| {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        e.embed_batch(&refs)
    });
    let vectors = vectors.map_err(native)?;
    let bytes: Vec<u8> = vectors
        .iter()
        .flat_map(|v| engram_core::embedding::embedding_bytes(v))
        .collect();
    Ok(PyBytes::new(py, &bytes))
}

/// The model directory a call with `model_dir` would use, and the kernel path in use.
#[pyfunction]
#[pyo3(signature = (model_dir=None))]
fn model_info(model_dir: Option<PathBuf>) -> PyResult<(String, String)> {
    let (dir, e) = loaded(model_dir)?;
    Ok((dir.display().to_string(), e.kernels().to_string()))
}

fn metadata(json: &str) -> PyResult<engram_core::Metadata> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(invalid)?;
    engram_core::validate_metadata(&value).map_err(invalid)
}

/// The v1 CID of an embedding with its metadata (JSON text) and model version — the same
/// identifier the CLI, the node and the original network compute. The rule hashes the
/// vector's bytes whatever its length (stored memories have 384 dimensions).
#[pyfunction]
#[pyo3(signature = (embedding, metadata_json="{}", model_version=engram_core::DEFAULT_MODEL_VERSION))]
fn cid(embedding: Vec<f32>, metadata_json: &str, model_version: &str) -> PyResult<String> {
    if embedding.iter().any(|x| !x.is_finite()) {
        return Err(invalid("an embedding is a list of finite numbers"));
    }
    let meta = metadata(metadata_json)?;
    Ok(engram_core::cid_v1(&embedding, &meta, model_version).to_string())
}

/// `cid` in canonical form; `ValueError` when it is not `v1::<64 hex>` or
/// `sha256:<64 hex>`.
#[pyfunction]
fn parse_cid(cid: &str) -> PyResult<String> {
    let parsed: engram_core::Cid = cid.parse().map_err(invalid)?;
    Ok(parsed.to_string())
}

/// SHA-256 (hex) of an embedding's f32 little-endian bytes: what storage proofs commit to.
#[pyfunction]
fn embedding_hash(embedding: Vec<f32>) -> String {
    engram_core::embedding::embedding_hash_hex(&embedding)
}

/// Storage proof v1 (`version=1`) or v2 (`version=2`) of a record for a challenge nonce,
/// optionally bound to a validator hotkey (32 bytes); hex.
#[pyfunction]
#[pyo3(signature = (cid, embedding, nonce, validator_hotkey=None, version=1))]
fn storage_proof(
    cid: &str,
    embedding: Vec<f32>,
    nonce: &[u8],
    validator_hotkey: Option<&[u8]>,
    version: u8,
) -> PyResult<String> {
    let nonce: [u8; 32] = nonce
        .try_into()
        .map_err(|_| pyo3::exceptions::PyValueError::new_err("nonce must be 32 bytes"))?;
    let hotkey: Option<[u8; 32]> = validator_hotkey
        .map(|h| {
            h.try_into().map_err(|_| {
                pyo3::exceptions::PyValueError::new_err("validator_hotkey must be 32 bytes")
            })
        })
        .transpose()?;
    let cid: engram_core::Cid = cid.parse().map_err(invalid)?;
    let proof = match version {
        1 => engram_core::proof::proof_v1(
            &engram_core::embedding::embedding_hash_hex(&embedding),
            &nonce,
            hotkey.as_ref(),
        ),
        2 => engram_core::proof::proof_v2(&cid, &embedding, &nonce, hotkey.as_ref()),
        v => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "version must be 1 or 2, got {v}"
            )));
        }
    };
    Ok(hex::encode(proof))
}

/// The message a namespace owner signs: `engram-ns:{namespace}:{timestamp_ms}`.
#[pyfunction]
fn namespace_message(namespace: &str, timestamp_ms: u64) -> String {
    engram_core::auth::namespace_message(namespace, timestamp_ms)
}

/// The message a signed request carries: `{nonce}:{endpoint}:{body hash}` over the body
/// (JSON text) without its `hotkey`, `nonce` and `signature`.
#[pyfunction]
fn request_message(nonce: u64, endpoint: &str, body_json: &str) -> PyResult<String> {
    let body: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(body_json).map_err(invalid)?;
    Ok(engram_core::auth::request_message(nonce, endpoint, &body))
}

/// The native module.
#[pymodule]
fn _engram(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("EMBEDDING_DIM", engram_core::EMBEDDING_DIM)?;
    m.add("MAX_TEXT_CHARS", engram_core::MAX_TEXT_CHARS)?;
    m.add("MAX_DELETE_BATCH", engram_core::MAX_DELETE_BATCH)?;
    m.add("DEFAULT_MODEL_VERSION", engram_core::DEFAULT_MODEL_VERSION)?;
    m.add_function(wrap_pyfunction!(embed, m)?)?;
    m.add_function(wrap_pyfunction!(model_info, m)?)?;
    m.add_function(wrap_pyfunction!(cid, m)?)?;
    m.add_function(wrap_pyfunction!(parse_cid, m)?)?;
    m.add_function(wrap_pyfunction!(embedding_hash, m)?)?;
    m.add_function(wrap_pyfunction!(storage_proof, m)?)?;
    m.add_function(wrap_pyfunction!(namespace_message, m)?)?;
    m.add_function(wrap_pyfunction!(request_message, m)?)?;
    crypto::register(m)?;
    error::register(m)?;
    keys::register(m)?;
    memory::register(m)?;
    Ok(())
}
