//! A fully connected layer `y = W x + b`.

use crate::kernels::{axpy, dot};

/// A dense layer with `IN` inputs and `OUT` outputs: `y = W x + b`.
///
/// Shapes: `weight` is `[OUT][IN]` (row `o` holds the weights into output `o`, the layout of
/// PyTorch's `nn.Linear.weight`), `bias` is `[OUT]`. Each output is
/// `y_o = dot(W_o, x) + b_o` with [`dot`]'s fixed summation order.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense<const IN: usize, const OUT: usize> {
    /// `W`, shape `[OUT][IN]`.
    pub weight: [[f32; IN]; OUT],
    /// `b`, shape `[OUT]`.
    pub bias: [f32; OUT],
}

impl<const IN: usize, const OUT: usize> Dense<IN, OUT> {
    /// All weights and biases zero.
    pub const ZERO: Self = Self {
        weight: [[0.0; IN]; OUT],
        bias: [0.0; OUT],
    };

    /// `y = W x + b`.
    #[inline]
    pub fn forward(&self, x: &[f32; IN], y: &mut [f32; OUT]) {
        for ((yo, row), &b) in y.iter_mut().zip(&self.weight).zip(&self.bias) {
            *yo = dot(row, x) + b;
        }
    }

    /// `y = W v`: the layer's Jacobian applied to a tangent `v` (forward-mode; no bias).
    #[inline]
    pub fn tangent(&self, v: &[f32; IN], y: &mut [f32; OUT]) {
        for (yo, row) in y.iter_mut().zip(&self.weight) {
            *yo = dot(row, v);
        }
    }

    /// Accumulates the parameter gradient of `dyᵀ y` at input `x`: `∂W += dy xᵀ`, `∂b += dy`.
    #[inline]
    pub fn accumulate_grad(&self, x: &[f32; IN], dy: &[f32; OUT], grad: &mut Self) {
        for ((grow, gb), &d) in grad.weight.iter_mut().zip(grad.bias.iter_mut()).zip(dy) {
            axpy(grow, d, x);
            *gb += d;
        }
    }

    /// `dx = Wᵀ dy`, summed over outputs in increasing `o`.
    #[inline]
    pub fn backprop_input(&self, dy: &[f32; OUT], dx: &mut [f32; IN]) {
        dx.fill(0.0);
        for (row, &d) in self.weight.iter().zip(dy) {
            axpy(dx, d, row);
        }
    }

    /// Fills the weights with `N(0, 1/IN)` samples (row by row) and zeroes the bias.
    pub fn init(&mut self, rng: &mut crate::Rng) {
        let std = 1.0 / crate::math::sqrt(IN as f32);
        for row in &mut self.weight {
            for w in row {
                *w = rng.normal() * std;
            }
        }
        self.bias.fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_transpose() {
        let layer = Dense::<3, 2> {
            weight: [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
            bias: [0.5, -0.5],
        };
        let mut y = [0.0; 2];
        layer.forward(&[1.0, 0.0, -1.0], &mut y);
        assert_eq!(y, [-1.5, -2.5]);
        let mut dx = [9.0; 3];
        layer.backprop_input(&[1.0, 1.0], &mut dx);
        assert_eq!(dx, [5.0, 7.0, 9.0]);
        let mut g = Dense::<3, 2>::ZERO;
        layer.accumulate_grad(&[1.0, 2.0, 3.0], &[1.0, -1.0], &mut g);
        assert_eq!(g.weight, [[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]]);
        assert_eq!(g.bias, [1.0, -1.0]);
    }
}
