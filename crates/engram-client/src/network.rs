//! Many nodes as one memory: placement by XOR distance, replicated writes, fan-out reads.
//!
//! The entry point embeds once and ships bytes: [`Network::ingest`] takes a vector, computes
//! its CID locally and writes the exact bytes to the [`REPLICATION`] live nodes nearest the
//! CID (walking further down the distance order when one refuses), then reports who holds
//! it. [`Network::query`] asks every live node at once and merges by CID; [`Network::get`]
//! asks nodes in distance order and accepts the first record whose CID recomputes, so a
//! lying or damaged replica cannot hand back something else.

use std::sync::Arc;
use std::time::Duration;

use engram_chain::{Chain, Uid};
use engram_core::dht::{REPLICATION, by_distance};
use engram_core::{Cid, Metadata, cid_v1};
use futures_util::future::join_all;

use crate::{Client, ClientError, ClientOptions};
use engram_wire::{
    AttestResponse, AttestationResponse, IngestRequest, NamespaceAuth, QueryRequest, QueryResult,
    RetrieveResponse,
};

/// A serving node as the registry lists it.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// Its uid.
    pub uid: Uid,
    /// Its SS58 hotkey (its id for placement).
    pub hotkey: String,
    /// Its client.
    pub client: Client,
}

/// Where an ingest landed.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The CID, computed locally.
    pub cid: Cid,
    /// Hotkeys of the nodes that acknowledged the write, nearest first.
    pub holders: Vec<String>,
    /// Nodes that were asked and failed, with why.
    pub failed: Vec<(String, String)>,
}

/// Merged answers of a fan-out query.
#[derive(Debug, Clone)]
pub struct FanOut {
    /// Deduplicated by CID (best score kept), best first, at most `top_k`.
    pub results: Vec<QueryResult>,
    /// Nodes that answered.
    pub answered: usize,
    /// Nodes asked.
    pub asked: usize,
}

/// A blob read from the network by [`Network::blob`].
#[derive(Debug, Clone)]
pub struct FetchedBlob {
    /// The bytes, checked against the CID.
    pub bytes: Vec<u8>,
    /// Its MIME type, when a manifest gave it.
    pub content_type: Option<String>,
    /// Where the bytes came from.
    pub source: BlobSource,
}

/// How a blob was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobSource {
    /// Rebuilt from erasure-code shards: `(hotkey, index)` of each shard used.
    Shards {
        /// The shards read.
        from: Vec<(String, usize)>,
        /// Shards needed (k).
        data: usize,
        /// Shards written (n).
        total: usize,
    },
    /// Read whole from this node.
    Whole(String),
}

/// How long a health-checked list of live nodes is reused (a file of memories is written
/// with one round of health checks, not one per memory).
const LIVE_TTL: Duration = Duration::from_secs(2);

/// The client of a whole network, through its registry.
#[derive(Clone)]
pub struct Network {
    chain: Arc<dyn Chain>,
    options: ClientOptions,
    live: Arc<std::sync::Mutex<Option<LiveNodes>>>,
}

/// A health-checked node list and when it was taken.
type LiveNodes = (std::time::Instant, Vec<NodeInfo>);

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network").finish_non_exhaustive()
    }
}

/// The DHT key a private namespace's key shares are placed by: the nodes nearest it keep
/// them.
pub fn key_share_key(namespace: &str) -> String {
    format!("engram-keyshare:{namespace}")
}

/// The record's CID recomputed from its vector, metadata and model version.
pub fn recompute_cid(record: &RetrieveResponse) -> Option<Cid> {
    let meta: Metadata = record.metadata.clone();
    engram_core::validate_embedding(&record.embedding).ok()?;
    Some(cid_v1(&record.embedding, &meta, &record.model_version))
}

impl Network {
    /// A network client over `chain`, with short timeouts and one retry per node.
    pub fn new(chain: Arc<dyn Chain>) -> Self {
        Self::with_options(
            chain,
            ClientOptions {
                timeout: Duration::from_secs(10),
                retries: 1,
                ..ClientOptions::default()
            },
        )
    }

    /// A network client with explicit per-node options.
    pub fn with_options(chain: Arc<dyn Chain>, options: ClientOptions) -> Self {
        Self {
            chain,
            options,
            live: Arc::default(),
        }
    }

    /// This client, signing every request and private namespace with `signer`.
    #[must_use]
    pub fn with_signer(mut self, signer: Option<Arc<dyn engram_core::keys::Signer>>) -> Self {
        self.options.signer = signer;
        *self.live.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self
    }

    /// Credentials for `namespace`, signed now by this network client's signer
    /// (`ClientOptions::signer`); the same signature is good on every node for 60 s.
    ///
    /// # Errors
    /// [`ClientError::Sign`] when the signer fails.
    pub fn namespace_auth(&self, namespace: Option<&str>) -> Result<NamespaceAuth, ClientError> {
        NamespaceAuth::for_namespace(
            namespace,
            self.options.signer.as_deref(),
            engram_os::now_ms(),
        )
        .map_err(ClientError::Sign)
    }

    /// The registry behind this network.
    pub fn chain(&self) -> &Arc<dyn Chain> {
        &self.chain
    }

    /// Every node that announced an axon.
    ///
    /// # Errors
    /// [`ClientError::Chain`] if the registry cannot be read.
    pub async fn nodes(&self) -> Result<Vec<NodeInfo>, ClientError> {
        let chain = self.chain.clone();
        let graph = tokio::task::spawn_blocking(move || chain.metagraph()).await??;
        graph
            .serving()
            .into_iter()
            .map(|n| {
                Ok(NodeInfo {
                    uid: n.uid,
                    hotkey: n.hotkey.clone(),
                    client: Client::with_options(
                        n.axon.as_deref().unwrap_or_default(),
                        self.options.clone(),
                    )?,
                })
            })
            .collect()
    }

    /// The nodes that answered `/health` within two seconds (checked at most every 2 s).
    ///
    /// # Errors
    /// As [`Network::nodes`].
    pub async fn live_nodes(&self) -> Result<Vec<NodeInfo>, ClientError> {
        if let Some((at, nodes)) = &*self.live.lock().unwrap_or_else(|p| p.into_inner())
            && at.elapsed() < LIVE_TTL
        {
            return Ok(nodes.clone());
        }
        let nodes = self.nodes().await?;
        let checks = nodes.iter().map(|n| {
            let client = n.client.clone();
            async move {
                tokio::time::timeout(Duration::from_secs(2), client.health())
                    .await
                    .is_ok_and(|r| r.is_ok())
            }
        });
        let alive = join_all(checks).await;
        let live: Vec<NodeInfo> = nodes
            .into_iter()
            .zip(alive)
            .filter_map(|(n, ok)| ok.then_some(n))
            .collect();
        *self.live.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((std::time::Instant::now(), live.clone()));
        Ok(live)
    }

    /// Every registered neuron as a view of the network shows it: axon, stake, weight,
    /// the last epoch's incentive, dividends and emission, whether it answered `/health`
    /// within `budget` (all asked at once; a neuron with no axon is not asked) and the
    /// records it holds, and each validator's score of it from `validators` (which the
    /// caller reads wherever validators report). The node's dashboard and `engram status
    /// --live` both show this.
    ///
    /// # Errors
    /// [`ClientError::Chain`] if the registry cannot be read.
    pub async fn neurons(
        &self,
        validators: &[crate::api::ValidatorView],
        budget: Duration,
    ) -> Result<Vec<crate::api::NetworkNode>, ClientError> {
        let chain = self.chain.clone();
        let graph = tokio::task::spawn_blocking(move || chain.metagraph()).await??;
        let options = ClientOptions {
            timeout: budget,
            retries: 0,
            ..self.options.clone()
        };
        let healths = join_all(graph.neurons.iter().map(|n| {
            let client = n
                .axon
                .as_deref()
                .and_then(|a| Client::with_options(a, options.clone()).ok());
            async move {
                tokio::time::timeout(budget, client?.health())
                    .await
                    .ok()
                    .and_then(Result::ok)
            }
        }))
        .await;
        let epoch = graph.last_epoch().map(|e| &e.outcome);
        Ok(graph
            .neurons
            .iter()
            .zip(healths)
            .map(|(n, health)| {
                let uid = usize::from(n.uid);
                crate::api::NetworkNode {
                    uid: n.uid,
                    hotkey: n.hotkey.clone(),
                    axon: n.axon.clone(),
                    stake: n.stake,
                    weight: graph.mean_weight(n.uid),
                    live: health.is_some(),
                    memories: health.and_then(|h| h.vectors),
                    incentive: epoch.and_then(|e| e.incentive.get(uid).copied()),
                    dividends: epoch.and_then(|e| e.dividends.get(uid).copied()),
                    emission: epoch.and_then(|e| e.earned(uid)),
                    scores: validators
                        .iter()
                        .filter_map(|v| v.scores.get(&n.hotkey).cloned())
                        .collect(),
                }
            })
            .collect())
    }

    /// Splits `secret` (a private namespace's key) `threshold`-of-`total` and gives one
    /// share to each of the `total` live nodes nearest the namespace by the DHT rule (key
    /// [`key_share_key`]), each request signed afresh for the namespace and, with this
    /// client's signer, signed as a request naming its node: the share is then bound to
    /// that node and released only to a request signed the same way. Dealing again
    /// replaces every node's share (a lost node's share is re-dealt by recovering the key
    /// and dealing it anew: old shares do not combine with new ones). Returns the holders'
    /// hotkeys, nearest first.
    ///
    /// # Errors
    /// [`ClientError::Invalid`] for impossible parameters; [`ClientError::NoNode`] when
    /// fewer than `total` nodes are live or one refused its share (shares already given stay
    /// until the next deal replaces them).
    pub async fn deal_key(
        &self,
        namespace: &str,
        secret: &[u8],
        threshold: u8,
        total: u8,
    ) -> Result<Vec<String>, ClientError> {
        let mut random = Vec::new();
        let need = secret.len() * usize::from(threshold.saturating_sub(1));
        random.resize(need, 0u8);
        getrandom::getrandom(&mut random).map_err(ClientError::Randomness)?;
        let mut stream = random.into_iter();
        let shares = engram_core::shamir::split(secret, threshold, total, || {
            stream.next().expect("enough randomness drawn")
        })?;
        let nodes = self.live_nodes().await?;
        let action = format!("kept a key share of {namespace}");
        if nodes.len() < usize::from(total) {
            return Err(ClientError::NoNode {
                action,
                live: nodes.len(),
                failures: vec![(
                    "network".into(),
                    format!("{total} shares need {total} live nodes"),
                )],
            });
        }
        let hotkeys: Vec<&str> = nodes.iter().map(|n| n.hotkey.as_str()).collect();
        let order = by_distance(&key_share_key(namespace), &hotkeys);
        let mut holders = Vec::new();
        for (share, &i) in shares.into_iter().zip(&order) {
            let req = crate::api::KeyShareRequest {
                auth: self.namespace_auth(Some(namespace))?,
                share_index: Some(i64::from(share.share_index)),
                share_hex: Some(share.share_hex),
                threshold: Some(i64::from(share.threshold)),
                total: Some(i64::from(share.total)),
                // Signed by this client's signer and naming the node: bound to it.
                node_hotkey: Some(nodes[i].hotkey.clone()),
            };
            if let Err(e) = nodes[i].client.put_key_share(&req).await {
                return Err(ClientError::NoNode {
                    action,
                    live: nodes.len(),
                    failures: vec![(nodes[i].hotkey.clone(), e.to_string())],
                });
            }
            holders.push(nodes[i].hotkey.clone());
        }
        Ok(holders)
    }

    /// Recovers a private namespace's key from the live nodes nearest it (the DHT rule),
    /// asking them in order until the split's threshold of shares is in hand.
    ///
    /// # Errors
    /// [`ClientError::NoNode`] when fewer shares than the threshold can be collected;
    /// [`ClientError::Invalid`] when the shares do not combine.
    pub async fn recover_key(&self, namespace: &str) -> Result<Vec<u8>, ClientError> {
        let nodes = self.live_nodes().await?;
        let hotkeys: Vec<&str> = nodes.iter().map(|n| n.hotkey.as_str()).collect();
        let mut shares: Vec<crate::api::KeyShare> = Vec::new();
        let mut failures = Vec::new();
        for i in by_distance(&key_share_key(namespace), &hotkeys) {
            let req = crate::api::KeyShareRetrieveRequest {
                auth: self.namespace_auth(Some(namespace))?,
                node_hotkey: Some(nodes[i].hotkey.clone()),
            };
            match nodes[i].client.key_share(&req).await {
                Ok(Some(share)) => {
                    // Shares of an older deal do not combine with the newest: keep those of
                    // the split the nearest holder has, one per index (a node that came
                    // back with an old share of an index already held is skipped).
                    if shares.first().is_none_or(|f| {
                        (f.threshold, f.total) == (share.threshold, share.total)
                            && f.share_hex.len() == share.share_hex.len()
                    }) && !shares.iter().any(|s| s.share_index == share.share_index)
                    {
                        shares.push(share);
                    }
                }
                Ok(None) => failures.push((nodes[i].hotkey.clone(), "keeps no share".into())),
                Err(e) => failures.push((nodes[i].hotkey.clone(), e.to_string())),
            }
            if shares
                .first()
                .is_some_and(|f| shares.len() >= usize::from(f.threshold))
            {
                return Ok(engram_core::shamir::combine(&shares)?);
            }
        }
        Err(ClientError::NoNode {
            action: format!(
                "gave enough key shares of {namespace} ({} collected)",
                shares.len()
            ),
            live: nodes.len(),
            failures,
        })
    }

    /// Writes a vector to the [`REPLICATION`] live nodes nearest its CID.
    ///
    /// `req.raw_embedding` must be set; `req.text` must not (embed once, ship bytes).
    ///
    /// # Errors
    /// [`ClientError::NotRawEmbedding`] when the request is not a raw-embedding write,
    /// [`ClientError::NoNode`] when no node
    /// took it; bad input comes back as the nodes' 400.
    pub async fn ingest(&self, req: &IngestRequest) -> Result<Placement, ClientError> {
        let (Some(vector), None) = (&req.raw_embedding, &req.text) else {
            return Err(ClientError::NotRawEmbedding);
        };
        let meta: Metadata = engram_core::validate_metadata(&req.metadata)?;
        engram_core::validate_embedding(vector)?;
        let cid = cid_v1(vector, &meta, &req.model_version);
        let nodes = self.live_nodes().await?;
        let hotkeys: Vec<&str> = nodes.iter().map(|n| n.hotkey.as_str()).collect();
        let order = by_distance(&cid.to_string(), &hotkeys);
        let mut placement = Placement {
            cid,
            holders: Vec::new(),
            failed: Vec::new(),
        };
        let mut next = 0;
        while placement.holders.len() < REPLICATION && next < order.len() {
            let want = REPLICATION - placement.holders.len();
            let batch: Vec<&NodeInfo> = order[next..]
                .iter()
                .take(want)
                .map(|&i| &nodes[i])
                .collect();
            next += batch.len();
            let writes = batch.iter().map(|n| n.client.ingest(req));
            for (node, result) in batch.iter().zip(join_all(writes).await) {
                match result {
                    Ok(r) if r.cid.as_deref() == Some(cid.to_string().as_str()) => {
                        placement.holders.push(node.hotkey.clone());
                    }
                    Ok(r) => placement.failed.push((
                        node.hotkey.clone(),
                        format!("answered CID {:?}, expected {cid}", r.cid),
                    )),
                    Err(e) if e.is_refusal() => return Err(e),
                    Err(e) => placement.failed.push((node.hotkey.clone(), e.to_string())),
                }
            }
        }
        if placement.holders.is_empty() {
            return Err(ClientError::NoNode {
                action: format!("stored {cid}"),
                live: nodes.len(),
                failures: placement.failed,
            });
        }
        Ok(placement)
    }

    /// Asks every live node, merges by CID and returns the best `top_k`.
    ///
    /// # Errors
    /// [`ClientError::NoNode`] when no node answered; bad input as the nodes' 400.
    pub async fn query(&self, req: &QueryRequest) -> Result<FanOut, ClientError> {
        let top_k =
            engram_core::validate_top_k(req.top_k.unwrap_or(engram_core::DEFAULT_TOP_K as i64))?;
        let nodes = self.live_nodes().await?;
        let answers = join_all(nodes.iter().map(|n| n.client.query(req))).await;
        let mut merged: Vec<QueryResult> = Vec::new();
        let mut answered = 0;
        let mut failures = Vec::new();
        for (node, answer) in nodes.iter().zip(answers) {
            match answer {
                Ok(resp) => {
                    answered += 1;
                    merged.extend(resp.results);
                }
                Err(e) if e.is_refusal() => return Err(e),
                Err(e) => failures.push((node.hotkey.clone(), e.to_string())),
            }
        }
        if answered == 0 {
            return Err(ClientError::NoNode {
                action: "answered the query".into(),
                live: nodes.len(),
                failures,
            });
        }
        merged.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.cid.cmp(&b.cid)));
        let mut seen = std::collections::HashSet::new();
        merged.retain(|r| seen.insert(r.cid.clone()));
        merged.truncate(top_k);
        Ok(FanOut {
            results: merged,
            answered,
            asked: nodes.len(),
        })
    }

    /// Attests `namespace` on every live node with this client's signer (each node keeps
    /// its own attestations and reads the stake itself); the answer of each, by hotkey.
    ///
    /// # Errors
    /// As [`Network::nodes`].
    pub async fn attest(
        &self,
        namespace: &str,
    ) -> Result<Vec<(String, Result<AttestResponse, ClientError>)>, ClientError> {
        self.every_live_node(|c| async move { c.attest(namespace).await })
            .await
    }

    /// Every live node's view of `namespace`'s attestation, by hotkey.
    ///
    /// # Errors
    /// As [`Network::nodes`].
    pub async fn attestation(
        &self,
        namespace: &str,
    ) -> Result<Vec<(String, Result<AttestationResponse, ClientError>)>, ClientError> {
        self.every_live_node(|c| async move { c.attestation(namespace).await })
            .await
    }

    /// `ask` of every live node at once; each answer by the node's hotkey.
    async fn every_live_node<T, F, Fut>(
        &self,
        ask: F,
    ) -> Result<Vec<(String, Result<T, ClientError>)>, ClientError>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        let nodes = self.live_nodes().await?;
        let answers = join_all(nodes.iter().map(|n| ask(n.client.clone()))).await;
        Ok(nodes.into_iter().map(|n| n.hotkey).zip(answers).collect())
    }

    /// The record under `cid` from the nearest live node that holds it and whose answer
    /// recomputes to `cid`; with the hotkey of the node that served it.
    ///
    /// # Errors
    /// As [`Network::nodes`].
    pub async fn get(&self, cid: &Cid) -> Result<Option<(RetrieveResponse, String)>, ClientError> {
        self.get_in(cid, &NamespaceAuth::default()).await
    }

    /// As [`Network::get`], in the namespace `auth` names, with its credentials.
    ///
    /// # Errors
    /// As [`Network::nodes`].
    pub async fn get_in(
        &self,
        cid: &Cid,
        auth: &NamespaceAuth,
    ) -> Result<Option<(RetrieveResponse, String)>, ClientError> {
        let nodes = self.live_nodes().await?;
        let hotkeys: Vec<&str> = nodes.iter().map(|n| n.hotkey.as_str()).collect();
        for i in by_distance(&cid.to_string(), &hotkeys) {
            if let Ok(Some(record)) = nodes[i].client.retrieve_in(cid, auth).await
                && recompute_cid(&record).as_ref() == Some(cid)
            {
                return Ok(Some((record, nodes[i].hotkey.clone())));
            }
        }
        Ok(None)
    }

    /// A public blob's bytes from the network: rebuilt from any `k` of its erasure-code
    /// shards (each checked against a manifest, the result against the CID), else read
    /// whole from a node that keeps it. Says where the bytes came from.
    ///
    /// # Errors
    /// [`ClientError::NoNode`] when neither `k` good shards nor a good whole copy could be
    /// read; as [`Network::nodes`].
    pub async fn blob(&self, cid: &Cid) -> Result<FetchedBlob, ClientError> {
        let nodes = self.live_nodes().await?;
        let hotkeys: Vec<&str> = nodes.iter().map(|n| n.hotkey.as_str()).collect();
        let order = by_distance(&cid.to_string(), &hotkeys);
        let answers = join_all(order.iter().map(|&i| nodes[i].client.shard_manifest(cid))).await;
        let mut failures = Vec::new();
        // Identical manifests vote together; the most common is tried first, and any
        // manifest is only as good as the bytes it decodes to (checked against the CID).
        let mut manifests: Vec<(engram_core::erasure::Manifest, Vec<(usize, usize)>)> = Vec::new();
        for (&i, answer) in order.iter().zip(answers) {
            match answer {
                Ok(Some(m)) => {
                    let at = match manifests.iter().position(|(k, _)| *k == m.manifest) {
                        Some(at) => at,
                        None => {
                            manifests.push((m.manifest, Vec::new()));
                            manifests.len() - 1
                        }
                    };
                    manifests[at]
                        .1
                        .extend(m.held.into_iter().map(|index| (i, index)));
                }
                Ok(None) => {}
                Err(e) => failures.push((nodes[i].hotkey.clone(), e.to_string())),
            }
        }
        manifests.sort_by_key(|(_, held)| std::cmp::Reverse(held.len()));
        for (manifest, held) in &manifests {
            if manifest.blob != *cid || manifest.check().is_err() {
                continue;
            }
            let mut good: Vec<(usize, Vec<u8>)> = Vec::new();
            let mut from = Vec::new();
            for &(node, index) in held {
                if good.len() >= manifest.data {
                    break;
                }
                if good.iter().any(|(i, _)| *i == index) {
                    continue;
                }
                match nodes[node].client.shard(cid, index).await {
                    Ok(Some(bytes)) if manifest.check_shard(index, &bytes).is_ok() => {
                        good.push((index, bytes));
                        from.push((nodes[node].hotkey.clone(), index));
                    }
                    Ok(_) => failures.push((
                        nodes[node].hotkey.clone(),
                        format!("shard {index} missing or altered"),
                    )),
                    Err(e) => failures.push((nodes[node].hotkey.clone(), e.to_string())),
                }
            }
            let given: Vec<(usize, &[u8])> = good.iter().map(|(i, b)| (*i, b.as_slice())).collect();
            if let Ok(bytes) = engram_core::erasure::decode(manifest, &given) {
                return Ok(FetchedBlob {
                    bytes,
                    content_type: Some(manifest.content_type.clone()),
                    source: BlobSource::Shards {
                        from,
                        data: manifest.data,
                        total: manifest.total,
                    },
                });
            }
        }
        for &i in &order {
            match nodes[i].client.blob(cid).await {
                Ok(bytes) => {
                    return Ok(FetchedBlob {
                        bytes,
                        content_type: None,
                        source: BlobSource::Whole(nodes[i].hotkey.clone()),
                    });
                }
                Err(ClientError::Http { status: 404, .. }) => {}
                Err(e) => failures.push((nodes[i].hotkey.clone(), e.to_string())),
            }
        }
        Err(ClientError::NoNode {
            action: format!("served {cid} (whole or as enough good shards)"),
            live: nodes.len(),
            failures,
        })
    }
}
