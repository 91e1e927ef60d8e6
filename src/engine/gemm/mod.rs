//! Single-precision matrix multiplication on row-major slices: `matmul` picks a direct loop for
//! the skinny products of the playground and a cache-blocked, packed GEMM (BLIS loop order) for
//! the rest, with a SIMD microkernel per target. Transposes are read by the packing routines, so
//! no transposed copy is ever made, and the packing buffers are reused: after the largest product
//! has been seen once, `matmul` does not allocate.
//!
//! `matmul_plus_bias` adds a bias row as it multiplies (a dense layer); `matmul_in_row_bands`
//! hands a product over a band of rows at a time (a weight gradient, for the optimizer).
//!
//! `matmul_packed_plus_bias`, `matmul_packed_transposed` and `matmul_in_panel_bands` do the
//! same for weights kept in the GEMM's own panel order while a network trains.
//!
//! Files: `blocked.rs` (loops and workspace), `bands.rs` (row bands), `panel_layout.rs`
//! (weights kept in panels), `runs.rs` (where a band lies), `read_ahead.rs` (prefetching what a
//! band's consumer reads), `pack.rs` (panels), `pack_x86.rs` (a transposed `B`'s panels with AVX2), `skinny.rs` (direct loops), `kernel_x86.rs` (AVX2+FMA), `kernel_wasm.rs` (SIMD128, or relaxed SIMD in the page's second
//! build), `kernel_generic.rs` (portable).

mod bands;
mod blocked;
mod kernel_generic;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod kernel_wasm;
#[cfg(target_arch = "x86_64")]
mod kernel_x86;
mod pack;
#[cfg(target_arch = "x86_64")]
mod pack_x86;
mod panel_layout;
#[cfg(test)]
mod panel_tests;
mod read_ahead;
mod runs;
mod skinny;
#[cfg(test)]
mod tests;

pub use panel_layout::PanelLayout;
pub use read_ahead::ReadAhead;
pub use runs::Runs;
use skinny::Start;

/// Where one operand of a product lives: its row-major data and whether it is used transposed.
#[derive(Clone, Copy, Debug)]
pub struct Operand<'a> {
    pub data: &'a [f32],
    /// Rows of the *stored* matrix.
    pub rows: usize,
    /// Columns of the *stored* matrix.
    pub cols: usize,
    pub transposed: bool,
}

impl<'a> Operand<'a> {
    pub fn new(data: &'a [f32], rows: usize, cols: usize, transposed: bool) -> Self {
        Operand {
            data,
            rows,
            cols,
            transposed,
        }
    }

    /// Rows and columns of the operand as used in the product (after the optional transpose).
    pub fn used_shape(&self) -> (usize, usize) {
        if self.transposed {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        }
    }

    /// Row and column strides of the operand as used in the product.
    fn strides(&self) -> (usize, usize) {
        if self.transposed {
            (1, self.cols)
        } else {
            (self.cols, 1)
        }
    }
}

/// A matrix as used in the product: element `(i, j)` is `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct View<'a> {
    pub data: &'a [f32],
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> View<'a> {
    fn of(operand: &Operand<'a>) -> View<'a> {
        let (row_stride, col_stride) = operand.strides();
        View {
            data: operand.data,
            row_stride,
            col_stride,
        }
    }

    #[inline(always)]
    pub fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.row_stride + j * self.col_stride]
    }
}

/// `out = op(a) · op(b)`, or `out += op(a) · op(b)` when `accumulate` (used to sum gradients).
///
/// `out` is row-major `[m, n]` where `op(a)` is `[m, k]` and `op(b)` is `[k, n]`.
/// Panics if the sizes disagree: callers (the tape ops) validate shapes first.
pub fn matmul(a: Operand<'_>, b: Operand<'_>, out: &mut [f32], accumulate: bool) {
    let shape = Shape::checked(&a, &b, out);
    let Shape { m, k, n } = shape;
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out.fill(0.0);
        }
        return;
    }
    let (a, b) = (View::of(&a), View::of(&b));
    if skinny::suits(shape, &a, &b) {
        let start = if accumulate {
            Start::Existing
        } else {
            Start::Zero
        };
        skinny::matmul(shape, a, b, out, start);
    } else {
        blocked::matmul(shape, a, b, out, accumulate);
    }
}

/// `out = op(a) · op(b) + bias`, with `bias` (one value per column of `out`) added to every row:
/// a dense layer's weighted sums. The skinny loops start their sums from the bias, so the output
/// is written once; the blocked path writes the bias rows, then adds the product to them.
///
/// Panics if the sizes disagree, as [`matmul`] does.
pub fn matmul_plus_bias(a: Operand<'_>, b: Operand<'_>, bias: &[f32], out: &mut [f32]) {
    let shape = Shape::checked(&a, &b, out);
    let Shape { m, k, n } = shape;
    assert_eq!(bias.len(), n, "matmul: one bias per column");
    if m == 0 || n == 0 {
        return;
    }
    let (a, b) = (View::of(&a), View::of(&b));
    if k > 0 && skinny::suits(shape, &a, &b) {
        return skinny::matmul(shape, a, b, out, Start::Bias(bias));
    }
    out.chunks_exact_mut(n)
        .for_each(|row| row.copy_from_slice(bias));
    if k > 0 {
        blocked::matmul(shape, a, b, out, true);
    }
}

/// `op(a) · op(b)` handed to `each_band` a band of rows at a time, in order: the index of the
/// band's first row and the band (row-major `[rows, n]`, which `each_band` may change), so that
/// a large product is never stored whole. Shapes the banded GEMM does not take (the skinny ones,
/// or deeper than one packed block) are computed into `scratch` (`m * n` floats) and handed over
/// as one band; otherwise `scratch` is left as it was. `each_band` is taken to read the band's
/// rows of each of `ahead` (at most three matrices as wide as the product), which are asked for
/// while the band is computed.
///
/// Panics if the sizes disagree, as [`matmul`] does.
pub fn matmul_in_row_bands(
    a: Operand<'_>,
    b: Operand<'_>,
    scratch: &mut [f32],
    ahead: &[ReadAhead],
    mut each_band: impl FnMut(usize, &mut [f32]),
) {
    let shape = Shape::checked(&a, &b, scratch);
    assert!(
        ahead.len() <= 3,
        "matmul_in_row_bands: at most three matrices read ahead"
    );
    let (a_view, b_view) = (View::of(&a), View::of(&b));
    if shape.k > 0 && bands::fits(shape) && !skinny::suits(shape, &a_view, &b_view) {
        return bands::in_row_bands(shape, a_view, b_view, ahead, &mut each_band);
    }
    matmul(a, b, scratch, false);
    if !scratch.is_empty() {
        each_band(0, scratch);
    }
}

/// `out = op(a) · W + bias` where `w` holds the `[k, n]` matrix `W` in `layout` (a dense layer's
/// weights kept packed while training): [`matmul_plus_bias`] without packing `W`.
///
/// Panics if the sizes disagree, as [`matmul`] does.
pub fn matmul_packed_plus_bias(
    a: Operand<'_>,
    w: &[f32],
    layout: &PanelLayout,
    bias: &[f32],
    out: &mut [f32],
) {
    let Shape { m, k, n } = Shape::packed(&a, w, layout, false, out);
    assert_eq!(bias.len(), n, "matmul: one bias per column");
    if m == 0 || n == 0 {
        return;
    }
    out.chunks_exact_mut(n)
        .for_each(|row| row.copy_from_slice(bias));
    if k > 0 {
        let packed = panel_layout::Prepacked {
            data: w,
            layout: *layout,
        };
        blocked::matmul_from_panels(Shape { m, k, n }, View::of(&a), &packed, out, true);
    }
}

/// `out = op(a) · Wᵀ`, or `out += ..` when `accumulate`, where `w` holds the `[n, k]` matrix `W`
/// in `layout` (a dense layer's input gradient `dY · Wᵀ` from weights kept packed).
///
/// Panics if the sizes disagree, as [`matmul`] does.
pub fn matmul_packed_transposed(
    a: Operand<'_>,
    w: &[f32],
    layout: &PanelLayout,
    out: &mut [f32],
    accumulate: bool,
) {
    let Shape { m, k, n } = Shape::packed(&a, w, layout, true, out);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out.fill(0.0);
        }
        return;
    }
    let packed = panel_layout::PrepackedTransposed {
        data: w,
        layout: *layout,
    };
    blocked::matmul_from_panels(Shape { m, k, n }, View::of(&a), &packed, out, accumulate);
}

/// `op(a) · op(b)`, the gradient of weights kept in `layout`, handed to `each_band` a band at a
/// time in that layout's order (a few whole panels of one block of rows): where the band lies in
/// the packed weights (as [`Runs`]) and its values, run after run, which `each_band` may change. Products the banded
/// GEMM does not take (deeper than one packed block) are computed row-major into `scratch`
/// (`m * n` floats) and handed over a row at a time. `each_band` is taken to read the band's
/// runs of each of `ahead` (at most three matrices in `layout`), which are asked for while the
/// band is computed.
///
/// Panics if the sizes disagree, as [`matmul`] does.
pub fn matmul_in_panel_bands(
    a: Operand<'_>,
    b: Operand<'_>,
    layout: &PanelLayout,
    scratch: &mut [f32],
    ahead: &[ReadAhead],
    mut each_band: impl FnMut(Runs, &mut [f32]),
) {
    let shape = Shape::checked(&a, &b, scratch);
    assert_eq!(
        (shape.m, shape.n),
        (layout.rows(), layout.cols()),
        "matmul: layout of another shape"
    );
    assert!(
        ahead.len() <= 3,
        "matmul_in_panel_bands: at most three matrices read ahead"
    );
    if shape.k > 0 && bands::fits(shape) {
        let (a, b) = (View::of(&a), View::of(&b));
        return bands::in_panel_bands(shape, a, b, layout, ahead, &mut each_band);
    }
    matmul(a, b, scratch, false);
    let n = shape.n;
    for (row, values) in scratch.chunks_exact_mut(n.max(1)).enumerate() {
        let [whole, rest] = layout.row_runs(row);
        let (head, tail) = values.split_at_mut(whole.total());
        each_band(whole, head);
        if rest.len > 0 {
            each_band(rest, tail);
        }
    }
}

/// Sizes of a product `[m, k] · [k, n]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub m: usize,
    pub k: usize,
    pub n: usize,
}

impl Shape {
    /// The sizes of `op(a) · op(b)` into `out`. Panics if they disagree: callers (the tape ops)
    /// validate shapes first.
    fn checked(a: &Operand<'_>, b: &Operand<'_>, out: &[f32]) -> Shape {
        let (m, k) = a.used_shape();
        let (k_b, n) = b.used_shape();
        assert_eq!(k, k_b, "matmul inner dimensions differ");
        assert_eq!(a.data.len(), a.rows * a.cols, "matmul: left operand size");
        assert_eq!(b.data.len(), b.rows * b.cols, "matmul: right operand size");
        assert_eq!(out.len(), m * n, "matmul: output size");
        Shape { m, k, n }
    }

    /// The sizes of `op(a) · W` (or `· Wᵀ` when `transposed`) into `out`, where `w` holds `W` in
    /// `layout`. Panics if they disagree.
    fn packed(
        a: &Operand<'_>,
        w: &[f32],
        layout: &PanelLayout,
        transposed: bool,
        out: &[f32],
    ) -> Shape {
        let (m, k) = a.used_shape();
        let (depth, n) = match transposed {
            false => (layout.rows(), layout.cols()),
            true => (layout.cols(), layout.rows()),
        };
        assert_eq!(k, depth, "matmul inner dimensions differ");
        assert_eq!(a.data.len(), a.rows * a.cols, "matmul: left operand size");
        assert_eq!(w.len(), layout.len(), "matmul: packed operand size");
        assert_eq!(out.len(), m * n, "matmul: output size");
        Shape { m, k, n }
    }
}

/// `out = op(a) · op(b)` through the cache-blocked path only, whatever the shape: the benchmarks
/// and tests use it to check the microkernels on shapes that `matmul` would send elsewhere.
pub fn matmul_blocked(a: Operand<'_>, b: Operand<'_>, out: &mut [f32], accumulate: bool) {
    let Shape { m, k, n } = Shape::checked(&a, &b, out);
    if m == 0 || n == 0 || k == 0 {
        return matmul(a, b, out, accumulate);
    }
    blocked::matmul(
        Shape { m, k, n },
        View::of(&a),
        View::of(&b),
        out,
        accumulate,
    );
}

/// `out = op(a) · op(b)` through the portable microkernel only (the reference the SIMD kernels
/// are checked against in the browser benchmark).
pub fn matmul_portable(a: Operand<'_>, b: Operand<'_>, out: &mut [f32], accumulate: bool) {
    let (m, k) = a.used_shape();
    let (_, n) = b.used_shape();
    assert_eq!(out.len(), m * n, "matmul: output size");
    if m == 0 || n == 0 || k == 0 {
        return matmul(a, b, out, accumulate);
    }
    blocked::matmul_with::<kernel_generic::Portable>(
        Shape { m, k, n },
        View::of(&a),
        View::of(&b),
        out,
        accumulate,
    );
}

/// The wasm microkernel's arithmetic alone, for the benchmark of its ceiling.
#[cfg(target_arch = "wasm32")]
pub use kernel_wasm::{PEAK_CHAINS, PEAK_ROUNDS, independent_multiply_adds};

/// The x86_64 microkernel's arithmetic alone, for the benchmark of its ceiling.
#[cfg(target_arch = "x86_64")]
pub mod x86_ceiling {
    pub use super::kernel_x86::{
        PEAK_CHAINS, PEAK_LANES, PEAK_ROUNDS, available, independent_multiply_adds,
    };
}

/// Name of the microkernel the blocked path uses on this machine (for benchmark notes).
pub fn kernel_name() -> &'static str {
    blocked::kernel_name()
}
