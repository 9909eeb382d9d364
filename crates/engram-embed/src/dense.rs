//! The dense layers: `y = x · Wᵀ + b` with weights packed once at load time.
//!
//! A general-purpose GEMM packs its right-hand side on every call. For the encoder that is
//! the weight matrix, the same on every call, and with the few rows a short batch has the
//! packing costs as much as the arithmetic. Here each weight matrix is stored as strips of
//! [`STRIP`] output columns, `K × STRIP` contiguous floats per strip, so the kernel streams
//! it straight from memory. Strips are independent, so the two cores split them.
//!
//! The kernel holds an `MR × 32` block of outputs in 16 AVX-512 registers and walks the
//! inner dimension once (bias as the starting value). CPUs without AVX-512 keep PyTorch's
//! row-major layout and run the `gemm` crate (AVX2/FMA, NEON or scalar, chosen at run time),
//! which was the whole embedder before this kernel: 90 texts/s at batch 1 where this one
//! does 415 (docs/benchmarks.md). Features are detected once; the binary stays portable.

#![allow(unsafe_code)]

use rayon::prelude::*;

use crate::matmul::{View, matmul};

/// Output columns per packed strip (two 16-lane registers).
pub(crate) const STRIP: usize = 32;
/// Rows per kernel call: 8 rows × 2 registers = 16 accumulators.
const MR: usize = 8;
/// Multiply-adds below which a product runs on the calling thread only.
const PARALLEL_WORK: usize = 1 << 19;

/// A linear layer with its weights laid out for the kernel this CPU runs.
pub(crate) struct PackedLinear {
    /// For [`Target::Avx512`], strip `s` holds, for each input `k`, the weights of outputs
    /// `s·32 .. s·32+32`; for [`Target::Portable`], PyTorch's `outputs × inputs` row-major.
    packed: Vec<f32>,
    target: Target,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl PackedLinear {
    /// Packs a PyTorch-layout (`outputs × inputs`, row-major) weight matrix.
    ///
    /// # Panics
    /// If `outputs` is not a multiple of [`STRIP`] or the slices have the wrong length
    /// (every layer of the model satisfies both; loading checks shapes first).
    pub(crate) fn pack(weight: Vec<f32>, bias: Vec<f32>, inputs: usize, outputs: usize) -> Self {
        Self::pack_for(Target::detect(), weight, bias, inputs, outputs)
    }

    fn pack_for(
        target: Target,
        weight: Vec<f32>,
        bias: Vec<f32>,
        inputs: usize,
        outputs: usize,
    ) -> Self {
        assert_eq!(outputs % STRIP, 0, "outputs must be a multiple of {STRIP}");
        assert_eq!(weight.len(), inputs * outputs, "weight shape");
        assert_eq!(bias.len(), outputs, "bias shape");
        let packed = match target {
            #[cfg(target_arch = "x86_64")]
            Target::Avx512 => {
                let mut packed = Vec::with_capacity(weight.len());
                for strip in 0..outputs / STRIP {
                    for k in 0..inputs {
                        for j in 0..STRIP {
                            packed.push(weight[(strip * STRIP + j) * inputs + k]);
                        }
                    }
                }
                packed
            }
            Target::Portable => weight,
        };
        Self {
            packed,
            target,
            bias,
            inputs,
            outputs,
        }
    }

    /// Output width.
    pub(crate) fn outputs(&self) -> usize {
        self.outputs
    }

    /// `out[rows × outputs] = x[rows × inputs] · Wᵀ + b`; `out` is resized to fit.
    pub(crate) fn forward(&self, x: &[f32], rows: usize, out: &mut Vec<f32>) {
        assert_eq!(x.len(), rows * self.inputs, "input shape");
        out.clear();
        if self.target == Target::Portable {
            self.forward_gemm(x, rows, out);
            return;
        }
        out.resize(rows * self.outputs, 0.0);
        if rows == 0 {
            return;
        }
        let strips = self.outputs / STRIP;
        let work_per_strip = rows * STRIP * self.inputs;
        let dst = OutPtr(out.as_mut_ptr());
        let run = |strip: usize| {
            let dst = &dst;
            // SAFETY: strip `strip` writes only columns strip·32 .. strip·32+32 of each of
            // the `rows` rows of `out`, which has rows × outputs elements; strips are
            // disjoint, so concurrent strips never touch the same element, and `out` stays
            // mutably borrowed (not read) for the whole call.
            unsafe { self.strip(x, rows, strip, dst.0) }
        };
        if work_per_strip * strips < PARALLEL_WORK {
            (0..strips).for_each(run);
        } else {
            let min_len = (PARALLEL_WORK / 4 / work_per_strip).max(1);
            (0..strips)
                .into_par_iter()
                .with_min_len(min_len)
                .for_each(run);
        }
    }

    /// The portable path: bias rows, then the blocked GEMM on the row-major weights.
    fn forward_gemm(&self, x: &[f32], rows: usize, out: &mut Vec<f32>) {
        out.reserve(rows * self.outputs);
        for _ in 0..rows {
            out.extend_from_slice(&self.bias);
        }
        let w = View {
            data: &self.packed,
            rows: self.inputs,
            cols: self.outputs,
            row_stride: 1,
            col_stride: self.inputs,
        };
        matmul(
            View::row_major(x, rows, self.inputs),
            w,
            out,
            self.outputs,
            1.0,
            true,
        );
    }

    /// Computes one strip of the output for all rows (AVX-512 layout only).
    ///
    /// # Safety
    /// `out` must point to `rows × outputs` writable floats that no other thread accesses
    /// in columns `strip·32 .. strip·32+32`.
    unsafe fn strip(&self, x: &[f32], rows: usize, strip: usize, out: *mut f32) {
        let k = self.inputs;
        let w = &self.packed[strip * k * STRIP..(strip + 1) * k * STRIP];
        let bias: &[f32; STRIP] = self.bias[strip * STRIP..(strip + 1) * STRIP]
            .try_into()
            .expect("one strip of bias");
        let mut row = 0;
        while row < rows {
            let mr = MR.min(rows - row);
            let xs = &x[row * k..(row + mr) * k];
            // SAFETY: rows row..row+mr exist in `out` (see the caller's contract), and the
            // strip's columns are in bounds because outputs = strips × 32.
            let o = unsafe { out.add(row * self.outputs + strip * STRIP) };
            match self.target {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Target::Avx512` is only chosen when the CPU has AVX-512F.
                Target::Avx512 => unsafe { avx512::block(xs, mr, k, w, bias, o, self.outputs) },
                Target::Portable => unreachable!("the portable layout runs forward_gemm"),
            }
            row += mr;
        }
    }
}

/// The output pointer, shared by strips that write disjoint columns.
struct OutPtr(*mut f32);
// SAFETY: strips write disjoint elements (see `PackedLinear::forward`).
unsafe impl Sync for OutPtr {}

/// Which kernel this CPU runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// AVX-512F, 16 lanes.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// The `gemm` crate's kernels and plain Rust the compiler vectorizes.
    Portable,
}

impl Target {
    /// The best kernel for this CPU (`ENGRAM_PORTABLE_KERNELS=1` forces the portable one).
    pub(crate) fn detect() -> Self {
        static TARGET: std::sync::OnceLock<Target> = std::sync::OnceLock::new();
        *TARGET.get_or_init(|| {
            if std::env::var_os("ENGRAM_PORTABLE_KERNELS").is_some_and(|v| v == "1") {
                return Target::Portable;
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Target::Avx512;
            }
            Target::Portable
        })
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{
        __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_storeu_ps,
    };

    use super::{MR, STRIP};

    /// One `mr × 32` output block; dispatches to a kernel with the row count fixed at
    /// compile time so the accumulators live in registers.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; `out` must be valid for writes of `mr` rows of 32
    /// floats at row stride `out_stride`; `x` holds `mr × k` floats and `w` `k × 32`.
    pub(super) unsafe fn block(
        x: &[f32],
        mr: usize,
        k: usize,
        w: &[f32],
        bias: &[f32; STRIP],
        out: *mut f32,
        out_stride: usize,
    ) {
        assert!(x.len() >= mr * k && w.len() >= k * STRIP && mr <= MR);
        // SAFETY: the asserts above bound every read; the caller bounds the writes and
        // guarantees AVX-512F.
        unsafe {
            match mr {
                8 => kernel::<8>(x, k, w, bias, out, out_stride),
                7 => kernel::<7>(x, k, w, bias, out, out_stride),
                6 => kernel::<6>(x, k, w, bias, out, out_stride),
                5 => kernel::<5>(x, k, w, bias, out, out_stride),
                4 => kernel::<4>(x, k, w, bias, out, out_stride),
                3 => kernel::<3>(x, k, w, bias, out, out_stride),
                2 => kernel::<2>(x, k, w, bias, out, out_stride),
                1 => kernel::<1>(x, k, w, bias, out, out_stride),
                _ => unreachable!("block of {mr} rows"),
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn kernel<const R: usize>(
        x: &[f32],
        k: usize,
        w: &[f32],
        bias: &[f32; STRIP],
        out: *mut f32,
        out_stride: usize,
    ) {
        // SAFETY: `block` checked that x has R × k and w has k × 32 floats; the caller
        // guarantees R writable output rows of 32 floats.
        unsafe {
            let b0 = _mm512_loadu_ps(bias.as_ptr());
            let b1 = _mm512_loadu_ps(bias.as_ptr().add(16));
            let mut acc: [[__m512; 2]; R] = [[b0, b1]; R];
            let xp = x.as_ptr();
            let mut wp = w.as_ptr();
            for p in 0..k {
                let w0 = _mm512_loadu_ps(wp);
                let w1 = _mm512_loadu_ps(wp.add(16));
                for (r, acc) in acc.iter_mut().enumerate() {
                    let a = _mm512_set1_ps(*xp.add(r * k + p));
                    acc[0] = _mm512_fmadd_ps(a, w0, acc[0]);
                    acc[1] = _mm512_fmadd_ps(a, w1, acc[1]);
                }
                wp = wp.add(STRIP);
            }
            for (r, acc) in acc.iter().enumerate() {
                let o = out.add(r * out_stride);
                _mm512_storeu_ps(o, acc[0]);
                _mm512_storeu_ps(o.add(16), acc[1]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[f32], rows: usize, w: &[f32], b: &[f32], inputs: usize) -> Vec<f32> {
        let outputs = b.len();
        let mut out = vec![0f32; rows * outputs];
        for r in 0..rows {
            for o in 0..outputs {
                let dot: f64 = (0..inputs)
                    .map(|k| f64::from(x[r * inputs + k]) * f64::from(w[o * inputs + k]))
                    .sum();
                out[r * outputs + o] = (dot + f64::from(b[o])) as f32;
            }
        }
        out
    }

    fn check(target: Target, rows: usize, inputs: usize, outputs: usize) {
        let w: Vec<f32> = (0..inputs * outputs)
            .map(|i| ((i * 7919) % 201) as f32 / 100.0 - 1.0)
            .collect();
        let b: Vec<f32> = (0..outputs).map(|i| i as f32 * 0.01).collect();
        let x: Vec<f32> = (0..rows * inputs)
            .map(|i| ((i * 104_729) % 97) as f32 / 48.0 - 1.0)
            .collect();
        let want = naive(&x, rows, &w, &b, inputs);
        let layer = PackedLinear::pack_for(target, w, b, inputs, outputs);
        let mut out = Vec::new();
        layer.forward(&x, rows, &mut out);
        assert_eq!(out.len(), want.len());
        for (i, (g, e)) in out.iter().zip(&want).enumerate() {
            assert!(
                (g - e).abs() < 1e-3,
                "{target:?} {rows}x{inputs}x{outputs} [{i}]: {g} vs {e}"
            );
        }
    }

    #[test]
    fn every_kernel_matches_a_naive_product_at_every_row_remainder() {
        let mut targets = vec![Target::Portable];
        if Target::detect() != Target::Portable {
            targets.push(Target::detect());
        }
        for target in targets {
            for rows in [0, 1, 2, 3, 5, 7, 8, 9, 16, 23, 64] {
                check(target, rows, 48, 64);
            }
            check(target, 40, 384, 1152); // large enough to run on the pool
        }
    }

    #[test]
    #[should_panic(expected = "multiple of 32")]
    fn odd_output_widths_are_refused() {
        PackedLinear::pack(vec![0.0; 10], vec![0.0; 10], 1, 10);
    }
}
