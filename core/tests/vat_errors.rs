//! Bad input to VAT and the semi-supervised objective returns the right `Error` (never a panic),
//! leaves the gradient untouched, and a failed training step leaves the network and optimiser
//! untouched.

use vatic::optim::{Adam, AdamConfig, Optimizer};
use vatic::semi::{self, semi_supervised_step, SemiConfig, SemiLoss};
use vatic::vat::{self, Direction, VatConfig};
use vatic::{Activation, Error, Mlp, Network, Result, Rng, Zeroed};

type Net = Mlp<3, 5, 2>;

fn net() -> Net {
    Mlp::new(Activation::Tanh, &mut Rng::new(2))
}

fn zero() -> Net {
    <Net as Zeroed>::ZERO
}

fn ws() -> Vec<f32> {
    vec![0.0; Net::WORKSPACE]
}

fn power_iteration(net: &Net, x: &[f32], d: &mut [f32], cfg: &VatConfig) -> Result<()> {
    vat::power_iteration(net, x, d, cfg, &mut ws())
}

/// `virtual_adversarial`'s LDS; checks that `r_vadv` is not written on an error.
fn virtual_adversarial(net: &Net, x: &[f32], d0: &[f32], cfg: &VatConfig) -> Result<f32> {
    let mut r = [f32::NAN; 3];
    let out = vat::virtual_adversarial(net, x, d0, cfg, &mut r, &mut ws());
    if out.is_err() {
        assert!(
            r.iter().all(|v| v.is_nan()),
            "r_vadv written before {out:?}"
        );
    }
    out
}

fn lds(net: &Net, x: &[f32], d0: &[f32], cfg: &VatConfig) -> Result<f32> {
    vat::lds(net, x, d0, cfg, &mut ws())
}

#[allow(clippy::too_many_arguments)]
fn semi_supervised_grad(
    net: &Net,
    xl: &[[f32; 3]],
    yl: &[usize],
    xu: &[[f32; 3]],
    rng: &mut Rng,
    cfg: &SemiConfig,
    grad: &mut Net,
) -> Result<SemiLoss> {
    let (xl, xu) = (xl.as_flattened(), xu.as_flattened());
    semi::semi_supervised_grad(net, xl, yl, xu, rng, cfg, grad, &mut ws())
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
            power_iteration(&net, &X, &mut d, &c),
            Err(Error::InvalidEpsilon)
        );
        assert_eq!(d, D, "direction modified before the error");
        assert_eq!(
            virtual_adversarial(&net, &X, &D, &c),
            Err(Error::InvalidEpsilon)
        );
        assert_eq!(lds(&net, &X, &D, &c), Err(Error::InvalidEpsilon));
    }
    for c in bad_xi_cfgs() {
        let mut d = D;
        assert_eq!(power_iteration(&net, &X, &mut d, &c), Err(Error::InvalidXi));
        assert_eq!(virtual_adversarial(&net, &X, &D, &c), Err(Error::InvalidXi));
        assert_eq!(lds(&net, &X, &D, &c), Err(Error::InvalidXi));
    }
    let cfg = VatConfig::new(0.5);
    // Documented: a bad sample is `sample: 0`, a bad direction `sample: 1`.
    let bad_x = Err(Error::NonFiniteInput { sample: 0 });
    let bad_d = Err(Error::NonFiniteInput { sample: 1 });
    let mut ws = ws();
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let x = [0.0, bad, 0.0];
        assert_eq!(virtual_adversarial(&net, &x, &D, &cfg), bad_x);
        assert_eq!(virtual_adversarial(&net, &X, &x, &cfg), bad_d);
        let mut d = x;
        assert_eq!(power_iteration(&net, &X, &mut d, &cfg).map(|()| 0.0), bad_d);
        let mut d = D;
        assert_eq!(power_iteration(&net, &x, &mut d, &cfg).map(|()| 0.0), bad_x);
        assert_eq!(d, D, "direction modified before the error");
        assert_eq!(lds(&net, &x, &D, &cfg), bad_x);
        assert_eq!(lds(&net, &X, &x, &cfg), bad_d);
        let mut out = [f32::NAN; 3];
        let fd = |x: &[f32], d: &[f32], out: &mut [f32], ws: &mut [f32]| {
            vat::finite_difference_gradient(&net, x, d, 1e-3, out, ws).map(|()| 0.0)
        };
        assert_eq!(fd(&x, &D, &mut out, &mut ws), bad_x);
        assert_eq!(fd(&X, &x, &mut out, &mut ws), bad_d);
        let hvp = |x: &[f32], d: &[f32], out: &mut [f32], ws: &mut [f32]| {
            vat::hessian_vector_product(&net, x, d, out, ws).map(|()| 0.0)
        };
        assert_eq!(hvp(&x, &D, &mut out, &mut ws), bad_x);
        assert_eq!(hvp(&X, &x, &mut out, &mut ws), bad_d);
        assert!(
            out.iter().all(|v| v.is_nan()),
            "output written before the error"
        );
    }
    for xi in [0.0, -1e-3, f32::NAN, f32::INFINITY] {
        let mut out = [0.0; 3];
        assert_eq!(
            vat::finite_difference_gradient(&net, &X, &D, xi, &mut out, &mut ws),
            Err(Error::InvalidXi)
        );
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
        let r = vat::vat_grad(
            &net,
            xs.as_flattened(),
            &mut Rng::new(0),
            cfg,
            w,
            &mut grad,
            &mut ws(),
        );
        if r.is_err() {
            assert_eq!(grad, zero(), "gradient modified before {r:?}");
        }
        r
    };
    let given = |xs: &[[f32; 3]], ds: &[[f32; 3]], cfg: &VatConfig, w: f32| {
        let mut grad = zero();
        let (xs, ds) = (xs.as_flattened(), ds.as_flattened());
        let r = vat::vat_grad_with_directions(&net, xs, ds, cfg, w, &mut grad, &mut ws());
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
        let (xl, xu, ds) = (xl.as_flattened(), xu.as_flattened(), ds.as_flattened());
        let r = semi::semi_supervised_grad_with_directions(
            &net,
            xl,
            &yl,
            xu,
            ds,
            cfg,
            &mut grad,
            &mut ws(),
        );
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
    let mut opt = Adam::new(AdamConfig::DEFAULT).unwrap();
    let mut grad = zero();
    let cfg = SemiConfig::vat(VatConfig::new(0.5));
    let xl = X;
    let r = semi_supervised_step(
        &mut net,
        &mut opt,
        &mut grad,
        &mut ws(),
        &xl,
        &[5],
        &X,
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
        &mut ws(),
        &xl,
        &[1],
        &X,
        &mut Rng::new(1),
        &cfg,
    )
    .unwrap();
    assert_ne!(net, before);
    assert_eq!(opt.steps(), 1);
}

#[test]
fn wrong_widths_are_length_mismatches() {
    let net = net();
    let cfg = VatConfig::new(0.5);
    let mut ws = ws();
    let short = [0.1f32, 0.2];
    let long = [0.1f32, 0.2, 0.3, 0.4];
    for bad in [&short[..], &long[..]] {
        let mut d = bad.to_vec();
        assert_eq!(
            vat::power_iteration(&net, bad, &mut D.clone(), &cfg, &mut ws),
            Err(Error::LengthMismatch)
        );
        assert_eq!(
            vat::power_iteration(&net, &X, &mut d, &cfg, &mut ws),
            Err(Error::LengthMismatch)
        );
        assert_eq!(d, bad, "direction modified before the error");
        let mut r = [0.0; 3];
        assert_eq!(
            vat::virtual_adversarial(&net, bad, &D, &cfg, &mut r, &mut ws),
            Err(Error::LengthMismatch)
        );
        assert_eq!(
            vat::virtual_adversarial(&net, &X, bad, &cfg, &mut r, &mut ws),
            Err(Error::LengthMismatch)
        );
        let mut r_bad = bad.to_vec();
        assert_eq!(
            vat::virtual_adversarial(&net, &X, &D, &cfg, &mut r_bad, &mut ws),
            Err(Error::LengthMismatch)
        );
        assert_eq!(
            vat::lds(&net, bad, &D, &cfg, &mut ws),
            Err(Error::LengthMismatch)
        );
        assert_eq!(
            vat::lds(&net, &X, bad, &cfg, &mut ws),
            Err(Error::LengthMismatch)
        );
        let mut out = [0.0; 3];
        let mut out_bad = bad.to_vec();
        assert_eq!(
            vat::finite_difference_gradient(&net, &X, bad, 1e-3, &mut out, &mut ws),
            Err(Error::LengthMismatch)
        );
        assert_eq!(
            vat::finite_difference_gradient(&net, &X, &D, 1e-3, &mut out_bad, &mut ws),
            Err(Error::LengthMismatch)
        );
        assert_eq!(
            vat::hessian_vector_product(&net, bad, &D, &mut out, &mut ws),
            Err(Error::LengthMismatch)
        );
        assert_eq!(
            vat::hessian_vector_product(&net, &X, &D, &mut out_bad, &mut ws),
            Err(Error::LengthMismatch)
        );
    }
    // Batches that are not whole rows of the input width.
    let xs = [X, [0.4, 0.4, -0.1]];
    let flat = xs.as_flattened();
    let ragged = &flat[..4];
    let mut grad = zero();
    assert_eq!(
        vat::vat_grad(
            &net,
            ragged,
            &mut Rng::new(0),
            &cfg,
            1.0,
            &mut grad,
            &mut ws
        ),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        vat::vat_grad_with_directions(&net, ragged, ragged, &cfg, 1.0, &mut grad, &mut ws),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        vat::vat_grad_with_directions(&net, flat, &flat[..3], &cfg, 1.0, &mut grad, &mut ws),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        vat::lds_at(&net, flat, &flat[..3], 1.0, &mut grad, &mut ws),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        vat::lds_at(&net, ragged, ragged, 1.0, &mut grad, &mut ws),
        Err(Error::LengthMismatch)
    );
    let semi_cfg = SemiConfig::vat(cfg);
    assert_eq!(
        semi::semi_supervised_grad(
            &net,
            flat,
            &[0, 1],
            ragged,
            &mut Rng::new(0),
            &semi_cfg,
            &mut grad,
            &mut ws
        ),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        semi::semi_supervised_grad(
            &net,
            ragged,
            &[0],
            flat,
            &mut Rng::new(0),
            &semi_cfg,
            &mut grad,
            &mut ws
        ),
        Err(Error::LengthMismatch)
    );
    assert_eq!(grad, zero(), "gradient modified before an error");
}

/// The per-sample VAT functions refuse a workspace that does not hold one sample
/// (`Shape::workspace_len(1)`), as documented, and leave their outputs alone.
fn check_per_sample_workspace_too_small(len: usize) {
    let net = net();
    let cfg = VatConfig::new(0.5);
    let mut small = vec![0.0; len];
    let ws = &mut small[..];
    let what = format!("workspace of {len}");
    let mut d = D;
    assert_eq!(
        vat::power_iteration(&net, &X, &mut d, &cfg, ws),
        Err(Error::WorkspaceTooSmall),
        "power_iteration, {what}"
    );
    assert_eq!(d, D);
    let mut r = [f32::NAN; 3];
    assert_eq!(
        vat::virtual_adversarial(&net, &X, &D, &cfg, &mut r, ws),
        Err(Error::WorkspaceTooSmall),
        "virtual_adversarial, {what}"
    );
    assert!(r.iter().all(|v| v.is_nan()));
    assert_eq!(
        vat::lds(&net, &X, &D, &cfg, ws),
        Err(Error::WorkspaceTooSmall),
        "lds, {what}"
    );
    let mut out = [f32::NAN; 3];
    assert_eq!(
        vat::finite_difference_gradient(&net, &X, &D, 1e-3, &mut out, ws),
        Err(Error::WorkspaceTooSmall),
        "finite_difference_gradient, {what}"
    );
    assert_eq!(
        vat::hessian_vector_product(&net, &X, &D, &mut out, ws),
        Err(Error::WorkspaceTooSmall),
        "hessian_vector_product, {what}"
    );
    assert!(out.iter().all(|v| v.is_nan()));
}

/// The batch VAT functions refuse a workspace that does not hold one sample, and leave the
/// gradient, the network and the optimiser alone.
fn check_batch_workspace_too_small(len: usize) {
    let net = net();
    let cfg = VatConfig::new(0.5);
    let mut small = vec![0.0; len];
    let ws = &mut small[..];
    let what = format!("workspace of {len}");
    let xs = [X, [0.4, 0.4, -0.1]];
    let flat = xs.as_flattened();
    let mut grad = zero();
    assert_eq!(
        vat::vat_grad(&net, flat, &mut Rng::new(0), &cfg, 1.0, &mut grad, ws),
        Err(Error::WorkspaceTooSmall),
        "vat_grad, {what}"
    );
    assert_eq!(
        vat::vat_grad_with_directions(&net, flat, flat, &cfg, 1.0, &mut grad, ws),
        Err(Error::WorkspaceTooSmall),
        "vat_grad_with_directions, {what}"
    );
    assert_eq!(
        vat::lds_at(&net, flat, flat, 1.0, &mut grad, ws),
        Err(Error::WorkspaceTooSmall),
        "lds_at, {what}"
    );
    let semi_cfg = SemiConfig::vat_entmin(cfg);
    assert_eq!(
        semi::semi_supervised_grad(
            &net,
            flat,
            &[0, 1],
            flat,
            &mut Rng::new(0),
            &semi_cfg,
            &mut grad,
            ws
        ),
        Err(Error::WorkspaceTooSmall),
        "semi_supervised_grad, {what}"
    );
    assert_eq!(
        semi::semi_supervised_grad(
            &net,
            &[],
            &[],
            flat,
            &mut Rng::new(0),
            &semi_cfg,
            &mut grad,
            ws
        ),
        Err(Error::WorkspaceTooSmall),
        "semi_supervised_grad (unlabelled only), {what}"
    );
    assert_eq!(grad, zero(), "gradient modified before an error, {what}");
    assert_eq!(
        vatic::metrics::lds_stats(&net, flat, &mut Rng::new(0), &cfg, ws),
        Err(Error::WorkspaceTooSmall),
        "lds_stats, {what}"
    );
    // A failed step leaves the network and the optimiser alone.
    let mut trained = net.clone();
    let mut opt = Adam::new(AdamConfig::DEFAULT).unwrap();
    assert_eq!(
        semi_supervised_step(
            &mut trained,
            &mut opt,
            &mut grad,
            ws,
            flat,
            &[0, 1],
            flat,
            &mut Rng::new(0),
            &semi_cfg
        ),
        Err(Error::WorkspaceTooSmall)
    );
    assert_eq!(trained, net);
    assert_eq!(opt.steps(), 0);
}

#[test]
fn workspaces_far_too_small_are_refused() {
    let one = net().shape().workspace_len(1);
    assert_eq!(one, Net::WORKSPACE_ONE);
    for len in [0, 1, one / 2] {
        check_per_sample_workspace_too_small(len);
        check_batch_workspace_too_small(len);
    }
    check_batch_workspace_too_small(one - 1);
}

/// Fails on the current core: `power_iteration`, `virtual_adversarial`, `lds`,
/// `finite_difference_gradient` and `hessian_vector_product` only check that their buffers fit
/// (`per_sample − IN` values), not the documented `Shape::workspace_len(1)`, so a workspace of
/// `WORKSPACE_ONE − 1` (here 36 of 37) is accepted (`Ok`), while every other entry point
/// refuses it. Harmless for memory (the carve is still checked), but it breaks the documented
/// contract: un-ignore once `vat::sample_and_direction` also checks `workspace::block`.
#[test]
fn per_sample_workspace_one_value_short_of_a_sample_is_refused() {
    check_per_sample_workspace_too_small(Net::WORKSPACE_ONE - 1);
}

#[test]
fn one_sample_workspace_is_enough() {
    let net = net();
    let mut ws = vec![0.0; Net::WORKSPACE_ONE];
    let cfg = VatConfig::new(0.5);
    let mut r = [0.0; 3];
    let lds = vat::virtual_adversarial(&net, &X, &D, &cfg, &mut r, &mut ws).unwrap();
    assert_eq!(
        lds.to_bits(),
        virtual_adversarial(&net, &X, &D, &cfg).unwrap().to_bits()
    );
    let xs = [X, [0.4, 0.4, -0.1], [1.0, 0.0, 0.0]];
    let flat = xs.as_flattened();
    let (mut g1, mut g8) = (zero(), zero());
    let a = vat::vat_grad(&net, flat, &mut Rng::new(0), &cfg, 1.0, &mut g1, &mut ws).unwrap();
    let b = vat::vat_grad(
        &net,
        flat,
        &mut Rng::new(0),
        &cfg,
        1.0,
        &mut g8,
        &mut self::ws(),
    )
    .unwrap();
    assert_eq!(a.to_bits(), b.to_bits());
    assert_eq!(g1, g8, "VAT gradient depends on the block size");
}
