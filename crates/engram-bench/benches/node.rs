//! Node load benchmark: ingest (text, raw vector) and query (text, vector) over HTTP on
//! 127.0.0.1 at concurrency 1, 8 and 64, on a node holding 100k vectors (HNSW-indexed).
//! Baseline in the same run: the same work done in-process (embedder batch throughput for
//! text, direct store search for vectors), so the ratio shows what the HTTP layer costs.
//! The vector cells at concurrency 8 run a second time with every request signed (sr25519
//! over the Python-exact body hash, checked by the node with its replay cache), right
//! after their unsigned twin: what signed requests cost.
//!
//! With `ENGRAM_BENCH_WRK=1` the query cells are driven by `wrk` (an external load
//! generator, Debian's package; one thread, 8 connections) instead of the in-process
//! client, so the generator does not share the node's tokio runtime: query by the vector of
//! a real sentence (64 rotating bodies), query by text over 64 repeating texts (what
//! the query-embedding cache is for; its hit count is printed), query by distinct texts
//! (every one embedded) and ingest of distinct texts. After each cell that embeds, the
//! node's own `/metrics` histograms say where a text's time went: batches and their size,
//! the wait for a batch, the batch itself, and the request as the node saw it.
//!
//! `cargo bench --bench node` (needs the model from ./setup.sh). `ENGRAM_BENCH_N` (stored
//! vectors, default 100000), `ENGRAM_BENCH_SECS` (per cell, 5). Prints the CPU model.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use engram_bench::{Rng, cpu_model, embedder, percentile_ms, sentences, time};
use engram_client::Client;
use engram_client::api::{IngestRequest, QueryRequest};
use engram_embed::resolve_model_dir;
use engram_store::{PUBLIC_NAMESPACE, Record, SearchQuery, Store};

#[derive(Clone, Copy, Debug)]
enum Op {
    IngestText,
    IngestVector,
    QueryText,
    QueryVector,
}

fn unit(rng: &mut Rng, base: &[Vec<f32>]) -> Vec<f32> {
    let e = &base[rng.below(base.len())];
    let mut v: Vec<f32> = e.iter().map(|x| x + 0.05 * rng.normal() / 20.0).collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

async fn cell(
    client: &Client,
    op: Op,
    concurrency: usize,
    secs: u64,
    texts: Arc<Vec<String>>,
    base: Arc<Vec<Vec<f32>>>,
) -> (f64, f64, f64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    for worker in 0..concurrency {
        let (client, counter, texts, base) =
            (client.clone(), counter.clone(), texts.clone(), base.clone());
        tasks.spawn(async move {
            let mut rng = Rng::new(worker as u64 * 7919 + 1);
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let text = &texts[(n as usize) % texts.len()];
                let t0 = Instant::now();
                match op {
                    Op::IngestText => {
                        let req = IngestRequest {
                            text: Some(format!("{text} (#{n})")),
                            ..Default::default()
                        };
                        client.ingest(&req).await.unwrap();
                    }
                    Op::IngestVector => {
                        let req = IngestRequest {
                            raw_embedding: Some(unit(&mut rng, &base)),
                            ..Default::default()
                        };
                        client.ingest(&req).await.unwrap();
                    }
                    Op::QueryText => {
                        let req = QueryRequest {
                            query_text: Some(text.clone()),
                            top_k: Some(10),
                            ..Default::default()
                        };
                        client.query(&req).await.unwrap();
                    }
                    Op::QueryVector => {
                        let req = QueryRequest {
                            query_vector: Some(unit(&mut rng, &base)),
                            top_k: Some(10),
                            ..Default::default()
                        };
                        client.query(&req).await.unwrap();
                    }
                }
                lat.push(t0.elapsed());
            }
            lat
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        all.extend(r.unwrap());
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    (
        rate,
        percentile_ms(&mut all, 50.0),
        percentile_ms(&mut all, 99.0),
    )
}

fn main() {
    let n: usize = std::env::var("ENGRAM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let secs: u64 = std::env::var("ENGRAM_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let texts = sentences();
    let e = embedder();
    let (base, t_embed) = time(|| e.embed_batch(&texts).unwrap());
    let batch_rate = texts.len() as f64 / t_embed.as_secs_f64();
    drop(e);

    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(11);
    let store_rate;
    {
        let store = Store::open(dir.path()).unwrap();
        for c in 0..n.div_ceil(1000) {
            let records = (0..1000.min(n - c * 1000))
                .map(|_| Record::new_public(unit(&mut rng, &base), Default::default()))
                .collect();
            store.upsert(records).unwrap();
        }
        store.optimize().unwrap();
        let scope = SearchQuery {
            namespace: PUBLIC_NAMESPACE,
            filters: &[],
        };
        let qs: Vec<Vec<f32>> = (0..500).map(|_| unit(&mut rng, &base)).collect();
        let (_, t) = time(|| {
            qs.iter()
                .for_each(|q| drop(store.search(q, 10, &scope).unwrap()))
        });
        store_rate = qs.len() as f64 / t.as_secs_f64();
    }
    println!("cpu: {}", cpu_model());
    println!(
        "{n} stored vectors; baselines in-process: embed batch {batch_rate:.0} texts/s, store search {store_rate:.0} QPS (one thread)"
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut config = engram_node::NodeConfig::load(None).unwrap();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.data_dir = dir.path().to_path_buf();
        config.model_dir = Some(resolve_model_dir(None));
        config.ingest_rate_per_minute = 0;
        config.index_interval_s = 3600; // measure serving, not background index builds
        let node = engram_node::Node::bind(config).await.unwrap();
        let client = Client::new(&format!("http://{}", node.local_addr())).unwrap();
        let signed = Client::with_options(
            &format!("http://{}", node.local_addr()),
            engram_client::ClientOptions {
                signer: Some(Arc::new(
                    engram_core::keys::Keypair::from_uri("//BenchSigner").unwrap(),
                )),
                ..Default::default()
            },
        )
        .unwrap();
        if std::env::var_os("ENGRAM_BENCH_WRK").is_some() {
            let url = format!("http://{}", node.local_addr());
            let vectors: Vec<String> = base
                .iter()
                .take(64)
                .map(|v| serde_json::json!({"query_vector": v, "top_k": 10}).to_string())
                .collect();
            let queries: Vec<String> = texts
                .iter()
                .take(64)
                .map(|t| serde_json::json!({"query_text": t, "top_k": 10}).to_string())
                .collect();
            // Distinct texts (the corpus, suffixed so none is in the cache or the store):
            // every query embeds, every ingest stores a new memory.
            let distinct = |key: &str| -> Vec<String> {
                texts
                    .iter()
                    .enumerate()
                    .map(|(i, t)| serde_json::json!({key: format!("{t} ({key} {i})"), "top_k": 10}).to_string())
                    .collect()
            };
            let (fresh_queries, fresh_ingests) = (distinct("query_text"), distinct("text"));
            println!("wrk, 1 thread, 8 connections, {secs} s per cell");
            for (name, path, bodies, baseline) in [
                ("QueryVector", "/QuerySynapse", &vectors, store_rate),
                ("QueryText (64 repeating)", "/QuerySynapse", &queries, batch_rate),
                ("QueryText (distinct)", "/QuerySynapse", &fresh_queries, batch_rate),
                ("IngestText (distinct)", "/IngestSynapse", &fresh_ingests, batch_rate),
            ] {
                let before = client.metrics().await.unwrap();
                let (rate, p50, p99) = wrk(&url, path, bodies, secs);
                println!(
                    "{name:<26} {rate:>10.1} req/s  p50 {p50:.2} ms  p99 {p99:.2} ms  {:.2}x base",
                    rate / baseline
                );
                let after = client.metrics().await.unwrap();
                let delta = |metric: &str| sample(&after, metric) - sample(&before, metric);
                let batches = delta("engram_embed_batch_size_count");
                if batches > 0.0 {
                    let texts = delta("engram_embed_wait_seconds_count");
                    // Percent of a histogram's observations over `le` seconds.
                    let over = |metric: &str, labels: &[&str], le: &str| {
                        let le = format!("le=\"{le}\"");
                        let count = delta(&series(&format!("{metric}_count"), labels));
                        let under =
                            delta(&series(&format!("{metric}_bucket"), &[labels, &[&le]].concat()));
                        100.0 * (count - under) / count.max(1.0)
                    };
                    let route = format!("route=\"{path}\"");
                    let route = [route.as_str()];
                    println!(
                        "  embedding: {batches:.0} batches of {:.2} texts; a text waited {:.2} ms for its batch ({:.1} % over 25 ms, {:.1} % over 50 ms), then its batch took {:.2} ms ({:.1} % over 50 ms); in the node a request took {:.2} ms on average, {:.1} % over 50 ms, {:.1} % over 100 ms",
                        texts / batches,
                        1e3 * delta("engram_embed_wait_seconds_sum") / texts,
                        over("engram_embed_wait_seconds", &[], "0.025"),
                        over("engram_embed_wait_seconds", &[], "0.05"),
                        1e3 * delta("engram_embed_batch_seconds_sum") / texts,
                        over("engram_embed_batch_seconds", &[], "0.05"),
                        1e3 * delta(&series("engram_request_duration_seconds_sum", &route))
                            / delta(&series("engram_request_duration_seconds_count", &route)),
                        over("engram_request_duration_seconds", &route, "0.05"),
                        over("engram_request_duration_seconds", &route, "0.1"),
                    );
                }
            }
            let metrics = client.metrics().await.unwrap();
            for line in metrics.lines().filter(|l| l.starts_with("engram_query_cache")) {
                println!("  {line}");
            }
            node.shutdown().await.unwrap();
            return;
        }
        let texts = Arc::new(texts);
        let base = Arc::new(base);
        println!(
            "{:<14} {:>5} {:>10} {:>9} {:>9} {:>9}",
            "operation", "conc", "req/s", "p50 ms", "p99 ms", "vs base"
        );
        // Queries first: ingests add vectors that stay unindexed while the index builder
        // is held off, and queries should measure the 100k indexed corpus.
        for op in [
            Op::QueryVector,
            Op::QueryText,
            Op::IngestVector,
            Op::IngestText,
        ] {
            for concurrency in [1, 8, 64] {
                let (rate, p50, p99) =
                    cell(&client, op, concurrency, secs, texts.clone(), base.clone()).await;
                let baseline = match op {
                    Op::IngestText | Op::QueryText => batch_rate,
                    Op::IngestVector | Op::QueryVector => store_rate,
                };
                println!(
                    "{:<14} {concurrency:>5} {rate:>10.1} {p50:>9.2} {p99:>9.2} {:>8.2}x",
                    format!("{op:?}"),
                    rate / baseline
                );
                // Right after its unsigned twin, on the same corpus: the cost of signing.
                if concurrency == 8 && matches!(op, Op::QueryVector | Op::IngestVector) {
                    let (srate, sp50, sp99) =
                        cell(&signed, op, 8, secs, texts.clone(), base.clone()).await;
                    println!(
                        "{:<14} {concurrency:>5} {srate:>10.1} {sp50:>9.2} {sp99:>9.2} {:>8.2}x (vs unsigned)",
                        format!("{op:?}+signed"),
                        srate / rate
                    );
                }
            }
        }
        node.shutdown().await.unwrap();
    });
}

/// Runs `wrk` against `url` + `path`, POSTing `bodies` in rotation; returns requests/s and
/// the p50 and p99 latency in ms.
fn wrk(url: &str, path: &str, bodies: &[String], secs: u64) -> (f64, f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bodies.lua");
    let mut lua = String::from("local bodies = {\n");
    for b in bodies {
        lua.push_str(&format!("  [==[{b}]==],\n"));
    }
    lua.push_str(&format!(
        "}}\nlocal i = 0\nrequest = function()\n  i = i % #bodies + 1\n  return wrk.format(\"POST\", \"{path}\", {{[\"Content-Type\"] = \"application/json\"}}, bodies[i])\nend\n"
    ));
    std::fs::write(&script, lua).unwrap();
    let out = std::process::Command::new("wrk")
        .args(["-t1", "-c8", "--latency", "-d"])
        .arg(format!("{secs}s"))
        .arg("-s")
        .arg(&script)
        .arg(url)
        .output()
        .expect("wrk on PATH (scripts/bench-node-wrk.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("Non-2xx"), "wrk saw error answers:\n{text}");
    let field = |prefix: &str| -> f64 {
        let value = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in wrk output:\n{text}"));
        wrk_number(value.trim())
    };
    (field("Requests/sec:"), field("50%"), field("99%"))
}

/// A Prometheus series name: `name`, then `labels` (`key="value"`) in braces if any.
fn series(name: &str, labels: &[&str]) -> String {
    if labels.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", labels.join(","))
    }
}

/// The value of the Prometheus sample `name` (with its labels, if any) in `text`; 0 if absent.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// wrk's numbers: plain (`1234.56`) or durations (`812.00us`, `1.20ms`, `1.01s`), in ms.
fn wrk_number(s: &str) -> f64 {
    let (num, scale) = if let Some(v) = s.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = s.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (s, 1.0)
    };
    num.parse::<f64>()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"))
        * scale
}
