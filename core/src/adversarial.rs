//! Adversarial training (Goodfellow et al. 2015):
//! `J̃(θ, x, y) = α J(θ, x, y) + (1 − α) J(θ, x_adv, y)` with `x_adv` from FGSM held constant.

use crate::attack::{perturb, Clip, Norm};
use crate::error::{Error, Result};
use crate::{check, loss, Network, BLOCK};

/// Settings of adversarial training.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AdversarialConfig {
    /// FGSM radius `ε`.
    pub eps: f32,
    /// Weight `α ∈ [0, 1]` of the clean loss (the paper uses 0.5).
    pub alpha: f32,
    /// L∞ (Goodfellow's FGSM) or L2 (Miyato's fast gradient method).
    pub norm: Norm,
    /// Data range for `x_adv`.
    pub clip: Option<Clip>,
}

impl AdversarialConfig {
    /// Goodfellow's setting: L∞ FGSM with `α = 0.5`, no clipping.
    pub const fn new(eps: f32) -> Self {
        AdversarialConfig {
            eps,
            alpha: 0.5,
            norm: Norm::LInf,
            clip: None,
        }
    }

    fn validate(&self) -> Result<()> {
        check::epsilon(self.eps)?;
        Clip::check(self.clip)?;
        if !(self.alpha >= 0.0 && self.alpha <= 1.0) {
            return Err(Error::InvalidWeight);
        }
        Ok(())
    }
}

/// Mean adversarial-training loss `(1/B) Σ_i J̃(θ, x_i, y_i)` over a batch; **adds**
/// `weight · ∂/∂θ` of it to `grad`.
///
/// Per sample: a forward and backward pass at `x` give `J(x)`, `∂J/∂θ` and `g = ∇_x J`;
/// `x_adv = x + ε dir(g)` (no gradient flows through it); a second forward and backward pass
/// at `x_adv` give `J(x_adv)` and its parameter gradient.
///
/// # Errors
///
/// [`Error::InvalidEpsilon`], [`Error::InvalidWeight`] (α outside `[0, 1]`, bad `weight`),
/// [`Error::InvalidRange`], and the batch errors of
/// [`cross_entropy_grad`](crate::supervised::cross_entropy_grad).
///
/// # Examples
///
/// ```
/// use vatic::adversarial::{adversarial_grad, AdversarialConfig};
/// use vatic::{Activation, Mlp, Rng};
///
/// let net: Mlp<2, 8, 2> = Mlp::new(Activation::Relu, &mut Rng::new(1));
/// let mut grad = Mlp::ZERO;
/// let j = adversarial_grad(&net, &[[0.0, 1.0]], &[1], &AdversarialConfig::new(0.1), 1.0, &mut grad)?;
/// assert!(j > 0.0);
/// # Ok::<(), vatic::Error>(())
/// ```
pub fn adversarial_grad<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    xs: &[[f32; IN]],
    ys: &[usize],
    cfg: &AdversarialConfig,
    weight: f32,
    grad: &mut N,
) -> Result<f32> {
    cfg.validate()?;
    check::weight(weight)?;
    check::batch(xs, Some(ys), OUT)?;
    let scale = weight / xs.len() as f32;
    let mut traces = [N::EMPTY_TRACE; BLOCK];
    let mut sum = 0.0;
    for (xs, ys) in xs.chunks(BLOCK).zip(ys.chunks(BLOCK)) {
        let n = xs.len();
        let mut zs = [[0.0; OUT]; BLOCK];
        net.forward_block(xs, &mut traces, &mut zs);
        let mut ce = [0.0f32; BLOCK];
        for ((z, c), &y) in zs.iter_mut().zip(&mut ce).zip(ys) {
            (*c, *z) = loss::cross_entropy(z, y)?;
        }
        let dzs = zs.get(..n).unwrap_or_default();
        // ∇_x J from the unscaled logits gradient, so α = 0 still yields an attack.
        let mut gs = [[0.0; IN]; BLOCK];
        net.backward_block(&traces, dzs, None, Some(&mut gs));
        let clean: [[f32; OUT]; BLOCK] =
            core::array::from_fn(|i| scaled(zs.get(i).unwrap_or(&[0.0; OUT]), cfg.alpha * scale));
        net.backward_block(
            &traces,
            clean.get(..n).unwrap_or_default(),
            Some(grad),
            None,
        );
        let mut adv = [[0.0; IN]; BLOCK];
        for ((a, x), g) in adv.iter_mut().zip(xs).zip(&mut gs) {
            *a = perturb(x, g, cfg.eps, cfg.norm, cfg.clip);
        }
        net.forward_block(adv.get(..n).unwrap_or_default(), &mut traces, &mut zs);
        for (((z, &c), &y), _) in zs.iter_mut().zip(&ce).zip(ys).zip(0..n) {
            let (ce_adv, dz) = loss::cross_entropy(z, y)?;
            *z = scaled(&dz, (1.0 - cfg.alpha) * scale);
            sum += cfg.alpha * c + (1.0 - cfg.alpha) * ce_adv;
        }
        net.backward_block(&traces, zs.get(..n).unwrap_or_default(), Some(grad), None);
    }
    Ok(sum / xs.len() as f32)
}

#[inline]
fn scaled<const K: usize>(v: &[f32; K], s: f32) -> [f32; K] {
    let mut out = *v;
    for o in &mut out {
        *o *= s;
    }
    out
}
