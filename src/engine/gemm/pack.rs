//! Packing for the blocked GEMM: copies a block of `op(A)` into `MR`-row panels and a block of
//! `op(B)` into `NR`-column panels, in the order the microkernel reads them (for each step `p`
//! of the depth, `MR` values of `A`'s column `p`, or `NR` values of `B`'s row `p`). The
//! transposes are read here, through the strides, and short edge panels are padded with zeros.

use super::View;
use super::blocked::Microkernel;

/// Packs rows `i0..i0 + mc`, depth `p0..p0 + kc` of `a` into `K::MR`-row panels in `dest`.
/// (Generic over the kernel so that the panel width is a constant: short copies of a constant
/// length compile to a few moves, where a runtime length would call `memcpy` every time.)
pub(super) fn pack_a<K: Microkernel>(
    a: View<'_>,
    i0: usize,
    mc: usize,
    p0: usize,
    kc: usize,
    dest: &mut [f32],
) {
    let mr = K::MR;
    for (panel_index, panel) in dest[..mc.div_ceil(mr) * mr * kc]
        .chunks_exact_mut(mr * kc)
        .enumerate()
    {
        let first = i0 + panel_index * mr;
        let rows = mr.min(i0 + mc - first);
        if a.row_stride == 1 && rows == mr {
            // `A` used transposed: the values of each depth step are contiguous.
            for (p, group) in panel.chunks_exact_mut(mr).enumerate() {
                let start = (p0 + p) * a.col_stride + first;
                group.copy_from_slice(&a.data[start..start + mr]);
            }
        } else if a.row_stride == 1 {
            for (p, group) in panel.chunks_exact_mut(mr).enumerate() {
                let start = (p0 + p) * a.col_stride + first;
                copy_padded(group, &a.data[start..start + rows]);
            }
        } else if rows == mr && a.col_stride == 1 {
            // Rows contiguous along the depth: interleave them.
            let start = first * a.row_stride + p0;
            for (p, group) in panel.chunks_exact_mut(mr).enumerate() {
                for (r, value) in group.iter_mut().enumerate() {
                    *value = a.data[start + r * a.row_stride + p];
                }
            }
        } else {
            for r in 0..mr {
                if r < rows {
                    let start = (first + r) * a.row_stride + p0 * a.col_stride;
                    let row = &a.data[start..];
                    for (p, group) in panel.chunks_exact_mut(mr).enumerate() {
                        group[r] = row[p * a.col_stride];
                    }
                } else {
                    panel.chunks_exact_mut(mr).for_each(|group| group[r] = 0.0);
                }
            }
        }
    }
}

/// Packs depth `p0..p0 + kc`, columns `j0..j0 + nc` of `b` into `K::NR`-column panels in `dest`.
pub(super) fn pack_b<K: Microkernel>(
    b: View<'_>,
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    dest: &mut [f32],
) {
    let nr = K::NR;
    if b.col_stride == 1 {
        return pack_b_by_rows::<K>(b, p0, kc, j0, nc, dest);
    }
    for (panel_index, panel) in dest[..nc.div_ceil(nr) * nr * kc]
        .chunks_exact_mut(nr * kc)
        .enumerate()
    {
        let first = j0 + panel_index * nr;
        let cols = nr.min(j0 + nc - first);
        if cols == nr && b.row_stride == 1 {
            // `B` used transposed: its columns are contiguous along the depth.
            #[cfg(target_arch = "x86_64")]
            if nr.is_multiple_of(8) && super::pack_x86::available() {
                super::pack_x86::transposed_panel(b.data, b.col_stride, p0, first, panel, nr);
                continue;
            }
            let start = p0 + first * b.col_stride;
            for (p, group) in panel.chunks_exact_mut(nr).enumerate() {
                for (c, value) in group.iter_mut().enumerate() {
                    *value = b.data[start + c * b.col_stride + p];
                }
            }
        } else {
            for c in 0..nr {
                if c < cols {
                    let start = p0 * b.row_stride + (first + c) * b.col_stride;
                    let column = &b.data[start..];
                    for (p, group) in panel.chunks_exact_mut(nr).enumerate() {
                        group[c] = column[p * b.row_stride];
                    }
                } else {
                    panel.chunks_exact_mut(nr).for_each(|group| group[c] = 0.0);
                }
            }
        }
    }
}

/// [`pack_b`] where `B`'s rows are contiguous (`B` used as stored): reads the block one row
/// at a time, in order, and deals each row's `NR`-float pieces out to the panels. Reading in
/// order lets the hardware prefetcher stream `B` in from wherever it is; reading it panel by
/// panel (a cache line from each row, then the next panel) is a cache miss per line once `B`
/// has left the nearer caches.
fn pack_b_by_rows<K: Microkernel>(
    b: View<'_>,
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    dest: &mut [f32],
) {
    let nr = K::NR;
    let panel_len = nr * kc;
    let dest = &mut dest[..nc.div_ceil(nr) * panel_len];
    let full = nc / nr;
    for p in 0..kc {
        let start = (p0 + p) * b.row_stride + j0;
        let row = &b.data[start..start + nc];
        for (panel, piece) in row.chunks_exact(nr).enumerate() {
            dest[panel * panel_len + p * nr..][..nr].copy_from_slice(piece);
        }
        if full < nc.div_ceil(nr) {
            let group = &mut dest[full * panel_len + p * nr..][..nr];
            copy_padded(group, &row[full * nr..]);
        }
    }
}

/// `group = values` followed by zeros. In pieces of 8 and 4 and one by one, never as one copy
/// of a runtime length: that would call `memcpy` for a handful of floats, once per depth step.
#[inline(always)]
fn copy_padded(group: &mut [f32], values: &[f32]) {
    let mut done = 0;
    for (target, source) in group.chunks_exact_mut(8).zip(values.chunks_exact(8)) {
        let target: &mut [f32; 8] = target.try_into().expect("8 floats");
        *target = source.try_into().expect("8 floats");
        done += 8;
    }
    let rest = &values[done..];
    for (index, target) in group[done..].iter_mut().enumerate() {
        *target = rest.get(index).copied().unwrap_or(0.0);
    }
}
