//! A subnet of real processes: `engram devnet up` with 5 nodes and a validator on
//! loopback, fast cadences. Honest nodes get near-equal weights; replication survives two
//! dead replicas and repair restores it; a restarted validator resumes; and nodes that drop
//! data, keep only hashes or answer slowly are caught.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{engram, engram_command, json};

/// Fast validator cadences (seconds): scoring, challenges, weights.
const CADENCE: &[&str] = &[
    "--scoring-interval-s",
    "2",
    "--challenge-interval-s",
    "3",
    "--weights-interval-s",
    "6",
];

/// A running devnet, brought down (and any straggler killed) on drop.
struct Net {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    extra: Vec<Child>,
}

impl Net {
    fn up(extra_args: &[&str]) -> Self {
        Self::up_sized("5", "1", extra_args)
    }

    fn up_sized(miners: &str, validators: &str, extra_args: &[&str]) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("devnet");
        let d = dir.to_str().unwrap();
        let mut args = vec![
            "devnet",
            "up",
            "--dir",
            d,
            "--miners",
            miners,
            "--validators",
            validators,
        ];
        args.extend_from_slice(CADENCE);
        args.extend_from_slice(&["--repair-interval-s", "2"]);
        args.extend_from_slice(extra_args);
        json(tmp.path(), &args);
        Self {
            _tmp: tmp,
            dir,
            extra: Vec::new(),
        }
    }

    fn d(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    fn manifest(&self) -> Vec<Value> {
        let m: Value =
            serde_json::from_slice(&std::fs::read(self.dir.join("devnet.json")).unwrap()).unwrap();
        m["processes"].as_array().unwrap().clone()
    }

    fn process(&self, name: &str) -> Value {
        self.manifest()
            .into_iter()
            .find(|p| p["name"] == name)
            .unwrap()
    }

    fn status(&self) -> Value {
        json(&self.dir, &["devnet", "status", "--dir", self.d()])
    }

    /// Waits until `ready(status)` holds, or fails after `secs` with the last status.
    fn wait_for(&self, secs: u64, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.status();
            if ready(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {s:#}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The validator's view of one node, by name.
    fn node(status: &Value, name: &str) -> Value {
        status["validators"][0]["nodes"]
            .as_object()
            .unwrap()
            .values()
            .find(|n| n["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not scored: {status:#}"))
    }

    /// The weight the validator set on a node, by name.
    fn weight(status: &Value, name: &str) -> f64 {
        let uid = Self::node(status, name)["uid"].as_u64().unwrap();
        status["weights"][0]["weights"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w[0].as_u64() == Some(uid))
            .map_or(0.0, |w| w[1].as_f64().unwrap())
    }

    fn network(&self, args: &[&str]) -> std::process::Output {
        let mut all = vec!["--network", self.d()];
        all.extend_from_slice(args);
        engram(&self.dir, &all, None)
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in &mut self.extra {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = engram(&self.dir, &["devnet", "down", "--dir", self.d()], None);
    }
}

fn kill9(pid: u64) {
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// The CID and holders (hotkeys) of a successful `--json ingest` over `--network`.
fn written(out: &std::process::Output) -> (String, Vec<String>) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let placed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &placed["ingested"][0];
    let holders = first["holders"]
        .as_array()
        .unwrap_or_else(|| panic!("no holders: {placed}"))
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    (first["cid"].as_str().unwrap().to_string(), holders)
}

/// Whether the node at `url` answers `get CID` (with `extra` arguments: a namespace, a
/// wallet).
fn holds(url: &str, cid: &str, dir: &Path, extra: &[&str]) -> bool {
    let mut args = vec!["--node", url, "get", cid];
    args.extend_from_slice(extra);
    engram(dir, &args, None).status.success()
}

fn rounds(status: &Value) -> (u64, u64) {
    let v = &status["validators"][0];
    (
        v["challenge_rounds"].as_u64().unwrap_or(0),
        v["weight_version"].as_u64().unwrap_or(0),
    )
}

#[test]
fn honest_network_replicates_repairs_and_resumes() {
    let mut net = Net::up(&[]);
    let s = net.wait_for(120, "two weight sets", |s| {
        let (c, w) = rounds(s);
        c >= 3 && w >= 2
    });
    for i in 0..5 {
        let w = Net::weight(&s, &format!("miner-{i}"));
        assert!(
            (0.16..=0.24).contains(&w),
            "miner-{i} weight {w} not near 1/5: {s:#}"
        );
        let n = Net::node(&s, &format!("miner-{i}"));
        assert_eq!(n["proof_rate"].as_f64(), Some(1.0), "{n}");
        assert!(n["recall"].as_f64().unwrap() > 0.9, "{n}");
    }

    // Replicated write: the exact bytes on the 3 nodes nearest the CID.
    let out = net.network(&["--json", "ingest", "The devnet keeps three copies of this."]);
    let (cid, holders) = written(&out);
    assert_eq!(holders.len(), 3, "{holders:?}");

    // A private namespace across the network: signed on every node, found only by its owner.
    json(&net.dir, &["--network", net.d(), "wallet", "new", "owner"]);
    let secret = "The owner's vault opens with the blue key.";
    let out = net.network(&[
        "--json",
        "ingest",
        secret,
        "--namespace",
        "vault",
        "--wallet",
        "owner",
    ]);
    let (private_cid, private_holders) = written(&out);
    assert_eq!(private_holders.len(), 3, "{private_holders:?}");
    let ask = |extra: &[&str]| -> Value {
        let mut args = vec!["--json", "query", "which key opens the vault", "-k", "1"];
        args.extend_from_slice(extra);
        let q = net.network(&args);
        assert!(q.status.success(), "{}", String::from_utf8_lossy(&q.stderr));
        serde_json::from_slice(&q.stdout).unwrap()
    };
    assert_eq!(
        ask(&["--namespace", "vault", "--wallet", "owner"])["results"][0]["cid"],
        private_cid.as_str()
    );
    assert_ne!(
        ask(&[])["results"][0]["cid"],
        private_cid.as_str(),
        "not in public results"
    );
    assert!(
        !net.network(&["query", "vault", "--namespace", "vault"])
            .status
            .success(),
        "unsigned"
    );
    let got = net.network(&[
        "--json",
        "get",
        &private_cid,
        "--namespace",
        "vault",
        "--wallet",
        "owner",
    ]);
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&got.stdout).unwrap()["text"],
        secret
    );

    // A private memory with a time to live: every replica holds it, then every replica
    // lets it go (the TTL travels with each copy; each node sweeps on its own clock).
    let out = net.network(&[
        "--json",
        "ingest",
        "The vault's guest code works for six seconds.",
        "--namespace",
        "vault",
        "--wallet",
        "owner",
        "--ttl",
        "6",
    ]);
    let (fleeting, fleeting_holders) = written(&out);
    assert_eq!(fleeting_holders.len(), 3, "{fleeting_holders:?}");
    let manifest = net.manifest();
    let urls: Vec<&str> = fleeting_holders
        .iter()
        .map(|h| {
            manifest.iter().find(|p| p["hotkey"] == h.as_str()).unwrap()["url"]
                .as_str()
                .unwrap()
        })
        .collect();
    let wallets = net.dir.join("wallets");
    let private = [
        "--wallet-dir",
        wallets.to_str().unwrap(),
        "--namespace",
        "vault",
        "--wallet",
        "owner",
    ];
    let replica_has = |url: &str| holds(url, &fleeting, &net.dir, &private);
    for url in &urls {
        assert!(replica_has(url), "{url} answers before it is due");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while urls.iter().any(|url| replica_has(url)) {
        assert!(Instant::now() < deadline, "a replica kept {fleeting}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // Two of the three replicas die (kill -9); the memory stays readable.
    let miners: Vec<Value> = net
        .manifest()
        .into_iter()
        .filter(|p| p["role"] == "miner")
        .collect();
    for h in &holders[..2] {
        let p = miners.iter().find(|p| p["hotkey"] == h.as_str()).unwrap();
        kill9(p["pid"].as_u64().unwrap());
    }
    let got = net.network(&["--json", "get", &cid]);
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let record: Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(record["text"], "The devnet keeps three copies of this.");
    assert_eq!(record["served_by"], holders[2].as_str());
    let q = net.network(&[
        "--json",
        "query",
        "how many copies does the devnet keep",
        "-k",
        "1",
    ]);
    assert!(q.status.success(), "{}", String::from_utf8_lossy(&q.stderr));
    let q: Value = serde_json::from_slice(&q.stdout).unwrap();
    assert_eq!(q["results"][0]["cid"], cid.as_str());

    // Repair brings it back to 3 live replicas: every survivor holds it.
    let survivors: Vec<String> = miners
        .iter()
        .filter(|p| !holders[..2].contains(&p["hotkey"].as_str().unwrap().to_string()))
        .map(|p| p["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(survivors.len(), 3);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !survivors.iter().all(|u| holds(u, &cid, &net.dir, &[])) {
        assert!(
            Instant::now() < deadline,
            "repair did not restore 3 replicas of {cid}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // A node joins: repair moves onto it what it is now among the nearest for.
    let w = json(
        &net.dir,
        &["--network", net.d(), "wallet", "new", "miner-5"],
    );
    let joiner = w["ss58"].as_str().unwrap().to_string();
    let mut cmd = engram_command();
    cmd.args([
        "--network",
        net.d(),
        "serve",
        "--wallet",
        "miner-5",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
    ])
    .arg(net.dir.join("miner-5"))
    .env("ENGRAM_INGEST_RATE_PER_MINUTE", "0")
    .env("ENGRAM_REPAIR_INTERVAL_S", "2")
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    net.extra.push(cmd.spawn().unwrap());
    let joined = net.wait_for(60, "the new node to announce itself", |s| {
        s["neurons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["hotkey"] == joiner.as_str() && n["axon"].is_string())
    });
    let joiner_url = joined["neurons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["hotkey"] == joiner.as_str())
        .unwrap()["axon"]
        .as_str()
        .unwrap()
        .to_string();
    let mut live: Vec<(String, String)> = miners
        .iter()
        .filter(|p| !holders[..2].contains(&p["hotkey"].as_str().unwrap().to_string()))
        .map(|p| {
            (
                p["hotkey"].as_str().unwrap().to_string(),
                p["url"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    live.push((joiner.clone(), joiner_url.clone()));
    let hotkeys: Vec<&str> = live.iter().map(|(h, _)| h.as_str()).collect();
    let nearest: Vec<&str> = engram_core::dht::replicas(&cid, &hotkeys, 3)
        .into_iter()
        .map(|i| live[i].1.as_str())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let count = json(&net.dir, &["--node", &joiner_url, "status"])["count"]
            .as_u64()
            .unwrap();
        if count > 0 && nearest.iter().all(|u| holds(u, &cid, &net.dir, &[])) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "repair did not populate the new node ({count} records)"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // A validator killed mid-flight resumes from its persisted state.
    let validator = net.process("validator-0");
    let state_file = PathBuf::from(validator["dir"].as_str().unwrap()).join("state.json");
    let before: Value = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    kill9(validator["pid"].as_u64().unwrap());
    let mut cmd = engram_command();
    cmd.args([
        "--network",
        net.d(),
        "validate",
        "--wallet",
        "validator-0",
        "--state-dir",
    ])
    .arg(validator["dir"].as_str().unwrap())
    .args(CADENCE)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    net.extra.push(cmd.spawn().unwrap());
    let prior = before["challenge_rounds"].as_u64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let after = loop {
        let now: Value = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
        if now["challenge_rounds"].as_u64().unwrap() > prior {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted validator ran no round"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(
        after["probes"], before["probes"],
        "probes are kept, not re-created"
    );
    assert!(after["scoring_rounds"].as_u64() >= before["scoring_rounds"].as_u64());
}

#[test]
fn dishonest_nodes_are_caught() {
    let net = Net::up(&[
        "--fault",
        "miner-2=drop-half",
        "--fault",
        "miner-3=hash-only",
        "--fault",
        "miner-4=delay-ms=300",
    ]);
    let s = net.wait_for(150, "eight challenge rounds and two weight sets", |s| {
        let (c, w) = rounds(s);
        c >= 8 && w >= 2
    });
    let honest = ["miner-0", "miner-1"].map(|m| Net::weight(&s, m));
    let honest_composite =
        ["miner-0", "miner-1"].map(|m| Net::node(&s, m)["composite"].as_f64().unwrap());

    // Dropping half the data: under 50 % proof success, weight 0.
    let dropper = Net::node(&s, "miner-2");
    assert!(dropper["proof_rate"].as_f64().unwrap() < 0.5, "{dropper}");
    assert_eq!(Net::weight(&s, "miner-2"), 0.0);

    // Keeping only hashes: every proof v1 passes, every proof v2 fails, weight 0.
    let hasher = Net::node(&s, "miner-3");
    let (v1, v2) = (&hasher["v1"], &hasher["v2"]);
    assert!(
        v1[1].as_u64().unwrap() > 0 && v1[0] == v1[1],
        "v1 passes: {hasher}"
    );
    assert!(
        v2[1].as_u64().unwrap() > 0 && v2[0] == 0,
        "v2 fails: {hasher}"
    );
    assert_eq!(Net::weight(&s, "miner-3"), 0.0);

    // Answering 300 ms late: still paid, but less than the honest nodes.
    let slow = Net::node(&s, "miner-4");
    let slow_w = Net::weight(&s, "miner-4");
    assert!(slow["latency_ms"].as_f64().unwrap() >= 300.0, "{slow}");
    assert!(slow["composite"].as_f64().unwrap() < honest_composite[0].min(honest_composite[1]));
    assert!(
        slow_w > 0.0 && slow_w < honest[0].min(honest[1]),
        "{slow_w} vs {honest:?}"
    );
}

/// The uid of a devnet process, by name.
fn uid(status: &Value, name: &str) -> usize {
    status["neurons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .and_then(|n| n["uid"].as_u64())
        .unwrap_or_else(|| panic!("{name} not registered: {status:#}")) as usize
}

/// `outcome[field][uid]` of the epoch `back` epochs before the last.
fn epoch_value(status: &Value, back: usize, field: &str, uid: usize) -> Option<f64> {
    let epochs = status["epochs"].as_array()?;
    let e = epochs.get(epochs.len().checked_sub(1 + back)?)?;
    e["outcome"][field][uid].as_f64()
}

#[test]
fn validators_reach_consensus_and_emissions_follow_it() {
    // Three validators score on their own probes; validator-2 puts 80 % of its weight on
    // miner-2 whatever it measures; miner-3 drops half of what it stores.
    let net = Net::up_sized(
        "4",
        "3",
        &[
            "--fault",
            "miner-3=drop-half",
            "--fault",
            "validator-2=favour=miner-2",
        ],
    );
    let s = net.wait_for(
        300,
        "two epochs paying the dropper nothing, every validator counted",
        |s| {
            let Some(n) = s["neurons"].as_array().map(Vec::len) else {
                return false;
            };
            if n != 7 {
                return false;
            }
            let (m3, vals) = (
                uid(s, "miner-3"),
                ["validator-0", "validator-1", "validator-2"].map(|v| uid(s, v)),
            );
            (0..2).all(|back| {
                epoch_value(s, back, "incentive", m3) == Some(0.0)
                    && vals.iter().all(|&v| {
                        epoch_value(s, back, "validator_trust", v).is_some_and(|t| t > 0.0)
                    })
                    && ["miner-0", "miner-1"].iter().all(|m| {
                        epoch_value(s, back, "incentive", uid(s, m)).is_some_and(|i| i > 0.0)
                    })
            })
        },
    );
    let at = |field: &str, name: &str| epoch_value(&s, 0, field, uid(&s, name)).unwrap();
    // Honest miners the validators agree on earn the same, ±10 %.
    let (m0, m1) = (at("incentive", "miner-0"), at("incentive", "miner-1"));
    assert!((m0 - m1).abs() <= 0.1 * m0.max(m1), "{m0} vs {m1}");
    // The favoured miner is clipped to consensus: without clipping validator-2's 0.8 would
    // give it about twice an honest miner's incentive; clipped it keeps only what the
    // validator took from the others (about 1.36×).
    let m2 = at("incentive", "miner-2");
    assert!(m2 < 1.5 * m0.max(m1), "{m2} vs {m0}, {m1}");
    // The favouring validator agrees less with consensus and earns less.
    let trust = ["validator-0", "validator-1", "validator-2"].map(|v| at("validator_trust", v));
    let earned = ["validator-0", "validator-1", "validator-2"].map(|v| at("validator_emission", v));
    assert!(trust[2] < trust[0].min(trust[1]), "{trust:?}");
    assert!(earned[2] < 0.9 * earned[0].min(earned[1]), "{earned:?}");
    // The dropper earns nothing; everything distributed adds up to the epoch's emission.
    assert_eq!(at("incentive", "miner-3"), 0.0);
    let total: f64 = ["miner_emission", "validator_emission"]
        .iter()
        .flat_map(|f| {
            s["epochs"].as_array().unwrap().last().unwrap()["outcome"][*f]
                .as_array()
                .unwrap()
                .clone()
        })
        .map(|x| x.as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-9, "{total}");
    // `status --live`: the metagraph and each node's health in one table.
    let live = json(&net.dir, &["--network", net.d(), "status", "--live"]);
    let neurons = live["neurons"].as_array().unwrap();
    assert_eq!(neurons.len(), 7);
    for m in ["miner-0", "miner-1", "miner-2", "miner-3"] {
        let n = &neurons[uid(&s, m)];
        assert_eq!(n["live"], true, "{n}");
        assert!(
            n["vectors"].as_u64().is_some() && n["score"].as_f64().is_some(),
            "{n}"
        );
    }
    assert_eq!(neurons[uid(&s, "miner-3")]["incentive"], 0.0);
    assert!(
        neurons[uid(&s, "validator-0")]["dividends"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let table = net.network(&["status", "--live"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("epoch #") && table.contains("incentive"),
        "{table}"
    );
    // The text status shows the epoch table.
    let text = engram(&net.dir, &["devnet", "status", "--dir", net.d()], None);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        out.contains("epochs:") && out.contains("agreement"),
        "{out}"
    );
}

/// `GET url` as JSON, `None` when the node does not answer or refuses.
fn get_json(url: &str) -> Option<Value> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let resp = reqwest::get(url).await.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        resp.json().await.ok()
    })
}

/// Shard indices of `blob` each running miner keeps, by name.
fn shard_map(miners: &[(String, String)], blob: &str) -> Vec<(String, Vec<u64>)> {
    miners
        .iter()
        .map(|(name, url)| {
            let held = get_json(&format!("{url}/shards"))
                .and_then(|l| {
                    l["blobs"]
                        .as_array()?
                        .iter()
                        .find(|b| b["blob"] == blob)
                        .map(|b| {
                            b["shards"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|i| i.as_u64().unwrap())
                                .collect()
                        })
                })
                .unwrap_or_default();
            (name.clone(), held)
        })
        .collect()
}

/// True when the miners keep all `total` shard indices, each on its own node.
fn fully_spread(map: &[(String, Vec<u64>)], total: u64) -> bool {
    let mut all: Vec<u64> = map.iter().flat_map(|(_, s)| s.clone()).collect();
    all.sort_unstable();
    map.iter().all(|(_, s)| s.len() <= 1) && all == (0..total).collect::<Vec<_>>()
}

fn wait_until(secs: u64, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn files_survive_as_shards_repair_restores_them_and_liars_are_caught() {
    let net = Net::up_sized(
        "7",
        "1",
        &["--erasure", "3/5", "--fault", "miner-6=lie-list"],
    );
    let mut live: Vec<(String, String)> = net
        .manifest()
        .into_iter()
        .filter(|p| p["role"] == "miner")
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["url"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reader = live[0].1.clone();

    // A 40-page PDF read by miner-0: kept whole there, then cut into 3-of-5 shards. Its
    // words are drawn at random so that the file does not compress to nothing.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut word = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        format!("w{:x}", seed % 100_000)
    };
    let text: Vec<String> = (1..=40)
        .map(|i| {
            let words: Vec<String> = (0..300).map(|_| word()).collect();
            format!("Folio {i} of the tide tables. {}", words.join(" "))
        })
        .collect();
    let pdf = net.dir.join("tides.pdf");
    std::fs::write(&pdf, engram_media::pdf::build("Tide Tables", &text)).unwrap();
    let original = std::fs::read(&pdf).unwrap();
    let out = json(
        &net.dir,
        &["--node", &reader, "ingest", "--pdf", pdf.to_str().unwrap()],
    );
    let blob = out["content_cid"].as_str().unwrap().to_string();
    wait_until(60, "five shards on five nodes", || {
        fully_spread(&shard_map(&live, &blob), 5)
    });
    let manifest = get_json(&format!(
        "{}/shards/{blob}",
        live.iter()
            .find(|(_, u)| !shard_map(&[(String::new(), u.clone())], &blob)[0]
                .1
                .is_empty())
            .unwrap()
            .1
    ))
    .unwrap();
    let shard_len = manifest["manifest"]["shard_len"].as_u64().unwrap();
    assert_eq!(manifest["manifest"]["data"], 3);
    assert_eq!(manifest["manifest"]["total"], 5);

    // Honest holders pass the validator's shard audits; the node that lies in /list
    // fails its list audits and loses its weight.
    let holder = shard_map(&live, &blob)
        .into_iter()
        .find(|(name, s)| name != "miner-6" && !s.is_empty())
        .unwrap()
        .0;
    let s = net.wait_for(120, "shard and list audits", |s| {
        let audited = |name: &str, kind: &str| {
            s["validators"][0]["nodes"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
                .find(|n| n["name"] == name)
                .map_or(0, |n| n[kind][1].as_u64().unwrap_or(0))
        };
        let (_, w) = rounds(s);
        w >= 2 && audited("miner-6", "list_audits") >= 2 && audited(&holder, "shard_audits") >= 1
    });
    let liar = Net::node(&s, "miner-6");
    assert_eq!(
        liar["list_audits"][0], 0,
        "every list audit of the liar fails: {liar}"
    );
    assert_eq!(Net::weight(&s, "miner-6"), 0.0);
    for (name, shards) in shard_map(&live, &blob) {
        if name != "miner-6" && !shards.is_empty() {
            let n = Net::node(&s, &name);
            assert!(
                n["shard_audits"][1].as_u64().unwrap() >= 1,
                "{name} audited: {n}"
            );
        }
    }
    for name in [
        "miner-0", "miner-1", "miner-2", "miner-3", "miner-4", "miner-5",
    ] {
        let n = Net::node(&s, name);
        let (ok, asked) = (
            n["shard_audits"][0].as_u64().unwrap(),
            n["shard_audits"][1].as_u64().unwrap(),
        );
        assert_eq!(ok, asked, "honest {name} passes its shard audits: {n}");
        let (ok, asked) = (
            n["list_audits"][0].as_u64().unwrap(),
            n["list_audits"][1].as_u64().unwrap(),
        );
        assert_eq!(ok, asked, "honest {name} passes its list audits: {n}");
    }

    // The reader and another shard holder die (kill -9): two of five shards may be gone.
    let victim = shard_map(&live, &blob)
        .into_iter()
        .find(|(name, s)| name != "miner-0" && !s.is_empty())
        .unwrap()
        .0;
    for name in ["miner-0", victim.as_str()] {
        kill9(net.process(name)["pid"].as_u64().unwrap());
    }
    live.retain(|(name, _)| name != "miner-0" && *name != victim);

    // Any three shards rebuild the file, checked against its CID.
    let back = net.dir.join("back.pdf");
    let got = net.network(&[
        "--json",
        "blob",
        "get",
        &blob,
        "--out",
        back.to_str().unwrap(),
    ]);
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let report: Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(
        report["source"]["shards"].as_array().unwrap().len(),
        3,
        "{report}"
    );
    assert_eq!(std::fs::read(&back).unwrap(), original);

    // Repair re-creates the lost shards on the live nodes that keep none.
    wait_until(90, "repair to re-create the lost shards", || {
        fully_spread(&shard_map(&live, &blob), 5)
    });

    // A shard damaged on disk is caught on read, dropped, and re-created by repair.
    let (damaged, index) = shard_map(&live, &blob)
        .into_iter()
        .map(|(n, s)| (n, s[0]))
        .next()
        .unwrap();
    let url = &live.iter().find(|(n, _)| *n == damaged).unwrap().1;
    let file = net
        .dir
        .join(&damaged)
        .join("shards")
        .join(blob.trim_start_matches("sha256:"))
        .join(index.to_string());
    let mut raw = std::fs::read(&file).unwrap();
    raw[0] ^= 0xff;
    std::fs::write(&file, raw).unwrap();
    assert!(get_json(&format!("{url}/shards/{blob}")).is_some());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        reqwest::get(format!("{url}/shards/{blob}/{index}"))
            .await
            .unwrap()
            .status()
    });
    // 500 when this read finds the damage; 404 when a validator's shard audit found it
    // first and the node already dropped the shard. Never the damaged bytes.
    assert!(
        status.as_u16() == 500 || status.as_u16() == 404,
        "a damaged shard is never served: {status}"
    );
    wait_until(60, "repair of the damaged shard", || {
        fully_spread(&shard_map(&live, &blob), 5) && std::fs::read(&file).is_ok()
    });

    // What repair cost: the bytes the nodes read to rebuild and sent, against a replica
    // copy of the whole file per lost holder.
    let (mut read, mut sent) = (0u64, 0u64);
    for (_, url) in &live {
        let o = get_json(&format!("{url}/overview")).unwrap();
        let r = &o["network"]["replication"];
        read += r["shard_bytes_in_total"].as_u64().unwrap_or(0);
        sent += r["shard_bytes_out_total"].as_u64().unwrap_or(0);
    }
    eprintln!(
        "erasure 3/5: file {} B, shard {shard_len} B, stored {} B (3x replication: {} B); \
         repair after 2 losses + 1 damaged shard: read {read} B, sent {sent} B",
        original.len(),
        5 * shard_len,
        3 * original.len()
    );
    // At most two repairs (the two lost shards in one pass, then the damaged one), each
    // reading at most k = 3 shards, and one push per lost shard.
    assert!(
        (2 * shard_len..=6 * shard_len).contains(&read),
        "rebuilding reads k shards per repair: {read}"
    );
    assert!(
        (2 * shard_len..=3 * shard_len).contains(&sent),
        "one push per lost shard: {sent}"
    );
}
