//! The dense kernels every layer is made of, with a fixed summation order.
//!
//! The order of floating-point additions is part of the result. These kernels fix it in the
//! source, so that LLVM may vectorise them on x86-64 (the eight partial sums are independent) and
//! use multiply-accumulate sequences on Cortex-M4F, yet the host and the device still compute the
//! same bits: no reassociation is left to the compiler (Rust never contracts `a * b + c` into a
//! fused multiply-add unless asked) and nothing depends on the target.
//!
//! * [`dot`]: `Σ_i a_i b_i` as [`LANES`] interleaved partial sums (`acc[k] = Σ_j a[8j+k] b[8j+k]`,
//!   in increasing `j`), combined as `((acc0+acc4)+(acc1+acc5)) + ((acc2+acc6)+(acc3+acc7))`, then
//!   the tail `a[8⌊n/8⌋..]` added one by one in increasing index.
//! * [`axpy`]: `y_i ← y_i + α x_i`, one rounding per element, no sums across elements.

/// Number of interleaved partial sums in [`dot`].
pub const LANES: usize = 8;

/// Dot product `Σ_i a_i b_i` in the fixed order described in the module docs.
///
/// Only the first `min(a.len(), b.len())` elements are used.
///
/// # Examples
///
/// ```
/// let a = [1.0f32; 10];
/// let b = [2.0f32; 10];
/// assert_eq!(vatic::kernels::dot(&a, &b), 20.0);
/// ```
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let ca = a.chunks_exact(LANES);
    let cb = b.chunks_exact(LANES);
    let (ta, tb) = (ca.remainder(), cb.remainder());
    let mut acc = [0.0f32; LANES];
    for (xa, xb) in ca.zip(cb) {
        for ((s, &p), &q) in acc.iter_mut().zip(xa).zip(xb) {
            *s += p * q;
        }
    }
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
    let mut s = ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7));
    for (&p, &q) in ta.iter().zip(tb) {
        s += p * q;
    }
    s
}

/// `y ← y + α x`, element by element.
///
/// # Examples
///
/// ```
/// let mut y = [1.0f32, 2.0];
/// vatic::kernels::axpy(&mut y, 0.5, &[2.0, 4.0]);
/// assert_eq!(y, [2.0, 4.0]);
/// ```
#[inline]
pub fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_f64_on_every_tail_length() {
        for n in 0..40 {
            let a: [f32; 40] = core::array::from_fn(|i| (i as f32 * 0.37).sin());
            let b: [f32; 40] = core::array::from_fn(|i| (i as f32 * 0.11).cos());
            let want: f64 = (0..n).map(|i| a[i] as f64 * b[i] as f64).sum();
            let got = dot(&a[..n], &b[..n]);
            assert!((got as f64 - want).abs() < 1e-5, "n={n}: {got} vs {want}");
        }
    }

    #[test]
    fn dot_order_is_the_documented_one() {
        // 1e8 + 1 - 1e8 depends on the order; the documented order puts lane 0 and lane 4 first.
        let mut a = [0.0f32; 9];
        a[0] = 1e8;
        a[4] = -1e8;
        a[1] = 1.0;
        a[8] = 0.5;
        let b = [1.0f32; 9];
        // ((1e8 + -1e8) + (1 + 0)) + (0 + 0) + tail 0.5
        assert_eq!(dot(&a, &b), 1.5);
    }
}
