//! Embedding noise for private namespaces: inversion resistance for stored vectors.
//!
//! A stored embedding can be inverted into an approximation of its text. For private
//! namespaces each dimension gets Gaussian noise with σ = 1 / (ε·√d), then the vector is
//! re-normalized, before its CID is computed (so the CID names the noisy vector that is
//! actually stored). This is the original's "DP noise"; at the default ε = 3 it is *not* a
//! formal (ε, δ) differential-privacy guarantee, only a measured trade of recall for
//! inversion resistance (docs/security.md, `cargo bench --bench noise`).
//!
//! Randomness comes from the caller, so this stays pure and testable.

/// The default ε (`DP_EPSILON`).
pub const DEFAULT_EPSILON: f64 = 3.0;

/// Per-dimension standard deviation for `epsilon` over `dim` dimensions.
pub fn sigma(epsilon: f64, dim: usize) -> f64 {
    1.0 / (epsilon * (dim as f64).sqrt())
}

/// A standard normal sample from two uniform 64-bit draws (Box–Muller).
fn normal(next_u64: &mut impl FnMut() -> u64) -> f64 {
    let unit = |x: u64| ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64; // in (0, 1)
    let (u1, u2) = (unit(next_u64()), unit(next_u64()));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `v` plus Gaussian noise of σ = 1/(ε√d) per dimension, re-normalized to unit length.
///
/// # Panics
/// If `epsilon` is not positive and finite.
pub fn add_noise(v: &[f32], epsilon: f64, mut next_u64: impl FnMut() -> u64) -> Vec<f32> {
    assert!(
        epsilon.is_finite() && epsilon > 0.0,
        "epsilon must be positive"
    );
    let s = sigma(epsilon, v.len());
    let noisy: Vec<f64> = v
        .iter()
        .map(|&x| f64::from(x) + s * normal(&mut next_u64))
        .collect();
    let norm = noisy.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
    noisy.iter().map(|x| (x / norm) as f32).collect()
}

/// A small seeded generator (SplitMix64) for callers that have a seed, not a stream.
pub fn splitmix(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::unit_vector;

    #[test]
    fn noise_has_the_specified_size_and_keeps_unit_length() {
        let v = unit_vector(1);
        let noisy = add_noise(&v, DEFAULT_EPSILON, splitmix(7));
        let norm: f32 = noisy.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        // ‖noise‖ ≈ σ√d = 1/ε, so cos ≈ 1/√(1 + 1/ε²) ≈ 0.949 at ε = 3.
        let cos: f32 = v.iter().zip(&noisy).map(|(a, b)| a * b).sum();
        assert!((0.92..0.97).contains(&cos), "cos {cos}");
        assert_ne!(
            add_noise(&v, 3.0, splitmix(8)),
            noisy,
            "fresh randomness, fresh noise"
        );
        let mild = add_noise(&v, 100.0, splitmix(7));
        let cos_mild: f32 = v.iter().zip(&mild).map(|(a, b)| a * b).sum();
        assert!(cos_mild > 0.999);
        assert!((sigma(3.0, 384) - 0.017_010).abs() < 1e-5);
    }
}
