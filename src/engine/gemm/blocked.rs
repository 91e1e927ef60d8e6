//! The cache-blocked GEMM (BLIS loop order): `B` is packed one `KC x NC` block at a time into
//! `NR`-column panels (kept in L3/L2), `A` one `MC x KC` block at a time into `MR`-row panels
//! (kept in L2), and the microkernel multiplies one `MR`-row panel by one `NR`-column panel into
//! an `MR x NR` tile of `C` held in registers. The packing buffers live in a thread-local
//! workspace that only grows, so steady-state training does not allocate.
//!
//! Packing `B` is its own pass over the block, not a copy made by the first tile of each panel
//! as it multiplies (which this module did until that measured slower where it matters): a
//! weight matrix that has left L2 was then read a cache line per row, 2 KiB apart, which no
//! prefetcher follows, and the MLP step's 784x512 forward product ran at 40-45 GFLOP/s instead
//! of 60-70 with the row-by-row pass of [`pack_b`].

use std::cell::RefCell;

use super::pack::{pack_a, pack_b};
use super::{Shape, View};

/// Where the blocked loops find `op(B)`'s `NR`-column panels: packed on the spot from a matrix
/// ([`View`]), or already in panel order (weights kept packed while training, see
/// `panel_layout.rs`).
pub(super) trait PanelSource {
    /// The panels of depth `p0..p0 + kc`, columns `j0..j0 + nc` (`j0` a multiple of `NR`), `kc`
    /// groups of `NR` values each: packed into `buffer`, or borrowed from where they are.
    fn panels<'s, K: Microkernel>(
        &'s self,
        p0: usize,
        kc: usize,
        j0: usize,
        nc: usize,
        buffer: &'s mut [f32],
    ) -> &'s [f32];
}

impl PanelSource for View<'_> {
    fn panels<'s, K: Microkernel>(
        &'s self,
        p0: usize,
        kc: usize,
        j0: usize,
        nc: usize,
        buffer: &'s mut [f32],
    ) -> &'s [f32] {
        pack_b::<K>(*self, p0, kc, j0, nc, buffer);
        buffer
    }
}

/// Depth of one packed block: a `KC x NR` panel of `B` (16 KiB for `NR = 16`) stays in L1.
pub(super) const KC: usize = 256;
/// Rows of `A` packed at once (rounded to a multiple of `MR`): `MC x KC` floats stay in L2.
const MC: usize = 132;
/// Columns of `B` packed at once (rounded to a multiple of `NR`).
pub(super) const NC: usize = 4096;
/// Columns of `B` packed at once where `A` is one block of rows: a `KC x 128` piece (128 KiB)
/// stays in L2 beside `A`'s block. The MLP step measured 0.5-2.5% faster with 96, 128 or 160 than
/// with the whole width (in steps alternated within one process).
const NC_ONE_ROW_BLOCK: usize = 128;

/// A register-tile multiply: `C[rows x cols] (+)= A_panel · B_panel` over `k` steps.
pub(super) trait Microkernel {
    /// Rows of the register tile (of an `A` panel).
    const MR: usize;
    /// Columns of the register tile (of a `B` panel).
    const NR: usize;
    const NAME: &'static str;

    /// Multiplies the packed panels `a` (`k` groups of `MR` values) and `b` (`k` groups of `NR`)
    /// and writes the top-left `rows x cols` of the product to `c` (row stride `ldc`), adding to
    /// what is there when `accumulate`.
    ///
    /// # Safety
    /// `a` holds `k * MR` and `b` `k * NR` readable floats; `rows <= MR`, `cols <= NR`, and
    /// `c + r * ldc + j` is writable for every `r < rows`, `j < cols`. The CPU supports the
    /// kernel's instructions.
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile(
        k: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        rows: usize,
        cols: usize,
        accumulate: bool,
    );
}

/// The packed panels (and the band of [`super::bands`]), reused from call to call.
#[derive(Default)]
pub(super) struct Workspace {
    pub a: Vec<f32>,
    pub b: Vec<f32>,
    pub band: Vec<f32>,
}

thread_local! {
    static WORKSPACE: RefCell<Workspace> = RefCell::new(Workspace::default());
}

/// Runs `work` with the thread's workspace, or with a private one (which allocates, still
/// correct) when it is in use already or the thread is being torn down.
pub(super) fn with_workspace(mut work: impl FnMut(&mut Workspace)) {
    match WORKSPACE.try_with(|cell| cell.try_borrow_mut().map(|mut w| work(&mut w))) {
        Ok(Ok(())) => {}
        _ => work(&mut Workspace::default()),
    }
}

/// Grows `buffer` to at least `len` floats (never shrinks, so it allocates only on a new maximum).
pub(super) fn at_least(buffer: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    &mut buffer[..len]
}

/// Evaluates `$body` (which ends the calling function) with `$K` standing for the best
/// microkernel this machine runs: AVX2+FMA where the CPU has it, SIMD128 in wasm, the portable
/// kernel otherwise.
macro_rules! with_best_kernel {
    ($K:ident => $body:expr) => {{
        #[cfg(target_arch = "x86_64")]
        if super::kernel_x86::available() {
            type $K = super::kernel_x86::Avx2Fma;
            return $body;
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            type $K = super::kernel_wasm::Simd128;
            return $body;
        }
        #[allow(unreachable_code)]
        {
            type $K = super::kernel_generic::Portable;
            $body
        }
    }};
}
pub(super) use with_best_kernel;

/// `out (+)= op(a) · op(b)` with the best microkernel this machine runs.
pub(super) fn matmul(shape: Shape, a: View<'_>, b: View<'_>, out: &mut [f32], accumulate: bool) {
    with_best_kernel!(K => matmul_with::<K>(shape, a, b, out, accumulate))
}

/// `out (+)= op(a) · B` where `b` already holds `B`'s panels (or builds them), with the best
/// microkernel this machine runs.
pub(super) fn matmul_from_panels(
    shape: Shape,
    a: View<'_>,
    b: &impl PanelSource,
    out: &mut [f32],
    accumulate: bool,
) {
    with_best_kernel!(K => matmul_from::<K>(shape, a, b, out, accumulate))
}

/// Name of the microkernel [`matmul`] uses here.
pub(super) fn kernel_name() -> &'static str {
    with_best_kernel!(K => K::NAME)
}

/// Columns of a `B` panel for the microkernel [`matmul`] uses here.
pub(super) fn panel_width() -> usize {
    with_best_kernel!(K => K::NR)
}

/// Splits `total` into the fewest blocks of at most `max` and returns an even block size,
/// rounded up to a multiple of `multiple` (so that 784 is cut 196 x 4, not 256 x 3 + 16).
pub(super) fn even_block(total: usize, max: usize, multiple: usize) -> usize {
    let blocks = total.div_ceil(max);
    total.div_ceil(blocks).next_multiple_of(multiple)
}

/// The blocked loops with microkernel `K`.
pub(super) fn matmul_with<K: Microkernel>(
    shape: Shape,
    a: View<'_>,
    b: View<'_>,
    out: &mut [f32],
    accumulate: bool,
) {
    matmul_from::<K>(shape, a, &b, out, accumulate)
}

/// The blocked loops with microkernel `K`, reading `op(B)`'s panels from `b`.
pub(super) fn matmul_from<K: Microkernel>(
    shape: Shape,
    a: View<'_>,
    b: &impl PanelSource,
    out: &mut [f32],
    accumulate: bool,
) {
    let Shape { m, k, n } = shape;
    let kc_max = even_block(k, KC, 1);
    let mc_max = even_block(m, MC.next_multiple_of(K::MR), K::MR);
    let nc_max = even_block(n, NC.next_multiple_of(K::NR), K::NR);
    with_workspace(|workspace| {
        let a_panels = at_least(&mut workspace.a, mc_max * kc_max);
        if m <= mc_max {
            return one_row_block::<K>(shape, a, b, out, accumulate, a_panels, &mut workspace.b);
        }
        let b_buffer = at_least(&mut workspace.b, kc_max * nc_max);
        for j0 in (0..n).step_by(nc_max) {
            let nc = nc_max.min(n - j0);
            for p0 in (0..k).step_by(kc_max) {
                let kc = kc_max.min(k - p0);
                let b_panels = b.panels::<K>(p0, kc, j0, nc, b_buffer);
                // Only the first depth block sees the caller's `accumulate`; later ones add.
                let add = accumulate || p0 > 0;
                for i0 in (0..m).step_by(mc_max) {
                    let mc = mc_max.min(m - i0);
                    pack_a::<K>(a, i0, mc, p0, kc, a_panels);
                    let block = Block { kc, mc, nc, i0, j0 };
                    let tiles = Tiles::RowMajor { ldc: n };
                    macro_tiles::<K>(block, a_panels, b_panels, out, tiles, add, || {});
                }
            }
        }
    });
}

/// [`matmul_from`] where `op(A)` is one block of rows (a batch times a weight matrix: a dense
/// layer's forward product and its input gradient). Each depth block of `A` is packed once, then
/// `B` is packed [`NC_ONE_ROW_BLOCK`] columns at a time, so that the packed piece of `B` stays
/// in L2 until its tiles have read it: a whole 256-deep block of a 512-wide `B` is 512 KiB,
/// L2's size, and its first panels had left for L3 by the time their tiles ran.
fn one_row_block<K: Microkernel>(
    shape: Shape,
    a: View<'_>,
    b: &impl PanelSource,
    out: &mut [f32],
    accumulate: bool,
    a_panels: &mut [f32],
    b_buffer: &mut Vec<f32>,
) {
    let Shape { m, k, n } = shape;
    let kc_max = even_block(k, KC, 1);
    let nc_max = even_block(n, NC_ONE_ROW_BLOCK, K::NR);
    let b_buffer = at_least(b_buffer, kc_max * nc_max);
    for p0 in (0..k).step_by(kc_max) {
        let kc = kc_max.min(k - p0);
        pack_a::<K>(a, 0, m, p0, kc, a_panels);
        // Only the first depth block sees the caller's `accumulate`; later ones add.
        let add = accumulate || p0 > 0;
        for j0 in (0..n).step_by(nc_max) {
            let nc = nc_max.min(n - j0);
            let b_panels = b.panels::<K>(p0, kc, j0, nc, b_buffer);
            let block = Block {
                kc,
                mc: m,
                nc,
                i0: 0,
                j0,
            };
            let tiles = Tiles::RowMajor { ldc: n };
            macro_tiles::<K>(block, a_panels, b_panels, out, tiles, add, || {});
        }
    }
}

/// One `mc x nc` block of the output, `kc` deep, from row `i0` and column `j0`.
#[derive(Clone, Copy)]
pub(super) struct Block {
    pub kc: usize,
    pub mc: usize,
    pub nc: usize,
    pub i0: usize,
    pub j0: usize,
}

/// How the output's tiles lie in memory.
#[derive(Clone, Copy, Debug)]
pub(super) enum Tiles {
    /// Row-major, `ldc` floats a row.
    RowMajor { ldc: usize },
    /// In `NR`-column panels of `rows` rows each, one after the other, row-major inside (the
    /// order of weights kept packed: a weight gradient's band is then updated a panel at a
    /// time against contiguous weights).
    Panels { rows: usize },
}

impl Tiles {
    /// Offset of element `(i, j)`, `j` a multiple of `nr`, and the row stride from there.
    fn at(self, i: usize, j: usize, nr: usize) -> (usize, usize) {
        match self {
            Tiles::RowMajor { ldc } => (i * ldc + j, ldc),
            Tiles::Panels { rows } => ((j / nr) * rows * nr + i * nr, nr),
        }
    }

    /// Floats the output needs for rows `..rows_end`, columns `..cols_end`.
    fn needs(self, rows_end: usize, cols_end: usize, nr: usize) -> usize {
        match self {
            Tiles::RowMajor { ldc } => {
                assert!(cols_end <= ldc, "tile columns past the row");
                rows_end.saturating_sub(1) * ldc + cols_end
            }
            Tiles::Panels { rows } => {
                assert!(rows_end <= rows, "tile rows past the panel");
                cols_end.div_ceil(nr) * rows * nr
            }
        }
    }
}

/// Runs the microkernel over every `MR x NR` tile of one block of `out`, calling
/// `before_each_tile` before each tile (to spread other work, such as prefetches, among the
/// tiles; `|| {}` for none).
pub(super) fn macro_tiles<K: Microkernel>(
    block: Block,
    a_panels: &[f32],
    b_panels: &[f32],
    out: &mut [f32],
    tiles: Tiles,
    accumulate: bool,
    mut before_each_tile: impl FnMut(),
) {
    let Block { kc, mc, nc, i0, j0 } = block;
    assert!(j0.is_multiple_of(K::NR), "blocks start on a panel");
    assert!(tiles.needs(i0 + mc, j0 + nc, K::NR) <= out.len());
    assert!(a_panels.len() >= mc.div_ceil(K::MR) * K::MR * kc);
    assert!(b_panels.len() >= nc.div_ceil(K::NR) * K::NR * kc);
    let c = out.as_mut_ptr();
    for jr in (0..nc).step_by(K::NR) {
        let cols = K::NR.min(nc - jr);
        let b_panel = &b_panels[(jr / K::NR) * K::NR * kc..];
        for ir in (0..mc).step_by(K::MR) {
            let rows = K::MR.min(mc - ir);
            let a_panel = &a_panels[(ir / K::MR) * K::MR * kc..];
            let (offset, ldc) = tiles.at(i0 + ir, j0 + jr, K::NR);
            let tile = c.wrapping_add(offset);
            before_each_tile();
            // SAFETY: the asserts above keep the panels (`kc * MR`, `kc * NR` floats from these
            // offsets) and the tile (`rows` rows of `cols` from (i0 + ir, j0 + jr), row stride
            // `ldc`) inside their slices; the dispatcher checked the CPU features.
            unsafe {
                K::tile(
                    kc,
                    a_panel.as_ptr(),
                    b_panel.as_ptr(),
                    tile,
                    ldc,
                    rows,
                    cols,
                    accumulate,
                )
            }
        }
    }
}
