//! `GET /overview` and `GET /holders/{cid}`: what the web dashboard and CID page show.
//!
//! The node reports itself from its store and request metrics; on a network it also reads
//! the registry (stake, the validators' weights), asks every node's `/health` (two-second
//! budget, in parallel) and, where its operator installed a [`ValidatorReports`] source
//! (the devnet's validator state files), each validator's scores and last rounds. Nothing
//! here writes; a peer that does not answer is shown as down, and a registry that cannot be
//! read is reported in the view, never as a failed request.
//!
//! Both views are open to anyone and make this node talk to its peers, so neither may be a
//! lever for traffic: the network view is built at most once per [`VIEW_TTL`] however many
//! ask (single flight), and `/holders` is rate-limited per caller.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Path, State};
use engram_client::network::Network;
use engram_core::Cid;
use engram_core::dht::{REPLICATION, by_distance};
use engram_wire::{
    Holder, HoldersResponse, MetagraphNeuron, MetagraphResponse, NetworkOverview, NodeOverview,
    OverviewResponse, ValidatorView,
};
use futures_util::future::join_all;

use crate::error::ApiError;
use crate::metrics::CHALLENGE;
use crate::server::AppState;

/// Where the validators' reports come from (installed by the binary that knows where
/// validators keep them; a node alone has none).
pub type ValidatorReports = Arc<dyn Fn() -> Vec<ValidatorView> + Send + Sync>;

/// How long a peer may take to answer `/health` or `/retrieve` for a view.
const PEER_BUDGET: Duration = Duration::from_secs(2);
/// How long a disk-usage walk is reused (it reads every file's metadata).
const DISK_TTL: Duration = Duration::from_secs(10);
/// How long a network view is reused (its dashboard refreshes every 2 s).
pub(crate) const VIEW_TTL: Duration = Duration::from_secs(2);
/// `/holders` requests per caller per minute.
pub(crate) const HOLDERS_PER_MINUTE: u32 = 60;

/// The network a node joined, as the views need it.
pub(crate) struct Joined {
    pub(crate) network: Network,
    pub(crate) hotkey: String,
    pub(crate) uid: u16,
}

type Shared = State<Arc<AppState>>;

/// `GET /overview`.
pub(crate) async fn overview(
    State(state): Shared,
) -> Result<axum::Json<OverviewResponse>, ApiError> {
    let node = node_overview(&state).await?;
    let network = match state.joined.get() {
        Some(joined) => {
            // Held while the view is built: concurrent callers wait for it, not redo it.
            let mut cached = state.network_view.lock().await;
            match &*cached {
                Some((at, view)) if at.elapsed() < VIEW_TTL => Some(view.clone()),
                _ => {
                    let view = network_overview(&state, joined).await;
                    *cached = Some((Instant::now(), view.clone()));
                    Some(view)
                }
            }
        }
        None => None,
    };
    Ok(axum::Json(OverviewResponse { node, network }))
}

async fn node_overview(state: &Arc<AppState>) -> Result<NodeOverview, ApiError> {
    let st = state.clone();
    let (commitment, unindexed, blobs, disk_bytes) = tokio::task::spawn_blocking(move || {
        let store = st.engine.store();
        let blobs = store
            .blobs()
            .counts()
            .map_err(engram_engine::EngineError::from)?;
        let disk = {
            let mut cached = st.disk.lock().unwrap_or_else(|p| p.into_inner());
            match *cached {
                Some((at, bytes)) if at.elapsed() < DISK_TTL => bytes,
                _ => {
                    let bytes = store.disk_usage();
                    *cached = Some((Instant::now(), bytes));
                    bytes
                }
            }
        };
        Ok::<_, ApiError>((store.commitment(), store.unindexed(), blobs, disk))
    })
    .await??;
    let m = &state.metrics;
    let (requests, server_errors) = m.totals();
    let (proofs, challenges) = m.outcomes(CHALLENGE);
    let joined = state.joined.get();
    Ok(NodeOverview {
        version: env!("CARGO_PKG_VERSION").to_string(),
        uptime_s: m.uptime().as_secs_f64(),
        memories: commitment.count,
        blobs: blobs.0 as u64,
        pending_uploads: blobs.1 as u64,
        disk_bytes,
        embed_queue: state.embedder.depth() as u64,
        unindexed: unindexed as u64,
        root_v2_hex: hex::encode(commitment.root_v2),
        requests,
        server_errors,
        query_p50_ms: m.query_p50_ms(),
        query_p99_ms: m.query_quantile_ms(0.99),
        challenges,
        proofs,
        hotkey: joined.map(|j| j.hotkey.clone()),
        uid: joined.map(|j| j.uid),
    })
}

async fn network_overview(state: &Arc<AppState>, joined: &Joined) -> NetworkOverview {
    let validators = match state.validators.get() {
        Some(reports) => {
            let reports = reports.clone();
            tokio::task::spawn_blocking(move || reports())
                .await
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    match joined.network.neurons(&validators, PEER_BUDGET).await {
        Ok(mut nodes) => {
            // Storage nodes only: validators serve no axon.
            nodes.retain(|n| n.axon.is_some());
            NetworkOverview {
                nodes,
                validators,
                replication: last_repair(state),
                error: None,
            }
        }
        Err(e) => {
            let error = format!("the registry cannot be read: {e}");
            tracing::warn!(%error, "network view");
            NetworkOverview {
                validators,
                replication: last_repair(state),
                error: Some(error),
                ..NetworkOverview::default()
            }
        }
    }
}

fn last_repair(state: &AppState) -> Option<engram_wire::ReplicationView> {
    state
        .replication
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// `GET /metagraph` (the original's): the registry's neurons with their axons' addresses and
/// last incentive. A registry that cannot be read answers an empty metagraph, as the
/// original does when its chain is unreachable.
pub(crate) async fn metagraph(State(state): Shared) -> axum::Json<MetagraphResponse> {
    let Some(joined) = state.joined.get() else {
        return axum::Json(MetagraphResponse::default());
    };
    let chain = joined.network.chain().clone();
    let Ok(Ok(graph)) = tokio::task::spawn_blocking(move || chain.metagraph()).await else {
        return axum::Json(MetagraphResponse::default());
    };
    let epoch = graph.last_epoch();
    let neurons = graph
        .neurons
        .iter()
        .map(|n| {
            let (ip, port) = n
                .axon
                .as_deref()
                .map_or((Some("0.0.0.0".into()), None), host_port);
            let incentive = epoch
                .and_then(|e| e.outcome.incentive.get(usize::from(n.uid)).copied())
                .unwrap_or(0.0);
            MetagraphNeuron {
                uid: n.uid,
                hotkey: Some(n.hotkey.clone()),
                ip,
                port,
                incentive: (incentive * 1e6).round() / 1e6,
            }
        })
        .collect();
    axum::Json(MetagraphResponse {
        neurons,
        block: epoch.map(|e| e.number),
    })
}

/// The host and port of an axon URL (`http://127.0.0.1:8091`, `http://[::1]:9000/`).
fn host_port(axon: &str) -> (Option<String>, Option<u16>) {
    let rest = axon.split_once("://").map_or(axon, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, p.parse().ok()),
        _ => (authority, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ((!host.is_empty()).then(|| host.to_string()), port)
}

/// `GET /holders/{cid}`: which serving nodes hold a public memory, nearest first, and which
/// of them the DHT rule makes its replicas. Rate-limited per caller: each call asks every
/// live node.
pub(crate) async fn holders(
    State(state): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(raw): Path<String>,
) -> Result<axum::Json<HoldersResponse>, ApiError> {
    let cid: Cid = raw.parse()?;
    if !matches!(cid, Cid::V1(_)) {
        return Err(ApiError::BadRequest(format!(
            "{raw} is a file's content CID: files stay with the node that read them (GET /blob/{raw}/info)"
        )));
    }
    state
        .views
        .check(&peer.ip().to_string(), Instant::now())
        .map_err(|retry_after| ApiError::RateLimited {
            per_minute: state.views.per_minute(),
            retry_after,
        })?;
    let Some(joined) = state.joined.get() else {
        let engine = state.engine.clone();
        let holds = tokio::task::spawn_blocking(move || engine.get(&cid, None))
            .await??
            .is_some();
        return Ok(axum::Json(HoldersResponse {
            cid: raw,
            network: false,
            nodes: vec![Holder {
                hotkey: String::new(),
                axon: String::new(),
                replica: true,
                holds: Some(holds),
            }],
        }));
    };
    let nodes = joined.network.live_nodes().await?;
    let hotkeys: Vec<&str> = nodes.iter().map(|n| n.hotkey.as_str()).collect();
    let order = by_distance(&raw, &hotkeys);
    let answers = join_all(order.iter().map(|&i| {
        let client = nodes[i].client.clone();
        async move {
            tokio::time::timeout(PEER_BUDGET, client.retrieve(&cid))
                .await
                .ok()
                .and_then(Result::ok)
                .map(|r| r.is_some())
        }
    }))
    .await;
    Ok(axum::Json(HoldersResponse {
        cid: raw,
        network: true,
        nodes: order
            .iter()
            .zip(answers)
            .enumerate()
            .map(|(rank, (&i, holds))| Holder {
                hotkey: nodes[i].hotkey.clone(),
                axon: nodes[i].client.base_url().to_string(),
                replica: rank < REPLICATION,
                holds,
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axon_addresses_split_into_host_and_port() {
        assert_eq!(
            host_port("http://127.0.0.1:8091"),
            (Some("127.0.0.1".into()), Some(8091))
        );
        assert_eq!(
            host_port("http://[::1]:9000/"),
            (Some("::1".into()), Some(9000))
        );
        assert_eq!(
            host_port("http://node.example"),
            (Some("node.example".into()), None)
        );
        assert_eq!(host_port(""), (None, None));
    }
}
