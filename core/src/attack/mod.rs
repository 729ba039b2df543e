//! Gradient attacks, described by one value: an [`Attack`] says which attack ([`Method`]: FGSM,
//! or PGD with its [`Pgd`] settings), in which [`Norm`], clipped to which box ([`Clip`]). The
//! radius `ε` is given where the attack runs ([`Attack::perturb`] and the
//! [metrics](crate::metrics)), because the metrics sweep and bisect it.
//!
//! All attacks maximise the cross-entropy `J(θ, x, y)` of the true label with the input
//! gradient `g = ∇_x J` from [`pass::backward`](crate::pass::backward):
//!
//! * [`Method::Fgsm`] — L∞ FGSM (Goodfellow et al. 2015): `x_adv = x + ε · sign(g)`,
//!   `sign(0) = 0`; the L2 fast gradient method (Miyato's `norm_constraint='L2'`):
//!   `x_adv = x + ε · g / ‖g‖₂` with [`normalize`](crate::vector::normalize)'s per-sample
//!   normalisation, made scale-free so that tiny gradients of confident predictions still give
//!   a step of norm ε (see [`steepest_direction`]; a zero gradient stays zero);
//! * [`Method::Pgd`] — iterated FGSM / projected gradient descent:
//!   `x_{t+1} = Π_{B_ε(x)}(x_t + α · dir(∇_x J(x_t)))`, where `Π` clamps each coordinate (L∞)
//!   or rescales the perturbation to norm `ε` (L2); it keeps the first iterate that flips the
//!   prediction (the best it found), not the last; step rule, start and restarts in [`Pgd`].
//!
//! The optional box keeps every coordinate in the data range after each step. Samples are
//! slices of the network's input width; `ws` is the caller's
//! [workspace](crate::Shape::workspace_len) (one sample's worth is enough).
//!
//! # Examples
//!
//! ```
//! use vatic::attack::{Attack, Clip, Norm};
//! use vatic::{pass, Activation, Mlp, Rng};
//!
//! let net: Mlp<4, 8, 3> = Mlp::new(Activation::Relu, &mut Rng::new(5));
//! let mut ws = [0.0; Mlp::<4, 8, 3>::WORKSPACE_ONE];
//! let x = [0.2, 0.6, 0.1, 0.9];
//! let y = pass::predict(&net, &x, &mut ws)?;
//! let mut adv = [0.0; 4];
//!
//! Attack::fgsm(Norm::LInf).perturb(&net, &x, y, 0.1, &mut adv, &mut ws)?;
//! assert!(adv.iter().zip(&x).all(|(a, b)| (a - b).abs() <= 0.1 + 1e-7));
//!
//! // 10 steps of L2 PGD, kept in the box [0, 1].
//! let pgd = Attack { clip: Some(Clip::UNIT), ..Attack::pgd(Norm::L2, 10) };
//! pgd.perturb(&net, &x, y, 0.5, &mut adv, &mut ws)?;
//! assert!(adv.iter().all(|&v| (0.0..=1.0).contains(&v)));
//! # Ok::<(), vatic::Error>(())
//! ```
//!
//! # Adding an attack
//!
//! A new attack is one [`Method`] variant (its settings, if any), one function in a file of
//! its own that writes the example of one validated sample (see `fgsm.rs`, `pgd.rs`), and its
//! arm in [`Attack::validate`] and in the dispatch of `Attack::run`; the metrics, the host and
//! the firmware take an `Attack` and need no change. An attack without a budget (DeepFool,
//! Carlini–Wagner) fits the same way: its function searches for the smallest perturbation it
//! can find and keeps it when its norm is at most `ε` (`x` otherwise), so "fooled at ε" keeps
//! its meaning and the sweep and bisection of [`metrics`](crate::metrics) stay correct; the
//! bisection could then read the found norm directly instead of searching, one more arm.

mod ball;
pub(crate) mod fgsm;
mod pgd;

pub use ball::{project, steepest_direction, Clip, Norm};
pub use pgd::{Pgd, Start, Step};

use core::fmt;

use crate::error::{Error, Result};
use crate::pass::predict_unchecked;
use crate::{check, workspace, Network};

/// One attack: which, in which norm, in which box. The radius is given where it runs.
///
/// Build one with [`Attack::fgsm`] or [`Attack::pgd`] (both `const`) and change fields with
/// struct-update syntax; [`Attack::validate`] checks it, and every function that takes an
/// `Attack` calls it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Attack {
    /// Which attack, with its own settings.
    pub method: Method,
    /// The norm of the ε-ball and of the step direction.
    pub norm: Norm,
    /// The data box every example is clipped to (after each step).
    pub clip: Option<Clip>,
}

/// Which attack an [`Attack`] runs.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Method {
    /// One step of size ε: FGSM in L∞, the fast gradient method in L2.
    Fgsm,
    /// Projected gradient descent.
    Pgd(Pgd),
}

impl Attack {
    /// FGSM (L∞) or the fast gradient method (L2), no box.
    pub const fn fgsm(norm: Norm) -> Self {
        Attack {
            method: Method::Fgsm,
            norm,
            clip: None,
        }
    }

    /// PGD with [`Pgd::madry`]'s settings (`iterations` steps of `2.5 ε / iterations` from `x`,
    /// one run), no box.
    pub const fn pgd(norm: Norm, iterations: u32) -> Self {
        Attack {
            method: Method::Pgd(Pgd::madry(iterations)),
            norm,
            clip: None,
        }
    }

    /// Checks the description.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRange`] for a box with `min > max` or a non-finite bound;
    /// for PGD, [`Error::ZeroIterations`], [`Error::InvalidSetting`] `{ name: "restarts" }` for
    /// zero runs and `{ name: "step" }` for a [`Step::Ratio`] that is not finite and `> 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use vatic::attack::{Attack, Method, Norm, Pgd};
    /// use vatic::Error;
    ///
    /// assert_eq!(Attack::pgd(Norm::LInf, 10).validate(), Ok(()));
    /// assert_eq!(Attack::pgd(Norm::LInf, 0).validate(), Err(Error::ZeroIterations));
    /// let none = Attack {
    ///     method: Method::Pgd(Pgd { restarts: 0, ..Pgd::madry(10) }),
    ///     ..Attack::fgsm(Norm::L2)
    /// };
    /// assert_eq!(none.validate(), Err(Error::InvalidSetting { name: "restarts" }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        Clip::check(self.clip)?;
        match self.method {
            Method::Fgsm => Ok(()),
            Method::Pgd(p) => {
                if p.iterations == 0 {
                    return Err(Error::ZeroIterations);
                }
                if p.restarts == 0 {
                    return Err(Error::InvalidSetting { name: "restarts" });
                }
                match p.step {
                    Step::Ratio(r) if !(r.is_finite() && r > 0.0) => {
                        Err(Error::InvalidSetting { name: "step" })
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// The adversarial example of the sample `(x, y)` at radius `eps`, into `adv`. For PGD that
    /// is the first iterate that changes the prediction (`x` itself when `x` is misclassified
    /// already), or the last iterate when none does.
    ///
    /// # Errors
    ///
    /// [`Attack::validate`]'s, [`Error::InvalidEpsilon`] for `ε < 0` or non-finite,
    /// [`Error::LengthMismatch`] when `x` or `adv` is not one sample,
    /// [`Error::NonFiniteInput`], [`Error::LabelOutOfRange`], [`Error::WorkspaceTooSmall`].
    pub fn perturb<N: Network + ?Sized>(
        &self,
        net: &N,
        x: &[f32],
        y: usize,
        eps: f32,
        adv: &mut [f32],
        ws: &mut [f32],
    ) -> Result<()> {
        self.validate()?;
        check::epsilon(eps)?;
        sample(net, x, y, adv, ws)?;
        self.run(net, x, y, eps, adv, ws);
        Ok(())
    }

    /// The example of a validated sample at `eps` into `adv`; `true` when the attack already
    /// saw it fool the network (`false` leaves the check to the caller).
    #[inline]
    pub(crate) fn run<N: Network + ?Sized>(
        &self,
        net: &N,
        x: &[f32],
        y: usize,
        eps: f32,
        adv: &mut [f32],
        ws: &mut [f32],
    ) -> bool {
        match self.method {
            Method::Fgsm => {
                fgsm::fgsm(net, x, y, eps, self.norm, self.clip, adv, ws);
                false
            }
            Method::Pgd(p) => pgd::pgd(net, x, y, eps, &p, self.norm, self.clip, adv, ws),
        }
    }

    /// Whether the attack at `eps` changes the prediction of the validated sample `(x, y)`.
    pub(crate) fn fools<N: Network + ?Sized>(
        &self,
        net: &N,
        x: &[f32],
        y: usize,
        eps: f32,
        ws: &mut [f32],
    ) -> bool {
        let (adv, ws) = ws.split_at_mut(x.len().min(ws.len()));
        self.run(net, x, y, eps, adv, ws) || predict_unchecked(net, adv, ws) != y
    }
}

impl fmt::Display for Norm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Norm::LInf => "L∞",
            Norm::L2 => "L2",
        })
    }
}

/// The description in words, every setting included (reports print it next to their numbers).
///
/// # Examples
///
/// ```
/// use vatic::attack::{Attack, Clip, Method, Norm, Pgd, Start};
///
/// assert_eq!(Attack::fgsm(Norm::LInf).to_string(), "L∞ FGSM");
/// assert_eq!(
///     Attack::pgd(Norm::L2, 10).to_string(),
///     "L2 PGD, 10 steps of 2.5ε/10 from x, restarts 1"
/// );
/// let random = Attack {
///     method: Method::Pgd(Pgd { start: Start::Uniform { seed: 3 }, restarts: 5, ..Pgd::madry(20) }),
///     norm: Norm::LInf,
///     clip: Some(Clip::UNIT),
/// };
/// assert_eq!(
///     random.to_string(),
///     "L∞ PGD, 20 steps of 2.5ε/20 from a uniform random start (seed 3), restarts 5, box [0, 1]"
/// );
/// ```
impl fmt::Display for Attack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.method {
            Method::Fgsm => write!(f, "{} FGSM", self.norm)?,
            Method::Pgd(p) => {
                write!(f, "{} PGD, {} steps of ", self.norm, p.iterations)?;
                match p.step {
                    Step::Madry => write!(f, "2.5ε/{}", p.iterations)?,
                    Step::Ratio(r) => write!(f, "{r}ε")?,
                }
                match p.start {
                    Start::Clean => f.write_str(" from x")?,
                    Start::Uniform { seed } => {
                        write!(f, " from a uniform random start (seed {seed})")?
                    }
                }
                write!(f, ", restarts {}", p.restarts)?;
            }
        }
        match self.clip {
            Some(c) => write!(f, ", box [{}, {}]", c.min, c.max),
            None => Ok(()),
        }
    }
}

/// Checks one labelled sample, its output row and the workspace.
fn sample<N: Network + ?Sized>(
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
