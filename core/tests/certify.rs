//! Checks that would catch an unsound or loose certificate: on random networks of 1–3 hidden
//! layers, ReLU and tanh, L∞ and L2, with and without a box,
//!
//! * the certified radius never exceeds a radius at which PGD (many steps) or a dense search
//!   of the `f32` network finds another prediction (a certificate above a found attack is a
//!   bug), and PGD at the certified radius never succeeds;
//! * on 2-D networks, the certified radius is at most the exact minimal radius from a dense
//!   search of the `f32` network over the ball's boundary;
//! * CROWN's margins are never below IBP's, and on deeper networks its radii are larger;
//! * the same over proptest's random networks, samples, radii and norms.

mod common;

use common::{random_sequential, ws_one, Seq};
use vatic::attack::{Attack, Clip, Norm};
use vatic::certify::{self, Bound};
use vatic::metrics;
use vatic::{pass, Activation, Error, Network, Rng};

fn cert_ws(net: &Seq) -> Vec<f64> {
    vec![0.0; certify::workspace_len(&net.shape())]
}

fn predict(net: &Seq, x: &[f32]) -> usize {
    pass::predict(net, x, &mut ws_one(net)).unwrap()
}

/// Random networks with confident enough predictions to certify something.
fn nets(rng: &mut Rng) -> Vec<Seq> {
    let mut v = Vec::new();
    for act in [Activation::Relu, Activation::Tanh] {
        for widths in [
            vec![2, 8, 2],
            vec![2, 12, 8, 3],
            vec![5, 10, 3],
            vec![4, 9, 7, 6, 3],
        ] {
            v.push(random_sequential(&widths, act, rng));
        }
    }
    v
}

fn point(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.uniform() * 2.0 - 1.0).collect()
}

#[test]
fn certified_radius_never_exceeds_an_attack() {
    let mut rng = Rng::new(41);
    let mut certified_somewhere = 0;
    for net in nets(&mut rng) {
        let mut cws = cert_ws(&net);
        let mut ws = ws_one(&net);
        for _ in 0..6 {
            let x = point(&mut rng, net.width(0));
            let y = predict(&net, &x);
            for norm in [Norm::LInf, Norm::L2] {
                for clip in [
                    None,
                    Some(Clip {
                        min: -1.0,
                        max: 1.0,
                    }),
                ] {
                    for bound in [Bound::Ibp, Bound::Crown] {
                        let r = certify::certified_radius(
                            &net, &x, y, norm, clip, bound, 4.0, 14, &mut cws,
                        )
                        .unwrap();
                        if r > 0.0 {
                            certified_somewhere += 1;
                        }
                        // PGD with many steps at the certified radius never succeeds.
                        let pgd = Attack {
                            clip,
                            ..Attack::pgd(norm, 100)
                        };
                        let mut adv = vec![0.0; x.len()];
                        pgd.perturb(&net, &x, y, r, &mut adv, &mut ws).unwrap();
                        assert_eq!(predict(&net, &adv), y, "PGD beat a certificate r = {r}");
                        // The minimal ε PGD finds is at least the certified radius.
                        let pgd = Attack {
                            clip,
                            ..Attack::pgd(norm, 50)
                        };
                        if let Some(found) =
                            metrics::minimal_epsilon(&net, &x, y, &pgd, 4.0, 16, &mut ws).unwrap()
                        {
                            assert!(
                                r <= found,
                                "{bound:?} {norm:?}: certified {r} above an attack at {found}"
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(certified_somewhere > 100, "{certified_somewhere}");
}

/// The exact minimal radius of a 2-D `f32` network around `x`, to the resolution of a dense
/// search: the smallest radius on whose circle (L2) or square (L∞) some point is classified
/// otherwise. An upper bound on the true minimal radius up to the search's resolution.
fn dense_minimal_radius(net: &Seq, x: &[f32], y: usize, norm: Norm) -> Option<f64> {
    let (x0, x1) = (f64::from(x[0]), f64::from(x[1]));
    let steps = 400;
    for k in 1..=steps {
        let r = 3.0 * k as f64 / steps as f64;
        for t in 0..720 {
            let a = t as f64 * std::f64::consts::TAU / 720.0;
            let (dx, dy) = match norm {
                Norm::L2 => (r * a.cos(), r * a.sin()),
                // The square's boundary, walked by angle.
                Norm::LInf => {
                    let m = a.cos().abs().max(a.sin().abs());
                    (r * a.cos() / m, r * a.sin() / m)
                }
            };
            let p = [(x0 + dx) as f32, (x1 + dy) as f32];
            if predict(net, &p) != y {
                return Some(r);
            }
        }
    }
    None
}

#[test]
fn two_d_certificates_stay_below_the_exact_radius() {
    let mut rng = Rng::new(7);
    let mut compared = 0;
    for act in [Activation::Relu, Activation::Tanh] {
        for widths in [vec![2, 10, 2], vec![2, 8, 8, 3]] {
            for _ in 0..3 {
                let net = random_sequential(&widths, act, &mut rng);
                let mut cws = cert_ws(&net);
                for _ in 0..4 {
                    let x = point(&mut rng, 2);
                    let y = predict(&net, &x);
                    for norm in [Norm::LInf, Norm::L2] {
                        let Some(exact) = dense_minimal_radius(&net, &x, y, norm) else {
                            continue;
                        };
                        for bound in [Bound::Ibp, Bound::Crown] {
                            let r = certify::certified_radius(
                                &net, &x, y, norm, None, bound, 3.0, 16, &mut cws,
                            )
                            .unwrap();
                            assert!(
                                f64::from(r) <= exact,
                                "{act:?} {widths:?} {bound:?} {norm:?}: certified {r} > {exact}"
                            );
                            compared += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(compared > 50, "{compared}");
}

#[test]
fn crown_is_never_looser_than_ibp_and_tighter_on_deep_nets() {
    let mut rng = Rng::new(5);
    let (mut crown_sum, mut ibp_sum) = (0.0f64, 0.0f64);
    for net in nets(&mut rng) {
        let mut cws = cert_ws(&net);
        for _ in 0..5 {
            let x = point(&mut rng, net.width(0));
            let y = predict(&net, &x);
            for norm in [Norm::LInf, Norm::L2] {
                for eps in [0.0, 0.01, 0.05, 0.2] {
                    let (mi, mc) = both_margins(&net, &x, y, eps, norm, &mut cws);
                    for (c, i) in mc.iter().zip(&mi) {
                        assert!(no_looser(*c, *i), "CROWN {c} below IBP {i}");
                    }
                }
                if net.depth() >= 3 {
                    for (bound, sum) in [(Bound::Ibp, &mut ibp_sum), (Bound::Crown, &mut crown_sum)]
                    {
                        *sum += f64::from(
                            certify::certified_radius(
                                &net, &x, y, norm, None, bound, 4.0, 14, &mut cws,
                            )
                            .unwrap(),
                        );
                    }
                }
            }
        }
    }
    assert!(
        crown_sum > 1.2 * ibp_sum,
        "CROWN radii {crown_sum} vs IBP {ibp_sum}"
    );
}

#[test]
fn the_margins_at_radius_zero_bound_the_f32_logits() {
    // At ε = 0 the region is {x}: the proven margin is at most the f32 network's own margin,
    // and only a hair (the rounding bound) below it.
    let mut rng = Rng::new(9);
    for net in nets(&mut rng) {
        let classes = net.width(net.depth());
        let mut cws = cert_ws(&net);
        let x = point(&mut rng, net.width(0));
        let y = predict(&net, &x);
        let mut z = vec![0.0f32; classes];
        pass::logits(&net, &x, &mut z, &mut ws_one(&net)).unwrap();
        for bound in [Bound::Ibp, Bound::Crown] {
            let mut m = vec![0.0; classes];
            certify::margins(&net, &x, y, 0.0, Norm::L2, None, bound, &mut m, &mut cws).unwrap();
            for j in (0..classes).filter(|&j| j != y) {
                let real = f64::from(z[y]) - f64::from(z[j]);
                assert!(
                    m[j] <= real,
                    "{bound:?}: bound {} above the margin {real}",
                    m[j]
                );
                assert!(
                    real - m[j] < 1e-3 * (1.0 + real.abs()),
                    "{bound:?}: {} vs {real}",
                    m[j]
                );
            }
        }
    }
}

#[test]
fn bad_input_is_refused() {
    let mut rng = Rng::new(1);
    let net = random_sequential(&[3, 4, 2], Activation::Relu, &mut rng);
    let mut cws = cert_ws(&net);
    let x = [0.1, 0.2, 0.3];
    let c = |x: &[f32], y, eps, ws: &mut [f64]| {
        certify::certified(&net, x, y, eps, Norm::LInf, None, Bound::Crown, ws)
    };
    assert!(c(&x, 0, 0.1, &mut cws).is_ok());
    assert_eq!(c(&x, 0, -0.1, &mut cws), Err(Error::InvalidEpsilon));
    assert_eq!(c(&x, 0, f32::NAN, &mut cws), Err(Error::InvalidEpsilon));
    assert_eq!(
        c(&x, 2, 0.1, &mut cws),
        Err(Error::LabelOutOfRange {
            sample: 0,
            label: 2
        })
    );
    assert_eq!(c(&x[..2], 0, 0.1, &mut cws), Err(Error::LengthMismatch));
    assert_eq!(
        c(&[0.1, f32::NAN, 0.3], 0, 0.1, &mut cws),
        Err(Error::NonFiniteInput { sample: 0 })
    );
    let short = cws.len() - 1;
    assert_eq!(
        c(&x, 0, 0.1, &mut cws[..short]),
        Err(Error::WorkspaceTooSmall)
    );
    let bad_clip = Some(Clip { min: 1.0, max: 0.0 });
    assert_eq!(
        certify::certified(&net, &x, 0, 0.1, Norm::L2, bad_clip, Bound::Ibp, &mut cws),
        Err(Error::InvalidRange)
    );
    assert_eq!(
        certify::certified_radius(&net, &x, 0, Norm::L2, None, Bound::Ibp, 1.0, 0, &mut cws),
        Err(Error::ZeroIterations)
    );
    let mut nan = net.clone();
    vatic::Parameters::tensors_mut(&mut nan).next().unwrap()[0] = f32::NAN;
    assert!(matches!(
        certify::certified(&nan, &x, 0, 0.1, Norm::L2, None, Bound::Ibp, &mut cws),
        Err(Error::NonFiniteParameter { .. })
    ));
}

/// IBP's and CROWN's margins of `net` at `x` (label `y`), in that order.
fn both_margins(
    net: &Seq,
    x: &[f32],
    y: usize,
    eps: f32,
    norm: Norm,
    cws: &mut [f64],
) -> (Vec<f64>, Vec<f64>) {
    let classes = net.width(net.depth());
    let (mut ibp, mut crown) = (vec![0.0; classes], vec![0.0; classes]);
    certify::margins(net, x, y, eps, norm, None, Bound::Ibp, &mut ibp, cws).unwrap();
    certify::margins(net, x, y, eps, norm, None, Bound::Crown, &mut crown, cws).unwrap();
    (ibp, crown)
}

/// A random network of the property below, a sample, its prediction and both bounds' margins.
struct Case {
    net: Seq,
    norm: Norm,
    x: Vec<f32>,
    y: usize,
    ibp: Vec<f64>,
    crown: Vec<f64>,
}

fn case(seed: u64, deep: bool, tanh: bool, l2: bool, eps: f32) -> Case {
    let mut rng = vatic::Rng::new(seed);
    let act = if tanh {
        Activation::Tanh
    } else {
        Activation::Relu
    };
    let widths: Vec<usize> = if deep {
        vec![3, 6, 5, 3]
    } else {
        vec![3, 7, 3]
    };
    let net = random_sequential(&widths, act, &mut rng);
    let norm = if l2 { Norm::L2 } else { Norm::LInf };
    let x = point(&mut rng, 3);
    let y = predict(&net, &x);
    let (ibp, crown) = both_margins(&net, &x, y, eps, norm, &mut cert_ws(&net));
    Case {
        net,
        norm,
        x,
        y,
        ibp,
        crown,
    }
}

/// Whether a CROWN margin is no looser than IBP's, up to `f64` rounding: CROWN's hidden boxes
/// are IBP's intersected with its own, which in exact arithmetic only raises the margins, but
/// IBP's pass over the tighter boxes rounds differently (its outward rounding and `Δ` are
/// recomputed), so it can land a few ulp below IBP on IBP's own boxes. A real loss of
/// tightness is many orders of magnitude larger.
fn no_looser(crown: f64, ibp: f64) -> bool {
    crown >= ibp || crown >= ibp - 1e-12 * (1.0 + ibp.abs())
}

#[test]
fn crown_matches_ibp_where_ibp_is_an_ulp_tighter() {
    // Found by the property below (seed 9578): CROWN −0.24009808187881038, IBP …032 (2 ulp).
    let c = case(9578, true, false, true, 0.358_305_28);
    for (crown, ibp) in c.crown.iter().zip(&c.ibp) {
        assert!(no_looser(*crown, *ibp), "CROWN {crown:e} < IBP {ibp:e}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

        /// Over random networks (1–2 hidden layers, either activation), samples, radii and
        /// norms: CROWN's margins are never below IBP's, a certified region survives PGD, and
        /// certification is monotone in the sense that matters: certified at ε implies
        /// certified at 0.
        #[test]
        fn certificates_hold_on_random_networks(
            seed in 0u64..10_000,
            deep in any::<bool>(),
            tanh in any::<bool>(),
            l2 in any::<bool>(),
            eps in 0.0f32..0.5,
        ) {
            let Case { net, norm, x, y, ibp: mi, crown: mc } = case(seed, deep, tanh, l2, eps);
            let mut cws = cert_ws(&net);
            for (c, i) in mc.iter().zip(&mi) {
                prop_assert!(no_looser(*c, *i), "CROWN {} < IBP {}", c, i);
            }
            if certify::certified(&net, &x, y, eps, norm, None, Bound::Crown, &mut cws).unwrap() {
                prop_assert!(
                    certify::certified(&net, &x, y, 0.0, norm, None, Bound::Crown, &mut cws).unwrap()
                );
                let mut ws = ws_one(&net);
                let mut adv = vec![0.0; 3];
                Attack::pgd(norm, 40)
                    .perturb(&net, &x, y, eps, &mut adv, &mut ws)
                    .unwrap();
                prop_assert_eq!(predict(&net, &adv), y);
            }
        }
    }
}
