use super::{check, Optimizer};
use crate::{Parameters, Result, Zeroed};

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

    /// Checks the settings: `lr` finite and `> 0`, `momentum` in `[0, 1)`, `weight_decay`
    /// finite and `≥ 0`, `lr_decay` finite and `> 0`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`](crate::Error::InvalidSetting) naming the first field out of
    /// range.
    pub const fn validate(&self) -> Result<()> {
        check::all(&[
            ("lr", check::positive(self.lr)),
            ("momentum", check::unit(self.momentum)),
            ("weight_decay", check::non_negative(self.weight_decay)),
            ("lr_decay", check::positive(self.lr_decay)),
        ])
    }
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
/// // Checked at compile time: settings out of range fail to build.
/// static OPT: Sgd<Mlp<4, 4, 2>> = match Sgd::new(SgdConfig::VAT_SYNTHETIC) {
///     Ok(opt) => opt,
///     Err(_) => panic!("invalid SGD settings"),
/// };
/// let mut opt = OPT.clone();
/// let mut net = Mlp::<4, 4, 2>::ZERO;
/// let mut grad = Mlp::<4, 4, 2>::ZERO;
/// grad.layers.next.bias = [1.0, -1.0];
/// opt.step(&mut net, &grad);
/// assert_eq!(net.layers.next.bias, [-1.0, 1.0]);
///
/// // At run time, a negative learning rate is an error, not a silent ascent.
/// let bad = SgdConfig { lr: -1.0, ..SgdConfig::VAT_SYNTHETIC };
/// assert!(Sgd::<Mlp<4, 4, 2>>::new(bad).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sgd<N> {
    config: SgdConfig,
    lr: f32,
    /// `false` only for [`Sgd::ZERO`] before [`Sgd::reconfigure`].
    ready: bool,
    velocity: N,
}

impl<N: Zeroed> Sgd<N> {
    /// An optimiser with no settings yet and all bytes zero, so that a `static` of it (or of a
    /// struct holding it) is `.bss` and costs no flash. Its [`step`](Optimizer::step) leaves
    /// the parameters alone until [`reconfigure`](Sgd::reconfigure) gives it checked
    /// settings.
    pub const ZERO: Self = Self {
        config: SgdConfig {
            lr: 0.0,
            momentum: 0.0,
            weight_decay: 0.0,
            lr_decay: 0.0,
        },
        lr: 0.0,
        ready: false,
        velocity: N::ZERO,
    };

    /// A fresh optimiser (zero velocity) for a compile-time network (usable in a `static`).
    ///
    /// # Errors
    ///
    /// [`SgdConfig::validate`]'s.
    pub const fn new(config: SgdConfig) -> Result<Self> {
        if let Err(e) = config.validate() {
            return Err(e);
        }
        Ok(Self {
            config,
            lr: config.lr,
            ready: true,
            velocity: N::ZERO,
        })
    }
}

impl<N: Parameters + Clone> Sgd<N> {
    /// A fresh optimiser whose velocity is a zeroed copy of `net` (for run-time networks).
    ///
    /// # Errors
    ///
    /// [`SgdConfig::validate`]'s.
    pub fn like(config: SgdConfig, net: &N) -> Result<Self> {
        config.validate()?;
        let mut velocity = net.clone();
        velocity.zero();
        Ok(Self {
            config,
            lr: config.lr,
            ready: true,
            velocity,
        })
    }
}

impl<N: Parameters> Sgd<N> {
    /// The settings (the current learning rate is [`Optimizer::learning_rate`]).
    pub const fn config(&self) -> &SgdConfig {
        &self.config
    }

    /// Zeroes the velocity and restores the initial learning rate.
    pub fn reset(&mut self) {
        self.velocity.zero();
        self.lr = self.config.lr;
    }

    /// New settings, checked, then [`reset`](Sgd::reset) (the buffers are reused in place).
    ///
    /// # Errors
    ///
    /// [`SgdConfig::validate`]'s; the optimiser is unchanged then.
    pub fn reconfigure(&mut self, config: SgdConfig) -> Result<()> {
        config.validate()?;
        self.config = config;
        self.ready = true;
        self.reset();
        Ok(())
    }
}

impl<N: Parameters> Optimizer<N> for Sgd<N> {
    fn step(&mut self, params: &mut N, grad: &N) {
        if !self.ready {
            return;
        }
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
