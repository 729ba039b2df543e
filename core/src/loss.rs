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

/// `m = max_k z_k`, `s = Σ_j e^{z_j − m}` and `ln s` of one logit vector: every function
/// below derives its values from these, `p_k = e^{z_k − m} / s`, `log p_k = (z_k − m) − ln s`.
#[derive(Clone, Copy)]
struct Normaliser {
    m: f32,
    s: f32,
    lse: f32,
}

impl Normaliser {
    #[inline]
    fn of(z: &[f32]) -> Self {
        let m = max(z);
        let s: f32 = z.iter().map(|&v| math::exp(v - m)).sum();
        Normaliser {
            m,
            s,
            lse: math::ln(s),
        }
    }

    #[inline]
    fn p(&self, v: f32) -> f32 {
        math::exp(v - self.m) / self.s
    }

    #[inline]
    fn logp(&self, v: f32) -> f32 {
        (v - self.m) - self.lse
    }
}

/// `log softmax(z)` into `out` (the shorter sets the length), numerically stable.
///
/// # Examples
///
/// ```
/// let mut l = [0.0; 2];
/// vatic::loss::log_softmax(&[1000.0, 0.0], &mut l);
/// assert_eq!(l, [0.0, -1000.0]);
/// ```
#[inline]
pub fn log_softmax(z: &[f32], out: &mut [f32]) {
    let n = Normaliser::of(z);
    for (o, &v) in out.iter_mut().zip(z) {
        *o = n.logp(v);
    }
}

/// `softmax(z)_k = e^{z_k − m} / Σ_j e^{z_j − m}` into `out` (one `exp` per element).
#[inline]
pub fn softmax(z: &[f32], out: &mut [f32]) {
    let m = max(z);
    let mut s = 0.0;
    for (o, &v) in out.iter_mut().zip(z) {
        *o = math::exp(v - m);
        s += *o;
    }
    for o in out.iter_mut() {
        *o /= s;
    }
}

/// `max_k z_k` (−∞ for an empty slice; NaNs are skipped).
#[inline]
fn max(z: &[f32]) -> f32 {
    z.iter()
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a })
}

/// Cross-entropy `−log softmax(z)_y`.
///
/// # Errors
///
/// [`Error::LabelOutOfRange`] (with `sample: 0`) when `y ≥ z.len()`.
#[inline]
pub fn cross_entropy(z: &[f32], y: usize) -> Result<f32> {
    let zy = *z.get(y).ok_or(Error::LabelOutOfRange {
        sample: 0,
        label: y,
    })?;
    Ok(-Normaliser::of(z).logp(zy))
}

/// Cross-entropy `−log softmax(z)_y`, replacing the logits `z` by the gradient
/// `∂CE/∂z = softmax(z) − onehot(y)`.
///
/// # Errors
///
/// [`Error::LabelOutOfRange`] (with `sample: 0`) when `y ≥ z.len()`; `z` is unchanged then.
///
/// # Examples
///
/// ```
/// let mut z = [0.0, 0.0];
/// let ce = vatic::loss::cross_entropy_grad(&mut z, 1).unwrap();
/// assert!((ce - core::f32::consts::LN_2).abs() < 1e-7);
/// assert_eq!(z, [0.5, -0.5]);
/// ```
#[inline]
pub fn cross_entropy_grad(z: &mut [f32], y: usize) -> Result<f32> {
    let zy = *z.get(y).ok_or(Error::LabelOutOfRange {
        sample: 0,
        label: y,
    })?;
    // One `exp` per element: the loss's normaliser `s = Σ exp(z_k − m)` and the softmax's
    // numerators are the same values, summed in the same order, so this is [`cross_entropy`]
    // then [`softmax`] bit for bit (a sum of non-negative terms is the same from +0 or −0).
    let m = max(z);
    let mut s = 0.0;
    for v in z.iter_mut() {
        *v = math::exp(*v - m);
        s += *v;
    }
    let ce = -((zy - m) - math::ln(s));
    for v in z.iter_mut() {
        *v /= s;
    }
    if let Some(g) = z.get_mut(y) {
        *g -= 1.0;
    }
    Ok(ce)
}

/// `KL(softmax(zp) ‖ softmax(zq)) = Σ_k p_k (log p_k − log q_k)`.
///
/// The value is clamped at 0: KL is never negative, but for nearly equal distributions the f32
/// sum of `p_k (log p_k − log q_k)` can round to about `−1e-7`. A NaN (a diverged network)
/// stays NaN.
///
/// # Examples
///
/// ```
/// assert!(vatic::loss::kl_divergence(&[1.0, 2.0], &[1.0, 2.0]).abs() < 1e-7);
/// ```
#[inline]
pub fn kl_divergence(zp: &[f32], zq: &[f32]) -> f32 {
    let (np, nq) = (Normaliser::of(zp), Normaliser::of(zq));
    let mut kl = 0.0;
    for (&a, &b) in zp.iter().zip(zq) {
        kl += np.p(a) * (np.logp(a) - nq.logp(b));
    }
    if kl < 0.0 {
        0.0
    } else {
        kl
    }
}

/// [`kl_divergence`], replacing `zq` by the gradient with respect to it (`zp` is a constant):
/// `∂KL/∂zq = q − p`. The gradient is not clamped.
#[inline]
pub fn kl_divergence_grad(zp: &[f32], zq: &mut [f32]) -> f32 {
    let (np, nq) = (Normaliser::of(zp), Normaliser::of(zq));
    let mut kl = 0.0;
    for (&a, b) in zp.iter().zip(zq.iter_mut()) {
        let p = np.p(a);
        kl += p * (np.logp(a) - nq.logp(*b));
        *b = nq.p(*b) - p;
    }
    if kl < 0.0 {
        0.0
    } else {
        kl
    }
}

/// Entropy `H(softmax(z)) = −Σ_k p_k log p_k`.
#[inline]
pub fn entropy(z: &[f32]) -> f32 {
    let n = Normaliser::of(z);
    let mut h = 0.0;
    for &v in z {
        h -= n.p(v) * n.logp(v);
    }
    h
}

/// [`entropy`], replacing `z` by its gradient `∂H/∂z_j = −p_j (log p_j + H)`.
#[inline]
pub fn entropy_grad(z: &mut [f32]) -> f32 {
    let h = entropy(z);
    let n = Normaliser::of(z);
    for v in z.iter_mut() {
        *v = -n.p(*v) * (n.logp(*v) + h);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd(f: impl Fn(&[f32; 4]) -> f32, z: &[f32; 4], k: usize) -> f64 {
        let h = 1e-2f32;
        let (mut a, mut b) = (*z, *z);
        a[k] += h;
        b[k] -= h;
        (f(&a) as f64 - f(&b) as f64) / (2.0 * h as f64)
    }

    #[test]
    fn cross_entropy_grad_is_cross_entropy_then_softmax_bit_for_bit() {
        // Its one exp per element must reproduce the two-pass definition exactly: logits of
        // every scale, ties, a class far ahead (exps that underflow to +0), and NaN.
        let mut r = crate::Rng::new(11);
        let mut cases: [[f32; 5]; 64] = [[0.0; 5]; 64];
        for (n, z) in cases.iter_mut().enumerate() {
            let scale = [1e-3, 1.0, 30.0, 1e4][n % 4];
            for v in z.iter_mut() {
                *v = r.normal() * scale;
            }
        }
        cases[0] = [1.0; 5];
        cases[1] = [200.0, -200.0, 0.0, 0.0, -1e30];
        cases[2] = [0.5, f32::NAN, -0.5, 1.0, 2.0];
        for z in cases {
            for y in 0..5 {
                let mut g = z;
                let ce = cross_entropy_grad(&mut g, y).unwrap();
                let mut want = [0.0; 5];
                softmax(&z, &mut want);
                want[y] -= 1.0;
                let bits = |v: &[f32; 5]| v.map(f32::to_bits);
                assert_eq!(bits(&g), bits(&want), "{z:?}, y = {y}");
                assert_eq!(
                    ce.to_bits(),
                    cross_entropy(&z, y).unwrap().to_bits(),
                    "{z:?}"
                );
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let z = [0.3f32, -1.2, 2.0, 0.1];
        let zq = [1.0f32, 0.5, -0.3, 0.0];
        let mut gce = z;
        cross_entropy_grad(&mut gce, 2).unwrap();
        let mut gkl = zq;
        kl_divergence_grad(&z, &mut gkl);
        let mut gh = z;
        entropy_grad(&mut gh);
        // Under fast-math the finite difference sees micromath's approximation error (~3e-3).
        let tol = if cfg!(feature = "fast-math") {
            3e-2
        } else {
            1e-3
        };
        for k in 0..4 {
            let want = fd(|v| cross_entropy(v, 2).unwrap(), &z, k);
            assert!((gce[k] as f64 - want).abs() < tol, "ce {k}");
            let want = fd(|v| kl_divergence(&z, v), &zq, k);
            assert!((gkl[k] as f64 - want).abs() < tol, "kl {k}");
            let want = fd(|v| entropy(v), &z, k);
            assert!((gh[k] as f64 - want).abs() < tol, "h {k}");
        }
    }

    #[test]
    fn stable_for_huge_logits() {
        let z = [1e30f32, -1e30, 0.0];
        let mut g = z;
        assert_eq!(cross_entropy_grad(&mut g, 0).unwrap(), 0.0);
        assert!(g.iter().all(|v| v.is_finite()));
        let ce = cross_entropy(&z, 1).unwrap();
        assert!(ce.is_finite() && ce > 1e29);
        let kl = kl_divergence(&z, &[0.0, 0.0, 0.0]);
        assert!(kl.is_finite() && kl > 0.0);
    }

    #[test]
    fn label_out_of_range() {
        let mut z = [0.0, 0.0];
        assert_eq!(
            cross_entropy_grad(&mut z, 2).unwrap_err(),
            Error::LabelOutOfRange {
                sample: 0,
                label: 2
            }
        );
        assert_eq!(z, [0.0, 0.0]);
    }
}
