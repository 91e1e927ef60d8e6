//! A product handed over a band of rows at a time, as soon as each band is computed, instead of
//! stored whole: the weight gradient `Xᵀ · dY` of a dense layer, which the optimizer then applies
//! to the band's rows of the weights while the band is still in L1. Storing a 784x512 gradient
//! (1.6 MB) and reading it back in a second pass was a third of the optimizer's memory traffic.
//!
//! Only for a product of one packed block (depth up to `KC`: a batch of up to 256 rows for a
//! weight gradient): `B` is packed once, then each band of `A`'s rows is packed and multiplied
//! into a buffer of [`BAND_FLOATS`] floats.

use super::blocked::{Block, KC, Microkernel, NC, at_least, macro_tiles, with_workspace};
use super::pack::{pack_a, pack_b};
use super::read_ahead::{BandLines, ReadAhead};
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
    #[cfg(target_arch = "x86_64")]
    if super::kernel_x86::available() {
        return in_row_bands_with::<super::kernel_x86::Avx2Fma>(shape, a, b, ahead, each_band);
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return in_row_bands_with::<super::kernel_wasm::Simd128>(shape, a, b, ahead, each_band);
    #[allow(unreachable_code)]
    in_row_bands_with::<super::kernel_generic::Portable>(shape, a, b, ahead, each_band)
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
                let tiles = rows.div_ceil(K::MR) * n.div_ceil(K::NR);
                let mut lines = BandLines::new(ahead, i0 * n, (i0 + rows) * n, tiles);
                macro_tiles::<K>(block, a_panels, b_panels, band, n, false, || lines.ask());
            }
            each_band(i0, band);
        }
    });
}
