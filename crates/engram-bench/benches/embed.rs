//! Embedding throughput on real sentences at batch 1, 8, 32 and 128, single-text latency,
//! resident memory, load time and kernel efficiency (achieved GFLOP/s against this CPU's
//! FMA peak, measured in the same run). Baselines in the same run: batch 1 (the ratio
//! shows what batching buys) and, when `ENGRAM_BENCH_REFERENCE` names the output of
//! `scripts/st_reference.py` and `scripts/ort_reference.py`, sentence-transformers
//! (PyTorch) and ONNX Runtime on the same sentences: ratios against the targets and a
//! fidelity check of every vector (exit 1 if any cosine < 0.9999). Prints the CPU model.
//!
//! `cargo bench --bench embed` (needs the model from ./setup.sh; `ENGRAM_KERNELS` picks
//! a kernel path); `scripts/bench-embed-vs-st.sh` runs every side.

use std::path::Path;

use engram_bench::{cpu_model, embedder, peak_gflops, percentile_ms, sentences, time};

const BATCHES: [usize; 4] = [1, 8, 32, 128];
/// Ratio targets against sentence-transformers (batch, minimum).
const TARGETS: [(usize, f64); 2] = [(1, 2.0), (32, 1.5)];
/// Multiply-adds of the dense layers per token: 6 layers of QKV (384→1152), attention
/// output (384→384), intermediate (384→1536) and output (1536→384).
const DENSE_MACS_PER_TOKEN: f64 = 6.0 * (384.0 * 1152.0 + 384.0 * 384.0 + 2.0 * 384.0 * 1536.0);
const MIN_COSINE: f32 = 0.9999;

fn main() {
    let texts = sentences();
    let n = texts.len().min(
        std::env::var("ENGRAM_BENCH_TEXTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000),
    );
    let texts = &texts[..n];
    let rss_before = rss_mb("VmRSS");
    let (e, load) = time(embedder);
    let resident = rss_mb("VmRSS") - rss_before;
    e.embed_batch(&texts[..64]).unwrap(); // warm up

    let mut lat = Vec::with_capacity(n);
    let mut rates = Vec::new();
    let mut vectors = Vec::new();
    for batch in BATCHES {
        let (_, t) = time(|| {
            for chunk in texts.chunks(batch) {
                if batch == 1 {
                    let (_, d) = time(|| e.embed(&chunk[0]).unwrap());
                    lat.push(d);
                } else if batch == 32 {
                    vectors.extend(e.embed_batch(chunk).unwrap());
                } else {
                    e.embed_batch(chunk).unwrap();
                }
            }
        });
        rates.push((batch, n as f64 / t.as_secs_f64()));
    }

    let tokens: usize = texts.iter().map(|t| e.token_count(t).unwrap()).sum();
    let per_text = tokens as f64 / n as f64;
    println!("cpu: {}", cpu_model());
    println!(
        "engram: {n} real sentences ({per_text:.1} tokens on average), {} threads, {} kernels",
        threads(),
        e.kernels()
    );
    println!(
        "model load (incl. SHA-256 check) {:.0} ms; resident embedder {resident:.0} MB (process peak {:.0} MB)",
        load.as_secs_f64() * 1000.0,
        rss_mb("VmHWM")
    );
    let peak = peak_gflops();
    for (b, r) in &rates {
        let gflops = r * per_text * DENSE_MACS_PER_TOKEN * 2.0 / 1e9;
        match peak {
            Some(peak) => println!(
                "batch {b:>3}: dense layers {gflops:.1} GFLOP/s = {:.0} % of this CPU's measured FMA peak {peak:.1} GFLOP/s",
                100.0 * gflops / peak
            ),
            None => println!(
                "batch {b:>3}: dense layers {gflops:.1} GFLOP/s (no peak measured on this CPU)"
            ),
        }
    }
    let p50 = percentile_ms(&mut lat, 50.0);
    let p99 = percentile_ms(&mut lat, 99.0);
    println!("{:>6}  {:>10}  {:>8}", "batch", "texts/s", "vs b=1");
    for (b, r) in &rates {
        println!("{b:>6}  {r:>10.1}  {:>7.2}x", r / rates[0].1);
    }
    println!("single-text latency: p50 {p50:.2} ms, p99 {p99:.2} ms");
    let Some(dir) = std::env::var_os("ENGRAM_BENCH_REFERENCE") else {
        return;
    };
    let mut fidelity_ok = true;
    for (name, peer, targets) in [
        ("st", "sentence-transformers (PyTorch)", &TARGETS[..]),
        ("ort", "ONNX Runtime", &[][..]),
    ] {
        let Some(reference) = Reference::read(dir.as_ref(), name) else {
            println!("{peer}: no {name}.json in the reference directory, skipped");
            continue;
        };
        assert_eq!(
            reference.texts, n,
            "{peer} embedded a different number of texts"
        );
        println!(
            "\n{peer}: {}; load {:.0} ms",
            reference.about, reference.load_ms
        );
        println!(
            "{:>6}  {:>14}  {:>14}  {:>7}  {:>7}",
            "batch", "engram texts/s", "peer texts/s", "ratio", "target"
        );
        let mut met = true;
        for ((b, r), s) in rates.iter().zip(&reference.rates) {
            let ratio = r / s;
            let target = targets.iter().find(|(tb, _)| tb == b).map(|(_, t)| *t);
            let verdict = match target {
                Some(t) if ratio >= t => format!(">= {t} ok"),
                Some(t) => {
                    met = false;
                    format!(">= {t} MISSED")
                }
                None => String::new(),
            };
            println!("{b:>6}  {r:>14.1}  {s:>14.1}  {ratio:>6.2}x  {verdict}");
        }
        println!(
            "single-text latency: engram p50 {p50:.2} ms, p99 {p99:.2} ms; peer p50 {:.2} ms, p99 {:.2} ms",
            reference.p50_ms, reference.p99_ms
        );
        let cosines: Vec<f32> = vectors
            .iter()
            .zip(reference.vectors.chunks_exact(engram_embed::DIM))
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum())
            .collect();
        let worst = cosines.iter().copied().fold(f32::INFINITY, f32::min);
        let below = cosines.iter().filter(|&&c| c < MIN_COSINE).count();
        println!(
            "fidelity: {} texts, worst cosine {worst:.6}, {below} below {MIN_COSINE}",
            cosines.len()
        );
        if !targets.is_empty() {
            println!("targets: {}", if met { "all met" } else { "NOT all met" });
        }
        fidelity_ok &= below == 0 && cosines.len() == n;
    }
    if !fidelity_ok {
        std::process::exit(1);
    }
}

/// What a reference script wrote: `NAME.json` and `NAME.f32`.
struct Reference {
    texts: usize,
    rates: Vec<f64>,
    p50_ms: f64,
    p99_ms: f64,
    load_ms: f64,
    about: String,
    vectors: Vec<f32>,
}

impl Reference {
    fn read(dir: &Path, name: &str) -> Option<Self> {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).ok()?)
                .expect("reference JSON");
        let num = |v: &serde_json::Value| v.as_f64().expect("a number");
        let bytes = std::fs::read(dir.join(format!("{name}.f32"))).expect("reference vectors");
        let about = match (json.get("torch"), json.get("onnxruntime")) {
            (Some(t), _) => format!(
                "torch {} with {} threads, process peak {:.0} MB",
                t.as_str().unwrap_or("?"),
                json["torch_threads"],
                num(&json["max_rss_mb"])
            ),
            (_, Some(o)) => format!(
                "onnxruntime {} with {} threads",
                o.as_str().unwrap_or("?"),
                json["threads"]
            ),
            _ => String::new(),
        };
        Some(Self {
            texts: num(&json["texts"]) as usize,
            rates: BATCHES
                .iter()
                .map(|b| num(&json["rates"][b.to_string()]))
                .collect(),
            p50_ms: num(&json["p50_ms"]),
            p99_ms: num(&json["p99_ms"]),
            load_ms: num(&json["load_ms"]),
            about,
            vectors: bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        })
    }
}

/// A memory figure of this process from /proc (0 where there is no /proc).
fn rss_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
