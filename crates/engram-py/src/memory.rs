//! `Memory` (one API over the embedded store or a node: `engram-client`'s
//! [`Memory`](engram_client::Memory)) and `Network` (replicated writes and fan-out reads
//! through a registry). Records and results cross as JSON text in the wire protocol's
//! shapes, so `Engram(path).query` and `EngramClient(url).query` return the same dicts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use engram_client::network::Network;
use engram_client::{ClientOptions, Memory, MemoryConfig, NewText, Retrieval, SearchMode};
use engram_core::Cid;
use pyo3::prelude::*;
use serde_json::{Map, Value};

use crate::error::{client, invalid};
use crate::keys::signer;
use crate::runtime;

fn object(json: Option<&str>) -> PyResult<Map<String, Value>> {
    match json {
        None => Ok(Map::new()),
        Some(j) => match serde_json::from_str(j).map_err(invalid)? {
            Value::Object(m) => Ok(m),
            Value::Null => Ok(Map::new()),
            _ => Err(invalid("expected a JSON object")),
        },
    }
}

fn parse_cid(cid: &str) -> PyResult<Cid> {
    cid.parse().map_err(invalid)
}

/// A query's input checked before anything is sent or searched: exactly one of a text or a
/// vector, each valid, `top_k` in range, a known mode (one that ranks by words needs the
/// text) and a weight in range (core's rules); the count to ask for and the ranking.
fn query_input(
    text: Option<&str>,
    vector: Option<&[f32]>,
    top_k: i64,
    mode: Option<&str>,
    keyword_weight: Option<f64>,
) -> PyResult<(usize, Retrieval)> {
    let k = engram_core::validate_top_k(top_k).map_err(invalid)?;
    let mode: SearchMode = mode.unwrap_or("dense").parse().map_err(invalid)?;
    if let Some(w) = keyword_weight {
        engram_core::search::validate_keyword_weight(w).map_err(invalid)?;
    }
    match (text, vector) {
        (Some(t), None) => engram_core::validate_text(t).map_err(invalid)?,
        (None, Some(_)) if mode.needs_text() => {
            return Err(invalid(format!(
                "mode {mode} ranks by words: give a query text, not a vector"
            )));
        }
        (None, Some(v)) => engram_core::validate_embedding(v).map_err(invalid)?,
        (Some(_), Some(_)) => return Err(invalid("give a query text or a query vector, not both")),
        (None, None) => return Err(invalid("give a query text or a query vector")),
    }
    Ok((
        k,
        Retrieval {
            mode,
            keyword_weight,
            min_tier: None,
        },
    ))
}

/// A time to live as the expiry it sets, checked by core's rule (private namespaces only).
fn expiry(ttl_s: Option<u64>, namespace: Option<&str>) -> PyResult<Option<u64>> {
    ttl_s
        .map(|ttl| {
            engram_core::expiry_ms(
                ttl,
                engram_core::auth::private_namespace(namespace).is_none(),
                engram_os::now_ms(),
            )
        })
        .transpose()
        .map_err(invalid)
}

fn to_json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("wire types serialize")
}

fn options(
    timeout: f64,
    retries: Option<u32>,
    keypair: Option<&Bound<'_, PyAny>>,
    namespace_key: Option<String>,
) -> PyResult<ClientOptions> {
    if !(timeout.is_finite() && timeout > 0.0) {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "timeout must be a positive number of seconds, got {timeout}"
        )));
    }
    let mut o = ClientOptions {
        timeout: Duration::from_secs_f64(timeout),
        signer: signer(keypair)?,
        namespace_key,
        ..ClientOptions::default()
    };
    if let Some(r) = retries {
        o.retries = r;
    }
    Ok(o)
}

/// Memory, embedded (a data directory) or remote (a node URL).
#[pyclass(module = "engram._engram", name = "Memory", frozen)]
struct PyMemory {
    /// `None` once closed (the embedded store's lock is released then).
    inner: std::sync::RwLock<Option<Arc<Memory>>>,
}

impl PyMemory {
    fn memory(&self) -> PyResult<Arc<Memory>> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| crate::error::EngramNativeError::new_err("this memory is closed"))
    }
}

#[pymethods]
impl PyMemory {
    /// `node`: a node URL, or `None` for the embedded store in `data_dir` (else
    /// `ENGRAM_DATA_DIR`, else the user's data directory, as the CLI chooses), with the
    /// model in `model_dir` (else `ENGRAM_MODEL_DIR`, else the user's model location).
    #[new]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments, each optional
    #[pyo3(signature = (node=None, data_dir=None, model_dir=None, timeout=30.0, retries=None, keypair=None, namespace_key=None))]
    fn new(
        py: Python<'_>,
        node: Option<String>,
        data_dir: Option<PathBuf>,
        model_dir: Option<PathBuf>,
        timeout: f64,
        retries: Option<u32>,
        keypair: Option<&Bound<'_, PyAny>>,
        namespace_key: Option<String>,
    ) -> PyResult<Self> {
        let config = MemoryConfig {
            node,
            data_dir: data_dir.unwrap_or_else(engram_embed::model_dir::default_data_dir),
            model_dir,
            client: Some(options(timeout, retries, keypair, namespace_key)?),
        };
        // Opening the embedded store takes its lock and may replay a journal.
        let inner = py.detach(|| Memory::open(config)).map_err(client)?;
        Ok(Self {
            inner: std::sync::RwLock::new(Some(Arc::new(inner))),
        })
    }

    /// Closes the store (checkpointed, lock released) once no call is using it; later
    /// calls raise. Idempotent.
    fn close(&self, py: Python<'_>) {
        let taken = self.inner.write().unwrap_or_else(|p| p.into_inner()).take();
        py.detach(|| drop(taken));
    }

    /// True for a node over HTTP.
    #[getter]
    fn is_remote(&self) -> PyResult<bool> {
        Ok(self.memory()?.is_remote())
    }

    /// Loads and verifies the model now (embedded), so a missing model fails early.
    fn check_model(&self, py: Python<'_>) -> PyResult<()> {
        let memory = self.memory()?;
        py.detach(|| memory.check_model()).map_err(client)
    }

    /// Stores texts with their metadata (JSON text each): `[(cid, new)]` in input order.
    /// Embedded: all validated before any is stored. `ttl_s`: seconds until they expire
    /// (private namespaces only).
    #[pyo3(signature = (items, namespace=None, ttl_s=None))]
    fn ingest_texts(
        &self,
        py: Python<'_>,
        items: Vec<(String, Option<String>)>,
        namespace: Option<String>,
        ttl_s: Option<u64>,
    ) -> PyResult<Vec<(String, bool)>> {
        let expires_ms = expiry(ttl_s, namespace.as_deref())?;
        let mut texts = Vec::with_capacity(items.len());
        for (text, meta) in items {
            engram_core::validate_text(&text).map_err(invalid)?;
            let metadata = Value::Object(object(meta.as_deref())?);
            engram_core::validate_metadata(&metadata).map_err(invalid)?;
            texts.push(NewText {
                text,
                metadata,
                namespace: namespace.clone(),
                expires_ms,
            });
        }
        let memory = self.memory()?;
        let stored = py
            .detach(|| runtime().block_on(async move { memory.ingest_texts(texts).await }))
            .map_err(client)?;
        Ok(stored
            .into_iter()
            .map(|s| (s.cid.to_string(), s.new))
            .collect())
    }

    /// Stores one vector byte for byte (with the text it stands for, when given):
    /// `(cid, new)`. `ttl_s` as in `ingest_texts`.
    #[pyo3(signature = (embedding, metadata_json=None, model_version=None, namespace=None, text=None, ttl_s=None))]
    #[allow(clippy::too_many_arguments)]
    fn ingest_vector(
        &self,
        py: Python<'_>,
        embedding: Vec<f32>,
        metadata_json: Option<&str>,
        model_version: Option<String>,
        namespace: Option<String>,
        text: Option<String>,
        ttl_s: Option<u64>,
    ) -> PyResult<(String, bool)> {
        let expires_ms = expiry(ttl_s, namespace.as_deref())?;
        if let Some(t) = &text {
            engram_core::validate_text(t).map_err(invalid)?;
        }
        engram_core::validate_embedding(&embedding).map_err(invalid)?;
        let metadata = Value::Object(object(metadata_json)?);
        engram_core::validate_metadata(&metadata).map_err(invalid)?;
        let memory = self.memory()?;
        let s = py
            .detach(|| {
                runtime().block_on(async move {
                    memory
                        .ingest_vector(
                            embedding,
                            metadata,
                            model_version,
                            namespace.as_deref(),
                            text,
                            expires_ms,
                        )
                        .await
                })
            })
            .map_err(client)?;
        Ok((s.cid.to_string(), s.new))
    }

    /// The `top_k` best memories for a text or nearest a vector, as the wire protocol's
    /// result list (JSON text). `filter_json`: metadata equality filters; `min_tier`: a
    /// trust tier name; `mode`: dense, keyword or hybrid; `keyword_weight`: hybrid's
    /// keyword ranking weight.
    #[pyo3(signature = (text=None, vector=None, top_k=10, namespace=None, filter_json=None, min_tier=None, mode=None, keyword_weight=None))]
    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        py: Python<'_>,
        text: Option<String>,
        vector: Option<Vec<f32>>,
        top_k: i64,
        namespace: Option<String>,
        filter_json: Option<&str>,
        min_tier: Option<&str>,
        mode: Option<&str>,
        keyword_weight: Option<f64>,
    ) -> PyResult<String> {
        let (k, mut how) = query_input(
            text.as_deref(),
            vector.as_deref(),
            top_k,
            mode,
            keyword_weight,
        )?;
        let filter = object(filter_json)?;
        how.min_tier = min_tier
            .map(|t| serde_json::from_value(Value::String(t.to_string())).map_err(invalid))
            .transpose()?;
        let memory = self.memory()?;
        let results = py
            .detach(|| {
                runtime().block_on(async move {
                    memory
                        .query(text, vector, k, namespace.as_deref(), filter, how)
                        .await
                })
            })
            .map_err(client)?;
        Ok(to_json(&results))
    }

    /// A page of the namespace's memories matching `filter_json`: the list of
    /// `{"cid", "metadata", "text"}` (JSON text).
    #[pyo3(signature = (filter_json=None, limit=50, offset=0, namespace=None))]
    fn list(
        &self,
        py: Python<'_>,
        filter_json: Option<&str>,
        limit: i64,
        offset: i64,
        namespace: Option<String>,
    ) -> PyResult<String> {
        engram_core::validate_list_page(limit, offset).map_err(invalid)?;
        let filter = object(filter_json)?;
        let memory = self.memory()?;
        let records = py
            .detach(|| {
                runtime().block_on(async move {
                    memory
                        .list(filter, limit, offset, namespace.as_deref())
                        .await
                })
            })
            .map_err(client)?;
        Ok(to_json(&records))
    }

    /// The record under `cid` (JSON text), `None` when it is not there.
    #[pyo3(signature = (cid, namespace=None))]
    fn get(
        &self,
        py: Python<'_>,
        cid: &str,
        namespace: Option<String>,
    ) -> PyResult<Option<String>> {
        let cid = parse_cid(cid)?;
        let memory = self.memory()?;
        let r = py
            .detach(|| {
                runtime().block_on(async move { memory.get(&cid, namespace.as_deref()).await })
            })
            .map_err(client)?;
        Ok(r.map(|r| to_json(&r)))
    }

    /// Deletes the memory under `cid` from a private namespace; false when absent.
    #[pyo3(signature = (cid, namespace=None))]
    fn delete(&self, py: Python<'_>, cid: &str, namespace: Option<String>) -> PyResult<bool> {
        let cid = parse_cid(cid)?;
        let memory = self.memory()?;
        py.detach(|| {
            runtime().block_on(async move { memory.delete(&cid, namespace.as_deref()).await })
        })
        .map_err(client)
    }

    /// Deletes memories of a private namespace in one pass of the store; the
    /// `DeleteResponse` (deleted CIDs, files removed, commitment) as JSON text.
    #[pyo3(signature = (cids, namespace=None))]
    fn delete_many(
        &self,
        py: Python<'_>,
        cids: Vec<String>,
        namespace: Option<String>,
    ) -> PyResult<String> {
        let cids = cids
            .iter()
            .map(|c| parse_cid(c))
            .collect::<PyResult<Vec<_>>>()?;
        let memory = self.memory()?;
        let out = py
            .detach(|| {
                runtime()
                    .block_on(async move { memory.delete_many(&cids, namespace.as_deref()).await })
            })
            .map_err(client)?;
        Ok(to_json(&out))
    }

    /// Deletes a document: its file (`sha256:…`) and every memory made from it; `key`
    /// (the X25519 private key) finds its sealed chunks. JSON text as `delete_many`.
    #[pyo3(signature = (cid, namespace=None, key=None))]
    fn delete_document(
        &self,
        py: Python<'_>,
        cid: &str,
        namespace: Option<String>,
        key: Option<Vec<u8>>,
    ) -> PyResult<String> {
        let cid = parse_cid(cid)?;
        let key = key
            .map(|k| <[u8; 32]>::try_from(k.as_slice()))
            .transpose()
            .map_err(|_| invalid("key must be a 32-byte X25519 private key"))?;
        let memory = self.memory()?;
        let out = py
            .detach(|| {
                runtime().block_on(async move {
                    memory
                        .delete_document(&cid, namespace.as_deref(), key.as_ref())
                        .await
                })
            })
            .map_err(client)?;
        Ok(to_json(&out))
    }

    /// Count, roots and location (JSON text); embedded adds the model, kernel path and index.
    fn status(&self, py: Python<'_>) -> PyResult<String> {
        let memory = self.memory()?;
        let s = py
            .detach(|| runtime().block_on(async move { memory.status().await }))
            .map_err(client)?;
        let mut v = serde_json::to_value(&s).expect("status serializes");
        if let Some(local) = &s.local {
            v["local"] = serde_json::to_value(local).expect("status serializes");
        }
        Ok(v.to_string())
    }

    /// The node's `/health` answer, or `{"status": "ok"}` for the embedded store (JSON).
    fn health(&self, py: Python<'_>) -> PyResult<String> {
        let memory = self.memory()?;
        let h = py
            .detach(|| runtime().block_on(async move { memory.health().await }))
            .map_err(client)?;
        Ok(to_json(&h))
    }

    /// Stores a document: `kind` `pdf` or `image` with `data`, or `url` with `url`. Embedded:
    /// read here, put on Arweave when `ARWEAVE_KEY`/`ARWEAVE_KEY_FILE` is set; a node reads
    /// and archives it itself. Returns the `DocumentResponse` as JSON text.
    #[allow(clippy::too_many_arguments)] // Python keyword arguments, each optional
    #[pyo3(signature = (kind, data=None, url=None, filename=None, description=None, metadata_json=None, namespace=None, max_bytes=None, vision_url=None, vision_key=None, vision_model=None, seal_to=None, dp_epsilon=Some(engram_core::noise::DEFAULT_EPSILON)))]
    fn ingest_document(
        &self,
        py: Python<'_>,
        kind: &str,
        data: Option<Vec<u8>>,
        url: Option<String>,
        filename: Option<String>,
        description: Option<String>,
        metadata_json: Option<String>,
        namespace: Option<String>,
        max_bytes: Option<usize>,
        vision_url: Option<String>,
        vision_key: Option<String>,
        vision_model: Option<String>,
        seal_to: Option<Vec<u8>>,
        dp_epsilon: Option<f64>,
    ) -> PyResult<String> {
        use engram_client::media::{Archiver, DocumentSource, MediaOptions};
        let metadata = Value::Object(object(metadata_json.as_deref())?);
        let name = |default: &str| filename.clone().unwrap_or_else(|| default.to_string());
        let source = match (kind, data, url) {
            ("pdf", Some(bytes), None) => DocumentSource::Pdf {
                bytes,
                filename: name("document.pdf"),
            },
            ("image", Some(bytes), None) => DocumentSource::Image {
                bytes,
                filename: name("image"),
                description,
            },
            ("url", None, Some(url)) => DocumentSource::Url(url),
            _ => {
                return Err(invalid(
                    "pass kind 'pdf' or 'image' with data, or kind 'url' with url",
                ));
            }
        };
        let mut opts = MediaOptions::from_env(engram_client::media::private_urls_allowed());
        if let Some(max) = max_bytes {
            opts.limits.max_bytes = max;
        }
        if let Some(url) = vision_url {
            opts.vision = Some(engram_media::vision::VisionConfig {
                url,
                key: vision_key,
                model: vision_model
                    .unwrap_or_else(|| engram_media::vision::DEFAULT_MODEL.to_string()),
            });
        }
        let seal = match seal_to {
            None => None,
            Some(key) => {
                let recipient = <[u8; 32]>::try_from(key.as_slice())
                    .map_err(|_| invalid("seal_to must be a 32-byte X25519 public key"))?;
                let dir = engram_embed::resolve_model_dir(None);
                let embedder = py
                    .detach(|| engram_embed::Embedder::load(&dir))
                    .map_err(crate::error::native)?;
                Some(engram_client::media::Seal {
                    recipient,
                    epsilon: dp_epsilon,
                    embedder: Arc::new(embedder),
                })
            }
        };
        let memory = self.memory()?;
        let out = py
            .detach(|| {
                runtime().block_on(async move {
                    let archiver = if memory.is_remote() {
                        None
                    } else {
                        Archiver::from_env()?
                    };
                    memory
                        .ingest_document(
                            source,
                            metadata,
                            namespace.as_deref(),
                            &opts,
                            archiver.as_ref(),
                            seal.as_ref(),
                        )
                        .await
                })
            })
            .map_err(client)?;
        Ok(to_json(&out))
    }

    /// A blob's bytes by content CID (`sha256:…`), checked against it; a private
    /// namespace's with this memory's signature for `namespace`.
    #[pyo3(signature = (cid, namespace=None))]
    fn blob(
        &self,
        py: Python<'_>,
        cid: &str,
        namespace: Option<String>,
    ) -> PyResult<std::borrow::Cow<'static, [u8]>> {
        let cid = parse_cid(cid)?;
        let memory = self.memory()?;
        let bytes = py
            .detach(|| {
                runtime().block_on(async move { memory.blob(&cid, namespace.as_deref()).await })
            })
            .map_err(client)?;
        Ok(std::borrow::Cow::Owned(bytes))
    }

    /// Builds the search index for what was just stored (embedded); false for a node.
    fn build_index(&self, py: Python<'_>) -> PyResult<bool> {
        let memory = self.memory()?;
        py.detach(|| runtime().block_on(async move { memory.build_index().await }))
            .map_err(client)
    }
}

/// A network through its registry: writes go to the replicas nearest each CID, reads fan
/// out and merge.
#[pyclass(module = "engram._engram", name = "Network", frozen)]
struct PyNetwork {
    inner: Network,
}

#[pymethods]
impl PyNetwork {
    /// The network whose devnet registry is in `directory`.
    #[new]
    #[pyo3(signature = (directory, timeout=10.0, keypair=None))]
    fn new(directory: PathBuf, timeout: f64, keypair: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        if !directory.is_dir() {
            return Err(pyo3::exceptions::PyFileNotFoundError::new_err(format!(
                "no network directory {}",
                directory.display()
            )));
        }
        let chain = Arc::new(engram_chain::Devnet::open(&directory));
        Ok(Self {
            inner: Network::with_options(chain, options(timeout, Some(1), keypair, None)?),
        })
    }

    /// Stores a vector on its replicas: JSON text `{"cid", "holders", "failed"}`.
    #[pyo3(signature = (embedding, metadata_json=None, namespace=None))]
    fn ingest_vector(
        &self,
        py: Python<'_>,
        embedding: Vec<f32>,
        metadata_json: Option<&str>,
        namespace: Option<String>,
    ) -> PyResult<String> {
        engram_core::validate_embedding(&embedding).map_err(invalid)?;
        let metadata = Value::Object(object(metadata_json)?);
        let network = self.inner.clone();
        let placed = py
            .detach(|| {
                runtime().block_on(async move {
                    let req = engram_wire::IngestRequest {
                        raw_embedding: Some(embedding),
                        metadata,
                        auth: network.namespace_auth(namespace.as_deref())?,
                        ..Default::default()
                    };
                    network.ingest(&req).await
                })
            })
            .map_err(client)?;
        Ok(serde_json::json!({
            "cid": placed.cid.to_string(),
            "holders": placed.holders,
            "failed": placed.failed,
        })
        .to_string())
    }

    /// Asks every live node and merges: JSON text `{"results", "answered", "asked"}`.
    #[pyo3(signature = (text=None, vector=None, top_k=10, namespace=None, filter_json=None, mode=None, keyword_weight=None))]
    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        py: Python<'_>,
        text: Option<String>,
        vector: Option<Vec<f32>>,
        top_k: i64,
        namespace: Option<String>,
        filter_json: Option<&str>,
        mode: Option<&str>,
        keyword_weight: Option<f64>,
    ) -> PyResult<String> {
        let (_, how) = query_input(
            text.as_deref(),
            vector.as_deref(),
            top_k,
            mode,
            keyword_weight,
        )?;
        let filter = object(filter_json)?;
        let network = self.inner.clone();
        let fan = py
            .detach(|| {
                runtime().block_on(async move {
                    let req = engram_wire::QueryRequest {
                        query_text: text,
                        query_vector: vector,
                        top_k: Some(top_k),
                        filter: (!filter.is_empty()).then_some(filter),
                        mode: (how.mode != SearchMode::Dense).then_some(how.mode),
                        keyword_weight: how.keyword_weight,
                        auth: network.namespace_auth(namespace.as_deref())?,
                        ..Default::default()
                    };
                    network.query(&req).await
                })
            })
            .map_err(client)?;
        Ok(serde_json::json!({
            "results": fan.results,
            "answered": fan.answered,
            "asked": fan.asked,
        })
        .to_string())
    }

    /// The record under `cid` from the nearest node whose copy verifies, and that node's
    /// hotkey: `(record JSON, hotkey)` or `None`.
    fn get(&self, py: Python<'_>, cid: &str) -> PyResult<Option<(String, String)>> {
        let cid = parse_cid(cid)?;
        let network = self.inner.clone();
        let r = py
            .detach(|| runtime().block_on(async move { network.get(&cid).await }))
            .map_err(client)?;
        Ok(r.map(|(rec, holder)| (to_json(&rec), holder)))
    }

    /// Hotkeys and URLs of the nodes that answer now: JSON text.
    fn live_nodes(&self, py: Python<'_>) -> PyResult<String> {
        let network = self.inner.clone();
        let nodes = py
            .detach(|| runtime().block_on(async move { network.live_nodes().await }))
            .map_err(client)?;
        Ok(Value::Array(
            nodes
                .iter()
                .map(|n| serde_json::json!({"hotkey": n.hotkey, "url": n.client.base_url()}))
                .collect(),
        )
        .to_string())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMemory>()?;
    m.add_class::<PyNetwork>()?;
    Ok(())
}
