//! Properties of the attacks (proptest, modest case counts): FGSM and PGD stay in the ε-ball
//! and the clip range, the L2 step has norm ε, a zero gradient gives no perturbation (and no
//! NaN), `normalize` and `sign` follow ALGORITHMS.md §2 and §4.
//!
//! Norms are measured in `f64` on the `f32` results. The slack allowed on a ball is the
//! rounding of `x + ε·dir` in `f32`: half an ulp of `|x| + ε` per coordinate, i.e. at most
//! `f32::EPSILON · (|x| + ε)` per coordinate (and `√IN` times that in L2).

use proptest::prelude::*;
use vatic::attack::{self, project, Attack, Clip, Method, Norm, Pgd, Step};
use vatic::vector::{normalize, sign};
use vatic::{pass, Activation, Mlp, Network, Rng, Zeroed};

const IN: usize = 8;
type Net = Mlp<IN, 12, 4>;

fn net(seed: u64, tanh: bool) -> Net {
    let act = if tanh {
        Activation::Tanh
    } else {
        Activation::Relu
    };
    Mlp::new(act, &mut Rng::new(seed))
}

fn ws<N: Network>(net: &N) -> Vec<f32> {
    vec![0.0; net.shape().workspace_len(1)]
}

fn fgsm<N: Network, const D: usize>(
    net: &N,
    x: &[f32; D],
    y: usize,
    eps: f32,
    norm: Norm,
    clip: Option<Clip>,
) -> vatic::Result<[f32; D]> {
    perturb(
        net,
        x,
        y,
        eps,
        &Attack {
            clip,
            ..Attack::fgsm(norm)
        },
    )
}

/// `a` at `eps` into a fresh buffer.
fn perturb<N: Network, const D: usize>(
    net: &N,
    x: &[f32; D],
    y: usize,
    eps: f32,
    a: &Attack,
) -> vatic::Result<[f32; D]> {
    let mut adv = [f32::NAN; D];
    a.perturb(net, x, y, eps, &mut adv, &mut ws(net))
        .map(|()| adv)
}

/// `(CE, ∇_x CE)` of one sample.
fn input_gradient<N: Network, const D: usize>(net: &N, x: &[f32; D], y: usize) -> (f32, [f32; D]) {
    let mut g = [f32::NAN; D];
    let ce = vatic::supervised::input_gradient(net, x, y, &mut g, &mut ws(net)).unwrap();
    (ce, g)
}

fn linf(a: &[f32; IN], b: &[f32; IN]) -> f64 {
    a.iter()
        .zip(b)
        .fold(0.0, |m, (x, y)| m.max((*x as f64 - *y as f64).abs()))
}

fn l2(a: &[f32; IN], b: &[f32; IN]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum::<f64>()
        .sqrt()
}

fn max_abs(x: &[f32; IN]) -> f64 {
    x.iter().fold(0.0, |m, v| m.max(v.abs() as f64))
}

/// Rounding slack of `x + ε·dir` per coordinate.
fn slack(x: &[f32; IN], eps: f32) -> f64 {
    f32::EPSILON as f64 * (max_abs(x) + eps as f64)
}

fn in_clip(x: &[f32; IN], c: Clip) -> bool {
    x.iter().all(|&v| v >= c.min && v <= c.max)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fgsm_linf_stays_in_ball(
        seed in any::<u64>(), tanh in any::<bool>(), y in 0usize..4,
        x in prop::array::uniform8(-3.0f32..3.0), eps in 0.0f32..2.0,
    ) {
        let net = net(seed, tanh);
        let adv = fgsm(&net, &x, y, eps, Norm::LInf, None).unwrap();
        prop_assert!(linf(&adv, &x) <= eps as f64 + slack(&x, eps));
        // Every coordinate moves by 0 (sign 0) or by ±ε.
        for (a, b) in adv.iter().zip(&x) {
            let r = (*a as f64 - *b as f64).abs();
            prop_assert!(r == 0.0 || (r - eps as f64).abs() <= slack(&x, eps));
        }
    }

    #[test]
    fn fgsm_linf_with_clip_stays_in_ball_and_range(
        seed in any::<u64>(), y in 0usize..4,
        x in prop::array::uniform8(0.0f32..=1.0), eps in 0.0f32..1.0,
    ) {
        let net = net(seed, false);
        let adv = fgsm(&net, &x, y, eps, Norm::LInf, Some(Clip::UNIT)).unwrap();
        prop_assert!(in_clip(&adv, Clip::UNIT));
        prop_assert!(linf(&adv, &x) <= eps as f64 + slack(&x, eps));
    }

    #[test]
    fn fgsm_l2_has_norm_eps(
        seed in any::<u64>(), tanh in any::<bool>(), y in 0usize..4,
        x in prop::array::uniform8(-3.0f32..3.0), eps in 0.01f32..2.0,
    ) {
        let net = net(seed, tanh);
        let (_, g) = input_gradient(&net, &x, y);
        let adv = fgsm(&net, &x, y, eps, Norm::L2, None).unwrap();
        let n = l2(&adv, &x);
        let tol = 1e-5 * eps as f64 + (IN as f64).sqrt() * slack(&x, eps);
        prop_assert!(n <= eps as f64 + tol, "‖r‖ = {n} > ε = {eps}");
        if max_abs(&g) > 1e-6 {
            prop_assert!(n >= eps as f64 - tol, "‖r‖ = {n} < ε = {eps}");
        }
    }

    #[test]
    fn fgsm_l2_with_clip_stays_in_range_and_ball(
        seed in any::<u64>(), y in 0usize..4,
        x in prop::array::uniform8(-0.5f32..=0.5), eps in 0.0f32..2.0,
    ) {
        let clip = Clip { min: -0.5, max: 0.5 };
        let net = net(seed, true);
        let adv = fgsm(&net, &x, y, eps, Norm::L2, Some(clip)).unwrap();
        prop_assert!(in_clip(&adv, clip));
        prop_assert!(l2(&adv, &x) <= eps as f64 * (1.0 + 1e-5) + 3.0 * slack(&x, eps));
    }

    #[test]
    fn pgd_stays_in_ball(
        seed in any::<u64>(), tanh in any::<bool>(), y in 0usize..4, l2norm in any::<bool>(),
        clip in any::<bool>(), x in prop::array::uniform8(0.0f32..=1.0),
        eps in 0.001f32..1.0, iterations in 1u32..8, step_scale in 0.1f32..3.0,
    ) {
        let net = net(seed, tanh);
        let norm = if l2norm { Norm::L2 } else { Norm::LInf };
        let a = Attack {
            method: Method::Pgd(Pgd { step: Step::Ratio(step_scale), ..Pgd::madry(iterations) }),
            norm,
            clip: clip.then_some(Clip::UNIT),
        };
        let adv = perturb(&net, &x, y, eps, &a).unwrap();
        // The L2 projection rescales by ε/‖r‖ in f32: relative error a few ulp of ε.
        let tol = 1e-6 * eps as f64 + (IN as f64).sqrt() * slack(&x, eps);
        match norm {
            Norm::LInf => prop_assert!(linf(&adv, &x) <= eps as f64 + slack(&x, eps)),
            Norm::L2 => prop_assert!(l2(&adv, &x) <= eps as f64 + tol, "{}", l2(&adv, &x)),
        }
        if clip {
            prop_assert!(in_clip(&adv, Clip::UNIT));
        }
        prop_assert!(adv.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn project_lands_in_ball_and_keeps_points_inside(
        x in prop::array::uniform8(-2.0f32..2.0), a in prop::array::uniform8(-4.0f32..4.0),
        eps in 0.0f32..3.0, l2norm in any::<bool>(),
    ) {
        let norm = if l2norm { Norm::L2 } else { Norm::LInf };
        let mut p = a;
        project(&x, &mut p, eps, norm);
        let (d, before) = if l2norm { (l2(&p, &x), l2(&a, &x)) } else { (linf(&p, &x), linf(&a, &x)) };
        prop_assert!(d <= eps as f64 + 3.0 * slack(&x, eps) + 1e-6 * eps as f64);
        if before <= eps as f64 {
            prop_assert_eq!(p, a, "a point already inside moved");
        }
    }

    #[test]
    fn normalize_gives_unit_norm_and_keeps_direction(
        v in prop::array::uniform8(-1.0f32..1.0), exp in -6i32..30,
    ) {
        let scale = 10f32.powi(exp);
        let v: [f32; IN] = core::array::from_fn(|i| v[i] * scale);
        prop_assume!(max_abs(&v) >= 1e-6);
        let mut d = v;
        normalize(&mut d);
        let n = d.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        // Documented: norm 1/√(1 + 1e-6/‖d′‖²) with ‖d′‖ ≥ ~1 here, plus f32 rounding.
        prop_assert!((n - 1.0).abs() <= 2e-6, "norm {n}");
        let c = d.iter().zip(&v).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>()
            / (n * v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt());
        prop_assert!(c >= 1.0 - 1e-6, "direction changed: cos {c}");
    }

    #[test]
    fn normalize_never_produces_nan_and_never_grows(
        v in prop::array::uniform8(-1.0f32..1.0), exp in -45i32..38,
    ) {
        let scale = 10f32.powi(exp);
        let mut d: [f32; IN] = core::array::from_fn(|i| v[i] * scale);
        normalize(&mut d);
        prop_assert!(d.iter().all(|x| x.is_finite()));
        let n = d.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        prop_assert!(n <= 1.0 + 2e-6);
    }

    #[test]
    fn sign_is_the_sign(v in any::<f32>()) {
        let s = sign(v);
        if v > 0.0 {
            prop_assert_eq!(s, 1.0);
        } else if v < 0.0 {
            prop_assert_eq!(s, -1.0);
        } else {
            prop_assert_eq!(s, 0.0);
        }
    }
}

#[test]
fn sign_of_zero_is_zero() {
    assert_eq!(sign(0.0), 0.0);
    assert_eq!(sign(-0.0), 0.0);
    assert_eq!(sign(f32::MIN_POSITIVE), 1.0);
    assert_eq!(sign(-f32::MIN_POSITIVE), -1.0);
}

#[test]
fn normalize_keeps_zero_vectors_zero() {
    let mut z = [0.0f32; IN];
    normalize(&mut z);
    assert_eq!(z, [0.0; IN]);
    let mut z = [-0.0f32; 3];
    normalize(&mut z);
    assert!(z.iter().all(|v| *v == 0.0));
}

#[test]
fn zero_input_gradient_gives_no_perturbation() {
    // All weights zero: logits constant, ∇_x CE = 0 exactly, so sign(0) = 0 and the L2 step
    // normalises a zero vector: x_adv = x for every attack, and nothing is NaN.
    let mut net = <Net as Zeroed>::ZERO;
    net.layers.next.bias = [0.3, -0.1, 0.0, 0.2];
    let x = [0.5f32, -1.0, 2.0, 0.0, 0.25, -0.75, 1.5, 3.0];
    for norm in [Norm::LInf, Norm::L2] {
        assert_eq!(fgsm(&net, &x, 1, 0.5, norm, None).unwrap(), x);
        assert_eq!(perturb(&net, &x, 1, 0.5, &Attack::pgd(norm, 5)).unwrap(), x);
    }
}

#[test]
fn steepest_direction_matches_definitions() {
    let mut g = [3.0f32, -0.0, -2.0, 0.0, 1e-30, -4.0, 0.5, 0.0];
    let orig = g;
    attack::steepest_direction(&mut g, Norm::LInf);
    assert_eq!(g, [1.0, 0.0, -1.0, 0.0, 1.0, -1.0, 1.0, 0.0]);
    let mut g = orig;
    attack::steepest_direction(&mut g, Norm::L2);
    let n = orig.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
    for (a, b) in g.iter().zip(&orig) {
        assert!((*a as f64 - *b as f64 / n).abs() < 1e-6);
    }
}

#[test]
fn normalize_follows_the_spec_formula_at_every_scale() {
    // ALGORITHMS.md §4 in f64: d′ = d / (1e-12 + max|d|), then d′ / √(1e-6 + ‖d′‖²). For
    // ‖d‖∞ ≳ 1e-6 the norm is 1 within 5e-7; for tiny vectors the guard makes it smaller (the
    // authors' code does the same), but never NaN and never in another direction.
    let base = [0.3f32, -1.0, 0.5, 0.0, 0.25, -0.7, 0.9, 0.1];
    for e in -44..38 {
        let s = 10f64.powi(e);
        let v: [f32; IN] = core::array::from_fn(|i| (base[i] as f64 * s) as f32);
        if max_abs(&v) == 0.0 {
            continue;
        }
        let v64: Vec<f64> = v.iter().map(|&x| x as f64).collect();
        let m = 1e-12 + v64.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        let dp: Vec<f64> = v64.iter().map(|x| x / m).collect();
        let want = (dp.iter().map(|x| x * x).sum::<f64>()).sqrt()
            / (1e-6 + dp.iter().map(|x| x * x).sum::<f64>()).sqrt();
        let mut d = v;
        normalize(&mut d);
        let n = d.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        assert!(
            (n - want).abs() <= 1e-5 * want + 1e-30,
            "scale 1e{e}: norm {n} vs spec {want}"
        );
        if max_abs(&v) >= 1e-6 {
            assert!((n - 1.0).abs() < 1e-6, "scale 1e{e}: norm {n}");
        }
    }
}

/// ALGORITHMS.md §4's normalisation divides by `1e-12 + max|g|`, so when the input gradient is
/// below ~1e-14 (a logit margin above ~40) it would make the L2 step far shorter than ε
/// (measured before the fix on this net: margin 43 → ‖r‖ = 5.9e-4 for ε = 0.5, margin 52 →
/// 9.4e-8, margin 69 → 0), overstating L2 robustness. The attacks divide by `max|g|` first
/// (`attack::steepest_direction`), so their steps keep norm ε; VAT keeps §4 exactly as the
/// authors' code has it, and its `r_vadv` does shrink there (LDS is ~0 at such points anyway).
#[test]
fn l2_attack_steps_have_norm_eps_for_confident_predictions() {
    for scale in [10.0f32, 50.0, 80.0] {
        let mut net: Mlp<4, 8, 3> = Mlp::new(Activation::Relu, &mut Rng::new(1));
        for r in &mut net.layers.next.weight {
            for w in r.iter_mut() {
                *w *= scale;
            }
        }
        let x = [1.0f32, -0.5, 0.3, 2.0];
        let y = pass::predict(&net, &x, &mut ws(&net)).unwrap();
        let (_, g) = input_gradient(&net, &x, y);
        if g.iter().all(|&v| v == 0.0) {
            continue; // the gradient underflowed to exactly zero: no direction exists
        }
        let eps = 0.5;
        let norm = |adv: &[f32; 4]| {
            adv.iter()
                .zip(&x)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
                .sqrt()
        };
        let adv = fgsm(&net, &x, y, eps, Norm::L2, None).unwrap();
        let r = norm(&adv);
        assert!(
            (r - eps).abs() < 1e-5,
            "scale {scale}: L2 FGSM ‖r‖ = {r}, ε = {eps}"
        );
        let adv = perturb(&net, &x, y, eps, &Attack::pgd(Norm::L2, 3)).unwrap();
        let r = norm(&adv);
        assert!(
            r > 0.9 * eps && r <= eps * (1.0 + 1e-6),
            "scale {scale}: PGD ‖r‖ = {r}"
        );
    }
}
