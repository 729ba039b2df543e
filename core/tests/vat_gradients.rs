//! Finite-difference checks of the VAT (LDS) and semi-supervised parameter gradients, and of the
//! exact Hessian-vector product, against an independent `f64` implementation of the networks
//! (`vat_common`), which reads only the networks' public weights.
//!
//! Tolerances. The reference loss is evaluated in `f64` and differentiated by central
//! differences with `h = 1e-6`: truncation error `O(h² L''') ≈ 1e-12`, cancellation error
//! `≈ 1e-16 · |L| / h ≈ 1e-10`; ReLU kinks are excluded by asserting that every hidden
//! pre-activation is at least `1e-4` away from 0 at every point the loss is evaluated at (a
//! parameter step of `1e-6` moves a pre-activation by at most `~1e-5` here). The core computes
//! in `f32`: each gradient entry is a sum of a few dozen products, each with relative error
//! `~6e-8`, so its error is a few `1e-7` of the gradient's scale (measured: at most `3.6e-7`
//! over these cases). We require `max_i |g_core − g_fd| ≤ 1e-5 · max_i |g_fd|`: ~30× above
//! the measured `f32` noise, and far below
//! what any formula error (a missing factor `α`, `1/B`, a wrong sign, a gradient flowing
//! through the clean side or through `r_vadv`) produces, which is `O(1)` of the scale.

mod vat_common;

use vat_common::*;
use vatic::semi::{semi_supervised_grad_with_directions, SemiConfig};
use vatic::vat::{self, VatConfig};
use vatic::{Activation, Mlp, Mlp2, Network, Rng};

const REL_TOL: f64 = 1e-5;
const FD_STEP: f64 = 1e-6;
const KINK_MARGIN: f64 = 1e-4;

fn assert_grad_close(label: &str, core: &[f64], fd: &[f64]) {
    let (diff, scale) = max_abs_diff(core, fd);
    println!("{label}: rel gradient error {:.2e}", diff / scale);
    assert!(
        scale > 1e-6,
        "{label}: degenerate test, gradient scale {scale}"
    );
    assert!(
        diff <= REL_TOL * scale,
        "{label}: max |core − fd| = {diff:e}, scale {scale:e} (rel {:e})",
        diff / scale
    );
}

fn assert_away_from_kinks(label: &str, r: &RefNet, points: &[Vec<f64>]) {
    if r.tanh {
        return;
    }
    for (i, p) in points.iter().enumerate() {
        let m = r.min_abs_preact(p);
        assert!(
            m > KINK_MARGIN,
            "{label}: point {i} is {m:e} from a ReLU kink; pick another seed"
        );
    }
}

fn data<const IN: usize>(seed: u64, n: usize) -> (Vec<[f32; IN]>, Vec<[f32; IN]>) {
    let mut rng = Rng::new(seed);
    let xs = normal_inputs::<IN>(&mut rng, n, 1.0);
    let d0s = normal_inputs::<IN>(&mut rng, n, 1.0);
    (xs, d0s)
}

#[test]
fn reference_jacobian_matches_its_own_finite_differences() {
    // Validates the analytic f64 Jacobian the other checks rely on.
    let nets: Vec<RefNet> = vec![
        Mlp::<5, 7, 3>::new(Activation::Relu, &mut Rng::new(1)).to_ref(),
        Mlp::<5, 7, 3>::new(Activation::Tanh, &mut Rng::new(2)).to_ref(),
        Mlp2::<5, 6, 4, 3>::new(Activation::Tanh, &mut Rng::new(3)).to_ref(),
        Mlp2::<5, 6, 4, 3>::new(Activation::Relu, &mut Rng::new(4)).to_ref(),
    ];
    let (xs, _) = data::<5>(10, 4);
    for (ni, r) in nets.iter().enumerate() {
        for x in &xs {
            let x = to64(x);
            assert_away_from_kinks("jacobian", r, std::slice::from_ref(&x));
            let j = r.jacobian(&x);
            for i in 0..5 {
                let (mut a, mut b) = (x.clone(), x.clone());
                a[i] += 1e-6;
                b[i] -= 1e-6;
                let (za, zb) = (r.logits(&a), r.logits(&b));
                for k in 0..3 {
                    let fd = (za[k] - zb[k]) / 2e-6;
                    assert!((fd - j[k][i]).abs() < 1e-8, "net {ni} J[{k}][{i}]");
                }
            }
        }
    }
}

/// `∂/∂θ [weight · mean_i KL(p(x_i; θ₀) ‖ p(x_i + r_i; θ))]` with `r_i` and the clean `p` fixed.
fn check_vat<N, const IN: usize, const OUT: usize>(label: &str, net: &N, cfg: &VatConfig, seed: u64)
where
    N: Network<IN, OUT> + ToRef,
{
    let (xs, d0s) = data::<IN>(seed, 5);
    let weight = 0.7f32;
    let mut grad = N::ZERO;
    let lds = vat::vat_grad_with_directions(net, &xs, &d0s, cfg, weight, &mut grad).unwrap();

    let r0 = net.to_ref();
    let mut clean = Vec::new();
    let mut adv = Vec::new();
    for (x, d0) in xs.iter().zip(&d0s) {
        let s = vat::virtual_adversarial(net, x, d0, cfg).unwrap();
        clean.push(r0.logits(&to64(x)));
        adv.push(add32(x, &s.r_vadv));
    }
    let mut pts: Vec<Vec<f64>> = xs.iter().map(|x| to64(x)).collect();
    pts.extend(adv.iter().cloned());
    assert_away_from_kinks(label, &r0, &pts);

    let n = xs.len() as f64;
    let mean_lds = |r: &RefNet| -> f64 {
        clean
            .iter()
            .zip(&adv)
            .map(|(z0, xa)| kl(z0, &r.logits(xa)))
            .sum::<f64>()
            / n
    };
    let want = mean_lds(&r0);
    assert!(want > 1e-3, "{label}: LDS {want} too small to test");
    assert!(
        (lds as f64 - want).abs() <= 1e-6 + 1e-4 * want,
        "{label}: LDS {lds} vs f64 {want}"
    );
    let fd = fd_param_grad(&r0, FD_STEP, |r| weight as f64 * mean_lds(r));
    assert_grad_close(label, &grad.to_ref().params(), &fd);
}

fn vat_cfgs() -> Vec<VatConfig> {
    vec![
        VatConfig::new(1.5),
        VatConfig {
            iterations: 2,
            ..VatConfig::new(2.0)
        },
        VatConfig {
            xi: 1e-2,
            ..VatConfig::paper(1.5)
        },
    ]
}

#[test]
fn vat_parameter_gradient_matches_finite_differences() {
    for (ci, cfg) in vat_cfgs().iter().enumerate() {
        let relu: Mlp<6, 10, 3> = Mlp::new(Activation::Relu, &mut Rng::new(21));
        check_vat(&format!("relu cfg{ci}"), &relu, cfg, 100);
        let tanh: Mlp<6, 10, 3> = Mlp::new(Activation::Tanh, &mut Rng::new(22));
        check_vat(&format!("tanh cfg{ci}"), &tanh, cfg, 101);
        let deep: Mlp2<6, 8, 7, 4> = Mlp2::new(Activation::Relu, &mut Rng::new(23));
        check_vat(&format!("mlp2 relu cfg{ci}"), &deep, cfg, 102);
        let deep_t: Mlp2<6, 8, 7, 4> = Mlp2::new(Activation::Tanh, &mut Rng::new(24));
        check_vat(&format!("mlp2 tanh cfg{ci}"), &deep_t, cfg, 103);
    }
}

fn check_semi<N, const IN: usize, const OUT: usize>(
    label: &str,
    net: &N,
    vat_weight: f32,
    entropy_weight: f32,
    seed: u64,
) where
    N: Network<IN, OUT> + ToRef,
{
    let mut rng = Rng::new(seed);
    let xl = normal_inputs::<IN>(&mut rng, 4, 1.0);
    let yl: Vec<usize> = (0..4).map(|i| (i * 7 + seed as usize) % OUT).collect();
    let xu = normal_inputs::<IN>(&mut rng, 5, 1.0);
    let d0s = normal_inputs::<IN>(&mut rng, 5, 1.0);
    let cfg = SemiConfig {
        vat: VatConfig::new(1.5),
        vat_weight,
        entropy_weight,
    };
    let mut grad = N::ZERO;
    let got =
        semi_supervised_grad_with_directions(net, &xl, &yl, &xu, &d0s, &cfg, &mut grad).unwrap();

    let r0 = net.to_ref();
    let mut clean = Vec::new();
    let mut adv = Vec::new();
    for (x, d0) in xu.iter().zip(&d0s) {
        let s = vat::virtual_adversarial(net, x, d0, &cfg.vat).unwrap();
        clean.push(r0.logits(&to64(x)));
        adv.push(add32(x, &s.r_vadv));
    }
    let xl64: Vec<Vec<f64>> = xl.iter().map(|x| to64(x)).collect();
    let xu64: Vec<Vec<f64>> = xu.iter().map(|x| to64(x)).collect();
    let mut pts = xl64.clone();
    pts.extend(xu64.iter().cloned());
    pts.extend(adv.iter().cloned());
    assert_away_from_kinks(label, &r0, &pts);

    let (a, b) = (vat_weight as f64, entropy_weight as f64);
    let terms = |r: &RefNet| -> (f64, f64, f64) {
        let ce = xl64
            .iter()
            .zip(&yl)
            .map(|(x, &y)| cross_entropy(&r.logits(x), y))
            .sum::<f64>()
            / xl64.len() as f64;
        let lds = clean
            .iter()
            .zip(&adv)
            .map(|(z0, xa)| kl(z0, &r.logits(xa)))
            .sum::<f64>()
            / adv.len() as f64;
        let h = xu64.iter().map(|x| entropy(&r.logits(x))).sum::<f64>() / xu64.len() as f64;
        (ce, lds, h)
    };
    let (ce, lds, h) = terms(&r0);
    let close = |got: f32, want: f64| (got as f64 - want).abs() <= 1e-5 * (1.0 + want.abs());
    assert!(close(got.ce, ce), "{label}: ce {} vs {ce}", got.ce);
    assert!(close(got.lds, lds), "{label}: lds {} vs {lds}", got.lds);
    assert!(
        close(got.entropy, h),
        "{label}: entropy {} vs {h}",
        got.entropy
    );
    let total = ce + a * lds + b * h;
    assert!(
        close(got.total, total),
        "{label}: total {} vs {total}",
        got.total
    );

    let fd = fd_param_grad(&r0, FD_STEP, |r| {
        let (ce, lds, h) = terms(r);
        ce + a * lds + b * h
    });
    assert_grad_close(label, &grad.to_ref().params(), &fd);
}

#[test]
fn semi_supervised_gradient_matches_finite_differences() {
    for (a, b) in [(1.0, 0.0), (1.0, 1.0), (0.6, 0.3)] {
        let relu: Mlp<6, 10, 3> = Mlp::new(Activation::Relu, &mut Rng::new(31));
        check_semi(&format!("relu a={a} b={b}"), &relu, a, b, 200);
        let tanh: Mlp<6, 10, 3> = Mlp::new(Activation::Tanh, &mut Rng::new(32));
        check_semi(&format!("tanh a={a} b={b}"), &tanh, a, b, 201);
        let deep: Mlp2<6, 8, 7, 4> = Mlp2::new(Activation::Tanh, &mut Rng::new(33));
        check_semi(&format!("mlp2 tanh a={a} b={b}"), &deep, a, b, 202);
        let deep_r: Mlp2<6, 8, 7, 4> = Mlp2::new(Activation::Relu, &mut Rng::new(34));
        check_semi(&format!("mlp2 relu a={a} b={b}"), &deep_r, a, b, 203);
    }
}

/// `hessian_vector_product` against `H d` with the explicit `f64` `H = Jᵀ(diag p − ppᵀ)J`.
fn check_hvp<N, const IN: usize, const OUT: usize>(label: &str, net: &N, seed: u64)
where
    N: Network<IN, OUT> + ToRef,
{
    let r = net.to_ref();
    let (xs, ds) = data::<IN>(seed, 4);
    for (x, d) in xs.iter().zip(&ds) {
        let x64 = to64(x);
        assert_away_from_kinks(label, &r, std::slice::from_ref(&x64));
        let h = vat_hessian(&r, &x64);
        let hnorm = h.iter().flatten().map(|v| v * v).sum::<f64>().sqrt();
        let p64 = softmax(&r.logits(&x64));
        let p: [f32; OUT] = core::array::from_fn(|k| p64[k] as f32);
        let mut trace = N::EMPTY_TRACE;
        net.forward(x, &mut trace);
        // Several directions, unnormalised on purpose (the product is linear in d).
        let mut e0 = [0.0f32; IN];
        e0[0] = 1.0;
        let scaled: [f32; IN] = core::array::from_fn(|i| 3.0 * d[i]);
        for dir in [*d, scaled, e0] {
            let got = to64(&vat::hessian_vector_product(net, &trace, &p, &dir));
            let want = matvec(&h, &to64(&dir));
            let err = norm(
                &got.iter()
                    .zip(&want)
                    .map(|(a, b)| a - b)
                    .collect::<Vec<_>>(),
            );
            // f32 forward + backward: error ~1e-6 of ‖H‖‖d‖; allow 2e-5.
            assert!(
                err <= 2e-5 * hnorm * norm(&to64(&dir)),
                "{label}: ‖Hd − H₆₄d‖ = {err:e}, ‖H‖ = {hnorm:e}"
            );
            assert!(
                norm(&want) > 1e-3 * hnorm * norm(&to64(&dir)),
                "{label}: degenerate d"
            );
        }
    }
}

#[test]
fn hessian_vector_product_matches_explicit_hessian() {
    check_hvp(
        "relu",
        &Mlp::<6, 12, 4>::new(Activation::Relu, &mut Rng::new(41)),
        300,
    );
    check_hvp(
        "tanh",
        &Mlp::<6, 12, 4>::new(Activation::Tanh, &mut Rng::new(42)),
        301,
    );
    check_hvp(
        "mlp2 relu",
        &Mlp2::<6, 9, 8, 4>::new(Activation::Relu, &mut Rng::new(43)),
        302,
    );
    check_hvp(
        "mlp2 tanh",
        &Mlp2::<6, 9, 8, 4>::new(Activation::Tanh, &mut Rng::new(44)),
        303,
    );
}

#[test]
fn finite_difference_gradient_over_xi_tends_to_hessian_vector_product() {
    // g(ξ)/ξ → H d as ξ → 0 (f64 reference H), with an error O(ξ) until f32 noise takes over.
    let net: Mlp<6, 12, 4> = Mlp::new(Activation::Tanh, &mut Rng::new(45));
    let r = net.to_ref();
    let (xs, ds) = data::<6>(304, 3);
    for (x, d) in xs.iter().zip(&ds) {
        let x64 = to64(x);
        let h = vat_hessian(&r, &x64);
        let mut du = *d;
        vatic::attack::normalize(&mut du);
        let want = matvec(&h, &to64(&du));
        let z = net.logits(x);
        let rel = |xi: f32| {
            let g = vat::finite_difference_gradient(&net, x, &z, &du, xi);
            let got: Vec<f64> = g.iter().map(|&v| v as f64 / xi as f64).collect();
            let e: Vec<f64> = got.iter().zip(&want).map(|(a, b)| a - b).collect();
            norm(&e) / norm(&want)
        };
        let (e2, e3) = (rel(1e-2), rel(1e-3));
        assert!(
            e2 < 0.1 && e3 < 0.02,
            "rel errors ξ=1e-2: {e2}, ξ=1e-3: {e3}"
        );
    }
}
