//! The one place the embedder multiplies matrices.
//!
//! A thin, bounds-checked wrapper over the `gemm` crate, which picks AVX-512, AVX2/FMA or a
//! portable kernel at run time. Every other module stays safe code.

use gemm::Parallelism;

/// A strided view of a row-major-or-not f32 matrix: element (i, j) is at
/// `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) data: &'a [f32],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) row_stride: usize,
    pub(crate) col_stride: usize,
}

impl<'a> View<'a> {
    /// A dense row-major `rows × cols` matrix.
    pub(crate) fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    fn max_index(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
        }
    }
}

/// Work above which a product is split across the rayon pool.
const PARALLEL_FLOPS: usize = 1 << 18;

/// `out[m × n] (row stride out_stride) = (accumulate ? out : 0) + scale · a[m × k] · b[k × n]`.
pub(crate) fn matmul(
    a: View<'_>,
    b: View<'_>,
    out: &mut [f32],
    out_stride: usize,
    scale: f32,
    accumulate: bool,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner dimensions differ");
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        a.max_index() < a.data.len() || k == 0,
        "lhs view out of bounds"
    );
    assert!(
        b.max_index() < b.data.len() || k == 0,
        "rhs view out of bounds"
    );
    assert!(
        (m - 1) * out_stride + n <= out.len() && n <= out_stride,
        "output out of bounds"
    );
    let parallelism = if m * n * k >= PARALLEL_FLOPS {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    };
    // SAFETY: the asserts above keep every index the kernel touches, (i, j) for i < m, j < n,
    // p < k at the given strides, inside `a.data`, `b.data` and `out`; `out` is borrowed
    // mutably, so it cannot alias the inputs.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            out_stride as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            scale,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_naive_product() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| i as f32 * 0.5 - 3.0).collect();
        let w: Vec<f32> = (0..n * k).map(|i| (i % 5) as f32 - 2.0).collect(); // n × k
        let mut out = vec![1.0; m * n];
        matmul(
            View::row_major(&a, m, k),
            View {
                data: &w,
                rows: k,
                cols: n,
                row_stride: 1,
                col_stride: k,
            },
            &mut out,
            n,
            2.0,
            true,
        );
        for i in 0..m {
            for j in 0..n {
                let dot: f32 = (0..k).map(|p| a[i * k + p] * w[j * k + p]).sum();
                assert!((out[i * n + j] - (1.0 + 2.0 * dot)).abs() < 1e-4);
            }
        }
    }
}
