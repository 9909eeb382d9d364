//! Ours: what the web dashboard and CID page read — one node's state, the network it is on,
//! and which nodes hold a CID. Read-only views; nothing here is signed or stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /overview`: this node and, when it is on a network, every node and validator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OverviewResponse {
    /// This node.
    pub node: NodeOverview,
    /// The network, when this node joined one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkOverview>,
}

/// One node's state, from its store and its request metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeOverview {
    /// The node's version.
    pub version: String,
    /// Seconds since it started.
    pub uptime_s: f64,
    /// Distinct memories committed to (every namespace).
    pub memories: u64,
    /// Blobs kept (documents' raw bytes).
    pub blobs: u64,
    /// Blobs waiting for their Arweave upload.
    pub pending_uploads: u64,
    /// Bytes the store occupies on disk.
    pub disk_bytes: u64,
    /// Texts waiting for or in the embedder.
    pub embed_queue: u64,
    /// Vectors not yet in an HNSW index (searched by brute force meanwhile).
    pub unindexed: u64,
    /// The Merkle v2 root this node commits to, hex.
    pub root_v2_hex: String,
    /// Requests answered since start, every endpoint.
    pub requests: u64,
    /// Of those, answered with a 5xx status.
    pub server_errors: u64,
    /// Median latency of the last successful queries, ms.
    pub query_p50_ms: f64,
    /// 99th percentile latency of the last successful queries, ms.
    pub query_p99_ms: f64,
    /// Storage-proof challenges received.
    pub challenges: u64,
    /// Of those, answered with a proof.
    pub proofs: u64,
    /// The node's hotkey, when it is on a network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hotkey: Option<String>,
    /// The node's uid, when it is on a network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u16>,
}

/// The network as the registry and its validators report it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkOverview {
    /// Every registered neuron that serves a node, by uid.
    pub nodes: Vec<NetworkNode>,
    /// Every validator whose reports this node can read.
    pub validators: Vec<ValidatorView>,
    /// This node's last replication repair round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication: Option<ReplicationView>,
    /// Why the network could not be read (the registry failed); what could be read is
    /// still shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One neuron of the network (the dashboard lists those that serve a node).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkNode {
    /// Its uid.
    pub uid: u16,
    /// Its SS58 hotkey.
    pub hotkey: String,
    /// Where it serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub axon: Option<String>,
    /// Stake behind its hotkey.
    pub stake: f64,
    /// Its weight: the validators' last weights on it, averaged by their stake (plain mean
    /// when no validator has stake).
    pub weight: f64,
    /// Whether it answered `/health` just now.
    pub live: bool,
    /// Records it reported holding, when live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memories: Option<u64>,
    /// Its share of miners' emission in the last epoch of Yuma Consensus, once one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incentive: Option<f64>,
    /// Its share of validators' emission in that epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dividends: Option<f64>,
    /// What it earned in that epoch (as a miner and as a validator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emission: Option<f64>,
    /// Each validator's last score of it.
    #[serde(default)]
    pub scores: Vec<NodeScore>,
}

/// One validator's running measurements of one node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeScore {
    /// The validator's hotkey.
    pub validator: String,
    /// Running recall@10 (absent until measured).
    pub recall: Option<f64>,
    /// Running query latency, ms (absent until measured).
    pub latency_ms: Option<f64>,
    /// Share of recent challenge rounds passed.
    pub proof_rate: f64,
    /// The composite score the validator's weights follow.
    pub composite: f64,
}

/// A validator and its last rounds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidatorView {
    /// Its hotkey.
    pub hotkey: String,
    /// Its uid, when registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u16>,
    /// Stake behind its hotkey.
    pub stake: f64,
    /// Whether its process runs.
    pub running: bool,
    /// Scoring rounds run.
    pub scoring_rounds: u64,
    /// Challenge rounds run.
    pub challenge_rounds: u64,
    /// Version of the last weights it set.
    pub weight_version: u64,
    /// Its scores, by node hotkey.
    #[serde(default)]
    pub scores: BTreeMap<String, NodeScore>,
    /// Its last rounds as it recorded them, newest last.
    #[serde(default)]
    pub rounds: Vec<Value>,
    /// Why its state could not be read (then the counts above are zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What this node's last replication repair round saw and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationView {
    /// When it ran (unix ms).
    pub at_ms: u64,
    /// Live nodes seen, this one included.
    pub live: usize,
    /// CIDs this node holds.
    pub held: usize,
    /// Copies pushed to nodes that lacked them.
    pub pushed: usize,
    /// Pushes that failed (retried next round).
    pub failed: usize,
    /// Erasure-code shards handed to nodes that lacked them, since the node started.
    #[serde(default)]
    pub shards_pushed_total: u64,
    /// Shard bytes read from peers to rebuild lost shards, since the node started.
    #[serde(default)]
    pub shard_bytes_in_total: u64,
    /// Shard bytes sent to peers, since the node started.
    #[serde(default)]
    pub shard_bytes_out_total: u64,
}

/// `GET /holders/{cid}`: which nodes of the network hold a public CID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldersResponse {
    /// The CID asked about.
    pub cid: String,
    /// Whether this node is on a network (when not, `nodes` lists only itself).
    pub network: bool,
    /// Every serving node, nearest to the CID first.
    pub nodes: Vec<Holder>,
}

/// One node's answer for a CID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Its hotkey (empty for a node that is on no network).
    pub hotkey: String,
    /// Where it serves.
    pub axon: String,
    /// Whether the DHT rule places the CID on it (one of the nearest live nodes).
    pub replica: bool,
    /// Whether it holds the record; `None` when it did not answer.
    pub holds: Option<bool>,
}

/// `GET /metagraph` (the original's body): every registered neuron and the chain's height.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetagraphResponse {
    /// By uid.
    pub neurons: Vec<MetagraphNeuron>,
    /// The chain's height: on a devnet, the number of the last epoch; `null` before one, or
    /// on a node on no network.
    pub block: Option<u64>,
}

/// One neuron of `GET /metagraph`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetagraphNeuron {
    /// Its uid.
    pub uid: u16,
    /// Its hotkey.
    pub hotkey: Option<String>,
    /// Its axon's host (`0.0.0.0` when it serves none, as Bittensor's metagraph says).
    pub ip: Option<String>,
    /// Its axon's port, `null` when it serves none.
    pub port: Option<u16>,
    /// Its incentive in the last epoch, rounded to 6 decimals.
    pub incentive: f64,
}
