//! Finite-difference checks of the adversarial-training parameter gradient
//! (`α·CE(x) + (1−α)·CE(x_adv)`, `x_adv` held fixed) and of the FGSM directions, against the
//! independent `f64` reference network of `common`.
//!
//! Tolerances as in `vat_gradients.rs`: central differences in `f64` with `h = 1e-6` (error
//! `≲ 1e-10`), ReLU kinks kept `≥ 1e-4` away from every evaluated point, and
//! `max |g_core − g_fd| ≤ 1e-5 · max |g_fd|` for the `f32` core (measured `f32` noise is a few
//! `1e-7` of the scale). A mistake in the weighting (`α` on the wrong term, a missing `1/B` or
//! `weight`) or a gradient through `x_adv` changes the gradient by `O(1)` of its scale.

mod common;

use common::*;
use vatic::adversarial::{adversarial_grad, AdversarialConfig};
use vatic::attack::{Attack, Clip, Norm};
use vatic::{Activation, Mlp, Mlp2, Mlp3, Network, Rng};

/// `∇_x CE` in f64: `Jᵀ (p − onehot(y))`.
fn input_grad64(r: &RefNet, x: &[f64], y: usize) -> Vec<f64> {
    let j = r.jacobian(x);
    let mut s = softmax(&r.logits(x));
    s[y] -= 1.0;
    (0..x.len())
        .map(|i| (0..s.len()).map(|k| j[k][i] * s[k]).sum())
        .collect()
}

fn check_at<N: Network + Clone>(label: &str, net: &N, cfg: &AdversarialConfig, seed: u64) {
    let s = net.shape();
    let (inputs, outputs) = (s.inputs, s.outputs);
    let mut rng = Rng::new(seed);
    let xs = normal_inputs(&mut rng, inputs, 5, 0.5);
    let ys: Vec<usize> = (0..5).map(|i| (i * 5 + 1) % outputs).collect();
    let weight = 0.8f32;
    let mut grad = net.clone();
    grad.zero();
    let mut ws = ws(net);
    let j = adversarial_grad(net, &xs, &ys, cfg, weight, &mut grad, &mut ws).unwrap();

    let r0 = RefNet::of(net);
    let x64 = rows64(&xs, inputs);
    // x_adv computed once by the public FGSM (the same attack adversarial training uses) …
    let adv: Vec<Vec<f32>> = xs
        .chunks(inputs)
        .zip(&ys)
        .map(|(x, &y)| {
            let mut a = vec![f32::NAN; inputs];
            let fgsm = Attack {
                clip: cfg.clip,
                ..Attack::fgsm(cfg.norm)
            };
            fgsm.perturb(net, x, y, cfg.eps, &mut a, &mut ws).unwrap();
            a
        })
        .collect();
    // … and checked against the f64 input gradient, so the fixed point is the right one.
    for ((x, a), &y) in x64.iter().zip(&adv).zip(&ys) {
        let g = input_grad64(&r0, x, y);
        let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let gn = norm(&g);
        for i in 0..inputs {
            let mut want = x[i]
                + cfg.eps as f64
                    * match cfg.norm {
                        Norm::LInf => g[i].signum(),
                        Norm::L2 => g[i] / gn,
                    };
            if let Some(c) = cfg.clip {
                want = want.clamp(c.min as f64, c.max as f64);
            }
            if cfg.norm == Norm::LInf && g[i].abs() < 1e-4 * gmax {
                continue; // sign of a near-zero component is rounding-dependent
            }
            assert!(
                (a[i] as f64 - want).abs() < 1e-5,
                "{label}: x_adv[{i}] = {} vs f64 {want}",
                a[i]
            );
        }
    }
    let adv64: Vec<Vec<f64>> = adv.iter().map(|a| to64(a)).collect();
    let mut pts = x64.clone();
    pts.extend(adv64.iter().cloned());
    assert_away_from_kinks(label, &r0, &pts, 1e-4);

    let alpha = cfg.alpha as f64;
    let objective = |r: &RefNet| -> f64 {
        x64.iter()
            .zip(&adv64)
            .zip(&ys)
            .map(|((x, xa), &y)| {
                alpha * cross_entropy(&r.logits(x), y)
                    + (1.0 - alpha) * cross_entropy(&r.logits(xa), y)
            })
            .sum::<f64>()
            / x64.len() as f64
    };
    let want = objective(&r0);
    assert!(
        (j as f64 - want).abs() <= 1e-5 * (1.0 + want),
        "{label}: loss {j} vs f64 {want}"
    );
    let fd = fd_param_grad(&r0, 1e-6, |r| weight as f64 * objective(r));
    let core = to64(&flat(&grad));
    let (diff, scale) = max_abs_diff(&core, &fd);
    println!("{label}: rel gradient error {:.2e}", diff / scale);
    assert!(scale > 1e-4, "{label}: degenerate gradient");
    assert!(
        diff <= 1e-5 * scale,
        "{label}: max |core − fd| = {diff:e}, scale {scale:e}"
    );
}

#[test]
fn adversarial_training_gradient_matches_finite_differences() {
    let cfgs = [
        AdversarialConfig::new(0.1),
        AdversarialConfig {
            alpha: 0.2,
            norm: Norm::L2,
            ..AdversarialConfig::new(0.4)
        },
        AdversarialConfig {
            alpha: 0.0,
            clip: Some(Clip {
                min: -0.6,
                max: 0.6,
            }),
            ..AdversarialConfig::new(0.15)
        },
        AdversarialConfig {
            alpha: 1.0,
            ..AdversarialConfig::new(0.2)
        },
    ];
    for (ci, cfg) in cfgs.iter().enumerate() {
        let relu: Mlp<5, 9, 3> = Mlp::new(Activation::Relu, &mut Rng::new(51));
        check_at(&format!("relu cfg{ci}"), &relu, cfg, 500);
        let tanh: Mlp<5, 9, 3> = Mlp::new(Activation::Tanh, &mut Rng::new(52));
        check_at(&format!("tanh cfg{ci}"), &tanh, cfg, 501);
        let deep: Mlp2<5, 8, 6, 4> = Mlp2::new(Activation::Relu, &mut Rng::new(53));
        check_at(&format!("mlp2 relu cfg{ci}"), &deep, cfg, 502);
        let deep_t: Mlp2<5, 8, 6, 4> = Mlp2::new(Activation::Tanh, &mut Rng::new(54));
        check_at(&format!("mlp2 tanh cfg{ci}"), &deep_t, cfg, 503);
        // Deeper, and run-time networks (the same code path for any depth).
        let mlp3: Mlp3<5, 9, 3, 7, 4> = Mlp3::new(Activation::Tanh, &mut Rng::new(56));
        check_at(&format!("mlp3 tanh cfg{ci}"), &mlp3, cfg, 505);
        let seq = random_sequential(&[5, 7, 13, 6, 3], Activation::Relu, &mut Rng::new(57));
        check_at(&format!("seq relu cfg{ci}"), &seq, cfg, 506);
    }
}

#[test]
fn input_gradient_matches_f64() {
    // The gradient every attack is built on.
    let net: Mlp2<5, 8, 6, 4> = Mlp2::new(Activation::Tanh, &mut Rng::new(55));
    let seq = random_sequential(&[5, 1, 17, 4], Activation::Tanh, &mut Rng::new(58));
    let xs = normal_inputs(&mut Rng::new(504), 5, 6, 1.0);
    fn check<N: Network>(net: &N, xs: &[f32]) {
        let r = RefNet::of(net);
        let mut ws = ws_one(net);
        for (i, x) in xs.chunks(5).enumerate() {
            let y = i % 4;
            let mut g = [f32::NAN; 5];
            let ce = vatic::supervised::input_gradient(net, x, y, &mut g, &mut ws).unwrap();
            let want = input_grad64(&r, &to64(x), y);
            let (diff, scale) = max_abs_diff(&to64(&g), &want);
            assert!(diff <= 1e-5 * scale, "sample {i}: {diff:e} vs {scale:e}");
            let ce64 = cross_entropy(&r.logits(&to64(x)), y);
            assert!((ce as f64 - ce64).abs() < 1e-5 * (1.0 + ce64));
        }
    }
    check(&net, &xs);
    check(&seq, &xs);
}
