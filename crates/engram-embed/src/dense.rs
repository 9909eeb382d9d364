//! The dense layers: `y = x · Wᵀ + b` with weights packed once at load time.
//!
//! A general-purpose GEMM packs its right-hand side on every call. For the encoder that is
//! the weight matrix, the same on every call, and with the few rows a short batch has the
//! packing costs as much as the arithmetic. Here each weight matrix is stored as strips of
//! a few output columns (the path's strip width), `K × strip` contiguous floats per strip,
//! so a kernel streams it straight from memory. Strips are independent, so the two cores
//! split them.
//!
//! Every path computes each output the same way (crate `kernels` has the rule): start at the
//! bias and take one fused multiply-add per input, in input order. A SIMD kernel holds an
//! `R × strip` block of outputs in registers, one output per lane, and walks the inputs
//! once; lanes never split a sum, so widening the registers cannot change a bit. The scalar
//! path is that loop written with `f32::mul_add`: the definition the others are tested
//! against. Features are detected at run time; the binary stays portable.

#![allow(unsafe_code)]

use rayon::prelude::*;

use crate::kernels::Kernels;

/// Multiply-adds below which a product runs on the calling thread only.
const PARALLEL_WORK: usize = 1 << 19;

/// Output columns per packed strip, and rows per kernel call, for each path.
fn shape(kernels: Kernels) -> (usize, usize) {
    match kernels {
        // 8 rows × 2 registers of 16: 16 of the 32 zmm registers accumulate.
        Kernels::Avx512 => (32, 8),
        // 6 rows × 2 registers of 8: 12 of the 16 ymm registers accumulate.
        Kernels::Avx2 => (16, 6),
        // 6 rows × 4 registers of 4: 24 of the 32 q registers accumulate.
        Kernels::Neon => (16, 6),
        Kernels::Scalar => (SCALAR_STRIP, SCALAR_ROWS),
    }
}

/// Strip width of the scalar definition: two [`Portable`] arrays of 8.
const SCALAR_STRIP: usize = 16;
/// Rows the scalar definition walks side by side (each weight load serves four rows).
const SCALAR_ROWS: usize = 4;

/// A linear layer with its weights laid out for one kernel path.
pub(crate) struct PackedLinear {
    /// Strip `s` holds, for each input `k`, the weights of outputs `s·strip .. (s+1)·strip`.
    packed: Vec<f32>,
    kernels: Kernels,
    strip: usize,
    rows_per_call: usize,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl PackedLinear {
    /// Packs a PyTorch-layout (`outputs × inputs`, row-major) weight matrix for `kernels`.
    ///
    /// # Panics
    /// If `outputs` is not a multiple of 32 or the slices have the wrong length (every
    /// layer of the model satisfies both; loading checks shapes first), or if this CPU
    /// cannot run `kernels` (callers pass a supported path).
    pub(crate) fn pack(
        kernels: Kernels,
        weight: Vec<f32>,
        bias: Vec<f32>,
        inputs: usize,
        outputs: usize,
    ) -> Self {
        assert!(kernels.is_supported(), "{kernels} kernels on this CPU");
        assert_eq!(outputs % 32, 0, "outputs must be a multiple of 32");
        assert_eq!(weight.len(), inputs * outputs, "weight shape");
        assert_eq!(bias.len(), outputs, "bias shape");
        let (strip, rows_per_call) = shape(kernels);
        let mut packed = Vec::with_capacity(weight.len());
        for s in 0..outputs / strip {
            for k in 0..inputs {
                for j in 0..strip {
                    packed.push(weight[(s * strip + j) * inputs + k]);
                }
            }
        }
        Self {
            packed,
            kernels,
            strip,
            rows_per_call,
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
        out.resize(rows * self.outputs, 0.0);
        if rows == 0 {
            return;
        }
        let strips = self.outputs / self.strip;
        let work_per_strip = rows * self.strip * self.inputs;
        let dst = OutPtr(out.as_mut_ptr());
        let run = |strip: usize| {
            let dst = &dst;
            // SAFETY: strip `strip` writes only its own columns of each of the `rows` rows
            // of `out`, which has rows × outputs elements; strips are disjoint, so
            // concurrent strips never touch the same element, and `out` stays mutably
            // borrowed (not read) for the whole call.
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

    /// Computes one strip of the output for all rows.
    ///
    /// # Safety
    /// `out` must point to `rows × outputs` writable floats that no other thread accesses
    /// in this strip's columns.
    unsafe fn strip(&self, x: &[f32], rows: usize, strip: usize, out: *mut f32) {
        let (k, width) = (self.inputs, self.strip);
        let w = &self.packed[strip * k * width..(strip + 1) * k * width];
        let bias = &self.bias[strip * width..(strip + 1) * width];
        let mut row = 0;
        while row < rows {
            let mr = self.rows_per_call.min(rows - row);
            let xs = &x[row * k..(row + mr) * k];
            // SAFETY: rows row..row+mr exist in `out` (see the caller's contract), and the
            // strip's columns are in bounds because outputs = strips × width.
            let o = unsafe { out.add(row * self.outputs + strip * width) };
            let block = Block {
                x: xs,
                rows: mr,
                k,
                w,
                bias,
                out: o,
                out_stride: self.outputs,
            };
            // SAFETY: `pack` checked that the CPU runs `self.kernels`; `block` is in bounds
            // (asserted inside) and its writes are this strip's (the caller's contract).
            unsafe { run_block(self.kernels, &block) };
            row += mr;
        }
    }
}

/// One call's worth of work: `rows × width` outputs of one strip.
struct Block<'a> {
    /// `rows × k` inputs, row-major.
    x: &'a [f32],
    rows: usize,
    k: usize,
    /// The strip: `k × width` weights.
    w: &'a [f32],
    /// The strip's `width` biases.
    bias: &'a [f32],
    /// Row 0, column 0 of the block in the output.
    out: *mut f32,
    out_stride: usize,
}

/// Runs `block` on `kernels`.
///
/// # Safety
/// The CPU must run `kernels`; `block.out` must be valid for writes of `rows` rows of the
/// strip's width at `out_stride`.
unsafe fn run_block(kernels: Kernels, block: &Block<'_>) {
    let width = block.bias.len();
    assert!(block.x.len() >= block.rows * block.k && block.w.len() >= block.k * width);
    // SAFETY: the assert bounds every read, the caller bounds the writes and the CPU.
    unsafe {
        match kernels {
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx512 => x86::avx512(block),
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx2 => x86::avx2(block),
            #[cfg(target_arch = "aarch64")]
            Kernels::Neon => arm::neon(block),
            Kernels::Scalar => scalar(block),
            #[allow(unreachable_patterns)]
            other => unreachable!("{other} kernels are not built for this architecture"),
        }
    }
}

/// Dispatches a block to the kernel with its row count (one of the listed) fixed at compile
/// time, so the accumulators live in registers.
macro_rules! by_rows {
    ($lanes:ty, $c:literal, $block:expr, [$($r:literal),*]) => {
        match $block.rows {
            $($r => kernel::<$lanes, $r, $c>($block),)*
            rows => unreachable!("block of {rows} rows"),
        }
    };
}

/// The definition: each output starts at its bias and takes one `f32::mul_add` per input,
/// in input order — the generic [`kernel`] over [`Portable`] lanes, plain arrays of `f32`.
/// Compiled once for the baseline CPU and once, on x86-64, with FMA (where `mul_add` is
/// one instruction and the compiler keeps the arrays in vector registers); both copies
/// compute the same bytes.
///
/// # Safety
/// As [`run_block`].
unsafe fn scalar(block: &Block<'_>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has FMA; the caller's contract covers the rest.
        return unsafe { scalar_fma(block) };
    }
    // SAFETY: the caller's contract.
    unsafe { scalar_definition(block) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn scalar_fma(block: &Block<'_>) {
    // SAFETY: the caller's contract.
    unsafe { scalar_definition(block) }
}

#[inline(always)]
unsafe fn scalar_definition(block: &Block<'_>) {
    // SAFETY: the caller's contract; `Portable` needs no instruction set.
    unsafe { by_rows!(Portable, 2, block, [1, 2, 3, 4]) }
}

/// Eight lanes as a plain array: each lane's `f32::mul_add` is the definition itself, and
/// the compiler may keep the array in a vector register.
struct Portable;

impl Lanes for Portable {
    const N: usize = 8;
    type V = [f32; 8];
    #[inline(always)]
    unsafe fn load(p: *const f32) -> [f32; 8] {
        // SAFETY: the trait's contract.
        unsafe { p.cast::<[f32; 8]>().read_unaligned() }
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> [f32; 8] {
        [v; 8]
    }
    #[inline(always)]
    unsafe fn fma(a: [f32; 8], b: [f32; 8], acc: [f32; 8]) -> [f32; 8] {
        std::array::from_fn(|i| a[i].mul_add(b[i], acc[i]))
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: [f32; 8]) {
        // SAFETY: the trait's contract.
        unsafe { p.cast::<[f32; 8]>().write_unaligned(v) }
    }
}

/// Registers of `N` lanes with a fused multiply-add: what a SIMD path needs.
trait Lanes {
    const N: usize;
    type V: Copy;
    /// # Safety
    /// `p` readable for `N` floats; the CPU has the instruction set.
    unsafe fn load(p: *const f32) -> Self::V;
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn splat(v: f32) -> Self::V;
    /// `a · b + acc` with one rounding, per lane.
    ///
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn fma(a: Self::V, b: Self::V, acc: Self::V) -> Self::V;
    /// # Safety
    /// `p` writable for `N` floats; the CPU has the instruction set.
    unsafe fn store(p: *mut f32, v: Self::V);
}

/// The SIMD form of [`scalar_definition`] for `R` rows and a strip of `C` registers:
/// lane `j` of register `c` is output `c·N + j`, and the loop over inputs is the same.
/// Inlined into a function compiled for `L`'s instruction set.
///
/// # Safety
/// The CPU has `L`'s instruction set; `block` has `R` rows and a strip of `C · N` columns,
/// bounds as in [`run_block`].
#[inline(always)]
unsafe fn kernel<L: Lanes, const R: usize, const C: usize>(block: &Block<'_>) {
    debug_assert_eq!(block.rows, R);
    debug_assert_eq!(block.bias.len(), C * L::N);
    let k = block.k;
    // SAFETY: bounds from `run_block`'s assert and the caller's contract.
    unsafe {
        let mut bias = [L::splat(0.0); C];
        for (c, b) in bias.iter_mut().enumerate() {
            *b = L::load(block.bias.as_ptr().add(c * L::N));
        }
        let mut acc = [bias; R];
        let xp = block.x.as_ptr();
        let mut wp = block.w.as_ptr();
        for p in 0..k {
            let mut wv = bias;
            for (c, v) in wv.iter_mut().enumerate() {
                *v = L::load(wp.add(c * L::N));
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                let a = L::splat(*xp.add(r * k + p));
                for (y, &wc) in acc.iter_mut().zip(&wv) {
                    *y = L::fma(a, wc, *y);
                }
            }
            wp = wp.add(C * L::N);
        }
        for (r, acc) in acc.iter().enumerate() {
            let o = block.out.add(r * block.out_stride);
            for (c, &y) in acc.iter().enumerate() {
                L::store(o.add(c * L::N), y);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m256, __m512, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_storeu_ps,
        _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_storeu_ps,
    };

    use super::{Block, Lanes, kernel};

    pub(super) struct Avx512;

    impl Lanes for Avx512 {
        const N: usize = 16;
        type V = __m512;
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m512 {
            // SAFETY: the trait's contract.
            unsafe { _mm512_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn splat(v: f32) -> __m512 {
            // SAFETY: the trait's contract.
            unsafe { _mm512_set1_ps(v) }
        }
        #[inline(always)]
        unsafe fn fma(a: __m512, b: __m512, acc: __m512) -> __m512 {
            // SAFETY: the trait's contract.
            unsafe { _mm512_fmadd_ps(a, b, acc) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m512) {
            // SAFETY: the trait's contract.
            unsafe { _mm512_storeu_ps(p, v) }
        }
    }

    pub(super) struct Avx2;

    impl Lanes for Avx2 {
        const N: usize = 8;
        type V = __m256;
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m256 {
            // SAFETY: the trait's contract.
            unsafe { _mm256_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn splat(v: f32) -> __m256 {
            // SAFETY: the trait's contract.
            unsafe { _mm256_set1_ps(v) }
        }
        #[inline(always)]
        unsafe fn fma(a: __m256, b: __m256, acc: __m256) -> __m256 {
            // SAFETY: the trait's contract.
            unsafe { _mm256_fmadd_ps(a, b, acc) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m256) {
            // SAFETY: the trait's contract.
            unsafe { _mm256_storeu_ps(p, v) }
        }
    }

    /// # Safety
    /// AVX-512F; [`super::run_block`]'s contract with a strip of 32.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512(block: &Block<'_>) {
        // SAFETY: the caller's contract.
        unsafe { by_rows!(Avx512, 2, block, [1, 2, 3, 4, 5, 6, 7, 8]) }
    }

    /// # Safety
    /// AVX2 and FMA; [`super::run_block`]'s contract with a strip of 16.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2(block: &Block<'_>) {
        // SAFETY: the caller's contract.
        unsafe { by_rows!(Avx2, 2, block, [1, 2, 3, 4, 5, 6]) }
    }
}

/// NEON: the same kernel with 4-lane registers and `vfmaq_f32` (fused, one rounding per
/// lane). Not built on this project's x86-64 machines; correct by construction.
#[cfg(target_arch = "aarch64")]
mod arm {
    use std::arch::aarch64::{float32x4_t, vdupq_n_f32, vfmaq_f32, vld1q_f32, vst1q_f32};

    use super::{Block, Lanes, kernel};

    pub(super) struct Neon;

    impl Lanes for Neon {
        const N: usize = 4;
        type V = float32x4_t;
        #[inline(always)]
        unsafe fn load(p: *const f32) -> float32x4_t {
            // SAFETY: the trait's contract.
            unsafe { vld1q_f32(p) }
        }
        #[inline(always)]
        unsafe fn splat(v: f32) -> float32x4_t {
            // SAFETY: the trait's contract.
            unsafe { vdupq_n_f32(v) }
        }
        #[inline(always)]
        unsafe fn fma(a: float32x4_t, b: float32x4_t, acc: float32x4_t) -> float32x4_t {
            // vfmaq_f32(acc, a, b) = acc + a · b, fused.
            // SAFETY: the trait's contract.
            unsafe { vfmaq_f32(acc, a, b) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: float32x4_t) {
            // SAFETY: the trait's contract.
            unsafe { vst1q_f32(p, v) }
        }
    }

    /// # Safety
    /// [`super::run_block`]'s contract with a strip of 16.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn neon(block: &Block<'_>) {
        // SAFETY: the caller's contract.
        unsafe { by_rows!(Neon, 4, block, [1, 2, 3, 4, 5, 6]) }
    }
}

/// The output pointer, shared by strips that write disjoint columns.
struct OutPtr(*mut f32);
// SAFETY: strips write disjoint elements (see `PackedLinear::forward`).
unsafe impl Sync for OutPtr {}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[f32], rows: usize, w: &[f32], b: &[f32], inputs: usize) -> Vec<f32> {
        let outputs = b.len();
        let mut out = vec![0f32; rows * outputs];
        for r in 0..rows {
            for o in 0..outputs {
                let mut y = b[o];
                for k in 0..inputs {
                    y = x[r * inputs + k].mul_add(w[o * inputs + k], y);
                }
                out[r * outputs + o] = y;
            }
        }
        out
    }

    fn inputs(rows: usize, inputs: usize, outputs: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let w: Vec<f32> = (0..inputs * outputs)
            .map(|i| ((i * 7919) % 201) as f32 / 137.0 - 0.77)
            .collect();
        let b: Vec<f32> = (0..outputs).map(|i| i as f32 * 0.013 - 0.3).collect();
        let x: Vec<f32> = (0..rows * inputs)
            .map(|i| ((i * 104_729) % 97) as f32 / 41.0 - 1.1)
            .collect();
        (x, w, b)
    }

    /// Every path equals the one-`mul_add`-per-input definition, bit for bit, at every row
    /// remainder of every path's block, and on the pool.
    #[test]
    fn every_path_equals_the_definition_bit_for_bit() {
        let shapes = [(48, 64), (384, 1152)];
        for kernels in Kernels::available() {
            for (k, n) in shapes {
                for rows in [0, 1, 2, 3, 5, 6, 7, 8, 9, 13, 16, 23, 40] {
                    let (x, w, b) = inputs(rows, k, n);
                    let want = naive(&x, rows, &w, &b, k);
                    let layer = PackedLinear::pack(kernels, w, b, k, n);
                    let mut out = Vec::new();
                    layer.forward(&x, rows, &mut out);
                    let same = out
                        .iter()
                        .zip(&want)
                        .all(|(g, e)| g.to_bits() == e.to_bits());
                    assert!(same && out.len() == want.len(), "{kernels} {rows}x{k}x{n}");
                }
            }
        }
    }

    /// The baseline copy of the definition (no FMA instruction: `mul_add` is the C
    /// library's correctly rounded `fmaf`) gives the same bytes as the copy the scalar
    /// path runs on FMA CPUs.
    #[test]
    fn the_definition_compiled_without_fma_gives_the_same_bytes() {
        let (k, rows, outputs) = (96, 3, 32);
        let (x, w, b) = inputs(rows, k, outputs);
        let layer = PackedLinear::pack(Kernels::Scalar, w, b, k, outputs);
        let mut fast = vec![0f32; rows * outputs];
        let mut base = vec![0f32; rows * outputs];
        for (out, baseline) in [(&mut fast, false), (&mut base, true)] {
            let block = Block {
                x: &x,
                rows,
                k,
                w: &layer.packed[..k * SCALAR_STRIP],
                bias: &layer.bias[..SCALAR_STRIP],
                out: out.as_mut_ptr(),
                out_stride: outputs,
            };
            // SAFETY: `out` holds rows × outputs floats; the scalar path runs everywhere.
            unsafe {
                if baseline {
                    scalar_definition(&block);
                } else {
                    scalar(&block);
                }
            }
        }
        assert!(fast[..SCALAR_STRIP].iter().any(|v| *v != 0.0));
        assert!(
            fast.iter()
                .zip(&base)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }

    #[test]
    #[should_panic(expected = "multiple of 32")]
    fn odd_output_widths_are_refused() {
        PackedLinear::pack(Kernels::Scalar, vec![0.0; 10], vec![0.0; 10], 1, 10);
    }
}
