//! Erasure-coded public blobs over HTTP, and the round that spreads and repairs them.
//!
//! A public document's file stays whole on the node that read it; on a network that node
//! also cuts it into Reed–Solomon shards ([`engram_core::erasure`]) and gives one to each
//! of the blob's `n` nearest live nodes, so any `k` of them rebuild it after the reader is
//! gone. Each repair round, the one node chosen by [`erasure::repairer`] (the nearest that
//! keeps the blob whole, else the nearest shard holder) re-creates the shards kept nowhere
//! and hands them to the nearest nodes that keep none ([`erasure::gaps`]). Shards are
//! checked against the manifest on the way in and out, by the store; readers and
//! validators check them again, so an altered shard is never mistaken for data.
//!
//! Private blobs are not spread: repair would need other nodes to read them, and their
//! owner's signature is what guards them (docs/security.md).
//!
//! Endpoints (ours): `GET /shards?offset=&limit=` what this node keeps; `GET|PUT
//! /shards/{blob}` a manifest; `GET|PUT /shards/{blob}/{index}` one shard's bytes. Writes
//! are as open as public ingest: a manifest is checked for consistency and a shard against
//! its manifest, and a manifest with no shard under it yet is replaced by the next one, so
//! a stranger cannot block a blob by sending a false manifest first. A memory CID in the
//! path is refused by the store, which owns the rule that shards belong to content CIDs.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use engram_client::network::Network;
use engram_core::Cid;
use engram_core::erasure::{self, Holding, Layout, Manifest};
use engram_engine::Engine;
use engram_store::PUBLIC_NAMESPACE;
use engram_wire::{HeldBlob, MAX_SHARD_PAGE, ShardListing, ShardManifest};
use futures_util::future::join_all;

use crate::error::{ApiError, NodeError};
use crate::fault::Fault;
use crate::json::{Json, Query};
use crate::server::AppState;

type Shared = State<Arc<AppState>>;

/// What this node keeps of every blob: shards held for the network and public blobs kept
/// whole, by CID.
fn holdings(engine: &Engine) -> Result<Vec<HeldBlob>, engram_engine::EngineError> {
    let store = engine.store();
    let mut all: BTreeMap<Cid, HeldBlob> = BTreeMap::new();
    for (blob, shards) in store.shards().held()? {
        let manifest = store.shards().manifest(&blob).ok().flatten();
        all.insert(
            blob,
            HeldBlob {
                blob,
                shards,
                whole: false,
                manifest: manifest.map(|m| m.digest()),
            },
        );
    }
    for info in store.blobs().all()? {
        if info.namespace == PUBLIC_NAMESPACE && !info.encrypted {
            all.entry(info.cid)
                .or_insert_with(|| HeldBlob {
                    blob: info.cid,
                    shards: Vec::new(),
                    whole: false,
                    manifest: None,
                })
                .whole = true;
        }
    }
    Ok(all.into_values().collect())
}

/// Query string of `GET /shards`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Page {
    #[serde(default)]
    offset: usize,
    #[serde(default = "max_page")]
    limit: usize,
}

fn max_page() -> usize {
    MAX_SHARD_PAGE
}

/// `GET /shards`.
pub(crate) async fn list(
    State(state): Shared,
    Query(page): Query<Page>,
) -> Result<axum::Json<ShardListing>, ApiError> {
    if !(1..=MAX_SHARD_PAGE).contains(&page.limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_SHARD_PAGE}, got {}",
            page.limit
        )));
    }
    let engine = state.engine.clone();
    let all = tokio::task::spawn_blocking(move || holdings(&engine)).await??;
    let total = all.len();
    let blobs = all.into_iter().skip(page.offset).take(page.limit).collect();
    Ok(axum::Json(ShardListing {
        blobs,
        total,
        offset: page.offset,
    }))
}

async fn answer(state: &AppState, blob: Cid) -> Result<axum::Json<ShardManifest>, ApiError> {
    let engine = state.engine.clone();
    let (manifest, held) = tokio::task::spawn_blocking(move || {
        let shards = engine.store().shards();
        Ok::<_, engram_store::StoreError>((shards.manifest(&blob)?, shards.indices(&blob)?))
    })
    .await?
    .map_err(engram_engine::EngineError::from)?;
    let manifest =
        manifest.ok_or_else(|| ApiError::NotFound(format!("no shards of {blob} are kept here")))?;
    Ok(axum::Json(ShardManifest { manifest, held }))
}

/// `GET /shards/{blob}`.
pub(crate) async fn manifest(
    State(state): Shared,
    Path(raw): Path<String>,
) -> Result<axum::Json<ShardManifest>, ApiError> {
    answer(&state, raw.parse::<Cid>()?).await
}

/// `PUT /shards/{blob}`.
pub(crate) async fn put_manifest(
    State(state): Shared,
    Path(raw): Path<String>,
    Json(manifest, _caller): Json<Manifest>,
) -> Result<axum::Json<ShardManifest>, ApiError> {
    let blob = raw.parse::<Cid>()?;
    if manifest.blob != blob {
        return Err(ApiError::BadRequest(format!(
            "the manifest is for {}, not {blob}",
            manifest.blob
        )));
    }
    if manifest.size > state.config.max_document_bytes as u64 {
        return Err(ApiError::TooLarge {
            limit: state.config.max_document_bytes,
        });
    }
    let engine = state.engine.clone();
    tokio::task::spawn_blocking(move || engine.store().shards().put_manifest(&manifest))
        .await?
        .map_err(engram_engine::EngineError::from)?;
    answer(&state, blob).await
}

/// `PUT /shards/{blob}/{index}`.
pub(crate) async fn put_shard(
    State(state): Shared,
    Path((raw, index)): Path<(String, usize)>,
    body: axum::body::Bytes,
) -> Result<axum::Json<ShardManifest>, ApiError> {
    let blob = raw.parse::<Cid>()?;
    let engine = state.engine.clone();
    tokio::task::spawn_blocking(move || engine.store().shards().put(&blob, index, &body))
        .await?
        .map_err(engram_engine::EngineError::from)?;
    answer(&state, blob).await
}

/// `GET /shards/{blob}/{index}`.
pub(crate) async fn shard(
    State(state): Shared,
    Path((raw, index)): Path<(String, usize)>,
) -> Result<Response, ApiError> {
    let blob = raw.parse::<Cid>()?;
    let engine = state.engine.clone();
    let mut bytes = tokio::task::spawn_blocking(move || engine.store().shards().get(&blob, index))
        .await?
        .map_err(engram_engine::EngineError::from)?
        .ok_or_else(|| ApiError::NotFound(format!("shard {index} of {blob} is not kept here")))?;
    if state.config.fault() == Fault::Tamper
        && let Some(b) = bytes.first_mut()
    {
        *b ^= 0x01;
    }
    let mut response = bytes.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(response)
}

/// What one shard round did (cumulative totals live in the replication view).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShardReport {
    /// Blobs this node repaired or spread this round.
    pub blobs: usize,
    /// Shards handed to nodes (this one included) that lacked them.
    pub pushed: usize,
    /// Pushes or reads that failed (retried next round).
    pub failed: usize,
    /// Shard bytes read from peers to rebuild.
    pub bytes_in: u64,
    /// Shard bytes sent to peers.
    pub bytes_out: u64,
}

/// One round of spreading and repairing the blobs this node keeps something of, on a
/// network whose live nodes are `network`'s; `layout` cuts blobs spread for the first
/// time.
///
/// # Errors
/// [`NodeError::Client`] when the registry cannot be read; [`NodeError::Engine`] when the
/// local store fails. Unreachable peers are skipped, not errors.
pub async fn shard_round(
    engine: &Arc<Engine>,
    network: &Network,
    me: &str,
    layout: Layout,
) -> Result<ShardReport, NodeError> {
    let mut report = ShardReport::default();
    let engine2 = engine.clone();
    let mine = tokio::task::spawn_blocking(move || holdings(&engine2)).await??;
    if mine.is_empty() {
        return Ok(report);
    }
    let candidates = crate::network::peers(network, me).await?;
    let listed = join_all(candidates.iter().map(|p| p.client.all_shard_holdings())).await;
    // A peer that cannot say what it keeps is a blind spot: a blob with such a peer among
    // its nearest is left alone this round (planning around it would rebuild and re-send
    // what it may still have).
    let mut blind: Vec<&str> = Vec::new();
    let mut peers = Vec::new();
    let mut peer_holdings = Vec::new();
    for (p, l) in candidates.iter().zip(listed) {
        match l {
            Ok(l) => {
                peers.push(p.clone());
                peer_holdings.push(l);
            }
            Err(_) => blind.push(p.hotkey.as_str()),
        }
    }
    let mut hotkeys: Vec<&str> = vec![me];
    hotkeys.extend(peers.iter().map(|p| p.hotkey.as_str()));
    let mut everyone = hotkeys.clone();
    everyone.extend(blind.iter().copied());
    let index: Vec<BTreeMap<Cid, &HeldBlob>> = std::iter::once(&mine)
        .chain(peer_holdings.iter())
        .map(|list| list.iter().map(|h| (h.blob, h)).collect())
        .collect();

    for held in &mine {
        let blob = held.blob;
        let row: Vec<Option<&HeldBlob>> = index.iter().map(|m| m.get(&blob).copied()).collect();
        let any: Vec<Holding> = row
            .iter()
            .map(|h| {
                h.map_or_else(Holding::default, |h| Holding {
                    shards: h.shards.clone(),
                    whole: h.whole,
                })
            })
            .collect();
        if erasure::repairer(&blob, &hotkeys, &any) != Some(0) {
            continue;
        }
        let mut nearest = engram_core::dht::by_distance(&blob.to_string(), &everyone);
        nearest.truncate(layout.total);
        if nearest.iter().any(|&i| i >= hotkeys.len()) {
            continue;
        }
        match repair_blob(engine, &peers, &hotkeys, &row, held, layout, &mut report).await {
            Ok(true) => report.blobs += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(%blob, error = %e, "shard repair failed");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// The holdings of `row` that are under `manifest` (by its digest): shards under any other
/// manifest are not counted as present.
fn under(row: &[Option<&HeldBlob>], manifest: &Manifest) -> Vec<Holding> {
    let digest = manifest.digest();
    row.iter()
        .map(|h| match h {
            Some(h) if h.manifest == Some(digest) => Holding {
                shards: h
                    .shards
                    .iter()
                    .copied()
                    .filter(|&i| i < manifest.total)
                    .collect(),
                whole: h.whole,
            },
            Some(h) => Holding {
                shards: Vec::new(),
                whole: h.whole,
            },
            None => Holding::default(),
        })
        .collect()
}

/// Spreads or repairs one blob this node was chosen for; true if anything was sent.
async fn repair_blob(
    engine: &Arc<Engine>,
    peers: &[engram_client::network::NodeInfo],
    hotkeys: &[&str],
    row: &[Option<&HeldBlob>],
    held: &HeldBlob,
    layout: Layout,
    report: &mut ShardReport,
) -> Result<bool, NodeError> {
    let blob = held.blob;
    let engine2 = engine.clone();
    let kept =
        tokio::task::spawn_blocking(move || engine2.store().shards().manifest(&blob)).await??;
    // The kept manifest wins over this node's layout setting: indices keep one meaning.
    if let Some(kept) = &kept
        && erasure::gaps(&blob, kept.total, hotkeys, &under(row, kept)).is_empty()
    {
        return Ok(false);
    }
    let (manifest, shards) = match (held.whole, kept) {
        // Kept whole: (re-)encode locally, no traffic in. The bytes are the truth: a kept
        // manifest they do not re-encode to was forged, and is replaced.
        (true, kept) => {
            let engine2 = engine.clone();
            tokio::task::spawn_blocking(move || {
                let store = engine2.store();
                let bytes = store.blobs().get(&blob)?;
                let recorded = store.blobs().info(&blob)?.map_or_else(
                    || "application/octet-stream".to_string(),
                    |i| i.content_type,
                );
                let (content_type, layout) = match &kept {
                    Some(k) => (k.content_type.clone(), k.layout()),
                    None => (recorded.clone(), layout),
                };
                let (mut manifest, mut shards) = erasure::encode(&bytes, &content_type, layout)?;
                if kept.as_ref().is_some_and(|k| *k != manifest) {
                    tracing::warn!(%blob, "replacing a shard manifest the file does not match");
                    store.shards().forget(&blob)?;
                    (manifest, shards) = erasure::encode(&bytes, &recorded, layout)?;
                }
                store.shards().put_manifest(&manifest)?;
                Ok::<_, NodeError>((manifest, shards))
            })
            .await??
        }
        (false, Some(manifest)) => {
            let plan = erasure::gaps(&blob, manifest.total, hotkeys, &under(row, &manifest));
            let shards = rebuild(
                engine,
                peers,
                &under(row, &manifest),
                &manifest,
                &plan,
                report,
            )
            .await?;
            (manifest, shards)
        }
        (false, None) => return Ok(false),
    };
    let plan = erasure::gaps(&blob, manifest.total, hotkeys, &under(row, &manifest));
    for (node, index) in plan {
        let bytes = shards[index].clone();
        let sent = bytes.len() as u64;
        let result = if node == 0 {
            let engine2 = engine.clone();
            tokio::task::spawn_blocking(move || engine2.store().shards().put(&blob, index, &bytes))
                .await?
                .map_err(NodeError::from)
        } else {
            let client = &peers[node - 1].client;
            match client.put_shard_manifest(&manifest).await {
                Ok(_) => client.put_shard(&blob, index, bytes).await.map(|_| ()),
                Err(e) => Err(e),
            }
            .map_err(NodeError::from)
        };
        match result {
            Ok(()) => {
                report.pushed += 1;
                if node != 0 {
                    report.bytes_out += sent;
                }
            }
            Err(e) => {
                tracing::warn!(%blob, index, peer = hotkeys[node], error = %e, "shard push failed");
                report.failed += 1;
            }
        }
    }
    Ok(true)
}

/// Every shard of `manifest`, rebuilt from `k` good ones read here and from peers.
async fn rebuild(
    engine: &Arc<Engine>,
    peers: &[engram_client::network::NodeInfo],
    row: &[Holding],
    manifest: &Manifest,
    plan: &[(usize, usize)],
    report: &mut ShardReport,
) -> Result<Vec<Vec<u8>>, NodeError> {
    let blob = manifest.blob;
    let mut good: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    for &index in &row[0].shards {
        let engine2 = engine.clone();
        if let Ok(Ok(Some(bytes))) =
            tokio::task::spawn_blocking(move || engine2.store().shards().get(&blob, index)).await
        {
            good.insert(index, bytes);
        }
    }
    // Read the others one at a time and stop at `k`: repair traffic is what erasure coding
    // costs.
    'nodes: for (node, holding) in row.iter().enumerate().skip(1) {
        for &index in &holding.shards {
            if good.len() >= manifest.data {
                break 'nodes;
            }
            if good.contains_key(&index) {
                continue;
            }
            match peers[node - 1].client.shard(&blob, index).await {
                Ok(Some(bytes)) => {
                    report.bytes_in += bytes.len() as u64;
                    if manifest.check_shard(index, &bytes).is_ok() {
                        good.insert(index, bytes);
                    } else {
                        tracing::warn!(%blob, index, peer = %peers[node - 1].hotkey, "peer served an altered shard");
                    }
                }
                Ok(None) | Err(_) => report.failed += 1,
            }
        }
    }
    let given: Vec<(usize, &[u8])> = good.iter().map(|(&i, b)| (i, b.as_slice())).collect();
    let wanted: Vec<usize> = plan.iter().map(|&(_, i)| i).collect();
    let rebuilt = erasure::rebuild(manifest, &given, &wanted)?;
    let mut all = vec![Vec::new(); manifest.total];
    for (index, bytes) in wanted.into_iter().zip(rebuilt) {
        all[index] = bytes;
    }
    Ok(all)
}
