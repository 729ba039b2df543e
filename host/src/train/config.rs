//! What a training run is: the objective ([`Method`]), the optimiser ([`OptimizerKind`]) and
//! every setting besides the data ([`TrainConfig`]), with the VAT authors' synthetic protocol
//! and the image settings as presets.

use crate::data::synthetic::Kind;
use serde::Serialize;
use vatic::adversarial::AdversarialConfig;
use vatic::optim::{AdamConfig, SgdConfig};
use vatic::semi::SemiConfig;
use vatic::vat::VatConfig;

/// Unlabelled minibatch of each VAT step on the synthetic sets when an unlabelled pool is given
/// (without one, all 16 labelled points are VAT's batch). The whole of a 1000-point pool every
/// step is 15× slower (≈ 35 s for 1000 epochs).
pub const SYNTHETIC_UNLABELLED_BATCH: usize = 64;

/// The training objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Cross-entropy on the labelled samples only.
    Supervised,
    /// Cross-entropy plus the authors' L2 penalty `λ Σ θ²` over every parameter (their "L2"
    /// baseline, `source/costs/weight_decay.py`; λ is [`TrainConfig::l2`]).
    WeightDecay,
    /// Random-perturbation training: VAT with `K = 0` power iterations, i.e. cross-entropy +
    /// `KL(p(x) ‖ p(x + ε d))` with `d` a random unit direction, `ε` =
    /// [`TrainConfig::random_eps`].
    Random,
    /// Goodfellow's adversarial training on the labelled samples (FGSM; the objective
    /// `at_weight · (α CE(x) + (1 − α) CE(x_adv))`).
    At,
    /// Cross-entropy + mean LDS over labelled and unlabelled inputs.
    Vat,
    /// VAT plus the conditional entropy of the unlabelled predictions (VAT+EntMin).
    VatEnt,
}

impl Method {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Supervised => "supervised",
            Method::WeightDecay => "weight-decay",
            Method::Random => "random",
            Method::At => "at",
            Method::Vat => "vat",
            Method::VatEnt => "vat-ent",
        }
    }
}

/// The optimiser and its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptimizerKind {
    /// SGD with momentum and per-epoch learning-rate decay.
    Sgd(SgdConfig),
    /// Adam.
    Adam(AdamConfig),
}

/// Everything a training run needs besides the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// The objective.
    pub method: Method,
    /// Number of passes over the labelled set.
    pub epochs: usize,
    /// The optimiser.
    pub optimizer: OptimizerKind,
    /// Labelled minibatch size (`None`: the whole labelled set).
    pub batch_size: Option<usize>,
    /// Unlabelled minibatch size for VAT (`None`: the whole unlabelled set every step).
    pub unlabelled_batch: Option<usize>,
    /// The objective of [`Method::Vat`] and [`Method::VatEnt`], as the core's
    /// [`semi_supervised_grad`](vatic::semi::semi_supervised_grad) takes it: VAT's ε, ξ, K and
    /// direction, the weight α of the LDS term and the weight β of the entropy (the presets:
    /// 1 for [`Method::VatEnt`], 0 otherwise). [`Method::Random`] uses it with `K = 0` at
    /// [`random_eps`](TrainConfig::random_eps).
    pub semi: SemiConfig,
    /// Adversarial training's settings.
    pub at: AdversarialConfig,
    /// Scale of adversarial training's objective: with `α = 0.5`, 2 gives the authors'
    /// `CE(x) + CE(x_adv)` (weight 1 on each term), 1 Goodfellow's `½ CE(x) + ½ CE(x_adv)`.
    /// The scale matters: SGD's step is proportional to it.
    pub at_weight: f32,
    /// Radius of random-perturbation training ([`Method::Random`]).
    pub random_eps: f32,
    /// λ of [`Method::WeightDecay`]'s penalty `λ Σ θ²` (gradient `2 λ θ`).
    pub l2: f32,
    /// Seed of the minibatch order and of VAT's random start directions.
    pub seed: u64,
    /// Evaluate the test accuracy every this many epochs (and at the end); 0 for never.
    pub eval_every: usize,
}

impl TrainConfig {
    /// The VAT authors' synthetic protocol ([`TrainConfig::synthetic`]) with their radii for
    /// `kind` (ALGORITHMS.md §7): VAT ε 0.6 (moons) / 0.5 (circles), adversarial training
    /// 0.2 / 0.65 (L2), random perturbation 1.8 / 2.8; VAT's direction by their finite
    /// difference with ξ = 1e-6 ([`VatConfig::paper`]).
    pub fn authors(kind: Kind, method: Method) -> Self {
        let mut cfg = Self::synthetic(method, kind.paper_eps());
        cfg.semi.vat = VatConfig::paper(kind.paper_eps());
        cfg.at.eps = kind.at_eps();
        cfg.random_eps = kind.random_eps();
        cfg
    }

    /// The VAT authors' synthetic protocol with every radius `eps`: full labelled batch,
    /// their momentum SGD ([`SgdConfig::VAT_SYNTHETIC`]: lr 1.0, momentum 0.9 dampened by
    /// 0.9, × 0.995 per epoch), 1000 epochs; VAT with `eps` (K = 1, exact direction) on the
    /// labelled points plus random minibatches of [`SYNTHETIC_UNLABELLED_BATCH`] from an
    /// unlabelled pool, if any; AT in L2 with weight 1 on each of `CE(x)` and `CE(x_adv)`;
    /// the L2 baseline with λ = 1e-4.
    pub fn synthetic(method: Method, eps: f32) -> Self {
        let mut at = AdversarialConfig::new(eps);
        at.norm = vatic::attack::Norm::L2;
        Self {
            method,
            epochs: 1000,
            optimizer: OptimizerKind::Sgd(SgdConfig::VAT_SYNTHETIC),
            batch_size: None,
            unlabelled_batch: Some(SYNTHETIC_UNLABELLED_BATCH),
            semi: semi(method, VatConfig::new(eps)),
            at,
            at_weight: 2.0,
            random_eps: eps,
            l2: 1e-4,
            seed: 1,
            eval_every: 50,
        }
    }

    /// Settings for image data in [0, 1] (digits, MNIST): Adam (lr 1e-3), 64-sample labelled
    /// minibatches, 128-sample unlabelled minibatches, VAT `eps` in L2, AT `eps_at` in L∞
    /// clipped to [0, 1].
    pub fn images(method: Method, epochs: usize, eps: f32, eps_at: f32) -> Self {
        let mut at = AdversarialConfig::new(eps_at);
        at.clip = Some(vatic::attack::Clip::UNIT);
        Self {
            method,
            epochs,
            optimizer: OptimizerKind::Adam(AdamConfig::DEFAULT),
            batch_size: Some(64),
            unlabelled_batch: Some(128),
            semi: semi(method, VatConfig::new(eps)),
            at,
            at_weight: 1.0,
            random_eps: eps,
            l2: 1e-4,
            seed: 1,
            eval_every: 10,
        }
    }
}

/// The core's objective for `method` with VAT settings `vat`: plain VAT (`α = 1`), with the
/// entropy term (`β = 1`) for [`Method::VatEnt`].
const fn semi(method: Method, vat: VatConfig) -> SemiConfig {
    match method {
        Method::VatEnt => SemiConfig::vat_entmin(vat),
        _ => SemiConfig::vat(vat),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authors_protocol_presets() {
        for (kind, vat, at, random) in [
            (Kind::Moons, 0.6, 0.2, 1.8),
            (Kind::Circles, 0.5, 0.65, 2.8),
        ] {
            let c = TrainConfig::authors(kind, Method::Vat);
            assert_eq!((c.semi.vat.eps, c.at.eps, c.random_eps), (vat, at, random));
            assert_eq!(c.at.norm, vatic::attack::Norm::L2);
            // α = 0.5 with weight 2: CE(x) + CE(x_adv), weight 1 on each.
            assert_eq!((c.at.alpha, c.at_weight), (0.5, 2.0));
            assert_eq!(c.l2, 1e-4);
            assert_eq!(c.semi, SemiConfig::vat(VatConfig::paper(vat)));
            assert_eq!(c.epochs, 1000);
            assert_eq!(c.batch_size, None);
            let OptimizerKind::Sgd(sgd) = c.optimizer else {
                panic!("not SGD")
            };
            assert_eq!(
                (
                    sgd.lr,
                    sgd.momentum,
                    sgd.dampening,
                    sgd.lr_decay,
                    sgd.weight_decay
                ),
                (1.0, 0.9, 0.9, 0.995, 0.0)
            );
        }
        assert_eq!(crate::data::synthetic::DEFAULT_POOL, 0);
        let ent = TrainConfig::authors(Kind::Moons, Method::VatEnt).semi;
        assert_eq!((ent.vat_weight, ent.entropy_weight), (1.0, 1.0));
        let img = TrainConfig::images(Method::Vat, 1, 0.6, 0.1).semi;
        assert_eq!(img, SemiConfig::vat(VatConfig::new(0.6)));
    }
}
