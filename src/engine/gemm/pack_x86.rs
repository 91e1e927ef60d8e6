//! Packing a transposed `B` on x86_64 with AVX2: eight columns of `op(B)` (eight rows of the
//! stored matrix, each contiguous along the depth) are read eight depth steps at a time and
//! turned with an 8x8 register transpose, instead of gathered one float at a time.

use std::arch::x86_64::*;

/// Whether this CPU runs [`transposed_panel`].
pub(super) fn available() -> bool {
    is_x86_feature_detected!("avx2")
}

/// Fills `panel` (`kc` groups of `nr` values, `nr` a multiple of 8) with depth `p0..p0 + kc` of
/// columns `first..first + nr` of `op(B)`, where column `c` is stored contiguously from
/// `data[p0 + c * col_stride]`.
///
/// Panics if a column runs past `data`; the caller checks [`available`].
pub(super) fn transposed_panel(
    data: &[f32],
    col_stride: usize,
    p0: usize,
    first: usize,
    panel: &mut [f32],
    nr: usize,
) {
    assert!(nr.is_multiple_of(8) && panel.len().is_multiple_of(nr));
    let kc = panel.len() / nr;
    let last_column = p0 + (first + nr - 1) * col_stride;
    assert!(
        last_column + kc <= data.len(),
        "transposed panel out of range"
    );
    // SAFETY: the asserts above keep every column's `kc` values inside `data` and every group
    // inside `panel`; `available()` was checked by the caller.
    unsafe {
        transposed_panel_avx2(
            data.as_ptr().add(p0 + first * col_stride),
            col_stride,
            kc,
            nr,
            panel.as_mut_ptr(),
        )
    }
}

#[target_feature(enable = "avx2")]
unsafe fn transposed_panel_avx2(
    columns: *const f32,
    col_stride: usize,
    kc: usize,
    nr: usize,
    panel: *mut f32,
) {
    let whole = kc / 8 * 8;
    // SAFETY (every access): columns `0..nr` of `kc` values from `columns` (stride
    // `col_stride`) and `kc * nr` floats of `panel`, per the caller's checks.
    unsafe {
        for c0 in (0..nr).step_by(8) {
            let column = |c: usize| columns.add((c0 + c) * col_stride);
            for p in (0..whole).step_by(8) {
                let rows: [__m256; 8] = std::array::from_fn(|c| _mm256_loadu_ps(column(c).add(p)));
                for (q, values) in transpose_8x8(rows).into_iter().enumerate() {
                    _mm256_storeu_ps(panel.add((p + q) * nr + c0), values);
                }
            }
            for p in whole..kc {
                for c in 0..8 {
                    *panel.add(p * nr + c0 + c) = *column(c).add(p);
                }
            }
        }
    }
}

/// Fills columns `c0..c0 + 8` of `panel` (`kc` groups of `nr`) with depth `p0..p0 + kc` of
/// eight rows of a matrix kept in panels `width` wide: row `c`'s values start at `rows[c].0`
/// and continue `rows[c].1` floats further at each panel. `p0` and `width` are multiples of 8,
/// so eight depth steps never straddle two panels.
///
/// Panics if a row runs past `data` or the columns past `panel`; the caller checks
/// [`available`].
#[allow(clippy::too_many_arguments)]
pub(super) fn panel_from_rows(
    data: &[f32],
    rows: [(usize, usize); 8],
    width: usize,
    p0: usize,
    kc: usize,
    panel: &mut [f32],
    nr: usize,
    c0: usize,
) {
    assert!(width.is_multiple_of(8) && p0.is_multiple_of(8) && kc > 0);
    assert!(c0 + 8 <= nr && panel.len() >= kc * nr);
    let last_panel = (p0 + kc - 1) / width;
    for (start, stride) in rows {
        assert!(
            start + last_panel * stride + width <= data.len(),
            "packed row out of range"
        );
    }
    // SAFETY: the asserts above keep every row's runs up to depth `p0 + kc` inside `data`, and
    // the columns inside `panel`; `available()` was checked by the caller.
    unsafe {
        panel_from_rows_avx2(
            data.as_ptr(),
            rows,
            width,
            p0,
            kc,
            panel.as_mut_ptr(),
            nr,
            c0,
        )
    }
}

#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn panel_from_rows_avx2(
    data: *const f32,
    rows: [(usize, usize); 8],
    width: usize,
    p0: usize,
    kc: usize,
    panel: *mut f32,
    nr: usize,
    c0: usize,
) {
    let whole = kc / 8 * 8;
    // SAFETY (every access): per the caller's checks.
    unsafe {
        // The panel of `W` holding column `p0 + p`, and the column's place in it.
        let (mut piece, mut within) = (p0 / width, p0 % width);
        for p in (0..whole).step_by(8) {
            let values: [__m256; 8] = std::array::from_fn(|c| {
                let (start, stride) = rows[c];
                _mm256_loadu_ps(data.add(start + piece * stride + within))
            });
            for (q, group) in transpose_8x8(values).into_iter().enumerate() {
                _mm256_storeu_ps(panel.add((p + q) * nr + c0), group);
            }
            within += 8;
            if within == width {
                (piece, within) = (piece + 1, 0);
            }
        }
        for p in whole..kc {
            let col = p0 + p;
            for (c, (start, stride)) in rows.into_iter().enumerate() {
                *panel.add(p * nr + c0 + c) = *data.add(start + col / width * stride + col % width);
            }
        }
    }
}

/// Row `q` of the result holds element `q` of each of the eight inputs.
#[target_feature(enable = "avx2")]
fn transpose_8x8(r: [__m256; 8]) -> [__m256; 8] {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    // Elements 0 and 4 (then 1 and 5, ...) of inputs 0-3 and of inputs 4-7.
    let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(s0, s4),
        _mm256_permute2f128_ps::<0x20>(s1, s5),
        _mm256_permute2f128_ps::<0x20>(s2, s6),
        _mm256_permute2f128_ps::<0x20>(s3, s7),
        _mm256_permute2f128_ps::<0x31>(s0, s4),
        _mm256_permute2f128_ps::<0x31>(s1, s5),
        _mm256_permute2f128_ps::<0x31>(s2, s6),
        _mm256_permute2f128_ps::<0x31>(s3, s7),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transposed_panel_holds_each_depth_steps_columns_in_order() {
        if !available() {
            return;
        }
        // 40 stored rows (columns of op(B)) of 24 values; depth 3..16 (8 + a remainder of 5)
        // of columns 2..18.
        let (col_stride, p0, kc, first, nr) = (24, 3, 13, 2, 16);
        let data: Vec<f32> = (0..40 * col_stride).map(|i| i as f32).collect();
        let mut panel = vec![f32::NAN; kc * nr];
        transposed_panel(&data, col_stride, p0, first, &mut panel, nr);
        for p in 0..kc {
            for c in 0..nr {
                assert_eq!(panel[p * nr + c], data[p0 + p + (first + c) * col_stride]);
            }
        }
    }
}
