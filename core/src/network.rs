//! What every network is to the algorithms: a stack of dense layers with one activation,
//! whatever its depth, widths or storage.

use crate::{Activation, DenseMut, DenseRef, Parameters};

/// Samples per block of the batch passes for a workspace of
/// [`Shape::workspace_len`]`(BLOCK)`, the size the firmware and the bit-equality tests use.
///
/// Blocking reads each weight matrix once per block instead of once per sample. The batch
/// functions take as many samples per block as their workspace holds; only two results depend
/// on it, because they add two passes per block to one gradient: adversarial training
/// (clean then adversarial terms, block by block) and the entropy term of VAT+EntMin (LDS then
/// entropy, block by block). Give host and device the same workspace length for the same bits.
pub const BLOCK: usize = 8;

/// A multi-layer perceptron `f(x) = W_L σ(… σ(W_1 x + b_1) …) + b_L` of any depth `L ≥ 1`,
/// seen as its layers: implemented by the compile-time [`Net`](crate::Net) (aliases
/// [`Mlp`](crate::Mlp), [`Mlp2`](crate::Mlp2), …) and the run-time
/// [`Sequential`](crate::Sequential).
///
/// Layer `l` (`0 ≤ l < depth`) maps `width(l)` inputs to `width(l + 1)` outputs; `σ` follows
/// every layer but the last, so `width(0)` is the input width and `width(depth)` the number of
/// classes. Parameters are in PyTorch's `nn.Sequential` order (`W0 [out][in]`, `b0`, `W1`, …),
/// which is also [`Parameters::tensors`]' order. Gradients have the network's own type.
///
/// Everything in vatic (the passes in [`pass`](crate::pass), losses, attacks, VAT,
/// optimisers, metrics, the blob format) is written against this trait.
pub trait Network: Parameters {
    /// The hidden-layer activation `σ`.
    fn activation(&self) -> Activation;

    /// Sets the hidden-layer activation.
    fn set_activation(&mut self, activation: Activation);

    /// Number of dense layers (hidden layers + 1).
    fn depth(&self) -> usize;

    /// Layer `l`, or `None` past the last.
    fn layer(&self, l: usize) -> Option<DenseRef<'_>>;

    /// Layer `l`, mutable, or `None` past the last.
    fn layer_mut(&mut self, l: usize) -> Option<DenseMut<'_>>;

    /// `width(0)` is the input width, `width(depth)` the number of classes, the others the
    /// hidden widths (0 past the end).
    fn width(&self, l: usize) -> usize {
        match l.checked_sub(1) {
            None => self.layer(0).map_or(0, |d| d.inputs),
            Some(p) => self.layer(p).map_or(0, |d| d.outputs()),
        }
    }

    /// The widths that size buffers: input, output, hidden sum and maximum.
    fn shape(&self) -> Shape {
        let depth = self.depth();
        let mut s = Shape {
            inputs: self.width(0),
            outputs: self.width(depth),
            hidden_sum: 0,
            hidden_max: 0,
        };
        for l in 1..depth {
            let w = self.width(l);
            s.hidden_sum += w;
            s.hidden_max = s.hidden_max.max(w);
        }
        s
    }

    /// Layer `l`'s affine map over a block, `dst[s] = W_l src[s] (+ b_l when BIAS)`
    /// ([`DenseRef::forward_rows`]). The compile-time networks override it to run the
    /// kernels specialised to their constant widths; the result is the same.
    #[inline]
    fn forward_layer<const BIAS: bool>(&self, l: usize, src: &[f32], dst: &mut [f32]) {
        if let Some(d) = self.layer(l) {
            d.forward_rows::<BIAS>(src, dst);
        }
    }

    /// Layer `l`'s transposed map over a block, `dst[s] = W_lᵀ src[s]`
    /// ([`DenseRef::backprop_rows`]; specialised like [`Network::forward_layer`]).
    #[inline]
    fn backprop_layer(&self, l: usize, src: &[f32], dst: &mut [f32]) {
        if let Some(d) = self.layer(l) {
            d.backprop_rows(src, dst);
        }
    }

    /// Adds layer `l`'s parameter gradient of a block to `self` (a gradient of the network's
    /// type): [`DenseMut::accumulate_rows`], specialised like [`Network::forward_layer`].
    #[inline]
    fn accumulate_layer(&mut self, l: usize, xs: &[f32], dys: &[f32]) {
        if let Some(mut d) = self.layer_mut(l) {
            d.accumulate_rows(xs, dys);
        }
    }

    /// Re-initialises the parameters in place: every weight matrix `W ~ N(0, 1/fan_in)`, drawn
    /// layer by layer and row by row from `rng`, every bias `0`.
    fn init(&mut self, rng: &mut crate::Rng) {
        let mut l = 0;
        while let Some(mut d) = self.layer_mut(l) {
            d.init(rng);
            l += 1;
        }
    }
}

/// The widths of a network that size its buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Shape {
    /// Input width.
    pub inputs: usize,
    /// Number of classes.
    pub outputs: usize,
    /// Sum of the hidden widths (the values a forward trace keeps per sample).
    pub hidden_sum: usize,
    /// Largest hidden width (0 without hidden layers).
    pub hidden_max: usize,
}

impl Shape {
    /// `f32`s of workspace per sample of a block:
    /// `2 · (Σ hidden + max hidden + 1) + 3 · (IN + OUT)`.
    ///
    /// That holds two traces (the clean and the perturbed pass of VAT), two layers of
    /// backward deltas, three input-sized rows (start directions, perturbed inputs, PGD's
    /// iterate) and three logit rows, and is enough for every function of the crate.
    pub const fn per_sample(&self) -> usize {
        2 * (self.hidden_sum + self.hidden_max + 1) + 3 * (self.inputs + self.outputs)
    }

    /// `f32`s of workspace for blocks of `block` samples (`block ≥ 1`).
    pub const fn workspace_len(&self, block: usize) -> usize {
        self.per_sample() * block
    }

    /// Samples per block a workspace of `len` values holds (0 when it is too small).
    pub const fn block(&self, len: usize) -> usize {
        match len.checked_div(self.per_sample()) {
            Some(b) => b,
            None => 0,
        }
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
