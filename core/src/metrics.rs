//! Robustness metrics over a data set `xs [n · IN]`, without heap (`ws` is the caller's
//! [workspace](crate::Shape::workspace_len)): clean and robust accuracy, minimal
//! successful ε, empirical robustness, and LDS statistics.
//!
//! These follow what users of ART, foolbox and RobustBench expect:
//!
//! * robust accuracy at ε = fraction of samples still classified correctly after the attack
//!   (`1 −` the attack's success rate; samples misclassified to begin with count as failures);
//!   PGD counts a sample as fooled when any of its iterates is, not only the last
//!   ([`attack::Pgd`](crate::attack::Pgd));
//! * minimal ε of a sample = the smallest radius at which the attack changes a correct
//!   prediction, found by bisection (attack success need not be monotone in ε for FGSM, so
//!   bisection returns *a* boundary: the first one when success is monotone);
//! * empirical robustness (ART) = mean over successfully attacked samples of
//!   `‖x_adv − x‖ / ‖x‖` at the minimal ε, in the attack's norm.
//!
//! "The batch errors" below are [`Error::EmptyBatch`], [`Error::LengthMismatch`],
//! [`Error::NonFiniteInput`], [`Error::LabelOutOfRange`] and [`Error::WorkspaceTooSmall`]; and
//! every function here refuses a network with a NaN or infinite parameter
//! ([`Error::NonFiniteParameter`], see [`Parameters::check_finite`](crate::Parameters::check_finite))
//! rather than count its NaN logits as predictions.
//!
//! # Examples
//!
//! ```
//! use vatic::attack::{Attack, Norm};
//! use vatic::metrics::{lds_stats, minimal_epsilon_stats, robust_accuracy_sweep};
//! use vatic::vat::VatConfig;
//! use vatic::{Activation, Mlp, Rng};
//!
//! let mut rng = Rng::new(4);
//! let net: Mlp<2, 16, 2> = Mlp::new(Activation::Tanh, &mut rng);
//! let mut ws = [0.0; Mlp::<2, 16, 2>::WORKSPACE];
//! let xs = [0.5, 0.1, /* */ -0.3, 0.8, /* */ 0.9, -0.7, /* */ -0.6, -0.2];
//! let ys = [0, 1, 0, 1];
//!
//! let eps = [0.0, 0.1, 0.3];
//! let mut acc = [0.0; 3];
//! let pgd = Attack::pgd(Norm::LInf, 10);
//! robust_accuracy_sweep(&net, &xs, &ys, &pgd, &eps, &mut acc, &mut ws)?;
//! assert!(acc[2] <= acc[0]);
//!
//! let m = minimal_epsilon_stats(&net, &xs, &ys, &pgd, 2.0, 12, &mut ws)?;
//! assert_eq!(m.fooled + m.resisted + m.misclassified, ys.len());
//!
//! let lds = lds_stats(&net, &xs, &mut rng, &VatConfig::new(0.5), &mut ws)?;
//! assert!(lds.mean <= lds.max);
//! # Ok::<(), vatic::Error>(())
//! ```

use crate::attack::{Attack, Norm};
use crate::error::{Error, Result};
use crate::pass::predict_unchecked;
use crate::vat::{self, VatConfig};
use crate::{check, math, workspace, Network, Rng};

/// A labelled batch for `net` (which must hold finite parameters) and a workspace for it.
fn batch<N: Network + ?Sized>(net: &N, xs: &[f32], ys: &[usize], ws: &[f32]) -> Result<usize> {
    net.check_finite()?;
    let s = net.shape();
    let n = check::batch(xs, s.inputs, Some(ys), s.outputs)?;
    workspace::block(&s, ws)?;
    Ok(n)
}

/// Accuracy of `net` on `(xs, ys)` after `attack` at radius `eps` (at `eps = 0`: clean
/// accuracy).
///
/// # Errors
///
/// As [`Attack::perturb`], plus the batch errors.
pub fn robust_accuracy<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    ys: &[usize],
    attack: &Attack,
    eps: f32,
    ws: &mut [f32],
) -> Result<f32> {
    let mut out = [0.0];
    robust_accuracy_sweep(net, xs, ys, attack, &[eps], &mut out, ws)?;
    Ok(out[0])
}

/// [`robust_accuracy`] at every radius of `eps` (written to `out[i]`). A sample already
/// misclassified is not attacked.
///
/// # Errors
///
/// [`Error::LengthMismatch`] when `out.len() != eps.len()`, and those of [`robust_accuracy`].
pub fn robust_accuracy_sweep<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    ys: &[usize],
    attack: &Attack,
    eps: &[f32],
    out: &mut [f32],
    ws: &mut [f32],
) -> Result<()> {
    attack.validate()?;
    let n = batch(net, xs, ys, ws)?;
    if out.len() != eps.len() {
        return Err(Error::LengthMismatch);
    }
    for &e in eps {
        check::epsilon(e)?;
    }
    out.fill(0.0);
    for (x, &y) in xs.chunks_exact(net.width(0).max(1)).zip(ys) {
        if predict_unchecked(net, x, ws) != y {
            continue;
        }
        for (o, &e) in out.iter_mut().zip(eps) {
            if !attack.fools(net, x, y, e, ws) {
                *o += 1.0;
            }
        }
    }
    for o in out.iter_mut() {
        *o /= n as f32;
    }
    Ok(())
}

/// The smallest radius in `[0, eps_max]` at which `attack` changes the prediction of `x`,
/// found by `steps` bisection steps (resolution `eps_max / 2^steps`).
///
/// Returns `Some(0.0)` when `x` is misclassified already and `None` when the attack fails at
/// `eps_max`.
///
/// # Errors
///
/// [`Error::ZeroIterations`] for `steps = 0`, and those of [`Attack::perturb`].
pub fn minimal_epsilon<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    attack: &Attack,
    eps_max: f32,
    steps: u32,
    ws: &mut [f32],
) -> Result<Option<f32>> {
    check_bisection(attack, eps_max, steps)?;
    net.check_finite()?;
    if x.len() != net.width(0) {
        return Err(Error::LengthMismatch);
    }
    batch(net, x, &[y], ws)?;
    Ok(minimal_epsilon_unchecked(
        net, x, y, attack, eps_max, steps, ws,
    ))
}

/// The arguments shared by [`minimal_epsilon`] and [`minimal_epsilon_stats`]: attack, radius,
/// then the bisection step count.
fn check_bisection(attack: &Attack, eps_max: f32, steps: u32) -> Result<()> {
    attack.validate()?;
    check::epsilon(eps_max)?;
    if steps == 0 {
        return Err(Error::ZeroIterations);
    }
    Ok(())
}

fn minimal_epsilon_unchecked<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    attack: &Attack,
    eps_max: f32,
    steps: u32,
    ws: &mut [f32],
) -> Option<f32> {
    if predict_unchecked(net, x, ws) != y {
        return Some(0.0);
    }
    if !attack.fools(net, x, y, eps_max, ws) {
        return None;
    }
    let (mut lo, mut hi) = (0.0f32, eps_max);
    for _ in 0..steps {
        let mid = 0.5 * (lo + hi);
        if attack.fools(net, x, y, mid, ws) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// Minimal-ε statistics over a data set.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MinimalEpsilon {
    /// Samples that were correct and were fooled within `eps_max`.
    pub fooled: usize,
    /// Samples that were correct and resisted `eps_max`.
    pub resisted: usize,
    /// Samples misclassified without attack.
    pub misclassified: usize,
    /// Mean minimal ε over the fooled samples (0 if none).
    pub mean: f32,
    /// Smallest minimal ε over the fooled samples (0 if none).
    pub min: f32,
    /// Largest minimal ε over the fooled samples (0 if none).
    pub max: f32,
    /// ART's empirical robustness: mean `‖x_adv − x‖ / ‖x‖` in the attack's norm at the minimal
    /// ε, over the fooled samples with `x ≠ 0` (0 if none).
    pub empirical_robustness: f32,
}

/// [`minimal_epsilon`] over a data set, summarised.
///
/// # Errors
///
/// As [`minimal_epsilon`], plus the batch errors.
pub fn minimal_epsilon_stats<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    ys: &[usize],
    attack: &Attack,
    eps_max: f32,
    steps: u32,
    ws: &mut [f32],
) -> Result<MinimalEpsilon> {
    check_bisection(attack, eps_max, steps)?;
    batch(net, xs, ys, ws)?;
    let mut s = MinimalEpsilon {
        min: f32::INFINITY,
        ..MinimalEpsilon::default()
    };
    let mut er_sum = 0.0;
    let mut er_n = 0usize;
    let w = net.width(0).max(1);
    for (x, &y) in xs.chunks_exact(w).zip(ys) {
        if predict_unchecked(net, x, ws) != y {
            s.misclassified += 1;
            continue;
        }
        match minimal_epsilon_unchecked(net, x, y, attack, eps_max, steps, ws) {
            None => s.resisted += 1,
            Some(e) => {
                s.fooled += 1;
                s.mean += e;
                s.min = if e < s.min { e } else { s.min };
                s.max = if e > s.max { e } else { s.max };
                let (adv, rest) = ws.split_at_mut(w.min(ws.len()));
                attack.run(net, x, y, e, adv, rest);
                let (num, den) = norms(attack.norm, x, adv);
                if den > 0.0 {
                    er_sum += num / den;
                    er_n += 1;
                }
            }
        }
    }
    if s.fooled > 0 {
        s.mean /= s.fooled as f32;
    } else {
        s.min = 0.0;
    }
    if er_n > 0 {
        s.empirical_robustness = er_sum / er_n as f32;
    }
    Ok(s)
}

/// `(‖adv − x‖, ‖x‖)` in `norm`.
fn norms(norm: Norm, x: &[f32], adv: &[f32]) -> (f32, f32) {
    let (mut num, mut den) = (0.0f32, 0.0f32);
    for (&a, &b) in adv.iter().zip(x) {
        let r = a - b;
        match norm {
            Norm::LInf => {
                num = if math::abs(r) > num {
                    math::abs(r)
                } else {
                    num
                };
                den = if math::abs(b) > den {
                    math::abs(b)
                } else {
                    den
                };
            }
            Norm::L2 => {
                num += r * r;
                den += b * b;
            }
        }
    }
    match norm {
        Norm::LInf => (num, den),
        Norm::L2 => (math::sqrt(num), math::sqrt(den)),
    }
}

/// Mean and maximum LDS over a data set.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LdsStats {
    /// Mean LDS.
    pub mean: f32,
    /// Largest LDS.
    pub max: f32,
}

/// LDS of every sample with Gaussian start directions from `rng` (as in
/// [`vat_grad`](crate::vat::vat_grad)), summarised. `K` is `cfg.iterations` (the 2016 code
/// monitored with `K = 5`).
///
/// # Errors
///
/// [`VatConfig::validate`]'s and the batch errors.
pub fn lds_stats<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    rng: &mut Rng,
    cfg: &VatConfig,
    ws: &mut [f32],
) -> Result<LdsStats> {
    cfg.validate()?;
    net.check_finite()?;
    let n = check::batch(xs, net.width(0), None, 0)?;
    let start = |_, d: &mut [f32]| rng.fill_normal(d);
    let (sum, _, max) = vat::batch(net, xs, start, cfg, None, vat::BlockTerms::NONE, ws)?;
    Ok(LdsStats {
        mean: sum / n as f32,
        max,
    })
}
