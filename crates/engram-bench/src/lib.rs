//! Shared pieces of Engram's benchmarks: the corpus, the model, timing and percentiles.
//!
//! Benchmarks print their numbers and ratios against a baseline measured in the same run;
//! they are never timed unit tests. Results with machine and date go to
//! `docs/benchmarks.md`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use engram_embed::Embedder;
use engram_embed::resolve_model_dir;

/// The benchmark corpus: real English sentences (CPython docstrings, see
/// `scripts/make-corpus.py`).
pub fn sentences() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/sentences.txt");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The canonical embedder from the usual model location.
pub fn embedder() -> Embedder {
    let dir = resolve_model_dir(None);
    Embedder::load(&dir).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `f` once and returns how long it took.
pub fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// The `p`-th percentile (0–100) of durations, in milliseconds.
pub fn percentile_ms(samples: &mut [Duration], p: f64) -> f64 {
    assert!(!samples.is_empty());
    samples.sort_unstable();
    let idx = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[idx].as_secs_f64() * 1000.0
}

/// A small deterministic PRNG (xorshift64*), so runs are comparable.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Approximately standard normal (sum of uniforms).
    pub fn normal(&mut self) -> f32 {
        (0..12).map(|_| self.unit()).sum::<f32>() - 6.0
    }

    /// Uniform index below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
