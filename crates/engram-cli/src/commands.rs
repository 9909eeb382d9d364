//! One function per command, each over the embedded engine.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use engram_core::{Cid, Metadata, cid_v1};
use engram_embed::model_dir::default_data_dir;
use engram_engine::{Engine, EngineConfig, Where};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::UsageError;
use crate::args::{CidArgs, Cli, Command, Global, IngestArgs, QueryArgs};
use crate::input::{
    parse_filters, parse_ingest_file, parse_metadata_arg, parse_vector_record, read_source,
};
use crate::output::{bytes, hit_json, print_hits, print_json, record_json};

/// Texts embedded and stored per step of a file ingest (and per progress-bar tick).
const INGEST_CHUNK: usize = 256;

pub(crate) fn run(cli: Cli) -> Result<()> {
    let g = &cli.global;
    match cli.command {
        Command::Ingest(args) => ingest(g, args),
        Command::Query(args) => query(g, args),
        Command::Get(args) => get(g, args),
        Command::Delete(args) => delete(g, args),
        Command::Embed { text } => embed(g, &text),
        Command::Cid => cid(),
        Command::Status => status(g),
    }
}

fn data_dir(g: &Global) -> PathBuf {
    g.data_dir.clone().unwrap_or_else(default_data_dir)
}

/// Opens the engine; only ingest may create a data directory that does not exist yet.
fn open(g: &Global, create: bool) -> Result<Engine> {
    let dir = data_dir(g);
    if !create && !dir.is_dir() {
        bail!(
            "no Engram data directory at {} (run ./setup.sh, ingest something first, or pass --data-dir)",
            dir.display()
        );
    }
    Ok(Engine::open(EngineConfig {
        data_dir: dir,
        model_dir: g.model_dir.clone(),
    })?)
}

fn parse_cid(s: &str) -> Result<Cid> {
    s.parse::<Cid>()
        .map_err(|e| UsageError(e.to_string()).into())
}

fn ingest(g: &Global, args: IngestArgs) -> Result<()> {
    let ns = args.namespace.as_deref();
    if let Some(path) = &args.vector {
        let item = parse_vector_record(&read_source(path)?, ns)?;
        let engine = open(g, true)?;
        return report_one(g, &engine.ingest_vectors(vec![item])?[0]);
    }
    if let Some(path) = &args.file {
        if args.metadata.is_some() {
            return Err(UsageError(
                "--metadata applies to TEXT; put metadata on each line of --file".into(),
            )
            .into());
        }
        let items = parse_ingest_file(&read_source(path)?, args.format, ns)?;
        let engine = open(g, true)?;
        engine.embedder()?; // a missing model fails before any work
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
            for out in engine.ingest_texts(chunk.to_vec())? {
                if out.stored {
                    new += 1
                } else {
                    existing += 1
                }
                cids.push(out.cid);
            }
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        index_if_needed(g, &engine)?;
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
    let engine = open(g, true)?;
    let item = engram_engine::TextItem {
        text,
        metadata,
        namespace: ns.map(str::to_string),
    };
    report_one(g, &engine.ingest_texts(vec![item])?[0])
}

fn index_if_needed(g: &Global, engine: &Engine) -> Result<()> {
    let pending = engine.store().unindexed();
    if pending > 0 && !g.json {
        eprintln!("indexing…");
    }
    engine.store().optimize()?;
    Ok(())
}

fn report_one(g: &Global, out: &engram_engine::Ingested) -> Result<()> {
    if g.json {
        print_json(&json!({"cid": out.cid, "stored": out.stored}));
    } else {
        println!(
            "{}  {}",
            out.cid,
            if out.stored {
                "stored"
            } else {
                "already stored"
            }
        );
    }
    Ok(())
}

fn query(g: &Global, args: QueryArgs) -> Result<()> {
    let scope = Where {
        namespace: args.namespace,
        filters: parse_filters(&args.filter)?,
    };
    let engine = open(g, false)?;
    let started = std::time::Instant::now();
    let hits = engine.query_text(&args.text, args.top_k, &scope)?;
    if g.json {
        let results: Vec<_> = hits.iter().map(hit_json).collect();
        print_json(
            &json!({"results": results, "latency_ms": started.elapsed().as_secs_f64() * 1000.0}),
        );
    } else {
        print_hits(&hits);
    }
    Ok(())
}

fn get(g: &Global, args: CidArgs) -> Result<()> {
    let cid = parse_cid(&args.cid)?;
    let engine = open(g, false)?;
    let Some(record) = engine.get(&cid, args.namespace.as_deref())? else {
        bail!("no memory {cid} in this store");
    };
    if g.json {
        print_json(&record_json(&record, true));
    } else {
        println!("cid:        {}", record.cid);
        println!("namespace:  {}", record.namespace);
        println!("created_ms: {}", record.created_ms);
        println!("model:      {}", record.model_version);
        println!(
            "metadata:   {}",
            serde_json::Value::Object(record.metadata.clone())
        );
        println!("text:       {}", record.text.as_deref().unwrap_or("(none)"));
    }
    Ok(())
}

fn delete(g: &Global, args: CidArgs) -> Result<()> {
    let cid = parse_cid(&args.cid)?;
    let engine = open(g, false)?;
    if !engine.delete(&cid, args.namespace.as_deref())? {
        bail!("no memory {cid} in this store");
    }
    if g.json {
        print_json(&json!({"cid": cid, "deleted": true}));
    } else {
        println!("{cid}  deleted");
    }
    Ok(())
}

fn embed(g: &Global, text: &str) -> Result<()> {
    let dir = data_dir(g);
    let model_dir = engram_embed::resolve_model_dir(g.model_dir.as_deref(), &dir);
    let embedder = engram_embed::Embedder::load(&model_dir)?;
    let v = embedder.embed(text)?;
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
        serde_json::Value::Null => Metadata::new(),
        serde_json::Value::Object(m) => m,
        _ => bail!("metadata must be a JSON object"),
    };
    println!(
        "{}",
        cid_v1(&item.embedding, &metadata, &item.model_version)
    );
    Ok(())
}

fn status(g: &Global) -> Result<()> {
    let engine = open(g, false)?;
    let s = engine.status()?;
    if g.json {
        print_json(&serde_json::to_value(&s)?);
        return Ok(());
    }
    println!("data dir:    {}", s.data_dir.display());
    match &s.model_error {
        None => println!(
            "model:       {} ({}, verified)",
            s.model_dir.display(),
            engram_embed::MODEL_NAME
        ),
        Some(e) => println!("model:       {} (unusable: {e})", s.model_dir.display()),
    }
    println!("memories:    {}", s.count);
    println!("commitment:  {} leaves", s.commitment.count);
    println!("  root v1:   {}", hex::encode(s.commitment.root_v1));
    println!("  root v2:   {}", hex::encode(s.commitment.root_v2));
    println!("unindexed:   {}", s.unindexed);
    println!("disk use:    {}", bytes(s.disk_bytes));
    Ok(())
}
