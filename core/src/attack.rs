//! Gradient attacks: FGSM (L∞ and L2) and iterated FGSM / PGD with projection.
//!
//! All attacks maximise the cross-entropy `J(θ, x, y)` of the true label with the input
//! gradient `g = ∇_x J` from [`pass::backward`](crate::pass::backward):
//!
//! * L∞ FGSM (Goodfellow et al. 2015): `x_adv = x + ε · sign(g)`, `sign(0) = 0`;
//! * L2 fast gradient method (Miyato's `norm_constraint='L2'`): `x_adv = x + ε · g / ‖g‖₂`
//!   with [`normalize`](crate::vector::normalize)'s per-sample normalisation, made scale-free so that tiny gradients of
//!   confident predictions still give a step of norm ε (see [`steepest_direction`]; a zero
//!   gradient stays zero);
//! * [`pgd`]: `x_{t+1} = Π_{B_ε(x)}(x_t + α · dir(∇_x J(x_t)))`, starting at `x`, where `Π`
//!   clamps each coordinate (L∞) or rescales the perturbation to norm `ε` (L2).
//!
//! An optional [`Clip`] keeps every coordinate in the data range after each step. Samples are
//! slices of the network's input width; `ws` is the caller's
//! [workspace](crate::Shape::workspace_len) (one sample's worth is enough).

use crate::error::{Error, Result};
use crate::supervised::input_gradient_unchecked;
use crate::vector::{max_abs, normalize, sign};
use crate::{check, kernels, math, workspace, Network};

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

/// The fast gradient sign method (L∞) or fast gradient method (L2) for one sample:
/// `adv = x + ε · dir(∇_x CE(f(x), y))`, then clipped.
///
/// # Errors
///
/// [`Error::InvalidEpsilon`] for `ε < 0` or non-finite, [`Error::LengthMismatch`] when `x` or
/// `adv` is not one sample, [`Error::NonFiniteInput`], [`Error::LabelOutOfRange`],
/// [`Error::InvalidRange`] for a bad clip, [`Error::WorkspaceTooSmall`].
///
/// # Examples
///
/// ```
/// use vatic::attack::{fgsm, Norm};
/// use vatic::{Activation, Mlp, Rng};
///
/// let net: Mlp<4, 8, 3> = Mlp::new(Activation::Relu, &mut Rng::new(5));
/// let mut ws = [0.0; Mlp::<4, 8, 3>::WORKSPACE_ONE];
/// let x = [0.2, -0.4, 0.1, 0.9];
/// let mut adv = [0.0; 4];
/// fgsm(&net, &x, 1, 0.1, Norm::LInf, None, &mut adv, &mut ws)?;
/// assert!(adv.iter().zip(&x).all(|(a, b)| (a - b).abs() <= 0.1 + 1e-7));
/// # Ok::<(), vatic::Error>(())
/// ```
pub fn fgsm<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    eps: f32,
    norm: Norm,
    clip: Option<Clip>,
    adv: &mut [f32],
    ws: &mut [f32],
) -> Result<()> {
    check::epsilon(eps)?;
    Clip::check(clip)?;
    sample(net, x, y, adv, ws)?;
    fgsm_unchecked(net, x, y, eps, norm, clip, adv, ws);
    Ok(())
}

/// Checks one labelled sample, its output row and the workspace.
pub(crate) fn sample<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    adv: &[f32],
    ws: &[f32],
) -> Result<()> {
    let s = net.shape();
    if x.len() != s.inputs || adv.len() != s.inputs {
        return Err(Error::LengthMismatch);
    }
    check::batch(x, s.inputs, Some(&[y]), s.outputs)?;
    workspace::block(&s, ws).map(|_| ())
}

#[inline]
pub(crate) fn fgsm_unchecked<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    eps: f32,
    norm: Norm,
    clip: Option<Clip>,
    adv: &mut [f32],
    ws: &mut [f32],
) {
    input_gradient_unchecked(net, x, y, adv, ws);
    perturb(x, adv, eps, norm, clip);
}

/// `g ← x + ε · dir(g)`, clipped: the gradient in `g` becomes the perturbed sample.
#[inline]
pub(crate) fn perturb(x: &[f32], g: &mut [f32], eps: f32, norm: Norm, clip: Option<Clip>) {
    steepest_direction(g, norm);
    for (a, &xi) in g.iter_mut().zip(x) {
        *a = xi + eps * *a;
    }
    Clip::apply(clip, g);
}

/// Settings of [`pgd`], the iterated FGSM / projected gradient descent attack.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pgd {
    /// Radius `ε` of the ball the perturbation is projected on.
    pub eps: f32,
    /// Step size `α` of each iteration.
    pub step: f32,
    /// Number of iterations (≥ 1).
    pub iterations: u32,
    /// The ball's norm and the step direction.
    pub norm: Norm,
    /// Data range applied after each step.
    pub clip: Option<Clip>,
}

impl Pgd {
    /// `iterations` steps of `α = 2.5 ε / iterations` (Madry et al.'s rule), no clipping.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEpsilon`] for a negative or non-finite `eps`, [`Error::ZeroIterations`].
    ///
    /// # Examples
    ///
    /// ```
    /// use vatic::attack::{Norm, Pgd};
    ///
    /// let cfg = Pgd::new(0.1, 10, Norm::LInf)?;
    /// assert_eq!(cfg.step, 0.025);
    /// assert!(Pgd::new(-1.0, 10, Norm::LInf).is_err());
    /// # Ok::<(), vatic::Error>(())
    /// ```
    pub fn new(eps: f32, iterations: u32, norm: Norm) -> Result<Self> {
        let cfg = Self::madry(eps, iterations, norm);
        cfg.validate()?;
        Ok(cfg)
    }

    /// [`Pgd::new`]'s settings, unchecked (for callers that validated `eps` and `iterations`).
    pub(crate) fn madry(eps: f32, iterations: u32, norm: Norm) -> Self {
        Pgd {
            eps,
            step: 2.5 * eps / iterations.max(1) as f32,
            iterations,
            norm,
            clip: None,
        }
    }

    /// Checks the settings (they are public fields, so [`pgd`] checks them again).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEpsilon`], [`Error::ZeroIterations`], [`Error::InvalidRange`] for a bad
    /// clip, and [`Error::InvalidSetting`] `{ name: "step" }` for a step that is not positive
    /// and finite (a zero step is accepted with `ε = 0`, as [`Pgd::new`] derives it: the ball
    /// is `{x}` then, and the result is `x`, clipped).
    pub fn validate(&self) -> Result<()> {
        check::epsilon(self.eps)?;
        Clip::check(self.clip)?;
        if self.iterations == 0 {
            return Err(Error::ZeroIterations);
        }
        if !(self.step.is_finite() && (self.step > 0.0 || (self.step == 0.0 && self.eps == 0.0))) {
            return Err(Error::InvalidSetting { name: "step" });
        }
        Ok(())
    }
}

/// Iterated FGSM / PGD from `x` (no random start, so it is deterministic); the result goes to
/// `adv`.
///
/// # Errors
///
/// [`Pgd::validate`]'s, and the sample errors of [`fgsm`].
pub fn pgd<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    cfg: &Pgd,
    adv: &mut [f32],
    ws: &mut [f32],
) -> Result<()> {
    cfg.validate()?;
    sample(net, x, y, adv, ws)?;
    pgd_unchecked(net, x, y, cfg, adv, ws);
    Ok(())
}

pub(crate) fn pgd_unchecked<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    cfg: &Pgd,
    adv: &mut [f32],
    ws: &mut [f32],
) {
    for (a, &v) in adv.iter_mut().zip(x) {
        *a = v;
    }
    let (g, ws) = ws.split_at_mut(x.len().min(ws.len()));
    for _ in 0..cfg.iterations {
        input_gradient_unchecked(net, adv, y, g, ws);
        perturb(adv, g, cfg.step, cfg.norm, None);
        for (a, &v) in adv.iter_mut().zip(g.iter()) {
            *a = v;
        }
        project(x, adv, cfg.eps, cfg.norm);
        Clip::apply(cfg.clip, adv);
    }
}

/// Projects `adv` onto the `ε`-ball of `norm` around `x`.
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
