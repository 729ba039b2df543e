//! Where an adversarial example may lie: the ε-ball of a [`Norm`] around `x`, intersected with
//! the data box [`Clip`]; the steepest ascent direction of each norm, and the projection onto
//! its ball.

use crate::error::{Error, Result};
use crate::vector::{max_abs, normalize, sign};
use crate::{kernels, math};

/// The norm an attack's budget `ε` is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Norm {
    /// `‖r‖_∞ ≤ ε`: steps along `sign(g)`.
    #[default]
    LInf,
    /// `‖r‖₂ ≤ ε`: steps along `g / ‖g‖₂`.
    L2,
}

/// The valid data range, applied coordinate-wise after each attack step.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Clip {
    /// Smallest allowed value.
    pub min: f32,
    /// Largest allowed value.
    pub max: f32,
}

impl Clip {
    /// Pixels in `[0, 1]`.
    pub const UNIT: Clip = Clip { min: 0.0, max: 1.0 };

    pub(crate) fn check(clip: Option<Clip>) -> Result<()> {
        match clip {
            Some(c) if !(c.min.is_finite() && c.max.is_finite() && c.min <= c.max) => {
                Err(Error::InvalidRange)
            }
            _ => Ok(()),
        }
    }

    #[inline]
    pub(crate) fn apply(clip: Option<Clip>, x: &mut [f32]) {
        if let Some(c) = clip {
            for v in x {
                *v = if *v < c.min {
                    c.min
                } else if *v > c.max {
                    c.max
                } else {
                    *v
                };
            }
        }
    }
}

/// Turns a gradient into the unit step direction of `norm` in place: `sign(g)` (L∞) or
/// `g / ‖g‖₂` (L2).
///
/// The L2 direction divides by `max_i |g_i|` exactly before applying [`normalize`]. For any
/// gradient with `max |g_i| ≳ 2e-5` this changes nothing (in f32, `1e-12 + m = m` there, so
/// the result has the same bits as `normalize(g)`, the authors' code); below that, `normalize`'s
/// `1e-12` guard would shrink the step — for a prediction with a logit margin above about 40
/// the input gradient is below `1e-14` and the "ε-step" would be nearly zero, overstating
/// robustness. The attacks must not be fooled by a confident network's tiny gradients, so they
/// use this scale-free form; VAT keeps [`normalize`] exactly as specified.
///
/// # Examples
///
/// ```
/// use vatic::attack::{steepest_direction, Norm};
/// let mut g = [3.0f32, -4.0, 0.0];
/// steepest_direction(&mut g, Norm::LInf);
/// assert_eq!(g, [1.0, -1.0, 0.0]);
/// let mut g = [3.0f32, -4.0, 0.0];
/// steepest_direction(&mut g, Norm::L2);
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] + 0.8).abs() < 1e-6);
/// ```
#[inline]
pub fn steepest_direction(g: &mut [f32], norm: Norm) {
    match norm {
        Norm::LInf => {
            for v in g {
                *v = sign(*v);
            }
        }
        Norm::L2 => {
            let m = max_abs(g);
            if m > 0.0 {
                for v in g.iter_mut() {
                    *v /= m;
                }
            }
            normalize(g);
        }
    }
}

/// Projects `adv` onto the `ε`-ball of `norm` around `x`: clamps each coordinate of
/// `adv − x` to `[−ε, ε]` (L∞), or rescales `adv − x` to norm `ε` when it is longer (L2).
#[inline]
pub fn project(x: &[f32], adv: &mut [f32], eps: f32, norm: Norm) {
    match norm {
        Norm::LInf => {
            for (a, &c) in adv.iter_mut().zip(x) {
                let r = *a - c;
                if r > eps {
                    *a = c + eps;
                } else if r < -eps {
                    *a = c - eps;
                }
            }
        }
        Norm::L2 => {
            let n = math::sqrt(kernels::distance_squared(adv, x));
            if n > eps {
                let s = eps / n;
                for (a, &c) in adv.iter_mut().zip(x) {
                    *a = c + (*a - c) * s;
                }
            }
        }
    }
}
