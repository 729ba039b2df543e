//! A fully connected layer `y = W x + b`.

use crate::kernels::{axpy, dot, dot_tile, load8, store8, LANES};
use wide::f32x8;

// Register-tile shapes of the block passes. They decide which outputs are computed together,
// never the order of any sum, so they may depend on the target: with AVX (sixteen 256-bit
// registers, one per 8-lane partial sum) the tiles are twice as large as with SSE2 or on
// Cortex-M. `.ci/run` runs the bit-equality tests in an AVX build too.

/// Weight rows per tile of the block forward pass ([`dot_tile`]'s `R`).
const FWD_ROWS: usize = 2;
/// Samples per tile of the block forward pass ([`dot_tile`]'s `S`).
const FWD_SAMPLES: usize = if cfg!(target_feature = "avx") { 4 } else { 2 };
/// Samples per register tile of the block input-gradient pass.
const BWD_SAMPLES: usize = if cfg!(target_feature = "avx") { 8 } else { 4 };
/// Weight rows per panel of the block input-gradient pass.
const BWD_PANEL: usize = 16;
/// Gradient rows per register tile of the block parameter-gradient pass.
const GRAD_ROWS: usize = if cfg!(target_feature = "avx") { 8 } else { 4 };

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

    /// `y_of(&mut dst[s]) = W x_s (+ b)` for every sample `s` of a block, `x_s = x_of(&src[s])`
    /// (the accessors let a layer read from and write into traces without a copy).
    ///
    /// Same bits as [`Dense::forward`] / [`Dense::tangent`] per sample; the products are
    /// computed in [`dot_tile`]s of [`FWD_ROWS`] rows × [`FWD_SAMPLES`] samples, so each chunk
    /// of a weight row is loaded once per tile of samples.
    #[inline]
    pub(crate) fn forward_rows<T, U>(
        &self,
        src: &[T],
        x_of: impl Fn(&T) -> &[f32; IN],
        dst: &mut [U],
        y_of: impl Fn(&mut U) -> &mut [f32; OUT],
        with_bias: bool,
    ) {
        let n = src.len().min(dst.len());
        let (src, dst) = (
            src.get(..n).unwrap_or_default(),
            dst.get_mut(..n).unwrap_or_default(),
        );
        if IN < LANES {
            return self.forward_narrow(src, x_of, dst, y_of, with_bias);
        }
        let mut rows = self.weight.chunks_exact(FWD_ROWS);
        let mut o = 0;
        for r in &mut rows {
            self.forward_tiles::<FWD_ROWS, T, U>(o, r, src, &x_of, dst, &y_of, with_bias);
            o += FWD_ROWS;
        }
        for r in rows.remainder().chunks(1) {
            self.forward_tiles::<1, T, U>(o, r, src, &x_of, dst, &y_of, with_bias);
            o += 1;
        }
    }

    /// [`Dense::forward_rows`] for a layer narrower than a vector (`IN < LANES`), vectorised
    /// across outputs: [`dot`] of fewer than [`LANES`] elements is `((+0 + w₀x₀) + w₁x₁) + …`
    /// (its partial sums are all zero), computed here for [`LANES`] rows at once.
    #[inline(always)]
    fn forward_narrow<T, U>(
        &self,
        src: &[T],
        x_of: impl Fn(&T) -> &[f32; IN],
        dst: &mut [U],
        y_of: impl Fn(&mut U) -> &mut [f32; OUT],
        with_bias: bool,
    ) {
        let flat = self.weight.as_flattened();
        let w = |o: usize, i: usize| flat.get(o * IN + i).copied().unwrap_or(0.0);
        let full = OUT - OUT % LANES;
        for (s, d) in src.iter().zip(dst.iter_mut()) {
            let (x, y) = (x_of(s), y_of(d));
            for o in (0..full).step_by(LANES) {
                let mut acc = f32x8::ZERO;
                for (i, &xi) in x.iter().enumerate() {
                    let wv = f32x8::new(core::array::from_fn(|j| w(o + j, i)));
                    acc += wv * f32x8::splat(xi);
                }
                if with_bias {
                    acc += load8(&self.bias, o);
                }
                store8(y, o, acc);
            }
            for o in full..OUT {
                let mut acc = 0.0f32;
                for (i, &xi) in x.iter().enumerate() {
                    acc += w(o, i) * xi;
                }
                if let Some(y) = y.get_mut(o) {
                    *y = if with_bias {
                        acc + self.bias.get(o).copied().unwrap_or(0.0)
                    } else {
                        acc
                    };
                }
            }
        }
    }

    /// Rows `o .. o + R` of [`Dense::forward_rows`] for every sample.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn forward_tiles<const R: usize, T, U>(
        &self,
        o: usize,
        rows: &[[f32; IN]],
        src: &[T],
        x_of: &impl Fn(&T) -> &[f32; IN],
        dst: &mut [U],
        y_of: &impl Fn(&mut U) -> &mut [f32; OUT],
        with_bias: bool,
    ) {
        let a: [&[f32]; R] = core::array::from_fn(|r| rows.get(r).map_or(&[][..], |w| &w[..]));
        let bias: [f32; R] = core::array::from_fn(|r| self.bias.get(o + r).copied().unwrap_or(0.0));
        // Without a bias the dot is stored as is (`v + 0.0` would turn −0 into +0).
        let put = |d: &mut U, t: [f32; R]| {
            let d = y_of(d);
            for ((v, b), r) in t.into_iter().zip(bias).zip(o..) {
                if let Some(y) = d.get_mut(r) {
                    *y = if with_bias { v + b } else { v };
                }
            }
        };
        let mut sc = src.chunks_exact(FWD_SAMPLES);
        let mut dc = dst.chunks_exact_mut(FWD_SAMPLES);
        for (s, d) in (&mut sc).zip(&mut dc) {
            let b: [&[f32]; FWD_SAMPLES] =
                core::array::from_fn(|k| s.get(k).map_or(&[][..], |t| &x_of(t)[..]));
            let t = dot_tile(a, b);
            for (k, d) in d.iter_mut().enumerate() {
                put(
                    d,
                    core::array::from_fn(|r| {
                        t.get(r).and_then(|t| t.get(k)).copied().unwrap_or(0.0)
                    }),
                );
            }
        }
        for (s, d) in sc.remainder().iter().zip(dc.into_remainder()) {
            let t = dot_tile(a, [&x_of(s)[..]]);
            put(d, t.map(|[v]| v));
        }
    }

    /// `dst[s] = Wᵀ dy_s` for every sample of a block, `dy_s = dy_of(&src[s])`, summed over
    /// outputs in increasing `o` from `0.0` (same bits as [`Dense::backprop_input`]).
    ///
    /// Register tiles of [`BWD_SAMPLES`] samples × [`LANES`] input columns: each chunk of a
    /// weight row is loaded once per tile, and the partial sums stay in registers over all `o`.
    #[inline]
    pub(crate) fn backprop_rows<T>(
        &self,
        src: &[T],
        dy_of: impl Fn(&T) -> &[f32; OUT],
        dst: &mut [[f32; IN]],
    ) {
        if OUT < LANES {
            // Too few rows to amortise a register tile: row by row, the same order.
            for (s, d) in src.iter().zip(dst.iter_mut()) {
                self.backprop_input(dy_of(s), d);
            }
            return;
        }
        let full = IN - IN % LANES;
        for (src, dst) in src.chunks(BWD_SAMPLES).zip(dst.chunks_mut(BWD_SAMPLES)) {
            // A missing sample (a short last tile) reads as `dy = 0` and is not stored.
            let g: [&[f32]; BWD_SAMPLES] =
                core::array::from_fn(|k| src.get(k).map_or(&[][..], |t| &dy_of(t)[..]));
            let gv = |o: usize| g.map(|g| g.get(o).copied().unwrap_or(0.0));
            // Panels of BWD_PANEL rows, each streamed front to back: the partial sums of a
            // chunk go through `dst` between panels (storing an f32 keeps its bits).
            for (p, panel) in self.weight.chunks(BWD_PANEL).enumerate() {
                let o0 = p * BWD_PANEL;
                for c in (0..full).step_by(LANES) {
                    let mut acc = [f32x8::ZERO; BWD_SAMPLES];
                    if o0 > 0 {
                        for (a, d) in acc.iter_mut().zip(dst.iter()) {
                            *a = load8(d, c);
                        }
                    }
                    for (o, row) in panel.iter().enumerate() {
                        let w = load8(row, c);
                        for (a, g) in acc.iter_mut().zip(gv(o0 + o)) {
                            *a += f32x8::splat(g) * w;
                        }
                    }
                    for (a, d) in acc.iter().zip(dst.iter_mut()) {
                        store8(d, c, *a);
                    }
                }
            }
            for i in full..IN {
                let mut acc = [0.0f32; BWD_SAMPLES];
                for (o, row) in self.weight.iter().enumerate() {
                    let w = row.get(i).copied().unwrap_or(0.0);
                    for (a, g) in acc.iter_mut().zip(gv(o)) {
                        *a += g * w;
                    }
                }
                for (a, d) in acc.iter().zip(dst.iter_mut()) {
                    if let Some(d) = d.get_mut(i) {
                        *d = *a;
                    }
                }
            }
        }
    }

    /// Accumulates the parameter gradient of a block into `grad`, sample by sample for every
    /// element (same bits as [`Dense::accumulate_grad`] called per sample in order).
    ///
    /// Register tiles of [`GRAD_ROWS`] gradient rows × [`LANES`] columns, loaded once, updated
    /// by every sample in order, stored once.
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
        if IN < LANES && LANES % IN == 0 {
            return Self::grad_narrow(xs, x_of, dys, dy_of, grad);
        }
        let full = IN - IN % LANES;
        let rows = grad.weight.chunks_mut(GRAD_ROWS);
        for (o, (grows, gbs)) in rows.zip(grad.bias.chunks_mut(GRAD_ROWS)).enumerate() {
            let o = o * GRAD_ROWS;
            let dv = |u: &U| -> [f32; GRAD_ROWS] {
                let d = dy_of(u);
                core::array::from_fn(|r| d.get(o + r).copied().unwrap_or(0.0))
            };
            for c in (0..full).step_by(LANES) {
                let mut acc: [f32x8; GRAD_ROWS] =
                    core::array::from_fn(|r| grows.get(r).map_or(f32x8::ZERO, |g| load8(g, c)));
                for (x, u) in xs.iter().zip(dys) {
                    let xv = load8(x_of(x), c);
                    for (a, d) in acc.iter_mut().zip(dv(u)) {
                        *a += f32x8::splat(d) * xv;
                    }
                }
                for (a, g) in acc.iter().zip(grows.iter_mut()) {
                    store8(g, c, *a);
                }
            }
            let d = |u: &U, r: usize| dy_of(u).get(o + r).copied().unwrap_or(0.0);
            for (r, (grow, gb)) in grows.iter_mut().zip(gbs.iter_mut()).enumerate() {
                let tail = grow.get_mut(full..).unwrap_or_default();
                for (x, u) in xs.iter().zip(dys) {
                    let d = d(u, r);
                    axpy(tail, d, x_of(x).get(full..).unwrap_or_default());
                    *gb += d;
                }
            }
        }
    }

    /// [`Dense::grad_rows`] for a layer narrower than a vector (`IN` divides [`LANES`]): the
    /// gradient is updated as one flat `[OUT·IN]` array, `LANES / IN` rows per vector, with the
    /// same per-element order (samples in order).
    #[inline(always)]
    fn grad_narrow<T, U>(
        xs: &[T],
        x_of: impl Fn(&T) -> &[f32; IN],
        dys: &[U],
        dy_of: impl Fn(&U) -> &[f32; OUT],
        grad: &mut Self,
    ) {
        let flat = grad.weight.as_flattened_mut();
        let full = flat.len() - flat.len() % LANES;
        let (head, tail) = flat.split_at_mut(full.min(flat.len()));
        // Lane j of a chunk starting at row o holds element (o + j / IN, j % IN).
        let xv = |x: &T| {
            let x = x_of(x);
            f32x8::new(core::array::from_fn(|j| {
                x.get(j % IN).copied().unwrap_or(0.0)
            }))
        };
        for (c, chunk) in head.chunks_exact_mut(LANES).enumerate() {
            let o = c * (LANES / IN);
            let mut acc = load8(chunk, 0);
            for (x, u) in xs.iter().zip(dys) {
                let d = dy_of(u);
                let dv = core::array::from_fn(|j| d.get(o + j / IN).copied().unwrap_or(0.0));
                acc += f32x8::new(dv) * xv(x);
            }
            store8(chunk, 0, acc);
        }
        for (k, g) in tail.iter_mut().enumerate() {
            let (o, i) = ((full + k) / IN, (full + k) % IN);
            for (x, u) in xs.iter().zip(dys) {
                let d = dy_of(u).get(o).copied().unwrap_or(0.0);
                *g += d * x_of(x).get(i).copied().unwrap_or(0.0);
            }
        }
        for (o, gb) in grad.bias.iter_mut().enumerate() {
            for u in dys {
                *gb += dy_of(u).get(o).copied().unwrap_or(0.0);
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
