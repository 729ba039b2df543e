//! An independent f64 reference MLP for the integration tests: plain loops over `Vec`s, written
//! from the formulas, sharing no code with the crate (only its public parameter fields).
#![allow(dead_code)]

use vatic::{Activation, Mlp, Mlp2};

/// Layers `(W [out][in], b [out])` in f64 plus the activation.
#[derive(Clone, Debug)]
pub struct RefNet {
    pub layers: Vec<(Vec<Vec<f64>>, Vec<f64>)>,
    pub relu: bool,
}

fn layer<const I: usize, const O: usize>(d: &vatic::Dense<I, O>) -> (Vec<Vec<f64>>, Vec<f64>) {
    (
        d.weight
            .iter()
            .map(|r| r.iter().map(|&v| v as f64).collect())
            .collect(),
        d.bias.iter().map(|&v| v as f64).collect(),
    )
}

impl RefNet {
    pub fn from_mlp<const I: usize, const H: usize, const O: usize>(n: &Mlp<I, H, O>) -> Self {
        RefNet {
            layers: vec![layer(&n.hidden), layer(&n.output)],
            relu: n.activation == Activation::Relu,
        }
    }

    pub fn from_mlp2<const I: usize, const A: usize, const B: usize, const O: usize>(
        n: &Mlp2<I, A, B, O>,
    ) -> Self {
        RefNet {
            layers: vec![layer(&n.hidden1), layer(&n.hidden2), layer(&n.output)],
            relu: n.activation == Activation::Relu,
        }
    }

    /// Every scalar parameter, in the crate's tensor order (W then b, layer by layer).
    pub fn params_mut(&mut self) -> Vec<&mut f64> {
        let mut out = Vec::new();
        for (w, b) in &mut self.layers {
            for row in w.iter_mut() {
                out.extend(row.iter_mut());
            }
            out.extend(b.iter_mut());
        }
        out
    }

    pub fn logits(&self, x: &[f64]) -> Vec<f64> {
        let mut h = x.to_vec();
        let last = self.layers.len() - 1;
        for (l, (w, b)) in self.layers.iter().enumerate() {
            let mut y: Vec<f64> = w
                .iter()
                .zip(b)
                .map(|(row, bi)| row.iter().zip(&h).map(|(a, c)| a * c).sum::<f64>() + bi)
                .collect();
            if l < last {
                for v in &mut y {
                    *v = if self.relu { v.max(0.0) } else { v.tanh() };
                }
            }
            h = y;
        }
        h
    }
}

pub fn log_softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    z.iter().map(|v| v - lse).collect()
}

pub fn cross_entropy(z: &[f64], y: usize) -> f64 {
    -log_softmax(z)[y]
}

pub fn kl(zp: &[f64], zq: &[f64]) -> f64 {
    let lp = log_softmax(zp);
    let lq = log_softmax(zq);
    lp.iter().zip(&lq).map(|(a, b)| a.exp() * (a - b)).sum()
}

pub fn to64(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}

/// Central difference of `f` in every parameter of `net`, in the crate's tensor order.
pub fn fd_params(net: &RefNet, h: f64, f: impl Fn(&RefNet) -> f64) -> Vec<f64> {
    let n = net.clone().params_mut().len();
    (0..n)
        .map(|i| {
            let mut a = net.clone();
            *a.params_mut()[i] += h;
            let mut b = net.clone();
            *b.params_mut()[i] -= h;
            (f(&a) - f(&b)) / (2.0 * h)
        })
        .collect()
}

/// Asserts `got ≈ want` elementwise with `|got − want| ≤ atol + rtol |want|`, naming the index.
pub fn assert_close(what: &str, got: &[f32], want: &[f64], atol: f64, rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        assert!(
            err <= atol + rtol * w.abs(),
            "{what}[{i}]: got {g}, want {w} (error {err:.3e})"
        );
    }
}
