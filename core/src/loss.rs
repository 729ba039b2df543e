//! Softmax, cross-entropy, KL divergence and entropy, all from logits.
//!
//! Every function starts from the logits `z` and shifts by `m = max_k z_k` (log-sum-exp), so no
//! `exp` overflows and no `log(0)` appears:
//!
//! ```text
//! log softmax(z)_k = (z_k − m) − ln Σ_j e^{z_j − m}
//! ```

use crate::error::{Error, Result};
use crate::math;

/// `(m, ln Σ_j e^{z_j − m})` with `m = max_k z_k`.
#[inline]
fn shift_and_log_sum<const K: usize>(z: &[f32; K]) -> (f32, f32) {
    let m = z
        .iter()
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    let s: f32 = z.iter().map(|&v| math::exp(v - m)).sum();
    (m, math::ln(s))
}

/// `log softmax(z)`, numerically stable.
///
/// # Examples
///
/// ```
/// let l = vatic::loss::log_softmax(&[1000.0, 0.0]);
/// assert_eq!(l[0], 0.0);
/// assert_eq!(l[1], -1000.0);
/// ```
#[inline]
pub fn log_softmax<const K: usize>(z: &[f32; K]) -> [f32; K] {
    let (m, lse) = shift_and_log_sum(z);
    let mut out = [0.0; K];
    for (o, &v) in out.iter_mut().zip(z) {
        *o = (v - m) - lse;
    }
    out
}

/// `softmax(z)_k = e^{z_k − m} / Σ_j e^{z_j − m}`.
#[inline]
pub fn softmax<const K: usize>(z: &[f32; K]) -> [f32; K] {
    let m = z
        .iter()
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    let mut out = [0.0; K];
    let mut s = 0.0;
    for (o, &v) in out.iter_mut().zip(z) {
        *o = math::exp(v - m);
        s += *o;
    }
    for o in &mut out {
        *o /= s;
    }
    out
}

/// Cross-entropy `−log softmax(z)_y` and its gradient with respect to the logits,
/// `∂CE/∂z = softmax(z) − onehot(y)`.
///
/// # Errors
///
/// [`Error::LabelOutOfRange`] (with `sample: 0`) when `y ≥ K`.
///
/// # Examples
///
/// ```
/// let (ce, g) = vatic::loss::cross_entropy(&[0.0, 0.0], 1).unwrap();
/// assert!((ce - core::f32::consts::LN_2).abs() < 1e-7);
/// assert_eq!(g, [0.5, -0.5]);
/// ```
#[inline]
pub fn cross_entropy<const K: usize>(z: &[f32; K], y: usize) -> Result<(f32, [f32; K])> {
    if y >= K {
        return Err(Error::LabelOutOfRange {
            sample: 0,
            label: y,
        });
    }
    let logp = log_softmax(z);
    let mut grad = softmax(z);
    let mut loss = 0.0;
    for (k, (g, &lp)) in grad.iter_mut().zip(&logp).enumerate() {
        if k == y {
            *g -= 1.0;
            loss = -lp;
        }
    }
    Ok((loss, grad))
}

/// `KL(softmax(zp) ‖ softmax(zq)) = Σ_k p_k (log p_k − log q_k)` and its gradient with respect
/// to `zq` (the second argument; `zp` is treated as a constant): `∂KL/∂zq = q − p`.
///
/// The value is clamped at 0: KL is never negative, but for nearly equal distributions the f32
/// sum of `p_k (log p_k − log q_k)` can round to about `−1e-7`. The gradient is not clamped, and a
/// NaN (a diverged network) stays NaN.
///
/// # Examples
///
/// ```
/// let (kl, g) = vatic::loss::kl_divergence(&[1.0, 2.0], &[1.0, 2.0]);
/// assert!(kl.abs() < 1e-7);
/// assert!(g.iter().all(|v| v.abs() < 1e-7));
/// ```
#[inline]
pub fn kl_divergence<const K: usize>(zp: &[f32; K], zq: &[f32; K]) -> (f32, [f32; K]) {
    let logp = log_softmax(zp);
    let logq = log_softmax(zq);
    let p = softmax(zp);
    let q = softmax(zq);
    let mut kl = 0.0;
    let mut grad = [0.0; K];
    for k in 0..K {
        kl += p[k] * (logp[k] - logq[k]);
        grad[k] = q[k] - p[k];
    }
    (if kl < 0.0 { 0.0 } else { kl }, grad)
}

/// Entropy `H(softmax(z)) = −Σ_k p_k log p_k` and its gradient with respect to the logits,
/// `∂H/∂z_j = −p_j (log p_j + H)`.
#[inline]
pub fn entropy<const K: usize>(z: &[f32; K]) -> (f32, [f32; K]) {
    let logp = log_softmax(z);
    let p = softmax(z);
    let mut h = 0.0;
    for (&pk, &lk) in p.iter().zip(&logp) {
        h -= pk * lk;
    }
    let mut grad = [0.0; K];
    for ((g, &pk), &lk) in grad.iter_mut().zip(&p).zip(&logp) {
        *g = -pk * (lk + h);
    }
    (h, grad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd<const K: usize>(f: impl Fn(&[f32; K]) -> f32, z: &[f32; K], k: usize) -> f64 {
        let h = 1e-2f32;
        let (mut a, mut b) = (*z, *z);
        a[k] += h;
        b[k] -= h;
        (f(&a) as f64 - f(&b) as f64) / (2.0 * h as f64)
    }

    #[test]
    fn gradients_match_finite_differences() {
        let z = [0.3f32, -1.2, 2.0, 0.1];
        let zq = [1.0f32, 0.5, -0.3, 0.0];
        let (_, gce) = cross_entropy(&z, 2).unwrap();
        let (_, gkl) = kl_divergence(&z, &zq);
        let (_, gh) = entropy(&z);
        // Under fast-math the finite difference sees micromath's approximation error (~3e-3).
        let tol = if cfg!(feature = "fast-math") {
            3e-2
        } else {
            1e-3
        };
        for k in 0..4 {
            let want = fd(|v| cross_entropy(v, 2).unwrap().0, &z, k);
            assert!((gce[k] as f64 - want).abs() < tol, "ce {k}");
            let want = fd(|v| kl_divergence(&z, v).0, &zq, k);
            assert!((gkl[k] as f64 - want).abs() < tol, "kl {k}");
            let want = fd(|v| entropy(v).0, &z, k);
            assert!((gh[k] as f64 - want).abs() < tol, "h {k}");
        }
    }

    #[test]
    fn stable_for_huge_logits() {
        let z = [1e30f32, -1e30, 0.0];
        let (ce, g) = cross_entropy(&z, 0).unwrap();
        assert_eq!(ce, 0.0);
        assert!(g.iter().all(|v| v.is_finite()));
        let (ce, _) = cross_entropy(&z, 1).unwrap();
        assert!(ce.is_finite() && ce > 1e29);
        let (kl, _) = kl_divergence(&z, &[0.0, 0.0, 0.0]);
        assert!(kl.is_finite() && kl > 0.0);
    }

    #[test]
    fn label_out_of_range() {
        assert_eq!(
            cross_entropy(&[0.0, 0.0], 2).unwrap_err(),
            Error::LabelOutOfRange {
                sample: 0,
                label: 2
            }
        );
    }
}
