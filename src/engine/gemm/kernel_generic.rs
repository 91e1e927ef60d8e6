//! The portable microkernel: plain Rust on a 4x8 tile that the compiler vectorises for whatever
//! the target has. Used where no hand-written kernel fits, and as the reference the SIMD
//! kernels are checked against.

use super::blocked::Microkernel;

pub(crate) struct Portable;

const MR: usize = 4;
const NR: usize = 8;

impl Microkernel for Portable {
    const MR: usize = MR;
    const NR: usize = NR;
    const NAME: &'static str = "portable 4x8";

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
        // SAFETY: the caller guarantees `k * MR` floats at `a` and `k * NR` at `b`.
        let (a, b) = unsafe {
            (
                std::slice::from_raw_parts(a, k * MR),
                std::slice::from_raw_parts(b, k * NR),
            )
        };
        let mut acc = [[0.0f32; NR]; MR];
        for (a_group, b_group) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
            for (acc_row, &a_value) in acc.iter_mut().zip(a_group) {
                for (acc_value, &b_value) in acc_row.iter_mut().zip(b_group) {
                    *acc_value += a_value * b_value;
                }
            }
        }
        for (r, acc_row) in acc.iter().enumerate().take(rows) {
            for (j, &value) in acc_row.iter().enumerate().take(cols) {
                // SAFETY: the caller guarantees `c + r * ldc + j` for `r < rows`, `j < cols`.
                let target = unsafe { &mut *c.add(r * ldc + j) };
                *target = if accumulate { *target + value } else { value };
            }
        }
    }
}
