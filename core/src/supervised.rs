//! Supervised cross-entropy over a batch: loss, parameter gradient and input gradient.
//!
//! Batches are flat row-major matrices, `xs [n · IN]` with one label per row; `ws` is the
//! caller's [workspace](crate::Shape::workspace_len).

use crate::error::{Error, Result};
use crate::pass::{self, scratch_len, trace_len};
use crate::{check, loss, workspace, Network};

/// Mean cross-entropy `(1/B) Σ_i CE(f(x_i), y_i)` over a batch, without gradients.
///
/// # Errors
///
/// [`Error::EmptyBatch`], [`Error::LengthMismatch`], [`Error::NonFiniteInput`] or
/// [`Error::LabelOutOfRange`] for bad data, [`Error::NonFiniteParameter`] for a network with a
/// NaN or infinite parameter, [`Error::WorkspaceTooSmall`].
pub fn cross_entropy_loss<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    ys: &[usize],
    ws: &mut [f32],
) -> Result<f32> {
    let mut sum = 0.0;
    let n = each_logits(net, xs, ys, ws, |z, y| {
        sum += loss::cross_entropy(z, y)?;
        Ok(())
    })?;
    Ok(sum / n as f32)
}

/// Mean cross-entropy over a batch; **adds** `weight · ∂/∂θ` of it to `grad`.
///
/// Per sample `i`, the logits gradient `softmax(f(x_i)) − onehot(y_i)` is scaled by
/// `weight / B` and backpropagated, so `grad` accumulates across calls (zero it first with
/// [`Parameters::zero`](crate::Parameters::zero) to start a step).
///
/// # Errors
///
/// As [`cross_entropy_loss`], and [`Error::InvalidWeight`] when `weight` is negative or not
/// finite.
///
/// # Examples
///
/// ```
/// use vatic::{supervised, Activation, Mlp, Parameters, Rng};
///
/// let net: Mlp<2, 8, 2> = Mlp::new(Activation::Relu, &mut Rng::new(0));
/// let mut grad = Mlp::ZERO;
/// let mut ws = [0.0; Mlp::<2, 8, 2>::WORKSPACE];
/// let xs = [0.0, 1.0, /* */ 1.0, 0.0];
/// let loss = supervised::cross_entropy_grad(&net, &xs, &[0, 1], 1.0, &mut grad, &mut ws)?;
/// assert!(loss > 0.0 && grad.squared_norm() > 0.0);
/// # Ok::<(), vatic::Error>(())
/// ```
pub fn cross_entropy_grad<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    ys: &[usize],
    weight: f32,
    grad: &mut N,
    ws: &mut [f32],
) -> Result<f32> {
    let s = net.shape();
    let n = check::batch(xs, s.inputs, Some(ys), s.outputs)?;
    check::weight(weight)?;
    let b = workspace::block(&s, ws)?;
    let [trace, zs, scratch] =
        workspace::carve(ws, [trace_len(&s, b), b * s.outputs, scratch_len(&s, b)])
            .ok_or(Error::WorkspaceTooSmall)?;
    let scale = weight / n as f32;
    let mut sum = 0.0;
    for (xs, ys) in xs.chunks(b * s.inputs.max(1)).zip(ys.chunks(b)) {
        let zs = zs.get_mut(..ys.len() * s.outputs).unwrap_or_default();
        pass::forward(net, xs, trace, zs);
        for (z, &y) in zs.chunks_exact_mut(s.outputs.max(1)).zip(ys) {
            sum += loss::cross_entropy_grad(z, y)?;
            for v in z.iter_mut() {
                *v *= scale;
            }
        }
        pass::backward(net, xs, trace, zs, Some(grad), None, scratch);
    }
    Ok(sum / n as f32)
}

/// Cross-entropy of one sample; writes its input gradient `∇_x CE(f(x), y)` to `dx`.
///
/// # Errors
///
/// [`Error::LengthMismatch`] when `x` or `dx` is not one sample, [`Error::NonFiniteInput`],
/// [`Error::LabelOutOfRange`], [`Error::WorkspaceTooSmall`].
pub fn input_gradient<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    dx: &mut [f32],
    ws: &mut [f32],
) -> Result<f32> {
    let s = net.shape();
    if x.len() != s.inputs || dx.len() != s.inputs {
        return Err(Error::LengthMismatch);
    }
    check::batch(x, s.inputs, Some(&[y]), s.outputs)?;
    workspace::block(&s, ws)?;
    Ok(input_gradient_unchecked(net, x, y, dx, ws))
}

/// [`input_gradient`] for an already validated sample (label `< OUT`) and workspace.
#[inline]
pub(crate) fn input_gradient_unchecked<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    dx: &mut [f32],
    ws: &mut [f32],
) -> f32 {
    input_gradient_and_class(net, x, y, dx, ws).0
}

/// [`input_gradient_unchecked`] and the class `argmax f(x)` of the same forward pass (PGD reads
/// its prediction there, without a second pass). One function for both, so a firmware links
/// one copy of the gradient per network.
#[inline]
pub(crate) fn input_gradient_and_class<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    dx: &mut [f32],
    ws: &mut [f32],
) -> (f32, usize) {
    let s = net.shape();
    let Some([trace, z, scratch]) =
        workspace::carve(ws, [trace_len(&s, 1), s.outputs, scratch_len(&s, 1)])
    else {
        return (f32::NAN, y);
    };
    pass::forward(net, x, trace, z);
    let class = crate::argmax(z);
    let ce = match loss::cross_entropy_grad(z, y) {
        Ok(ce) => {
            pass::backward(net, x, trace, z, None, Some(dx), scratch);
            ce
        }
        Err(_) => {
            dx.fill(0.0);
            f32::NAN
        }
    };
    (ce, class)
}

/// Fraction of samples whose predicted class equals the label.
///
/// # Errors
///
/// As [`cross_entropy_loss`].
pub fn accuracy<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    ys: &[usize],
    ws: &mut [f32],
) -> Result<f32> {
    let mut correct = 0usize;
    let n = each_logits(net, xs, ys, ws, |z, y| {
        correct += usize::from(crate::argmax(z) == y);
        Ok(())
    })?;
    Ok(correct as f32 / n as f32)
}

/// Validates a labelled batch and calls `f(logits, label)` for every sample in order, in
/// blocks of as many samples as `ws` holds; returns the number of samples.
fn each_logits<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    ys: &[usize],
    ws: &mut [f32],
    mut f: impl FnMut(&[f32], usize) -> Result<()>,
) -> Result<usize> {
    net.check_finite()?;
    let s = net.shape();
    let n = check::batch(xs, s.inputs, Some(ys), s.outputs)?;
    let b = workspace::block(&s, ws)?;
    let [trace, zs] =
        workspace::carve(ws, [trace_len(&s, b), b * s.outputs]).ok_or(Error::WorkspaceTooSmall)?;
    for (xs, ys) in xs.chunks(b * s.inputs.max(1)).zip(ys.chunks(b)) {
        pass::forward(net, xs, trace, zs);
        for (z, &y) in zs.chunks_exact(s.outputs.max(1)).zip(ys) {
            f(z, y)?;
        }
    }
    Ok(n)
}
