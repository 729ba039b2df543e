//! Cross-check of VAT's power iteration on a linear softmax model `f(x) = W x + b`, where the
//! Hessian of `r ↦ KL(p(x) ‖ p(x + r))` at `r = 0` is the explicit `H = Wᵀ (diag p − p pᵀ) W`
//! (ALGORITHMS.md §5). `H` is built and eigen-decomposed in `f64` (Jacobi rotations, checked by
//! its residuals); the core's power iteration, both with `Direction::Exact` and with finite
//! differences, must converge to `H`'s top eigenvector, and `LDS ≈ ½ ε² λ_max` for small `ε`.

#![allow(clippy::needless_range_loop)] // index loops read closer to the formulas

mod common;

use common::*;
use vatic::vat::{self, Direction, VatConfig};
use vatic::{Activation, DenseMut, DenseRef, Network, Parameters, Rng};

/// `f(x) = W x + b`, written here against the public traits (so it also checks that the core's
/// VAT is generic over any `Network`, not only the crate's own `Net` and `Sequential`).
#[derive(Clone, Debug)]
struct Linear<const IN: usize, const OUT: usize> {
    w: [[f32; IN]; OUT],
    b: [f32; OUT],
}

impl<const IN: usize, const OUT: usize> Linear<IN, OUT> {
    const ZERO: Self = Linear {
        w: [[0.0; IN]; OUT],
        b: [0.0; OUT],
    };
}

impl<const IN: usize, const OUT: usize> Parameters for Linear<IN, OUT> {
    fn tensors(&self) -> impl Iterator<Item = &[f32]> {
        [self.w.as_flattened(), &self.b[..]].into_iter()
    }

    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
        [self.w.as_flattened_mut(), &mut self.b[..]].into_iter()
    }
}

impl<const IN: usize, const OUT: usize> Network for Linear<IN, OUT> {
    fn activation(&self) -> Activation {
        Activation::Relu
    }

    fn set_activation(&mut self, _: Activation) {}

    fn depth(&self) -> usize {
        1
    }

    fn layer(&self, l: usize) -> Option<DenseRef<'_>> {
        (l == 0).then_some(DenseRef {
            weight: self.w.as_flattened(),
            bias: &self.b,
            inputs: IN,
        })
    }

    fn layer_mut(&mut self, l: usize) -> Option<DenseMut<'_>> {
        (l == 0).then_some(DenseMut {
            weight: self.w.as_flattened_mut(),
            bias: &mut self.b,
            inputs: IN,
        })
    }
}

const IN: usize = 8;
const OUT: usize = 4;

/// A model with a clear eigengap: `W = diag(s) Q` with `Q` orthonormal rows (Gram–Schmidt of a
/// seeded Gaussian matrix) and row scales `s = (3, 1.2, 0.8, 0.5)`, a small bias and input so
/// `p` is far from saturation. Returns the model, the input, and `H`'s eigen-decomposition.
fn setup(seed: u64) -> (Linear<IN, OUT>, [f32; IN], Vec<f64>, Vec<Vec<f64>>) {
    let mut rng = Rng::new(seed);
    let mut q: Vec<Vec<f64>> = Vec::new();
    while q.len() < OUT {
        let mut v = [0.0f32; IN];
        rng.fill_normal(&mut v);
        let mut v = to64(&v);
        for u in &q {
            let c = dot(&v, u);
            for (a, b) in v.iter_mut().zip(u) {
                *a -= c * b;
            }
        }
        q.push(normalized(&v));
    }
    let s = [3.0, 1.2, 0.8, 0.5];
    let mut net = Linear::<IN, OUT>::ZERO;
    for o in 0..OUT {
        for i in 0..IN {
            net.w[o][i] = (s[o] * q[o][i]) as f32;
        }
        net.b[o] = 0.1 * rng.normal();
    }
    let mut x = [0.0f32; IN];
    rng.fill_normal(&mut x);
    for v in &mut x {
        *v *= 0.2;
    }
    let w64: Vec<Vec<f64>> = net.w.iter().map(|r| to64(r)).collect();
    let z: Vec<f64> = (0..OUT)
        .map(|o| dot(&w64[o], &to64(&x)) + net.b[o] as f64)
        .collect();
    let p = softmax(&z);
    let h = hessian_from(&w64, &p);
    let (vals, vecs) = symmetric_eigen(&h);
    // The eigen-solver's own check: residuals and orthonormality.
    for (l, v) in vals.iter().zip(&vecs) {
        let hv = matvec(&h, v);
        let res: f64 = hv
            .iter()
            .zip(v)
            .map(|(a, b)| (a - l * b).powi(2))
            .sum::<f64>();
        assert!(
            res.sqrt() < 1e-12 * vals[0],
            "eigen residual {}",
            res.sqrt()
        );
        assert!((norm(v) - 1.0).abs() < 1e-12);
    }
    assert!(dot(&vecs[0], &vecs[1]).abs() < 1e-12);
    assert!(
        vals[1] / vals[0] < 0.5,
        "construction lost its eigengap: {vals:?}"
    );
    (net, x, vals, vecs)
}

fn starts(seed: u64, n: usize) -> Vec<[f32; IN]> {
    let flat = normal_inputs(&mut Rng::new(seed), IN, n, 1.0);
    flat.chunks(IN).map(|c| c.try_into().unwrap()).collect()
}

fn ws(net: &Linear<IN, OUT>) -> Vec<f32> {
    vec![0.0; net.shape().workspace_len(1)]
}

fn core_direction(
    net: &Linear<IN, OUT>,
    x: &[f32; IN],
    d0: &[f32; IN],
    cfg: &VatConfig,
) -> Vec<f64> {
    let mut d = *d0;
    vat::power_iteration(net, x, &mut d, cfg, &mut ws(net)).unwrap();
    to64(&d)
}

#[test]
fn exact_power_iteration_converges_to_top_eigenvector() {
    for seed in [1, 2, 3] {
        let (net, x, vals, vecs) = setup(seed);
        let w64: Vec<Vec<f64>> = net.w.iter().map(|r| to64(r)).collect();
        let z: Vec<f64> = (0..OUT)
            .map(|o| dot(&w64[o], &to64(&x)) + net.b[o] as f64)
            .collect();
        let h = hessian_from(&w64, &softmax(&z));
        for d0 in starts(seed + 100, 5) {
            for k in [1u32, 2, 5, 30] {
                let cfg = VatConfig {
                    iterations: k,
                    ..VatConfig::new(0.1)
                };
                let d = core_direction(&net, &x, &d0, &cfg);
                // Each iterate equals the f64 power iteration's (same start, same K) …
                let want = power_iteration(&h, &to64(&d0), k as usize);
                let c = cosine(&d, &want);
                assert!(c > 0.99999, "seed {seed} K={k}: cos with f64 iterate {c}");
                assert!((norm(&d) - 1.0).abs() < 1e-5);
                // … and after enough iterations, it is H's top eigenvector.
                if k == 30 {
                    let c = cosine(&d, &vecs[0]).abs();
                    assert!(c >= 0.999, "seed {seed}: |cos| with v₁ = {c}, λ = {vals:?}");
                }
            }
        }
    }
}

#[test]
fn finite_difference_power_iteration_converges_to_top_eigenvector() {
    for seed in [1, 2, 3] {
        let (net, x, _, vecs) = setup(seed);
        for d0 in starts(seed + 200, 5) {
            for xi in [1e-3f32, 1e-2] {
                let cfg = VatConfig {
                    xi,
                    iterations: 30,
                    ..VatConfig::paper(0.1)
                };
                let d = core_direction(&net, &x, &d0, &cfg);
                let c = cosine(&d, &vecs[0]).abs();
                println!("seed {seed} ξ={xi:e}: |cos(d_FD, v₁)| = {c:.7}");
                assert!(c >= 0.999, "seed {seed} ξ={xi}: |cos| = {c}");
            }
        }
    }
}

#[test]
fn lds_is_half_eps_squared_lambda_max_for_small_eps() {
    for seed in [1, 2, 3] {
        let (net, x, vals, _) = setup(seed);
        let d0 = starts(seed + 300, 1)[0];
        let w64: Vec<Vec<f64>> = net.w.iter().map(|r| to64(r)).collect();
        let z: Vec<f64> = (0..OUT)
            .map(|o| dot(&w64[o], &to64(&x)) + net.b[o] as f64)
            .collect();
        let mut prev = f64::INFINITY;
        for eps in [0.4f32, 0.2, 0.1, 0.05, 0.025, 0.0125] {
            let mut lds_exact = 0.0;
            for direction in [Direction::Exact, Direction::FiniteDifference] {
                let cfg = VatConfig {
                    eps,
                    xi: 1e-2,
                    iterations: 30,
                    direction,
                };
                let mut r_vadv = [0.0f32; IN];
                let lds = vat::virtual_adversarial(&net, &x, &d0, &cfg, &mut r_vadv, &mut ws(&net))
                    .unwrap() as f64;
                // The core's LDS is the f64 KL at its own r_vadv, up to f32 rounding: the KL
                // is a sum of p·(log p − log q) with log-probabilities of size ~1.4, so its
                // absolute error is a few ulp of 1.4, ~5e-7 (measured 1.4e-7 at ε = 0.0125) …
                let zq: Vec<f64> = (0..OUT)
                    .map(|o| dot(&w64[o], &add32(&x, &r_vadv)) + net.b[o] as f64)
                    .collect();
                let exact = kl(&z, &zq);
                assert!(
                    (lds - exact).abs() <= 5e-7 + 1e-4 * exact,
                    "LDS {lds} vs f64 KL {exact}"
                );
                // … and approaches the second-order term ½ ε² λ_max, with an O(ε) error.
                let taylor = 0.5 * (eps as f64).powi(2) * vals[0];
                let rel = (lds - taylor).abs() / taylor;
                println!("seed {seed} ε={eps} {direction:?}: LDS {lds:.6e}, ½ε²λ {taylor:.6e}, rel {rel:.3e}");
                if direction == Direction::Exact {
                    // The error is the third-order term, O(ε): halving ε must (nearly) halve it.
                    assert!(
                        rel < 0.7 * prev,
                        "seed {seed} ε={eps}: rel error {rel} did not shrink (was {prev})"
                    );
                    prev = rel;
                    lds_exact = lds;
                } else {
                    // Both direction methods find the same direction, so the same LDS.
                    assert!(
                        (lds - lds_exact).abs() <= 5e-7 + 1e-3 * lds_exact,
                        "seed {seed} ε={eps}: FD LDS {lds} vs exact {lds_exact}"
                    );
                }
            }
        }
        assert!(prev < 0.015, "seed {seed}: rel error at ε=0.0125 is {prev}");
    }
}
