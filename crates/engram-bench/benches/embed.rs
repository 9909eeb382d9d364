//! Embedding throughput on real sentences at batch 1 and 32, and single-text latency.
//! Baseline in the same run: batch 1 (the ratio shows what batching buys).
//!
//! `cargo bench -p engram-bench --bench embed` (needs the model from ./setup.sh).

use engram_bench::{embedder, percentile_ms, sentences, time};

fn main() {
    let texts = sentences();
    let n = texts.len().min(
        std::env::var("ENGRAM_BENCH_TEXTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000),
    );
    let texts = &texts[..n];
    let (e, load) = time(embedder);
    println!(
        "model load (incl. SHA-256 check): {:.0} ms",
        load.as_secs_f64() * 1000.0
    );
    e.embed_batch(&texts[..64]).unwrap(); // warm up

    let mut lat = Vec::with_capacity(n);
    let (_, t1) = time(|| {
        for t in texts {
            let (_, d) = time(|| e.embed(t).unwrap());
            lat.push(d);
        }
    });
    let b1 = n as f64 / t1.as_secs_f64();
    let mut rates = vec![("1", b1)];
    for batch in [8usize, 32, 128] {
        let (_, t) = time(|| {
            for chunk in texts.chunks(batch) {
                e.embed_batch(chunk).unwrap();
            }
        });
        rates.push((
            Box::leak(batch.to_string().into_boxed_str()),
            n as f64 / t.as_secs_f64(),
        ));
    }
    println!("{n} real sentences, {} threads", rayon_threads());
    println!("{:>6}  {:>10}  {:>8}", "batch", "texts/s", "vs b=1");
    for (b, r) in &rates {
        println!("{b:>6}  {r:>10.1}  {:>7.2}x", r / b1);
    }
    println!(
        "single-text latency: p50 {:.2} ms, p99 {:.2} ms",
        percentile_ms(&mut lat, 50.0),
        percentile_ms(&mut lat, 99.0)
    );
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
