//! A product handed over a band of rows at a time, as soon as each band is computed, instead of
//! stored whole: the weight gradient `Xᵀ · dY` of a dense layer, which the optimizer then applies
//! to the band's rows of the weights while the band is still in L1. Storing a 784x512 gradient
//! (1.6 MB) and reading it back in a second pass was a third of the optimizer's memory traffic.
//!
//! Only for a product of one packed block (depth up to `KC`: a batch of up to 256 rows for a
//! weight gradient): `B` is packed once, then each band of `A`'s rows is packed and multiplied
//! into a buffer of [`BAND_FLOATS`] floats.

use super::blocked::{
    Block, KC, Microkernel, NC, Tiles, at_least, macro_tiles, with_best_kernel, with_workspace,
};
use super::pack::{pack_a, pack_b};
use super::panel_layout::PanelLayout;
use super::read_ahead::{BandLines, ReadAhead};
use super::runs::Runs;
use super::{Shape, View};

/// Floats in one band (48 KiB): a band of 24 rows of a 512-wide product, which measured
/// faster than bands of 6, 12, 48 or 132 rows (the optimizer's pass over a band then reads the
/// weights' rows, and its own state's, in order, while the band is in L1).
const BAND_FLOATS: usize = 12 * 1024;

/// Whether [`in_row_bands`] takes a product of this shape.
pub(super) fn fits(shape: Shape) -> bool {
    shape.k <= KC && shape.n <= NC
}

/// Hands `op(a) · op(b)` to `each_band` a band of rows at a time, in order: the index of the
/// band's first row and its rows (row-major, `n` floats each). The band's rows of each of
/// `ahead` (at most three) are prefetched while the band is multiplied. Needs [`fits`].
pub(super) fn in_row_bands(
    shape: Shape,
    a: View<'_>,
    b: View<'_>,
    ahead: &[ReadAhead],
    each_band: &mut dyn FnMut(usize, &mut [f32]),
) {
    assert!(fits(shape), "product too deep or too wide for row bands");
    with_best_kernel!(K => in_row_bands_with::<K>(shape, a, b, ahead, each_band))
}

/// [`in_row_bands`] with microkernel `K` (the portable one in tests).
pub(super) fn in_row_bands_with<K: Microkernel>(
    shape: Shape,
    a: View<'_>,
    b: View<'_>,
    ahead: &[ReadAhead],
    each_band: &mut dyn FnMut(usize, &mut [f32]),
) {
    let Shape { m, k, n } = shape;
    if m == 0 || n == 0 {
        return;
    }
    let band_rows = (BAND_FLOATS / n / K::MR).max(1) * K::MR;
    let band_rows = band_rows.min(m.next_multiple_of(K::MR));
    with_workspace(|workspace| {
        let a_panels = at_least(&mut workspace.a, band_rows * k);
        let b_panels = at_least(&mut workspace.b, k * n.next_multiple_of(K::NR));
        let band = at_least(&mut workspace.band, band_rows * n);
        pack_b::<K>(b, 0, k, 0, n, b_panels);
        for i0 in (0..m).step_by(band_rows) {
            let rows = band_rows.min(m - i0);
            let band = &mut band[..rows * n];
            let runs = Runs::contiguous(i0 * n, rows * n);
            let tiles = Tiles::RowMajor { ldc: n };
            let panels = Panels { a_panels, b_panels };
            multiply_band::<K>(a, i0, rows, shape, panels, band, tiles, ahead, runs);
            each_band(i0, band);
        }
    });
}

/// Hands `op(a) · op(b)`, a `[rows, cols]` weight gradient whose weights are kept in `layout`,
/// to `each_band` a band of rows at a time, in that layout's order: where the band lies in the
/// packed weights, and its values, panel after panel. A band never straddles two of the
/// layout's blocks; the band's padding columns are zeros. The runs of each of `ahead` (in the
/// same layout) are prefetched while the band is multiplied. Needs [`fits`].
pub(super) fn in_panel_bands(
    shape: Shape,
    a: View<'_>,
    b: View<'_>,
    layout: &PanelLayout,
    ahead: &[ReadAhead],
    each_band: &mut dyn FnMut(Runs, &mut [f32]),
) {
    assert!(fits(shape), "product too deep or too wide for row bands");
    with_best_kernel!(K => in_panel_bands_with::<K>(shape, a, b, layout, ahead, each_band))
}

/// [`in_panel_bands`] with microkernel `K` (the portable one in tests).
pub(super) fn in_panel_bands_with<K: Microkernel>(
    shape: Shape,
    a: View<'_>,
    b: View<'_>,
    layout: &PanelLayout,
    ahead: &[ReadAhead],
    each_band: &mut dyn FnMut(Runs, &mut [f32]),
) {
    let Shape { m, k, n } = shape;
    assert_eq!(
        (layout.rows(), layout.cols()),
        (m, n),
        "layout of another shape"
    );
    assert_eq!(layout.width(), K::NR, "layout for another kernel");
    if m == 0 || n == 0 {
        return;
    }
    let padded = n.next_multiple_of(K::NR);
    let band_rows = (BAND_FLOATS / padded / K::MR).max(1) * K::MR;
    with_workspace(|workspace| {
        let a_panels = at_least(&mut workspace.a, band_rows * k);
        let b_panels = at_least(&mut workspace.b, k * padded);
        let band = at_least(&mut workspace.band, band_rows * padded);
        pack_b::<K>(b, 0, k, 0, n, b_panels);
        let mut first = 0;
        while first < m {
            let (block_first, block_rows) = layout.block_of(first);
            let rows = band_rows.min(block_first + block_rows - first);
            let band = &mut band[..rows * padded];
            let runs = layout.band_runs(first, rows);
            let tiles = Tiles::Panels { rows };
            let panels = Panels { a_panels, b_panels };
            multiply_band::<K>(a, first, rows, shape, panels, band, tiles, ahead, runs);
            if n < padded {
                let last = &mut band[(padded / K::NR - 1) * rows * K::NR..];
                for row in last.chunks_exact_mut(K::NR) {
                    row[n % K::NR..].fill(0.0);
                }
            }
            each_band(runs, band);
            first += rows;
        }
    });
}

/// The packing buffers of a banded product: `A`'s (filled band by band) and `B`'s (packed once).
struct Panels<'p> {
    a_panels: &'p mut [f32],
    b_panels: &'p [f32],
}

/// Packs rows `first..first + rows` of `op(A)` and multiplies them by `B`'s packed panels into
/// `band`, laid out as `tiles`, asking for `runs` of each of `ahead` among the tiles (zeros for
/// an empty depth).
#[allow(clippy::too_many_arguments)]
fn multiply_band<K: Microkernel>(
    a: View<'_>,
    first: usize,
    rows: usize,
    shape: Shape,
    panels: Panels<'_>,
    band: &mut [f32],
    tiles: Tiles,
    ahead: &[ReadAhead],
    runs: Runs,
) {
    let Shape { k, n, .. } = shape;
    if k == 0 {
        return band.fill(0.0);
    }
    pack_a::<K>(a, first, rows, 0, k, panels.a_panels);
    let block = Block {
        kc: k,
        mc: rows,
        nc: n,
        i0: 0,
        j0: 0,
    };
    let calls = rows.div_ceil(K::MR) * n.div_ceil(K::NR);
    let mut lines = BandLines::new(ahead, runs, calls);
    let (a_panels, b_panels) = (&*panels.a_panels, panels.b_panels);
    macro_tiles::<K>(block, a_panels, b_panels, band, tiles, false, || {
        lines.ask()
    });
}
