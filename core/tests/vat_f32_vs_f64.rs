//! The f32 problem of issue #3: on a 64-128-10 ReLU network, the core's power-iteration
//! direction against an `f64` computation of the exact one.
//!
//! The reference: `J` (10 × 64) analytically in `f64` from the network's weights and its ReLU
//! masks, `H = Jᵀ (diag p − p pᵀ) J`, and `d ← H d / ‖H d‖` from the same start directions.
//! `Direction::Exact` must reach cosine ≥ 0.999 on every sample for K = 1 and K = 3; the
//! finite-difference direction's cosines for ξ ∈ {1e-6, 1e-4, 1e-3, 1e-2} are printed (run
//! with `--nocapture`) and only their robust part is asserted.

mod common;

use common::*;
use vatic::vat::{self, Direction, VatConfig};
use vatic::{Activation, Mlp, Rng};

const SAMPLES: usize = 32;

type Net = Mlp<64, 128, 10>;

struct Setup {
    net: Net,
    xs: Vec<Vec<f32>>,
    d0s: Vec<Vec<f32>>,
    hs: Vec<Vec<Vec<f64>>>,
}

fn setup() -> Setup {
    let net: Net = Mlp::new(Activation::Relu, &mut Rng::new(2024));
    let mut rng = Rng::new(7);
    let rows = |v: Vec<f32>| v.chunks(64).map(<[f32]>::to_vec).collect::<Vec<_>>();
    let xs = rows(normal_inputs(&mut rng, 64, SAMPLES, 1.0));
    let d0s = rows(normal_inputs(&mut rng, 64, SAMPLES, 1.0));
    let r = RefNet::of(&net);
    let hs = xs.iter().map(|x| vat_hessian(&r, &to64(x))).collect();
    Setup { net, xs, d0s, hs }
}

fn core_dir(net: &Net, x: &[f32], d0: &[f32], cfg: &VatConfig) -> Vec<f64> {
    let mut d = d0.to_vec();
    vat::power_iteration(net, x, &mut d, cfg, &mut [0.0; Net::WORKSPACE_ONE]).unwrap();
    to64(&d)
}

fn summary(mut v: Vec<f64>) -> (f64, f64) {
    let min = v.iter().cloned().fold(f64::INFINITY, f64::min);
    (min, median(&mut v))
}

#[test]
fn exact_direction_matches_f64_on_every_sample() {
    let s = setup();
    // ReLU masks of f32 and f64 agree when no pre-activation is within rounding of 0.
    let r = RefNet::of(&s.net);
    let kink =
        s.xs.iter()
            .map(|x| r.min_abs_preact(&to64(x)))
            .fold(f64::INFINITY, f64::min);
    assert!(
        kink > 1e-5,
        "a pre-activation is {kink:e} from 0: masks may differ"
    );
    for k in [1u32, 3] {
        let cfg = VatConfig {
            iterations: k,
            ..VatConfig::new(1.0)
        };
        let cos: Vec<f64> = (0..SAMPLES)
            .map(|i| {
                let want = power_iteration(&s.hs[i], &to64(&s.d0s[i]), k as usize);
                cosine(&core_dir(&s.net, &s.xs[i], &s.d0s[i], &cfg), &want)
            })
            .collect();
        let (min, med) = summary(cos.clone());
        println!(
            "Exact K={k}: cosine vs f64 exact: min {min:.9} (1 − min = {:.1e}), median {med:.9}",
            1.0 - min
        );
        for (i, c) in cos.iter().enumerate() {
            assert!(*c >= 0.999, "Exact K={k}, sample {i}: cosine {c}");
        }
    }
}

#[test]
fn finite_difference_direction_vs_f64_exact() {
    let s = setup();
    let want: Vec<Vec<f64>> = (0..SAMPLES)
        .map(|i| power_iteration(&s.hs[i], &to64(&s.d0s[i]), 1))
        .collect();

    // The same finite difference in f64, per ξ: it separates what f32 rounding costs from what
    // ξ itself costs (truncation, and ReLU masks that change between x and x + ξd).
    let r = RefNet::of(&s.net);
    let f64_fd = |xi: f64| -> Vec<f64> {
        (0..SAMPLES)
            .map(|i| {
                let x = to64(&s.xs[i]);
                let d = normalized(&to64(&s.d0s[i]));
                let x1: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + xi * b).collect();
                let mut diff = softmax(&r.logits(&x1));
                for (q, p) in diff.iter_mut().zip(softmax(&r.logits(&x))) {
                    *q -= p;
                }
                let j = r.jacobian(&x1);
                let g: Vec<f64> = (0..64)
                    .map(|c| (0..10).map(|k| j[k][c] * diff[k]).sum())
                    .collect();
                cosine(&g, &want[i])
            })
            .collect()
    };
    for xi in [1e-6, 1e-4, 1e-3, 1e-2] {
        let (min, med) = summary(f64_fd(xi));
        println!(
            "f64 FiniteDifference ξ={xi:e} K=1: cosine vs f64 exact: min {min:.4}, median {med:.4}"
        );
    }
    // The reference itself: with the paper's ξ = 1e-6 the f64 finite difference agrees with
    // the f64 exact direction, so the f32 losses at that ξ come from f32 rounding.
    let (min, _) = summary(f64_fd(1e-6));
    assert!(min >= 0.9999, "f64 finite difference disagrees: {min}");

    let mut table = Vec::new();
    for xi in [1e-6f32, 1e-4, 1e-3, 1e-2] {
        let cfg = VatConfig {
            xi,
            iterations: 1,
            direction: Direction::FiniteDifference,
            eps: 1.0,
        };
        let cos: Vec<f64> = (0..SAMPLES)
            .map(|i| cosine(&core_dir(&s.net, &s.xs[i], &s.d0s[i], &cfg), &want[i]))
            .collect();
        let (min, med) = summary(cos);
        println!(
            "f32 FiniteDifference ξ={xi:e} K=1: cosine vs f64 exact: min {min:.4}, median {med:.4}"
        );
        table.push((xi, min, med));
    }
    // Robust facts only (measured on this seed: see the printed table and the issue note).
    // ξ = 1e-4 is the best compromise here; at 1e-3 and 1e-2 the median is ~1 but a few samples
    // lose accuracy because x + ξd crosses ReLU kinks (the f64 finite difference shows the same
    // loss); at the paper's ξ = 1e-6 the f32 difference is mostly rounding noise.
    let get = |x: f32| table.iter().find(|t| t.0 == x).unwrap();
    assert!(get(1e-4).1 >= 0.99, "ξ=1e-4 min {}", get(1e-4).1);
    assert!(get(1e-3).1 >= 0.95, "ξ=1e-3 min {}", get(1e-3).1);
    assert!(get(1e-2).1 >= 0.9, "ξ=1e-2 min {}", get(1e-2).1);
    for xi in [1e-4, 1e-3, 1e-2] {
        assert!(get(xi).2 >= 0.999, "ξ={xi} median {}", get(xi).2);
    }
    assert!(
        get(1e-6).2 < 0.95,
        "ξ=1e-6 unexpectedly accurate: median {}",
        get(1e-6).2
    );
}
