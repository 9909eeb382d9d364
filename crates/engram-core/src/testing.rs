//! Deterministic vectors for tests and benchmarks across the workspace (one definition, so
//! a seed means the same vector in every crate's tests).

use crate::limits::EMBEDDING_DIM;

/// A unit-length 384-dimension vector determined by `seed` (xorshift64).
pub fn unit_vector(seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let v: Vec<f32> = (0..EMBEDDING_DIM)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 2000) as f32 / 1000.0 - 1.0
        })
        .collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}
