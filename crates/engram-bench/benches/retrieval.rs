//! Retrieval quality of the three search modes on a public test collection with relevance
//! judgements: nDCG@10 and recall@100 for dense, keyword (BM25) and hybrid (RRF) search,
//! and each mode's query latency as a ratio to dense search in the same run.
//!
//! The collection is Cranfield (1,400 abstracts, 225 queries, 1,612 graded judgements),
//! vendored in `data/cranfield/` in BEIR's layout and pinned by SHA-256 (`SOURCE.md` says
//! where it comes from and why no registry package could supply one). Any other BEIR-layout
//! folder (`corpus.jsonl`, `queries.jsonl`, `qrels/test.tsv`) — SciFact, NFCorpus — runs the
//! same way with `ENGRAM_BEIR_DIR=path`.
//!
//! nDCG@10 as BEIR reports it (trec_eval's `ndcg_cut_10`: linear gains, log2 discount,
//! the ideal ranking from every judged document); recall@100 over documents judged
//! relevant (gain > 0).
//!
//! `cargo bench -p engram-bench --bench retrieval` (needs the model from ./setup.sh).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use engram_bench::{cpu_model, percentile_ms, time};
use engram_engine::{Engine, EngineConfig, SearchMode, TextItem, Where};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The vendored files' SHA-256, so a changed copy cannot pass for Cranfield.
const PINNED: [(&str, &str); 3] = [
    (
        "corpus.jsonl",
        "75fb474b7d43175126a72850a4930d1aebd64bcf3fa6f8ec21d50a974c6bf7ec",
    ),
    (
        "queries.jsonl",
        "70914f4cee2b861959813356b008b8c61b78400e4de7e03193c3ea0cff72a63f",
    ),
    (
        "qrels/test.tsv",
        "ae6c2c87c75510578b3cff168023cebb77e8f04b05b0b37a57884c8f6ff4c396",
    ),
];

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_default()
}

/// `qrels[query][doc] = gain`.
fn qrels(path: &Path) -> HashMap<String, HashMap<String, f64>> {
    let mut out: HashMap<String, HashMap<String, f64>> = HashMap::new();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if let [q, d, g] = cols[..] {
            out.entry(q.into())
                .or_default()
                .insert(d.into(), g.trim().parse().unwrap());
        }
    }
    out
}

fn ndcg_at(ranked: &[String], judged: &HashMap<String, f64>, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, d)| judged.get(d).copied().unwrap_or(0.0) / (i as f64 + 2.0).log2())
        .sum();
    let mut ideal: Vec<f64> = judged.values().copied().filter(|g| *g > 0.0).collect();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, g)| g / (i as f64 + 2.0).log2())
        .sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

fn recall_at(ranked: &[String], judged: &HashMap<String, f64>, k: usize) -> f64 {
    let relevant = judged.values().filter(|g| **g > 0.0).count();
    let found = ranked
        .iter()
        .take(k)
        .filter(|d| judged.get(*d).is_some_and(|g| *g > 0.0))
        .count();
    if relevant == 0 {
        0.0
    } else {
        found as f64 / relevant as f64
    }
}

struct Scores {
    ndcg10: f64,
    recall100: f64,
    p50_ms: f64,
}

fn run(
    engine: &Engine,
    queries: &[(String, String)],
    judgements: &HashMap<String, HashMap<String, f64>>,
    mode: SearchMode,
    weight: f64,
) -> Scores {
    let public = Where::default();
    let (mut ndcg, mut recall) = (0.0, 0.0);
    let mut latencies: Vec<Duration> = Vec::new();
    for (id, text) in queries {
        let judged = &judgements[id];
        // Latency at top_k 10 (what users ask for); quality from one top-100 list.
        let (_, d) = time(|| {
            engine
                .query_text_with(text, mode, weight, 10, &public)
                .unwrap()
        });
        latencies.push(d);
        let hits = engine
            .query_text_with(text, mode, weight, 100, &public)
            .unwrap();
        let ranked: Vec<String> = hits
            .iter()
            .map(|h| h.record.metadata["_id"].as_str().unwrap().to_string())
            .collect();
        ndcg += ndcg_at(&ranked, judged, 10);
        recall += recall_at(&ranked, judged, 100);
    }
    let n = queries.len() as f64;
    Scores {
        ndcg10: ndcg / n,
        recall100: recall / n,
        p50_ms: percentile_ms(&mut latencies, 50.0),
    }
}

fn main() {
    let (dir, pinned) = match std::env::var_os("ENGRAM_BEIR_DIR") {
        Some(d) => (PathBuf::from(d), false),
        None => (
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/cranfield"),
            true,
        ),
    };
    if pinned {
        for (file, want) in PINNED {
            let bytes = std::fs::read(dir.join(file)).unwrap();
            let got = hex::encode(Sha256::digest(&bytes));
            assert_eq!(got, want, "{file} is not the pinned Cranfield copy");
        }
    }
    println!("CPU: {}", cpu_model());
    println!("collection: {}", dir.display());

    let judgements = qrels(&dir.join("qrels/test.tsv"));
    let queries: Vec<(String, String)> = jsonl(&dir.join("queries.jsonl"))
        .iter()
        .map(|q| (field(q, "_id").to_string(), field(q, "text").to_string()))
        .filter(|(id, _)| judgements.contains_key(id))
        .collect();
    let mut skipped = 0;
    let items: Vec<TextItem> = jsonl(&dir.join("corpus.jsonl"))
        .iter()
        .filter_map(|d| {
            let text = format!("{} {}", field(d, "title"), field(d, "text"));
            let text: String = text
                .trim()
                .chars()
                .take(engram_core::MAX_TEXT_CHARS)
                .collect();
            if text.is_empty() {
                skipped += 1;
                return None;
            }
            let mut item = TextItem::new(text);
            item.metadata = serde_json::json!({"_id": field(d, "_id")});
            Some(item)
        })
        .collect();

    let data = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(data.path().to_path_buf())).unwrap();
    let docs = items.len();
    let (_, t) = time(|| {
        for chunk in items.chunks(64) {
            engine.ingest_texts(chunk.to_vec()).unwrap();
        }
        engine.store().checkpoint().unwrap();
        while engine.store().optimize().unwrap() {}
    });
    println!(
        "{docs} documents stored (embedded, BM25-weighted, indexed) in {:.1} s ({skipped} empty skipped); {} queries with judgements",
        t.as_secs_f64(),
        queries.len()
    );
    // Warm the query cache's misses out of the latency: every mode then embeds nothing.
    for (_, q) in &queries {
        engine.query_text(q, 1, &Where::default()).unwrap();
    }

    let dense = run(&engine, &queries, &judgements, SearchMode::Dense, 1.0);
    println!();
    println!(
        "{:<22} {:>8} {:>11} {:>10} {:>10}",
        "mode", "nDCG@10", "recall@100", "p50 ms", "vs dense"
    );
    let row = |name: &str, s: &Scores| {
        println!(
            "{:<22} {:>8.4} {:>11.4} {:>10.3} {:>9.2}x",
            name,
            s.ndcg10,
            s.recall100,
            s.p50_ms,
            s.p50_ms / dense.p50_ms
        );
    };
    row("dense", &dense);
    row(
        "keyword (BM25)",
        &run(&engine, &queries, &judgements, SearchMode::Keyword, 1.0),
    );
    let mut hybrid = None;
    for w in [0.5, 1.0, 2.0] {
        let s = run(&engine, &queries, &judgements, SearchMode::Hybrid, w);
        row(&format!("hybrid (keyword x{w})"), &s);
        if w == engram_core::search::DEFAULT_KEYWORD_WEIGHT {
            hybrid = Some(s);
        }
    }
    let hybrid = hybrid.expect("the default weight is among those run");
    println!();
    println!(
        "hybrid (default weight) / dense nDCG@10: {:.3}x; recall@100: {:.3}x",
        hybrid.ndcg10 / dense.ndcg10,
        hybrid.recall100 / dense.recall100
    );
}
