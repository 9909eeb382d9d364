//! `engram devnet up|status|down|stake`: flags in, tables out; the orchestration is the
//! `engram-devnet` library.

use std::path::Path;

use anyhow::{Context, Result};
use engram_devnet::{DevnetError, Spec};
use serde_json::json;

use crate::UsageError;
use crate::args::{DevnetUpArgs, Global};
use crate::output::print_json;

/// A spec the user got wrong is a usage error (exit 2), not a failure.
fn usage(e: DevnetError) -> anyhow::Error {
    match e {
        DevnetError::Spec(_) | DevnetError::BadStake(_) | DevnetError::UnknownFaultTarget(_) => {
            UsageError(e.to_string()).into()
        }
        e => e.into(),
    }
}

pub(crate) async fn up(g: &Global, args: DevnetUpArgs) -> Result<()> {
    if !args.fault.is_empty() && !engram_node::FAULT_INJECTION {
        return Err(UsageError(
            "--fault needs a build with the test-only `fault-injection` feature (cargo build -p engram-cli --features fault-injection)".into(),
        )
        .into());
    }
    let faults = args
        .fault
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(name, fault)| (name.to_string(), fault.to_string()))
                .ok_or_else(|| UsageError(format!("--fault {f:?}: expected NAME=FAULT")))
        })
        .collect::<Result<_, _>>()?;
    let spec = Spec {
        exe: std::env::current_exe().context("locating the engram binary")?,
        // Every process gets the model this command resolves, not one under its own data dir.
        model_dir: crate::commands::model_dir(g),
        miners: args.miners,
        validators: args.validators,
        scoring_interval_s: args.scoring_interval_s,
        challenge_interval_s: args.challenge_interval_s,
        weights_interval_s: args.weights_interval_s,
        repair_interval_s: args.repair_interval_s,
        erasure: args.erasure,
        faults,
    };
    let dir = &args.dir;
    let manifest = engram_devnet::up(dir, &spec).await.map_err(usage)?;
    if g.json {
        print_json(&json!({"dir": dir, "processes": manifest.processes}));
        return Ok(());
    }
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
    Ok(())
}

pub(crate) fn status(g: &Global, dir: &Path) -> Result<()> {
    let st = engram_devnet::status(dir)?;
    let graph = &st.metagraph;
    if g.json {
        let neurons: Vec<_> = graph
            .neurons
            .iter()
            .map(|n| json!({"uid": n.uid, "name": st.name_of(&n.hotkey), "hotkey": n.hotkey, "axon": n.axon,
                "stake": n.stake, "last_update_ms": n.last_update_ms, "running": st.running(&n.hotkey)}))
            .collect();
        let scores: Vec<_> = st
            .validators
            .iter()
            .map(|(hk, s)| {
                let nodes: serde_json::Map<String, serde_json::Value> = s
                    .nodes
                    .iter()
                    .map(|(h, n)| {
                        (h.clone(), json!({"uid": n.uid, "name": st.name_of(h), "recall": n.recall, "latency_ms": n.latency_ms,
                            "proof_rate": n.proof_rate(), "composite": n.composite(),
                            "v1": n.v1, "v2": n.v2, "audits": n.audits,
                            "list_audits": n.list_audits, "shard_audits": n.shard_audits}))
                    })
                    .collect();
                json!({"validator": hk, "name": st.name_of(hk), "scoring_rounds": s.scoring_rounds,
                    "challenge_rounds": s.challenge_rounds, "weight_version": s.weight_version,
                    "probes": s.probes.len(), "nodes": nodes})
            })
            .collect();
        print_json(
            &json!({"dir": dir, "neurons": neurons, "weights": graph.weights, "validators": scores,
                "epochs": graph.epochs}),
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
            st.name_of(&n.hotkey),
            n.hotkey,
            n.axon.as_deref().unwrap_or("-"),
            n.stake,
            if st.running(&n.hotkey) { "yes" } else { "no" }
        );
    }
    for (hk, s) in &st.validators {
        println!(
            "\n{} ({}): {} scoring, {} challenge rounds, weights v{}, {} probes",
            st.name_of(hk),
            hk,
            s.scoring_rounds,
            s.challenge_rounds,
            s.weight_version,
            s.probes.len()
        );
        println!(
            "{:>3}  {:<12} {:>7} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
            "uid",
            "name",
            "recall",
            "lat ms",
            "proof",
            "v1 ok",
            "v2 ok",
            "audits",
            "lists",
            "shards",
            "composite",
            "weight"
        );
        let mut rows: Vec<_> = s.nodes.iter().collect();
        rows.sort_by_key(|(_, n)| n.uid);
        for (h, n) in rows {
            println!(
                "{:>3}  {:<12} {:>7} {:>9} {:>7.2} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9.3} {:>7.3}",
                n.uid,
                st.name_of(h),
                n.recall.map_or("-".into(), |r| format!("{r:.3}")),
                n.latency_ms.map_or("-".into(), |l| format!("{l:.1}")),
                n.proof_rate(),
                format!("{}/{}", n.v1.0, n.v1.1),
                format!("{}/{}", n.v2.0, n.v2.1),
                format!("{}/{}", n.audits.0, n.audits.1),
                format!("{}/{}", n.list_audits.0, n.list_audits.1),
                format!("{}/{}", n.shard_audits.0, n.shard_audits.1),
                n.composite(),
                st.weight(hk, n.uid)
            );
        }
    }
    print_epochs(&st);
    Ok(())
}

/// The last epochs of Yuma Consensus: per uid, incentive and emission as a miner,
/// dividends and emission as a validator, and its agreement with consensus (validator
/// trust: the share of its weight that survived clipping).
fn print_epochs(st: &engram_devnet::Status) {
    let graph = &st.metagraph;
    let Some(last) = graph.last_epoch() else {
        println!(
            "\nno epoch yet (one runs every {} s once a validator has set weights)",
            engram_chain::TEMPO_MS / 1000
        );
        return;
    };
    println!(
        "\nepochs: {} kept, last #{} distributed {}",
        graph.epochs.len(),
        last.number,
        last.emission
    );
    println!(
        "{:>3}  {:<12} {:>9} {:>9} {:>9} {:>9} {:>9}   total over the kept epochs",
        "uid", "name", "incentive", "mined", "dividends", "validated", "agreement"
    );
    let e = &last.outcome;
    for n in &graph.neurons {
        let u = usize::from(n.uid);
        let total: f64 = graph
            .epochs
            .iter()
            .filter_map(|r| r.outcome.earned(u))
            .sum();
        let at = |v: &Vec<f64>| v.get(u).copied().unwrap_or(0.0);
        println!(
            "{:>3}  {:<12} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9} {:>9.4}",
            n.uid,
            st.name_of(&n.hotkey),
            at(&e.incentive),
            at(&e.miner_emission),
            at(&e.dividends),
            at(&e.validator_emission),
            if n.stake > 0.0 {
                format!("{:.3}", at(&e.validator_trust))
            } else {
                "-".into()
            },
            total
        );
    }
}

pub(crate) async fn down(g: &Global, dir: &Path) -> Result<()> {
    let done = engram_devnet::down(dir).await?;
    if g.json {
        print_json(&json!(done));
    } else if done.killed.is_empty() {
        println!("stopped {} processes", done.stopped);
    } else {
        println!(
            "stopped {} processes ({} needed SIGKILL: {})",
            done.stopped,
            done.killed.len(),
            done.killed.join(", ")
        );
    }
    Ok(())
}

/// `engram devnet stake`: the devnet's faucet.
pub(crate) fn stake(g: &Global, dir: &Path, wallet: &str, amount: f64) -> Result<()> {
    // The wallet must exist under DIR (or --wallet-dir).
    let wallets = g.wallet_dir.clone().unwrap_or_else(|| dir.join("wallets"));
    let s = engram_devnet::stake(dir, &wallets, wallet, amount).map_err(usage)?;
    if g.json {
        print_json(&json!(s));
    } else {
        println!(
            "{wallet} ({}) uid {}: stake {} — {}",
            s.hotkey, s.uid, s.stake, s.trust_tier
        );
    }
    Ok(())
}
