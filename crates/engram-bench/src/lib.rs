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

/// The CPU model, as `/proc/cpuinfo` names it ("unknown" elsewhere): printed with every
/// result, since the same code runs at very different speeds on different CPUs.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// This machine's single-precision FMA peak in GFLOP/s, measured: every core runs
/// independent fused multiply-adds on registers only (no memory traffic), on the widest
/// vectors this CPU has, whichever path the embedder under test runs. The denominator of
/// kernel efficiency; `None` on CPUs without AVX2 or AVX-512 (no loop for them here).
pub fn peak_gflops() -> Option<f64> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let kernels = engram_embed::Kernels::best();
    let per_thread: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| s.spawn(move || fma_rate(kernels)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let total = per_thread.iter().sum::<f64>() / 1e9;
    (total > 0.0).then_some(total)
}

/// FLOP/s of one thread running 12 independent chains of FMAs on the path's registers
/// (0 for a path without one here).
fn fma_rate(kernels: engram_embed::Kernels) -> f64 {
    const ROUNDS: u64 = 50_000_000;
    let start = Instant::now();
    let lanes = match kernels {
        #[cfg(target_arch = "x86_64")]
        engram_embed::Kernels::Avx512 => {
            // SAFETY: `Kernels::best()` picks AVX-512 only on CPUs that have it.
            #[allow(unsafe_code)]
            std::hint::black_box(unsafe { x86::fma_avx512(ROUNDS) });
            16.0
        }
        #[cfg(target_arch = "x86_64")]
        engram_embed::Kernels::Avx2 => {
            // SAFETY: `Kernels::best()` picks AVX2 only on CPUs with AVX2 and FMA.
            #[allow(unsafe_code)]
            std::hint::black_box(unsafe { x86::fma_avx2(ROUNDS) });
            8.0
        }
        _ => return 0.0,
    };
    ROUNDS as f64 * 12.0 * lanes * 2.0 / start.elapsed().as_secs_f64()
}

/// Register-only FMA loops: 12 independent accumulators, enough to cover the latency of
/// two FMA units.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use std::arch::x86_64::{
        _mm256_fmadd_ps, _mm256_set1_ps, _mm256_storeu_ps, _mm512_fmadd_ps, _mm512_reduce_add_ps,
        _mm512_set1_ps,
    };

    #[target_feature(enable = "avx512f")]
    pub(super) fn fma_avx512(rounds: u64) -> f32 {
        let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        let mut acc = [_mm512_set1_ps(1.0); 12];
        for _ in 0..rounds {
            for x in &mut acc {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        acc.iter().map(|&x| _mm512_reduce_add_ps(x)).sum()
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn fma_avx2(rounds: u64) -> f32 {
        let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        let mut acc = [_mm256_set1_ps(1.0); 12];
        for _ in 0..rounds {
            for x in &mut acc {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let mut out = [0f32; 8];
        let mut total = 0.0;
        for x in acc {
            // SAFETY: `out` holds 8 floats.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr(), x) };
            total += out.iter().sum::<f32>();
        }
        total
    }
}
