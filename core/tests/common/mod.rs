//! The one independent `f64` reference of the integration tests, for networks of any depth and
//! either activation: a forward pass, backprop, the Jacobian and `J v`, softmax-family losses,
//! central finite differences in the parameters, the explicit VAT Hessian
//! `H = Jᵀ (diag p − p pᵀ) J`, an `f64` power iteration and a Jacobi eigen-solver; plus the
//! small helpers the tests share (flat sample batches, workspaces, tolerance checks).
//!
//! Nothing here calls the crate's numerics: [`RefNet::of`] only reads a network's weights and
//! biases through [`Network::layer`] and widens them to `f64`; every formula below is a plain
//! loop written from its definition.
#![allow(dead_code, clippy::needless_range_loop)]

use vatic::{Activation, Network, Parameters, Rng, Sequential, BLOCK};

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

impl RefNet {
    /// The `f64` copy of any network (compile-time `Net` or run-time `Sequential`), read layer
    /// by layer through `Network::layer`.
    pub fn of<N: Network + ?Sized>(net: &N) -> Self {
        let layers = (0..net.depth())
            .map(|l| {
                let d = net.layer(l).expect("layer below depth");
                let (i, o) = (d.inputs, d.bias.len());
                assert_eq!(d.weight.len(), i * o, "layer {l}: weight shape");
                RefLayer {
                    w: (0..o)
                        .map(|r| (0..i).map(|c| d.weight[r * i + c] as f64).collect())
                        .collect(),
                    b: d.bias.iter().map(|&v| v as f64).collect(),
                }
            })
            .collect();
        RefNet {
            layers,
            tanh: net.activation() == Activation::Tanh,
        }
    }

    pub fn inputs(&self) -> usize {
        self.layers[0].w[0].len()
    }

    pub fn outputs(&self) -> usize {
        self.layers.last().unwrap().b.len()
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
        assert_eq!(x.len(), self.inputs());
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

    /// Smallest `|pre-activation|` over the hidden units at `x` (distance to a ReLU kink;
    /// infinite without hidden layers).
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

    /// `J(x) v`.
    pub fn jvp(&self, x: &[f64], v: &[f64]) -> Vec<f64> {
        matvec(&self.jacobian(x), v)
    }

    /// Backprop of `dz = ∂L/∂z` at `x`: `(∂L/∂θ` in [`RefNet::params`] order, `∂L/∂x)`.
    pub fn backward(&self, x: &[f64], dz: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (_, pre) = self.forward_trace(x);
        let n = self.layers.len();
        // Input of layer l: x for l = 0, σ(pre[l − 1]) after.
        let input = |l: usize| -> Vec<f64> {
            if l == 0 {
                x.to_vec()
            } else {
                pre[l - 1].iter().map(|&a| self.act(a)).collect()
            }
        };
        let mut grads: Vec<Vec<f64>> = vec![Vec::new(); n];
        let mut delta = dz.to_vec();
        let mut dx = Vec::new();
        for l in (0..n).rev() {
            let layer = &self.layers[l];
            let h = input(l);
            let mut g = Vec::new();
            for o in 0..layer.b.len() {
                for i in 0..h.len() {
                    g.push(delta[o] * h[i]);
                }
            }
            g.extend_from_slice(&delta);
            grads[l] = g;
            let back: Vec<f64> = (0..h.len())
                .map(|i| (0..layer.b.len()).map(|o| layer.w[o][i] * delta[o]).sum())
                .collect();
            if l == 0 {
                dx = back;
            } else {
                delta = back
                    .iter()
                    .zip(&pre[l - 1])
                    .map(|(b, &a)| b * self.dact(a))
                    .collect();
            }
        }
        (grads.concat(), dx)
    }
}

/// The widths `[IN, H1, …, OUT]` of a network.
pub fn widths<N: Network + ?Sized>(net: &N) -> Vec<usize> {
    (0..=net.depth()).map(|l| net.width(l)).collect()
}

/// Every parameter of a network (or gradient), in `tensors()` order.
pub fn flat<N: Parameters + ?Sized>(n: &N) -> Vec<f32> {
    n.tensors().flatten().copied().collect()
}

/// The bits of a slice, for exact comparisons that tell `-0` from `+0` and NaNs apart.
pub fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// A host run-time network.
pub type Seq = Sequential<Vec<usize>, Vec<f32>>;

/// The `Sequential` with the same widths, parameters and activation as `net`.
pub fn sequential<N: Network + ?Sized>(net: &N) -> Seq {
    Sequential::new(widths(net), flat(net), net.activation()).unwrap()
}

/// A zero `Sequential` of these widths.
pub fn zero_sequential(widths: &[usize], activation: Activation) -> Seq {
    let n = Seq::param_count(widths).expect("valid widths");
    Sequential::new(widths.to_vec(), vec![0.0; n], activation).unwrap()
}

/// A `Sequential` initialised by `Network::init`, then with `N(0, 1)` biases (so that bias
/// gradients and their effect on the forward pass are checked too).
pub fn random_sequential(widths: &[usize], activation: Activation, rng: &mut Rng) -> Seq {
    let mut net = zero_sequential(widths, activation);
    net.init(rng);
    random_biases(&mut net, rng);
    net
}

/// Fills every bias of `net` with `N(0, 1)` draws.
pub fn random_biases<N: Network + ?Sized>(net: &mut N, rng: &mut Rng) {
    for l in 0..net.depth() {
        rng.fill_normal(net.layer_mut(l).unwrap().bias);
    }
}

/// The zero gradient of a `Sequential` (same widths).
pub fn zero_like(net: &Seq) -> Seq {
    zero_sequential(net.widths(), net.activation())
}

/// A workspace for blocks of [`BLOCK`] samples (the firmware's size).
pub fn ws<N: Network + ?Sized>(net: &N) -> Vec<f32> {
    vec![0.0; net.shape().workspace_len(BLOCK)]
}

/// A workspace for one sample at a time.
pub fn ws_one<N: Network + ?Sized>(net: &N) -> Vec<f32> {
    vec![0.0; net.shape().workspace_len(1)]
}

pub fn to64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// Rows of a flat batch, widened to `f64`.
pub fn rows64(xs: &[f32], width: usize) -> Vec<Vec<f64>> {
    xs.chunks_exact(width).map(to64).collect()
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

/// `∂CE/∂z = softmax(z) − onehot(y)`.
pub fn cross_entropy_dz(z: &[f64], y: usize) -> Vec<f64> {
    let mut s = softmax(z);
    s[y] -= 1.0;
    s
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
/// parameter of `net`, in [`RefNet::params`] order (the crate's tensor order).
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

/// Central finite differences of a scalar function of the input, coordinate by coordinate.
pub fn fd_input_grad(x: &[f64], h: f64, f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let (mut a, mut b) = (x.to_vec(), x.to_vec());
            a[i] += h;
            b[i] -= h;
            (f(&a) - f(&b)) / (2.0 * h)
        })
        .collect()
}

/// Central finite difference of a vector function of the input along `v`.
pub fn fd_directional(x: &[f64], v: &[f64], h: f64, f: impl Fn(&[f64]) -> Vec<f64>) -> Vec<f64> {
    let plus: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + h * b).collect();
    let minus: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - h * b).collect();
    f(&plus)
        .iter()
        .zip(f(&minus))
        .map(|(a, b)| (a - b) / (2.0 * h))
        .collect()
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

/// Asserts `got ≈ want` elementwise with `|got − want| ≤ atol + rtol |want|`, naming the index;
/// returns the largest `|got − want| / (atol + rtol |want|)` (≤ 1), for reporting.
pub fn assert_close(what: &str, got: &[f32], want: &[f64], atol: f64, rtol: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let mut worst = 0.0f64;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        let bound = atol + rtol * w.abs();
        assert!(
            err <= bound,
            "{what}[{i}]: got {g}, want {w} (error {err:.3e})"
        );
        worst = worst.max(err / bound);
    }
    worst
}

/// `n` flat samples of width `width` drawn from `N(0, scale²)` with the core's PRNG (only the
/// data: the draws are those of `Rng::fill_normal`, sample by sample).
pub fn normal_inputs(rng: &mut Rng, width: usize, n: usize, scale: f32) -> Vec<f32> {
    let mut xs = vec![0.0f32; width * n];
    for x in xs.chunks_exact_mut(width) {
        rng.fill_normal(x);
        for v in x.iter_mut() {
            *v *= scale;
        }
    }
    xs
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

/// `x + r` rounded to `f32` as the core forms it, then widened.
pub fn add32(x: &[f32], r: &[f32]) -> Vec<f64> {
    assert_eq!(x.len(), r.len());
    x.iter().zip(r).map(|(&a, &b)| (a + b) as f64).collect()
}

pub fn activation(tanh: bool) -> Activation {
    if tanh {
        Activation::Tanh
    } else {
        Activation::Relu
    }
}

/// Asserts that no hidden pre-activation is within `margin` of a ReLU kink at any of `points`
/// (nothing to check for tanh), so that finite differences and `f32`/`f64` masks agree.
pub fn assert_away_from_kinks(label: &str, r: &RefNet, points: &[Vec<f64>], margin: f64) {
    if r.tanh {
        return;
    }
    for (i, p) in points.iter().enumerate() {
        let m = r.min_abs_preact(p);
        assert!(
            m > margin,
            "{label}: point {i} is {m:e} from a ReLU kink; pick another seed"
        );
    }
}
