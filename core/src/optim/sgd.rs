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
    /// Dampening `d` of the gradient added to the velocity, PyTorch's `dampening`: `v ← μ v +
    /// (1 − d) g`. 0 (PyTorch's default) adds the whole gradient; the VAT authors' momentum SGD
    /// is `d = μ` (see [`Sgd`] for the exact update and how it differs from both).
    pub dampening: f32,
    /// L2 weight decay `λ` added to the gradient.
    pub weight_decay: f32,
    /// Learning rate multiplier applied by [`Optimizer::end_epoch`] (1 for none).
    pub lr_decay: f32,
}

impl SgdConfig {
    /// The VAT authors' synthetic-benchmark optimiser (`source/optimizers/momentum_sgd.py` of
    /// takerum/vat, run by `train_syn.py`): `η = 1.0`, `μ = 0.9` with dampening `d = 0.9`
    /// (`m ← 0.9 m + 0.1 η g`), `η × 0.995` per epoch, no weight decay. Undampened momentum
    /// at the same `η` takes a 10× larger step.
    pub const VAT_SYNTHETIC: Self = Self {
        lr: 1.0,
        momentum: 0.9,
        dampening: 0.9,
        weight_decay: 0.0,
        lr_decay: 0.995,
    };

    /// PyTorch's `torch.optim.SGD(lr, momentum)` defaults around a learning rate and momentum:
    /// no dampening, no weight decay, no decay of the learning rate.
    ///
    /// # Examples
    ///
    /// ```
    /// use vatic::optim::SgdConfig;
    /// let c = SgdConfig::pytorch(0.1, 0.9);
    /// assert_eq!((c.dampening, c.weight_decay, c.lr_decay), (0.0, 0.0, 1.0));
    /// ```
    pub const fn pytorch(lr: f32, momentum: f32) -> Self {
        Self {
            lr,
            momentum,
            dampening: 0.0,
            weight_decay: 0.0,
            lr_decay: 1.0,
        }
    }

    /// Checks the settings: `lr` finite and `> 0`, `momentum` in `[0, 1)`, `dampening` in
    /// `[0, 1]`, `weight_decay` finite and `≥ 0`, `lr_decay` finite and `> 0`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`](crate::Error::InvalidSetting) naming the first field out of
    /// range.
    pub const fn validate(&self) -> Result<()> {
        check::all(&[
            ("lr", check::positive(self.lr)),
            ("momentum", check::unit(self.momentum)),
            ("dampening", check::closed_unit(self.dampening)),
            ("weight_decay", check::non_negative(self.weight_decay)),
            ("lr_decay", check::positive(self.lr_decay)),
        ])
    }
}

/// Stochastic gradient descent with momentum and dampening. Every step, the velocity `v`
/// starting at zero:
///
/// ```text
/// g ← ∂L/∂θ + λ θ
/// v ← μ v + (1 − d) g
/// θ ← θ − η v                      η: the current learning rate
/// ```
///
/// and [`Optimizer::end_epoch`] multiplies `η` by `lr_decay`.
///
/// * **With `d = 0`** this is PyTorch's `torch.optim.SGD` exactly (PyTorch copies `g` into the
///   buffer on the first step; `μ · 0 + g` is the same value), and the bits are those of
///   `v ← μ v + g` (`(1 − 0) g` is `g`).
/// * **With `d > 0` the first step differs from PyTorch's.** PyTorch does not dampen its first
///   step (`buf ← g`), so its buffer is `v_t + d μ^(t−1) g₁`; here the velocity starts at zero
///   and the first step is `η (1 − d) g₁`, as in the VAT authors' code.
/// * **The VAT authors' momentum SGD** (`source/optimizers/momentum_sgd.py`) folds the learning
///   rate into the velocity: `m ← μ m + (1 − μ) η_t g`, `θ ← θ − m`. With a constant `η` that
///   is this update with `d = μ` (`m = η v`). With a decaying `η` it is not quite: here a
///   gradient of `k` steps ago is scaled by today's `η_t`, there by the `η_(t−k)` of its own
///   step. With one step per epoch and decay `γ` (the authors' full-batch runs, `γ = 0.995`),
///   `η_(t−k) = η_t γ^(−k)`, so the authors' update is this one with momentum `μ / γ` (0.9045
///   instead of 0.9) and `1 − d = 1 − μ`; [`SgdConfig::VAT_SYNTHETIC`] keeps `μ = d = 0.9`, a
///   relative difference of `(1/γ)^k − 1` on a gradient `k` steps old (5 % after 10 steps,
///   where `μ^k` has already shrunk it to 0.35).
///
/// # Examples
///
/// ```
/// use vatic::optim::{Optimizer, Sgd, SgdConfig};
/// use vatic::{Mlp, Parameters};
///
/// // Checked at compile time: settings out of range fail to build.
/// static OPT: Sgd<Mlp<4, 4, 2>> = match Sgd::new(SgdConfig::pytorch(1.0, 0.9)) {
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
/// // The VAT authors' dampened momentum: the first step is (1 − 0.9) η g.
/// let mut opt = Sgd::<Mlp<4, 4, 2>>::new(SgdConfig::VAT_SYNTHETIC)?;
/// let mut net = Mlp::<4, 4, 2>::ZERO;
/// opt.step(&mut net, &grad);
/// assert!((net.layers.next.bias[0] + 0.1).abs() < 1e-6);
///
/// // At run time, a negative learning rate is an error, not a silent ascent.
/// let bad = SgdConfig { lr: -1.0, ..SgdConfig::VAT_SYNTHETIC };
/// assert!(Sgd::<Mlp<4, 4, 2>>::new(bad).is_err());
/// # Ok::<(), vatic::Error>(())
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
            dampening: 0.0,
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
            dampening,
            weight_decay,
            ..
        } = self.config;
        let lr = self.lr;
        let keep = 1.0 - dampening;
        for ((p, g), v) in params
            .tensors_mut()
            .zip(grad.tensors())
            .zip(self.velocity.tensors_mut())
        {
            for ((p, &g), v) in p.iter_mut().zip(g).zip(v.iter_mut()) {
                let g = g + weight_decay * *p;
                *v = momentum * *v + keep * g;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mlp;

    type Net = Mlp<1, 1, 1>;

    /// Two steps on one parameter (the output bias), computed by hand in f32 operation by
    /// operation: `g₁ = 1`, `g₂ = −2`, `η = 0.5`, `μ = 0.9`, `d = 0.9`, `λ = 0`, decay 0.5.
    #[test]
    fn dampened_momentum_two_steps_by_hand() {
        let cfg = SgdConfig {
            lr: 0.5,
            momentum: 0.9,
            dampening: 0.9,
            weight_decay: 0.0,
            lr_decay: 0.5,
        };
        let mut opt = Sgd::<Net>::new(cfg).unwrap();
        let mut net = Net::ZERO;
        let mut grad = Net::ZERO;
        let keep = 1.0f32 - 0.9;
        grad.layers.next.bias = [1.0];
        opt.step(&mut net, &grad);
        // v₁ = 0.9 · 0 + (1 − 0.9) · 1;  θ₁ = 0 − 0.5 v₁ (no PyTorch-style undampened start).
        let v1 = 0.9f32 * 0.0 + keep * 1.0;
        let t1 = 0.0f32 - 0.5 * v1;
        assert_eq!(net.layers.next.bias, [t1]);
        assert!((t1 + 0.05).abs() < 1e-7, "{t1}");
        opt.end_epoch();
        grad.layers.next.bias = [-2.0];
        opt.step(&mut net, &grad);
        // v₂ = 0.9 v₁ + 0.1 · (−2) = −0.11;  θ₂ = θ₁ − 0.25 v₂ = −0.05 + 0.0275 = −0.0225.
        let v2 = 0.9f32 * v1 + keep * -2.0;
        let t2 = t1 - 0.25 * v2;
        assert_eq!(net.layers.next.bias, [t2]);
        assert!((t2 + 0.0225).abs() < 1e-7, "{t2}");
    }

    /// With `d = 0` the update is PyTorch's `v ← μ v + g`, bit for bit, on every step.
    #[test]
    fn no_dampening_is_undampened_momentum_bit_for_bit() {
        let cfg = SgdConfig {
            lr: 0.3,
            momentum: 0.9,
            dampening: 0.0,
            weight_decay: 1e-2,
            lr_decay: 0.99,
        };
        let mut opt = Sgd::<Net>::new(cfg).unwrap();
        let mut net = Net::ZERO;
        net.layers.next.bias = [0.7];
        let mut grad = Net::ZERO;
        let (mut p, mut v, mut lr) = (0.7f32, 0.0f32, 0.3f32);
        for g in [0.1f32, -3.0, 1e-3, 2.5, -0.25] {
            grad.layers.next.bias = [g];
            opt.step(&mut net, &grad);
            opt.end_epoch();
            let g = g + 1e-2 * p;
            v = 0.9 * v + g;
            p -= lr * v;
            lr *= 0.99;
            assert_eq!(net.layers.next.bias[0].to_bits(), p.to_bits());
        }
    }

    #[test]
    fn dampening_is_checked() {
        for d in [-0.1, 1.5, f32::NAN, f32::INFINITY] {
            let c = SgdConfig {
                dampening: d,
                ..SgdConfig::VAT_SYNTHETIC
            };
            assert_eq!(
                Sgd::<Net>::new(c).err(),
                Some(crate::Error::InvalidSetting { name: "dampening" }),
                "dampening {d}"
            );
        }
        for d in [0.0, 0.9, 1.0] {
            let c = SgdConfig {
                dampening: d,
                ..SgdConfig::VAT_SYNTHETIC
            };
            assert!(c.validate().is_ok());
        }
        assert_eq!(SgdConfig::VAT_SYNTHETIC.dampening, 0.9);
        assert_eq!(SgdConfig::VAT_SYNTHETIC.momentum, 0.9);
    }
}
