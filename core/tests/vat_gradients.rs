//! Finite-difference checks of the VAT (LDS) and semi-supervised parameter gradients, and of the
//! exact Hessian-vector product, against the independent `f64` reference network (`common`),
//! which reads only the networks' weights; from no hidden layer to five, compile-time nets and
//! `Sequential`s.
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

mod common;

use common::*;
use vatic::semi::{semi_supervised_grad_with_directions, SemiConfig};
use vatic::vat::{self, VatConfig};
use vatic::{Activation, Dense, Hidden, Mlp, Mlp2, Mlp3, Mlp4, Net, Network, Rng};

const REL_TOL: f64 = 1e-5;
const FD_STEP: f64 = 1e-6;
const KINK_MARGIN: f64 = 1e-4;

fn assert_grad_close(label: &str, core: &[f64], fd: &[f64]) -> f64 {
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
    diff / scale
}

/// `n` samples and `n` start directions of width `inputs`, flat.
fn data(seed: u64, inputs: usize, n: usize) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let xs = normal_inputs(&mut rng, inputs, n, 1.0);
    let d0s = normal_inputs(&mut rng, inputs, n, 1.0);
    (xs, d0s)
}

fn zero_grad<N: Network + Clone>(net: &N) -> N {
    let mut g = net.clone();
    g.zero();
    g
}

#[test]
fn reference_jacobian_matches_its_own_finite_differences() {
    // Validates the analytic f64 Jacobian the other checks rely on, at every depth.
    let nets: Vec<RefNet> = vec![
        RefNet::of(&Mlp::<5, 7, 3>::new(Activation::Relu, &mut Rng::new(1))),
        RefNet::of(&Mlp::<5, 7, 3>::new(Activation::Tanh, &mut Rng::new(2))),
        RefNet::of(&Mlp2::<5, 6, 4, 3>::new(Activation::Tanh, &mut Rng::new(3))),
        RefNet::of(&Mlp2::<5, 6, 4, 3>::new(Activation::Relu, &mut Rng::new(4))),
        RefNet::of(&Net::<Dense<5, 3>>::new(Activation::Relu, &mut Rng::new(5))),
        RefNet::of(&random_sequential(
            &[5, 13, 1, 17, 3, 3],
            Activation::Tanh,
            &mut Rng::new(6),
        )),
        RefNet::of(&random_sequential(
            &[5, 13, 3, 17, 3],
            Activation::Relu,
            &mut Rng::new(7),
        )),
    ];
    let (xs, _) = data(10, 5, 4);
    for (ni, r) in nets.iter().enumerate() {
        for x in rows64(&xs, 5) {
            assert_away_from_kinks("jacobian", r, std::slice::from_ref(&x), KINK_MARGIN);
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
fn check_vat<N: Network + Clone>(label: &str, net: &N, cfg: &VatConfig, seed: u64) {
    let inputs = net.width(0);
    let (xs, d0s) = data(seed, inputs, 5);
    let weight = 0.7f32;
    let mut grad = zero_grad(net);
    let mut ws = ws(net);
    let lds =
        vat::vat_grad_with_directions(net, &xs, &d0s, cfg, weight, &mut grad, &mut ws).unwrap();

    let r0 = RefNet::of(net);
    let mut clean = Vec::new();
    let mut adv = Vec::new();
    let mut r_vadv = vec![0.0; inputs];
    for (x, d0) in xs.chunks(inputs).zip(d0s.chunks(inputs)) {
        vat::virtual_adversarial(net, x, d0, cfg, &mut r_vadv, &mut ws).unwrap();
        clean.push(r0.logits(&to64(x)));
        adv.push(add32(x, &r_vadv));
    }
    let mut pts = rows64(&xs, inputs);
    pts.extend(adv.iter().cloned());
    assert_away_from_kinks(label, &r0, &pts, KINK_MARGIN);

    let n = clean.len() as f64;
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
    assert_grad_close(label, &to64(&flat(&grad)), &fd);
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
        // Deeper, and the run-time network of the same code path.
        let mlp4: Mlp4<6, 13, 3, 17, 5, 4> = Mlp4::new(Activation::Tanh, &mut Rng::new(25));
        check_vat(&format!("mlp4 tanh cfg{ci}"), &mlp4, cfg, 104);
        let seq = random_sequential(&[6, 17, 13, 3], Activation::Relu, &mut Rng::new(26));
        check_vat(&format!("seq relu cfg{ci}"), &seq, cfg, 105);
    }
}

fn check_semi<N: Network + Clone>(
    label: &str,
    net: &N,
    vat_weight: f32,
    entropy_weight: f32,
    seed: u64,
) {
    let (inputs, outputs) = (net.width(0), net.width(net.depth()));
    let mut rng = Rng::new(seed);
    let xl = normal_inputs(&mut rng, inputs, 4, 1.0);
    let yl: Vec<usize> = (0..4).map(|i| (i * 7 + seed as usize) % outputs).collect();
    let xu = normal_inputs(&mut rng, inputs, 5, 1.0);
    let d0s = normal_inputs(&mut rng, inputs, 5, 1.0);
    let cfg = SemiConfig {
        vat: VatConfig::new(1.5),
        vat_weight,
        entropy_weight,
    };
    let mut grad = zero_grad(net);
    let mut ws = ws(net);
    let got =
        semi_supervised_grad_with_directions(net, &xl, &yl, &xu, &d0s, &cfg, &mut grad, &mut ws)
            .unwrap();

    let r0 = RefNet::of(net);
    let mut clean = Vec::new();
    let mut adv = Vec::new();
    let mut r_vadv = vec![0.0; inputs];
    for (x, d0) in xu.chunks(inputs).zip(d0s.chunks(inputs)) {
        vat::virtual_adversarial(net, x, d0, &cfg.vat, &mut r_vadv, &mut ws).unwrap();
        clean.push(r0.logits(&to64(x)));
        adv.push(add32(x, &r_vadv));
    }
    let xl64 = rows64(&xl, inputs);
    let xu64 = rows64(&xu, inputs);
    let mut pts = xl64.clone();
    pts.extend(xu64.iter().cloned());
    pts.extend(adv.iter().cloned());
    assert_away_from_kinks(label, &r0, &pts, KINK_MARGIN);

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
    assert_grad_close(label, &to64(&flat(&grad)), &fd);
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
        let mlp3: Mlp3<6, 3, 13, 9, 4> = Mlp3::new(Activation::Tanh, &mut Rng::new(35));
        check_semi(&format!("mlp3 tanh a={a} b={b}"), &mlp3, a, b, 204);
        let seq = random_sequential(&[6, 13, 17, 9, 3], Activation::Relu, &mut Rng::new(36));
        check_semi(&format!("seq relu a={a} b={b}"), &seq, a, b, 205);
    }
}

/// `hessian_vector_product` against `H d` with the explicit `f64` `H = Jᵀ(diag p − ppᵀ)J`, and
/// against a central difference of the `f64` input gradient of `r ↦ KL(p ‖ p(x + r))` at
/// `r = 0` along `d` (which checks the reference Hessian itself). Returns the largest error
/// relative to `‖H‖ ‖d‖`.
fn check_hvp<N: Network>(label: &str, net: &N, seed: u64) -> f64 {
    let r = RefNet::of(net);
    let inputs = net.width(0);
    let (xs, ds) = data(seed, inputs, 4);
    let mut ws = ws_one(net);
    let mut worst = 0.0f64;
    for (x, d) in xs.chunks(inputs).zip(ds.chunks(inputs)) {
        let x64 = to64(x);
        assert_away_from_kinks(label, &r, std::slice::from_ref(&x64), KINK_MARGIN);
        let h = vat_hessian(&r, &x64);
        let hnorm = h.iter().flatten().map(|v| v * v).sum::<f64>().sqrt();
        assert!(hnorm > 1e-6, "{label}: degenerate H, ‖H‖ = {hnorm:e}");
        let z0 = r.logits(&x64);
        // ∇_r KL(p ‖ p(x + r)) = Jᵀ (softmax(f(x + r)) − p), differentiated along d.
        let kl_grad = |xr: &[f64]| -> Vec<f64> {
            let mut s = softmax(&r.logits(xr));
            for (q, p) in s.iter_mut().zip(softmax(&z0)) {
                *q -= p;
            }
            r.backward(xr, &s).1
        };
        // Several directions, unnormalised on purpose (the product is linear in d).
        let mut e0 = vec![0.0f32; inputs];
        e0[0] = 1.0;
        let scaled: Vec<f32> = d.iter().map(|v| 3.0 * v).collect();
        for dir in [d.to_vec(), scaled, e0] {
            let mut hd = vec![f32::NAN; inputs];
            vat::hessian_vector_product(net, x, &dir, &mut hd, &mut ws).unwrap();
            let got = to64(&hd);
            let dir64 = to64(&dir);
            let want = matvec(&h, &dir64);
            let bound = hnorm * norm(&dir64);
            let err = norm(
                &got.iter()
                    .zip(&want)
                    .map(|(a, b)| a - b)
                    .collect::<Vec<_>>(),
            );
            // f32 forward + backward: error ~1e-6 of ‖H‖‖d‖; allow 2e-5.
            assert!(
                err <= 2e-5 * bound,
                "{label}: ‖Hd − H₆₄d‖ = {err:e}, ‖H‖ = {hnorm:e}"
            );
            assert!(norm(&want) > 1e-3 * bound, "{label}: degenerate d");
            worst = worst.max(err / bound);
            let fd = fd_directional(&x64, &dir64, 1e-5, kl_grad);
            let e = norm(&fd.iter().zip(&want).map(|(a, b)| a - b).collect::<Vec<_>>());
            assert!(
                e <= 1e-6 * bound,
                "{label}: f64 H d vs FD of the gradient: {e:e}"
            );
        }
    }
    println!("{label}: worst ‖Hd − H₆₄d‖ / (‖H‖‖d‖) = {worst:.2e}");
    worst
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

/// [`check_hvp`] on the compile-time network (with `N(0, 1)` biases) and on the `Sequential`
/// with the same parameters, for both activations.
fn check_hvp_both<N: Network + Clone>(label: &str, mut net: N, seed: u64) {
    for act in [Activation::Relu, Activation::Tanh] {
        let mut rng = Rng::new(seed);
        net.set_activation(act);
        net.init(&mut rng);
        random_biases(&mut net, &mut rng);
        let label = format!("{label} {act:?}");
        let a = check_hvp(&label, &net, seed + 1);
        let b = check_hvp(&format!("{label} seq"), &sequential(&net), seed + 1);
        assert_eq!(a, b, "{label}: Net and Sequential differ");
    }
}

#[test]
fn hessian_vector_product_at_every_depth_and_odd_widths() {
    // Seeds are picked so that no ReLU layer is entirely dead at a sample (`check_hvp` asserts
    // H is not degenerate). No hidden layer: H = Wᵀ (diag p − ppᵀ) W exactly.
    check_hvp_both("7-3", Net::<Dense<7, 3>>::ZERO, 400);
    check_hvp_both("5-13-4", Mlp::<5, 13, 4>::ZERO, 402);
    check_hvp_both("4-17-3-3", Mlp2::<4, 17, 3, 3>::ZERO, 404);
    check_hvp_both("6-3-13-17-4", Mlp3::<6, 3, 13, 17, 4>::ZERO, 408);
    check_hvp_both("5-17-13-3-9-3", Mlp4::<5, 17, 13, 3, 9, 3>::ZERO, 406);
    type Deep =
        Net<Hidden<4, 13, Hidden<13, 17, Hidden<17, 3, Hidden<3, 9, Hidden<9, 5, Dense<5, 4>>>>>>>;
    check_hvp_both("4-13-17-3-9-5-4", Deep::ZERO, 402);
}

#[test]
fn hessian_vector_product_through_width_one_layers() {
    // A width-1 hidden layer makes J (and H) rank one. The seeds keep the single ReLU unit
    // alive at every sample (`check_hvp` asserts that H is not degenerate).
    check_hvp_both("3-1-4", Mlp::<3, 1, 4>::ZERO, 414);
    check_hvp_both("5-13-1-3", Mlp2::<5, 13, 1, 3>::ZERO, 412);
    check_hvp_both("4-1-17-3-3", Mlp3::<4, 1, 17, 3, 3>::ZERO, 428);
}

#[test]
fn finite_difference_gradient_over_xi_tends_to_hessian_vector_product() {
    // g(ξ)/ξ → H d as ξ → 0 (f64 reference H), with an error O(ξ) until f32 noise takes over.
    let net: Mlp<6, 12, 4> = Mlp::new(Activation::Tanh, &mut Rng::new(45));
    let r = RefNet::of(&net);
    let (xs, ds) = data(304, 6, 3);
    let mut ws = ws_one(&net);
    for (x, d) in xs.chunks(6).zip(ds.chunks(6)) {
        let x64 = to64(x);
        let h = vat_hessian(&r, &x64);
        let mut du = d.to_vec();
        vatic::vector::normalize(&mut du);
        let want = matvec(&h, &to64(&du));
        let mut rel = |xi: f32| {
            let mut g = [0.0f32; 6];
            vat::finite_difference_gradient(&net, x, &du, xi, &mut g, &mut ws).unwrap();
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
