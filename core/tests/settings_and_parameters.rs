//! The core checks what it used to trust: optimiser settings when they are built, attack
//! settings wherever an attack runs, and the network's parameters before a batch-level report
//! counts anything. Each of these was accepted silently once (a negative learning rate climbed
//! the loss, a PGD of radius −1 ran, and a NaN weight gave a plausible accuracy of 0.75
//! through argmax skipping NaN).

use vatic::attack::{Attack, Method, Norm, Pgd, Step};
use vatic::metrics;
use vatic::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use vatic::vat::VatConfig;
use vatic::{supervised, Activation, Error, Mlp, Parameters, Rng, Sequential};

type Net = Mlp<2, 4, 2>;

const BAD_POSITIVE: [f32; 5] = [0.0, -1.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
const BAD_UNIT: [f32; 5] = [1.0, 5.0, -0.1, f32::NAN, f32::INFINITY];
const BAD_NON_NEGATIVE: [f32; 3] = [-1e-3, f32::NAN, f32::INFINITY];

fn setting(name: &'static str) -> Error {
    Error::InvalidSetting { name }
}

#[test]
fn sgd_settings_are_checked_and_named() {
    let ok = SgdConfig::VAT_SYNTHETIC;
    assert_eq!(ok.validate(), Ok(()));
    assert!(Sgd::<Net>::new(ok).is_ok());
    assert!(Sgd::<Net>::new(SgdConfig {
        momentum: 0.0,
        ..ok
    })
    .is_ok());
    for lr in BAD_POSITIVE {
        let c = SgdConfig { lr, ..ok };
        assert_eq!(Sgd::<Net>::new(c).err(), Some(setting("lr")), "lr {lr}");
        assert_eq!(Sgd::like(c, &Net::ZERO).err(), Some(setting("lr")));
    }
    for momentum in BAD_UNIT {
        let c = SgdConfig { momentum, ..ok };
        assert_eq!(
            c.validate(),
            Err(setting("momentum")),
            "momentum {momentum}"
        );
    }
    for dampening in [-0.1, 1.5, f32::NAN, f32::INFINITY] {
        let c = SgdConfig { dampening, ..ok };
        assert_eq!(c.validate(), Err(setting("dampening")), "{dampening}");
        assert_eq!(Sgd::like(c, &Net::ZERO).err(), Some(setting("dampening")));
    }
    for weight_decay in BAD_NON_NEGATIVE {
        let c = SgdConfig { weight_decay, ..ok };
        assert_eq!(c.validate(), Err(setting("weight_decay")));
    }
    for lr_decay in BAD_POSITIVE {
        let c = SgdConfig { lr_decay, ..ok };
        assert_eq!(
            c.validate(),
            Err(setting("lr_decay")),
            "lr_decay {lr_decay}"
        );
    }
}

#[test]
fn adam_settings_are_checked_and_named() {
    let ok = AdamConfig::DEFAULT;
    assert!(Adam::<Net>::new(ok).is_ok());
    for lr in BAD_POSITIVE {
        let c = AdamConfig { lr, ..ok };
        assert_eq!(Adam::<Net>::new(c).err(), Some(setting("lr")), "lr {lr}");
        assert_eq!(Adam::like(c, &Net::ZERO).err(), Some(setting("lr")));
    }
    for beta1 in BAD_UNIT {
        assert_eq!(AdamConfig { beta1, ..ok }.validate(), Err(setting("beta1")));
    }
    for beta2 in BAD_UNIT {
        assert_eq!(AdamConfig { beta2, ..ok }.validate(), Err(setting("beta2")));
    }
    for eps in BAD_POSITIVE {
        assert_eq!(AdamConfig { eps, ..ok }.validate(), Err(setting("eps")));
    }
    for weight_decay in BAD_NON_NEGATIVE {
        let c = AdamConfig { weight_decay, ..ok };
        assert_eq!(c.validate(), Err(setting("weight_decay")));
    }
    for lr_decay in BAD_POSITIVE {
        let c = AdamConfig { lr_decay, ..ok };
        assert_eq!(c.validate(), Err(setting("lr_decay")));
    }
}

#[test]
fn reconfigure_checks_and_keeps_the_optimiser_on_error() {
    let mut net: Net = Mlp::new(Activation::Tanh, &mut Rng::new(3));
    let mut grad = Net::ZERO;
    grad.layers.next.bias = [1.0, -1.0];
    let mut sgd = Sgd::<Net>::new(SgdConfig::VAT_SYNTHETIC).unwrap();
    sgd.step(&mut net, &grad);
    let before = sgd.clone();
    let bad = SgdConfig {
        lr: -0.5,
        ..SgdConfig::VAT_SYNTHETIC
    };
    assert_eq!(sgd.reconfigure(bad), Err(setting("lr")));
    assert_eq!(sgd, before);
    let good = SgdConfig {
        lr: 0.25,
        ..SgdConfig::VAT_SYNTHETIC
    };
    sgd.reconfigure(good).unwrap();
    assert_eq!(*sgd.config(), good);
    assert_eq!(sgd.learning_rate(), 0.25);
    // The velocity is zero again: the same step as a fresh optimiser's.
    let (mut a, mut b) = (net.clone(), net.clone());
    sgd.step(&mut a, &grad);
    Sgd::<Net>::new(good).unwrap().step(&mut b, &grad);
    assert_eq!(a, b);

    let mut adam = Adam::<Net>::new(AdamConfig::DEFAULT).unwrap();
    adam.step(&mut net, &grad);
    let before = adam.clone();
    let bad = AdamConfig {
        beta2: 1.0,
        ..AdamConfig::DEFAULT
    };
    assert_eq!(adam.reconfigure(bad), Err(setting("beta2")));
    assert_eq!(adam, before);
    adam.reconfigure(AdamConfig::DEFAULT).unwrap();
    assert_eq!(adam.steps(), 0);
}

#[test]
fn attack_settings_are_checked_in_one_place() {
    // Attack::validate is the one check every entry point that takes an attack runs; the
    // radius is checked where it is given (metrics::robust_accuracy, Attack::perturb).
    let pgd = |p: Pgd| Attack {
        method: Method::Pgd(p),
        ..Attack::fgsm(Norm::L2)
    };
    assert_eq!(Attack::pgd(Norm::L2, 4).validate(), Ok(()));
    assert_eq!(Attack::fgsm(Norm::LInf).validate(), Ok(()));
    assert_eq!(
        Attack::pgd(Norm::L2, 0).validate(),
        Err(Error::ZeroIterations)
    );
    for r in [0.0, -0.1, f32::NAN, f32::INFINITY] {
        let p = Pgd {
            step: Step::Ratio(r),
            ..Pgd::madry(4)
        };
        assert_eq!(pgd(p).validate(), Err(setting("step")), "ratio {r}");
    }
    let p = Pgd {
        restarts: 0,
        ..Pgd::madry(4)
    };
    assert_eq!(pgd(p).validate(), Err(setting("restarts")));
    let (net, xs, ys) = data();
    let mut ws = vec![0.0; Net::WORKSPACE];
    for eps in [-1.0, f32::NAN] {
        assert_eq!(
            metrics::robust_accuracy(&net, &xs, &ys, &Attack::pgd(Norm::LInf, 10), eps, &mut ws),
            Err(Error::InvalidEpsilon)
        );
    }
    // ε = 0 is the ball {x}: the zero step derived from it is fine.
    assert!(
        metrics::robust_accuracy(&net, &xs, &ys, &Attack::pgd(Norm::LInf, 4), 0.0, &mut ws).is_ok()
    );
}

/// A trained-looking 2-4-2 net and four samples it classifies 3 of 4 right or so.
fn data() -> (Net, [f32; 8], [usize; 4]) {
    let net: Net = Mlp::new(Activation::Relu, &mut Rng::new(11));
    (
        net,
        [0.5, 0.1, -0.3, 0.8, 0.9, -0.7, -0.6, -0.2],
        [0, 1, 0, 1],
    )
}

#[test]
fn check_finite_names_the_first_bad_parameter() {
    let (mut net, _, _) = data();
    assert_eq!(net.check_finite(), Ok(()));
    // Tensor order is nn.Sequential's: W0 (0), b0 (1), W1 (2), b1 (3).
    net.layers.next.weight[1][2] = f32::NAN;
    assert_eq!(
        net.check_finite(),
        Err(Error::NonFiniteParameter {
            tensor: 2,
            index: 4 + 2
        })
    );
    net.layers.dense.bias[3] = f32::INFINITY;
    assert_eq!(
        net.check_finite(),
        Err(Error::NonFiniteParameter {
            tensor: 1,
            index: 3
        })
    );
    let msg = Error::NonFiniteParameter {
        tensor: 1,
        index: 3,
    }
    .to_string();
    assert!(msg.contains("layer 0 bias"), "{msg}");

    // The run-time network reports the same position.
    let widths = [2usize, 4, 2];
    let mut params: Vec<f32> = net.tensors().flatten().copied().collect();
    let seq = Sequential::new(&widths[..], &mut params[..], Activation::Relu).unwrap();
    assert_eq!(seq.check_finite(), net.check_finite());
}

#[test]
fn reports_refuse_a_network_with_a_nan_parameter() {
    let (mut net, xs, ys) = data();
    let mut ws = vec![0.0; Net::WORKSPACE];
    let pgd = &Attack::pgd(Norm::LInf, 5);
    let fgsm = &Attack::fgsm(Norm::L2);
    // Finite: every report runs.
    assert!(supervised::accuracy(&net, &xs, &ys, &mut ws).is_ok());
    assert!(metrics::robust_accuracy(&net, &xs, &ys, pgd, 0.1, &mut ws).is_ok());

    // One NaN weight in the output layer makes every logit NaN. Before, argmax skipped NaN and
    // class 0 "won" every sample: accuracy 0.5 here, and FGSM left x unchanged.
    net.layers.next.weight[0][0] = f32::NAN;
    let bad: Result<(), Error> = Err(Error::NonFiniteParameter {
        tensor: 2,
        index: 0,
    });
    assert_eq!(
        supervised::accuracy(&net, &xs, &ys, &mut ws).map(|_| ()),
        bad
    );
    assert_eq!(
        supervised::cross_entropy_loss(&net, &xs, &ys, &mut ws).map(|_| ()),
        bad
    );
    for attack in [pgd, fgsm] {
        assert_eq!(
            metrics::robust_accuracy(&net, &xs, &ys, attack, 0.1, &mut ws).map(|_| ()),
            bad
        );
        let mut out = [0.0; 2];
        assert_eq!(
            metrics::robust_accuracy_sweep(&net, &xs, &ys, attack, &[0.0, 0.1], &mut out, &mut ws),
            bad
        );
        assert_eq!(
            metrics::minimal_epsilon(&net, &xs[..2], 0, attack, 1.0, 8, &mut ws).map(|_| ()),
            bad
        );
        assert_eq!(
            metrics::minimal_epsilon_stats(&net, &xs, &ys, attack, 1.0, 8, &mut ws).map(|_| ()),
            bad
        );
    }
    assert_eq!(
        metrics::lds_stats(&net, &xs, &mut Rng::new(1), &VatConfig::new(0.5), &mut ws).map(|_| ()),
        bad
    );
}
