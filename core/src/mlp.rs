//! The one-hidden-layer perceptron `IN → H → OUT`.

use crate::{Activation, Dense, Network, Parameters, Rng, BLOCK};

/// A perceptron with one hidden layer: `f(x) = W₂ σ(W₁ x + b₁) + b₂`.
///
/// Shapes are const generics, so the network is plain nested arrays with no heap and
/// `size_of::<Mlp<IN, H, OUT>>()` is exactly the RAM it needs
/// (`4 · (H·(IN+1) + OUT·(H+1))` bytes plus one byte of activation, padded).
/// Gradients and optimiser state have the same type.
///
/// # Examples
///
/// ```
/// use vatic::{Activation, Mlp, Network, Rng};
///
/// let mut rng = Rng::new(7);
/// let net: Mlp<2, 16, 2> = Mlp::new(Activation::Tanh, &mut rng);
/// let logits = net.logits(&[0.5, -1.0]);
/// assert!(logits.iter().all(|v| v.is_finite()));
///
/// // Networks can live in a static (e.g. on a device, behind a Mutex).
/// static BLANK: Mlp<64, 32, 10> = Mlp::ZERO;
/// assert_eq!(BLANK.logits(&[1.0; 64]), [0.0; 10]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp<const IN: usize, const H: usize, const OUT: usize> {
    /// Input → hidden layer `W₁ x + b₁`.
    pub hidden: Dense<IN, H>,
    /// Hidden → logits layer `W₂ h + b₂`.
    pub output: Dense<H, OUT>,
    /// `σ`, applied after the hidden layer.
    pub activation: Activation,
}

/// What [`Mlp::forward`](Network::forward) records: the input and the hidden activations.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpTrace<const IN: usize, const H: usize> {
    /// The input `x`.
    pub x: [f32; IN],
    /// `h = σ(W₁ x + b₁)`.
    pub h: [f32; H],
}

impl<const IN: usize, const H: usize, const OUT: usize> Mlp<IN, H, OUT> {
    /// All weights and biases zero, ReLU (usable in a `static`; the same as
    /// [`Parameters::ZERO`]).
    pub const ZERO: Self = Self {
        hidden: Dense::ZERO,
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

impl<const IN: usize, const H: usize, const OUT: usize> Parameters for Mlp<IN, H, OUT> {
    const ZERO: Self = Self::ZERO;
    const COUNT: usize = H * (IN + 1) + OUT * (H + 1);

    fn tensors(&self) -> impl Iterator<Item = &[f32]> {
        [
            self.hidden.weight.as_flattened(),
            &self.hidden.bias[..],
            self.output.weight.as_flattened(),
            &self.output.bias[..],
        ]
        .into_iter()
    }

    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
        [
            self.hidden.weight.as_flattened_mut(),
            &mut self.hidden.bias[..],
            self.output.weight.as_flattened_mut(),
            &mut self.output.bias[..],
        ]
        .into_iter()
    }
}

impl<const IN: usize, const H: usize, const OUT: usize> Network<IN, OUT> for Mlp<IN, H, OUT> {
    type Trace = MlpTrace<IN, H>;
    const EMPTY_TRACE: Self::Trace = MlpTrace {
        x: [0.0; IN],
        h: [0.0; H],
    };

    fn forward(&self, x: &[f32; IN], trace: &mut Self::Trace) -> [f32; OUT] {
        trace.x = *x;
        self.hidden.forward(x, &mut trace.h);
        self.activation.apply(&mut trace.h);
        let mut z = [0.0; OUT];
        self.output.forward(&trace.h, &mut z);
        z
    }

    fn backward(
        &self,
        trace: &Self::Trace,
        dlogits: &[f32; OUT],
        mut grad: Option<&mut Self>,
        dx: Option<&mut [f32; IN]>,
    ) {
        let mut dh = [0.0; H];
        self.output.backprop_input(dlogits, &mut dh);
        if let Some(g) = grad.as_deref_mut() {
            self.output
                .accumulate_grad(&trace.h, dlogits, &mut g.output);
        }
        self.activation.backprop(&trace.h, &mut dh);
        if let Some(g) = grad {
            self.hidden.accumulate_grad(&trace.x, &dh, &mut g.hidden);
        }
        if let Some(dx) = dx {
            self.hidden.backprop_input(&dh, dx);
        }
    }

    fn jvp(&self, trace: &Self::Trace, v: &[f32; IN]) -> [f32; OUT] {
        let mut th = [0.0; H];
        self.hidden.tangent(v, &mut th);
        // σ'(a) from h, the same diagonal as in backprop.
        self.activation.backprop(&trace.h, &mut th);
        let mut tz = [0.0; OUT];
        self.output.tangent(&th, &mut tz);
        tz
    }

    fn forward_block(&self, xs: &[[f32; IN]], traces: &mut [Self::Trace], zs: &mut [[f32; OUT]]) {
        for ((xs, ts), zs) in xs
            .chunks(BLOCK)
            .zip(traces.chunks_mut(BLOCK))
            .zip(zs.chunks_mut(BLOCK))
        {
            // Pre-activations straight into the traces, activated in place.
            self.hidden.forward_rows(xs, |x| x, ts, |t| &mut t.h, true);
            for (t, x) in ts.iter_mut().zip(xs) {
                self.activation.apply(&mut t.h);
                t.x = *x;
            }
            self.output.forward_rows(ts, |t| &t.h, zs, |z| z, true);
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
            let mut dh = [[0.0; H]; BLOCK];
            let dh = &mut dh[..n];
            self.output.backprop_rows(dzs, |d| d, dh);
            if let Some(g) = grad.as_deref_mut() {
                self.output
                    .grad_rows(ts, |t| &t.h, dzs, |d| d, &mut g.output);
            }
            for (d, t) in dh.iter_mut().zip(ts) {
                self.activation.backprop(&t.h, d);
            }
            if let Some(g) = grad.as_deref_mut() {
                self.hidden
                    .grad_rows(ts, |t| &t.x, dh, |d| d, &mut g.hidden);
            }
            if let Some(dxs) = dxs.as_deref_mut() {
                if let Some(dxs) = dxs.get_mut(start..start + n) {
                    self.hidden.backprop_rows(dh, |d| d, dxs);
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
            let mut th = [[0.0; H]; BLOCK];
            let n = ts.len().min(vs.len());
            let th = &mut th[..n];
            self.hidden.forward_rows(vs, |v| v, th, |y| y, false);
            for (d, t) in th.iter_mut().zip(ts) {
                self.activation.backprop(&t.h, d);
            }
            self.output.forward_rows(th, |d| d, out, |y| y, false);
        }
    }

    fn activation(&self) -> Activation {
        self.activation
    }

    fn init(&mut self, rng: &mut Rng) {
        self.hidden.init(rng);
        self.output.init(rng);
    }
}
