//! Supervised cross-entropy over a batch: loss, parameter gradient and input gradient.

use crate::error::Result;
use crate::{check, loss, Network, BLOCK};

/// Mean cross-entropy `(1/B) Σ_i CE(f(x_i), y_i)` over a batch, without gradients.
///
/// # Errors
///
/// [`Error::EmptyBatch`](crate::Error::EmptyBatch), [`Error::LengthMismatch`](crate::Error::LengthMismatch),
/// [`Error::NonFiniteInput`](crate::Error::NonFiniteInput) or
/// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange) for bad data.
pub fn cross_entropy_loss<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    xs: &[[f32; IN]],
    ys: &[usize],
) -> Result<f32> {
    check::batch(xs, Some(ys), OUT)?;
    let mut sum = 0.0;
    for (x, &y) in xs.iter().zip(ys) {
        sum += loss::cross_entropy(&net.logits(x), y)?.0;
    }
    Ok(sum / xs.len() as f32)
}

/// Mean cross-entropy over a batch; **adds** `weight · ∂/∂θ` of it to `grad`.
///
/// Per sample `i`, the logits gradient `softmax(f(x_i)) − onehot(y_i)` is scaled by
/// `weight / B` and backpropagated, so `grad` accumulates across calls (zero it first with
/// [`Parameters::zero`](crate::Parameters::zero) to start a step).
///
/// # Errors
///
/// As [`cross_entropy_loss`], and [`Error::InvalidWeight`](crate::Error::InvalidWeight) when
/// `weight` is negative or not finite.
///
/// # Examples
///
/// ```
/// use vatic::{supervised, Activation, Mlp, Parameters, Rng};
///
/// let net: Mlp<2, 8, 2> = Mlp::new(Activation::Relu, &mut Rng::new(0));
/// let mut grad = Mlp::ZERO;
/// let loss = supervised::cross_entropy_grad(&net, &[[0.0, 1.0], [1.0, 0.0]], &[0, 1], 1.0, &mut grad)?;
/// assert!(loss > 0.0 && grad.squared_norm() > 0.0);
/// # Ok::<(), vatic::Error>(())
/// ```
pub fn cross_entropy_grad<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    xs: &[[f32; IN]],
    ys: &[usize],
    weight: f32,
    grad: &mut N,
) -> Result<f32> {
    check::batch(xs, Some(ys), OUT)?;
    check::weight(weight)?;
    let scale = weight / xs.len() as f32;
    let mut traces = [N::EMPTY_TRACE; BLOCK];
    let mut sum = 0.0;
    for (xs, ys) in xs.chunks(BLOCK).zip(ys.chunks(BLOCK)) {
        let mut zs = [[0.0; OUT]; BLOCK];
        net.forward_block(xs, &mut traces, &mut zs);
        for (z, &y) in zs.iter_mut().zip(ys) {
            let (ce, dz) = loss::cross_entropy(z, y)?;
            sum += ce;
            for (zv, d) in z.iter_mut().zip(dz) {
                *zv = d * scale;
            }
        }
        let n = xs.len();
        net.backward_block(&traces, zs.get(..n).unwrap_or_default(), Some(grad), None);
    }
    Ok(sum / xs.len() as f32)
}

/// Cross-entropy of one sample and its input gradient `∇_x CE(f(x), y)`.
///
/// # Errors
///
/// [`Error::NonFiniteInput`](crate::Error::NonFiniteInput) or
/// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange).
pub fn input_gradient<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    x: &[f32; IN],
    y: usize,
) -> Result<(f32, [f32; IN])> {
    check::batch(core::slice::from_ref(x), Some(&[y]), OUT)?;
    Ok(input_gradient_unchecked(net, x, y))
}

/// [`input_gradient`] for an already validated sample (label `< OUT`).
#[inline]
pub(crate) fn input_gradient_unchecked<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    x: &[f32; IN],
    y: usize,
) -> (f32, [f32; IN]) {
    let mut trace = N::EMPTY_TRACE;
    let z = net.forward(x, &mut trace);
    let mut dx = [0.0; IN];
    match loss::cross_entropy(&z, y) {
        Ok((ce, dz)) => {
            net.backward(&trace, &dz, None, Some(&mut dx));
            (ce, dx)
        }
        Err(_) => (f32::NAN, dx),
    }
}

/// Fraction of samples whose predicted class equals the label.
///
/// # Errors
///
/// As [`cross_entropy_loss`].
pub fn accuracy<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    xs: &[[f32; IN]],
    ys: &[usize],
) -> Result<f32> {
    check::batch(xs, Some(ys), OUT)?;
    let correct = xs
        .iter()
        .zip(ys)
        .filter(|(x, &y)| net.predict(x) == y)
        .count();
    Ok(correct as f32 / xs.len() as f32)
}
