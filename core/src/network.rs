//! The interface every network shape implements: forward, backward and forward-mode passes.

use crate::{Activation, Parameters, Rng};

/// A classifier from `IN` features to `OUT` logits, differentiable in its parameters and input.
///
/// Implemented by [`Mlp`](crate::Mlp) (one hidden layer) and [`Mlp2`](crate::Mlp2) (two).
/// Everything in vatic (losses, attacks, VAT, optimisers) is written against this trait, with
/// per-sample passes that use only stack buffers of the network's widths:
///
/// * [`forward`](Network::forward) computes the logits `f(x)` and records what backprop needs
///   in a [`Trace`](Network::Trace) (the input and every hidden activation);
/// * [`backward`](Network::backward) takes `∂L/∂logits` and accumulates `∂L/∂θ` into a gradient
///   of the network's own type and/or writes the input gradient `∂L/∂x`;
/// * [`jvp`](Network::jvp) multiplies the Jacobian `J = ∂f/∂x` at the traced point by a
///   tangent `v` (forward mode), which the exact VAT direction needs.
pub trait Network<const IN: usize, const OUT: usize>: Parameters {
    /// What a forward pass records for the backward pass.
    type Trace;

    /// A trace to pass to the first [`forward`](Network::forward) (its content is overwritten).
    const EMPTY_TRACE: Self::Trace;

    /// Logits `f(x)`, recording the activations in `trace`.
    fn forward(&self, x: &[f32; IN], trace: &mut Self::Trace) -> [f32; OUT];

    /// Backpropagates `dlogits = ∂L/∂f(x)` through the pass recorded in `trace`.
    ///
    /// `grad`, when given, receives `∂L/∂θ` **added** to what it holds (so a batch accumulates);
    /// `dx`, when given, is **overwritten** with `∂L/∂x`.
    fn backward(
        &self,
        trace: &Self::Trace,
        dlogits: &[f32; OUT],
        grad: Option<&mut Self>,
        dx: Option<&mut [f32; IN]>,
    );

    /// `J v`, the Jacobian of the logits at the traced input applied to `v`.
    fn jvp(&self, trace: &Self::Trace, v: &[f32; IN]) -> [f32; OUT];

    /// The hidden-layer activation.
    fn activation(&self) -> Activation;

    /// Re-initialises the parameters in place: every weight matrix `W ~ N(0, 1/fan_in)`, drawn
    /// layer by layer and row by row from `rng`, every bias `0`.
    fn init(&mut self, rng: &mut Rng);

    /// Logits `f(x)` without keeping the trace.
    fn logits(&self, x: &[f32; IN]) -> [f32; OUT] {
        let mut trace = Self::EMPTY_TRACE;
        self.forward(x, &mut trace)
    }

    /// The predicted class: the index of the largest logit (the first one on ties).
    fn predict(&self, x: &[f32; IN]) -> usize {
        argmax(&self.logits(x))
    }
}

/// Index of the largest element (the first on ties; `0` for an empty slice or all-NaN input).
#[inline]
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    let mut best_v = f32::NEG_INFINITY;
    for (i, &x) in v.iter().enumerate() {
        if x > best_v {
            best = i;
            best_v = x;
        }
    }
    best
}
