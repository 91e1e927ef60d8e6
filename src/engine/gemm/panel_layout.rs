//! Weights kept in the blocked GEMM's panel order while a network trains ([`PanelLayout`]).
//! Packing a dense layer's weights into panels on every product was 7-12% of the MLP
//! benchmark's step: kept packed, the forward product reads them as they lie
//! ([`Prepacked`]), the input gradient builds `Wᵀ`'s panels from their contiguous rows of
//! panels ([`PrepackedTransposed`]), and the weight gradient is computed band by band in the
//! same order (`bands.rs`), a few whole panels at a time, so that the optimizer updates one
//! contiguous run of the weights (and of its state) per band.

use super::blocked::{KC, Microkernel, PanelSource, even_block};
use super::runs::Runs;

/// A `[rows, cols]` matrix (a dense layer's weights, inputs by outputs) stored as the blocked
/// GEMM's right operand: blocks of `depth` rows one after the other (the last may be shorter);
/// inside a block, its columns in panels `width` wide (the last padded with zeros), each panel
/// holding the block's rows of `width` values one after the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PanelLayout {
    rows: usize,
    cols: usize,
    depth: usize,
    width: usize,
}

impl PanelLayout {
    /// The layout in which the blocked GEMM of this machine reads a `[rows, cols]` operand.
    pub fn new(rows: usize, cols: usize) -> PanelLayout {
        PanelLayout::with_width(rows, cols, super::blocked::panel_width())
    }

    /// The layout for a microkernel `width` columns wide.
    pub(super) fn with_width(rows: usize, cols: usize, width: usize) -> PanelLayout {
        PanelLayout {
            rows,
            cols,
            depth: even_block(rows.max(1), KC, 1),
            width,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Floats the packed matrix takes (padding included).
    pub fn len(&self) -> usize {
        self.rows * self.padded_cols()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn width(&self) -> usize {
        self.width
    }

    fn padded_cols(&self) -> usize {
        self.cols.next_multiple_of(self.width)
    }

    fn panels(&self) -> usize {
        self.cols.div_ceil(self.width)
    }

    /// The block holding row `row`: its first row and its number of rows.
    pub(super) fn block_of(&self, row: usize) -> (usize, usize) {
        let first = row / self.depth * self.depth;
        (first, self.depth.min(self.rows - first))
    }

    /// Where row `row`'s values of the first panel start, and the distance from one panel's to
    /// the next (its block's rows times the width).
    pub(super) fn row_start(&self, row: usize) -> (usize, usize) {
        let (first, rows) = self.block_of(row);
        (
            first * self.padded_cols() + (row - first) * self.width,
            rows * self.width,
        )
    }

    /// Offset of element `(row, col)` in the packed matrix.
    pub fn offset(&self, row: usize, col: usize) -> usize {
        let (start, stride) = self.row_start(row);
        start + col / self.width * stride + col % self.width
    }

    /// Packs the row-major `matrix` into `packed` (padding zeroed).
    pub fn pack(&self, matrix: &[f32], packed: &mut [f32]) {
        assert_eq!(matrix.len(), self.rows * self.cols, "pack: matrix size");
        assert_eq!(packed.len(), self.len(), "pack: packed size");
        let width = self.width;
        for (row, values) in matrix.chunks_exact(self.cols.max(1)).enumerate() {
            let (start, stride) = self.row_start(row);
            for (panel, piece) in values.chunks(width).enumerate() {
                let target = &mut packed[start + panel * stride..][..width];
                target[..piece.len()].copy_from_slice(piece);
                target[piece.len()..].fill(0.0);
            }
        }
    }

    /// Writes the packed matrix back into the row-major `matrix`.
    pub fn unpack(&self, packed: &[f32], matrix: &mut [f32]) {
        assert_eq!(matrix.len(), self.rows * self.cols, "unpack: matrix size");
        assert_eq!(packed.len(), self.len(), "unpack: packed size");
        let width = self.width;
        for (row, values) in matrix.chunks_exact_mut(self.cols.max(1)).enumerate() {
            let (start, stride) = self.row_start(row);
            for (panel, piece) in values.chunks_mut(width).enumerate() {
                piece.copy_from_slice(&packed[start + panel * stride..][..piece.len()]);
            }
        }
    }

    /// Hands `each` the packed matrix's values a row's panel at a time, padding left out.
    pub fn for_each_piece(&self, packed: &[f32], mut each: impl FnMut(&[f32])) {
        assert_eq!(packed.len(), self.len(), "for_each_piece: packed size");
        for row in 0..self.rows {
            let (start, stride) = self.row_start(row);
            for panel in 0..self.panels() {
                let len = self.width.min(self.cols - panel * self.width);
                each(&packed[start + panel * stride..][..len]);
            }
        }
    }

    /// Where row `row`'s values lie: the runs of its whole panels, and of the last panel's
    /// values if it is partly padding (for a gradient computed row-major).
    pub(super) fn row_runs(&self, row: usize) -> [Runs; 2] {
        let (start, stride) = self.row_start(row);
        let whole = self.cols / self.width;
        [
            Runs {
                first: start,
                len: self.width,
                stride,
                count: whole,
            },
            Runs::contiguous(start + whole * stride, self.cols % self.width),
        ]
    }
}

/// A matrix kept in a [`PanelLayout`], as the right operand of a product: its panels are read
/// where they lie.
pub(super) struct Prepacked<'a> {
    pub data: &'a [f32],
    pub layout: PanelLayout,
}

impl PanelSource for Prepacked<'_> {
    fn panels<'s, K: Microkernel>(
        &'s self,
        p0: usize,
        kc: usize,
        j0: usize,
        nc: usize,
        _buffer: &'s mut [f32],
    ) -> &'s [f32] {
        let layout = &self.layout;
        assert_eq!(layout.width, K::NR, "packed for another kernel");
        assert_eq!(layout.block_of(p0), (p0, kc), "depth blocks differ");
        let start = p0 * layout.padded_cols() + j0 / K::NR * kc * K::NR;
        &self.data[start..start + nc.div_ceil(K::NR) * kc * K::NR]
    }
}

/// A matrix kept in a [`PanelLayout`], transposed, as the right operand of a product (an input
/// gradient `dY · Wᵀ`): each panel of `Wᵀ` is gathered from `NR` rows of `W`, whose values lie
/// in contiguous runs of the panel width.
pub(super) struct PrepackedTransposed<'a> {
    pub data: &'a [f32],
    pub layout: PanelLayout,
}

impl PanelSource for PrepackedTransposed<'_> {
    fn panels<'s, K: Microkernel>(
        &'s self,
        p0: usize,
        kc: usize,
        j0: usize,
        nc: usize,
        buffer: &'s mut [f32],
    ) -> &'s [f32] {
        let nr = K::NR;
        let buffer = &mut buffer[..nc.div_ceil(nr) * nr * kc];
        for (index, panel) in buffer.chunks_exact_mut(nr * kc).enumerate() {
            self.gather_panel(p0, kc, j0 + index * nr, panel, nr);
        }
        buffer
    }
}

impl PrepackedTransposed<'_> {
    /// Fills `panel` (`kc` groups of `nr`) with `W[first + c][p0 + p]` at `p * nr + c`, zeros for
    /// rows past `W`'s last.
    fn gather_panel(&self, p0: usize, kc: usize, first: usize, panel: &mut [f32], nr: usize) {
        let layout = &self.layout;
        let width = layout.width;
        let c0 = self.gather_eight_rows_at_once(p0, kc, first, panel, nr);
        for c in c0..nr {
            let row = first + c;
            if row >= layout.rows {
                panel[c..].iter_mut().step_by(nr).for_each(|v| *v = 0.0);
                continue;
            }
            // Row `row` of `W` from column `p0`, a panel's run at a time.
            let (start, stride) = layout.row_start(row);
            let (mut piece, mut within) = (p0 / width, p0 % width);
            let mut run = &self.data[start + piece * stride..][..width];
            for value in panel[c..].iter_mut().step_by(nr) {
                if within == width {
                    (piece, within) = (piece + 1, 0);
                    run = &self.data[start + piece * stride..][..width];
                }
                *value = run[within];
                within += 1;
            }
        }
    }

    /// Fills the panel's columns eight at a time with AVX2 while whole groups of eight rows
    /// remain and the runs allow it; returns the first column left to fill.
    #[cfg(target_arch = "x86_64")]
    fn gather_eight_rows_at_once(
        &self,
        p0: usize,
        kc: usize,
        first: usize,
        panel: &mut [f32],
        nr: usize,
    ) -> usize {
        let layout = &self.layout;
        let mut c0 = 0;
        if nr.is_multiple_of(8)
            && layout.width.is_multiple_of(8)
            && p0.is_multiple_of(8)
            && super::pack_x86::available()
        {
            while c0 + 8 <= nr && first + c0 + 8 <= layout.rows {
                let rows = std::array::from_fn(|c| layout.row_start(first + c0 + c));
                let width = layout.width;
                super::pack_x86::panel_from_rows(self.data, rows, width, p0, kc, panel, nr, c0);
                c0 += 8;
            }
        }
        c0
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn gather_eight_rows_at_once(
        &self,
        _: usize,
        _: usize,
        _: usize,
        _: &mut [f32],
        _: usize,
    ) -> usize {
        0
    }
}
