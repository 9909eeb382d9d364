//! One function per command, each over [`Memory`]: the local store by default, a node with
//! `--node`.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use engram_client::{Memory, MemoryConfig, NewText};
use engram_core::{Cid, Metadata, cid_v1};
use engram_embed::model_dir::default_data_dir;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};

use crate::UsageError;
use crate::args::{
    BlobCommand, CidArgs, Cli, CloudCommand, Command, DeleteArgs, DevnetCommand, GatewayArgs,
    Global, IngestArgs, KeysCommand, QueryArgs, ServeArgs, SignArgs, SnapshotCommand,
};
use crate::input::{
    parse_filters, parse_ingest_file, parse_metadata_arg, parse_vector_record, read_source,
};
use crate::output::{self, bytes, print_hits, print_json};
use crate::{devnet, keys, network};

/// Texts embedded and stored per step of a file ingest (and per progress-bar tick).
const INGEST_CHUNK: usize = 256;

pub(crate) async fn run(cli: Cli) -> Result<()> {
    let g = &cli.global;
    if let Some(dir) = &g.network {
        match cli.command {
            Command::Ingest(args)
                if args.pdf.is_some() || args.url.is_some() || args.image.is_some() =>
            {
                return Err(UsageError(
                    "--pdf, --url and --image go to the local store or one node (--node), not yet to --network".into(),
                )
                .into());
            }
            Command::Ingest(args) => return network::ingest(g, dir, args).await,
            Command::Query(args) => return network::query(g, dir, args).await,
            Command::Get(args) => return network::get(g, dir, args).await,
            Command::Blob(BlobCommand::Get {
                cid,
                out,
                namespace: None,
                decrypt: None,
                ..
            }) => return network::blob_get(g, dir, &cid, out.as_deref()).await,
            Command::Attest { namespace, wallet } => {
                return network::attest(g, dir, &namespace, &wallet).await;
            }
            Command::Attestation { namespace } => {
                return network::attestation(g, dir, &namespace).await;
            }
            Command::Serve(_)
            | Command::Status { live: true }
            | Command::Validate(_)
            | Command::Wallet(_)
            | Command::Devnet(_)
            | Command::Keys(_)
            | Command::Cloud(_)
            | Command::Decrypt { .. } => {}
            _ => {
                return Err(UsageError(
                    "--network applies to ingest, query, get, blob get (public files), attest, attestation, serve and validate"
                        .into(),
                )
                .into());
            }
        }
    }
    match cli.command {
        Command::Ingest(args) => ingest(g, args).await,
        Command::Query(args) => query(g, args).await,
        Command::Get(args) => get(g, args).await,
        Command::List(args) => list(g, args).await,
        Command::Delete(args) => delete(g, args).await,
        Command::Embed { text } => embed(g, &text),
        Command::Cid => cid(),
        Command::Status { live: true } => match &g.network {
            Some(dir) => network::live_status(g, dir).await,
            None => {
                Err(UsageError("status --live reads a network: give --network DIR".into()).into())
            }
        },
        Command::Status { live: false } => status(g).await,
        Command::Blob(cmd) => blob(g, cmd).await,
        Command::Snapshot(cmd) => snapshot(g, cmd).await,
        Command::Dedup {
            threshold,
            namespace,
            remove,
        } => dedup(g, threshold, namespace.as_deref(), remove).await,
        Command::Serve(args) => serve(g, args).await,
        Command::Web(args) => web(g, args).await,
        Command::Wallet(cmd) => network::wallet(g, cmd),
        Command::Validate(args) => network::validate(g, args).await,
        Command::Devnet(DevnetCommand::Up(args)) => devnet::up(g, args).await,
        Command::Devnet(DevnetCommand::Status { dir }) => devnet::status(g, &dir),
        Command::Devnet(DevnetCommand::Down { dir }) => devnet::down(g, &dir).await,
        Command::Devnet(DevnetCommand::Stake {
            dir,
            wallet,
            amount,
        }) => devnet::stake(g, &dir, &wallet, amount),
        Command::Attest { namespace, wallet } => attest(g, &namespace, &wallet).await,
        Command::Attestation { namespace } => attestation(g, &namespace).await,
        Command::Keys(KeysCommand::New { out }) => keys::new_key(g, &out),
        Command::Keys(KeysCommand::Split {
            key,
            namespace,
            threshold,
            shares,
            sign,
        }) => network::split_key(g, &key, &namespace, threshold, shares, &sign).await,
        Command::Keys(KeysCommand::Recover {
            namespace,
            out,
            sign,
        }) => network::recover_key(g, &namespace, &out, &sign).await,
        Command::Decrypt { key } => keys::decrypt(&key),
        Command::Cloud(cmd) => cloud(g, cmd).await,
        Command::Export {
            namespace,
            out,
            sign,
        } => export(g, namespace.as_deref(), out.as_deref(), &sign).await,
        Command::Import {
            file,
            namespace,
            sign,
        } => import(g, &file, namespace.as_deref(), &sign).await,
    }
}

pub(crate) fn data_dir(g: &Global) -> PathBuf {
    g.data_dir.clone().unwrap_or_else(default_data_dir)
}

/// Opens the node or the local store; only ingest may create a missing data directory.
/// With a wallet, requests to the node are signed with its hotkey.
fn open(g: &Global, create: bool, sign: &SignArgs) -> Result<Memory> {
    let dir = data_dir(g);
    let node = g.node.clone().filter(|n| !n.is_empty());
    if node.is_none() && !create && !dir.is_dir() {
        bail!(
            "no Engram data directory at {} (run ./setup.sh, ingest something first, or pass --data-dir)",
            dir.display()
        );
    }
    if sign.wallet.is_some() && node.is_none() {
        return Err(UsageError(
            "--wallet signs requests to a node: pass --node URL (the local store has no owners to prove anything to)".into(),
        )
        .into());
    }
    let client = Some(client_options(g, sign.wallet.as_deref())?);
    Memory::open(MemoryConfig {
        node,
        data_dir: dir,
        model_dir: g.model_dir.clone(),
        client,
    })
    .map_err(|e| match e {
        engram_client::ClientError::InvalidUrl(_) => UsageError(e.to_string()).into(),
        other => other.into(),
    })
}

fn parse_cid(s: &str) -> Result<Cid> {
    s.parse::<Cid>()
        .map_err(|e| UsageError(e.to_string()).into())
}

async fn ingest(g: &Global, args: IngestArgs) -> Result<()> {
    if args.pdf.is_some() || args.url.is_some() || args.image.is_some() {
        if args.ttl.is_some() {
            return Err(UsageError(
                "--ttl applies to texts and vectors; documents are kept with their blob".into(),
            )
            .into());
        }
        return ingest_document(g, args).await;
    }
    let ns = args.namespace.as_deref();
    let expires_ms = args
        .ttl
        .map(|ttl| {
            engram_core::expiry_ms(
                ttl,
                engram_core::auth::private_namespace(ns).is_none(),
                engram_os::now_ms(),
            )
        })
        .transpose()?;
    if let Some(path) = &args.vector {
        let item = parse_vector_record(&read_source(path)?, ns)?;
        let memory = open(g, true, &args.sign)?;
        let how = memory.outgoing(ns, None, args.dp_epsilon.0);
        let vector = engram_client::outgoing::vector_for(item.embedding, how)?;
        let out = memory
            .ingest_vector(
                vector,
                item.metadata,
                Some(item.model_version),
                ns,
                None,
                expires_ms,
            )
            .await?;
        return report_one(g, &out);
    }
    if let Some(path) = &args.file {
        if args.metadata.is_some() {
            return Err(UsageError(
                "--metadata applies to TEXT; put metadata on each line of --file".into(),
            )
            .into());
        }
        let mut items = parse_ingest_file(&read_source(path)?, args.format, ns)?;
        for item in &mut items {
            item.expires_ms = expires_ms;
        }
        let memory = open(g, true, &args.sign)?;
        memory.check_model()?; // a missing model fails before any work
        let bar = if g.json {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(items.len() as u64)
        };
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} memories {per_sec} eta {eta}")
                .expect("valid template"),
        );
        let (mut new, mut existing, mut cids) = (0usize, 0usize, Vec::new());
        for chunk in items.chunks(INGEST_CHUNK) {
            for out in memory.ingest_texts(chunk.to_vec()).await? {
                if out.new {
                    new += 1
                } else {
                    existing += 1
                }
                cids.push(out.cid);
            }
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        if memory.build_index().await? && !g.json {
            eprintln!("built the search index for the new memories");
        }
        if g.json {
            print_json(
                &json!({"ingested": cids.len(), "new": new, "existing": existing, "cids": cids}),
            );
        } else {
            println!(
                "ingested {} memories: {new} new, {existing} already stored",
                cids.len()
            );
        }
        return Ok(());
    }
    let text = args.text.expect("clap requires one source");
    let metadata = parse_metadata_arg(args.metadata.as_deref())?;
    if let Some(key_file) = &args.encrypt {
        let recipient = keys::recipient(key_file)?;
        let memory = open(g, true, &args.sign)?;
        let how = memory.outgoing(ns, Some(&recipient), args.dp_epsilon.0);
        let item = NewText {
            text,
            metadata,
            namespace: None,
            expires_ms: None,
        };
        let prepared = engram_client::outgoing::texts(&load_embedder(g)?, &[item], how)?;
        let [p] = <[_; 1]>::try_from(prepared).expect("one prepared memory per text");
        let out = memory
            .ingest_vector(p.embedding, p.metadata, None, ns, None, expires_ms)
            .await?;
        return report_one(g, &out);
    }
    let memory = open(g, true, &args.sign)?;
    let out = memory
        .ingest_texts(vec![NewText {
            text,
            metadata,
            namespace: ns.map(str::to_string),
            expires_ms,
        }])
        .await?;
    report_one(g, &out[0])
}

/// Reads a file for a document ingest, refusing one over `max_bytes` before reading it.
fn read_document_file(path: &std::path::Path, max_bytes: usize) -> Result<(Vec<u8>, String)> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    engram_media::Limits {
        max_bytes,
        ..Default::default()
    }
    .check_size("file", usize::try_from(len).unwrap_or(usize::MAX))?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok((bytes, name))
}

async fn ingest_document(g: &Global, args: IngestArgs) -> Result<()> {
    use engram_client::media::{Archiver, DocumentSource, MediaOptions, Seal};
    let mut opts = MediaOptions::from_env(true);
    if let Some(max) = args.max_bytes {
        opts.limits.max_bytes = max;
    }
    let max = opts.limits.max_bytes;
    let source = if let Some(path) = &args.pdf {
        let (bytes, filename) = read_document_file(path, max)?;
        DocumentSource::Pdf { bytes, filename }
    } else if let Some(path) = &args.image {
        let (bytes, filename) = read_document_file(path, max)?;
        DocumentSource::Image {
            bytes,
            filename,
            description: args.description.clone(),
        }
    } else {
        DocumentSource::Url(args.url.clone().expect("one document source"))
    };
    let metadata = parse_metadata_arg(args.metadata.as_deref())?;
    let memory = open(g, true, &args.sign)?;
    // A node reads and archives with its own configuration.
    let archiver = if memory.is_remote() {
        None
    } else {
        memory.check_model()?;
        Archiver::from_env()?
    };
    let seal = match &args.encrypt {
        Some(key_file) => Some(Seal {
            recipient: keys::recipient(key_file)?,
            epsilon: args.dp_epsilon.0,
            embedder: std::sync::Arc::new(load_embedder(g)?),
        }),
        None => None,
    };
    let out = memory
        .ingest_document(
            source,
            metadata,
            args.namespace.as_deref(),
            &opts,
            archiver.as_ref(),
            seal.as_ref(),
        )
        .await?;
    memory.build_index().await?;
    if g.json {
        print_json(&serde_json::to_value(&out)?);
        return Ok(());
    }
    let content_cid = out.content_cid.as_deref().unwrap_or("?");
    println!(
        "stored {} memories from {} page(s){}",
        out.cids.len(),
        out.pages,
        out.title
            .as_deref()
            .map(|t| format!(" of {t:?}"))
            .unwrap_or_default()
    );
    println!("content CID: {content_cid}");
    match (out.arweave.as_str(), &out.arweave_tx_id) {
        ("uploaded", Some(tx)) => println!(
            "arweave:     {tx} ({})",
            out.arweave_url.as_deref().unwrap_or_default()
        ),
        ("pending", _) => {
            println!("arweave:     pending (the upload failed; `engram blob push` retries)")
        }
        _ => println!("arweave:     off (no ARWEAVE_KEY; the file stays in the local blob store)"),
    }
    for cid in &out.cids {
        println!("{cid}");
    }
    Ok(())
}

async fn cloud(g: &Global, cmd: CloudCommand) -> Result<()> {
    use engram_cloud::sdl::Sdl;
    use engram_cloud::tiers::Tier;
    match cmd {
        CloudCommand::Tiers => {
            let specs: Vec<_> = Tier::ALL.into_iter().map(Tier::spec).collect();
            if g.json {
                print_json(&serde_json::to_value(&specs)?);
            } else {
                println!("tier      vCPU  memory  storage  USDC/hour");
                for s in specs {
                    println!(
                        "{:<9} {:>4}  {:>4} GiB  {:>4} GiB  {:>9.2}",
                        s.tier.name(),
                        f64::from(s.cpu_millis) / 1000.0,
                        s.memory_mib / 1024,
                        s.storage_gib,
                        s.usdc_micros_per_hour as f64 / 1e6
                    );
                }
            }
            Ok(())
        }
        CloudCommand::Sdl {
            tier,
            hotkey,
            image,
            session,
            env,
            out,
        } => {
            let usage = |e: engram_cloud::CloudError| UsageError(e.to_string());
            let mut sdl = Sdl::new(tier, &hotkey).map_err(usage)?;
            if let Some(image) = &image {
                sdl = sdl.image(image).map_err(usage)?;
            }
            if let Some(id) = &session {
                sdl = sdl.session(id);
            }
            for pair in &env {
                let (name, value) = pair
                    .split_once('=')
                    .ok_or_else(|| UsageError(format!("--env {pair:?}: expected NAME=VALUE")))?;
                sdl = sdl.env(name, value).map_err(usage)?;
            }
            let yaml = sdl.to_yaml();
            match out {
                Some(path) => std::fs::write(&path, yaml)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{yaml}"),
            }
            Ok(())
        }
        CloudCommand::Gateway(args) => gateway(g, *args).await,
    }
}

async fn export(
    g: &Global,
    namespace: Option<&str>,
    out: Option<&Path>,
    sign: &SignArgs,
) -> Result<()> {
    let memory = open(g, false, sign)?;
    let memories = memory.export(namespace).await?;
    let mut text = String::new();
    for m in &memories {
        text.push_str(&engram_client::exchange::line(m));
        text.push('\n');
    }
    match out {
        Some(path) => {
            use std::io::Write as _;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .with_context(|| {
                    format!(
                        "cannot create {} (an existing file is never overwritten)",
                        path.display()
                    )
                })?;
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("exported {} memories to {}", memories.len(), path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

async fn import(g: &Global, file: &Path, namespace: Option<&str>, sign: &SignArgs) -> Result<()> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let memories = engram_client::exchange::parse(&text)?;
    let memory = open(g, true, sign)?;
    let done = memory.import(memories, namespace).await?;
    if g.json {
        print_json(&serde_json::to_value(done)?);
    } else {
        println!(
            "imported {} memories ({} new, {} already stored)",
            done.stored + done.present,
            done.stored,
            done.present
        );
    }
    Ok(())
}

async fn gateway(g: &Global, args: GatewayArgs) -> Result<()> {
    use engram_gateway::{Gateway, Settings};
    let file = match &args.config {
        Some(path) => Settings::read(path)?,
        None => Settings::default(),
    };
    let flags = Settings {
        listen: args.listen,
        rpc: args.rpc,
        chain_id: args.chain_id,
        token: args.token,
        token_name: args.token_name,
        token_version: args.token_version,
        pay_to: args.pay_to,
        key_file: args.key_file,
        key: std::env::var("ENGRAM_GATEWAY_KEY").ok(),
        state_dir: args.state_dir,
        max_timeout_s: args.max_timeout_s,
        public_url: args.public_url,
        settle_wait_s: args.settle_wait_s,
    };
    let mut config = file
        .over(flags)
        .config(data_dir(g).join("gateway"))
        .map_err(|e| -> anyhow::Error {
            use engram_gateway::GatewayError as E;
            match e {
                // What was given is wrong: a usage error (exit 2).
                E::Missing(_) | E::OutOfRange { .. } | E::TwoKeys | E::Cloud(_) => {
                    UsageError(e.to_string()).into()
                }
                other => other.into(),
            }
        })?;
    config.network = g.network.clone();
    let provisioner: std::sync::Arc<dyn engram_gateway::provision::Provisioner> = match args
        .provisioner
    {
        crate::args::Provisioner::Local => {
            std::sync::Arc::new(engram_gateway::provision::Local::new(
                std::env::current_exe().context("locating the engram binary for miners")?,
                config.state_dir.join("miners"),
                g.network.clone(),
                Some(model_dir(g)),
            ))
        }
        crate::args::Provisioner::Akash => {
            let key = std::env::var("ENGRAM_GATEWAY_AKASH_KEY").map_err(|_| {
                UsageError(
                    "--provisioner akash needs ENGRAM_GATEWAY_AKASH_KEY (a Console API key)".into(),
                )
            })?;
            std::sync::Arc::new(engram_gateway::akash::Akash::new(
                args.akash_api
                    .as_deref()
                    .unwrap_or(engram_gateway::akash::DEFAULT_API),
                key,
                args.image.clone(),
            ))
        }
    };
    let gateway = Gateway::bind(config, provisioner).await?;
    eprintln!(
        "engram gateway listening on http://{}",
        gateway.local_addr()
    );
    gateway.run_until_signal().await?;
    Ok(())
}

async fn blob(g: &Global, cmd: BlobCommand) -> Result<()> {
    match cmd {
        BlobCommand::Get {
            cid,
            out,
            namespace,
            decrypt,
            sign,
        } => {
            let cid = parse_cid(&cid)?;
            let memory = open(g, false, &sign)?;
            let mut bytes = memory.blob(&cid, namespace.as_deref()).await?;
            if let Some(key_file) = &decrypt {
                bytes = engram_core::crypto::decrypt_raw(&keys::read_key(key_file)?, &bytes)
                    .with_context(|| format!("cannot open {cid} with {}", key_file.display()))?;
            }
            match out {
                Some(path) => {
                    std::fs::write(&path, &bytes)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    if !g.json {
                        eprintln!(
                            "wrote {} ({}) to {}",
                            cid,
                            output::bytes(bytes.len() as u64),
                            path.display()
                        );
                    }
                }
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&bytes)?;
                }
            }
            Ok(())
        }
        BlobCommand::Info { cid } => {
            let cid = parse_cid(&cid)?;
            let memory = open(g, false, &SignArgs { wallet: None })?;
            let Memory::Embedded(engine) = &memory else {
                return Err(UsageError(
                    "blob info reads the local store; for a node use GET /blob/{cid}/info".into(),
                )
                .into());
            };
            let info =
                engine.store().blobs().info(&cid)?.with_context(|| {
                    format!("no blob {cid} is stored in {}", data_dir(g).display())
                })?;
            let mut out = serde_json::to_value(&info)?;
            // An uploaded blob: ask its gateway whether the transaction is confirmed yet.
            if let engram_store::Archive::Uploaded { tx_id, url } = &info.archive {
                let gateway = url.strip_suffix(&format!("/{tx_id}")).unwrap_or(url);
                let status = match (engram_arweave::Client::new(gateway), tx_id.parse()) {
                    (Ok(client), Ok(id)) => match client.status(&id).await {
                        Ok(s) => json!(format!("{s:?}")),
                        Err(e) => json!(format!("unknown: {e}")),
                    },
                    _ => json!("unknown: unreadable transaction or gateway"),
                };
                out["archive"]["confirmation"] = status;
            }
            print_json(&out);
            Ok(())
        }
        BlobCommand::Push => {
            let memory = open(g, false, &SignArgs { wallet: None })?;
            let Memory::Embedded(engine) = &memory else {
                return Err(UsageError(
                    "a node retries its own uploads; blob push is for the local store".into(),
                )
                .into());
            };
            let archiver = engram_client::media::Archiver::from_env()?
                .context("no Arweave wallet: set ARWEAVE_KEY (JWK JSON) or ARWEAVE_KEY_FILE")?;
            let (done, left) = archiver.retry_pending(engine, None).await;
            if g.json {
                print_json(&json!({"uploaded": done, "pending": left}));
            } else {
                println!("uploaded {done}; still pending {left}");
            }
            if left > 0 {
                bail!("{left} upload(s) still pending (see `engram status`)");
            }
            Ok(())
        }
    }
}

fn report_one(g: &Global, out: &engram_client::Stored) -> Result<()> {
    if g.json {
        print_json(&json!({"cid": out.cid, "stored": out.new}));
    } else {
        println!(
            "{}  {}",
            out.cid,
            if out.new { "stored" } else { "already stored" }
        );
    }
    Ok(())
}

async fn query(g: &Global, args: QueryArgs) -> Result<()> {
    let filter: Map<String, Value> = parse_filters(&args.filter)?.into_iter().collect();
    let memory = open(g, false, &args.sign)?;
    let started = std::time::Instant::now();
    if let Some(w) = args.keyword_weight {
        engram_core::search::validate_keyword_weight(w)?;
    }
    let (text, vector) = match &args.decrypt {
        Some(_) if args.mode.needs_text() => {
            return Err(UsageError(format!(
                "--mode {} sends the query's words to be matched; --decrypt keeps the query on this machine: use one or the other",
                args.mode
            ))
            .into());
        }
        Some(_) => {
            // Checked before the model loads: a bad query costs no embedding.
            engram_core::validate_text(&args.text)?;
            engram_core::validate_top_k(args.top_k as i64)?;
            (None, Some(embed_locally(g, &args.text)?))
        }
        None => (Some(args.text), None),
    };
    let mut hits = memory
        .query(
            text,
            vector,
            args.top_k,
            args.namespace.as_deref(),
            filter,
            engram_client::Retrieval {
                mode: args.mode,
                keyword_weight: args.keyword_weight,
                min_tier: args.min_tier,
            },
        )
        .await?;
    if let Some(key_file) = &args.decrypt {
        keys::decrypt_hits(key_file, &mut hits)?;
    }
    if g.json {
        print_json(
            &json!({"results": hits, "latency_ms": started.elapsed().as_secs_f64() * 1000.0}),
        );
    } else {
        print_hits(&hits);
    }
    Ok(())
}

/// `engram dedup`: near-duplicates of a namespace, reported and (private ones) removed.
async fn dedup(g: &Global, threshold: f32, ns: Option<&str>, remove: bool) -> Result<()> {
    if remove && engram_core::auth::private_namespace(ns).is_none() {
        return Err(UsageError(
            "public memories are permanent: --remove works in a private --namespace".into(),
        )
        .into());
    }
    let memory = open(g, false, &SignArgs { wallet: None })?;
    let Memory::Embedded(engine) = &memory else {
        return Err(UsageError("dedup reads the local store; drop --node".into()).into());
    };
    let (engine, owned) = (engine.clone(), ns.map(str::to_string));
    let (found, root) = tokio::task::spawn_blocking(move || {
        let ns = owned.as_deref();
        let found = engine.duplicates(ns, threshold)?;
        if remove {
            let copies: Vec<_> = found.iter().map(|d| d.duplicate).collect();
            engine.delete_many(&copies, ns)?;
        }
        Ok::<_, engram_engine::EngineError>((found, engine.store().commitment()))
    })
    .await??;
    if g.json {
        let mut out = json!({"duplicates": found, "removed": if remove { found.len() } else { 0 }});
        if remove {
            out["commitment"] = serde_json::to_value(root)?;
        }
        print_json(&out);
        return Ok(());
    }
    for d in &found {
        println!(
            "{}  duplicates  {}  (cosine {:.4})",
            d.duplicate, d.kept, d.score
        );
    }
    println!(
        "{} near-duplicate{} at cosine >= {threshold}{}",
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        if remove { ", removed" } else { "" }
    );
    if remove {
        println!(
            "commitment  v1 {}  v2 {}",
            hex::encode(root.root_v1),
            hex::encode(root.root_v2)
        );
    }
    Ok(())
}

/// `engram snapshot create|list|restore`.
async fn snapshot(g: &Global, cmd: SnapshotCommand) -> Result<()> {
    let show = |m: &engram_store::snapshot::Manifest, path: &Path| {
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        json!({"path": path, "created_ms": m.created_ms, "count": m.count,
               "root_v1": m.root_v1, "root_v2": m.root_v2, "files": m.files.len(), "bytes": bytes})
    };
    match cmd {
        SnapshotCommand::Create { out } => {
            if g.node.as_deref().is_some_and(|n| !n.is_empty()) {
                if out.is_some() {
                    return Err(UsageError(
                        "a node writes its snapshot into its own data directory: drop --out".into(),
                    )
                    .into());
                }
                let memory = open(g, false, &SignArgs { wallet: None })?;
                let Memory::Remote(client) = &memory else {
                    unreachable!("--node opens a client")
                };
                let answer = client.snapshot().await?;
                print_json(&serde_json::to_value(&answer)?);
                return Ok(());
            }
            let memory = open(g, false, &SignArgs { wallet: None })?;
            let Memory::Embedded(engine) = &memory else {
                unreachable!("without --node the store is local")
            };
            let out = match out {
                Some(out) => out,
                None => {
                    let dir = data_dir(g).join("snapshots");
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                    dir.join(format!("{}.tar.gz", engram_os::now_ms()))
                }
            };
            if out.exists() {
                bail!("{} exists: snapshots are never overwritten", out.display());
            }
            let engine = engine.clone();
            let target = out.clone();
            let manifest =
                tokio::task::spawn_blocking(move || engine.store().snapshot(&target)).await??;
            let shown = show(&manifest, &out);
            if g.json {
                print_json(&shown);
            } else {
                println!(
                    "snapshot {}: {} memories, {} files, {} bytes\ncommitment  v1 {}  v2 {}",
                    out.display(),
                    manifest.count,
                    manifest.files.len(),
                    shown["bytes"],
                    manifest.root_v1,
                    manifest.root_v2
                );
            }
            Ok(())
        }
        SnapshotCommand::List { dir } => {
            let dir = dir.unwrap_or_else(|| data_dir(g).join("snapshots"));
            let mut rows = Vec::new();
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    let path = e.path();
                    if !path.to_string_lossy().ends_with(".tar.gz") {
                        continue;
                    }
                    match engram_store::snapshot::read_manifest(&path) {
                        Ok(m) => rows.push(show(&m, &path)),
                        Err(err) => rows.push(json!({"path": path, "error": err.to_string()})),
                    }
                }
            }
            rows.sort_by_key(|r| std::cmp::Reverse(r["created_ms"].as_u64().unwrap_or(0)));
            if g.json {
                print_json(&json!({"dir": dir, "snapshots": rows}));
            } else if rows.is_empty() {
                println!("no snapshots in {}", dir.display());
            } else {
                for r in &rows {
                    match r.get("error") {
                        Some(err) => println!("{}  unreadable: {err}", r["path"]),
                        None => println!(
                            "{}  {} memories  v2 {}  {} bytes",
                            r["path"].as_str().unwrap_or_default(),
                            r["count"],
                            r["root_v2"].as_str().unwrap_or_default(),
                            r["bytes"]
                        ),
                    }
                }
            }
            Ok(())
        }
        SnapshotCommand::Restore { file, to } => {
            let (f, t) = (file.clone(), to.clone());
            let manifest =
                tokio::task::spawn_blocking(move || engram_store::snapshot::restore(&f, &t))
                    .await??;
            if g.json {
                print_json(&show(&manifest, &file));
            } else {
                println!(
                    "restored {} memories into {}: every file and the commitment checked\ncommitment  v1 {}  v2 {}",
                    manifest.count,
                    to.display(),
                    manifest.root_v1,
                    manifest.root_v2
                );
            }
            Ok(())
        }
    }
}

async fn get(g: &Global, args: CidArgs) -> Result<()> {
    let cid = parse_cid(&args.cid)?;
    let memory = open(g, false, &args.sign)?;
    let ns = args.namespace.as_deref();
    let record = memory
        .get(&cid, ns)
        .await?
        .map(|r| serde_json::to_value(r).expect("record serializes"));
    let Some(record) = record else {
        bail!(
            "no memory {cid} in {}",
            g.node.as_deref().unwrap_or("this store")
        );
    };
    if g.json {
        print_json(&record);
    } else {
        for key in [
            "cid",
            "namespace",
            "created_ms",
            "model_version",
            "metadata",
            "text",
        ] {
            println!(
                "{:<14}{}",
                format!("{key}:"),
                record.get(key).map_or_else(String::new, |v| v
                    .as_str()
                    .map_or_else(|| v.to_string(), str::to_string))
            );
        }
    }
    Ok(())
}

async fn list(g: &Global, args: crate::args::ListArgs) -> Result<()> {
    let filter: serde_json::Map<String, serde_json::Value> =
        crate::input::parse_filters(&args.filter)?
            .into_iter()
            .collect();
    let memory = open(g, false, &args.sign)?;
    let records = memory
        .list(filter, args.limit, args.offset, args.namespace.as_deref())
        .await?;
    if g.json {
        print_json(
            &json!({"records": records, "count": records.len(), "offset": args.offset, "limit": args.limit}),
        );
    } else if records.is_empty() {
        println!("no memories (offset {})", args.offset);
    } else {
        for r in &records {
            let text = r.text.as_deref().unwrap_or("");
            let preview: String = text.chars().take(80).collect();
            println!(
                "{}  {}  {}",
                r.cid,
                serde_json::Value::Object(r.metadata.clone()),
                preview
            );
        }
    }
    Ok(())
}

async fn delete(g: &Global, args: DeleteArgs) -> Result<()> {
    let cids = args
        .cids
        .iter()
        .map(|c| parse_cid(c))
        .collect::<Result<Vec<_>>>()?;
    let document = match cids.as_slice() {
        [blob @ Cid::Content(_)] => Some(*blob),
        many if many.iter().any(|c| matches!(c, Cid::Content(_))) => {
            return Err(UsageError(
                "a document's file CID (sha256:…) is deleted on its own: name it alone".into(),
            )
            .into());
        }
        _ => None,
    };
    if args.decrypt.is_some() && document.is_none() {
        return Err(UsageError(
            "--decrypt finds a document's sealed chunks: name the document's sha256: CID".into(),
        )
        .into());
    }
    let memory = open(g, false, &args.sign)?;
    let ns = args.namespace.as_deref();
    let gone = match document {
        Some(blob) => {
            let key = args.decrypt.as_deref().map(keys::read_key).transpose()?;
            memory.delete_document(&blob, ns, key.as_ref()).await?
        }
        None => memory.delete_many(&cids, ns).await?,
    };
    let place = g.node.as_deref().unwrap_or("this store");
    if gone.deleted.is_empty() && gone.blobs.is_empty() {
        match document {
            Some(blob) => bail!("no document {blob} in {place}"),
            None if cids.len() == 1 => bail!("no memory {} in {place}", cids[0]),
            None => bail!("none of the {} memories is in {place}", cids.len()),
        }
    }
    // What changed, checkably: the commitment no longer holds the memories.
    let c = &gone.commitment;
    if g.json {
        print_json(&json!({
            "deleted": gone.deleted,
            "blobs": gone.blobs,
            "root_v1": c.root_hex,
            "root_v2": c.root_v2_hex,
        }));
    } else {
        for cid in gone.deleted.iter().chain(&gone.blobs) {
            println!("{cid}  deleted");
        }
        println!("commitment  v1 {}  v2 {}", c.root_hex, c.root_v2_hex);
    }
    Ok(())
}

/// A client of `--node`, signing with `wallet` when given.
fn node_client(g: &Global, wallet: Option<&str>) -> Result<engram_client::Client> {
    let Some(url) = g.node.as_deref().filter(|n| !n.is_empty()) else {
        return Err(UsageError("this command talks to a node: pass --node URL".into()).into());
    };
    engram_client::Client::with_options(url, client_options(g, wallet)?)
        .map_err(|e| UsageError(e.to_string()).into())
}

/// Client options signing with `wallet`'s hotkey, when given.
fn client_options(g: &Global, wallet: Option<&str>) -> Result<engram_client::ClientOptions> {
    Ok(engram_client::ClientOptions {
        signer: signer(g, wallet)?,
        ..Default::default()
    })
}

/// `wallet`'s hotkey (from the wallet directory), when given.
pub(crate) fn signer(
    g: &Global,
    wallet: Option<&str>,
) -> Result<Option<std::sync::Arc<dyn engram_core::keys::Signer>>> {
    Ok(match wallet {
        Some(name) => Some(std::sync::Arc::new(
            engram_chain::Wallet::load(&network::wallet_dir(g), name)?.key,
        )),
        None => None,
    })
}

async fn attest(g: &Global, namespace: &str, wallet: &str) -> Result<()> {
    let a = node_client(g, Some(wallet))?.attest(namespace).await?;
    if g.json {
        print_json(&serde_json::to_value(&a)?);
    } else {
        println!(
            "{namespace}  attested: {} (stake {})",
            a.trust_tier, a.stake_tao
        );
    }
    Ok(())
}

async fn attestation(g: &Global, namespace: &str) -> Result<()> {
    let a = node_client(g, None)?.attestation(namespace).await?;
    if g.json {
        print_json(&serde_json::to_value(&a)?);
    } else if a.attested {
        println!(
            "{namespace}  {} — owner {}, stake {}",
            a.trust_tier,
            a.owner_hotkey.unwrap_or_default(),
            a.stake_tao.unwrap_or_default()
        );
    } else {
        println!("{namespace}  anonymous — not attested");
    }
    Ok(())
}

/// The model directory: `--model-dir`, `ENGRAM_MODEL_DIR`, else the user's model location.
pub(crate) fn model_dir(g: &Global) -> PathBuf {
    engram_embed::resolve_model_dir(g.model_dir.as_deref())
}

/// The embedder, loaded and verified on this machine.
pub(crate) fn load_embedder(g: &Global) -> Result<engram_embed::Embedder> {
    Ok(engram_embed::Embedder::load(&model_dir(g))?)
}

/// Embeds on this machine, whatever backend stores the result.
fn embed_locally(g: &Global, text: &str) -> Result<Vec<f32>> {
    Ok(load_embedder(g)?.embed(text)?)
}

fn embed(g: &Global, text: &str) -> Result<()> {
    let v = embed_locally(g, text)?;
    if g.json {
        print_json(&json!({"embedding": v, "dim": v.len(), "model": engram_embed::MODEL_NAME}));
    } else {
        println!("{}", serde_json::to_string(&v)?);
    }
    Ok(())
}

fn cid() -> Result<()> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading stdin")?;
    let item = parse_vector_record(&input, None)?;
    let metadata: Metadata = match item.metadata {
        Value::Null => Metadata::new(),
        Value::Object(m) => m,
        _ => bail!("metadata must be a JSON object"),
    };
    println!(
        "{}",
        cid_v1(&item.embedding, &metadata, &item.model_version)
    );
    Ok(())
}

async fn status(g: &Global) -> Result<()> {
    let memory = open(g, false, &SignArgs { wallet: None })?;
    let status = memory.status().await?;
    let Some(s) = status.local else {
        let s = status;
        if g.json {
            print_json(&serde_json::to_value(&s)?);
        } else {
            println!(
                "node:        {}\nmemories:    {}\n  root v1:   {}\n  root v2:   {}\nblobs:       {} ({} pending Arweave uploads)",
                s.location, s.count, s.root_hex, s.root_v2_hex, s.blobs, s.pending_uploads
            );
        }
        return Ok(());
    };
    if g.json {
        print_json(&serde_json::to_value(&s)?);
        return Ok(());
    }
    println!("data dir:    {}", s.data_dir.display());
    match &s.model_error {
        None => println!(
            "model:       {} ({}, verified; {} kernels)",
            s.model_dir.display(),
            engram_embed::MODEL_NAME,
            s.kernels.as_deref().unwrap_or("?")
        ),
        Some(e) => println!("model:       {} (unusable: {e})", s.model_dir.display()),
    }
    println!("memories:    {}", s.count);
    println!("commitment:  {} leaves", s.commitment.count);
    println!("  root v1:   {}", hex::encode(s.commitment.root_v1));
    println!("  root v2:   {}", hex::encode(s.commitment.root_v2));
    println!("unindexed:   {}", s.unindexed);
    println!(
        "blobs:       {} ({} pending Arweave upload{})",
        s.blobs,
        s.pending_uploads,
        if s.pending_uploads == 1 { "" } else { "s" }
    );
    println!("disk use:    {}", bytes(s.disk_bytes));
    Ok(())
}

/// The node's configuration for this command line: the file, then the global flags.
fn node_config(g: &Global, file: Option<&Path>) -> Result<engram_node::NodeConfig> {
    let mut config = engram_node::NodeConfig::load(file)?;
    if let Some(dir) = &g.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(dir) = &g.model_dir {
        config.model_dir = Some(dir.clone());
    }
    Ok(config)
}

/// `engram web`: a node on loopback over the embedded store, for its one user.
async fn web(g: &Global, args: crate::args::WebArgs) -> Result<()> {
    if !args.listen.ip().is_loopback() {
        return Err(UsageError(format!(
            "engram web listens on loopback only (it is your store, unauthenticated); got {}: to serve others run engram serve --listen {}",
            args.listen, args.listen
        ))
        .into());
    }
    let mut config = node_config(g, None)?;
    config.listen = args.listen;
    let dir = config.data_dir.clone();
    let node = engram_node::Node::bind(config).await?;
    eprintln!(
        "Engram web app on {}: http://{}/  (Ctrl-C to stop)",
        dir.display(),
        node.local_addr()
    );
    node.run_until_signal().await?;
    Ok(())
}

async fn serve(g: &Global, args: ServeArgs) -> Result<()> {
    let mut config = node_config(g, args.config.as_deref())?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(n) = args.ingest_rate_per_minute {
        config.ingest_rate_per_minute = n;
    }
    if let Some(n) = args.max_body_bytes {
        config.max_body_bytes = n;
    }
    if let Some(n) = args.embed_queue {
        config.embed_queue = n;
    }
    let mut node = engram_node::Node::bind(config).await?;
    eprintln!("engram node listening on http://{}", node.local_addr());
    if let Some(path) = &args.addr_file {
        engram_os::write_atomic(path, node.local_addr().to_string().as_bytes())
            .with_context(|| format!("writing the address to {}", path.display()))?;
    }
    network::join(g, &args, &mut node).await?;
    node.run_until_signal().await?;
    Ok(())
}
