//! The validator's rounds.
//!
//! - **Scoring**: for each live node, a query near one of the validator's probe memories,
//!   restricted to its probes; recall@10 against the exact top-10 (brute force) over the
//!   probes that node should hold by XOR placement; wall-clock latency.
//! - **Challenges**: for each live node, proof v2 (and v1, recorded for comparison) on
//!   probes it should hold, then retrieval audits: CIDs drawn at random from the node's
//!   committed corpus (`/cids` page at a random offset, inclusion proof checked against
//!   the root it published), asked of every replica of that CID at once; a replica that
//!   does not return a record whose CID recomputes fails. Then a `POST /list` audit (a
//!   listed memory must be served by the lister, as listed) and a shard audit (a shard the
//!   node lists must match the manifest the other holders agree on). A node passes a
//!   round only if everything it was asked passed.
//! - **Weights**: the composite of DESIGN §5 per node, the 50 % slash, normalized, written
//!   to the registry with the validator's version counter.

use std::sync::Arc;
use std::time::{Duration, Instant};

use engram_chain::{Chain, Uid};
use engram_client::api::{
    ChallengeRequest, IngestRequest, ListRequest, ProveMemoryRequest, QueryRequest,
    RetrieveResponse,
};
use engram_client::network::{Network, NodeInfo, recompute_cid};
use engram_core::dht::{REPLICATION, replicas};
use engram_core::keys::Keypair;
use engram_core::merkle::v1::InclusionProof;
use engram_core::proof::{proof_v1, proof_v2};
use engram_core::{Cid, embedding_hash_hex};
use engram_os::now_ms;
use futures_util::future::join_all;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::ValidatorError;
use crate::score;
use crate::state::{NodeStats, Probe, State, StateDir};

/// Cadences and sample sizes.
#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    /// Seconds between scoring rounds (DESIGN: 120).
    pub scoring_interval: Duration,
    /// Seconds between challenge rounds (DESIGN: 300).
    pub challenge_interval: Duration,
    /// Seconds between weight sets (DESIGN: 600).
    pub weights_interval: Duration,
    /// Probe memories the validator writes once.
    pub probes: usize,
    /// Proof v2 challenges per node per challenge round.
    pub proofs_per_node: usize,
    /// Retrieval audits drawn from each node's corpus per challenge round.
    pub audits_per_node: usize,
    /// Test-only misbehaviour, honoured only in builds with the `fault-injection` feature
    /// ([`FAULT_INJECTION`]): put 80 % of every weight set on this hotkey whatever was
    /// measured, as a validator favouring its own miner does. Consensus must clip it.
    pub favour: Option<String>,
}

/// Whether this build honours [`ValidatorConfig::favour`] (the `fault-injection` feature,
/// which only the workspace's tests enable).
pub const FAULT_INJECTION: bool = cfg!(feature = "fault-injection");

/// The one validator fault, as written (`ENGRAM_FAULT`, `devnet up --fault`): `favour=<who>`,
/// `who` a hotkey for a validator process, a miner's name for the devnet.
pub mod fault {
    const FAVOUR: &str = "favour=";

    /// Whom `raw` favours, when it is a favour fault.
    pub fn favoured(raw: &str) -> Option<&str> {
        raw.strip_prefix(FAVOUR).filter(|who| !who.is_empty())
    }

    /// The fault favouring `who`.
    pub fn favour(who: &str) -> String {
        format!("{FAVOUR}{who}")
    }
}

/// `weights` with 80 % moved onto `uid` (the rest scaled to 20 %).
fn favoured(weights: &[(Uid, f32)], uid: Uid) -> Vec<(Uid, f32)> {
    let mut out: Vec<(Uid, f32)> = weights.iter().map(|(u, w)| (*u, w * 0.2)).collect();
    match out.iter_mut().find(|(u, _)| *u == uid) {
        Some((_, w)) => *w += 0.8,
        None => out.push((uid, 0.8)),
    }
    out
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        Self {
            scoring_interval: Duration::from_secs(120),
            challenge_interval: Duration::from_secs(300),
            weights_interval: Duration::from_secs(600),
            probes: 32,
            proofs_per_node: 2,
            audits_per_node: 4,
            favour: None,
        }
    }
}

/// A validator: its key, the network it judges and its persisted state.
pub struct Validator {
    key: Keypair,
    network: Network,
    config: ValidatorConfig,
    dir: StateDir,
    state: State,
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).expect("the OS has randomness");
    b
}

fn random_below(n: usize) -> usize {
    (u64::from_le_bytes(random_bytes::<8>()) % n.max(1) as u64) as usize
}

/// A deterministic unit vector from a seed (the probes' content).
fn seeded_unit_vector(seed: &[u8]) -> Vec<f32> {
    let mut v: Vec<f32> = (0..engram_core::EMBEDDING_DIM)
        .map(|i| {
            let h = Sha256::new()
                .chain_update(seed)
                .chain_update((i as u32).to_le_bytes())
                .finalize();
            f32::from(u16::from_le_bytes([h[0], h[1]])) / 32768.0 - 1.0
        })
        .collect();
    normalize(&mut v);
    v
}

fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    for x in v {
        *x /= norm;
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Validator {
    /// A validator with `key`, over `chain`, keeping state in `state_dir`; registers the
    /// key and resumes from saved state when there is some.
    ///
    /// # Errors
    /// Registry or state failures.
    pub async fn start(
        key: Keypair,
        chain: Arc<dyn Chain>,
        state_dir: &std::path::Path,
        config: ValidatorConfig,
    ) -> Result<Self, ValidatorError> {
        let dir = StateDir::new(state_dir);
        let state = dir.load()?;
        let (c, k) = (chain.clone(), key.clone());
        tokio::task::spawn_blocking(move || c.register(&k))
            .await
            .expect("register task")?;
        tracing::info!(
            hotkey = %key.ss58(),
            resumed = state.challenge_rounds + state.scoring_rounds > 0,
            probes = state.probes.len(),
            "validator started"
        );
        Ok(Self {
            network: Network::new(chain),
            key,
            config,
            dir,
            state,
        })
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    fn save(&self, record: Value) -> Result<(), ValidatorError> {
        self.dir.save(&self.state)?;
        self.dir.append_round(&record)
    }

    fn stats(&mut self, node: &NodeInfo) -> &mut NodeStats {
        let s = self.state.nodes.entry(node.hotkey.clone()).or_default();
        s.uid = node.uid;
        s
    }

    /// Writes the probe memories if they are not all stored yet (idempotent).
    ///
    /// # Errors
    /// When no node accepts them.
    pub async fn ensure_probes(&mut self) -> Result<(), ValidatorError> {
        let me = self.key.ss58();
        while self.state.probes.len() < self.config.probes {
            let i = self.state.probes.len();
            let vector = seeded_unit_vector(format!("{me}/probe/{i}").as_bytes());
            let mut metadata = serde_json::Map::new();
            metadata.insert("engram_probe".into(), json!(me));
            metadata.insert("i".into(), json!(i));
            let placement = self
                .network
                .ingest(&IngestRequest {
                    raw_embedding: Some(vector.clone()),
                    metadata: Value::Object(metadata.clone()),
                    ..IngestRequest::default()
                })
                .await?;
            self.state.probes.push(Probe {
                cid: placement.cid.to_string(),
                vector,
                metadata,
            });
        }
        self.dir.save(&self.state)
    }

    /// Serving nodes that did not answer `/health`: every round counts against them.
    async fn dead_nodes(&self, live: &[NodeInfo]) -> Result<Vec<NodeInfo>, ValidatorError> {
        Ok(self
            .network
            .nodes()
            .await?
            .into_iter()
            .filter(|n| !live.iter().any(|l| l.hotkey == n.hotkey))
            .collect())
    }

    /// The probes each node should hold, by index into `nodes`.
    fn expected(&self, nodes: &[NodeInfo]) -> Vec<Vec<usize>> {
        let hotkeys: Vec<&str> = nodes.iter().map(|n| n.hotkey.as_str()).collect();
        let mut out = vec![Vec::new(); nodes.len()];
        for (p, probe) in self.state.probes.iter().enumerate() {
            for n in replicas(&probe.cid, &hotkeys, REPLICATION) {
                out[n].push(p);
            }
        }
        out
    }

    /// One scoring round over every live node.
    ///
    /// # Errors
    /// Registry or state failures.
    pub async fn scoring_round(&mut self) -> Result<(), ValidatorError> {
        let nodes = self.network.live_nodes().await?;
        let expected = self.expected(&nodes);
        let me = self.key.ss58();
        let mut results = Vec::new();
        for (node, mine) in nodes.iter().zip(&expected) {
            let Some(&anchor) = mine
                .get(random_below(mine.len()))
                .filter(|_| !mine.is_empty())
            else {
                continue;
            };
            let mut query = self.state.probes[anchor].vector.clone();
            let noise = seeded_unit_vector(&random_bytes::<16>());
            for (q, n) in query.iter_mut().zip(&noise) {
                *q += 0.3 * n;
            }
            normalize(&mut query);
            let mut ranked: Vec<(f32, &str)> = mine
                .iter()
                .map(|&p| {
                    let probe = &self.state.probes[p];
                    (cosine(&query, &probe.vector), probe.cid.as_str())
                })
                .collect();
            ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
            let truth: Vec<String> = ranked.iter().take(10).map(|(_, c)| c.to_string()).collect();
            let mut filter = serde_json::Map::new();
            filter.insert("engram_probe".into(), json!(me));
            let started = Instant::now();
            let answer = node
                .client
                .query(&QueryRequest {
                    query_vector: Some(query),
                    // All of them: copies the node holds beyond its share (a write that
                    // walked past an unreachable node) must not push its share out of the
                    // ten that are scored.
                    top_k: Some(self.state.probes.len().clamp(10, engram_core::MAX_TOP_K) as i64),
                    filter: Some(filter),
                    ..QueryRequest::default()
                })
                .await;
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            let (recall, latency_ms) = match answer {
                Ok(r) => {
                    let share: std::collections::HashSet<&str> = mine
                        .iter()
                        .map(|&p| self.state.probes[p].cid.as_str())
                        .collect();
                    let got: Vec<String> = r
                        .results
                        .into_iter()
                        .map(|h| h.cid)
                        .filter(|c| share.contains(c.as_str()))
                        .collect();
                    (score::recall_at_k(&got, &truth, 10), latency_ms)
                }
                Err(_) => (Some(0.0), 500.0),
            };
            self.stats(node).record_query(recall, latency_ms);
            results.push(json!({"uid": node.uid, "hotkey": node.hotkey, "recall": recall, "latency_ms": latency_ms}));
        }
        for node in self.dead_nodes(&nodes).await? {
            self.stats(&node).record_query(Some(0.0), 500.0);
            results.push(json!({"uid": node.uid, "hotkey": node.hotkey, "recall": 0.0, "latency_ms": null, "down": true}));
        }
        self.state.scoring_rounds += 1;
        let record = json!({"kind": "scoring", "round": self.state.scoring_rounds, "at_ms": now_ms(), "nodes": results});
        self.save(record)
    }

    /// One challenge round over every live node.
    ///
    /// # Errors
    /// Registry or state failures.
    pub async fn challenge_round(&mut self) -> Result<(), ValidatorError> {
        let nodes = self.network.live_nodes().await?;
        let expected = self.expected(&nodes);
        let hotkeys: Vec<String> = nodes.iter().map(|n| n.hotkey.clone()).collect();
        let my_hotkey = self.key.public();
        // passed[i]: None = not asked anything this round.
        let mut passed: Vec<Option<bool>> = vec![None; nodes.len()];
        // Kinds: proof v1, proof v2, retrieval audit, list audit, shard audit.
        let mut tally: Vec<[(u64, u64); 5]> = vec![[(0, 0); 5]; nodes.len()];
        let mut mark = |i: usize, kind: usize, ok: bool, passed: &mut Vec<Option<bool>>| {
            tally[i][kind].1 += 1;
            if ok {
                tally[i][kind].0 += 1;
            }
            if kind != 0 {
                passed[i] = Some(passed[i].unwrap_or(true) && ok);
            }
        };

        // Storage proofs on the validator's own probes: v1 (recorded) and v2 (scored).
        for (i, node) in nodes.iter().enumerate() {
            for _ in 0..self.config.proofs_per_node.min(expected[i].len()) {
                let probe = &self.state.probes[expected[i][random_below(expected[i].len())]];
                let cid: Cid = probe.cid.parse().expect("probe CIDs are valid");
                for version in [1u8, 2] {
                    let nonce = random_bytes::<32>();
                    let want = match version {
                        1 => proof_v1(&embedding_hash_hex(&probe.vector), &nonce, Some(&my_hotkey)),
                        _ => proof_v2(&cid, &probe.vector, &nonce, Some(&my_hotkey)),
                    };
                    let answer = node
                        .client
                        .challenge(&ChallengeRequest {
                            cid: probe.cid.clone(),
                            nonce_hex: hex::encode(nonce),
                            expires_at: (now_ms() / 1000 + engram_core::CHALLENGE_TTL_SECS) as f64,
                            validator_hotkey_hex: Some(hex::encode(my_hotkey)),
                            version: Some(version),
                        })
                        .await;
                    let ok = answer.is_ok_and(|a| a.proof == hex::encode(want));
                    mark(i, usize::from(version - 1), ok, &mut passed);
                }
            }
        }

        // Retrieval audits sampled from each node's committed corpus.
        for (i, node) in nodes.iter().enumerate() {
            for _ in 0..self.config.audits_per_node {
                let Some((cid, included)) = sample_committed(node).await else {
                    continue;
                };
                if !included {
                    // Listed but not provably in the root it published: its commitment lies.
                    mark(i, 2, false, &mut passed);
                }
                let holders = replicas(&cid, &hotkeys, REPLICATION);
                let mut ask: Vec<usize> = holders.clone();
                if !ask.contains(&i) {
                    ask.push(i); // it committed to the CID, so it must serve it too
                }
                let Ok(want) = cid.parse::<Cid>() else {
                    // It listed something that is not a CID: nothing to ask for.
                    mark(i, 2, false, &mut passed);
                    continue;
                };
                let answers = join_all(ask.iter().map(|&j| nodes[j].client.retrieve(&want))).await;
                for (&j, answer) in ask.iter().zip(answers) {
                    let ok = matches!(&answer, Ok(Some(r)) if verifies(r, Some(&want)));
                    mark(j, 2, ok, &mut passed);
                }
            }
            if let Some(ok) = audit_list(node).await {
                mark(i, 3, ok, &mut passed);
            }
            if let Some(ok) = audit_shard(&nodes, i).await {
                mark(i, 4, ok, &mut passed);
            }
            if passed[i].is_none() && !expected[i].is_empty() {
                // Asked nothing: a node that should hold probes but committed nothing.
                passed[i] = Some(false);
            }
        }

        // When nodes died or joined since the last round, placement moved and repair may
        // not have caught up: missing records are not held against anyone this round.
        let mut live_now: Vec<String> = hotkeys.clone();
        live_now.sort();
        let churn = live_now != self.state.last_live;
        self.state.last_live = live_now;
        let dead = self.dead_nodes(&nodes).await?;
        let mut results = Vec::new();
        for node in &dead {
            if !churn {
                self.stats(node).record_proof_round(false);
            }
            results.push(
                json!({"uid": node.uid, "hotkey": node.hotkey, "passed": false, "down": true}),
            );
        }
        for (i, node) in nodes.iter().enumerate() {
            let verdict = passed[i].filter(|_| !churn);
            let s = self.stats(node);
            for (kind, slot) in [
                &mut s.v1,
                &mut s.v2,
                &mut s.audits,
                &mut s.list_audits,
                &mut s.shard_audits,
            ]
            .into_iter()
            .enumerate()
            {
                slot.0 += tally[i][kind].0;
                slot.1 += tally[i][kind].1;
            }
            if let Some(p) = verdict {
                s.record_proof_round(p);
            }
            results.push(json!({
                "uid": node.uid, "hotkey": node.hotkey, "passed": verdict,
                "v1": tally[i][0], "v2": tally[i][1], "audits": tally[i][2],
                "list_audits": tally[i][3], "shard_audits": tally[i][4],
            }));
        }
        self.state.challenge_rounds += 1;
        let record = json!({"kind": "challenge", "round": self.state.challenge_rounds, "at_ms": now_ms(), "churn": churn, "nodes": results});
        self.save(record)
    }

    /// Computes weights from the running scores and writes them to the registry.
    ///
    /// # Errors
    /// Registry or state failures.
    pub async fn set_weights(&mut self) -> Result<Vec<(Uid, f32)>, ValidatorError> {
        let graph = {
            let chain = self.network.chain().clone();
            tokio::task::spawn_blocking(move || chain.metagraph())
                .await
                .expect("metagraph task")?
        };
        let scored: Vec<(Uid, f64)> = graph
            .serving()
            .iter()
            .filter_map(|n| {
                self.state
                    .nodes
                    .get(&n.hotkey)
                    .map(|s| (n.uid, s.composite()))
            })
            .collect();
        let normalized = score::normalize(&scored.iter().map(|(_, s)| *s).collect::<Vec<_>>());
        let mut weights: Vec<(Uid, f32)> = scored
            .iter()
            .zip(normalized)
            .map(|((uid, _), w)| (*uid, w as f32))
            .collect();
        if FAULT_INJECTION
            && let Some(uid) = self
                .config
                .favour
                .as_deref()
                .and_then(|h| graph.by_hotkey(h))
                .map(|n| n.uid)
        {
            weights = favoured(&weights, uid);
        }
        self.state.weight_version += 1;
        let (chain, key, w, version) = (
            self.network.chain().clone(),
            self.key.clone(),
            weights.clone(),
            self.state.weight_version,
        );
        tokio::task::spawn_blocking(move || chain.set_weights(&key, &w, version))
            .await
            .expect("set_weights task")?;
        self.state.last_weights = weights.clone();
        let record =
            json!({"kind": "weights", "version": version, "at_ms": now_ms(), "weights": weights});
        self.save(record)?;
        Ok(weights)
    }

    /// Runs the three cadences until the future is dropped.
    ///
    /// # Errors
    /// A state write failure (rounds that fail on the network are logged and retried).
    pub async fn run(mut self) -> Result<(), ValidatorError> {
        let mut scoring = tokio::time::interval(self.config.scoring_interval);
        let mut challenges = tokio::time::interval(self.config.challenge_interval);
        let mut weights = tokio::time::interval(self.config.weights_interval);
        for t in [&mut scoring, &mut challenges, &mut weights] {
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        weights.reset(); // first weights after the first scores, not at start
        loop {
            if let Err(e) = self.ensure_probes().await {
                tracing::warn!(error = %e, "probes not stored yet");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            let outcome = tokio::select! {
                _ = scoring.tick() => self.scoring_round().await.map(|()| "scoring"),
                _ = challenges.tick() => self.challenge_round().await.map(|()| "challenge"),
                _ = weights.tick() => self.set_weights().await.map(|_| "weights"),
            };
            match outcome {
                Ok(kind) => tracing::info!(kind, "round done"),
                Err(ValidatorError::State { path, reason }) => {
                    return Err(ValidatorError::State { path, reason });
                }
                Err(e) => tracing::warn!(error = %e, "round failed"),
            }
        }
    }
}

/// Whether a retrieved record is the one asked for: its CID recomputes from its bytes.
fn verifies(r: &RetrieveResponse, want: Option<&Cid>) -> bool {
    want.is_some_and(|w| r.cid == w.to_string() && recompute_cid(r).as_ref() == Some(w))
}

/// How many listed memories one list audit checks.
const LIST_AUDIT_RECORDS: usize = 3;

/// `POST /list` audit: a page at a random offset of the node's public memories; each
/// listed memory must be served by the node itself, recompute to the listed CID and carry
/// the listed metadata. An empty page from a node that commits to public memories is a lie
/// by omission. `None` when the node keeps no public memories.
async fn audit_list(node: &NodeInfo) -> Option<bool> {
    let total = node.client.cids(0, 1).await.ok()?.total as usize;
    if total == 0 {
        return None;
    }
    let offset = random_below(total) as i64;
    let page = node
        .client
        .list(&ListRequest {
            limit: Some(LIST_AUDIT_RECORDS as i64),
            offset: Some(offset),
            ..ListRequest::default()
        })
        .await;
    let Ok(page) = page else {
        return Some(false);
    };
    if page.records.is_empty() {
        // A delete between the two reads shortens the list: only a list still shorter
        // than what the node commits to now is a lie.
        let now = node.client.cids(0, 1).await.ok()?.total as i64;
        if offset < now {
            tracing::warn!(node = %node.hotkey, offset, total, "lists nothing where it commits to memories");
            return Some(false);
        }
        return None;
    }
    for listed in &page.records {
        let Ok(cid) = listed.cid.parse::<Cid>() else {
            return Some(false);
        };
        let served = node.client.retrieve(&cid).await;
        let ok = matches!(&served, Ok(Some(r)) if verifies(r, Some(&cid)) && r.metadata == listed.metadata);
        if !ok {
            tracing::warn!(node = %node.hotkey, cid = %listed.cid, "listed a memory it does not serve as listed");
            return Some(false);
        }
    }
    Some(true)
}

/// Shard audit: one erasure-code shard drawn from what node `i` lists, read from it and
/// checked against the manifest it serves, which must be the one at least half of the
/// blob's other shard holders serve. `None` when it lists no shards.
async fn audit_shard(nodes: &[NodeInfo], i: usize) -> Option<bool> {
    let node = &nodes[i];
    let listed = node.client.all_shard_holdings().await.ok()?;
    let held: Vec<(Cid, usize)> = listed
        .iter()
        .flat_map(|h| h.shards.iter().map(move |&s| (h.blob, s)))
        .collect();
    if held.is_empty() {
        return None;
    }
    let (blob, index) = held[random_below(held.len())];
    let Ok(Some(own)) = node.client.shard_manifest(&blob).await else {
        return Some(false);
    };
    let others = join_all(
        nodes
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, n)| n.client.shard_manifest(&blob)),
    )
    .await;
    // Only holders vote: a node that keeps just a manifest (anyone may send one) does not.
    let others: Vec<_> = others
        .into_iter()
        .flatten()
        .flatten()
        .filter(|o| !o.held.is_empty())
        .collect();
    let agree = others.iter().filter(|o| o.manifest == own.manifest).count();
    if agree * 2 < others.len() {
        tracing::warn!(node = %node.hotkey, %blob, "serves a manifest the other holders do not");
        return Some(false);
    }
    let ok = matches!(
        node.client.shard(&blob, index).await,
        Ok(Some(bytes)) if own.manifest.check_shard(index, &bytes).is_ok()
    );
    if !ok {
        tracing::warn!(node = %node.hotkey, %blob, index, "listed shard missing or altered");
    }
    Some(ok)
}

/// A CID drawn uniformly from what `node` lists, and whether its inclusion proof checks
/// against the root the node published. `None` when the node lists nothing.
async fn sample_committed(node: &NodeInfo) -> Option<(String, bool)> {
    let commitment = node.client.commitment().await.ok()?;
    let page = node.client.cids(0, 1).await.ok()?;
    if page.total == 0 {
        return None;
    }
    let at = random_below(page.total as usize) as u64;
    let cid = node
        .client
        .cids(at, 1)
        .await
        .ok()?
        .cids
        .into_iter()
        .next()?;
    let proof = node
        .client
        .prove_memory(&ProveMemoryRequest {
            cid: cid.clone(),
            embedding_hash: None,
        })
        .await
        .ok();
    let verified = proof.as_ref().is_some_and(|p| {
        let root: Option<[u8; 32]> = hex::decode(&p.root_hex)
            .ok()
            .and_then(|b| b.try_into().ok());
        root.is_some_and(|root| {
            InclusionProof::from_json(&p.proof)
                .is_ok_and(|ip| ip.verify_record(&cid, &p.embedding_hash, &root))
        })
    });
    // The proof must climb to a root the node published: the one read before, or (when a
    // write landed in between) the one it publishes now.
    let published = match &proof {
        Some(p) if p.root_hex == commitment.root_hex => true,
        Some(p) => node
            .client
            .commitment()
            .await
            .is_ok_and(|now| now.root_hex == p.root_hex),
        None => false,
    };
    let included = verified && published;
    if !included {
        tracing::warn!(node = %node.hotkey, %cid, "listed CID has no valid inclusion proof");
    }
    Some((cid, included))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn favouring_moves_eighty_percent_onto_one_uid() {
        let close = |got: Vec<(Uid, f32)>, want: &[(Uid, f32)]| {
            assert_eq!(got.len(), want.len(), "{got:?}");
            for ((u, w), (wu, ww)) in got.iter().zip(want) {
                assert!(u == wu && (w - ww).abs() < 1e-6, "{got:?} != {want:?}");
            }
        };
        close(
            favoured(&[(0, 0.5), (1, 0.5)], 2),
            &[(0, 0.1), (1, 0.1), (2, 0.8)],
        );
        close(favoured(&[(0, 0.5), (1, 0.5)], 1), &[(0, 0.1), (1, 0.9)]);
    }

    #[test]
    fn probe_vectors_are_deterministic_unit_vectors() {
        let a = seeded_unit_vector(b"x/probe/0");
        assert_eq!(a, seeded_unit_vector(b"x/probe/0"));
        assert_ne!(a, seeded_unit_vector(b"x/probe/1"));
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-5);
        assert!(engram_core::validate_embedding(&a).is_ok());
    }
}
