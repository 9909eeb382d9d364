//! Store benchmark at 100k vectors: upserts/s, HNSW build, query p50/p99 and recall@10
//! against exact search. Baseline in the same run: exact brute-force search over the same
//! vectors (its QPS, and its top-10 as the ground truth for recall).
//!
//! Vectors: the corpus sentences embedded with the real model, then mixed (three random
//! sentences with random weights plus small noise, normalized) to reach 100k points with
//! the clustered shape of real embeddings. `ENGRAM_BENCH_N` changes the size.
//!
//! `cargo bench -p engram-bench --bench store` (needs the model from ./setup.sh).

use engram_bench::{Rng, embedder, percentile_ms, sentences, time};
use engram_core::cid_v1;
use engram_store::{PUBLIC_NAMESPACE, Record, SearchQuery, Store};

const DIM: usize = 384;

fn mix(base: &[Vec<f32>], rng: &mut Rng) -> Vec<f32> {
    let mut v = vec![0f32; DIM];
    for _ in 0..3 {
        let e = &base[rng.below(base.len())];
        let w = rng.unit() + 0.1;
        for (x, y) in v.iter_mut().zip(e) {
            *x += w * y;
        }
    }
    for x in &mut v {
        *x += 0.02 * rng.normal();
    }
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

fn exact_top10(all: &[Vec<f32>], q: &[f32]) -> Vec<usize> {
    let mut scored: Vec<(f32, usize)> = all
        .iter()
        .enumerate()
        .map(|(i, v)| (v.iter().zip(q).map(|(a, b)| a * b).sum::<f32>(), i))
        .collect();
    let k = 10.min(scored.len());
    scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
    scored[..k].iter().map(|(_, i)| *i).collect()
}

fn main() {
    let n: usize = std::env::var("ENGRAM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let queries = 500;
    let texts = sentences();
    let e = embedder();
    let (base, t) = time(|| e.embed_batch(&texts).unwrap());
    println!(
        "embedded {} corpus sentences in {:.1} s",
        base.len(),
        t.as_secs_f64()
    );

    let mut rng = Rng::new(42);
    let vectors: Vec<Vec<f32>> = (0..n).map(|_| mix(&base, &mut rng)).collect();
    let qs: Vec<Vec<f32>> = (0..queries).map(|_| mix(&base, &mut rng)).collect();

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (_, t_ins) = time(|| {
        for (c, chunk) in vectors.chunks(1000).enumerate() {
            let records = chunk
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let mut metadata = engram_core::Metadata::new();
                    metadata.insert("i".into(), (c * 1000 + i).into());
                    Record::new_public(v.clone(), metadata)
                })
                .collect();
            store.upsert(records).unwrap();
        }
        store.checkpoint().unwrap();
    });
    println!(
        "upsert {n} vectors (batches of 1000, durable): {:.1} s = {:.0} upserts/s",
        t_ins.as_secs_f64(),
        n as f64 / t_ins.as_secs_f64()
    );
    let (_, t_idx) = time(|| store.optimize().unwrap());
    println!(
        "HNSW build: {:.1} s (unindexed after: {})",
        t_idx.as_secs_f64(),
        store.unindexed()
    );
    let (c, t_commit) = time(|| store.commitment());
    println!(
        "commitment over {} leaves (cold): {:.0} ms",
        c.count,
        t_commit.as_secs_f64() * 1000.0
    );

    let scope = SearchQuery {
        namespace: PUBLIC_NAMESPACE,
        filters: &[],
    };
    for q in qs.iter().take(20) {
        store.search(q, 10, &scope).unwrap(); // warm up
    }
    let mut lat = Vec::with_capacity(queries);
    let mut hits_total = 0usize;
    let mut exact_lat = Vec::with_capacity(queries);
    for q in &qs {
        let (hits, d) = time(|| store.search(q, 10, &scope).unwrap());
        lat.push(d);
        let (truth, de) = time(|| exact_top10(&vectors, q));
        exact_lat.push(de);
        let truth_cids: Vec<_> = truth
            .iter()
            .map(|&i| {
                let mut m = engram_core::Metadata::new();
                m.insert("i".into(), i.into());
                cid_v1(&vectors[i], &m, "v1")
            })
            .collect();
        hits_total += hits
            .iter()
            .filter(|h| truth_cids.contains(&h.record.cid))
            .count();
    }
    let recall = hits_total as f64 / (10 * queries) as f64;
    let qps = queries as f64 / lat.iter().map(|d| d.as_secs_f64()).sum::<f64>();
    let exact_qps = queries as f64 / exact_lat.iter().map(|d| d.as_secs_f64()).sum::<f64>();
    println!(
        "query (HNSW, top-10, payload decoded): p50 {:.2} ms, p99 {:.2} ms, {:.0} QPS single-threaded",
        percentile_ms(&mut lat, 50.0),
        percentile_ms(&mut lat, 99.0),
        qps
    );
    println!(
        "baseline exact search: p50 {:.2} ms, {:.0} QPS  -> HNSW is {:.1}x faster",
        percentile_ms(&mut exact_lat, 50.0),
        exact_qps,
        qps / exact_qps
    );
    println!("recall@10 vs exact: {recall:.4}");
    drop(store);
    let (store, t_open) = time(|| Store::open(dir.path()).unwrap());
    println!(
        "reopen: {:.0} ms (unindexed after reopen: {})",
        t_open.as_secs_f64() * 1000.0,
        store.unindexed()
    );
    sustained(store, &qs, &mut rng, &base, dir.path());
}

/// Writes go on at 1,000 records/s (ten times a node's text-ingest rate on this machine)
/// while an index builder runs every second (the node's loop, shortened) and queries are
/// served: how large the brute-force tail grows and what it does to latency.
fn sustained(
    store: Store,
    qs: &[Vec<f32>],
    rng: &mut Rng,
    base: &[Vec<f32>],
    data_dir: &std::path::Path,
) {
    let extra: usize = 20_000;
    let batches: Vec<Vec<Record>> = (0..extra / 100)
        .map(|_| {
            (0..100)
                .map(|_| Record::new_public(mix(base, rng), Default::default()))
                .collect()
        })
        .collect();
    let store = std::sync::Arc::new(store);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let indexer = {
        let (store, done) = (store.clone(), done.clone());
        std::thread::spawn(move || {
            let mut builds = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_secs(1));
                builds.push(time(|| store.optimize().unwrap()).1);
            }
            builds
        })
    };
    let writer = {
        let (store, done) = (store.clone(), done.clone());
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            for (i, b) in batches.into_iter().enumerate() {
                let due = std::time::Duration::from_millis(100 * i as u64);
                std::thread::sleep(due.saturating_sub(started.elapsed()));
                store.upsert(b).unwrap();
            }
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            started.elapsed()
        })
    };
    let scope = SearchQuery {
        namespace: PUBLIC_NAMESPACE,
        filters: &[],
    };
    let (mut lat, mut tail) = (Vec::new(), Vec::new());
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        let q = &qs[lat.len() % qs.len()];
        let (_, d) = time(|| store.search(q, 10, &scope).unwrap());
        lat.push(d);
        tail.push(store.unindexed());
    }
    let took = writer.join().unwrap();
    let mut builds = indexer.join().unwrap();
    tail.sort_unstable();
    println!(
        "sustained: {extra} more upserts in {:.1} s ({:.0}/s) with the index builder every 1 s; \
         unindexed tail p50 {} max {}; queries meanwhile p50 {:.2} ms p99 {:.2} ms",
        took.as_secs_f64(),
        extra as f64 / took.as_secs_f64(),
        tail[tail.len() / 2],
        tail.last().copied().unwrap_or(0),
        percentile_ms(&mut lat, 50.0),
        percentile_ms(&mut lat, 99.0),
    );
    println!(
        "  index builds: {}, p50 {:.0} ms, max {:.0} ms",
        builds.len(),
        percentile_ms(&mut builds, 50.0),
        percentile_ms(&mut builds, 100.0),
    );
    let (_, t_idx) = time(|| store.optimize().unwrap());
    let mut after: Vec<_> = qs
        .iter()
        .map(|q| time(|| store.search(q, 10, &scope).unwrap()).1)
        .collect();
    println!(
        "  then: final index build {:.1} s (unindexed {}), queries p50 {:.2} ms p99 {:.2} ms",
        t_idx.as_secs_f64(),
        store.unindexed(),
        percentile_ms(&mut after, 50.0),
        percentile_ms(&mut after, 99.0),
    );
    forgetting(&store, data_dir);
}

/// What forgetting costs on the full store: one delete (journal, vacuum of the segment
/// that held it, WAL recycled with the shard reloaded), and 100 in one batch, against the
/// single delete as baseline.
fn forgetting(store: &Store, data_dir: &std::path::Path) {
    let wal: u64 = std::fs::read_dir(data_dir.join("store/shard/wal"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    let (page, _) = store.scroll(Some(PUBLIC_NAMESPACE), None, 101).unwrap();
    let keys: Vec<_> = page.iter().map(|r| (r.namespace.clone(), r.cid)).collect();
    let (_, one) = time(|| store.forget(&keys[..1]).unwrap());
    let (gone, batch) = time(|| store.forget(&keys[1..]).unwrap());
    let one_ms = one.as_secs_f64() * 1000.0;
    let batch_ms = batch.as_secs_f64() * 1000.0;
    println!(
        "forgetting over {} memories (WAL {:.0} MiB before): one delete {one_ms:.0} ms; \
         {gone} in one batch {batch_ms:.0} ms = {:.1} ms each ({:.1}x cheaper per memory than one by one)",
        store.len(),
        wal as f64 / f64::from(1u32 << 20),
        batch_ms / gone as f64,
        one_ms * gone as f64 / batch_ms,
    );
}
