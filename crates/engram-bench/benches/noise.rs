//! What private-namespace noise costs in recall: real sentences embedded with the real
//! model, stored with noise at several ε, searched with clean query embeddings.
//! Baseline in the same run: the same search over the clean vectors (recall 1 by
//! definition, and the top-1 self-match rate).
//!
//! `cargo bench -p engram-bench --bench noise` (needs the model from ./setup.sh).

use engram_bench::{embedder, sentences};
use engram_core::noise::{add_noise, splitmix};

const QUERIES: usize = 300;
const K: usize = 10;

fn top_k(q: &[f32], corpus: &[Vec<f32>], k: usize) -> Vec<usize> {
    let mut scored: Vec<(f32, usize)> = corpus
        .iter()
        .enumerate()
        .map(|(i, v)| (q.iter().zip(v).map(|(a, b)| a * b).sum(), i))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(k).map(|(_, i)| i).collect()
}

fn main() {
    let texts = sentences();
    let e = embedder();
    let corpus = e.embed_batch(&texts).unwrap();
    // Queries: paraphrase-free, so use other sentences (topic neighbours) and the stored
    // sentences themselves (can the owner still find a memory by its own words?).
    let (queries, stored) = corpus.split_at(QUERIES);
    println!(
        "{} real sentences stored, {QUERIES} held-out query sentences, exact top-{K}",
        stored.len()
    );
    println!(
        "{:>8}  {:>10}  {:>14}  {:>12}",
        "epsilon", "recall@10", "self top-1", "mean cos"
    );
    let truth: Vec<Vec<usize>> = queries.iter().map(|q| top_k(q, stored, K)).collect();
    for eps in [None, Some(30.0), Some(10.0), Some(3.0), Some(1.0)] {
        let noisy: Vec<Vec<f32>> = match eps {
            None => stored.to_vec(),
            Some(eps) => stored
                .iter()
                .enumerate()
                .map(|(i, v)| add_noise(v, eps, splitmix(i as u64 + 1)))
                .collect(),
        };
        let recall: f64 = queries
            .iter()
            .zip(&truth)
            .map(|(q, t)| {
                let got = top_k(q, &noisy, K);
                got.iter().filter(|i| t.contains(i)).count() as f64 / K as f64
            })
            .sum::<f64>()
            / QUERIES as f64;
        let probe = stored.len().min(QUERIES);
        let self_hits = (0..probe)
            .filter(|&i| top_k(&stored[i], &noisy, 1)[0] == i)
            .count() as f64
            / probe as f64;
        let cos: f64 = stored
            .iter()
            .zip(&noisy)
            .map(|(a, b)| f64::from(a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>()))
            .sum::<f64>()
            / stored.len() as f64;
        let label = eps.map_or("clean".to_string(), |e| format!("{e}"));
        println!("{label:>8}  {recall:>10.3}  {self_hits:>14.3}  {cos:>12.3}");
    }
}
