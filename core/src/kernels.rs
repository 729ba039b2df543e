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
//!
//! [`dot4`] and [`axpy4`] are the four-way forms the block passes use (one weight row against
//! four samples, or four rows into one sample); each equals four calls of the one-way kernel bit
//! for bit.

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
#[inline(always)]
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

/// Four dot products `[a·b₀, a·b₁, a·b₂, a·b₃]`, each in [`dot`]'s order (same bits as four
/// [`dot`] calls; `a` is loaded once).
///
/// # Examples
///
/// ```
/// use vatic::kernels::{dot, dot4};
/// let a: [f32; 11] = core::array::from_fn(|i| i as f32 * 0.1);
/// let b: [[f32; 11]; 4] = core::array::from_fn(|k| core::array::from_fn(|i| (i + k) as f32));
/// let d = dot4(&a, [&b[0], &b[1], &b[2], &b[3]]);
/// for k in 0..4 {
///     assert_eq!(d[k].to_bits(), dot(&a, &b[k]).to_bits());
/// }
/// ```
#[inline(always)]
pub fn dot4(a: &[f32], b: [&[f32]; 4]) -> [f32; 4] {
    // Four independent dots: LLVM vectorises each along its lanes. (Interleaving the four in one
    // loop to share the loads of `a` made it vectorise across the dots instead, with shuffles:
    // 2.5 instructions per multiply-add against 2.4 here, and 20 % slower.)
    let [b0, b1, b2, b3] = b;
    [dot(a, b0), dot(a, b1), dot(a, b2), dot(a, b3)]
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
#[inline(always)]
pub fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// `y ← (((y + α₀ x₀) + α₁ x₁) + α₂ x₂) + α₃ x₃`, element by element: the same bits as four
/// [`axpy`] calls in order, with `y` loaded and stored once.
///
/// # Examples
///
/// ```
/// use vatic::kernels::{axpy, axpy4};
/// let x: [[f32; 9]; 4] = core::array::from_fn(|k| core::array::from_fn(|i| (i * k) as f32 * 0.3));
/// let (mut a, mut b) = ([0.1f32; 9], [0.1f32; 9]);
/// axpy4(&mut a, [1.5, -2.0, 0.25, 3.0], [&x[0], &x[1], &x[2], &x[3]]);
/// for (k, s) in [1.5, -2.0, 0.25, 3.0].into_iter().enumerate() {
///     axpy(&mut b, s, &x[k]);
/// }
/// assert_eq!(a, b);
/// ```
#[inline(always)]
pub fn axpy4(y: &mut [f32], alpha: [f32; 4], x: [&[f32]; 4]) {
    let [a0, a1, a2, a3] = alpha;
    for ((((yi, &p0), &p1), &p2), &p3) in y.iter_mut().zip(x[0]).zip(x[1]).zip(x[2]).zip(x[3]) {
        *yi = (((*yi + a0 * p0) + a1 * p1) + a2 * p2) + a3 * p3;
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
