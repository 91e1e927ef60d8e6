//! Copies, zero fills and sums of short rows (a few to a few dozen floats), which im2col and
//! col2im make by the hundred thousand per training step.
//!
//! On wasm, `copy_from_slice` and `fill` of a length unknown at compile time become
//! `memory.copy` and `memory.fill`, calls out of the module that cost more than moving twenty
//! floats; here the wasm build moves them with SIMD128 loads and stores instead. Natively the
//! standard library's versions are already fast, and are used as they are.

/// `dst = src`.
#[inline]
pub fn copy(dst: &mut [f32], src: &[f32]) {
    assert_eq!(dst.len(), src.len(), "short_rows::copy of unequal lengths");
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd::copy(dst, src);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    dst.copy_from_slice(src);
}

/// `dst = 0`.
#[inline]
pub fn zero(dst: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd::zero(dst);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    dst.fill(0.0);
}

/// `dst += src`.
#[inline]
pub fn add(dst: &mut [f32], src: &[f32]) {
    assert_eq!(dst.len(), src.len(), "short_rows::add of unequal lengths");
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd::add(dst, src);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for (d, &s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// Stores 4 floats at `to`. Volatile, so that LLVM's loop-idiom pass cannot turn the loops
    /// below back into `memory.copy` / `memory.fill` (it does with plain `v128_store`); on wasm
    /// a volatile store is the same `v128.store` instruction.
    ///
    /// # Safety
    /// `to..to + 4` must be writable.
    #[inline(always)]
    unsafe fn store_vector(to: *mut f32, value: v128) {
        // SAFETY: per this function's contract; `Unaligned` has alignment 1, as rows have.
        unsafe { core::ptr::write_volatile(to as *mut Unaligned, Unaligned(value)) }
    }

    /// A vector with alignment 1, for volatile stores to any float.
    #[repr(C, packed)]
    struct Unaligned(v128);

    /// Copies 4 floats from `from` to `to`.
    ///
    /// # Safety
    /// `from..from + 4` must be readable and `to..to + 4` writable.
    #[inline(always)]
    unsafe fn move_vector(from: *const f32, to: *mut f32) {
        // SAFETY: per this function's contract; v128 loads need no alignment.
        unsafe { store_vector(to, core::ptr::read_unaligned(from as *const v128)) }
    }

    /// Whole vectors first, then the last 4 floats again as one overlapping vector (rewriting
    /// a value with itself is harmless), so no loop is left for the compiler to turn back into
    /// `memory.copy`.
    #[inline]
    pub fn copy(dst: &mut [f32], src: &[f32]) {
        let n = dst.len().min(src.len());
        if n < 4 {
            // Spelled out: a loop here could become `memory.copy` again.
            if n > 0 {
                dst[0] = src[0];
            }
            if n > 1 {
                dst[1] = src[1];
            }
            if n > 2 {
                dst[2] = src[2];
            }
            return;
        }
        // SAFETY: every access reads `src[i..i + 4]` or writes `dst[i..i + 4]` with i + 4 <= n,
        // within both slices; v128 loads and stores need no alignment.
        unsafe {
            let (from, to) = (src.as_ptr(), dst.as_mut_ptr());
            let mut i = 0;
            while i + 4 <= n {
                move_vector(from.add(i), to.add(i));
                i += 4;
            }
            if i < n {
                let last = n - 4;
                move_vector(from.add(last), to.add(last));
            }
        }
    }

    /// Whole vectors, then up to 3 single floats (an overlapping vector would add twice). The
    /// compiler vectorises a plain loop too, but with a scalar prologue and epilogue that cost
    /// more than the work on rows this short.
    #[inline]
    pub fn add(dst: &mut [f32], src: &[f32]) {
        let n = dst.len().min(src.len());
        let whole = n - n % 4;
        // SAFETY: every access is to `[i..i + 4]` with i + 4 <= whole <= n, within both slices.
        unsafe {
            let (from, to) = (src.as_ptr(), dst.as_mut_ptr());
            let mut i = 0;
            while i < whole {
                let sum = f32x4_add(
                    v128_load(to.add(i) as *const v128),
                    v128_load(from.add(i) as *const v128),
                );
                v128_store(to.add(i) as *mut v128, sum);
                i += 4;
            }
        }
        for (d, &s) in dst[whole..n].iter_mut().zip(&src[whole..n]) {
            *d += s;
        }
    }

    /// Like [`copy`], with a vector of zeros as the source.
    #[inline]
    pub fn zero(dst: &mut [f32]) {
        let n = dst.len();
        if n < 4 {
            if n > 0 {
                dst[0] = 0.0;
            }
            if n > 1 {
                dst[1] = 0.0;
            }
            if n > 2 {
                dst[2] = 0.0;
            }
            return;
        }
        let zeros = f32x4_splat(0.0);
        // SAFETY: every store writes `dst[i..i + 4]` with i + 4 <= n.
        unsafe {
            let to = dst.as_mut_ptr();
            let mut i = 0;
            while i + 4 <= n {
                store_vector(to.add(i), zeros);
                i += 4;
            }
            if i < n {
                store_vector(to.add(n - 4), zeros);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_adds_and_zeroes_every_length() {
        for n in 0..40 {
            let src: Vec<f32> = (0..n).map(|i| i as f32 + 0.5).collect();
            let mut dst = vec![-1.0; n + 2];
            copy(&mut dst[1..n + 1], &src);
            assert_eq!(&dst[1..n + 1], &src[..], "copy of {n}");
            assert_eq!(
                (dst[0], dst[n + 1]),
                (-1.0, -1.0),
                "copy of {n} stays inside"
            );
            add(&mut dst[1..n + 1], &src);
            let doubled: Vec<f32> = src.iter().map(|v| 2.0 * v).collect();
            assert_eq!(&dst[1..n + 1], &doubled[..], "add of {n}");
            assert_eq!(
                (dst[0], dst[n + 1]),
                (-1.0, -1.0),
                "add of {n} stays inside"
            );
            zero(&mut dst[1..n + 1]);
            assert!(dst[1..n + 1].iter().all(|&v| v == 0.0), "zero of {n}");
            assert_eq!(
                (dst[0], dst[n + 1]),
                (-1.0, -1.0),
                "zero of {n} stays inside"
            );
        }
    }
}
