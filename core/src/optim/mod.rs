//! Optimisers: [`Sgd`] with momentum and learning-rate decay, and [`Adam`].
//!
//! Both keep their state in buffers of the network's own type, so an optimiser for an `N` costs
//! `size_of::<Sgd<N>>()` ≈ one network, `size_of::<Adam<N>>()` ≈ two networks, and can live in a
//! `static` (their `new` is `const fn`).

mod adam;
mod sgd;

pub use adam::{Adam, AdamConfig};
pub use sgd::{Sgd, SgdConfig};

use crate::Parameters;

/// Something that updates parameters from their gradient.
pub trait Optimizer<N: Parameters> {
    /// Applies one update `θ ← θ − …(∂L/∂θ)`.
    fn step(&mut self, params: &mut N, grad: &N);

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Ends an epoch: applies the learning-rate decay, if the optimiser has one.
    fn end_epoch(&mut self) {}
}
