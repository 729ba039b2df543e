//! The run-time network: widths and parameters in caller-chosen storage, laid out as PyTorch's
//! `nn.Sequential` of `Linear` layers.

use crate::error::{Error, Result};
use crate::{Activation, DenseMut, DenseRef, Network, Parameters};

/// A multi-layer perceptron whose widths are run-time values: `widths = [IN, H1, …, OUT]`
/// (at least two entries, each ≥ 1) and one flat parameter array in `nn.Sequential` order —
/// `W0` row-major `[H1][IN]`, `b0 [H1]`, `W1 [H2][H1]`, `b1`, …
///
/// The storage is the caller's: `Vec<usize>` / `Vec<f32>` on a host, borrowed slices or
/// arrays on a device (a blob's network loaded into a `static` buffer). The network computes
/// the same bits as the compile-time [`Net`](crate::Net) of the same widths.
///
/// # Examples
///
/// ```
/// use vatic::{pass, Activation, Network, Rng, Sequential};
///
/// let widths = [3, 5, 4, 2];
/// let mut params = [0.0f32; 5 * 4 + 4 * 6 + 2 * 5];
/// assert_eq!(Sequential::<&[usize], &mut [f32]>::param_count(&widths), Some(params.len()));
/// let mut net = Sequential::new(&widths[..], &mut params[..], Activation::Tanh)?;
/// net.init(&mut Rng::new(1));
/// let mut ws = [0.0; 64];
/// let mut z = [0.0; 2];
/// pass::logits(&net, &[0.1, 0.2, 0.3], &mut z, &mut ws)?;
/// assert!(z.iter().all(|v| v.is_finite()));
/// # Ok::<(), vatic::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sequential<W, P> {
    widths: W,
    params: P,
    activation: Activation,
}

/// `Σ_l w_{l+1} · (w_l + 1)`, checked.
fn param_count(widths: &[usize]) -> Option<usize> {
    if widths.len() < 2 || widths.contains(&0) {
        return None;
    }
    widths.windows(2).try_fold(0usize, |acc, w| match w {
        [a, b] => b.checked_mul(a.checked_add(1)?)?.checked_add(acc),
        _ => Some(acc),
    })
}

impl<W: AsRef<[usize]>, P: AsRef<[f32]>> Sequential<W, P> {
    /// Parameters of a network with these widths: `Σ_l w_{l+1} · (w_l + 1)`; `None` for fewer
    /// than two widths, a zero width, or an overflow.
    pub fn param_count(widths: &[usize]) -> Option<usize> {
        param_count(widths)
    }

    /// A network over `params` with these widths and activation.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidShape`] for fewer than two widths or a zero width, and
    /// [`Error::ShapeMismatch`] when `params` does not have [`Sequential::param_count`] values.
    pub fn new(widths: W, params: P, activation: Activation) -> Result<Self> {
        let n = param_count(widths.as_ref()).ok_or(Error::InvalidShape)?;
        if params.as_ref().len() != n {
            return Err(Error::ShapeMismatch);
        }
        Ok(Sequential {
            widths,
            params,
            activation,
        })
    }

    /// The widths, input first.
    pub fn widths(&self) -> &[usize] {
        self.widths.as_ref()
    }

    /// The flat parameters.
    pub fn params(&self) -> &[f32] {
        self.params.as_ref()
    }

    /// The storage, given back.
    pub fn into_parts(self) -> (W, P, Activation) {
        (self.widths, self.params, self.activation)
    }

    /// `(offset, inputs, outputs)` of layer `l`.
    fn span(&self, l: usize) -> Option<(usize, usize, usize)> {
        let w = self.widths.as_ref();
        let mut at = 0;
        for k in 0..l {
            at += w.get(k + 1)? * (w.get(k)? + 1);
        }
        Some((at, *w.get(l)?, *w.get(l + 1)?))
    }
}

impl<W: AsRef<[usize]>, P: AsRef<[f32]> + AsMut<[f32]>> Sequential<W, P> {
    /// The flat parameters, mutable.
    pub fn params_mut(&mut self) -> &mut [f32] {
        self.params.as_mut()
    }
}

impl<W: AsRef<[usize]>, P: AsRef<[f32]> + AsMut<[f32]>> Parameters for Sequential<W, P> {
    fn tensors(&self) -> impl Iterator<Item = &[f32]> {
        (0..self.depth())
            .filter_map(|l| self.layer(l))
            .flat_map(|d| [d.weight, d.bias])
    }

    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
        let w = self.widths.as_ref();
        let mut sizes = w.windows(2).flat_map(|p| match p {
            [a, b] => [a * b, *b],
            _ => [0, 0],
        });
        let mut rest = self.params.as_mut();
        core::iter::from_fn(move || {
            let n = sizes.next()?;
            let (head, tail) = core::mem::take(&mut rest).split_at_mut_checked(n)?;
            rest = tail;
            Some(head)
        })
    }

    fn count(&self) -> usize {
        self.params.as_ref().len()
    }
}

impl<W: AsRef<[usize]>, P: AsRef<[f32]> + AsMut<[f32]>> Network for Sequential<W, P> {
    fn activation(&self) -> Activation {
        self.activation
    }

    fn set_activation(&mut self, activation: Activation) {
        self.activation = activation;
    }

    fn depth(&self) -> usize {
        self.widths.as_ref().len().saturating_sub(1)
    }

    fn layer(&self, l: usize) -> Option<DenseRef<'_>> {
        let (at, i, o) = self.span(l)?;
        let p = self.params.as_ref().get(at..at + o * (i + 1))?;
        let (weight, bias) = p.split_at_checked(o * i)?;
        Some(DenseRef {
            weight,
            bias,
            inputs: i,
        })
    }

    fn layer_mut(&mut self, l: usize) -> Option<DenseMut<'_>> {
        let (at, i, o) = self.span(l)?;
        let p = self.params.as_mut().get_mut(at..at + o * (i + 1))?;
        let (weight, bias) = p.split_at_mut_checked(o * i)?;
        Some(DenseMut {
            weight,
            bias,
            inputs: i,
        })
    }

    fn width(&self, l: usize) -> usize {
        self.widths.as_ref().get(l).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_nn_sequential() {
        let widths = [2, 3, 1];
        let params: [f32; 13] = core::array::from_fn(|i| i as f32);
        let net = Sequential::new(widths, params, Activation::Relu).unwrap();
        let l0 = net.layer(0).unwrap();
        assert_eq!(
            (l0.weight.len(), l0.bias, l0.inputs),
            (6, &[6.0, 7.0, 8.0][..], 2)
        );
        let l1 = net.layer(1).unwrap();
        assert_eq!((l1.weight, l1.bias), (&[9.0, 10.0, 11.0][..], &[12.0][..]));
        assert!(net.layer(2).is_none());
        let lens: [usize; 4] = {
            let mut it = net.tensors().map(<[f32]>::len);
            core::array::from_fn(|_| it.next().unwrap_or(0))
        };
        assert_eq!(lens, [6, 3, 3, 1]);
    }

    #[test]
    fn tensors_mut_cover_every_parameter_once() {
        let mut net =
            Sequential::new([3, 4, 4, 2], [0.0f32; 16 + 20 + 10], Activation::Tanh).unwrap();
        for (k, t) in net.tensors_mut().enumerate() {
            t.fill(k as f32 + 1.0);
        }
        assert_eq!(net.layer(1).unwrap().bias, &[4.0; 4]);
        assert_eq!(net.layer(2).unwrap().weight, &[5.0; 8]);
        assert!(net.params().iter().all(|&v| v > 0.0));
    }

    #[test]
    fn bad_shapes_are_refused() {
        let p = [0.0f32; 4];
        assert_eq!(
            Sequential::new(&[3][..], &p[..], Activation::Relu).unwrap_err(),
            Error::InvalidShape
        );
        assert_eq!(
            Sequential::new(&[3, 0, 2][..], &p[..], Activation::Relu).unwrap_err(),
            Error::InvalidShape
        );
        assert_eq!(
            Sequential::new(&[1, 3][..], &p[..], Activation::Relu).unwrap_err(),
            Error::ShapeMismatch
        );
        assert_eq!(
            Sequential::<&[usize], &[f32]>::param_count(&[1, 2]),
            Some(4)
        );
    }
}
