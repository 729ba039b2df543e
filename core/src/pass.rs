//! The three passes of a network over a block of samples, for any depth: forward (logits and
//! the trace backprop needs), backward (parameter and input gradients) and forward-mode
//! tangents (`J v`, for the exact VAT direction), plus inference helpers.
//!
//! Matrices are flat and row-major: a block of `n` samples is `xs: [n · IN]`, its logits
//! `[n · OUT]`. The **trace** of a forward pass is every hidden activation `h_l = σ(a_l)`,
//! layer-major: `[n · H1]`, then `[n · H2]`, … (`n · Σ H` values, [`Shape::hidden_sum`]).
//! Backprop reads the inputs `xs` again instead of copying them into the trace.
//!
//! ```text
//! forward:   a_l = W_l h_{l−1} + b_l,  h_l = σ(a_l),  h_0 = x,  z = a_L
//! backward:  δ_L = ∂L/∂z;  ∂W_l += δ_l h_{l−1}ᵀ,  ∂b_l += δ_l;  δ_{l−1} = σ'(a_{l−1}) ⊙ W_lᵀ δ_l
//!            ∂L/∂x = W_1ᵀ δ_1
//! tangent:   t_0 = v,  t_l = σ'(a_l) ⊙ (W_l t_{l−1}),  J v = W_L t_{L−1}
//! ```
//!
//! Each output is [`dot`](crate::kernels::dot)'s fixed order, each input gradient sums over
//! outputs in increasing order, each weight gradient adds samples in order: the results do not
//! depend on the block size or the target.

use crate::error::{Error, Result};
use crate::{workspace, Network, Shape};

/// `f32`s a trace of `n` samples needs: `n · Σ H`.
#[inline]
pub fn trace_len(shape: &Shape, n: usize) -> usize {
    n * shape.hidden_sum
}

/// `f32`s of scratch [`backward`] and [`jvp`] need for `n` samples: `2 · n · max H`.
#[inline]
pub fn scratch_len(shape: &Shape, n: usize) -> usize {
    2 * n * shape.hidden_max
}

/// Hidden activation `h_l` (`1 ≤ l < depth`) of the `n` samples of a trace.
#[inline]
fn hidden<'a, N: Network + ?Sized>(net: &N, trace: &'a [f32], n: usize, l: usize) -> &'a [f32] {
    let at: usize = (1..l).map(|k| net.width(k)).sum::<usize>() * n;
    trace.get(at..at + n * net.width(l)).unwrap_or_default()
}

/// Forward pass of a block: logits `zs [n · OUT]` of `xs [n · IN]`, and the hidden activations
/// in `trace [n · Σ H]` (`n = xs.len() / IN`; the buffers must hold `n` samples, as the
/// crate's functions size them).
#[inline]
pub fn forward<N: Network + ?Sized>(net: &N, xs: &[f32], trace: &mut [f32], zs: &mut [f32]) {
    let n = xs.len() / net.width(0).max(1);
    let depth = net.depth();
    let activation = net.activation();
    let (mut prev, mut at) = (0, 0);
    for l in 0..depth {
        let Some(d) = net.layer(l) else { return };
        let (done, rest) = trace.split_at_mut(at.min(trace.len()));
        let src = if l == 0 {
            xs
        } else {
            done.get(prev..).unwrap_or_default()
        };
        if l + 1 == depth {
            net.forward_layer::<true>(l, src, zs);
        } else {
            let dst = rest.get_mut(..n * d.outputs()).unwrap_or_default();
            net.forward_layer::<true>(l, src, dst);
            activation.apply(dst);
            prev = at;
            at += n * d.outputs();
        }
    }
}

/// Backward pass of a block recorded by [`forward`] at `xs`: backpropagates `dzs = ∂L/∂z`
/// (`[n · OUT]`).
///
/// `grad`, when given, receives `∂L/∂θ` **added** to what it holds (so a batch accumulates,
/// sample by sample in order); `dxs`, when given, is **overwritten** with `∂L/∂x` (`[n · IN]`).
/// `scratch` holds [`scratch_len`] values.
#[inline]
pub fn backward<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    trace: &[f32],
    dzs: &[f32],
    mut grad: Option<&mut N>,
    dxs: Option<&mut [f32]>,
    scratch: &mut [f32],
) {
    let n = xs.len() / net.width(0).max(1);
    let depth = net.depth();
    let activation = net.activation();
    let half = n * net.shape().hidden_max;
    let (mut cur, mut next) = scratch.split_at_mut(half.min(scratch.len()));
    let mut dxs = dxs;
    for l in (0..depth).rev() {
        let Some(d) = net.layer(l) else { return };
        let input = if l == 0 { xs } else { hidden(net, trace, n, l) };
        let delta: &[f32] = if l + 1 == depth {
            dzs
        } else {
            cur.get(..n * d.outputs()).unwrap_or_default()
        };
        if let Some(g) = grad.as_deref_mut() {
            g.accumulate_layer(l, input, delta);
        }
        if l > 0 {
            let prev = next.get_mut(..n * d.inputs).unwrap_or_default();
            net.backprop_layer(l, delta, prev);
            activation.backprop(input, prev);
            core::mem::swap(&mut cur, &mut next);
        } else if let Some(dx) = dxs.as_deref_mut() {
            net.backprop_layer(l, delta, dx);
        }
    }
}

/// Forward-mode pass of a block: `out[s] = J(x_s) vs[s]` (`[n · OUT]`), the Jacobian of the
/// logits at the inputs traced by [`forward`] applied to tangents `vs [n · IN]`. `scratch`
/// holds [`scratch_len`] values.
#[inline]
pub fn jvp<N: Network + ?Sized>(
    net: &N,
    trace: &[f32],
    vs: &[f32],
    out: &mut [f32],
    scratch: &mut [f32],
) {
    let n = vs.len() / net.width(0).max(1);
    let depth = net.depth();
    let activation = net.activation();
    let half = n * net.shape().hidden_max;
    let (mut cur, mut next) = scratch.split_at_mut(half.min(scratch.len()));
    for l in 0..depth {
        let Some(d) = net.layer(l) else { return };
        let src: &[f32] = if l == 0 {
            vs
        } else {
            cur.get(..n * d.inputs).unwrap_or_default()
        };
        if l + 1 == depth {
            net.forward_layer::<false>(l, src, out);
        } else {
            let dst = next.get_mut(..n * d.outputs()).unwrap_or_default();
            net.forward_layer::<false>(l, src, dst);
            // σ'(a) from h, the same diagonal as in backprop.
            activation.backprop(hidden(net, trace, n, l + 1), dst);
            core::mem::swap(&mut cur, &mut next);
        }
    }
}

/// Checks that `v` holds whole rows of `width` and at least one; returns their number.
#[inline]
pub(crate) fn rows_of(v: &[f32], width: usize) -> Result<usize> {
    if width == 0 || !v.len().is_multiple_of(width) {
        return Err(Error::LengthMismatch);
    }
    match v.len() / width {
        0 => Err(Error::EmptyBatch),
        n => Ok(n),
    }
}

/// Logits of a batch: `zs [n · OUT] = f(xs [n · IN])`, in blocks of as many samples as `ws`
/// holds (same bits for any block size).
///
/// # Errors
///
/// [`Error::LengthMismatch`] when `xs` is not whole rows of the input width or `zs` does not
/// match, [`Error::EmptyBatch`], [`Error::WorkspaceTooSmall`].
#[inline]
pub fn logits<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    zs: &mut [f32],
    ws: &mut [f32],
) -> Result<()> {
    let shape = net.shape();
    let n = rows_of(xs, shape.inputs)?;
    if zs.len() != n * shape.outputs {
        return Err(Error::LengthMismatch);
    }
    let b = workspace::block(&shape, ws)?;
    let trace = ws.get_mut(..trace_len(&shape, b)).unwrap_or_default();
    let xb = xs.chunks(b * shape.inputs);
    for (xs, zs) in xb.zip(zs.chunks_mut(b * shape.outputs)) {
        forward(net, xs, trace, zs);
    }
    Ok(())
}

/// The predicted class of one sample: the index of its largest logit (the first on ties).
///
/// # Errors
///
/// As [`logits`].
#[inline]
pub fn predict<N: Network + ?Sized>(net: &N, x: &[f32], ws: &mut [f32]) -> Result<usize> {
    let shape = net.shape();
    if x.len() != shape.inputs {
        return Err(Error::LengthMismatch);
    }
    workspace::block(&shape, ws)?;
    Ok(predict_unchecked(net, x, ws))
}

/// [`predict`] for a validated sample and workspace.
#[inline]
pub(crate) fn predict_unchecked<N: Network + ?Sized>(net: &N, x: &[f32], ws: &mut [f32]) -> usize {
    let shape = net.shape();
    let Some([trace, z]) = workspace::carve(ws, [shape.hidden_sum, shape.outputs]) else {
        return 0;
    };
    forward(net, x, trace, z);
    crate::argmax(z)
}
