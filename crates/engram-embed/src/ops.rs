//! The encoder's non-matrix work: GELU, softmax, layer norm, residual adds and attention.
//!
//! Each operation is written once, as plain branch-free loops over `f32` with no library
//! calls, and compiled three times: for the baseline target and, on x86-64, with AVX2+FMA
//! and with AVX-512 enabled, picked by the embedder's kernel path ([`multiversion!`]). Rust
//! neither reassociates nor contracts floating-point operations, so every copy computes the
//! same bytes (crate `kernels` has the rule); the reductions keep [`LANES`] partial sums so
//! that they still vectorize. `exp` and `erf` are polynomial approximations accurate to a
//! few units in the last place (tests compare them with `libm`): the same polynomial on
//! every CPU, where a platform `expf` may differ in the last bit.

#![allow(unsafe_code)]

use crate::bert::{HEAD_DIM, HIDDEN};
use crate::kernels::Kernels;

/// Defines a safe function, taking the kernel path first, whose body is compiled for the
/// baseline target and, on x86-64, again for AVX2+FMA and for AVX-512; the copy for the
/// path runs when this CPU has its features (checked on every call, a cached load: the
/// function is safe, so a caller's wrong path must not reach a missing instruction), else
/// the baseline copy, which computes the same bytes.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($kernels:ident: Kernels, $($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($kernels: Kernels, $($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn generic($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx2,fma")]
            fn wide512($($arg: $ty),*) $(-> $ret)? {
                generic($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn wide256($($arg: $ty),*) $(-> $ret)? {
                generic($($arg),*)
            }

            match $kernels {
                // SAFETY: `is_supported` checked AVX-512F, AVX2 and FMA.
                #[cfg(target_arch = "x86_64")]
                Kernels::Avx512 if $kernels.is_supported() => unsafe { wide512($($arg),*) },
                // SAFETY: `is_supported` checked AVX2 and FMA.
                #[cfg(target_arch = "x86_64")]
                Kernels::Avx2 if $kernels.is_supported() => unsafe { wide256($($arg),*) },
                _ => generic($($arg),*),
            }
        }
    };
}

/// Lanes the reductions keep in flight, so they vectorize without reassociation.
const LANES: usize = 16;

/// `e^x` for `x ≤ 88`, relative error below 2e-7; tiny results flush to the smallest normal.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2²³: adding and subtracting it rounds to an integer
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (1.0 / 2.0
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

/// `erf(x)`, absolute error below 1e-6 (Abramowitz & Stegun 7.1.26 plus rounding).
#[inline(always)]
fn erf(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_8,
        -1.453_152_1,
        1.061_405_4,
    ];
    let ax = x.abs();
    let t = 1.0 / (1.0 + P * ax);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    (1.0 - poly * exp(-ax * ax)).copysign(x)
}

multiversion! {
    /// The exact (erf) GELU that BERT uses, in place.
    pub(crate) fn gelu(kernels: Kernels, x: &mut [f32]) {
        for v in x {
            *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

multiversion! {
    /// `a += b`, element-wise.
    pub(crate) fn add_assign(kernels: Kernels, a: &mut [f32], b: &[f32]) {
        for (a, b) in a.iter_mut().zip(b) {
            *a += b;
        }
    }
}

/// The sum of `x` in the defined order: [`LANES`] partial sums (element `i` into sum
/// `i mod LANES`, in order), added left to right, then the tail left to right.
#[inline(always)]
fn sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

multiversion! {
    /// Layer norm over each row of [`HIDDEN`] values, in place.
    pub(crate) fn layer_norm(kernels: Kernels, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
        let (gamma, beta) = (&gamma[..HIDDEN], &beta[..HIDDEN]);
        let mut centered = [0f32; HIDDEN];
        for row in x.chunks_exact_mut(HIDDEN) {
            let mean = sum(row) / HIDDEN as f32;
            for (c, v) in centered.iter_mut().zip(row.iter()) {
                *c = (v - mean) * (v - mean);
            }
            let inv = 1.0 / (sum(&centered) / HIDDEN as f32 + eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
                *v = (*v - mean) * inv * g + b;
            }
        }
    }
}

#[inline(always)]
fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for x in row.iter_mut() {
        *x = exp(*x - max);
    }
    let inv = 1.0 / sum(row);
    for x in row.iter_mut() {
        *x *= inv;
    }
}

multiversion! {
    /// Attention of one head over one sequence of `len` tokens.
    ///
    /// `rows` holds the sequence's fused `q | k | v` projections (`len × 3·HIDDEN`);
    /// writes the head's context (`len × HEAD_DIM`) to `head`. `scratch` is reused.
    pub(crate) fn attend(kernels: Kernels, rows: &[f32], len: usize, h: usize, scale: f32, head: &mut [f32], scratch: &mut Vec<f32>) {
        let stride = 3 * HIDDEN;
        scratch.clear();
        scratch.resize(HEAD_DIM * len + len * len, 0.0);
        let (kt, scores) = scratch.split_at_mut(HEAD_DIM * len);
        // Kᵀ, so that each score row is a sum of contiguous rows (vectorizes over j).
        for j in 0..len {
            let k = &rows[j * stride + HIDDEN + h * HEAD_DIM..][..HEAD_DIM];
            for (d, v) in k.iter().enumerate() {
                kt[d * len + j] = *v;
            }
        }
        for (i, row) in scores.chunks_exact_mut(len).enumerate() {
            let q = &rows[i * stride + h * HEAD_DIM..][..HEAD_DIM];
            for (d, qd) in q.iter().enumerate() {
                let qd = qd * scale;
                for (s, k) in row.iter_mut().zip(&kt[d * len..(d + 1) * len]) {
                    *s += qd * k;
                }
            }
            softmax(row);
        }
        head.fill(0.0);
        for (out, probs) in head.chunks_exact_mut(HEAD_DIM).zip(scores.chunks_exact(len)) {
            for (j, p) in probs.iter().enumerate() {
                let v = &rows[j * stride + 2 * HIDDEN + h * HEAD_DIM..][..HEAD_DIM];
                for (o, x) in out.iter_mut().zip(v) {
                    *o += p * x;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_where_softmax_uses_it() {
        let mut worst = 0f32;
        for i in 0..=200_000 {
            let x = -87.0 + i as f32 * (87.0 + 10.0) / 200_000.0;
            let want = libm::expf(x);
            worst = worst.max(((exp(x) - want) / want).abs());
        }
        assert!(worst < 5e-7, "relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1e30), exp(-87.0));
    }

    #[test]
    fn erf_is_accurate_everywhere() {
        let mut worst = 0f32;
        for i in 0..=200_000 {
            let x = -10.0 + i as f32 * 20.0 / 200_000.0;
            worst = worst.max((erf(x) - libm::erff(x)).abs());
        }
        assert!(worst < 1e-6, "absolute error {worst}");
        assert_eq!(erf(-0.7), -erf(0.7));
    }

    #[test]
    fn gelu_matches_the_exact_definition() {
        let mut x: Vec<f32> = (0..4000).map(|i| (i as f32 - 2000.0) / 250.0).collect();
        let want: Vec<f32> = x
            .iter()
            .map(|v| 0.5 * v * (1.0 + libm::erff(v * std::f32::consts::FRAC_1_SQRT_2)))
            .collect();
        gelu(Kernels::best(), &mut x);
        for (g, w) in x.iter().zip(&want) {
            assert!((g - w).abs() < 4e-6, "{g} vs {w}");
        }
    }

    #[test]
    fn layer_norm_gives_zero_mean_unit_variance() {
        let mut x: Vec<f32> = (0..2 * HIDDEN)
            .map(|i| (i % 37) as f32 * 0.3 + 5.0)
            .collect();
        layer_norm(
            Kernels::best(),
            &mut x,
            &[1.0; HIDDEN],
            &[0.0; HIDDEN],
            1e-12,
        );
        for row in x.chunks_exact(HIDDEN) {
            let mean: f32 = row.iter().sum::<f32>() / HIDDEN as f32;
            let var: f32 = row.iter().map(|v| v * v).sum::<f32>() / HIDDEN as f32;
            assert!(
                mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
                "{mean} {var}"
            );
        }
    }

    #[test]
    fn attention_matches_the_textbook_formula() {
        let len = 5;
        let rows: Vec<f32> = (0..len * 3 * HIDDEN)
            .map(|i| ((i * 31) % 17) as f32 / 17.0 - 0.5)
            .collect();
        let (h, scale) = (3, 0.25);
        let mut head = vec![0f32; len * HEAD_DIM];
        attend(
            Kernels::best(),
            &rows,
            len,
            h,
            scale,
            &mut head,
            &mut Vec::new(),
        );
        let at = |t: usize, part: usize, d: usize| {
            rows[t * 3 * HIDDEN + part * HIDDEN + h * HEAD_DIM + d]
        };
        for i in 0..len {
            let scores: Vec<f64> = (0..len)
                .map(|j| {
                    (0..HEAD_DIM)
                        .map(|d| f64::from(at(i, 0, d) * at(j, 1, d)))
                        .sum::<f64>()
                        * scale as f64
                })
                .collect();
            let max = scores.iter().copied().fold(f64::MIN, f64::max);
            let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let total: f64 = e.iter().sum();
            for d in 0..HEAD_DIM {
                let want: f64 = (0..len)
                    .map(|j| e[j] / total * f64::from(at(j, 2, d)))
                    .sum();
                assert!((f64::from(head[i * HEAD_DIM + d]) - want).abs() < 1e-5);
            }
        }
    }

    /// Every copy computes the same bytes: what the compiler vectorizes for AVX2 or
    /// AVX-512 equals the baseline build, at lengths around every lane boundary.
    #[test]
    fn every_path_computes_the_same_bytes() {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let run = |kernels: Kernels| {
            let mut out = Vec::new();
            let mut x: Vec<f32> = (0..3 * HIDDEN)
                .map(|i| ((i * 7919) % 1013) as f32 / 97.0 - 5.0)
                .collect();
            let gamma: Vec<f32> = (0..HIDDEN).map(|i| 1.0 + i as f32 / 1000.0).collect();
            let beta: Vec<f32> = (0..HIDDEN).map(|i| i as f32 / 3000.0 - 0.1).collect();
            layer_norm(kernels, &mut x, &gamma, &beta, 1e-12);
            out.extend(bits(&x));
            gelu(kernels, &mut x);
            out.extend(bits(&x));
            let y = x.clone();
            add_assign(kernels, &mut x, &y);
            out.extend(bits(&x));
            for len in [1, 2, 7, 15, 16, 17, 31, 33, 64, 65, 130, 256] {
                let rows: Vec<f32> = (0..len * 3 * HIDDEN)
                    .map(|i| ((i * 31) % 1009) as f32 / 500.0 - 1.0)
                    .collect();
                let mut head = vec![0f32; len * HEAD_DIM];
                attend(kernels, &rows, len, 5, 0.125, &mut head, &mut Vec::new());
                out.extend(bits(&head));
            }
            out
        };
        let scalar = run(Kernels::Scalar);
        for kernels in Kernels::available() {
            assert!(run(kernels) == scalar, "{kernels} differs from scalar");
        }
    }
}
