use super::{check, Optimizer};
use crate::{math, Parameters, Result, Zeroed};

/// Settings of [`Adam`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AdamConfig {
    /// Learning rate `η`.
    pub lr: f32,
    /// First-moment decay `β₁`.
    pub beta1: f32,
    /// Second-moment decay `β₂`.
    pub beta2: f32,
    /// `ε` in the denominator.
    pub eps: f32,
    /// L2 weight decay `λ` added to the gradient (PyTorch's `Adam(weight_decay=…)`).
    pub weight_decay: f32,
    /// Learning rate multiplier applied by [`Optimizer::end_epoch`] (1 for none).
    pub lr_decay: f32,
}

impl AdamConfig {
    /// `η = 1e-3, β = (0.9, 0.999), ε = 1e-8`, no decay: PyTorch's and the VAT paper's defaults.
    pub const DEFAULT: Self = Self {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
        lr_decay: 1.0,
    };

    /// Checks the settings: `lr` finite and `> 0`, `beta1` and `beta2` in `[0, 1)`, `eps`
    /// finite and `> 0`, `weight_decay` finite and `≥ 0`, `lr_decay` finite and `> 0`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`](crate::Error::InvalidSetting) naming the first field out of
    /// range.
    pub const fn validate(&self) -> Result<()> {
        check::all(&[
            ("lr", check::positive(self.lr)),
            ("beta1", check::unit(self.beta1)),
            ("beta2", check::unit(self.beta2)),
            ("eps", check::positive(self.eps)),
            ("weight_decay", check::non_negative(self.weight_decay)),
            ("lr_decay", check::positive(self.lr_decay)),
        ])
    }
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Adam (Kingma & Ba 2015), PyTorch's convention:
///
/// ```text
/// g ← ∂L/∂θ + λ θ
/// m ← β₁ m + (1 − β₁) g          v ← β₂ v + (1 − β₂) g²
/// θ ← θ − η · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
/// ```
///
/// Its state is two buffers of the network's type: `size_of::<Adam<N>>() ≈ 2 · size_of::<N>()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam<N> {
    config: AdamConfig,
    lr: f32,
    /// `false` only for [`Adam::ZERO`] before [`Adam::reconfigure`].
    ready: bool,
    t: u32,
    m: N,
    v: N,
}

impl<N: Zeroed> Adam<N> {
    /// An optimiser with no settings yet and all bytes zero, so that a `static` of it (or of a
    /// struct holding it) is `.bss` and costs no flash. Its [`step`](Optimizer::step) leaves
    /// the parameters alone until [`reconfigure`](Adam::reconfigure) gives it checked
    /// settings.
    pub const ZERO: Self = Self {
        config: AdamConfig {
            lr: 0.0,
            beta1: 0.0,
            beta2: 0.0,
            eps: 0.0,
            weight_decay: 0.0,
            lr_decay: 0.0,
        },
        lr: 0.0,
        ready: false,
        t: 0,
        m: N::ZERO,
        v: N::ZERO,
    };

    /// A fresh optimiser (zero moments, `t = 0`) for a compile-time network (usable in a
    /// `static`).
    ///
    /// # Errors
    ///
    /// [`AdamConfig::validate`]'s.
    pub const fn new(config: AdamConfig) -> Result<Self> {
        if let Err(e) = config.validate() {
            return Err(e);
        }
        Ok(Self {
            config,
            lr: config.lr,
            ready: true,
            t: 0,
            m: N::ZERO,
            v: N::ZERO,
        })
    }
}

impl<N: Parameters + Clone> Adam<N> {
    /// A fresh optimiser whose moments are zeroed copies of `net` (for run-time networks).
    ///
    /// # Errors
    ///
    /// [`AdamConfig::validate`]'s.
    pub fn like(config: AdamConfig, net: &N) -> Result<Self> {
        config.validate()?;
        let mut m = net.clone();
        m.zero();
        Ok(Self {
            config,
            lr: config.lr,
            ready: true,
            t: 0,
            v: m.clone(),
            m,
        })
    }
}

impl<N: Parameters> Adam<N> {
    /// The settings (the current learning rate is [`Optimizer::learning_rate`]).
    pub const fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u32 {
        self.t
    }

    /// Zeroes the moments and the step count and restores the initial learning rate.
    pub fn reset(&mut self) {
        self.m.zero();
        self.v.zero();
        self.t = 0;
        self.lr = self.config.lr;
    }

    /// New settings, checked, then [`reset`](Adam::reset) (the buffers are reused in place).
    ///
    /// # Errors
    ///
    /// [`AdamConfig::validate`]'s; the optimiser is unchanged then.
    pub fn reconfigure(&mut self, config: AdamConfig) -> Result<()> {
        config.validate()?;
        self.config = config;
        self.ready = true;
        self.reset();
        Ok(())
    }
}

impl<N: Parameters> Optimizer<N> for Adam<N> {
    fn step(&mut self, params: &mut N, grad: &N) {
        if !self.ready {
            return;
        }
        let AdamConfig {
            beta1,
            beta2,
            eps,
            weight_decay,
            ..
        } = self.config;
        self.t = self.t.saturating_add(1);
        let t = self.t as f32;
        let c1 = 1.0 - math::powf(beta1, t);
        let c2 = 1.0 - math::powf(beta2, t);
        let lr = self.lr;
        for (((p, g), m), v) in params
            .tensors_mut()
            .zip(grad.tensors())
            .zip(self.m.tensors_mut())
            .zip(self.v.tensors_mut())
        {
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                let g = g + weight_decay * *p;
                *m = beta1 * *m + (1.0 - beta1) * g;
                *v = beta2 * *v + (1.0 - beta2) * (g * g);
                let m_hat = *m / c1;
                let v_hat = *v / c2;
                *p -= lr * m_hat / (math::sqrt(v_hat) + eps);
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

    #[test]
    fn first_step_moves_each_parameter_by_lr() {
        // With bias correction, |Δθ| = η · |g| / (|g| + ε) ≈ η on step 1.
        let mut opt = Adam::<Mlp<2, 2, 2>>::new(AdamConfig::DEFAULT).unwrap();
        let mut net = Mlp::<2, 2, 2>::ZERO;
        let mut g = Mlp::<2, 2, 2>::ZERO;
        g.layers.dense.weight = [[3.0, -0.5], [1e-3, 0.0]];
        opt.step(&mut net, &g);
        let w = net.layers.dense.weight;
        assert!((w[0][0] + 1e-3).abs() < 1e-8);
        assert!((w[0][1] - 1e-3).abs() < 1e-8);
        assert!((w[1][0] + 1e-3).abs() < 1e-7);
        assert_eq!(w[1][1], 0.0);
    }

    #[test]
    fn minimises_a_quadratic() {
        // L = ½ Σ (θ − 1)², gradient θ − 1.
        let mut opt = Adam::<Mlp<1, 1, 1>>::new(AdamConfig {
            lr: 0.05,
            ..AdamConfig::DEFAULT
        })
        .unwrap();
        let mut net = Mlp::<1, 1, 1>::ZERO;
        for _ in 0..2000 {
            let mut g = net.clone();
            for t in g.tensors_mut() {
                for v in t {
                    *v -= 1.0;
                }
            }
            opt.step(&mut net, &g);
        }
        assert!(net.tensors().flatten().all(|&v| (v - 1.0).abs() < 1e-3));
    }
}
