//! PGD keeps the best iterate (issue 17): the first iterate that flips the prediction, not the
//! last one, which a fixed step of `2.5 ε / T` can carry back over the decision boundary.
//!
//! The reference is the same walk written out here from the public pieces
//! (`supervised::input_gradient`, `attack::steepest_direction`, `attack::project`,
//! `pass::predict`), so the comparisons are bit for bit: PGD must return the walk's first
//! fooling iterate, or its last one when none fools; its robust accuracy is then never above
//! the last-iterate count, and strictly below it where the walk overshoots.

mod common;

use common::{bits, normal_inputs, random_sequential, ws_one, Seq};
use vatic::attack::{project, steepest_direction, Attack, Clip, Norm};
use vatic::{metrics, pass, supervised, Activation, Network, Rng};

/// The iterates `x₀ = x, x₁, …, x_T` of Madry PGD at radius `eps`.
fn walk(net: &Seq, x: &[f32], y: usize, eps: f32, a: &Attack, iterations: u32) -> Vec<Vec<f32>> {
    let alpha = 2.5 * eps / iterations as f32;
    let mut ws = ws_one(net);
    let mut at = x.to_vec();
    let mut out = vec![at.clone()];
    for _ in 0..iterations {
        let mut g = vec![0.0; x.len()];
        supervised::input_gradient(net, &at, y, &mut g, &mut ws).unwrap();
        steepest_direction(&mut g, a.norm);
        for (gi, &v) in g.iter_mut().zip(&at) {
            *gi = v + alpha * *gi;
        }
        at = g;
        project(x, &mut at, eps, a.norm);
        if let Some(c) = a.clip {
            for v in &mut at {
                *v = v.clamp(c.min, c.max);
            }
        }
        out.push(at.clone());
    }
    out
}

fn predict(net: &Seq, x: &[f32]) -> usize {
    pass::predict(net, x, &mut ws_one(net)).unwrap()
}

/// Random networks of one and two hidden layers, both activations, with their samples. The
/// weights are 4× those of `Network::init`: sharper networks with narrow decision regions,
/// which a walk of fixed steps crosses (about 2 % of the walks below overshoot, against 0.1 %
/// at the initial scale).
fn cases(rng: &mut Rng) -> Vec<(Seq, Vec<f32>)> {
    let mut out = Vec::new();
    for widths in [&[3usize, 16, 3][..], &[5, 12, 8, 4], &[2, 24, 2]] {
        for act in [Activation::Relu, Activation::Tanh] {
            let mut net = random_sequential(widths, act, rng);
            for l in 0..net.depth() {
                for w in net.layer_mut(l).unwrap().weight.iter_mut() {
                    *w *= 4.0;
                }
            }
            let xs = normal_inputs(rng, widths[0], 24, 1.0);
            out.push((net, xs));
        }
    }
    out
}

#[test]
fn pgd_returns_the_first_iterate_that_flips_the_prediction() {
    let mut rng = Rng::new(17);
    let (mut overshoots, mut flipped, mut resisted) = (0, 0, 0);
    for (net, xs) in cases(&mut rng) {
        let inputs = net.widths()[0];
        for x in xs.chunks_exact(inputs) {
            let y = predict(&net, x);
            for norm in [Norm::LInf, Norm::L2] {
                for clip in [
                    None,
                    Some(Clip {
                        min: -1.5,
                        max: 1.5,
                    }),
                ] {
                    for eps in [0.3f32, 0.8, 1.5] {
                        let a = Attack {
                            clip,
                            ..Attack::pgd(norm, 10)
                        };
                        let walk = walk(&net, x, y, eps, &a, 10);
                        let first = walk.iter().position(|v| predict(&net, v) != y);
                        let last = walk.last().unwrap();
                        let mut adv = vec![f32::NAN; inputs];
                        a.perturb(&net, x, y, eps, &mut adv, &mut ws_one(&net))
                            .unwrap();
                        let want = first.map_or(last, |t| &walk[t]);
                        assert_eq!(
                            bits(&adv),
                            bits(want),
                            "{norm:?} ε {eps} x {x:?}: first flip at {first:?} of {}",
                            walk.len() - 1
                        );
                        match first {
                            Some(_) if predict(&net, last) == y => overshoots += 1,
                            Some(_) => flipped += 1,
                            None => resisted += 1,
                        }
                    }
                }
            }
        }
    }
    eprintln!("overshoots {overshoots}, flipped and stayed {flipped}, resisted {resisted}");
    // The walk does overshoot: an iterate fooled the network and the last one did not. A
    // last-iterate PGD reports every one of these samples as robust.
    assert!(overshoots >= 10, "too few overshooting walks: {overshoots}");
    assert!(flipped > 0 && resisted > 0);
}

#[test]
fn pgd_robust_accuracy_is_at_most_the_last_iterates_and_below_it_where_the_walk_overshoots() {
    let mut rng = Rng::new(5);
    let eps: Vec<f32> = (0..=8).map(|i| i as f32 * 0.25).collect();
    let mut below = 0;
    for (net, xs) in cases(&mut rng) {
        let inputs = net.widths()[0];
        // Labels the network gets right on about half the samples.
        let ys: Vec<usize> = xs
            .chunks_exact(inputs)
            .enumerate()
            .map(|(i, x)| {
                let p = predict(&net, x);
                if i % 2 == 0 {
                    p
                } else {
                    (p + 1) % net.widths()[net.widths().len() - 1]
                }
            })
            .collect();
        for norm in [Norm::LInf, Norm::L2] {
            let a = Attack::pgd(norm, 10);
            let mut best = vec![0.0; eps.len()];
            let mut ws = ws_one(&net);
            metrics::robust_accuracy_sweep(&net, &xs, &ys, &a, &eps, &mut best, &mut ws).unwrap();
            for (i, &e) in eps.iter().enumerate() {
                let last = xs
                    .chunks_exact(inputs)
                    .zip(&ys)
                    .filter(|&(x, &y)| {
                        predict(&net, x) == y
                            && predict(&net, walk(&net, x, y, e, &a, 10).last().unwrap()) == y
                    })
                    .count() as f32
                    / ys.len() as f32;
                assert!(
                    best[i] <= last,
                    "{norm:?} ε {e}: best iterate {} above last iterate {last}",
                    best[i]
                );
                below += usize::from(best[i] < last);
            }
        }
    }
    assert!(
        below > 0,
        "no sweep where keeping the best iterate mattered"
    );
}
