//! A node on a network: it registers its hotkey, announces its address, and repairs
//! (records here; erasure-coded blobs in [`crate::erasure`], in the same loop).
//!
//! Repair is what keeps "every CID on its 3 nearest live nodes" true when nodes die or
//! join. Each round a node lists the live nodes (registry plus `/health`), reads which
//! CIDs each holds (`/cids`), and for every CID it holds itself pushes the exact record to
//! those of the CID's nearest live nodes that lack it. Every holder does this, so a CID
//! survives as long as one replica does, and a write is idempotent, so two holders
//! repairing the same gap at once is harmless. Records are never deleted when a node falls
//! out of a CID's replica set: an extra copy costs disk, a missing one costs data.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use engram_chain::Chain;
use engram_client::network::Network;
use engram_core::dht::{REPLICATION, replicas};
use engram_core::keys::Keypair;
use engram_engine::Engine;
use engram_wire::IngestRequest;
use futures_util::future::join_all;

use crate::error::NodeError;

/// What one repair round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairReport {
    /// Live nodes seen, this one included.
    pub live: usize,
    /// CIDs this node holds.
    pub held: usize,
    /// Copies pushed to nodes that lacked them.
    pub pushed: usize,
    /// Pushes that failed (retried next round).
    pub failed: usize,
}

/// Registers `key` and announces `axon`; returns the uid.
///
/// # Errors
/// [`NodeError::Chain`] if the registry refuses or cannot be written.
pub async fn join(chain: Arc<dyn Chain>, key: Keypair, axon: String) -> Result<u16, NodeError> {
    Ok(tokio::task::spawn_blocking(move || {
        let uid = chain.register(&key)?;
        chain.serve_axon(&key, &axon)?;
        Ok::<_, engram_chain::ChainError>(uid)
    })
    .await??)
}

/// The live nodes other than `me`.
pub(crate) async fn peers(
    network: &Network,
    me: &str,
) -> Result<Vec<engram_client::network::NodeInfo>, NodeError> {
    let mut live = network.live_nodes().await?;
    live.retain(|n| n.hotkey != me);
    Ok(live)
}

/// One repair round for the node with hotkey `me`.
///
/// # Errors
/// [`NodeError::Client`] if the registry cannot be read; [`NodeError::Engine`] if the
/// local store fails. Unreachable peers are skipped, not errors.
pub async fn repair_round(
    engine: &Arc<Engine>,
    network: &Network,
    me: &str,
) -> Result<RepairReport, NodeError> {
    let peers = peers(network, me).await?;
    let engine2 = engine.clone();
    let mine = tokio::task::spawn_blocking(move || engine2.cids(None)).await??;
    let held: Vec<HashSet<String>> = join_all(peers.iter().map(|p| p.client.all_cids()))
        .await
        .into_iter()
        .map(|r| r.map(|v| v.into_iter().collect()).unwrap_or_default())
        .collect();
    let mut hotkeys: Vec<&str> = vec![me];
    hotkeys.extend(peers.iter().map(|p| p.hotkey.as_str()));

    let mut report = RepairReport {
        live: hotkeys.len(),
        held: mine.len(),
        ..RepairReport::default()
    };
    for cid in &mine {
        let key = cid.to_string();
        let missing: Vec<usize> = replicas(&key, &hotkeys, REPLICATION)
            .into_iter()
            .filter(|&i| i != 0 && !held[i - 1].contains(&key))
            .map(|i| i - 1)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let engine2 = engine.clone();
        let cid2 = *cid;
        let Some(record) = tokio::task::spawn_blocking(move || engine2.get(&cid2, None)).await??
        else {
            continue; // deleted since the listing
        };
        let req = IngestRequest {
            raw_embedding: Some(record.vector),
            metadata: serde_json::Value::Object(record.metadata),
            model_version: record.model_version,
            source_text: record.text,
            ..IngestRequest::default()
        };
        let pushes = missing.iter().map(|&p| peers[p].client.ingest(&req));
        for (p, result) in missing.iter().zip(join_all(pushes).await) {
            match result {
                Ok(r) if r.cid.as_deref() == Some(key.as_str()) => report.pushed += 1,
                Ok(r) => {
                    tracing::warn!(peer = %peers[*p].hotkey, cid = %key, answered = ?r.cid, "peer answered another CID");
                    report.failed += 1;
                }
                Err(e) => {
                    tracing::warn!(peer = %peers[*p].hotkey, cid = %key, error = %e, "repair push failed");
                    report.failed += 1;
                }
            }
        }
    }
    Ok(report)
}

/// Shard traffic since the node started.
#[derive(Default)]
struct ShardTotals {
    pushed: u64,
    bytes_in: u64,
    bytes_out: u64,
}

/// Runs [`crate::erasure::shard_round`] and [`repair_round`] every `every` until the task is aborted.
pub(crate) fn spawn_repair(
    engine: Arc<Engine>,
    network: Network,
    me: String,
    every: Duration,
    layout: engram_core::erasure::Layout,
    last: Arc<std::sync::Mutex<Option<engram_wire::ReplicationView>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shards = ShardTotals::default();
        loop {
            tick.tick().await;
            // Records first: a slow shard push must not hold their repair back.
            let round = repair_round(&engine, &network, &me).await;
            match crate::erasure::shard_round(&engine, &network, &me, layout).await {
                Ok(r) => {
                    shards.pushed += r.pushed as u64;
                    shards.bytes_in += r.bytes_in;
                    shards.bytes_out += r.bytes_out;
                    if r.pushed > 0 || r.failed > 0 {
                        tracing::info!(
                            blobs = r.blobs,
                            pushed = r.pushed,
                            failed = r.failed,
                            bytes_in = r.bytes_in,
                            bytes_out = r.bytes_out,
                            "shard round"
                        );
                    }
                }
                Err(e) => tracing::warn!(error = %e, "shard round failed"),
            }
            if let Ok(r) = &round {
                *last.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(engram_wire::ReplicationView {
                        at_ms: engram_os::now_ms(),
                        live: r.live,
                        held: r.held,
                        pushed: r.pushed,
                        failed: r.failed,
                        shards_pushed_total: shards.pushed,
                        shard_bytes_in_total: shards.bytes_in,
                        shard_bytes_out_total: shards.bytes_out,
                    });
            }
            match round {
                Ok(r) if r.pushed > 0 || r.failed > 0 => {
                    tracing::info!(
                        live = r.live,
                        held = r.held,
                        pushed = r.pushed,
                        failed = r.failed,
                        "repair round"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "repair round failed"),
            }
        }
    })
}
