//! The vector helpers the attacks and VAT share: the sign with `sign(0) = 0`, the largest
//! magnitude, and the VAT authors' per-sample normalisation (ALGORITHMS.md §2 and §4).

use crate::{kernels, math};

/// `sign(v)` with `sign(0) = 0` (Goodfellow et al.'s FGSM ties; NaN maps to 0 as well).
///
/// # Examples
///
/// ```
/// use vatic::vector::sign;
/// assert_eq!([sign(2.5), sign(-0.1), sign(0.0), sign(-0.0)], [1.0, -1.0, 0.0, 0.0]);
/// ```
#[inline]
pub fn sign(v: f32) -> f32 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `max_i |d_i|` (`0` for an empty slice; NaN entries are skipped).
///
/// # Examples
///
/// ```
/// assert_eq!(vatic::vector::max_abs(&[0.5, -3.0, 2.0]), 3.0);
/// ```
#[inline]
pub fn max_abs(d: &[f32]) -> f32 {
    d.iter().fold(
        0.0f32,
        |a, &v| if math::abs(v) > a { math::abs(v) } else { a },
    )
}

/// Per-sample normalisation of the VAT authors' code (`get_normalized_vector`):
///
/// ```text
/// d ← d / (1e-12 + max_i |d_i|)
/// d ← d / √(1e-6 + Σ_i d_i²)
/// ```
///
/// The first step guards the second against overflow and underflow; a zero vector stays zero.
/// The result has norm `1/√(1 + 1e-6/‖d′‖²)` with `‖d′‖ ≥ max|d| / (1e-12 + max|d|)`: within
/// `5e-7` of 1 when `max_i |d_i| ≥ 1e-6`, but not for tiny vectors, where the `1e-12` guard
/// dominates (a one-hot `d` of size `1e-15` gets norm 0.71, of size `1e-16` about 0.1). Input
/// gradients that small occur for very confident predictions (a logit margin above ~40), and
/// there VAT's `r_vadv` is much shorter than `ε` (the attacks divide by `max_i |d_i|` first:
/// [`steepest_direction`](crate::attack::steepest_direction)).
///
/// # Examples
///
/// ```
/// let mut d = [3.0f32, 4.0];
/// vatic::vector::normalize(&mut d);
/// assert!((d[0] - 0.6).abs() < 1e-6 && (d[1] - 0.8).abs() < 1e-6);
/// let mut z = [0.0f32; 3];
/// vatic::vector::normalize(&mut z);
/// assert_eq!(z, [0.0; 3]);
/// ```
#[inline]
pub fn normalize(d: &mut [f32]) {
    let m = 1e-12 + max_abs(d);
    for v in d.iter_mut() {
        *v /= m;
    }
    let n = math::sqrt(1e-6 + kernels::dot(d, d));
    for v in d.iter_mut() {
        *v /= n;
    }
}
