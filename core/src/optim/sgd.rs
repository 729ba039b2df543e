use super::Optimizer;
use crate::{Parameters, Zeroed};

/// Settings of [`Sgd`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SgdConfig {
    /// Initial learning rate `η₀`.
    pub lr: f32,
    /// Momentum `μ` (0 for plain SGD).
    pub momentum: f32,
    /// L2 weight decay `λ` added to the gradient.
    pub weight_decay: f32,
    /// Learning rate multiplier applied by [`Optimizer::end_epoch`] (1 for none).
    pub lr_decay: f32,
}

impl SgdConfig {
    /// The VAT paper's synthetic-benchmark settings: `η = 1.0`, `μ = 0.9`, `η × 0.995` per
    /// epoch, no weight decay.
    pub const VAT_SYNTHETIC: Self = Self {
        lr: 1.0,
        momentum: 0.9,
        weight_decay: 0.0,
        lr_decay: 0.995,
    };
}

/// Stochastic gradient descent with momentum, PyTorch's convention:
///
/// ```text
/// g ← ∂L/∂θ + λ θ
/// v ← μ v + g
/// θ ← θ − η v
/// ```
///
/// # Examples
///
/// ```
/// use vatic::optim::{Optimizer, Sgd, SgdConfig};
/// use vatic::{Mlp, Parameters};
///
/// static OPT: Sgd<Mlp<4, 4, 2>> = Sgd::new(SgdConfig::VAT_SYNTHETIC);
/// let mut opt = OPT.clone();
/// let mut net = Mlp::<4, 4, 2>::ZERO;
/// let mut grad = Mlp::<4, 4, 2>::ZERO;
/// grad.layers.next.bias = [1.0, -1.0];
/// opt.step(&mut net, &grad);
/// assert_eq!(net.layers.next.bias, [-1.0, 1.0]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sgd<N> {
    /// The settings (the current learning rate is [`Sgd::lr`]).
    pub config: SgdConfig,
    /// The current learning rate `η`.
    pub lr: f32,
    velocity: N,
}

impl<N: Zeroed> Sgd<N> {
    /// A fresh optimiser (zero velocity) for a compile-time network (usable in a `static`).
    pub const fn new(config: SgdConfig) -> Self {
        Self {
            config,
            lr: config.lr,
            velocity: N::ZERO,
        }
    }
}

impl<N: Parameters + Clone> Sgd<N> {
    /// A fresh optimiser whose velocity is a zeroed copy of `net` (for run-time networks).
    pub fn like(config: SgdConfig, net: &N) -> Self {
        let mut velocity = net.clone();
        velocity.zero();
        Self {
            config,
            lr: config.lr,
            velocity,
        }
    }
}

impl<N: Parameters> Sgd<N> {
    /// Zeroes the velocity and restores the initial learning rate.
    pub fn reset(&mut self) {
        self.velocity.zero();
        self.lr = self.config.lr;
    }
}

impl<N: Parameters> Optimizer<N> for Sgd<N> {
    fn step(&mut self, params: &mut N, grad: &N) {
        let SgdConfig {
            momentum,
            weight_decay,
            ..
        } = self.config;
        let lr = self.lr;
        for ((p, g), v) in params
            .tensors_mut()
            .zip(grad.tensors())
            .zip(self.velocity.tensors_mut())
        {
            for ((p, &g), v) in p.iter_mut().zip(g).zip(v.iter_mut()) {
                let g = g + weight_decay * *p;
                *v = momentum * *v + g;
                *p -= lr * *v;
            }
        }
    }

    fn learning_rate(&self) -> f32 {
        self.lr
    }

    fn end_epoch(&mut self) {
        self.lr *= self.config.lr_decay;
    }
}
