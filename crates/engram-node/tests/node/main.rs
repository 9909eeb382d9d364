//! The node against real HTTP on 127.0.0.1: every endpoint, every refusal, and load.
//! Needs the model from `./setup.sh`.

mod attestation;
mod bad_input;
mod documents;
mod embedding;
mod endpoints;
mod hostile;
mod load;
mod namespaces;
mod original;
mod padding;
mod shards;
mod shares;
mod signed;
mod web;

use engram_client::Client;
use engram_node::{Node, NodeConfig};
use engram_wire::CommitmentResponse;

/// A node on 127.0.0.1:0 over a fresh data directory, and a client of it.
pub struct TestNode {
    /// The running node.
    pub node: Node,
    /// A client of it.
    pub client: Client,
    /// Its base URL.
    pub url: String,
    _dir: tempfile::TempDir,
}

/// A node config over `dir` on 127.0.0.1:0, with the model where setup put it (no model flags: the user's model location) and no rate
/// limit.
pub fn test_config(dir: &std::path::Path) -> NodeConfig {
    let mut config = NodeConfig::load(None).unwrap();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.data_dir = dir.to_path_buf();
    config.ingest_rate_per_minute = 0;
    config
}

/// Starts a node for a test; `tune` adjusts the config (limits, queue sizes).
pub async fn spawn_node_for_tests(tune: impl FnOnce(&mut NodeConfig)) -> TestNode {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    tune(&mut config);
    let node = Node::bind(config)
        .await
        .unwrap_or_else(|e| panic!("node starts: {e}"));
    let url = format!("http://{}", node.local_addr());
    let client = Client::new(&url).unwrap();
    TestNode {
        node,
        client,
        url,
        _dir: dir,
    }
}

/// A deterministic unit vector for seed `i`.
pub fn vector(i: u64) -> Vec<f32> {
    engram_core::testing::unit_vector(i)
}

/// The commitment: what a refused request must leave unchanged.
pub async fn commitment(t: &TestNode) -> CommitmentResponse {
    t.client.commitment().await.unwrap()
}

/// Unix time in seconds, as challenges carry it.
pub fn now_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Unix time in milliseconds, as signatures carry it.
pub use engram_os::now_ms;

/// Sends raw bytes (any method, any body) and returns the status, the JSON body (null when
/// it is not JSON) and any `Retry-After`.
pub async fn send(
    url: &str,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
) -> (u16, serde_json::Value, Option<String>) {
    let client = reqwest::Client::new();
    let mut req = client.request(method.parse().unwrap(), format!("{url}{path}"));
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp.json().await.unwrap_or(serde_json::Value::Null);
    (status, body, retry)
}
