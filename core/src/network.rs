//! The interface every network shape implements: forward, backward and forward-mode passes.

use crate::{Activation, Parameters, Rng};

/// Samples per block in the batch passes ([`Network::forward_block`] and friends, and every
/// batch function of the crate built on them).
///
/// Blocking reads each weight row once per block instead of once per sample. It is part of the
/// arithmetic order of batch gradients that combine several passes per sample (adversarial
/// training, VAT with entropy), so it is the same constant on every target; the batch functions
/// keep up to `2 · BLOCK` traces and `BLOCK` hidden-width buffers on the stack.
pub const BLOCK: usize = 8;

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

    /// [`forward`](Network::forward) for each sample: `zs[s] = f(xs[s])`, traces in
    /// `traces[s]` (the shortest of the three slices sets the count).
    ///
    /// Gives the same bits as per-sample calls; [`Mlp`](crate::Mlp) and [`Mlp2`](crate::Mlp2)
    /// override it to stream each weight row once per block of samples.
    fn forward_block(&self, xs: &[[f32; IN]], traces: &mut [Self::Trace], zs: &mut [[f32; OUT]]) {
        for ((x, t), z) in xs.iter().zip(traces.iter_mut()).zip(zs.iter_mut()) {
            *z = self.forward(x, t);
        }
    }

    /// [`backward`](Network::backward) for each sample, in sample order: `grad` accumulates
    /// every sample's `∂L/∂θ`, `dxs[s]` receives sample `s`'s `∂L/∂x`.
    fn backward_block(
        &self,
        traces: &[Self::Trace],
        dzs: &[[f32; OUT]],
        mut grad: Option<&mut Self>,
        dxs: Option<&mut [[f32; IN]]>,
    ) {
        match dxs {
            Some(dxs) => {
                for ((t, dz), dx) in traces.iter().zip(dzs).zip(dxs.iter_mut()) {
                    self.backward(t, dz, grad.as_deref_mut(), Some(dx));
                }
            }
            None => {
                for (t, dz) in traces.iter().zip(dzs) {
                    self.backward(t, dz, grad.as_deref_mut(), None);
                }
            }
        }
    }

    /// [`jvp`](Network::jvp) for each sample: `out[s] = J_s vs[s]`.
    fn jvp_block(&self, traces: &[Self::Trace], vs: &[[f32; IN]], out: &mut [[f32; OUT]]) {
        for ((t, v), o) in traces.iter().zip(vs).zip(out.iter_mut()) {
            *o = self.jvp(t, v);
        }
    }

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

    /// Logits of a batch without keeping the traces: `zs[s] = f(xs[s])` (the shorter slice
    /// sets the count), the same bits as [`logits`](Network::logits) per sample.
    ///
    /// Runs [`forward_block`](Network::forward_block) on blocks of [`BLOCK`] samples with
    /// `BLOCK` traces on the stack (`BLOCK · 4 · (IN + hidden widths)` bytes).
    fn logits_block(&self, xs: &[[f32; IN]], zs: &mut [[f32; OUT]]) {
        let mut traces = [Self::EMPTY_TRACE; BLOCK];
        for (xs, zs) in xs.chunks(BLOCK).zip(zs.chunks_mut(BLOCK)) {
            self.forward_block(xs, &mut traces, zs);
        }
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
