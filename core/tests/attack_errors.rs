//! Bad input to the attacks, adversarial training and the robustness metrics returns the right
//! `Error` (never a panic, never a NaN result), and leaves the gradient buffer untouched:
//! bad parameters, bad data, slices of the wrong width (`Error::LengthMismatch`) and workspaces
//! smaller than one sample (`Error::WorkspaceTooSmall`).

use vatic::adversarial::{adversarial_grad, AdversarialConfig};
use vatic::attack::{Attack, Clip, Method, Norm, Pgd, Step};
use vatic::metrics;
use vatic::vat::VatConfig;
use vatic::{Activation, Error, Mlp, Network, Result, Rng, Zeroed};

type Net = Mlp<3, 5, 2>;

fn net() -> Net {
    Mlp::new(Activation::Relu, &mut Rng::new(1))
}

/// A workspace of blocks of 8 samples.
fn ws() -> Vec<f32> {
    vec![0.0; Net::WORKSPACE]
}

/// `a` with the box `clip`.
fn boxed(a: Attack, clip: Option<Clip>) -> Attack {
    Attack { clip, ..a }
}

/// `a` at `eps` into a fresh buffer.
fn perturb(a: &Attack, net: &Net, x: &[f32], y: usize, eps: f32) -> Result<Vec<f32>> {
    let mut adv = vec![f32::NAN; 3];
    a.perturb(net, x, y, eps, &mut adv, &mut ws()).map(|()| adv)
}

/// FGSM into a fresh buffer.
fn fgsm(
    net: &Net,
    x: &[f32],
    y: usize,
    eps: f32,
    norm: Norm,
    clip: Option<Clip>,
) -> Result<Vec<f32>> {
    perturb(&boxed(Attack::fgsm(norm), clip), net, x, y, eps)
}

/// PGD with settings `p` into a fresh buffer.
fn pgd(net: &Net, x: &[f32], y: usize, eps: f32, p: Pgd, clip: Option<Clip>) -> Result<Vec<f32>> {
    let a = Attack {
        method: Method::Pgd(p),
        clip,
        ..Attack::fgsm(Norm::LInf)
    };
    perturb(&a, net, x, y, eps)
}

fn robust_accuracy(
    net: &Net,
    xs: &[[f32; 3]],
    ys: &[usize],
    a: Attack,
    eps: f32,
    clip: Option<Clip>,
) -> Result<f32> {
    metrics::robust_accuracy(net, xs.as_flattened(), ys, &boxed(a, clip), eps, &mut ws())
}

fn robust_accuracy_sweep(
    net: &Net,
    xs: &[[f32; 3]],
    ys: &[usize],
    a: Attack,
    eps: &[f32],
    clip: Option<Clip>,
    out: &mut [f32],
) -> Result<()> {
    let a = boxed(a, clip);
    metrics::robust_accuracy_sweep(net, xs.as_flattened(), ys, &a, eps, out, &mut ws())
}

fn minimal_epsilon(
    net: &Net,
    x: &[f32],
    y: usize,
    a: Attack,
    eps_max: f32,
    steps: u32,
    clip: Option<Clip>,
) -> Result<Option<f32>> {
    metrics::minimal_epsilon(net, x, y, &boxed(a, clip), eps_max, steps, &mut ws())
}

fn minimal_epsilon_stats(
    net: &Net,
    xs: &[[f32; 3]],
    ys: &[usize],
    a: Attack,
    eps_max: f32,
    steps: u32,
    clip: Option<Clip>,
) -> Result<metrics::MinimalEpsilon> {
    let a = boxed(a, clip);
    metrics::minimal_epsilon_stats(net, xs.as_flattened(), ys, &a, eps_max, steps, &mut ws())
}

fn lds_stats(
    net: &Net,
    xs: &[[f32; 3]],
    rng: &mut Rng,
    cfg: &VatConfig,
) -> Result<metrics::LdsStats> {
    metrics::lds_stats(net, xs.as_flattened(), rng, cfg, &mut ws())
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
        assert_eq!(fgsm(&net, &X, 0, 0.0, norm, None), Ok(X.to_vec()));
        let point = Clip { min: 0.2, max: 0.2 };
        assert_eq!(fgsm(&net, &X, 1, 0.1, norm, Some(point)), Ok(vec![0.2; 3]));
    }
}

#[test]
fn pgd_rejects_bad_input() {
    let net = net();
    let ok = Pgd::madry(5);
    assert!(pgd(&net, &X, 0, 0.1, ok, None).is_ok());
    for e in BAD_EPS {
        assert_eq!(pgd(&net, &X, 0, e, ok, None), Err(Error::InvalidEpsilon));
    }
    let none = Pgd {
        iterations: 0,
        ..ok
    };
    assert_eq!(
        pgd(&net, &X, 0, 0.1, none, None),
        Err(Error::ZeroIterations)
    );
    let no_run = Pgd { restarts: 0, ..ok };
    assert_eq!(
        pgd(&net, &X, 0, 0.1, no_run, None),
        Err(Error::InvalidSetting { name: "restarts" })
    );
    for r in [0.0, -0.01, f32::NAN, f32::INFINITY] {
        let p = Pgd {
            step: Step::Ratio(r),
            ..ok
        };
        assert_eq!(
            pgd(&net, &X, 0, 0.1, p, None),
            Err(Error::InvalidSetting { name: "step" }),
            "step ratio {r}"
        );
    }
    for c in BAD_CLIPS {
        assert_eq!(pgd(&net, &X, 0, 0.1, ok, Some(c)), Err(Error::InvalidRange));
    }
    for x in non_finite_samples() {
        assert_eq!(
            pgd(&net, &x, 0, 0.1, ok, None),
            Err(Error::NonFiniteInput { sample: 0 })
        );
    }
    assert_eq!(
        pgd(&net, &X, 7, 0.1, ok, None),
        Err(Error::LabelOutOfRange {
            sample: 0,
            label: 7
        })
    );
}

#[test]
fn pgd_with_eps_zero_is_the_identity() {
    // ε = 0 is a valid radius (as for FGSM and the metrics' sweeps): the ball is {x}, and the
    // step 2.5 ε / iterations = 0 derived from it must not make the call fail.
    let net = net();
    for norm in [Norm::LInf, Norm::L2] {
        assert_eq!(
            perturb(&Attack::pgd(norm, 10), &net, &X, 0, 0.0),
            Ok(X.to_vec()),
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
        let mut grad = <Net as Zeroed>::ZERO;
        let r = adversarial_grad(&net, xs.as_flattened(), ys, cfg, w, &mut grad, &mut ws());
        if r.is_err() {
            assert_eq!(
                grad,
                <Net as Zeroed>::ZERO,
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
    let fgsm_a = Attack::fgsm(Norm::LInf);
    let pgd0 = Attack::pgd(Norm::L2, 0);
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
        assert_eq!(perturb(&fgsm_a, &net, &X, 0, e), Err(Error::InvalidEpsilon));
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
    assert_eq!(perturb(&pgd0, &net, &X, 0, 0.1), Err(Error::ZeroIterations));
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
        Error::InvalidSetting { name: "step" },
        Error::NonFiniteParameter {
            tensor: 3,
            index: 7,
        },
        Error::NonFiniteInput { sample: 3 },
        Error::LabelOutOfRange {
            sample: 1,
            label: 9,
        },
        Error::EmptyBatch,
        Error::LengthMismatch,
        Error::InvalidRange,
        Error::InvalidShape,
        Error::WorkspaceTooSmall,
        Error::TooLarge,
        Error::BufferTooSmall { needed: 9, got: 8 },
    ] {
        assert!(!e.to_string().is_empty());
    }
    assert!(Error::NonFiniteInput { sample: 3 }
        .to_string()
        .contains('3'));
}

#[test]
fn wrong_widths_are_length_mismatches() {
    let net = net();
    let mut ws = ws();
    let pgd_a = Attack::pgd(Norm::LInf, 3);
    let fgsm_a = Attack::fgsm(Norm::LInf);
    // A sample or an output buffer one value too short or too long.
    for (x, adv_len) in [
        (&X[..2], 3),
        (&[0.1, 0.2, 0.3, 0.4][..], 3),
        (&X[..], 2),
        (&X[..], 4),
    ] {
        let mut adv = vec![f32::NAN; adv_len];
        assert_eq!(
            Attack::fgsm(Norm::L2).perturb(&net, x, 0, 0.1, &mut adv, &mut ws),
            Err(Error::LengthMismatch),
            "fgsm x {} adv {adv_len}",
            x.len()
        );
        assert!(
            adv.iter().all(|v| v.is_nan()),
            "adv written before the error"
        );
        assert_eq!(
            pgd_a.perturb(&net, x, 0, 0.1, &mut adv, &mut ws),
            Err(Error::LengthMismatch)
        );
    }
    let mut dx = [0.0; 2];
    assert_eq!(
        vatic::supervised::input_gradient(&net, &X, 0, &mut dx, &mut ws),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        vatic::supervised::input_gradient(&net, &X[..2], 0, &mut [0.0; 3], &mut ws),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        metrics::minimal_epsilon(&net, &X[..2], 0, &fgsm_a, 1.0, 4, &mut ws),
        Err(Error::LengthMismatch)
    );
    // A batch that is not whole rows of the input width.
    let xs = [X, [0.5, 0.5, -0.5]];
    let flat = xs.as_flattened();
    let ragged = &flat[..5];
    let mut grad = <Net as Zeroed>::ZERO;
    let cfg = AdversarialConfig::new(0.1);
    assert_eq!(
        adversarial_grad(&net, ragged, &[0, 1], &cfg, 1.0, &mut grad, &mut ws),
        Err(Error::LengthMismatch)
    );
    assert_eq!(grad, <Net as Zeroed>::ZERO);
    assert_eq!(
        metrics::robust_accuracy(&net, ragged, &[0, 1], &fgsm_a, 0.1, &mut ws),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        metrics::minimal_epsilon_stats(&net, ragged, &[0, 1], &fgsm_a, 1.0, 4, &mut ws),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        metrics::lds_stats(
            &net,
            ragged,
            &mut Rng::new(0),
            &VatConfig::new(0.1),
            &mut ws
        ),
        Err(Error::LengthMismatch)
    );
    let mut zs = [0.0; 4];
    assert_eq!(
        vatic::pass::logits(&net, ragged, &mut zs, &mut ws),
        Err(Error::LengthMismatch)
    );
    // Logits buffer of the wrong size for the batch.
    let mut zs = [0.0; 3];
    assert_eq!(
        vatic::pass::logits(&net, flat, &mut zs, &mut ws),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        vatic::pass::predict(&net, &X[..2], &mut ws),
        Err(Error::LengthMismatch)
    );
}

#[test]
fn workspaces_smaller_than_one_sample_are_refused() {
    let net = net();
    let one = Net::WORKSPACE_ONE;
    assert_eq!(one, net.shape().workspace_len(1));
    let xs = [X, [0.5, 0.5, -0.5]];
    let flat = xs.as_flattened();
    let ys = [0usize, 1];
    let fgsm_a = Attack::fgsm(Norm::L2);
    let pgd_a = Attack::pgd(Norm::LInf, 3);
    let pgd_l2 = Attack::pgd(Norm::L2, 3);
    for len in [0, 1, one / 2, one - 1] {
        let mut small = vec![0.0; len];
        let mut adv = vec![f32::NAN; 3];
        let ws = &mut small[..];
        assert_eq!(
            Attack::fgsm(Norm::LInf).perturb(&net, &X, 0, 0.1, &mut adv, ws),
            Err(Error::WorkspaceTooSmall),
            "fgsm, workspace {len}"
        );
        assert!(
            adv.iter().all(|v| v.is_nan()),
            "adv written before the error"
        );
        assert_eq!(
            pgd_l2.perturb(&net, &X, 0, 0.1, &mut adv, ws),
            Err(Error::WorkspaceTooSmall)
        );
        assert_eq!(
            pgd_a.perturb(&net, &X, 0, 0.1, &mut adv, ws),
            Err(Error::WorkspaceTooSmall)
        );
        let mut grad = <Net as Zeroed>::ZERO;
        let cfg = AdversarialConfig::new(0.1);
        assert_eq!(
            adversarial_grad(&net, flat, &ys, &cfg, 1.0, &mut grad, ws),
            Err(Error::WorkspaceTooSmall)
        );
        assert_eq!(
            grad,
            <Net as Zeroed>::ZERO,
            "gradient modified before the error"
        );
        assert_eq!(
            metrics::robust_accuracy(&net, flat, &ys, &fgsm_a, 0.1, ws),
            Err(Error::WorkspaceTooSmall)
        );
        let mut out = [0.0; 2];
        assert_eq!(
            metrics::robust_accuracy_sweep(&net, flat, &ys, &pgd_a, &[0.0, 0.1], &mut out, ws),
            Err(Error::WorkspaceTooSmall)
        );
        assert_eq!(
            metrics::minimal_epsilon(&net, &X, 0, &pgd_a, 1.0, 4, ws),
            Err(Error::WorkspaceTooSmall)
        );
        assert_eq!(
            metrics::minimal_epsilon_stats(&net, flat, &ys, &fgsm_a, 1.0, 4, ws),
            Err(Error::WorkspaceTooSmall)
        );
        assert_eq!(
            metrics::lds_stats(&net, flat, &mut Rng::new(0), &VatConfig::new(0.1), ws),
            Err(Error::WorkspaceTooSmall)
        );
        assert_eq!(
            vatic::supervised::input_gradient(&net, &X, 0, &mut [0.0; 3], ws),
            Err(Error::WorkspaceTooSmall)
        );
        let mut zs = [0.0; 4];
        assert_eq!(
            vatic::pass::logits(&net, flat, &mut zs, ws),
            Err(Error::WorkspaceTooSmall)
        );
        assert_eq!(
            vatic::pass::predict(&net, &X, ws),
            Err(Error::WorkspaceTooSmall)
        );
    }
    // One sample's workspace is enough for everything (one sample per block).
    let mut ws = vec![0.0; one];
    let mut adv = [0.0; 3];
    pgd_l2.perturb(&net, &X, 0, 0.1, &mut adv, &mut ws).unwrap();
    assert_eq!(perturb(&pgd_l2, &net, &X, 0, 0.1).unwrap(), adv);
    let mut out = [0.0; 2];
    metrics::robust_accuracy_sweep(&net, flat, &ys, &pgd_a, &[0.0, 0.1], &mut out, &mut ws)
        .unwrap();
    let s = metrics::minimal_epsilon_stats(&net, flat, &ys, &pgd_a, 1.0, 4, &mut ws).unwrap();
    assert_eq!(
        s,
        minimal_epsilon_stats(&net, &xs, &ys, pgd_a, 1.0, 4, None).unwrap()
    );
    let mut grad = <Net as Zeroed>::ZERO;
    adversarial_grad(
        &net,
        flat,
        &ys,
        &AdversarialConfig::new(0.1),
        1.0,
        &mut grad,
        &mut ws,
    )
    .unwrap();
}
