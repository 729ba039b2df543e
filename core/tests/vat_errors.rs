//! Bad input to VAT and the semi-supervised objective returns the right `Error` (never a panic),
//! leaves the gradient untouched, and a failed training step leaves the network and optimiser
//! untouched.

use vatic::optim::{Adam, AdamConfig, Optimizer};
use vatic::semi::{
    semi_supervised_grad, semi_supervised_grad_with_directions, semi_supervised_step, SemiConfig,
};
use vatic::vat::{self, Direction, VatConfig};
use vatic::{Activation, Error, Mlp, Parameters, Rng};

type Net = Mlp<3, 5, 2>;

fn net() -> Net {
    Mlp::new(Activation::Tanh, &mut Rng::new(2))
}

fn zero() -> Net {
    <Net as Parameters>::ZERO
}

const X: [f32; 3] = [0.1, -0.2, 0.3];
const D: [f32; 3] = [1.0, 0.5, -0.25];

fn bad_eps_cfgs() -> Vec<VatConfig> {
    [-0.1, f32::NAN, f32::INFINITY]
        .iter()
        .flat_map(|&e| [VatConfig::new(e), VatConfig::paper(e)])
        .collect()
}

fn bad_xi_cfgs() -> Vec<VatConfig> {
    [0.0, -1e-6, f32::NAN, f32::INFINITY]
        .iter()
        .map(|&xi| VatConfig {
            xi,
            ..VatConfig::paper(0.5)
        })
        .collect()
}

#[test]
fn vat_config_validation() {
    for c in bad_eps_cfgs() {
        assert_eq!(c.validate(), Err(Error::InvalidEpsilon), "{c:?}");
    }
    for c in bad_xi_cfgs() {
        assert_eq!(c.validate(), Err(Error::InvalidXi), "{c:?}");
        // ξ is unused by the exact method, so it is not checked there.
        let exact = VatConfig {
            direction: Direction::Exact,
            ..c
        };
        assert_eq!(exact.validate(), Ok(()));
    }
    // K = 0 is valid (random perturbation training), ε = 0 too.
    let k0 = VatConfig {
        iterations: 0,
        ..VatConfig::new(0.0)
    };
    assert_eq!(k0.validate(), Ok(()));
}

#[test]
fn per_sample_functions_reject_bad_input() {
    let net = net();
    for c in bad_eps_cfgs() {
        let mut d = D;
        assert_eq!(
            vat::power_iteration(&net, &X, &mut d, &c),
            Err(Error::InvalidEpsilon)
        );
        assert_eq!(d, D, "direction modified before the error");
        assert_eq!(
            vat::virtual_adversarial(&net, &X, &D, &c),
            Err(Error::InvalidEpsilon)
        );
        assert_eq!(vat::lds(&net, &X, &D, &c), Err(Error::InvalidEpsilon));
    }
    for c in bad_xi_cfgs() {
        let mut d = D;
        assert_eq!(
            vat::power_iteration(&net, &X, &mut d, &c),
            Err(Error::InvalidXi)
        );
        assert_eq!(
            vat::virtual_adversarial(&net, &X, &D, &c),
            Err(Error::InvalidXi)
        );
        assert_eq!(vat::lds(&net, &X, &D, &c), Err(Error::InvalidXi));
    }
    let cfg = VatConfig::new(0.5);
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let x = [0.0, bad, 0.0];
        assert!(matches!(
            vat::virtual_adversarial(&net, &x, &D, &cfg),
            Err(Error::NonFiniteInput { .. })
        ));
        assert!(matches!(
            vat::virtual_adversarial(&net, &X, &x, &cfg),
            Err(Error::NonFiniteInput { .. })
        ));
        let mut d = x;
        assert!(matches!(
            vat::power_iteration(&net, &X, &mut d, &cfg),
            Err(Error::NonFiniteInput { .. })
        ));
        let mut d = D;
        assert!(matches!(
            vat::power_iteration(&net, &x, &mut d, &cfg),
            Err(Error::NonFiniteInput { .. })
        ));
        assert!(matches!(
            vat::lds(&net, &x, &D, &cfg),
            Err(Error::NonFiniteInput { .. })
        ));
    }
}

#[test]
fn vat_grad_rejects_bad_input_and_leaves_grad_untouched() {
    let net = net();
    let xs = [X, [0.4, 0.4, -0.1], [1.0, 0.0, 0.0]];
    let ds = [D, D, D];
    let ok = VatConfig::new(0.5);
    let random = |xs: &[[f32; 3]], cfg: &VatConfig, w: f32| {
        let mut grad = zero();
        let r = vat::vat_grad(&net, xs, &mut Rng::new(0), cfg, w, &mut grad);
        if r.is_err() {
            assert_eq!(grad, zero(), "gradient modified before {r:?}");
        }
        r
    };
    let given = |xs: &[[f32; 3]], ds: &[[f32; 3]], cfg: &VatConfig, w: f32| {
        let mut grad = zero();
        let r = vat::vat_grad_with_directions(&net, xs, ds, cfg, w, &mut grad);
        if r.is_err() {
            assert_eq!(grad, zero(), "gradient modified before {r:?}");
        }
        r
    };
    assert!(random(&xs, &ok, 1.0).is_ok());
    assert!(given(&xs, &ds, &ok, 1.0).is_ok());
    for c in bad_eps_cfgs() {
        assert_eq!(random(&xs, &c, 1.0), Err(Error::InvalidEpsilon));
        assert_eq!(given(&xs, &ds, &c, 1.0), Err(Error::InvalidEpsilon));
    }
    for c in bad_xi_cfgs() {
        assert_eq!(random(&xs, &c, 1.0), Err(Error::InvalidXi));
        assert_eq!(given(&xs, &ds, &c, 1.0), Err(Error::InvalidXi));
    }
    for w in [-1.0, f32::NAN, f32::INFINITY] {
        assert_eq!(random(&xs, &ok, w), Err(Error::InvalidWeight));
        assert_eq!(given(&xs, &ds, &ok, w), Err(Error::InvalidWeight));
    }
    assert_eq!(random(&[], &ok, 1.0), Err(Error::EmptyBatch));
    assert_eq!(given(&[], &[], &ok, 1.0), Err(Error::EmptyBatch));
    assert_eq!(given(&xs, &ds[..2], &ok, 1.0), Err(Error::LengthMismatch));
    let mut bad = xs;
    bad[2] = [0.0, 0.0, f32::NAN];
    assert_eq!(
        random(&bad, &ok, 1.0),
        Err(Error::NonFiniteInput { sample: 2 })
    );
    assert_eq!(
        given(&bad, &ds, &ok, 1.0),
        Err(Error::NonFiniteInput { sample: 2 })
    );
    let mut bad_d = ds;
    bad_d[1] = [f32::INFINITY, 0.0, 0.0];
    assert_eq!(
        given(&xs, &bad_d, &ok, 1.0),
        Err(Error::NonFiniteInput { sample: 1 })
    );
}

#[test]
fn semi_supervised_rejects_bad_input_and_leaves_grad_untouched() {
    let net = net();
    let xl = [X, [0.5, -0.5, 0.5]];
    let yl = [0usize, 1];
    let xu = [[0.2, 0.2, 0.2], [-0.3, 0.1, 0.0], [0.0, 0.0, 1.0]];
    let ds = [D, D, D];
    let ok = SemiConfig::vat_entmin(VatConfig::new(0.5));
    let run = |xl: &[[f32; 3]], yl: &[usize], xu: &[[f32; 3]], cfg: &SemiConfig| {
        let mut grad = zero();
        let r = semi_supervised_grad(&net, xl, yl, xu, &mut Rng::new(0), cfg, &mut grad);
        if r.is_err() {
            assert_eq!(grad, zero(), "gradient modified before {r:?}");
        }
        r
    };
    let given = |xu: &[[f32; 3]], ds: &[[f32; 3]], cfg: &SemiConfig| {
        let mut grad = zero();
        let r = semi_supervised_grad_with_directions(&net, &xl, &yl, xu, ds, cfg, &mut grad);
        if r.is_err() {
            assert_eq!(grad, zero(), "gradient modified before {r:?}");
        }
        r
    };
    assert!(run(&xl, &yl, &xu, &ok).is_ok());
    assert!(
        run(&xl, &yl, &[], &ok).is_ok(),
        "unlabelled batch may be empty"
    );
    assert!(
        run(&[], &[], &xu, &ok).is_ok(),
        "labelled batch may be empty"
    );
    assert!(given(&xu, &ds, &ok).is_ok());
    assert_eq!(run(&[], &[], &[], &ok), Err(Error::EmptyBatch));
    for c in bad_eps_cfgs() {
        let cfg = SemiConfig { vat: c, ..ok };
        assert_eq!(run(&xl, &yl, &xu, &cfg), Err(Error::InvalidEpsilon));
    }
    for c in bad_xi_cfgs() {
        let cfg = SemiConfig { vat: c, ..ok };
        assert_eq!(run(&xl, &yl, &xu, &cfg), Err(Error::InvalidXi));
    }
    for w in [-0.5, f32::NAN, f32::INFINITY] {
        let cfg = SemiConfig {
            vat_weight: w,
            ..ok
        };
        assert_eq!(run(&xl, &yl, &xu, &cfg), Err(Error::InvalidWeight));
        let cfg = SemiConfig {
            entropy_weight: w,
            ..ok
        };
        assert_eq!(run(&xl, &yl, &xu, &cfg), Err(Error::InvalidWeight));
    }
    assert_eq!(run(&xl, &yl[..1], &xu, &ok), Err(Error::LengthMismatch));
    assert_eq!(run(&[], &yl, &xu, &ok), Err(Error::LengthMismatch));
    assert_eq!(
        run(&xl, &[0, 2], &xu, &ok),
        Err(Error::LabelOutOfRange {
            sample: 1,
            label: 2
        })
    );
    let mut bad_l = xl;
    bad_l[0][1] = f32::NAN;
    assert_eq!(
        run(&bad_l, &yl, &xu, &ok),
        Err(Error::NonFiniteInput { sample: 0 })
    );
    let mut bad_u = xu;
    bad_u[2][0] = f32::NEG_INFINITY;
    assert_eq!(
        run(&xl, &yl, &bad_u, &ok),
        Err(Error::NonFiniteInput { sample: 2 })
    );
    assert_eq!(given(&xu, &ds[..1], &ok), Err(Error::LengthMismatch));
    let mut bad_d = ds;
    bad_d[0][0] = f32::NAN;
    assert!(matches!(
        given(&xu, &bad_d, &ok),
        Err(Error::NonFiniteInput { .. })
    ));
}

#[test]
fn failed_training_step_leaves_network_and_optimiser_unchanged() {
    let mut net = net();
    let before = net.clone();
    let mut opt = Adam::new(AdamConfig::DEFAULT);
    let mut grad = zero();
    let cfg = SemiConfig::vat(VatConfig::new(0.5));
    let xl = [X];
    let r = semi_supervised_step(
        &mut net,
        &mut opt,
        &mut grad,
        &xl,
        &[5],
        &[X],
        &mut Rng::new(1),
        &cfg,
    );
    assert_eq!(
        r,
        Err(Error::LabelOutOfRange {
            sample: 0,
            label: 5
        })
    );
    assert_eq!(net, before);
    assert_eq!(opt.steps(), 0);
    assert_eq!(opt.learning_rate(), AdamConfig::DEFAULT.lr);
    // And a valid step does move it (so the assertion above is not vacuous).
    semi_supervised_step(
        &mut net,
        &mut opt,
        &mut grad,
        &xl,
        &[1],
        &[X],
        &mut Rng::new(1),
        &cfg,
    )
    .unwrap();
    assert_ne!(net, before);
    assert_eq!(opt.steps(), 1);
}
