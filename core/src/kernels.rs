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
//! [`dot4`] computes four dot products that share `a` in exactly [`dot`]'s order each; it only
//! reuses the loads of `a` (register blocking), so its results equal four [`dot`] calls bit for
//! bit. The layers use it to stream each weight row once for four samples.

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
#[inline]
pub fn dot4(a: &[f32], b: [&[f32]; 4]) -> [f32; 4] {
    let n = a
        .len()
        .min(b[0].len())
        .min(b[1].len())
        .min(b[2].len())
        .min(b[3].len());
    let (a, b0, b1, b2, b3) = (&a[..n], &b[0][..n], &b[1][..n], &b[2][..n], &b[3][..n]);
    let mut acc = [[0.0f32; LANES]; 4];
    let ca = a.chunks_exact(LANES);
    let ta = ca.remainder();
    let c0 = b0.chunks_exact(LANES);
    let c1 = b1.chunks_exact(LANES);
    let c2 = b2.chunks_exact(LANES);
    let c3 = b3.chunks_exact(LANES);
    let tails = [
        c0.remainder(),
        c1.remainder(),
        c2.remainder(),
        c3.remainder(),
    ];
    for ((((xa, x0), x1), x2), x3) in ca.zip(c0).zip(c1).zip(c2).zip(c3) {
        let [s0, s1, s2, s3] = &mut acc;
        for (((((&p, &q0), &q1), &q2), &q3), ((((r0, r1), r2), r3), _)) in
            xa.iter().zip(x0).zip(x1).zip(x2).zip(x3).zip(
                s0.iter_mut()
                    .zip(s1.iter_mut())
                    .zip(s2.iter_mut())
                    .zip(s3.iter_mut())
                    .zip(0..LANES),
            )
        {
            *r0 += p * q0;
            *r1 += p * q1;
            *r2 += p * q2;
            *r3 += p * q3;
        }
    }
    let mut out = [0.0f32; 4];
    for ((o, acc), tail) in out.iter_mut().zip(&acc).zip(tails) {
        let [a0, a1, a2, a3, a4, a5, a6, a7] = *acc;
        let mut s = ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7));
        for (&p, &q) in ta.iter().zip(tail) {
            s += p * q;
        }
        *o = s;
    }
    out
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
