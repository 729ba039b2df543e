//! Adversarial training (Goodfellow et al. 2015):
//! `J̃(θ, x, y) = α J(θ, x, y) + (1 − α) J(θ, x_adv, y)` with `x_adv` from FGSM held constant.

use crate::attack::fgsm::step;
use crate::attack::{Clip, Norm};
use crate::error::{Error, Result};
use crate::pass::{self, scratch_len, trace_len};
use crate::{check, loss, workspace, Network};

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

/// Mean adversarial-training loss `(1/B) Σ_i J̃(θ, x_i, y_i)` over a batch `xs [n · IN]`;
/// **adds** `weight · ∂/∂θ` of it to `grad`.
///
/// Per sample: a forward and backward pass at `x` give `J(x)`, `∂J/∂θ` and `g = ∇_x J`;
/// `x_adv = x + ε dir(g)` (no gradient flows through it); a second forward and backward pass
/// at `x_adv` give `J(x_adv)` and its parameter gradient. Block by block (as many samples as
/// `ws` holds), the clean terms are added to `grad` before the adversarial ones, so the bits
/// of `grad` depend on the workspace length.
///
/// # Errors
///
/// [`Error::InvalidEpsilon`], [`Error::InvalidWeight`] (α outside `[0, 1]`, bad `weight`),
/// [`Error::InvalidRange`], [`Error::WorkspaceTooSmall`], and the batch errors of
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
/// let mut ws = [0.0; Mlp::<2, 8, 2>::WORKSPACE];
/// let cfg = AdversarialConfig::new(0.1);
/// let j = adversarial_grad(&net, &[0.0, 1.0], &[1], &cfg, 1.0, &mut grad, &mut ws)?;
/// assert!(j > 0.0);
/// # Ok::<(), vatic::Error>(())
/// ```
pub fn adversarial_grad<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    ys: &[usize],
    cfg: &AdversarialConfig,
    weight: f32,
    grad: &mut N,
    ws: &mut [f32],
) -> Result<f32> {
    cfg.validate()?;
    check::weight(weight)?;
    let s = net.shape();
    let n = check::batch(xs, s.inputs, Some(ys), s.outputs)?;
    let b = workspace::block(&s, ws)?;
    let (i, o) = (s.inputs.max(1), s.outputs.max(1));
    let [trace, zs, ce, gs, clean, scratch] = workspace::carve(
        ws,
        [trace_len(&s, b), b * o, b, b * i, b * o, scratch_len(&s, b)],
    )
    .ok_or(Error::WorkspaceTooSmall)?;
    let scale = weight / n as f32;
    let mut sum = 0.0;
    for (xs, ys) in xs.chunks(b * i).zip(ys.chunks(b)) {
        let m = ys.len();
        let zs = zs.get_mut(..m * o).unwrap_or_default();
        let gs = gs.get_mut(..m * i).unwrap_or_default();
        let clean = clean.get_mut(..m * o).unwrap_or_default();
        pass::forward(net, xs, trace, zs);
        for ((z, c), &y) in zs.chunks_exact_mut(o).zip(ce.iter_mut()).zip(ys) {
            *c = loss::cross_entropy_grad(z, y)?;
        }
        // ∇_x J from the unscaled logits gradient, so α = 0 still yields an attack.
        pass::backward(net, xs, trace, zs, None, Some(gs), scratch);
        for (c, &d) in clean.iter_mut().zip(zs.iter()) {
            *c = d * (cfg.alpha * scale);
        }
        pass::backward(net, xs, trace, clean, Some(grad), None, scratch);
        for (g, x) in gs.chunks_exact_mut(i).zip(xs.chunks_exact(i)) {
            step(x, g, cfg.eps, cfg.norm, cfg.clip);
        }
        let adv = &*gs;
        pass::forward(net, adv, trace, zs);
        for ((z, &c), &y) in zs.chunks_exact_mut(o).zip(ce.iter()).zip(ys) {
            let ce_adv = loss::cross_entropy_grad(z, y)?;
            for v in z.iter_mut() {
                *v *= (1.0 - cfg.alpha) * scale;
            }
            sum += cfg.alpha * c + (1.0 - cfg.alpha) * ce_adv;
        }
        pass::backward(net, adv, trace, zs, Some(grad), None, scratch);
    }
    Ok(sum / n as f32)
}
