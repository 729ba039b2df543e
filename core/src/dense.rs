//! A fully connected layer `y = W x + b`.

use crate::kernels::{axpy, axpy4, dot, dot4};

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

    /// `dst[s] = W x_s (+ b)` for every sample `s` of a block, `x_s = x_of(&src[s])`.
    ///
    /// Same bits as [`Dense::forward`] / [`Dense::tangent`] per sample; each weight row is read
    /// once per four samples ([`dot4`]).
    #[inline]
    pub(crate) fn forward_rows<T>(
        &self,
        src: &[T],
        x_of: impl Fn(&T) -> &[f32; IN],
        dst: &mut [[f32; OUT]],
        with_bias: bool,
    ) {
        let n = src.len().min(dst.len());
        let (src, dst) = (
            src.get(..n).unwrap_or_default(),
            dst.get_mut(..n).unwrap_or_default(),
        );
        for (o, (row, &b)) in self.weight.iter().zip(&self.bias).enumerate() {
            let out = |v: f32| if with_bias { v + b } else { v };
            let mut sc = src.chunks_exact(4);
            let mut dc = dst.chunks_exact_mut(4);
            for (s4, d4) in (&mut sc).zip(&mut dc) {
                if let ([s0, s1, s2, s3], [d0, d1, d2, d3]) = (s4, d4) {
                    let r = dot4(row, [x_of(s0), x_of(s1), x_of(s2), x_of(s3)]);
                    for (d, r) in [d0, d1, d2, d3].into_iter().zip(r) {
                        if let Some(v) = d.get_mut(o) {
                            *v = out(r);
                        }
                    }
                }
            }
            for (s, d) in sc.remainder().iter().zip(dc.into_remainder()) {
                if let Some(v) = d.get_mut(o) {
                    *v = out(dot(row, x_of(s)));
                }
            }
        }
    }

    /// `dst[s] = Wᵀ dy_s` for every sample of a block, `dy_s = dy_of(&src[s])`, summed over
    /// outputs in increasing `o` (same bits as [`Dense::backprop_input`]).
    #[inline]
    pub(crate) fn backprop_rows<T>(
        &self,
        src: &[T],
        dy_of: impl Fn(&T) -> &[f32; OUT],
        dst: &mut [[f32; IN]],
    ) {
        for d in dst.iter_mut() {
            d.fill(0.0);
        }
        // Four rows at a time: dx ← (((dx + g₀W₀) + g₁W₁) + g₂W₂) + g₃W₃, the per-sample order.
        let g = |s: &T, o: usize| dy_of(s).get(o).copied().unwrap_or(0.0);
        let mut rows = self.weight.chunks_exact(4);
        let mut o = 0;
        for r4 in &mut rows {
            if let [w0, w1, w2, w3] = r4 {
                for (s, d) in src.iter().zip(dst.iter_mut()) {
                    let a = [g(s, o), g(s, o + 1), g(s, o + 2), g(s, o + 3)];
                    axpy4(d, a, [w0, w1, w2, w3]);
                }
            }
            o += 4;
        }
        for row in rows.remainder() {
            for (s, d) in src.iter().zip(dst.iter_mut()) {
                axpy(d, g(s, o), row);
            }
            o += 1;
        }
    }

    /// Accumulates the parameter gradient of a block into `grad`, sample by sample for every
    /// element (same bits as [`Dense::accumulate_grad`] called per sample in order).
    #[inline]
    pub(crate) fn grad_rows<T, U>(
        &self,
        xs: &[T],
        x_of: impl Fn(&T) -> &[f32; IN],
        dys: &[U],
        dy_of: impl Fn(&U) -> &[f32; OUT],
        grad: &mut Self,
    ) {
        let n = xs.len().min(dys.len());
        let (xs, dys) = (
            xs.get(..n).unwrap_or_default(),
            dys.get(..n).unwrap_or_default(),
        );
        let d = |u: &U, o: usize| dy_of(u).get(o).copied().unwrap_or(0.0);
        for (o, (grow, gb)) in grad.weight.iter_mut().zip(grad.bias.iter_mut()).enumerate() {
            // Four samples at a time, added in sample order (same bits as per sample).
            let mut xc = xs.chunks_exact(4);
            let mut dc = dys.chunks_exact(4);
            for (x4, d4) in (&mut xc).zip(&mut dc) {
                if let ([x0, x1, x2, x3], [u0, u1, u2, u3]) = (x4, d4) {
                    let a = [d(u0, o), d(u1, o), d(u2, o), d(u3, o)];
                    axpy4(grow, a, [x_of(x0), x_of(x1), x_of(x2), x_of(x3)]);
                    for v in a {
                        *gb += v;
                    }
                }
            }
            for (x, u) in xc.remainder().iter().zip(dc.remainder()) {
                let v = d(u, o);
                axpy(grow, v, x_of(x));
                *gb += v;
            }
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
