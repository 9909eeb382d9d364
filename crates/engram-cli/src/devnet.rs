//! `engram devnet up|status|down`: a subnet of real processes on loopback.
//!
//! `up` creates a wallet and a data directory per process, starts each node as
//! `engram serve --network DIR --wallet NAME` and each validator as `engram validate`, in
//! their own process groups with logs under `DIR/logs`, waits until every node answers,
//! gives validators stake, and records the processes in `DIR/devnet.json`. Cadences are
//! fast so weights appear within a minute. `down` sends SIGTERM (nodes checkpoint their
//! stores), then SIGKILL to anything still running after 15 s.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use engram_chain::{Chain, Devnet, Wallet};
use engram_validator::StateDir;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::UsageError;
use crate::args::{DevnetUpArgs, Global};
use crate::output::print_json;

/// Stake a devnet gives each validator.
const VALIDATOR_STAKE: f64 = 1000.0;

/// One process of a devnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Process {
    pub(crate) name: String,
    pub(crate) role: String,
    pub(crate) pid: u32,
    pub(crate) hotkey: String,
    pub(crate) url: Option<String>,
    pub(crate) dir: PathBuf,
    pub(crate) log: PathBuf,
    pub(crate) fault: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub(crate) processes: Vec<Process>,
}

fn manifest_path(dir: &Path) -> PathBuf {
    dir.join("devnet.json")
}

fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = manifest_path(dir);
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "no devnet in {} (start one with `engram devnet up`)",
            dir.display()
        )
    })?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is corrupt", path.display()))
}

/// Whether process `pid` exists. On Linux a look at `/proc` (no fork: `down` and `status`
/// poll this from async loops); elsewhere `kill -0`.
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        return Path::new("/proc").join(pid.to_string()).exists();
    }
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn spawn(g: &Global, args: &[String], envs: &[(&str, String)], log: &Path) -> Result<Child> {
    let exe = std::env::current_exe().context("locating the engram binary")?;
    let out = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    // Every process gets the model this command resolves, not one under its own data dir.
    let model = crate::commands::model_dir(g);
    cmd.arg("--model-dir").arg(model);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd.spawn().context("starting a devnet process")
}

pub(crate) async fn up(g: &Global, args: DevnetUpArgs) -> Result<()> {
    let dir = &args.dir;
    if manifest_path(dir).exists() && read_manifest(dir)?.processes.iter().any(|p| alive(p.pid)) {
        bail!(
            "a devnet is already running in {} (`engram devnet down --dir {}` first)",
            dir.display(),
            dir.display()
        );
    }
    if args.miners == 0 {
        return Err(UsageError("a devnet needs at least one miner".into()).into());
    }
    if !args.fault.is_empty() && !engram_node::FAULT_INJECTION {
        return Err(UsageError(
            "--fault needs a build with the test-only `fault-injection` feature (cargo build -p engram-cli --features fault-injection)".into(),
        )
        .into());
    }
    let mut faults = std::collections::HashMap::new();
    for f in &args.fault {
        let (name, fault) = f
            .split_once('=')
            .ok_or_else(|| UsageError(format!("--fault {f:?}: expected NAME=FAULT")))?;
        faults.insert(name.to_string(), fault.to_string());
    }
    let wallets = dir.join("wallets");
    std::fs::create_dir_all(dir.join("logs"))?;
    let chain = Devnet::open(dir);
    let key_of = |name: &str| -> Result<Wallet> {
        match Wallet::load(&wallets, name) {
            Ok(w) => Ok(w),
            Err(_) => {
                let mut entropy = [0u8; 16];
                getrandom::getrandom(&mut entropy)?;
                Ok(Wallet::create(&wallets, name, &entropy)?)
            }
        }
    };
    let dir_s = dir.display().to_string();
    let mut manifest = Manifest::default();
    let mut children = Vec::new();
    for i in 0..args.miners {
        let name = format!("miner-{i}");
        let wallet = key_of(&name)?;
        chain.register(&wallet.key)?;
        let listen = format!("127.0.0.1:{}", free_port()?);
        let data = dir.join(&name);
        let log = dir.join("logs").join(format!("{name}.log"));
        let mut envs = vec![
            ("ENGRAM_INGEST_RATE_PER_MINUTE", "0".to_string()),
            (
                "ENGRAM_REPAIR_INTERVAL_S",
                args.repair_interval_s.to_string(),
            ),
            ("ENGRAM_INDEX_INTERVAL_S", "2".to_string()),
        ];
        let fault = faults.remove(&name);
        if let Some(f) = &fault {
            envs.push(("ENGRAM_FAULT", f.clone()));
        }
        let argv: Vec<String> = [
            "serve",
            "--network",
            &dir_s,
            "--wallet",
            &name,
            "--listen",
            &listen,
            "--data-dir",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([data.display().to_string()])
        .collect();
        let child = spawn(g, &argv, &envs, &log)?;
        let pid = child.id();
        children.push(child);
        manifest.processes.push(Process {
            name,
            role: "miner".into(),
            pid,
            hotkey: wallet.key.ss58(),
            url: Some(format!("http://{listen}")),
            dir: data,
            log,
            fault,
        });
    }
    if let Some(name) = faults.keys().next() {
        return Err(UsageError(format!(
            "--fault names {name:?}, which is not a miner of this devnet"
        ))
        .into());
    }
    engram_os::write_atomic(&manifest_path(dir), &serde_json::to_vec_pretty(&manifest)?)?;

    // Every node up before validators start measuring.
    let deadline = Instant::now() + Duration::from_secs(120);
    for (p, child) in manifest.processes.iter().zip(&mut children) {
        let client = engram_client::Client::new(p.url.as_deref().unwrap_or_default())?;
        loop {
            let serving = chain
                .metagraph()?
                .by_hotkey(&p.hotkey)
                .is_some_and(|n| n.axon.is_some());
            if serving && client.health().await.is_ok() {
                break;
            }
            if let Some(status) = child.try_wait()? {
                bail!(
                    "{} exited during start-up ({status}); see {}",
                    p.name,
                    p.log.display()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not come up within 120 s; see {}",
                    p.name,
                    p.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    for i in 0..args.validators {
        let name = format!("validator-{i}");
        let wallet = key_of(&name)?;
        chain.register(&wallet.key)?;
        if chain.stake_of(&wallet.key.ss58())? < VALIDATOR_STAKE {
            chain.add_stake(&wallet.key.ss58(), VALIDATOR_STAKE)?;
        }
        let state = dir.join(&name);
        let log = dir.join("logs").join(format!("{name}.log"));
        let argv: Vec<String> = vec![
            "validate".into(),
            "--network".into(),
            dir_s.clone(),
            "--wallet".into(),
            name.clone(),
            "--state-dir".into(),
            state.display().to_string(),
            "--scoring-interval-s".into(),
            args.scoring_interval_s.to_string(),
            "--challenge-interval-s".into(),
            args.challenge_interval_s.to_string(),
            "--weights-interval-s".into(),
            args.weights_interval_s.to_string(),
        ];
        let pid = spawn(g, &argv, &[], &log)?.id();
        manifest.processes.push(Process {
            name,
            role: "validator".into(),
            pid,
            hotkey: wallet.key.ss58(),
            url: None,
            dir: state,
            log,
            fault: None,
        });
    }
    engram_os::write_atomic(&manifest_path(dir), &serde_json::to_vec_pretty(&manifest)?)?;
    if g.json {
        print_json(&json!({"dir": dir, "processes": manifest.processes}));
    } else {
        for p in &manifest.processes {
            println!(
                "{:<12} {:<9} pid {:<7} {}  {}",
                p.name,
                p.role,
                p.pid,
                p.url.as_deref().unwrap_or("-"),
                p.fault
                    .as_deref()
                    .map(|f| format!("FAULT {f}"))
                    .unwrap_or_default()
            );
        }
        println!(
            "devnet up in {}: logs in {}/logs; `engram devnet status --dir {}`",
            dir.display(),
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

pub(crate) fn status(g: &Global, dir: &Path) -> Result<()> {
    let manifest = read_manifest(dir)?;
    let graph = Devnet::open(dir).metagraph()?;
    let validators: Vec<(String, engram_validator::State)> = manifest
        .processes
        .iter()
        .filter(|p| p.role == "validator")
        .map(|p| Ok((p.hotkey.clone(), StateDir::new(&p.dir).load()?)))
        .collect::<Result<_>>()?;
    let name_of = |hotkey: &str| {
        manifest
            .processes
            .iter()
            .find(|p| p.hotkey == hotkey)
            .map_or("-", |p| p.name.as_str())
    };
    let pid_alive = |hotkey: &str| {
        manifest
            .processes
            .iter()
            .find(|p| p.hotkey == hotkey)
            .is_some_and(|p| alive(p.pid))
    };
    if g.json {
        let neurons: Vec<_> = graph
            .neurons
            .iter()
            .map(|n| json!({"uid": n.uid, "name": name_of(&n.hotkey), "hotkey": n.hotkey, "axon": n.axon,
                "stake": n.stake, "last_update_ms": n.last_update_ms, "running": pid_alive(&n.hotkey)}))
            .collect();
        let scores: Vec<_> = validators
            .iter()
            .map(|(hk, s)| {
                let nodes: serde_json::Map<String, serde_json::Value> = s
                    .nodes
                    .iter()
                    .map(|(h, st)| {
                        (h.clone(), json!({"uid": st.uid, "name": name_of(h), "recall": st.recall, "latency_ms": st.latency_ms,
                            "proof_rate": st.proof_rate(), "composite": st.composite(),
                            "v1": st.v1, "v2": st.v2, "audits": st.audits}))
                    })
                    .collect();
                json!({"validator": hk, "name": name_of(hk), "scoring_rounds": s.scoring_rounds,
                    "challenge_rounds": s.challenge_rounds, "weight_version": s.weight_version,
                    "probes": s.probes.len(), "nodes": nodes})
            })
            .collect();
        print_json(
            &json!({"dir": dir, "neurons": neurons, "weights": graph.weights, "validators": scores}),
        );
        return Ok(());
    }
    println!("metagraph ({} neurons)", graph.neurons.len());
    println!(
        "{:>3}  {:<12} {:<49} {:<24} {:>7} running",
        "uid", "name", "hotkey", "axon", "stake"
    );
    for n in &graph.neurons {
        println!(
            "{:>3}  {:<12} {:<49} {:<24} {:>7.0} {}",
            n.uid,
            name_of(&n.hotkey),
            n.hotkey,
            n.axon.as_deref().unwrap_or("-"),
            n.stake,
            if pid_alive(&n.hotkey) { "yes" } else { "no" }
        );
    }
    for (hk, s) in &validators {
        println!(
            "\n{} ({}): {} scoring, {} challenge rounds, weights v{}, {} probes",
            name_of(hk),
            hk,
            s.scoring_rounds,
            s.challenge_rounds,
            s.weight_version,
            s.probes.len()
        );
        println!(
            "{:>3}  {:<12} {:>7} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7}",
            "uid",
            "name",
            "recall",
            "lat ms",
            "proof",
            "v1 ok",
            "v2 ok",
            "audits",
            "composite",
            "weight"
        );
        let weights = graph.weights.iter().find(|w| {
            graph
                .neurons
                .get(usize::from(w.validator))
                .is_some_and(|n| &n.hotkey == hk)
        });
        let mut rows: Vec<_> = s.nodes.iter().collect();
        rows.sort_by_key(|(_, st)| st.uid);
        for (h, st) in rows {
            let weight = weights
                .and_then(|w| w.weights.iter().find(|(u, _)| *u == st.uid))
                .map_or(0.0, |(_, w)| *w);
            println!(
                "{:>3}  {:<12} {:>7} {:>9} {:>7.2} {:>9} {:>9} {:>9} {:>9.3} {:>7.3}",
                st.uid,
                name_of(h),
                st.recall.map_or("-".into(), |r| format!("{r:.3}")),
                st.latency_ms.map_or("-".into(), |l| format!("{l:.1}")),
                st.proof_rate(),
                format!("{}/{}", st.v1.0, st.v1.1),
                format!("{}/{}", st.v2.0, st.v2.1),
                format!("{}/{}", st.audits.0, st.audits.1),
                st.composite(),
                weight
            );
        }
    }
    Ok(())
}

pub(crate) async fn down(g: &Global, dir: &Path) -> Result<()> {
    let manifest = read_manifest(dir)?;
    let running: Vec<&Process> = manifest.processes.iter().filter(|p| alive(p.pid)).collect();
    for p in &running {
        let _ = Command::new("kill")
            .args(["-TERM", &p.pid.to_string()])
            .status();
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut killed = Vec::new();
    for p in &running {
        while alive(p.pid) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if alive(p.pid) {
            let _ = Command::new("kill")
                .args(["-KILL", &p.pid.to_string()])
                .status();
            killed.push(p.name.clone());
        }
    }
    if g.json {
        print_json(&json!({"stopped": running.len(), "killed": killed}));
    } else {
        println!(
            "stopped {} processes{}",
            running.len(),
            if killed.is_empty() {
                String::new()
            } else {
                format!(" ({} needed SIGKILL: {})", killed.len(), killed.join(", "))
            }
        );
    }
    Ok(())
}

/// `engram devnet stake`: the devnet's faucet.
pub(crate) fn stake(g: &Global, dir: &Path, wallet: &str, amount: f64) -> Result<()> {
    if !(amount.is_finite() && amount > 0.0) {
        return Err(UsageError(format!("--amount must be a positive number, got {amount}")).into());
    }
    // The wallet must exist under DIR (or --wallet-dir): a mistyped DIR finds none, rather
    // than starting a registry somewhere else. The registry is created on first use.
    let wallets = g.wallet_dir.clone().unwrap_or_else(|| dir.join("wallets"));
    let key = Wallet::load(&wallets, wallet)?.key;
    let chain = Devnet::open(dir);
    let uid = chain.register(&key)?;
    chain.add_stake(&key.ss58(), amount)?;
    let total = chain.stake_of(&key.ss58())?;
    let tier = engram_core::tier::TrustTier::from_stake(total);
    if g.json {
        print_json(&json!({"hotkey": key.ss58(), "uid": uid, "stake": total, "trust_tier": tier}));
    } else {
        println!(
            "{wallet} ({}) uid {uid}: stake {total} — {tier}",
            key.ss58()
        );
    }
    Ok(())
}
