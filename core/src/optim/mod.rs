//! Optimisers: [`Sgd`] with momentum and learning-rate decay, and [`Adam`].
//!
//! Both keep their state in buffers of the network's own type, so an optimiser for an `N` costs
//! `size_of::<Sgd<N>>()` ≈ one network, `size_of::<Adam<N>>()` ≈ two networks, and can live in a
//! `static` (their `new` is `const fn`). Their settings are checked when they are built
//! ([`SgdConfig::validate`], [`AdamConfig::validate`]): a NaN, infinite, zero or negative
//! learning rate, a momentum outside `[0, 1)`, … is an
//! [`Error::InvalidSetting`](crate::Error::InvalidSetting) that names the field.

mod adam;
mod sgd;

pub use adam::{Adam, AdamConfig};
pub use sgd::{Sgd, SgdConfig};

use crate::Parameters;

/// Range checks of optimiser settings, usable in `const fn`.
mod check {
    use crate::{Error, Result};

    /// The first setting whose check failed, by name.
    pub(super) const fn all(checks: &[(&'static str, bool)]) -> Result<()> {
        let mut i = 0;
        while i < checks.len() {
            if !checks[i].1 {
                return Err(Error::InvalidSetting { name: checks[i].0 });
            }
            i += 1;
        }
        Ok(())
    }

    /// Finite and `> 0`.
    pub(super) const fn positive(v: f32) -> bool {
        v.is_finite() && v > 0.0
    }

    /// Finite and `≥ 0`.
    pub(super) const fn non_negative(v: f32) -> bool {
        v.is_finite() && v >= 0.0
    }

    /// In `[0, 1]` (a dampening).
    pub(super) const fn closed_unit(v: f32) -> bool {
        v >= 0.0 && v <= 1.0
    }

    /// In `[0, 1)` (a momentum or a moment's decay).
    pub(super) const fn unit(v: f32) -> bool {
        v >= 0.0 && v < 1.0
    }
}

/// Something that updates parameters from their gradient.
pub trait Optimizer<N: Parameters> {
    /// Applies one update `θ ← θ − …(∂L/∂θ)`.
    fn step(&mut self, params: &mut N, grad: &N);

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Ends an epoch: applies the learning-rate decay, if the optimiser has one.
    fn end_epoch(&mut self) {}
}
