//! The wasm32 microkernel: a 4x8 register tile of SIMD128 `f32x4` values (8 accumulators, 2 for
//! a row of `B`, 1 for a broadcast value of `A`, which fits the 16 xmm registers V8 has on x86).
//! Built with `relaxed-simd` (the page's second build, see `xtask/src/relaxed_simd.rs`) it uses
//! `f32x4.relaxed_madd`, a fused multiply-add: in Chromium 156 on x86 the 64x784x512 product
//! went from ~32-37 to ~37-43 GFLOP/s. A 5x8 tile, faster in Node 20's older V8 (42-46), falls
//! to ~11 GFLOP/s in Chromium 156 (register spills), so both builds keep 4x8; so does the
//! k loop unrolled by two (MLP step 5 -> 9 ms). The loads' constant offsets stay in the loads
//! only because the wasm builds turn loop strength reduction off (see `.cargo/config.toml`).

use core::arch::wasm32::*;

use super::blocked::Microkernel;

pub(crate) struct Simd128;

const MR: usize = 4;
const NR: usize = 8;

/// `acc + x * y`.
#[inline(always)]
fn multiply_add(x: v128, y: v128, acc: v128) -> v128 {
    #[cfg(target_feature = "relaxed-simd")]
    return f32x4_relaxed_madd(x, y, acc);
    #[cfg(not(target_feature = "relaxed-simd"))]
    f32x4_add(acc, f32x4_mul(x, y))
}

/// Multiply-adds per chain of [`independent_multiply_adds`] in one call: short, so that a
/// benchmark calls it often (V8 starts wasm in its baseline compiler, which keeps SIMD values on
/// the stack, and only a later call runs the optimised code).
pub const PEAK_ROUNDS: usize = 1 << 12;
/// Independent chains: as many as the microkernel has accumulators (enough to cover the
/// multiply-add's latency on both of a core's SIMD pipes), each its own local so that it stays
/// in a register.
pub const PEAK_CHAINS: usize = 8;

/// `PEAK_ROUNDS` multiply-adds on each of `PEAK_CHAINS` independent `f32x4` chains (the
/// microkernel's own instruction, nothing loaded or stored): what the microkernel would reach
/// if nothing but its arithmetic counted. Returns a lane of the result so none of it is
/// optimised away. Never inlined: V8 replaces a function by its optimised code only between
/// calls, so the benchmark's timing loop must call this one many times.
#[inline(never)]
pub fn independent_multiply_adds(scale: f32) -> f32 {
    // Chained through the addend, as the microkernel's accumulators are.
    let (scale, step) = (f32x4_splat(scale), f32x4_splat(1e-7));
    let one = f32x4_splat(1.0);
    let (mut c0, mut c1, mut c2, mut c3) = (one, one, one, one);
    let (mut c4, mut c5, mut c6, mut c7) = (one, one, one, one);
    for _ in 0..PEAK_ROUNDS {
        c0 = multiply_add(scale, step, c0);
        c1 = multiply_add(scale, step, c1);
        c2 = multiply_add(scale, step, c2);
        c3 = multiply_add(scale, step, c3);
        c4 = multiply_add(scale, step, c4);
        c5 = multiply_add(scale, step, c5);
        c6 = multiply_add(scale, step, c6);
        c7 = multiply_add(scale, step, c7);
    }
    [c0, c1, c2, c3, c4, c5, c6, c7]
        .iter()
        .map(|&chain| f32x4_extract_lane::<0>(chain))
        .sum()
}

impl Microkernel for Simd128 {
    const MR: usize = MR;
    const NR: usize = NR;
    #[cfg(target_feature = "relaxed-simd")]
    const NAME: &'static str = "wasm relaxed-SIMD 4x8";
    #[cfg(not(target_feature = "relaxed-simd"))]
    const NAME: &'static str = "wasm SIMD128 4x8";

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
        // SAFETY: the trait's contract.
        unsafe {
            let acc = products(k, a, b);
            store_tile(acc, c, ldc, rows, cols, accumulate);
        }
    }
}

/// The tile's sums over `k` steps: `MR` values of `a` times `NR` values of `b` each step.
///
/// # Safety
/// `k * MR` floats at `a` and `k * NR` at `b`.
#[inline(always)]
unsafe fn products(k: usize, mut a: *const f32, mut b: *const f32) -> [[v128; NR / 4]; MR] {
    let mut acc = [[f32x4_splat(0.0); NR / 4]; MR];
    // SAFETY: per the function's contract.
    unsafe {
        for _ in 0..k {
            let b0 = v128_load(b as *const v128);
            let b1 = v128_load(b.add(4) as *const v128);
            for (r, acc_row) in acc.iter_mut().enumerate() {
                let a_value = v128_load32_splat(a.add(r) as *const u32);
                acc_row[0] = multiply_add(a_value, b0, acc_row[0]);
                acc_row[1] = multiply_add(a_value, b1, acc_row[1]);
            }
            a = a.add(MR);
            b = b.add(NR);
        }
    }
    acc
}

/// Writes (or with `accumulate` adds) the top-left `rows x cols` of the tile to `c`.
///
/// # Safety
/// `c + r * ldc + j` is writable for every `r < rows`, `j < cols`.
#[inline(always)]
unsafe fn store_tile(
    acc: [[v128; NR / 4]; MR],
    c: *mut f32,
    ldc: usize,
    rows: usize,
    cols: usize,
    accumulate: bool,
) {
    // SAFETY: per the function's contract.
    unsafe {
        if rows == MR && cols == NR {
            for (r, acc_row) in acc.iter().enumerate() {
                let row = c.add(r * ldc);
                for (half, &value) in acc_row.iter().enumerate() {
                    let target = row.add(4 * half) as *mut v128;
                    let value = if accumulate {
                        f32x4_add(value, v128_load(target))
                    } else {
                        value
                    };
                    v128_store(target, value);
                }
            }
        } else {
            let mut tile = [[0.0f32; NR]; MR];
            for (tile_row, acc_row) in tile.iter_mut().zip(&acc) {
                v128_store(tile_row.as_mut_ptr() as *mut v128, acc_row[0]);
                v128_store(tile_row.as_mut_ptr().add(4) as *mut v128, acc_row[1]);
            }
            for (r, tile_row) in tile.iter().enumerate().take(rows) {
                for (j, &value) in tile_row.iter().enumerate().take(cols) {
                    let target = &mut *c.add(r * ldc + j);
                    *target = if accumulate { *target + value } else { value };
                }
            }
        }
    }
}
