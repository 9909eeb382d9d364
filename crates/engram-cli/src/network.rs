//! Commands on a network (`--network DIR`): replicated ingest, fan-out query, verified get,
//! wallets, joining as a node, and validating.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use engram_chain::{Chain, Devnet, Wallet};
use engram_client::api::{IngestRequest, QueryRequest};
use engram_client::network::Network;
use engram_client::outgoing::{self, Outgoing};
use engram_core::Cid;
use serde_json::{Map, Value, json};

use crate::UsageError;
use crate::args::{
    CidArgs, Global, IngestArgs, QueryArgs, ServeArgs, SignArgs, ValidateArgs, WalletCommand,
};
use crate::commands::{data_dir, load_embedder};
use crate::input::{
    parse_filters, parse_ingest_file, parse_metadata_arg, parse_vector_record, read_source,
};
use crate::output::{print_hits, print_json};

/// The wallet directory: `--wallet-dir`, else `<network>/wallets`, else `<data>/wallets`.
pub(crate) fn wallet_dir(g: &Global) -> PathBuf {
    g.wallet_dir.clone().unwrap_or_else(|| match &g.network {
        Some(net) => net.join("wallets"),
        None => data_dir(g).join("wallets"),
    })
}

fn chain(dir: &Path) -> Result<Arc<dyn Chain>> {
    if !dir.join("registry.json").is_file() {
        bail!(
            "no network registry in {} (start one with `engram devnet up --dir {}`)",
            dir.display(),
            dir.display()
        );
    }
    Ok(Arc::new(Devnet::open(dir)))
}

/// The network client, signing with `--wallet` when given.
fn network(g: &Global, dir: &Path, sign: &SignArgs) -> Result<Network> {
    Ok(Network::new(chain(dir)?).with_signer(crate::commands::signer(g, sign.wallet.as_deref())?))
}

pub(crate) async fn ingest(g: &Global, dir: &Path, args: IngestArgs) -> Result<()> {
    let ns = args.namespace.as_deref();
    let recipient = args
        .encrypt
        .as_deref()
        .map(crate::keys::recipient)
        .transpose()?;
    let how = Outgoing {
        seal_to: recipient.as_ref(),
        namespace: ns,
        epsilon: args.dp_epsilon.0,
    };
    let mut requests = Vec::new();
    if let Some(path) = &args.vector {
        let item = parse_vector_record(&read_source(path)?, None)?;
        requests.push(IngestRequest {
            raw_embedding: Some(outgoing::vector_for(item.embedding, how)?),
            metadata: item.metadata,
            model_version: item.model_version,
            ..IngestRequest::default()
        });
    } else {
        let items = match (&args.file, args.text) {
            (Some(path), _) => parse_ingest_file(&read_source(path)?, args.format, None)?,
            (None, Some(text)) => vec![engram_client::NewText {
                text,
                metadata: parse_metadata_arg(args.metadata.as_deref())?,
                namespace: None,
                expires_ms: None,
            }],
            (None, None) => unreachable!("clap requires one source"),
        };
        for p in outgoing::texts(&load_embedder(g)?, &items, how)? {
            requests.push(IngestRequest {
                raw_embedding: Some(p.embedding),
                metadata: p.metadata,
                source_text: p.source_text,
                ..IngestRequest::default()
            });
        }
    }
    let network = network(g, dir, &args.sign)?;
    let mut placed = Vec::new();
    for mut req in requests {
        // Signed just before it leaves: a namespace signature is good for 60 s.
        req.auth = network.namespace_auth(ns)?;
        // Each node counts the time to live from its own clock and sweeps its copy.
        req.ttl_s = args.ttl;
        let p = network.ingest(&req).await?;
        if !g.json {
            println!(
                "{}  on {} nodes: {}",
                p.cid,
                p.holders.len(),
                p.holders.join(", ")
            );
            for (node, why) in &p.failed {
                eprintln!("  not on {node}: {why}");
            }
        }
        placed.push(json!({"cid": p.cid, "holders": p.holders, "failed": p.failed}));
    }
    if g.json {
        print_json(&json!({"ingested": placed}));
    }
    Ok(())
}

pub(crate) async fn query(g: &Global, dir: &Path, args: QueryArgs) -> Result<()> {
    let filter: Map<String, Value> = parse_filters(&args.filter)?.into_iter().collect();
    // Checked before the model loads and embeds: a bad query costs nothing.
    engram_core::validate_text(&args.text)?;
    engram_core::validate_top_k(args.top_k as i64)?;
    let vector = load_embedder(g)?.embed(&args.text)?;
    let network = network(g, dir, &args.sign)?;
    let out = network
        .query(&QueryRequest {
            query_vector: Some(vector),
            top_k: Some(args.top_k as i64),
            filter: (!filter.is_empty()).then_some(filter),
            min_trust_tier: args.min_tier,
            auth: network.namespace_auth(args.namespace.as_deref())?,
            ..QueryRequest::default()
        })
        .await?;
    let mut out = out;
    if let Some(key) = &args.decrypt {
        crate::keys::decrypt_hits(key, &mut out.results)?;
    }
    if g.json {
        print_json(&json!({"results": out.results, "answered": out.answered, "asked": out.asked}));
    } else {
        print_hits(&out.results);
        eprintln!("({} of {} nodes answered)", out.answered, out.asked);
    }
    Ok(())
}

pub(crate) async fn get(g: &Global, dir: &Path, args: CidArgs) -> Result<()> {
    let cid: Cid = args
        .cid
        .parse()
        .map_err(|e: engram_core::CoreError| UsageError(e.to_string()))?;
    let network = network(g, dir, &args.sign)?;
    let auth = network.namespace_auth(args.namespace.as_deref())?;
    let Some((record, served_by)) = network.get_in(&cid, &auth).await? else {
        bail!("no live node holds {cid} (or none returned bytes that hash to it)");
    };
    if g.json {
        let mut v = serde_json::to_value(&record)?;
        v["served_by"] = json!(served_by);
        print_json(&v);
    } else {
        println!("cid:          {}", record.cid);
        println!("served by:    {served_by} (CID recomputed from the returned bytes)");
        println!("metadata:     {}", Value::Object(record.metadata.clone()));
        if let Some(t) = &record.text {
            println!("text:         {t}");
        }
    }
    Ok(())
}

/// `engram blob get CID --network DIR`: a public file rebuilt from any `k` of its shards,
/// else read whole, checked against its CID either way.
pub(crate) async fn blob_get(g: &Global, dir: &Path, cid: &str, out: Option<&Path>) -> Result<()> {
    let cid: Cid = cid
        .parse()
        .map_err(|e: engram_core::CoreError| UsageError(e.to_string()))?;
    if !matches!(cid, Cid::Content(_)) {
        return Err(UsageError(format!(
            "{cid} is a memory CID; blobs are named sha256:<hex>"
        ))
        .into());
    }
    let network = network(g, dir, &SignArgs { wallet: None })?;
    let fetched = network.blob(&cid).await?;
    let source = match &fetched.source {
        engram_client::network::BlobSource::Shards { from, data, total } => json!({
            "shards": from.iter().map(|(h, i)| json!({"hotkey": h, "index": i})).collect::<Vec<_>>(),
            "data": data, "total": total}),
        engram_client::network::BlobSource::Whole(hotkey) => json!({"whole": hotkey}),
    };
    match out {
        Some(path) => {
            std::fs::write(path, &fetched.bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            if g.json {
                print_json(
                    &json!({"cid": cid.to_string(), "bytes": fetched.bytes.len(),
                    "content_type": fetched.content_type, "source": source, "out": path}),
                );
            } else {
                let how = match &fetched.source {
                    engram_client::network::BlobSource::Shards { from, data, total } => {
                        format!(
                            "rebuilt from {} of {total} shards (any {data} suffice)",
                            from.len()
                        )
                    }
                    engram_client::network::BlobSource::Whole(h) => format!("read whole from {h}"),
                };
                eprintln!(
                    "wrote {cid} ({} bytes, {how}) to {}",
                    fetched.bytes.len(),
                    path.display()
                );
            }
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&fetched.bytes)?;
        }
    }
    Ok(())
}

/// `engram attest NS --wallet W` on a network: every live node.
pub(crate) async fn attest(g: &Global, dir: &Path, namespace: &str, wallet: &str) -> Result<()> {
    let net = network(
        g,
        dir,
        &SignArgs {
            wallet: Some(wallet.to_string()),
        },
    )?;
    let answers = net.attest(namespace).await?;
    let ok = answers.iter().filter(|(_, r)| r.is_ok()).count();
    if g.json {
        let nodes: Vec<Value> = answers
            .iter()
            .map(|(hotkey, r)| match r {
                Ok(a) => {
                    json!({"node": hotkey, "trust_tier": a.trust_tier, "stake_tao": a.stake_tao})
                }
                Err(e) => json!({"node": hotkey, "error": e.to_string()}),
            })
            .collect();
        print_json(&json!({"namespace": namespace, "attested_on": ok, "nodes": nodes}));
    } else {
        for (hotkey, r) in &answers {
            match r {
                Ok(a) => println!("{hotkey}  {} (stake {})", a.trust_tier, a.stake_tao),
                Err(e) => println!("{hotkey}  refused: {e}"),
            }
        }
    }
    if ok == 0 {
        bail!("no live node accepted the attestation of {namespace}");
    }
    Ok(())
}

/// `engram attestation NS` on a network: every live node's view.
pub(crate) async fn attestation(g: &Global, dir: &Path, namespace: &str) -> Result<()> {
    let answers = Network::new(chain(dir)?).attestation(namespace).await?;
    let views: Vec<Value> = answers
        .iter()
        .map(|(hotkey, r)| match r {
            Ok(a) => json!({"node": hotkey, "attestation": a}),
            Err(e) => json!({"node": hotkey, "error": e.to_string()}),
        })
        .collect();
    if g.json {
        print_json(&json!({"namespace": namespace, "nodes": views}));
    } else {
        for (hotkey, r) in &answers {
            match r {
                Ok(a) if a.attested => println!(
                    "{hotkey}  {} — owner {}, stake {}",
                    a.trust_tier,
                    a.owner_hotkey.as_deref().unwrap_or_default(),
                    a.stake_tao.unwrap_or_default()
                ),
                Ok(_) => println!("{hotkey}  anonymous — not attested"),
                Err(e) => println!("{hotkey}  error: {e}"),
            }
        }
    }
    Ok(())
}

pub(crate) fn wallet(g: &Global, cmd: WalletCommand) -> Result<()> {
    let dir = wallet_dir(g);
    let show = |w: &Wallet| {
        if g.json {
            print_json(
                &json!({"name": w.name, "ss58": w.key.ss58(), "public_key_hex": hex::encode(w.key.public())}),
            );
        } else {
            println!(
                "{:<16} {}  {}",
                w.name,
                w.key.ss58(),
                hex::encode(w.key.public())
            );
        }
    };
    match cmd {
        WalletCommand::New { name } => {
            let mut entropy = [0u8; 16];
            getrandom::getrandom(&mut entropy).context("reading OS randomness")?;
            let w = Wallet::create(&dir, &name, &entropy)?;
            show(&w);
            if !g.json {
                eprintln!(
                    "saved to {} (mode 0600)",
                    dir.join(format!("{name}.json")).display()
                );
            }
        }
        WalletCommand::List => {
            let all = Wallet::list(&dir)?;
            if g.json {
                print_json(&json!(
                    all.iter()
                        .map(|w| json!({"name": w.name, "ss58": w.key.ss58()}))
                        .collect::<Vec<_>>()
                ));
            } else if all.is_empty() {
                println!("no wallets in {}", dir.display());
            } else {
                all.iter().for_each(show);
            }
        }
        WalletCommand::Show { name } => show(&Wallet::load(&dir, &name)?),
    }
    Ok(())
}

/// A validator's test-only misbehaviour from `ENGRAM_FAULT` (`favour=<hotkey>`), refused by
/// builds without fault injection.
fn validator_fault() -> Result<Option<String>> {
    let raw = std::env::var("ENGRAM_FAULT").unwrap_or_default();
    if raw.is_empty() || raw == "none" {
        return Ok(None);
    }
    if !engram_validator::FAULT_INJECTION {
        bail!("ENGRAM_FAULT={raw} needs a build with the test-only `fault-injection` feature");
    }
    match engram_validator::fault::favoured(&raw) {
        Some(hotkey) => {
            eprintln!("ENGRAM_FAULT is set: this validator favours {hotkey} on purpose");
            Ok(Some(hotkey.to_string()))
        }
        _ => Err(UsageError(format!(
            "unknown validator fault {raw:?}: use favour=<hotkey>"
        ))
        .into()),
    }
}

/// The network a key command needs.
fn key_network(g: &Global, sign: &SignArgs) -> Result<Network> {
    let Some(dir) = &g.network else {
        return Err(
            UsageError("key shares live on a network's nodes: give --network DIR".into()).into(),
        );
    };
    if sign.wallet.is_none() {
        return Err(UsageError(
            "key shares are for the namespace's owner: give --wallet NAME (its hotkey signs each share request)".into(),
        )
        .into());
    }
    network(g, dir, sign)
}

/// `engram keys split --network DIR`.
pub(crate) async fn split_key(
    g: &Global,
    key: &Path,
    namespace: &str,
    threshold: u8,
    shares: u8,
    sign: &SignArgs,
) -> Result<()> {
    let secret = crate::keys::read_key(key)?;
    let net = key_network(g, sign)?;
    let holders = net.deal_key(namespace, &secret, threshold, shares).await?;
    if g.json {
        print_json(
            &json!({"namespace": namespace, "threshold": threshold, "total": shares, "holders": holders}),
        );
    } else {
        println!("{namespace}: key split {threshold}-of-{shares}, one share on each of:");
        holders.iter().for_each(|h| println!("  {h}"));
    }
    Ok(())
}

/// `engram keys recover --network DIR`.
pub(crate) async fn recover_key(
    g: &Global,
    namespace: &str,
    out: &Path,
    sign: &SignArgs,
) -> Result<()> {
    let net = key_network(g, sign)?;
    let secret = net.recover_key(namespace).await?;
    let key = <[u8; 32]>::try_from(secret.as_slice()).map_err(|_| {
        anyhow::anyhow!(
            "the shares of {namespace} combine to {} bytes, not a 32-byte key file",
            secret.len()
        )
    })?;
    crate::keys::write_key(g, out, &key)
}

/// `engram status --live --network DIR`: the metagraph and each node's health, one table
/// (the same view a node's dashboard shows, `Network::neurons`).
pub(crate) async fn live_status(g: &Global, dir: &Path) -> Result<()> {
    let registry = dir.to_path_buf();
    let validators =
        tokio::task::spawn_blocking(move || engram_devnet::validator_views(&registry, 0)).await?;
    let net = Network::new(chain(dir)?);
    let neurons = net
        .neurons(&validators, std::time::Duration::from_secs(3))
        .await?;
    let chain = net.chain().clone();
    let epoch = tokio::task::spawn_blocking(move || chain.metagraph())
        .await??
        .last_epoch()
        .map(|e| e.number);
    let rows: Vec<Value> = neurons
        .iter()
        .map(|n| {
            let score = (!n.scores.is_empty())
                .then(|| n.scores.iter().map(|s| s.composite).sum::<f64>() / n.scores.len() as f64);
            json!({
                "uid": n.uid, "hotkey": n.hotkey, "axon": n.axon, "stake": n.stake,
                "weight": n.weight, "incentive": n.incentive, "dividends": n.dividends,
                "emission": n.emission, "score": score, "live": n.live, "vectors": n.memories,
            })
        })
        .collect();
    if g.json {
        print_json(&json!({"neurons": rows, "epoch": epoch}));
        return Ok(());
    }
    println!(
        "{:>3}  {:<16} {:<22} {:>8} {:>7} {:>9} {:>8} {:>6}  health",
        "uid", "hotkey", "axon", "stake", "weight", "incentive", "emission", "score"
    );
    let num = |v: &Value, digits: usize| {
        v.as_f64()
            .map_or_else(|| "-".to_string(), |x| format!("{x:.digits$}"))
    };
    for r in &rows {
        let hotkey = r["hotkey"].as_str().unwrap_or_default();
        let health = if r["live"] == true {
            format!(
                "✓ {}v",
                r["vectors"].as_u64().map_or("?".into(), |v| v.to_string())
            )
        } else if r["axon"].is_null() {
            "-".into()
        } else {
            "offline".into()
        };
        println!(
            "{:>3}  {:<16} {:<22} {:>8} {:>7} {:>9} {:>8} {:>6}  {health}",
            r["uid"],
            format!("{}…", hotkey.chars().take(12).collect::<String>()),
            r["axon"].as_str().unwrap_or("-"),
            num(&r["stake"], 2),
            num(&r["weight"], 3),
            num(&r["incentive"], 4),
            num(&r["emission"], 4),
            num(&r["score"], 3),
        );
    }
    match epoch {
        Some(n) => println!("epoch #{n} | {} neurons registered", rows.len()),
        None => println!("no epoch yet | {} neurons registered", rows.len()),
    }
    Ok(())
}

/// Validator rounds a node's dashboard shows.
const DASHBOARD_ROUNDS: usize = 8;

/// `serve --network DIR --wallet NAME`: the node joins after it binds; its dashboard reads
/// the validators' reports from the devnet in DIR.
pub(crate) async fn join(g: &Global, args: &ServeArgs, node: &mut engram_node::Node) -> Result<()> {
    match (&g.network, &args.wallet) {
        (None, None) => Ok(()),
        (Some(dir), Some(name)) => {
            let wallet = Wallet::load(&wallet_dir(g), name)?;
            let chain: Arc<dyn Chain> = Arc::new(Devnet::open(dir));
            let uid = node.join_network(chain, wallet.key.clone()).await?;
            let registry = dir.clone();
            node.show_validators(Arc::new(move || {
                engram_devnet::validator_views(&registry, DASHBOARD_ROUNDS)
            }));
            eprintln!(
                "joined the network in {} as uid {uid} ({})",
                dir.display(),
                wallet.key.ss58()
            );
            Ok(())
        }
        _ => Err(UsageError(
            "serve on a network needs both --network DIR and --wallet NAME".into(),
        )
        .into()),
    }
}

pub(crate) async fn validate(g: &Global, args: ValidateArgs) -> Result<()> {
    let Some(dir) = &g.network else {
        return Err(UsageError("validate needs --network DIR".into()).into());
    };
    let wallet = Wallet::load(&wallet_dir(g), &args.wallet)?;
    let state_dir = args
        .state_dir
        .unwrap_or_else(|| data_dir(g).join("validator"));
    let config = engram_validator::ValidatorConfig {
        scoring_interval: std::time::Duration::from_secs(args.scoring_interval_s.max(1)),
        challenge_interval: std::time::Duration::from_secs(args.challenge_interval_s.max(1)),
        weights_interval: std::time::Duration::from_secs(args.weights_interval_s.max(1)),
        audits_per_node: args.audits_per_node,
        favour: validator_fault()?,
        ..engram_validator::ValidatorConfig::default()
    };
    let validator =
        engram_validator::Validator::start(wallet.key, chain(dir)?, &state_dir, config).await?;
    eprintln!(
        "validating the network in {} (state in {})",
        dir.display(),
        state_dir.display()
    );
    tokio::select! {
        r = validator.run() => r?,
        _ = engram_os::shutdown_signal() => eprintln!("validator stopped"),
    }
    Ok(())
}
