//! The training loop: [`train`] runs a [`TrainConfig`] over a labelled set and an unlabelled
//! pool and logs every evaluated epoch.
//!
//! One *epoch* is one pass over the labelled set. With the default full batch (the VAT paper's
//! synthetic setting) that is one step whose VAT term covers the whole unlabelled set; with
//! `batch_size` / `unlabelled_batch` each step takes the next labelled minibatch and a random
//! unlabelled minibatch.
//!
//! VAT's inputs are the labelled inputs plus the unlabelled pool, if any (LDS needs no label).
//! In the VAT authors' synthetic runs there is no pool: VAT's term is computed on the 16
//! labelled points themselves, which is what an empty pool gives (the synthetic sets' default,
//! [`DEFAULT_POOL`](crate::data::synthetic::DEFAULT_POOL); `--unlabelled-pool N` adds `N`
//! unlabelled points). With a pool, each step draws
//! [`SYNTHETIC_UNLABELLED_BATCH`](super::SYNTHETIC_UNLABELLED_BATCH) of them.

use super::{Method, OptimizerKind, TrainConfig};
use crate::data::Dataset;
use crate::models::{Model, Net};
use anyhow::{ensure, Context, Result};
use serde::Serialize;
use vatic::adversarial::adversarial_grad;
use vatic::optim::{Adam, Optimizer, Sgd};
use vatic::semi::{semi_supervised_grad, SemiConfig};
use vatic::vat::VatConfig;
use vatic::{supervised, Parameters, Rng};

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
    // Random perturbation: VAT without power iteration, at its own radius.
    let semi = match cfg.method {
        Method::Random => SemiConfig {
            vat: VatConfig {
                eps: cfg.random_eps,
                iterations: 0,
                ..cfg.semi.vat
            },
            ..cfg.semi
        },
        _ => cfg.semi,
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
                Method::WeightDecay => {
                    let ce =
                        supervised::cross_entropy_grad(net, &bx, &by, 1.0, &mut grad, &mut ws)?;
                    (ce + l2_penalty_grad(net, cfg.l2, &mut grad), 0.0)
                }
                Method::At => {
                    let j = adversarial_grad(
                        net,
                        &bx,
                        &by,
                        &cfg.at,
                        cfg.at_weight,
                        &mut grad,
                        &mut ws,
                    )?;
                    (cfg.at_weight * j, 0.0)
                }
                Method::Vat | Method::VatEnt | Method::Random => {
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

/// `λ Σ θ²` over every parameter (weights and biases, as the authors' `weight_decay` cost);
/// adds its gradient `2 λ θ` to `grad`.
fn l2_penalty_grad(net: &Net, lambda: f32, grad: &mut Net) -> f32 {
    let mut sum = 0.0;
    for (g, p) in grad.tensors_mut().zip(net.tensors()) {
        for (g, &p) in g.iter_mut().zip(p) {
            *g += 2.0 * lambda * p;
            sum += p * p;
        }
    }
    lambda * sum
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
    use vatic::adversarial::AdversarialConfig;
    use vatic::optim::SgdConfig;
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
        for method in [
            Method::Supervised,
            Method::WeightDecay,
            Method::Random,
            Method::At,
            Method::Vat,
            Method::VatEnt,
        ] {
            let (_, out) = moons_run(method, 100);
            let first = out.history[0];
            let last = out.history.last().unwrap();
            assert_eq!(last.train_accuracy, 1.0, "{method:?}: {last:?}");
            // 16 labels on the authors' interlocking arcs: supervised training reaches ≈ 70 %.
            assert!(out.test_accuracy.unwrap() > 0.65, "{method:?}: {out:?}");
            assert!(first.loss > 0.0);
        }
    }

    /// The first step's objective (evaluated at the initial parameters) of each method, against
    /// the core's primitives.
    fn first_loss(method: Method) -> (f32, f32, Model, Synthetic, TrainConfig) {
        let s = Synthetic::generate(Kind::Circles, 2, 0);
        let mut m = Model::new(&[2, 16, 2], Activation::Relu, 3).unwrap();
        let init = m.clone();
        let mut cfg = TrainConfig::authors(Kind::Circles, method);
        cfg.epochs = 1;
        cfg.eval_every = 1;
        let out = train(&mut m, &cfg, &s.train_2d, &s.pool_2d, None, &mut |_| {}).unwrap();
        (out.history[1].loss, out.history[1].lds, init, s, cfg)
    }

    #[test]
    fn at_is_ce_plus_ce_adv_with_weight_one_each() {
        let (loss, _, init, s, cfg) = first_loss(Method::At);
        let (x, y) = (&s.train_2d.x, &s.train_2d.y);
        let mut ws = init.workspace();
        let mut g = init.zeroed_like();
        let only = |alpha| AdversarialConfig { alpha, ..cfg.at };
        let ce = adversarial_grad(init.net(), x, y, &only(1.0), 1.0, &mut g, &mut ws).unwrap();
        let ce_adv = adversarial_grad(init.net(), x, y, &only(0.0), 1.0, &mut g, &mut ws).unwrap();
        assert!(ce_adv > ce);
        assert!(
            (loss - (ce + ce_adv)).abs() < 1e-5,
            "{loss} vs {ce} + {ce_adv}"
        );
    }

    #[test]
    fn weight_decay_adds_lambda_times_the_squared_parameters() {
        let (loss, _, init, s, _) = first_loss(Method::WeightDecay);
        let mut ws = init.workspace();
        let ce = supervised::cross_entropy_loss(init.net(), &s.train_2d.x, &s.train_2d.y, &mut ws)
            .unwrap();
        let sq: f32 = init.net().tensors().flatten().map(|p| p * p).sum();
        assert!(sq > 1.0);
        assert!(
            (loss - (ce + 1e-4 * sq)).abs() < 1e-5,
            "{loss} vs {ce} + 1e-4 · {sq}"
        );
    }

    #[test]
    fn random_perturbation_is_vat_without_power_iteration_at_its_own_radius() {
        let (_, lds, init, s, cfg) = first_loss(Method::Random);
        assert!(lds > 0.0);
        // The same run as VAT with K = 0 and ε = 2.8, bit for bit.
        let run = |cfg: &TrainConfig| {
            let mut m = init.clone();
            train(&mut m, cfg, &s.train_2d, &s.pool_2d, None, &mut |_| {}).unwrap();
            m
        };
        let mut vat = cfg;
        vat.method = Method::Vat;
        vat.semi.vat.iterations = 0;
        vat.semi.vat.eps = 2.8;
        assert_eq!(run(&cfg), run(&vat));
        vat.semi.vat.iterations = 1;
        assert_ne!(run(&cfg), run(&vat));
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
