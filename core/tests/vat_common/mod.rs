//! Independent `f64` reference implementations shared by the `vat_*` and `attack_*` integration
//! tests: an MLP forward pass and Jacobian built from a network's public fields, softmax-family
//! losses, central finite differences in the parameters, the explicit VAT Hessian
//! `H = Jᵀ (diag p − p pᵀ) J`, an `f64` power iteration and a Jacobi eigen-solver.
//!
//! Nothing here calls the function under test: only the networks' public fields are read.
#![allow(dead_code, clippy::needless_range_loop)]

use vatic::{Activation, Mlp, Mlp2};

/// One dense layer in `f64`: `w[out][in]`, `b[out]`.
#[derive(Clone, Debug)]
pub struct RefLayer {
    pub w: Vec<Vec<f64>>,
    pub b: Vec<f64>,
}

/// An MLP in `f64`: dense layers with the activation after every layer but the last.
#[derive(Clone, Debug)]
pub struct RefNet {
    pub layers: Vec<RefLayer>,
    pub tanh: bool,
}

fn layer<const I: usize, const O: usize>(w: &[[f32; I]; O], b: &[f32; O]) -> RefLayer {
    RefLayer {
        w: w.iter()
            .map(|r| r.iter().map(|&v| v as f64).collect())
            .collect(),
        b: b.iter().map(|&v| v as f64).collect(),
    }
}

impl RefNet {
    pub fn from_mlp<const I: usize, const H: usize, const O: usize>(n: &Mlp<I, H, O>) -> Self {
        RefNet {
            layers: vec![
                layer(&n.hidden.weight, &n.hidden.bias),
                layer(&n.output.weight, &n.output.bias),
            ],
            tanh: n.activation == Activation::Tanh,
        }
    }

    pub fn from_mlp2<const I: usize, const H1: usize, const H2: usize, const O: usize>(
        n: &Mlp2<I, H1, H2, O>,
    ) -> Self {
        RefNet {
            layers: vec![
                layer(&n.hidden1.weight, &n.hidden1.bias),
                layer(&n.hidden2.weight, &n.hidden2.bias),
                layer(&n.output.weight, &n.output.bias),
            ],
            tanh: n.activation == Activation::Tanh,
        }
    }

    /// Every parameter, layer by layer, weight (row-major `[out][in]`) before bias.
    pub fn params(&self) -> Vec<f64> {
        let mut p = Vec::new();
        for l in &self.layers {
            for r in &l.w {
                p.extend_from_slice(r);
            }
            p.extend_from_slice(&l.b);
        }
        p
    }

    pub fn set_params(&mut self, p: &[f64]) {
        let mut i = 0;
        for l in &mut self.layers {
            for r in &mut l.w {
                for v in r.iter_mut() {
                    *v = p[i];
                    i += 1;
                }
            }
            for v in &mut l.b {
                *v = p[i];
                i += 1;
            }
        }
        assert_eq!(i, p.len());
    }

    fn act(&self, a: f64) -> f64 {
        if self.tanh {
            a.tanh()
        } else if a > 0.0 {
            a
        } else {
            0.0
        }
    }

    fn dact(&self, a: f64) -> f64 {
        if self.tanh {
            1.0 - a.tanh().powi(2)
        } else if a > 0.0 {
            1.0
        } else {
            0.0
        }
    }

    /// Logits and the pre-activations of every hidden layer.
    pub fn forward_trace(&self, x: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>) {
        let mut h = x.to_vec();
        let mut pre = Vec::new();
        let n = self.layers.len();
        for (li, l) in self.layers.iter().enumerate() {
            let a: Vec<f64> =
                l.w.iter()
                    .zip(&l.b)
                    .map(|(r, &b)| r.iter().zip(&h).map(|(w, v)| w * v).sum::<f64>() + b)
                    .collect();
            if li + 1 == n {
                return (a, pre);
            }
            h = a.iter().map(|&v| self.act(v)).collect();
            pre.push(a);
        }
        unreachable!()
    }

    pub fn logits(&self, x: &[f64]) -> Vec<f64> {
        self.forward_trace(x).0
    }

    /// Smallest `|pre-activation|` over the hidden units at `x` (distance to a ReLU kink).
    pub fn min_abs_preact(&self, x: &[f64]) -> f64 {
        let (_, pre) = self.forward_trace(x);
        pre.iter()
            .flatten()
            .fold(f64::INFINITY, |m, v| m.min(v.abs()))
    }

    /// The Jacobian `∂logits/∂x` (rows = logits), analytically: `W_L D ⋯ D W_1`.
    pub fn jacobian(&self, x: &[f64]) -> Vec<Vec<f64>> {
        let (_, pre) = self.forward_trace(x);
        // m = ∂(current layer output)/∂x, starting with W_1.
        let mut m: Vec<Vec<f64>> = self.layers[0].w.clone();
        for (li, l) in self.layers.iter().enumerate().skip(1) {
            let d: Vec<f64> = pre[li - 1].iter().map(|&a| self.dact(a)).collect();
            let cols = m[0].len();
            m =
                l.w.iter()
                    .map(|r| {
                        (0..cols)
                            .map(|c| (0..r.len()).map(|k| r[k] * d[k] * m[k][c]).sum())
                            .collect()
                    })
                    .collect();
        }
        m
    }
}

pub fn to64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

pub fn log_softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    z.iter().map(|v| v - m - lse).collect()
}

pub fn softmax(z: &[f64]) -> Vec<f64> {
    log_softmax(z).iter().map(|v| v.exp()).collect()
}

pub fn cross_entropy(z: &[f64], y: usize) -> f64 {
    -log_softmax(z)[y]
}

/// `KL(softmax(zp) ‖ softmax(zq))`.
pub fn kl(zp: &[f64], zq: &[f64]) -> f64 {
    let lp = log_softmax(zp);
    let lq = log_softmax(zq);
    lp.iter().zip(&lq).map(|(a, b)| a.exp() * (a - b)).sum()
}

pub fn entropy(z: &[f64]) -> f64 {
    -log_softmax(z).iter().map(|l| l.exp() * l).sum::<f64>()
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    dot(a, b) / (norm(a) * norm(b))
}

pub fn normalized(a: &[f64]) -> Vec<f64> {
    let n = norm(a);
    a.iter().map(|v| v / n).collect()
}

pub fn matvec(m: &[Vec<f64>], v: &[f64]) -> Vec<f64> {
    m.iter().map(|r| dot(r, v)).collect()
}

/// The VAT Hessian `H = Jᵀ (diag(p) − p pᵀ) J` at `x`, `IN × IN`.
pub fn vat_hessian(net: &RefNet, x: &[f64]) -> Vec<Vec<f64>> {
    let j = net.jacobian(x);
    let p = softmax(&net.logits(x));
    hessian_from(&j, &p)
}

/// `Jᵀ (diag(p) − p pᵀ) J` for an explicit `J` (`OUT × IN`) and `p`.
pub fn hessian_from(j: &[Vec<f64>], p: &[f64]) -> Vec<Vec<f64>> {
    let o = j.len();
    let n = j[0].len();
    let mut a = vec![vec![0.0; o]; o];
    for k in 0..o {
        for l in 0..o {
            a[k][l] = if k == l { p[k] } else { 0.0 } - p[k] * p[l];
        }
    }
    let mut h = vec![vec![0.0; n]; n];
    for r in 0..n {
        for c in 0..n {
            let mut s = 0.0;
            for k in 0..o {
                for l in 0..o {
                    s += j[k][r] * a[k][l] * j[l][c];
                }
            }
            h[r][c] = s;
        }
    }
    h
}

/// `K` steps of `d ← H d / ‖H d‖` from `d0` (normalised first).
pub fn power_iteration(h: &[Vec<f64>], d0: &[f64], k: usize) -> Vec<f64> {
    let mut d = normalized(d0);
    for _ in 0..k {
        d = normalized(&matvec(h, &d));
    }
    d
}

/// Eigenvalues (descending) and unit eigenvectors (`vecs[i]` for `vals[i]`) of a symmetric
/// matrix by cyclic Jacobi rotations.
pub fn symmetric_eigen(a: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut a: Vec<Vec<f64>> = a.to_vec();
    let mut v = vec![vec![0.0; n]; n];
    for (i, r) in v.iter_mut().enumerate() {
        r[i] = 1.0;
    }
    let scale: f64 = a.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&i, &j| a[j][j].partial_cmp(&a[i][i]).unwrap());
    let vals = idx.iter().map(|&i| a[i][i]).collect();
    let vecs = idx
        .iter()
        .map(|&i| (0..n).map(|k| v[k][i]).collect())
        .collect();
    (vals, vecs)
}

/// Central finite differences `(L(θ + h eᵢ) − L(θ − h eᵢ)) / 2h` of `loss` over every
/// parameter of `net`.
pub fn fd_param_grad(net: &RefNet, h: f64, loss: impl Fn(&RefNet) -> f64) -> Vec<f64> {
    let p0 = net.params();
    let mut work = net.clone();
    let mut g = vec![0.0; p0.len()];
    let mut p = p0.clone();
    for i in 0..p0.len() {
        p[i] = p0[i] + h;
        work.set_params(&p);
        let lp = loss(&work);
        p[i] = p0[i] - h;
        work.set_params(&p);
        let lm = loss(&work);
        p[i] = p0[i];
        g[i] = (lp - lm) / (2.0 * h);
    }
    g
}

/// Largest `|a_i − b_i|` and the largest `|b_i|`.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> (f64, f64) {
    assert_eq!(a.len(), b.len());
    let d = a
        .iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    let s = b.iter().fold(0.0f64, |m, y| m.max(y.abs()));
    (d, s)
}

/// `d` inputs drawn from `N(0, 1)` with a fixed seed (the core's own PRNG: only the data).
pub fn normal_inputs<const IN: usize>(
    rng: &mut vatic::Rng,
    n: usize,
    scale: f32,
) -> Vec<[f32; IN]> {
    (0..n)
        .map(|_| {
            let mut x = [0.0f32; IN];
            rng.fill_normal(&mut x);
            for v in &mut x {
                *v *= scale;
            }
            x
        })
        .collect()
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Networks the reference can mirror.
pub trait ToRef {
    fn to_ref(&self) -> RefNet;
}

impl<const I: usize, const H: usize, const O: usize> ToRef for Mlp<I, H, O> {
    fn to_ref(&self) -> RefNet {
        RefNet::from_mlp(self)
    }
}

impl<const I: usize, const H1: usize, const H2: usize, const O: usize> ToRef
    for Mlp2<I, H1, H2, O>
{
    fn to_ref(&self) -> RefNet {
        RefNet::from_mlp2(self)
    }
}

/// `x + r` rounded to `f32` as the core forms it, then widened.
pub fn add32<const IN: usize>(x: &[f32; IN], r: &[f32; IN]) -> Vec<f64> {
    x.iter().zip(r).map(|(&a, &b)| (a + b) as f64).collect()
}
