//! Training runs: supervised, adversarial training (AT), VAT and VAT+EntMin over a labelled set
//! and an unlabelled pool, with SGD-momentum or Adam, seeded.
//!
//! One *epoch* is one pass over the labelled set. With the default full batch (the VAT paper's
//! synthetic setting) that is one step whose VAT term covers the whole unlabelled set; with
//! `batch_size` / `unlabelled_batch` each step takes the next labelled minibatch and a random
//! unlabelled minibatch.
//!
//! The unlabelled batch of VAT is the labelled inputs plus the unlabelled pool (LDS needs no
//! label), as in the authors' code.

use crate::data::Dataset;
use crate::models::{Model, Net};
use anyhow::{ensure, Context, Result};
use serde::Serialize;
use vatic::adversarial::{adversarial_grad, AdversarialConfig};
use vatic::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use vatic::semi::{semi_supervised_grad, SemiConfig};
use vatic::vat::VatConfig;
use vatic::{supervised, Parameters, Rng};

/// Unlabelled minibatch of each VAT step on the synthetic sets. The whole pool (1016 points)
/// every step is 15× slower (≈ 35 s for 1000 epochs) and measured no better over 5 seeds.
pub const SYNTHETIC_UNLABELLED_BATCH: usize = 64;

/// The training objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Cross-entropy on the labelled samples only.
    Supervised,
    /// Goodfellow's adversarial training on the labelled samples (FGSM, α = 0.5).
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
    /// VAT's ε, ξ, K and direction.
    pub vat: VatConfig,
    /// Weight α of the LDS term.
    pub vat_weight: f32,
    /// Adversarial training's settings.
    pub at: AdversarialConfig,
    /// Seed of the minibatch order and of VAT's random start directions.
    pub seed: u64,
    /// Evaluate the test accuracy every this many epochs (and at the end); 0 for never.
    pub eval_every: usize,
}

impl TrainConfig {
    /// The VAT paper's synthetic setting: full labelled batch, SGD (lr 1.0, momentum 0.9,
    /// × 0.995 per epoch), 1000 epochs, VAT with `eps` (exact direction) on random unlabelled
    /// minibatches of [`SYNTHETIC_UNLABELLED_BATCH`], AT with the same radius in L2.
    pub fn synthetic(method: Method, eps: f32) -> Self {
        let mut at = AdversarialConfig::new(eps);
        at.norm = vatic::attack::Norm::L2;
        Self {
            method,
            epochs: 1000,
            optimizer: OptimizerKind::Sgd(SgdConfig::VAT_SYNTHETIC),
            batch_size: None,
            unlabelled_batch: Some(SYNTHETIC_UNLABELLED_BATCH),
            vat: VatConfig::new(eps),
            vat_weight: 1.0,
            at,
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
            vat: VatConfig::new(eps),
            vat_weight: 1.0,
            at,
            seed: 1,
            eval_every: 10,
        }
    }
}

/// One line of the training log.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochLog {
    /// Epochs completed (0 = before training).
    pub epoch: usize,
    /// Mean training objective over the epoch's steps.
    pub loss: f32,
    /// Mean LDS term over the epoch's steps (0 unless VAT).
    pub lds: f32,
    /// Accuracy on the labelled set.
    pub train_accuracy: f32,
    /// Accuracy on the test set, when evaluated this epoch.
    pub test_accuracy: Option<f32>,
}

/// What a run returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainOutcome {
    /// Evaluated epochs.
    pub history: Vec<EpochLog>,
    /// Final accuracy on the test set (if one was given).
    pub test_accuracy: Option<f32>,
}

/// Trains `model` in place.
///
/// `on_epoch` is called after every epoch (for progress bars).
///
/// # Errors
///
/// When the data does not fit the model, a batch is empty, or the core rejects a setting
/// (negative ε, α outside [0, 1], …). A diverged run (non-finite parameters) is an error too.
pub fn train(
    model: &mut Model,
    cfg: &TrainConfig,
    labelled: &Dataset,
    unlabelled: &Dataset,
    test: Option<&Dataset>,
    on_epoch: &mut dyn FnMut(&EpochLog),
) -> Result<TrainOutcome> {
    ensure!(!labelled.is_empty(), "there are no labelled samples");
    let inputs = model.features();
    for (d, what) in [(labelled, "labelled"), (unlabelled, "unlabelled")]
        .into_iter()
        .chain(test.map(|t| (t, "test")))
    {
        ensure!(
            d.is_empty() || d.features == inputs,
            "the {what} data has {} features but the {} model takes {inputs}",
            d.features,
            model.shape_name()
        );
    }
    ensure!(
        labelled.classes <= model.classes(),
        "the data has {} classes but the model only {}",
        labelled.classes,
        model.classes()
    );
    let mut ws = model.workspace();
    let mut grad = model.zeroed_like();
    let mut opt = match cfg.optimizer {
        OptimizerKind::Sgd(c) => Opt::Sgd(Sgd::like(c, model.net()).context("SGD settings")?),
        OptimizerKind::Adam(c) => Opt::Adam(Adam::like(c, model.net()).context("Adam settings")?),
    };
    let net = model.net_mut();
    let xl = &labelled.x[..];
    let yl = &labelled.y[..];
    let nl = yl.len();
    let mut xu = labelled.x.clone();
    xu.extend_from_slice(&unlabelled.x);
    let nu = xu.len() / inputs;
    let mut rng = Rng::new(cfg.seed);
    let semi = SemiConfig {
        vat: cfg.vat,
        vat_weight: cfg.vat_weight,
        entropy_weight: if cfg.method == Method::VatEnt {
            1.0
        } else {
            0.0
        },
    };
    let lb = cfg.batch_size.unwrap_or(nl).clamp(1, nl);
    let ub = cfg.unlabelled_batch.unwrap_or(nu).clamp(1, nu);
    let mut order: Vec<usize> = (0..nl).collect();
    let mut uorder: Vec<usize> = (0..nu).collect();
    let mut upos = nu;
    let (mut bx, mut by, mut bu) = (Vec::new(), Vec::new(), Vec::new());
    let mut history = Vec::new();
    let test_acc = |net: &Net, ws: &mut [f32]| -> Result<Option<f32>> {
        match test {
            Some(t) => Ok(Some(supervised::accuracy(net, &t.x, &t.y, ws)?)),
            None => Ok(None),
        }
    };
    let initial = EpochLog {
        epoch: 0,
        loss: supervised::cross_entropy_loss(net, xl, yl, &mut ws)?,
        lds: 0.0,
        train_accuracy: supervised::accuracy(net, xl, yl, &mut ws)?,
        test_accuracy: test_acc(net, &mut ws)?,
    };
    if cfg.eval_every > 0 {
        history.push(initial);
    }
    for epoch in 1..=cfg.epochs {
        if lb < nl {
            rng.shuffle(&mut order);
        }
        let (mut loss_sum, mut lds_sum, mut steps) = (0.0f32, 0.0f32, 0usize);
        for chunk in order.chunks(lb) {
            bx.clear();
            by.clear();
            for &i in chunk {
                bx.extend_from_slice(labelled.row(i));
                by.push(yl[i]);
            }
            grad.zero();
            let (loss, lds) = match cfg.method {
                Method::Supervised => (
                    supervised::cross_entropy_grad(net, &bx, &by, 1.0, &mut grad, &mut ws)?,
                    0.0,
                ),
                Method::At => (
                    adversarial_grad(net, &bx, &by, &cfg.at, 1.0, &mut grad, &mut ws)?,
                    0.0,
                ),
                Method::Vat | Method::VatEnt => {
                    let ubatch: &[f32] = if ub == nu {
                        &xu
                    } else {
                        bu.clear();
                        for _ in 0..ub {
                            if upos == uorder.len() {
                                rng.shuffle(&mut uorder);
                                upos = 0;
                            }
                            let i = uorder[upos];
                            bu.extend_from_slice(&xu[i * inputs..(i + 1) * inputs]);
                            upos += 1;
                        }
                        &bu
                    };
                    let l = semi_supervised_grad(
                        net, &bx, &by, ubatch, &mut rng, &semi, &mut grad, &mut ws,
                    )?;
                    (l.total, l.lds)
                }
            };
            opt.step(net, &grad);
            loss_sum += loss;
            lds_sum += lds;
            steps += 1;
        }
        opt.end_epoch();
        if let Err(e) = net.check_finite() {
            anyhow::bail!("training diverged at epoch {epoch} ({e}); lower the learning rate");
        }
        ensure!(
            loss_sum.is_finite() && lds_sum.is_finite(),
            "training diverged at epoch {epoch} (the loss is {}, the LDS {}); lower the \
             learning rate or check the data's scale",
            loss_sum / steps as f32,
            lds_sum / steps as f32
        );
        let evaluate = cfg.eval_every > 0 && (epoch % cfg.eval_every == 0 || epoch == cfg.epochs);
        let log = EpochLog {
            epoch,
            loss: loss_sum / steps as f32,
            lds: lds_sum / steps as f32,
            train_accuracy: if evaluate || epoch == cfg.epochs {
                supervised::accuracy(net, xl, yl, &mut ws)?
            } else {
                f32::NAN
            },
            test_accuracy: if evaluate {
                test_acc(net, &mut ws)?
            } else {
                None
            },
        };
        if evaluate {
            history.push(log);
        }
        on_epoch(&log);
    }
    Ok(TrainOutcome {
        history,
        test_accuracy: test_acc(net, &mut ws)?,
    })
}

enum Opt {
    Sgd(Sgd<Net>),
    Adam(Adam<Net>),
}

impl Opt {
    fn step(&mut self, net: &mut Net, grad: &Net) {
        match self {
            Opt::Sgd(o) => o.step(net, grad),
            Opt::Adam(o) => o.step(net, grad),
        }
    }
    fn end_epoch(&mut self) {
        match self {
            Opt::Sgd(o) => o.end_epoch(),
            Opt::Adam(o) => o.end_epoch(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::{Kind, Synthetic};
    use vatic::Activation;

    fn moons_run(method: Method, epochs: usize) -> (Model, TrainOutcome) {
        let s = Synthetic::generate(Kind::Moons, 1, 64);
        let mut m = Model::new(&[2, 100, 2], Activation::Relu, 1).unwrap();
        let mut cfg = TrainConfig::synthetic(method, 0.3);
        cfg.epochs = epochs;
        let out = train(
            &mut m,
            &cfg,
            &s.train_2d,
            &s.pool_2d,
            Some(&s.test_2d),
            &mut |_| {},
        )
        .unwrap();
        (m, out)
    }

    #[test]
    fn every_method_learns_the_2d_moons() {
        for method in [Method::Supervised, Method::At, Method::Vat, Method::VatEnt] {
            let (_, out) = moons_run(method, 100);
            let first = out.history[0];
            let last = out.history.last().unwrap();
            assert_eq!(last.train_accuracy, 1.0, "{method:?}: {last:?}");
            assert!(out.test_accuracy.unwrap() > 0.75, "{method:?}: {out:?}");
            assert!(first.loss > 0.0);
        }
    }

    #[test]
    fn runs_are_reproducible() {
        let (a, _) = moons_run(Method::Vat, 5);
        let (b, _) = moons_run(Method::Vat, 5);
        assert_eq!(a, b);
    }

    #[test]
    fn minibatches_and_adam_on_digits() {
        let d = crate::data::digits::load().unwrap();
        let s = d.split_labelled(5, &mut Rng::new(1)).unwrap();
        let mut m = Model::new(&[64, 32, 10], Activation::Relu, 1).unwrap();
        let mut cfg = TrainConfig::images(Method::Vat, 3, 1.0, 0.1);
        cfg.batch_size = Some(16);
        cfg.unlabelled_batch = Some(32);
        let mut seen = 0;
        let out = train(&mut m, &cfg, &s.labelled, &s.unlabelled, None, &mut |_| {
            seen += 1
        })
        .unwrap();
        assert_eq!(seen, 3);
        assert!(out.history.last().unwrap().loss.is_finite());
    }

    #[test]
    fn bad_settings_are_errors() {
        let s = Synthetic::generate(Kind::Moons, 1, 8);
        let mut m = Model::new(&[2, 100, 2], Activation::Relu, 1).unwrap();
        let mut cfg = TrainConfig::synthetic(Method::Vat, -1.0);
        cfg.epochs = 1;
        assert!(train(&mut m, &cfg, &s.train_2d, &s.pool_2d, None, &mut |_| {}).is_err());
        let cfg = TrainConfig::synthetic(Method::Supervised, 0.5);
        let e = train(&mut m, &cfg, &s.train, &s.pool, None, &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("features"), "{e}");
        let mut big = TrainConfig::synthetic(Method::Supervised, 0.5);
        big.optimizer = OptimizerKind::Sgd(SgdConfig {
            lr: 1e30,
            ..SgdConfig::VAT_SYNTHETIC
        });
        big.epochs = 5;
        let e = train(&mut m, &big, &s.train_2d, &s.pool_2d, None, &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("diverged"), "{e}");
    }
}
