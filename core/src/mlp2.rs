//! The two-hidden-layer perceptron `IN → H1 → H2 → OUT`.

use crate::{Activation, Dense, Network, Parameters, Rng, BLOCK};

/// A perceptron with two hidden layers: `f(x) = W₃ σ(W₂ σ(W₁ x + b₁) + b₂) + b₃`.
///
/// Same conventions as [`Mlp`](crate::Mlp): nested arrays, no heap, gradients of the same type.
///
/// # Examples
///
/// ```
/// use vatic::{Activation, Mlp2, Network, Rng};
///
/// let net: Mlp2<4, 8, 8, 3> = Mlp2::new(Activation::Tanh, &mut Rng::new(1));
/// assert!(net.predict(&[0.1, 0.2, 0.3, 0.4]) < 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp2<const IN: usize, const H1: usize, const H2: usize, const OUT: usize> {
    /// Input → first hidden layer.
    pub hidden1: Dense<IN, H1>,
    /// First → second hidden layer.
    pub hidden2: Dense<H1, H2>,
    /// Second hidden layer → logits.
    pub output: Dense<H2, OUT>,
    /// `σ`, applied after both hidden layers.
    pub activation: Activation,
}

/// What [`Mlp2::forward`](Network::forward) records.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp2Trace<const IN: usize, const H1: usize, const H2: usize> {
    /// The input `x`.
    pub x: [f32; IN],
    /// First hidden activations.
    pub h1: [f32; H1],
    /// Second hidden activations.
    pub h2: [f32; H2],
}

impl<const IN: usize, const H1: usize, const H2: usize, const OUT: usize> Mlp2<IN, H1, H2, OUT> {
    /// All weights and biases zero, ReLU (usable in a `static`; the same as
    /// [`Parameters::ZERO`]).
    pub const ZERO: Self = Self {
        hidden1: Dense::ZERO,
        hidden2: Dense::ZERO,
        output: Dense::ZERO,
        activation: Activation::Relu,
    };

    /// A network with the given activation and parameters drawn by [`Network::init`].
    pub fn new(activation: Activation, rng: &mut Rng) -> Self {
        let mut net = Self::ZERO.with_activation(activation);
        net.init(rng);
        net
    }

    /// The same network with another activation.
    pub const fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }
}

impl<const IN: usize, const H1: usize, const H2: usize, const OUT: usize> Parameters
    for Mlp2<IN, H1, H2, OUT>
{
    const ZERO: Self = Self::ZERO;
    const COUNT: usize = H1 * (IN + 1) + H2 * (H1 + 1) + OUT * (H2 + 1);

    fn tensors(&self) -> impl Iterator<Item = &[f32]> {
        [
            self.hidden1.weight.as_flattened(),
            &self.hidden1.bias[..],
            self.hidden2.weight.as_flattened(),
            &self.hidden2.bias[..],
            self.output.weight.as_flattened(),
            &self.output.bias[..],
        ]
        .into_iter()
    }

    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
        [
            self.hidden1.weight.as_flattened_mut(),
            &mut self.hidden1.bias[..],
            self.hidden2.weight.as_flattened_mut(),
            &mut self.hidden2.bias[..],
            self.output.weight.as_flattened_mut(),
            &mut self.output.bias[..],
        ]
        .into_iter()
    }
}

impl<const IN: usize, const H1: usize, const H2: usize, const OUT: usize> Network<IN, OUT>
    for Mlp2<IN, H1, H2, OUT>
{
    type Trace = Mlp2Trace<IN, H1, H2>;
    const EMPTY_TRACE: Self::Trace = Mlp2Trace {
        x: [0.0; IN],
        h1: [0.0; H1],
        h2: [0.0; H2],
    };

    fn forward(&self, x: &[f32; IN], trace: &mut Self::Trace) -> [f32; OUT] {
        trace.x = *x;
        self.hidden1.forward(x, &mut trace.h1);
        self.activation.apply(&mut trace.h1);
        self.hidden2.forward(&trace.h1, &mut trace.h2);
        self.activation.apply(&mut trace.h2);
        let mut z = [0.0; OUT];
        self.output.forward(&trace.h2, &mut z);
        z
    }

    fn backward(
        &self,
        trace: &Self::Trace,
        dlogits: &[f32; OUT],
        mut grad: Option<&mut Self>,
        dx: Option<&mut [f32; IN]>,
    ) {
        let mut dh2 = [0.0; H2];
        self.output.backprop_input(dlogits, &mut dh2);
        if let Some(g) = grad.as_deref_mut() {
            self.output
                .accumulate_grad(&trace.h2, dlogits, &mut g.output);
        }
        self.activation.backprop(&trace.h2, &mut dh2);
        let mut dh1 = [0.0; H1];
        self.hidden2.backprop_input(&dh2, &mut dh1);
        if let Some(g) = grad.as_deref_mut() {
            self.hidden2
                .accumulate_grad(&trace.h1, &dh2, &mut g.hidden2);
        }
        self.activation.backprop(&trace.h1, &mut dh1);
        if let Some(g) = grad {
            self.hidden1.accumulate_grad(&trace.x, &dh1, &mut g.hidden1);
        }
        if let Some(dx) = dx {
            self.hidden1.backprop_input(&dh1, dx);
        }
    }

    fn jvp(&self, trace: &Self::Trace, v: &[f32; IN]) -> [f32; OUT] {
        let mut t1 = [0.0; H1];
        self.hidden1.tangent(v, &mut t1);
        self.activation.backprop(&trace.h1, &mut t1);
        let mut t2 = [0.0; H2];
        self.hidden2.tangent(&t1, &mut t2);
        self.activation.backprop(&trace.h2, &mut t2);
        let mut tz = [0.0; OUT];
        self.output.tangent(&t2, &mut tz);
        tz
    }

    fn forward_block(&self, xs: &[[f32; IN]], traces: &mut [Self::Trace], zs: &mut [[f32; OUT]]) {
        for ((xs, ts), zs) in xs
            .chunks(BLOCK)
            .zip(traces.chunks_mut(BLOCK))
            .zip(zs.chunks_mut(BLOCK))
        {
            self.hidden1
                .forward_rows(xs, |x| x, ts, |t| &mut t.h1, true);
            for (t, x) in ts.iter_mut().zip(xs) {
                self.activation.apply(&mut t.h1);
                t.x = *x;
            }
            // h2 is computed from h1 of the same traces, so it goes through a buffer.
            let mut a2 = [[0.0; H2]; BLOCK];
            self.hidden2
                .forward_rows(ts, |t| &t.h1, &mut a2, |y| y, true);
            for (t, a) in ts.iter_mut().zip(&mut a2) {
                self.activation.apply(a);
                t.h2 = *a;
            }
            self.output.forward_rows(ts, |t| &t.h2, zs, |z| z, true);
        }
    }

    fn backward_block(
        &self,
        traces: &[Self::Trace],
        dzs: &[[f32; OUT]],
        mut grad: Option<&mut Self>,
        mut dxs: Option<&mut [[f32; IN]]>,
    ) {
        let mut start = 0;
        for (ts, dzs) in traces.chunks(BLOCK).zip(dzs.chunks(BLOCK)) {
            let n = ts.len().min(dzs.len());
            let mut dh2 = [[0.0; H2]; BLOCK];
            let dh2 = &mut dh2[..n];
            self.output.backprop_rows(dzs, |d| d, dh2);
            if let Some(g) = grad.as_deref_mut() {
                self.output
                    .grad_rows(ts, |t| &t.h2, dzs, |d| d, &mut g.output);
            }
            for (d, t) in dh2.iter_mut().zip(ts) {
                self.activation.backprop(&t.h2, d);
            }
            let mut dh1 = [[0.0; H1]; BLOCK];
            let dh1 = &mut dh1[..n];
            self.hidden2.backprop_rows(dh2, |d| d, dh1);
            if let Some(g) = grad.as_deref_mut() {
                self.hidden2
                    .grad_rows(ts, |t| &t.h1, dh2, |d| d, &mut g.hidden2);
            }
            for (d, t) in dh1.iter_mut().zip(ts) {
                self.activation.backprop(&t.h1, d);
            }
            if let Some(g) = grad.as_deref_mut() {
                self.hidden1
                    .grad_rows(ts, |t| &t.x, dh1, |d| d, &mut g.hidden1);
            }
            if let Some(dxs) = dxs.as_deref_mut() {
                if let Some(dxs) = dxs.get_mut(start..start + n) {
                    self.hidden1.backprop_rows(dh1, |d| d, dxs);
                }
            }
            start += n;
        }
    }

    fn jvp_block(&self, traces: &[Self::Trace], vs: &[[f32; IN]], out: &mut [[f32; OUT]]) {
        for ((ts, vs), out) in traces
            .chunks(BLOCK)
            .zip(vs.chunks(BLOCK))
            .zip(out.chunks_mut(BLOCK))
        {
            let n = ts.len().min(vs.len());
            let mut t1 = [[0.0; H1]; BLOCK];
            let t1 = &mut t1[..n];
            self.hidden1.forward_rows(vs, |v| v, t1, |y| y, false);
            for (d, t) in t1.iter_mut().zip(ts) {
                self.activation.backprop(&t.h1, d);
            }
            let mut t2 = [[0.0; H2]; BLOCK];
            let t2 = &mut t2[..n];
            self.hidden2.forward_rows(t1, |d| d, t2, |y| y, false);
            for (d, t) in t2.iter_mut().zip(ts) {
                self.activation.backprop(&t.h2, d);
            }
            self.output.forward_rows(t2, |d| d, out, |y| y, false);
        }
    }

    fn activation(&self) -> Activation {
        self.activation
    }

    fn init(&mut self, rng: &mut Rng) {
        self.hidden1.init(rng);
        self.hidden2.init(rng);
        self.output.init(rng);
    }
}
