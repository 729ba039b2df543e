//! Sanity of the robustness metrics on a small trained network (2-16-2, two separable blobs,
//! trained with `supervised::cross_entropy_grad` and Adam): robust accuracy at ε = 0 is the
//! clean accuracy, PGD's robust accuracy does not increase with ε, the sweep agrees with an
//! explicit count, minimal ε is a bisection boundary of the attack, and the summaries agree
//! with per-sample recomputations.

mod common;

use vatic::attack::{Attack, Clip, Norm};
use vatic::metrics;
use vatic::optim::{Adam, AdamConfig, Optimizer};
use vatic::vat::VatConfig;
use vatic::{pass, supervised, Activation, Mlp, Parameters, Result, Rng, Zeroed};

type Net = Mlp<2, 16, 2>;

fn ws() -> Vec<f32> {
    vec![0.0; Net::WORKSPACE]
}

fn predict(net: &Net, x: &[f32]) -> usize {
    pass::predict(net, x, &mut ws()).unwrap()
}

fn accuracy(net: &Net, xs: &[[f32; 2]], ys: &[usize]) -> f32 {
    supervised::accuracy(net, xs.as_flattened(), ys, &mut ws()).unwrap()
}

/// `a` at `eps` into a fresh buffer.
fn perturb(a: &Attack, net: &Net, x: &[f32], y: usize, eps: f32) -> Result<[f32; 2]> {
    let mut adv = [f32::NAN; 2];
    a.perturb(net, x, y, eps, &mut adv, &mut ws()).map(|()| adv)
}

fn fgsm(
    net: &Net,
    x: &[f32],
    y: usize,
    eps: f32,
    norm: Norm,
    clip: Option<Clip>,
) -> Result<[f32; 2]> {
    perturb(
        &Attack {
            clip,
            ..Attack::fgsm(norm)
        },
        net,
        x,
        y,
        eps,
    )
}

fn robust_accuracy(net: &Net, xs: &[[f32; 2]], ys: &[usize], a: &Attack, eps: f32) -> Result<f32> {
    metrics::robust_accuracy(net, xs.as_flattened(), ys, a, eps, &mut ws())
}

fn robust_accuracy_sweep(
    net: &Net,
    xs: &[[f32; 2]],
    ys: &[usize],
    a: &Attack,
    eps: &[f32],
    out: &mut [f32],
) -> Result<()> {
    metrics::robust_accuracy_sweep(net, xs.as_flattened(), ys, a, eps, out, &mut ws())
}

fn minimal_epsilon(
    net: &Net,
    x: &[f32],
    y: usize,
    a: &Attack,
    eps_max: f32,
    steps: u32,
) -> Result<Option<f32>> {
    metrics::minimal_epsilon(net, x, y, a, eps_max, steps, &mut ws())
}

fn minimal_epsilon_stats(
    net: &Net,
    xs: &[[f32; 2]],
    ys: &[usize],
    a: &Attack,
    eps_max: f32,
    steps: u32,
) -> Result<metrics::MinimalEpsilon> {
    metrics::minimal_epsilon_stats(net, xs.as_flattened(), ys, a, eps_max, steps, &mut ws())
}

/// Two Gaussian blobs at (±1, 0.3·(±1)) with σ = 0.35: separable up to a few outliers.
fn blobs(seed: u64, n: usize) -> (Vec<[f32; 2]>, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for i in 0..n {
        let y = i % 2;
        let c = if y == 0 { -1.0 } else { 1.0 };
        xs.push([c + 0.35 * rng.normal(), 0.3 * c + 0.35 * rng.normal()]);
        ys.push(y);
    }
    (xs, ys)
}

fn trained() -> (Net, Vec<[f32; 2]>, Vec<usize>) {
    let (xs, ys) = blobs(11, 60);
    let mut net: Net = Mlp::new(Activation::Relu, &mut Rng::new(3));
    let mut grad = <Net as Zeroed>::ZERO;
    let mut opt = Adam::new(AdamConfig {
        lr: 0.05,
        ..AdamConfig::DEFAULT
    })
    .unwrap();
    let mut ws = ws();
    for _ in 0..300 {
        grad.zero();
        supervised::cross_entropy_grad(&net, xs.as_flattened(), &ys, 1.0, &mut grad, &mut ws)
            .unwrap();
        opt.step(&mut net, &grad);
    }
    let acc = accuracy(&net, &xs, &ys);
    assert!(acc >= 0.95, "training failed: accuracy {acc}");
    let (tx, ty) = blobs(12, 80);
    (net, tx, ty)
}

fn attacks() -> [Attack; 4] {
    [
        Attack::fgsm(Norm::LInf),
        Attack::fgsm(Norm::L2),
        Attack::pgd(Norm::LInf, 10),
        Attack::pgd(Norm::L2, 10),
    ]
}

#[test]
fn robust_accuracy_at_eps_zero_is_clean_accuracy() {
    let (net, xs, ys) = trained();
    // Also an untrained network, whose accuracy is far from 1 (misclassified samples count).
    let random: Net = Mlp::new(Activation::Tanh, &mut Rng::new(99));
    for n in [&net, &random] {
        let clean = accuracy(n, &xs, &ys);
        for a in attacks() {
            assert_eq!(
                robust_accuracy(n, &xs, &ys, &a, 0.0).unwrap(),
                clean,
                "{a:?}"
            );
        }
    }
    let clean_random = accuracy(&random, &xs, &ys);
    assert!(
        clean_random < 0.9,
        "the untrained net is too good: {clean_random}"
    );
}

#[test]
fn pgd_robust_accuracy_is_non_increasing_in_eps_and_matches_a_direct_count() {
    let (net, xs, ys) = trained();
    let eps: Vec<f32> = (0..=12).map(|i| i as f32 * 0.125).collect();
    for norm in [Norm::LInf, Norm::L2] {
        let attack = Attack::pgd(norm, 10);
        let mut out = vec![0.0; eps.len()];
        robust_accuracy_sweep(&net, &xs, &ys, &attack, &eps, &mut out).unwrap();
        println!("PGD {norm:?}: {out:?}");
        // The run-time network with the same parameters, and a one-sample workspace, agree.
        let seq = common::sequential(&net);
        let mut seq_out = vec![0.0; eps.len()];
        let mut small = common::ws_one(&seq);
        let flat = xs.as_flattened();
        metrics::robust_accuracy_sweep(&seq, flat, &ys, &attack, &eps, &mut seq_out, &mut small)
            .unwrap();
        assert_eq!(
            common::bits(&seq_out),
            common::bits(&out),
            "{norm:?}: Sequential sweep"
        );
        for w in out.windows(2) {
            assert!(w[1] <= w[0], "{norm:?}: robust accuracy increased: {out:?}");
        }
        // The attack does something: at ε = 1.5 (the blobs are ~2 apart) most points fall.
        assert!(
            out[12] < 0.5 * out[0],
            "{norm:?}: attack ineffective: {out:?}"
        );
        for (i, &e) in eps.iter().enumerate() {
            // Independent count with the public PGD: correct before and after the attack.
            let mut correct = 0;
            for (x, &y) in xs.iter().zip(&ys) {
                if predict(&net, x) != y {
                    continue;
                }
                let adv = perturb(&attack, &net, x, y, e).unwrap();
                if predict(&net, &adv) == y {
                    correct += 1;
                }
            }
            let want = correct as f32 / xs.len() as f32;
            assert_eq!(out[i], want, "{norm:?} ε={e}");
            assert_eq!(robust_accuracy(&net, &xs, &ys, &attack, e).unwrap(), want);
        }
    }
}

#[test]
fn minimal_epsilon_is_a_boundary_of_the_attack() {
    let (net, xs, ys) = trained();
    // eps_max a power of two: every bisection midpoint is exact in f32.
    let (eps_max, steps) = (4.0f32, 12u32);
    let res = eps_max / (1u32 << steps) as f32;
    let mut checked = 0;
    for norm in [Norm::LInf, Norm::L2] {
        let attack = Attack::fgsm(norm);
        for (i, (x, &y)) in xs.iter().zip(&ys).enumerate() {
            let fooled = |e: f32| predict(&net, &fgsm(&net, x, y, e, norm, None).unwrap()) != y;
            let got = minimal_epsilon(&net, x, y, &attack, eps_max, steps).unwrap();
            if predict(&net, x) != y {
                assert_eq!(got, Some(0.0), "sample {i}: misclassified");
                continue;
            }
            let Some(e) = got else {
                assert!(!fooled(eps_max), "sample {i}: None but fooled at eps_max");
                continue;
            };
            assert!(
                fooled(e),
                "sample {i} {norm:?}: not fooled at returned ε = {e}"
            );
            assert!(
                !fooled(e - res),
                "sample {i} {norm:?}: already fooled at ε − res"
            );
            // FGSM moves along a fixed ray: where success along a fine grid is one interval
            // [ε*, eps_max], bisection must find ε* (within the grid step + resolution).
            let grid: Vec<f32> = (0..=512).map(|k| eps_max * k as f32 / 512.0).collect();
            let hits: Vec<bool> = grid.iter().map(|&g| fooled(g)).collect();
            if let Some(first) = hits.iter().position(|&h| h) {
                if hits[first..].iter().all(|&h| h) {
                    let star = grid[first];
                    assert!(
                        e <= star + res && e >= star - eps_max / 512.0 - res,
                        "sample {i} {norm:?}: bisection {e} vs scan {star}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 20,
        "too few monotone samples to compare: {checked}"
    );
    // Misclassified samples (an untrained network has some) have minimal ε 0.
    let random: Net = Mlp::new(Activation::Tanh, &mut Rng::new(99));
    let mut mis = 0;
    for (x, &y) in xs.iter().zip(&ys) {
        if predict(&random, x) != y {
            let a = Attack::pgd(Norm::L2, 3);
            assert_eq!(minimal_epsilon(&random, x, y, &a, 1.0, 4), Ok(Some(0.0)));
            mis += 1;
        }
    }
    assert!(mis > 0);
    let a = Attack::fgsm(Norm::LInf);
    let s = minimal_epsilon_stats(&random, &xs, &ys, &a, 1.0, 4).unwrap();
    assert_eq!(s.misclassified, mis);
    // A resisting sample: the attack cannot succeed within a tiny radius.
    let (x, y) = (xs[0], ys[0]);
    assert_eq!(predict(&net, &x), y);
    let r = minimal_epsilon(&net, &x, y, &Attack::fgsm(Norm::LInf), 1e-4, 8);
    assert_eq!(r, Ok(None));
}

#[test]
fn minimal_epsilon_stats_agree_with_per_sample_results() {
    let (net, xs, ys) = trained();
    let (eps_max, steps) = (4.0f32, 10u32);
    for norm in [Norm::LInf, Norm::L2] {
        let attack = Attack::fgsm(norm);
        let s = minimal_epsilon_stats(&net, &xs, &ys, &attack, eps_max, steps).unwrap();
        assert_eq!(s.fooled + s.resisted + s.misclassified, xs.len());
        assert!(s.fooled > 0);
        assert!(s.min <= s.mean && s.mean <= s.max, "{s:?}");
        let (mut sum, mut n, mut er, mut er_n) = (0.0f64, 0, 0.0f64, 0);
        let (mut mis, mut res) = (0, 0);
        let (mut lo, mut hi) = (f32::INFINITY, 0.0f32);
        for (x, &y) in xs.iter().zip(&ys) {
            if predict(&net, x) != y {
                mis += 1;
                continue;
            }
            match minimal_epsilon(&net, x, y, &attack, eps_max, steps).unwrap() {
                None => res += 1,
                Some(e) => {
                    sum += e as f64;
                    n += 1;
                    lo = lo.min(e);
                    hi = hi.max(e);
                    let adv = fgsm(&net, x, y, e, norm, None).unwrap();
                    let r: Vec<f64> = adv.iter().zip(x).map(|(a, b)| (a - b) as f64).collect();
                    let (num, den) = match norm {
                        Norm::LInf => (
                            r.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                            x.iter().fold(0.0f64, |m, v| m.max(v.abs() as f64)),
                        ),
                        Norm::L2 => (
                            r.iter().map(|v| v * v).sum::<f64>().sqrt(),
                            x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt(),
                        ),
                    };
                    if den > 0.0 {
                        er += num / den;
                        er_n += 1;
                    }
                }
            }
        }
        assert_eq!((s.fooled, s.resisted, s.misclassified), (n, res, mis));
        assert_eq!((s.min, s.max), (lo, hi));
        assert!((s.mean as f64 - sum / n as f64).abs() <= 1e-5 * (sum / n as f64));
        let want = er / er_n as f64;
        assert!(
            (s.empirical_robustness as f64 - want).abs() <= 1e-5 * want,
            "{norm:?}: empirical robustness {} vs {want}",
            s.empirical_robustness
        );
    }
}

#[test]
fn lds_stats_mean_is_at_most_max() {
    let (net, xs, _) = trained();
    for k in [1, 5] {
        let cfg = VatConfig {
            iterations: k,
            ..VatConfig::new(0.5)
        };
        let s =
            metrics::lds_stats(&net, xs.as_flattened(), &mut Rng::new(4), &cfg, &mut ws()).unwrap();
        assert!(s.mean >= 0.0 && s.mean <= s.max, "{s:?}");
        assert!(s.max > 0.0);
        // The most sensitive point is more sensitive than the average one.
        assert!(s.max > s.mean);
    }
}
