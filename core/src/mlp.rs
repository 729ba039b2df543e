//! The compile-time network: a recursive stack of [`Dense`] layers of any depth whose
//! `size_of` is its RAM, with [`Mlp`], [`Mlp2`], [`Mlp3`] and [`Mlp4`] as the everyday names.

use crate::network::Shape;
use crate::{Activation, Dense, DenseMut, DenseRef, Network, Parameters, Rng, Zeroed, BLOCK};

/// A chain of dense layers whose widths are const generics: a [`Dense`] (the last layer) or a
/// [`Hidden`] layer followed by another chain.
///
/// The constants describe the chain at compile time, so workspace sizes are constants too.
pub trait Layers: Sized {
    /// Input width.
    const IN: usize;
    /// Output width.
    const OUT: usize;
    /// Number of dense layers.
    const DEPTH: usize;
    /// Number of parameters.
    const COUNT: usize;
    /// The widths that size buffers (the hidden widths are those between the layers).
    const SHAPE: Shape;
    /// Every parameter zero.
    const ZERO: Self;

    /// Layer `l` of the chain.
    fn layer(&self, l: usize) -> Option<DenseRef<'_>>;
    /// Layer `l` of the chain, mutable.
    fn layer_mut(&mut self, l: usize) -> Option<DenseMut<'_>>;
    /// [`Network::forward_layer`] of layer `l`, with constant widths.
    fn forward_layer<const BIAS: bool>(&self, l: usize, src: &[f32], dst: &mut [f32]);
    /// [`Network::backprop_layer`] of layer `l`, with constant widths.
    fn backprop_layer(&self, l: usize, src: &[f32], dst: &mut [f32]);
    /// [`Network::accumulate_layer`] of layer `l`, with constant widths.
    fn accumulate_layer(&mut self, l: usize, xs: &[f32], dys: &[f32]);
    /// The tensors in `nn.Sequential` order.
    fn tensors(&self) -> impl Iterator<Item = &[f32]>;
    /// The tensors in `nn.Sequential` order, mutable.
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]>;
}

impl<const IN: usize, const OUT: usize> Layers for Dense<IN, OUT> {
    const IN: usize = IN;
    const OUT: usize = OUT;
    const DEPTH: usize = 1;
    const COUNT: usize = OUT * (IN + 1);
    const SHAPE: Shape = Shape {
        inputs: IN,
        outputs: OUT,
        hidden_sum: 0,
        hidden_max: 0,
    };
    const ZERO: Self = Dense::ZERO;

    fn layer(&self, l: usize) -> Option<DenseRef<'_>> {
        (l == 0).then(|| self.view())
    }

    fn layer_mut(&mut self, l: usize) -> Option<DenseMut<'_>> {
        (l == 0).then(|| self.view_mut())
    }

    #[inline(always)]
    fn forward_layer<const BIAS: bool>(&self, l: usize, src: &[f32], dst: &mut [f32]) {
        if l == 0 {
            self.forward_block::<BIAS>(src, dst);
        }
    }

    #[inline(always)]
    fn backprop_layer(&self, l: usize, src: &[f32], dst: &mut [f32]) {
        if l == 0 {
            self.backprop_block(src, dst);
        }
    }

    #[inline(always)]
    fn accumulate_layer(&mut self, l: usize, xs: &[f32], dys: &[f32]) {
        if l == 0 {
            self.accumulate_block(xs, dys);
        }
    }

    fn tensors(&self) -> impl Iterator<Item = &[f32]> {
        [self.weight.as_flattened(), &self.bias[..]].into_iter()
    }

    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
        [self.weight.as_flattened_mut(), &mut self.bias[..]].into_iter()
    }
}

/// A hidden layer `IN → H` followed by the rest of the network `Next` (whose input width must
/// be `H`: checked at compile time).
#[derive(Debug, Clone, PartialEq)]
pub struct Hidden<const IN: usize, const H: usize, Next> {
    /// `W x + b`, activated.
    pub dense: Dense<IN, H>,
    /// The layers after it.
    pub next: Next,
}

impl<const IN: usize, const H: usize, Next: Layers> Hidden<IN, H, Next> {
    const WIDTHS_MATCH: () = assert!(
        Next::IN == H,
        "a hidden layer's width must be the next layer's input width"
    );
}

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

impl<const IN: usize, const H: usize, Next: Layers> Layers for Hidden<IN, H, Next> {
    const IN: usize = IN;
    const OUT: usize = Next::OUT;
    const DEPTH: usize = 1 + Next::DEPTH;
    const COUNT: usize = H * (IN + 1) + Next::COUNT;
    const SHAPE: Shape = Shape {
        inputs: IN,
        outputs: Next::OUT,
        hidden_sum: H + Next::SHAPE.hidden_sum,
        hidden_max: max(H, Next::SHAPE.hidden_max),
    };
    const ZERO: Self = {
        #[allow(clippy::let_unit_value)]
        let () = Self::WIDTHS_MATCH;
        Hidden {
            dense: Dense::ZERO,
            next: Next::ZERO,
        }
    };

    fn layer(&self, l: usize) -> Option<DenseRef<'_>> {
        #[allow(clippy::let_unit_value)]
        let () = Self::WIDTHS_MATCH;
        match l.checked_sub(1) {
            None => Some(self.dense.view()),
            Some(l) => self.next.layer(l),
        }
    }

    fn layer_mut(&mut self, l: usize) -> Option<DenseMut<'_>> {
        match l.checked_sub(1) {
            None => Some(self.dense.view_mut()),
            Some(l) => self.next.layer_mut(l),
        }
    }

    #[inline(always)]
    fn forward_layer<const BIAS: bool>(&self, l: usize, src: &[f32], dst: &mut [f32]) {
        match l.checked_sub(1) {
            None => self.dense.forward_block::<BIAS>(src, dst),
            Some(l) => self.next.forward_layer::<BIAS>(l, src, dst),
        }
    }

    #[inline(always)]
    fn backprop_layer(&self, l: usize, src: &[f32], dst: &mut [f32]) {
        match l.checked_sub(1) {
            None => self.dense.backprop_block(src, dst),
            Some(l) => self.next.backprop_layer(l, src, dst),
        }
    }

    #[inline(always)]
    fn accumulate_layer(&mut self, l: usize, xs: &[f32], dys: &[f32]) {
        match l.checked_sub(1) {
            None => self.dense.accumulate_block(xs, dys),
            Some(l) => self.next.accumulate_layer(l, xs, dys),
        }
    }

    fn tensors(&self) -> impl Iterator<Item = &[f32]> {
        self.dense.tensors().chain(self.next.tensors())
    }

    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
        self.dense.tensors_mut().chain(self.next.tensors_mut())
    }
}

/// A multi-layer perceptron whose widths are compile-time constants: the layers `L` (a chain
/// of [`Hidden`] layers ending in a [`Dense`]) and the activation `σ` after every hidden layer.
///
/// The parameters are nested arrays with no heap, so `size_of::<Net<L>>()` is exactly the RAM
/// the network needs (`4 ·` [`Layers::COUNT`] bytes plus one byte of activation, padded);
/// gradients and optimiser state have the same type, and [`Net::ZERO`] is a `const`, so all of
/// them can live in a `static`. [`Net::WORKSPACE`] is the scratch the batch functions need for
/// blocks of [`BLOCK`] samples.
///
/// Use the aliases [`Mlp`] (one hidden layer) to [`Mlp4`], or write deeper chains directly:
/// `Net<Hidden<4, 8, Hidden<8, 8, Hidden<8, 8, Hidden<8, 8, Hidden<8, 8, Dense<8, 3>>>>>>>`.
///
/// # Examples
///
/// ```
/// use vatic::{pass, Activation, Mlp, Network, Rng};
///
/// let mut rng = Rng::new(7);
/// let net: Mlp<2, 16, 2> = Mlp::new(Activation::Tanh, &mut rng);
/// let mut ws = [0.0; Mlp::<2, 16, 2>::WORKSPACE];
/// let mut logits = [0.0; 2];
/// pass::logits(&net, &[0.5, -1.0], &mut logits, &mut ws)?;
/// assert!(logits.iter().all(|v| v.is_finite()));
///
/// // Networks can live in a static (e.g. on a device, behind a Mutex).
/// static BLANK: Mlp<64, 32, 10> = Mlp::ZERO;
/// assert_eq!(BLANK.depth(), 2);
/// # Ok::<(), vatic::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Net<L> {
    /// The layers, first to last.
    pub layers: L,
    /// `σ`, applied after every hidden layer.
    pub activation: Activation,
}

/// One hidden layer: `f(x) = W₂ σ(W₁ x + b₁) + b₂`.
pub type Mlp<const IN: usize, const H: usize, const OUT: usize> = Net<Hidden<IN, H, Dense<H, OUT>>>;

/// Two hidden layers: `f(x) = W₃ σ(W₂ σ(W₁ x + b₁) + b₂) + b₃`.
pub type Mlp2<const IN: usize, const H1: usize, const H2: usize, const OUT: usize> =
    Net<Hidden<IN, H1, Hidden<H1, H2, Dense<H2, OUT>>>>;

/// Three hidden layers.
pub type Mlp3<
    const IN: usize,
    const H1: usize,
    const H2: usize,
    const H3: usize,
    const OUT: usize,
> = Net<Hidden<IN, H1, Hidden<H1, H2, Hidden<H2, H3, Dense<H3, OUT>>>>>;

/// Four hidden layers.
pub type Mlp4<
    const IN: usize,
    const H1: usize,
    const H2: usize,
    const H3: usize,
    const H4: usize,
    const OUT: usize,
> = Net<Hidden<IN, H1, Hidden<H1, H2, Hidden<H2, H3, Hidden<H3, H4, Dense<H4, OUT>>>>>>;

impl<L: Layers> Net<L> {
    /// All weights and biases zero, ReLU (usable in a `static`; the same as
    /// [`Zeroed::ZERO`]).
    pub const ZERO: Self = Self {
        layers: L::ZERO,
        activation: Activation::Relu,
    };

    /// `f32`s of workspace the batch functions need for blocks of [`BLOCK`] samples
    /// ([`Shape::workspace_len`]), a constant: `[0.0; Mlp::<64, 32, 10>::WORKSPACE]`.
    pub const WORKSPACE: usize = L::SHAPE.workspace_len(BLOCK);

    /// `f32`s of workspace for one sample at a time (the per-sample functions).
    pub const WORKSPACE_ONE: usize = L::SHAPE.workspace_len(1);

    /// `f64`s of workspace the certificates need
    /// ([`certify::workspace_len`](crate::certify::workspace_len)), a constant.
    pub const CERTIFY_WORKSPACE: usize = crate::certify::workspace_len(&L::SHAPE);

    /// A network with the given activation and parameters drawn by [`Network::init`].
    pub fn new(activation: Activation, rng: &mut Rng) -> Self {
        let mut net = Self::ZERO.with_activation(activation);
        net.init(rng);
        net
    }

    /// The same network with another activation.
    pub const fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }
}

impl<L: Layers> Parameters for Net<L> {
    fn tensors(&self) -> impl Iterator<Item = &[f32]> {
        self.layers.tensors()
    }

    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
        self.layers.tensors_mut()
    }

    fn count(&self) -> usize {
        L::COUNT
    }
}

impl<L: Layers> Zeroed for Net<L> {
    const ZERO: Self = Self::ZERO;
    const COUNT: usize = L::COUNT;
}

impl<L: Layers> Network for Net<L> {
    fn activation(&self) -> Activation {
        self.activation
    }

    fn set_activation(&mut self, activation: Activation) {
        self.activation = activation;
    }

    fn depth(&self) -> usize {
        L::DEPTH
    }

    fn layer(&self, l: usize) -> Option<DenseRef<'_>> {
        self.layers.layer(l)
    }

    fn layer_mut(&mut self, l: usize) -> Option<DenseMut<'_>> {
        self.layers.layer_mut(l)
    }

    fn shape(&self) -> Shape {
        L::SHAPE
    }

    #[inline]
    fn forward_layer<const BIAS: bool>(&self, l: usize, src: &[f32], dst: &mut [f32]) {
        self.layers.forward_layer::<BIAS>(l, src, dst);
    }

    #[inline]
    fn backprop_layer(&self, l: usize, src: &[f32], dst: &mut [f32]) {
        self.layers.backprop_layer(l, src, dst);
    }

    #[inline]
    fn accumulate_layer(&mut self, l: usize, xs: &[f32], dys: &[f32]) {
        self.layers.accumulate_layer(l, xs, dys);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_describe_the_chain() {
        type N = Mlp2<4, 16, 12, 3>;
        assert_eq!(N::COUNT, 16 * 5 + 12 * 17 + 3 * 13);
        assert_eq!(N::ZERO.count(), N::COUNT);
        let s = N::ZERO.shape();
        assert_eq!(
            (s.inputs, s.outputs, s.hidden_sum, s.hidden_max),
            (4, 3, 28, 16)
        );
        let n = N::ZERO;
        assert_eq!(n.depth(), 3);
        assert_eq!(
            (0..=3)
                .map(|l| n.width(l))
                .collect::<heapless_widths::W>()
                .0,
            [4, 16, 12, 3]
        );
        assert!(n.layer(3).is_none());
    }

    mod heapless_widths {
        /// Collects four widths without a heap.
        pub struct W(pub [usize; 4]);
        impl FromIterator<usize> for W {
            fn from_iter<I: IntoIterator<Item = usize>>(it: I) -> Self {
                let mut w = [0; 4];
                for (d, v) in w.iter_mut().zip(it) {
                    *d = v;
                }
                W(w)
            }
        }
    }
}
