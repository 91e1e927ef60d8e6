//! A product handed over a band at a time, as soon as each band is computed, instead of stored
//! whole: the weight gradient `Xᵀ · dY` of a dense layer, which the optimizer then applies to
//! the band's weights while the band is still in L1. Storing a 784x512 gradient (1.6 MB) and
//! reading it back in a second pass was a third of the optimizer's memory traffic.
//!
//! Only for a product of one packed block (depth up to `KC`: a batch of up to 256 rows for a
//! weight gradient): `B` is packed once, then the product is multiplied into a buffer of
//! [`BAND_FLOATS`] floats a band at a time: a band of rows for row-major weights, a few whole
//! panels of one block of rows for weights kept in panels.

use super::blocked::{
    Block, KC, Microkernel, NC, Tiles, at_least, macro_tiles, with_best_kernel, with_workspace,
};
use super::pack::{pack_a, pack_b};
use super::panel_layout::PanelLayout;
use super::read_ahead::{BandLines, ReadAhead};
use super::runs::Runs;
use super::{Shape, View};

/// Floats in one band (48 KiB): 24 rows of a 512-wide product, which measured faster than
/// bands of 6, 12, 48 or 132 rows (the optimizer's pass over a band then reads the weights' rows,
/// and its own state's, in order, while the band is in L1); or 3 panels of a 196- or 256-row
/// block of panel-ordered weights (1 to 6 panels measured the same).
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
            if k == 0 {
                band.fill(0.0);
            } else {
                pack_a::<K>(a, i0, rows, 0, k, a_panels);
                let block = Block {
                    kc: k,
                    mc: rows,
                    nc: n,
                    i0: 0,
                    j0: 0,
                };
                let tiles = Tiles::RowMajor { ldc: n };
                multiply_band::<K>(block, a_panels, b_panels, band, tiles, ahead, runs);
            }
            each_band(i0, band);
        }
    });
}

/// Hands `op(a) · op(b)`, a `[rows, cols]` weight gradient whose weights are kept in `layout`,
/// to `each_band` in that layout's order, a few whole panels of one block at a time: where the
/// band lies in the packed weights (one contiguous run) and its values. The band's padding
/// columns are zeros. The runs of each of `ahead` (in the same layout) are prefetched while the
/// band is multiplied. Needs [`fits`].
///
/// Bands of whole panels, rather than of rows across every panel (32 runs 12.5 KiB apart for
/// the MLP's 784x512 weights), made the MLP step 4-7% faster in steps alternated in one
/// process: the optimizer's pass then streams the weights and its state in order.
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
    let panels = padded / K::NR;
    let (_, deepest) = layout.block_of(0);
    with_workspace(|workspace| {
        let a_panels = at_least(&mut workspace.a, deepest.next_multiple_of(K::MR) * k);
        let b_panels = at_least(&mut workspace.b, k * padded);
        let band_buffer = at_least(&mut workspace.band, BAND_FLOATS.max(deepest * K::NR));
        pack_b::<K>(b, 0, k, 0, n, b_panels);
        let mut first = 0;
        while first < m {
            let (first_row, rows) = layout.block_of(first);
            if k > 0 {
                pack_a::<K>(a, first_row, rows, 0, k, a_panels);
            }
            let per_band = (BAND_FLOATS / (rows * K::NR)).max(1);
            for panel in (0..panels).step_by(per_band) {
                let count = per_band.min(panels - panel);
                let j0 = panel * K::NR;
                let band = &mut band_buffer[..count * rows * K::NR];
                // The block's panels lie one after the other: the band is one run.
                let runs = Runs::contiguous(first_row * padded + j0 * rows, band.len());
                if k == 0 {
                    band.fill(0.0);
                } else {
                    let block = Block {
                        kc: k,
                        mc: rows,
                        nc: (count * K::NR).min(n - j0),
                        i0: 0,
                        j0: 0,
                    };
                    let tiles = Tiles::Panels { rows };
                    let b_band = &b_panels[j0 * k..];
                    multiply_band::<K>(block, a_panels, b_band, band, tiles, ahead, runs);
                    if j0 + count * K::NR > n {
                        let last = &mut band[(count - 1) * rows * K::NR..];
                        for row in last.chunks_exact_mut(K::NR) {
                            row[n % K::NR..].fill(0.0);
                        }
                    }
                }
                each_band(runs, band);
            }
            first = first_row + rows;
        }
    });
}

/// Multiplies one band, `block` of the product from `A`'s packed panels and `B`'s, into
/// `band` laid out as `tiles`, asking for `runs` of each of `ahead` among the tiles.
fn multiply_band<K: Microkernel>(
    block: Block,
    a_panels: &[f32],
    b_panels: &[f32],
    band: &mut [f32],
    tiles: Tiles,
    ahead: &[ReadAhead],
    runs: Runs,
) {
    let calls = block.mc.div_ceil(K::MR) * block.nc.div_ceil(K::NR);
    let mut lines = BandLines::new(ahead, runs, calls);
    macro_tiles::<K>(block, a_panels, b_panels, band, tiles, false, || {
        lines.ask()
    });
}
