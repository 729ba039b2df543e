//! The semi-supervised objective of VAT:
//! `CE(labelled) + α · mean LDS(unlabelled) [+ β · mean H(p(x_ul))]` (VAT+EntMin with β = 1).

use crate::error::{Error, Result};
use crate::optim::Optimizer;
use crate::vat::{self, VatConfig};
use crate::{check, Network, Rng};

/// Settings of the semi-supervised objective.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SemiConfig {
    /// VAT's settings.
    pub vat: VatConfig,
    /// Weight `α` of the mean LDS (the paper's default 1).
    pub vat_weight: f32,
    /// Weight `β` of the conditional entropy `H(p(x_ul)) = −Σ p log p` (0 for plain VAT, 1 for
    /// VAT+EntMin). Its gradient is not stopped.
    pub entropy_weight: f32,
}

impl SemiConfig {
    /// Plain VAT: `α = 1`, no entropy term.
    pub const fn vat(vat: VatConfig) -> Self {
        SemiConfig {
            vat,
            vat_weight: 1.0,
            entropy_weight: 0.0,
        }
    }

    /// VAT+EntMin: `α = 1`, `β = 1`.
    pub const fn vat_entmin(vat: VatConfig) -> Self {
        SemiConfig {
            vat,
            vat_weight: 1.0,
            entropy_weight: 1.0,
        }
    }
}

/// The terms of the semi-supervised objective for one batch.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SemiLoss {
    /// Mean cross-entropy of the labelled batch (0 when it is empty).
    pub ce: f32,
    /// Mean LDS of the unlabelled batch (0 when it is empty).
    pub lds: f32,
    /// Mean entropy of the unlabelled batch (0 when it is empty).
    pub entropy: f32,
    /// `ce + α lds + β entropy`.
    pub total: f32,
}

/// Computes the objective over a labelled batch `xl [nl · IN]`, `yl` and an unlabelled batch
/// `xu [nu · IN]`; **adds** its parameter gradient to `grad`. Start directions for VAT are drawn
/// from `rng` as in [`vat::vat_grad`].
///
/// Either batch may be empty (then its terms are 0), not both.
///
/// # Errors
///
/// [`Error::EmptyBatch`] when both are empty; the validation errors of
/// [`cross_entropy_grad`](crate::supervised::cross_entropy_grad) and [`vat::vat_grad`];
/// [`Error::InvalidWeight`] for a negative or non-finite α or β.
pub fn semi_supervised_grad<N: Network + ?Sized>(
    net: &N,
    xl: &[f32],
    yl: &[usize],
    xu: &[f32],
    rng: &mut Rng,
    cfg: &SemiConfig,
    grad: &mut N,
    ws: &mut [f32],
) -> Result<SemiLoss> {
    semi_grad(net, xl, yl, xu, Starts::Random(rng), cfg, grad, ws)
}

/// [`semi_supervised_grad`] with given VAT start directions `d0s [nu · IN]` for `xu`.
///
/// # Errors
///
/// As [`semi_supervised_grad`], and [`Error::LengthMismatch`] when `d0s.len() != xu.len()`.
pub fn semi_supervised_grad_with_directions<N: Network + ?Sized>(
    net: &N,
    xl: &[f32],
    yl: &[usize],
    xu: &[f32],
    d0s: &[f32],
    cfg: &SemiConfig,
    grad: &mut N,
    ws: &mut [f32],
) -> Result<SemiLoss> {
    if d0s.len() != xu.len() {
        return Err(Error::LengthMismatch);
    }
    if !d0s.is_empty() {
        check::batch(d0s, net.width(0), None, 0)?;
    }
    semi_grad(net, xl, yl, xu, Starts::Given(d0s), cfg, grad, ws)
}

enum Starts<'a> {
    Random(&'a mut Rng),
    Given(&'a [f32]),
}

fn semi_grad<N: Network + ?Sized>(
    net: &N,
    xl: &[f32],
    yl: &[usize],
    xu: &[f32],
    mut starts: Starts<'_>,
    cfg: &SemiConfig,
    grad: &mut N,
    ws: &mut [f32],
) -> Result<SemiLoss> {
    cfg.vat.validate()?;
    check::weight(cfg.vat_weight)?;
    check::weight(cfg.entropy_weight)?;
    if xl.is_empty() && xu.is_empty() {
        return Err(Error::EmptyBatch);
    }
    let w = net.width(0);
    let nu = if xu.is_empty() {
        0
    } else {
        check::batch(xu, w, None, 0)?
    };
    let mut out = SemiLoss::default();
    if !xl.is_empty() {
        out.ce = crate::supervised::cross_entropy_grad(net, xl, yl, 1.0, grad, ws)?;
    } else if !yl.is_empty() {
        return Err(Error::LengthMismatch);
    }
    if nu > 0 {
        let n = nu as f32;
        let terms = vat::BlockTerms {
            lds_scale: Some(cfg.vat_weight / n),
            entropy_scale: (cfg.entropy_weight > 0.0).then_some(cfg.entropy_weight / n),
        };
        let (lds, ent, _) = match &mut starts {
            Starts::Random(rng) => {
                let start = |_, d: &mut [f32]| rng.fill_normal(d);
                vat::batch(net, xu, start, &cfg.vat, Some(grad), terms, ws)?
            }
            Starts::Given(d0s) => {
                vat::batch(net, xu, vat::given(d0s, w), &cfg.vat, Some(grad), terms, ws)?
            }
        };
        out.lds = lds / n;
        out.entropy = ent / n;
    }
    out.total = out.ce + cfg.vat_weight * out.lds + cfg.entropy_weight * out.entropy;
    Ok(out)
}

/// One training step: zeroes `grad`, computes [`semi_supervised_grad`], and lets `opt` update
/// `net`. `grad` is caller-owned scratch of the network's type and `ws` the workspace (no
/// heap).
///
/// # Errors
///
/// As [`semi_supervised_grad`]; on error `net` is left unchanged.
///
/// # Examples
///
/// ```
/// use vatic::optim::{Sgd, SgdConfig};
/// use vatic::semi::{semi_supervised_step, SemiConfig};
/// use vatic::vat::VatConfig;
/// use vatic::{Activation, Mlp, Rng};
///
/// type Net = Mlp<2, 16, 2>;
/// let mut rng = Rng::new(0);
/// let mut net: Net = Mlp::new(Activation::Relu, &mut rng);
/// let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..SgdConfig::VAT_SYNTHETIC })?;
/// let (mut grad, mut ws) = (Net::ZERO, [0.0; Net::WORKSPACE]);
/// let cfg = SemiConfig::vat(VatConfig::new(0.3));
/// let l = semi_supervised_step(&mut net, &mut opt, &mut grad, &mut ws,
///     &[0.0, 1.0, 1.0, 0.0], &[0, 1], &[0.2, 0.9, 0.8, 0.1], &mut rng, &cfg)?;
/// assert!(l.total >= l.ce);
/// # Ok::<(), vatic::Error>(())
/// ```
pub fn semi_supervised_step<N, O>(
    net: &mut N,
    opt: &mut O,
    grad: &mut N,
    ws: &mut [f32],
    xl: &[f32],
    yl: &[usize],
    xu: &[f32],
    rng: &mut Rng,
    cfg: &SemiConfig,
) -> Result<SemiLoss>
where
    N: Network,
    O: Optimizer<N>,
{
    grad.zero();
    let l = semi_supervised_grad(net, xl, yl, xu, rng, cfg, grad, ws)?;
    opt.step(net, grad);
    Ok(l)
}
