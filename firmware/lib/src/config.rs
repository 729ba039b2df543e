//! What each board runs: network shapes and seeds, shared by the firmware and the host tests so
//! both sides compute exactly the same thing.

use vatic::Activation;

/// Settings of the [`probe`](crate::probe) self-test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeConfig {
    /// Seed of [`vatic::Rng`]: draws the weights, then the input.
    pub seed: u64,
    /// Hidden activation.
    pub activation: Activation,
    /// Label of the probe input.
    pub label: usize,
    /// Adam steps of the short training check.
    pub train_steps: u32,
}

/// Cortex-M4F boards (QEMU `mps2-an386`, nRF52840-DK): a 64-32-10 ReLU network, the size the
/// core's docs measure (9 KB of parameters, about 28 KB with gradient and Adam state).
pub mod m4f {
    use super::*;

    /// Input width.
    pub const IN: usize = 64;
    /// Hidden width.
    pub const H: usize = 32;
    /// Number of classes.
    pub const OUT: usize = 10;
    /// The network.
    pub type Net = vatic::Mlp<IN, H, OUT>;

    /// The self-test settings.
    pub const PROBE: ProbeConfig = ProbeConfig {
        seed: 42,
        activation: Activation::Relu,
        label: 3,
        train_steps: 10,
    };
}

/// Cortex-M0 with 16 KB of RAM (QEMU `microbit`): a 16-8-4 tanh network.
pub mod m0 {
    use super::*;

    /// Input width.
    pub const IN: usize = 16;
    /// Hidden width.
    pub const H: usize = 8;
    /// Number of classes.
    pub const OUT: usize = 4;
    /// The network.
    pub type Net = vatic::Mlp<IN, H, OUT>;

    /// The self-test settings.
    pub const PROBE: ProbeConfig = ProbeConfig {
        seed: 7,
        activation: Activation::Tanh,
        label: 1,
        train_steps: 10,
    };
}
