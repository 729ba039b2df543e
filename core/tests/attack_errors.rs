//! Bad input to the attacks, adversarial training and the robustness metrics returns the right
//! `Error` (never a panic, never a NaN result), and leaves the gradient buffer untouched.

use vatic::adversarial::{adversarial_grad, AdversarialConfig};
use vatic::attack::{fgsm, pgd, Clip, Norm, Pgd};
use vatic::metrics::{
    lds_stats, minimal_epsilon, minimal_epsilon_stats, robust_accuracy, robust_accuracy_sweep,
    Attack,
};
use vatic::vat::VatConfig;
use vatic::{Activation, Error, Mlp, Parameters, Rng};

type Net = Mlp<3, 5, 2>;

fn net() -> Net {
    Mlp::new(Activation::Relu, &mut Rng::new(1))
}

const X: [f32; 3] = [0.1, -0.2, 0.3];
const BAD_EPS: [f32; 4] = [-0.1, f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
const BAD_CLIPS: [Clip; 4] = [
    Clip { min: 1.0, max: 0.0 },
    Clip {
        min: f32::NAN,
        max: 1.0,
    },
    Clip {
        min: 0.0,
        max: f32::INFINITY,
    },
    Clip {
        min: f32::NEG_INFINITY,
        max: 0.0,
    },
];

fn non_finite_samples() -> [[f32; 3]; 3] {
    [
        [f32::NAN, 0.0, 0.0],
        [0.0, f32::INFINITY, 0.0],
        [0.0, 0.0, f32::NEG_INFINITY],
    ]
}

#[test]
fn fgsm_rejects_bad_input() {
    let net = net();
    for norm in [Norm::LInf, Norm::L2] {
        for e in BAD_EPS {
            assert_eq!(
                fgsm(&net, &X, 0, e, norm, None),
                Err(Error::InvalidEpsilon),
                "ε={e}"
            );
        }
        for x in non_finite_samples() {
            assert_eq!(
                fgsm(&net, &x, 0, 0.1, norm, None),
                Err(Error::NonFiniteInput { sample: 0 })
            );
        }
        assert_eq!(
            fgsm(&net, &X, 2, 0.1, norm, None),
            Err(Error::LabelOutOfRange {
                sample: 0,
                label: 2
            })
        );
        for c in BAD_CLIPS {
            assert_eq!(
                fgsm(&net, &X, 0, 0.1, norm, Some(c)),
                Err(Error::InvalidRange),
                "{c:?}"
            );
        }
        // The boundary cases that are valid.
        assert_eq!(fgsm(&net, &X, 0, 0.0, norm, None), Ok(X));
        let point = Clip { min: 0.2, max: 0.2 };
        assert_eq!(fgsm(&net, &X, 1, 0.1, norm, Some(point)), Ok([0.2; 3]));
    }
}

#[test]
fn pgd_rejects_bad_input() {
    let net = net();
    let ok = Pgd::new(0.1, 5, Norm::LInf);
    assert!(pgd(&net, &X, 0, &ok).is_ok());
    for e in BAD_EPS {
        let cfg = Pgd { eps: e, ..ok };
        assert_eq!(pgd(&net, &X, 0, &cfg), Err(Error::InvalidEpsilon));
    }
    assert_eq!(
        pgd(&net, &X, 0, &Pgd::new(0.1, 0, Norm::L2)),
        Err(Error::ZeroIterations)
    );
    for step in [0.0, -0.01, f32::NAN, f32::INFINITY] {
        let cfg = Pgd { step, ..ok };
        assert_eq!(
            pgd(&net, &X, 0, &cfg),
            Err(Error::InvalidWeight),
            "step {step}"
        );
    }
    for c in BAD_CLIPS {
        let cfg = Pgd {
            clip: Some(c),
            ..ok
        };
        assert_eq!(pgd(&net, &X, 0, &cfg), Err(Error::InvalidRange));
    }
    for x in non_finite_samples() {
        assert_eq!(
            pgd(&net, &x, 0, &ok),
            Err(Error::NonFiniteInput { sample: 0 })
        );
    }
    assert_eq!(
        pgd(&net, &X, 7, &ok),
        Err(Error::LabelOutOfRange {
            sample: 0,
            label: 7
        })
    );
}

#[test]
fn pgd_with_eps_zero_is_the_identity() {
    // ε = 0 is a valid radius (as for FGSM and the metrics' sweeps): the ball is {x}. Pgd::new
    // derives the step 2.5 ε / iterations = 0 from it, which must not make the call fail.
    let net = net();
    for norm in [Norm::LInf, Norm::L2] {
        assert_eq!(
            pgd(&net, &X, 0, &Pgd::new(0.0, 10, norm)),
            Ok(X),
            "{norm:?}"
        );
    }
}

#[test]
fn adversarial_training_rejects_bad_input_and_leaves_grad_untouched() {
    let net = net();
    let xs = [X, [0.5, 0.5, -0.5], [1.0, 0.0, 0.0]];
    let ys = [0usize, 1, 0];
    let ok = AdversarialConfig::new(0.1);
    let run = |xs: &[[f32; 3]], ys: &[usize], cfg: &AdversarialConfig, w: f32| {
        let mut grad = <Net as Parameters>::ZERO;
        let r = adversarial_grad(&net, xs, ys, cfg, w, &mut grad);
        if r.is_err() {
            assert_eq!(
                grad,
                <Net as Parameters>::ZERO,
                "gradient modified before the error {r:?}"
            );
        }
        r
    };
    assert!(run(&xs, &ys, &ok, 1.0).is_ok());
    for alpha in [-0.01, 1.01, f32::NAN, f32::INFINITY] {
        let cfg = AdversarialConfig { alpha, ..ok };
        assert_eq!(
            run(&xs, &ys, &cfg, 1.0),
            Err(Error::InvalidWeight),
            "α={alpha}"
        );
    }
    for alpha in [0.0, 1.0] {
        assert!(run(&xs, &ys, &AdversarialConfig { alpha, ..ok }, 1.0).is_ok());
    }
    for e in BAD_EPS {
        let cfg = AdversarialConfig { eps: e, ..ok };
        assert_eq!(run(&xs, &ys, &cfg, 1.0), Err(Error::InvalidEpsilon));
    }
    for c in BAD_CLIPS {
        let cfg = AdversarialConfig {
            clip: Some(c),
            ..ok
        };
        assert_eq!(run(&xs, &ys, &cfg, 1.0), Err(Error::InvalidRange));
    }
    for w in [-1.0, f32::NAN, f32::INFINITY] {
        assert_eq!(
            run(&xs, &ys, &ok, w),
            Err(Error::InvalidWeight),
            "weight {w}"
        );
    }
    assert_eq!(run(&[], &[], &ok, 1.0), Err(Error::EmptyBatch));
    assert_eq!(run(&xs, &ys[..2], &ok, 1.0), Err(Error::LengthMismatch));
    assert_eq!(run(&xs[..2], &ys, &ok, 1.0), Err(Error::LengthMismatch));
    assert_eq!(
        run(&xs, &[0, 1, 2], &ok, 1.0),
        Err(Error::LabelOutOfRange {
            sample: 2,
            label: 2
        })
    );
    for bad in non_finite_samples() {
        let mut b = xs;
        b[1] = bad;
        assert_eq!(
            run(&b, &ys, &ok, 1.0),
            Err(Error::NonFiniteInput { sample: 1 })
        );
    }
}

#[test]
fn metrics_reject_bad_input() {
    let net = net();
    let xs = [X, [0.5, 0.5, -0.5]];
    let ys = [0usize, 1];
    let fgsm_a = Attack::Fgsm { norm: Norm::LInf };
    let pgd0 = Attack::Pgd {
        norm: Norm::L2,
        iterations: 0,
    };
    assert_eq!(
        robust_accuracy(&net, &xs, &ys, pgd0, 0.1, None),
        Err(Error::ZeroIterations)
    );
    for e in BAD_EPS {
        assert_eq!(
            robust_accuracy(&net, &xs, &ys, fgsm_a, e, None),
            Err(Error::InvalidEpsilon)
        );
        let mut out = [0.0; 3];
        assert_eq!(
            robust_accuracy_sweep(&net, &xs, &ys, fgsm_a, &[0.0, 0.1, e], None, &mut out),
            Err(Error::InvalidEpsilon)
        );
        assert_eq!(
            minimal_epsilon(&net, &X, 0, fgsm_a, e, 8, None),
            Err(Error::InvalidEpsilon)
        );
        assert_eq!(
            fgsm_a.perturb(&net, &X, 0, e, None),
            Err(Error::InvalidEpsilon)
        );
    }
    let mut out = [0.0; 2];
    assert_eq!(
        robust_accuracy_sweep(&net, &xs, &ys, fgsm_a, &[0.0, 0.1, 0.2], None, &mut out),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        robust_accuracy(&net, &[], &[], fgsm_a, 0.1, None),
        Err(Error::EmptyBatch)
    );
    assert_eq!(
        robust_accuracy(&net, &xs, &ys[..1], fgsm_a, 0.1, None),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        robust_accuracy(&net, &xs, &[0, 5], fgsm_a, 0.1, None),
        Err(Error::LabelOutOfRange {
            sample: 1,
            label: 5
        })
    );
    assert_eq!(
        robust_accuracy(&net, &[X, [f32::NAN; 3]], &ys, fgsm_a, 0.1, None),
        Err(Error::NonFiniteInput { sample: 1 })
    );
    for c in BAD_CLIPS {
        assert_eq!(
            robust_accuracy(&net, &xs, &ys, fgsm_a, 0.1, Some(c)),
            Err(Error::InvalidRange)
        );
        assert_eq!(
            minimal_epsilon(&net, &X, 0, fgsm_a, 1.0, 8, Some(c)),
            Err(Error::InvalidRange)
        );
    }
    assert_eq!(
        minimal_epsilon(&net, &X, 0, fgsm_a, 1.0, 0, None),
        Err(Error::ZeroIterations)
    );
    assert_eq!(
        minimal_epsilon(&net, &X, 0, pgd0, 1.0, 8, None),
        Err(Error::ZeroIterations)
    );
    assert_eq!(
        minimal_epsilon(&net, &X, 3, fgsm_a, 1.0, 8, None),
        Err(Error::LabelOutOfRange {
            sample: 0,
            label: 3
        })
    );
    assert_eq!(
        minimal_epsilon_stats(&net, &xs, &ys, fgsm_a, 1.0, 0, None),
        Err(Error::ZeroIterations)
    );
    assert_eq!(
        minimal_epsilon_stats(&net, &[], &[], fgsm_a, 1.0, 4, None),
        Err(Error::EmptyBatch)
    );
    assert_eq!(
        pgd0.perturb(&net, &X, 0, 0.1, None),
        Err(Error::ZeroIterations)
    );
    let mut rng = Rng::new(0);
    assert_eq!(
        lds_stats(&net, &[], &mut rng, &VatConfig::new(0.1)),
        Err(Error::EmptyBatch)
    );
    assert_eq!(
        lds_stats(&net, &xs, &mut rng, &VatConfig::new(-1.0)),
        Err(Error::InvalidEpsilon)
    );
    assert_eq!(
        lds_stats(
            &net,
            &xs,
            &mut rng,
            &VatConfig {
                xi: 0.0,
                ..VatConfig::paper(0.1)
            }
        ),
        Err(Error::InvalidXi)
    );
}

#[test]
fn errors_have_messages() {
    // Display is implemented for every variant the attacks return.
    for e in [
        Error::InvalidEpsilon,
        Error::InvalidXi,
        Error::ZeroIterations,
        Error::InvalidWeight,
        Error::NonFiniteInput { sample: 3 },
        Error::LabelOutOfRange {
            sample: 1,
            label: 9,
        },
        Error::EmptyBatch,
        Error::LengthMismatch,
        Error::InvalidRange,
    ] {
        assert!(!e.to_string().is_empty());
    }
    assert!(Error::NonFiniteInput { sample: 3 }
        .to_string()
        .contains('3'));
}
