//! The x86_64 microkernel: a 6x16 register tile with AVX2 and FMA (12 of the 16 ymm registers
//! hold the tile, 2 a row of `B`, 1 a broadcast value of `A`), chosen at run time.

use std::arch::x86_64::*;

use super::blocked::Microkernel;

pub(crate) struct Avx2Fma;

const MR: usize = 6;
const NR: usize = 16;

/// Whether this CPU runs the AVX2+FMA kernel (the standard library caches the answer).
pub fn available() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

impl Microkernel for Avx2Fma {
    const MR: usize = MR;
    const NR: usize = NR;
    const NAME: &'static str = "AVX2+FMA 6x16";

    unsafe fn tile(
        k: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        rows: usize,
        cols: usize,
        accumulate: bool,
    ) {
        // SAFETY: the trait's contract (`rows <= MR`); the dispatcher checked `available()`.
        unsafe {
            if rows <= 4 {
                // A short last panel (a batch of 64 leaves one of 4 rows): 4 rows of sums, not 6.
                tile_rows::<4>(k, a, b, c, ldc, rows, cols, accumulate)
            } else {
                tile_rows::<MR>(k, a, b, c, ldc, rows, cols, accumulate)
            }
        }
    }
}

/// One tile with `ROWS` rows of sums (at least `rows`): its sums ([`products`], inlined: same
/// features), then the top-left `rows x cols` written (or with `accumulate` added) to `c`, the
/// sums kept in registers throughout.
///
/// # Safety
/// As [`products`]; `rows <= ROWS`, and `c + r * ldc + j` is writable for every `r < rows`,
/// `j < cols`.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_rows<const ROWS: usize>(
    k: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    rows: usize,
    cols: usize,
    accumulate: bool,
) {
    // SAFETY: per the function's contract.
    unsafe {
        let acc = products::<ROWS>(k, a, b);
        if rows == ROWS && cols == NR {
            for (r, acc_row) in acc.iter().enumerate() {
                let row = c.add(r * ldc);
                let (mut low, mut high) = (acc_row[0], acc_row[1]);
                if accumulate {
                    low = _mm256_add_ps(low, _mm256_loadu_ps(row));
                    high = _mm256_add_ps(high, _mm256_loadu_ps(row.add(8)));
                }
                _mm256_storeu_ps(row, low);
                _mm256_storeu_ps(row.add(8), high);
            }
        } else {
            // Lane `l` of a half is stored when `8 * half + l < cols`; a half with no lane to
            // store is skipped, a full one stored plainly (masked stores are slow on AMD).
            static LANES: [i32; 2 * NR] = {
                let mut lanes = [0; 2 * NR];
                let mut i = 0;
                while i < NR {
                    lanes[i] = -1;
                    i += 1;
                }
                lanes
            };
            for half in 0..2 {
                let lanes = cols.saturating_sub(8 * half).min(8);
                if lanes == 0 {
                    continue;
                }
                let mask = _mm256_loadu_si256(LANES.as_ptr().add(NR - lanes) as *const __m256i);
                for (r, acc_row) in acc.iter().enumerate().take(rows) {
                    let target = c.add(r * ldc + 8 * half);
                    let mut value = acc_row[half];
                    if lanes == 8 {
                        if accumulate {
                            value = _mm256_add_ps(value, _mm256_loadu_ps(target));
                        }
                        _mm256_storeu_ps(target, value);
                    } else {
                        if accumulate {
                            value = _mm256_add_ps(value, _mm256_maskload_ps(target, mask));
                        }
                        _mm256_maskstore_ps(target, mask, value);
                    }
                }
            }
        }
    }
}

/// The sums of the tile's first `ROWS` rows over `k` steps: `ROWS` of the `MR` values of `a`
/// times `NR` values of `b` each step.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn products<const ROWS: usize>(
    k: usize,
    mut a: *const f32,
    mut b: *const f32,
) -> [[__m256; 2]; ROWS] {
    let mut acc = [[_mm256_setzero_ps(); 2]; ROWS];
    // SAFETY: `k * MR` floats at `a` and `k * NR` at `b`, per the callers' contract.
    unsafe {
        for _ in 0..k {
            let b0 = _mm256_loadu_ps(b);
            let b1 = _mm256_loadu_ps(b.add(8));
            for (r, acc_row) in acc.iter_mut().enumerate() {
                let a_value = _mm256_broadcast_ss(&*a.add(r));
                acc_row[0] = _mm256_fmadd_ps(a_value, b0, acc_row[0]);
                acc_row[1] = _mm256_fmadd_ps(a_value, b1, acc_row[1]);
            }
            a = a.add(MR);
            b = b.add(NR);
        }
    }
    acc
}

/// Multiply-adds per chain of [`independent_multiply_adds`] in one call.
pub const PEAK_ROUNDS: usize = 1 << 12;
/// Independent chains: as many as the microkernel has accumulators.
pub const PEAK_CHAINS: usize = 2 * MR;
/// Floats per multiply-add (an `__m256`).
pub const PEAK_LANES: usize = 8;

/// `PEAK_ROUNDS` multiply-adds on each of `PEAK_CHAINS` independent `__m256` chains (the
/// microkernel's own instruction, nothing loaded or stored): the most the microkernel could
/// reach if nothing but its arithmetic counted. Returns a lane of the sum so that none of it is
/// optimised away. Panics where the CPU lacks AVX2 and FMA.
pub fn independent_multiply_adds(scale: f32) -> f32 {
    assert!(available(), "the AVX2+FMA ceiling needs AVX2 and FMA");
    // SAFETY: checked just above.
    unsafe { independent_multiply_adds_avx2(scale) }
}

#[target_feature(enable = "avx2,fma")]
fn independent_multiply_adds_avx2(scale: f32) -> f32 {
    let (scale, step) = (_mm256_set1_ps(scale), _mm256_set1_ps(1e-7));
    let mut chains = [_mm256_set1_ps(1.0); PEAK_CHAINS];
    for _ in 0..PEAK_ROUNDS {
        for chain in &mut chains {
            *chain = _mm256_fmadd_ps(scale, step, *chain);
        }
    }
    chains.iter().map(|&chain| _mm256_cvtss_f32(chain)).sum()
}
