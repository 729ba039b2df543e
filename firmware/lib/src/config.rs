//! What each board runs: network shapes and seeds, shared by the firmware and the host tests so
//! both sides compute exactly the same thing, and the types of the state each phase keeps in
//! RAM (with workspaces of [`vatic::BLOCK`] samples, `Net::WORKSPACE`, on both sides).

use vatic::attack::Norm;
use vatic::vat::VatConfig;
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
    /// What the self-test keeps in RAM (network, re-drawn copy, gradient, Adam, workspace).
    pub type State = crate::probe::State<Net, { Net::WORKSPACE }>;

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
    /// What the self-test keeps in RAM (network, re-drawn copy, gradient, Adam, workspace).
    pub type State = crate::probe::State<Net, { Net::WORKSPACE }>;

    /// The self-test settings.
    pub const PROBE: ProbeConfig = ProbeConfig {
        seed: 7,
        activation: Activation::Tanh,
        label: 1,
        train_steps: 10,
    };
}

/// Settings of the on-device robustness check and VAT fine-tuning ([`crate::model`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelConfig {
    /// Prefix of the model's output keys and check names (`""` or, e.g., `"deep."`), so that
    /// several stored models can run in one suite.
    pub prefix: &'static str,
    /// FGSM (L∞) radii of the robust-accuracy sweep.
    pub fgsm_eps: &'static [f32],
    /// PGD (L∞) radii.
    pub pgd_eps: &'static [f32],
    /// PGD steps.
    pub pgd_iterations: u32,
    /// Largest ε and bisection steps of the minimal-ε statistics (FGSM, L∞).
    pub min_eps: (f32, u32),
    /// VAT radius ε (L2) of the LDS statistics and the fine-tuning.
    pub vat_eps: f32,
    /// Seed of the start directions of LDS and VAT.
    pub seed: u64,
    /// Labelled anchors for fine-tuning: the first this many stored samples.
    pub anchors: usize,
    /// Fine-tuning steps (one new unlabelled sample enters the ring buffer per step).
    pub steps: u32,
    /// Learning rate of the fine-tuning's SGD (momentum 0.9).
    pub lr: f32,
}

impl ModelConfig {
    /// `prefix` without its trailing dot, for human-readable lines (`""` for none).
    pub fn name(&self) -> &'static str {
        self.prefix.trim_end_matches('.')
    }

    /// The VAT settings with the exact Hessian-vector direction.
    pub const fn vat_exact(&self) -> VatConfig {
        VatConfig::new(self.vat_eps)
    }

    /// The VAT settings of the authors' code: finite differences, ξ = 1e-6.
    pub const fn vat_paper(&self) -> VatConfig {
        VatConfig::paper(self.vat_eps)
    }

    /// The attacks' norm.
    pub const NORM: Norm = Norm::LInf;
}

/// The stored model of the Cortex-M4F suite: a 16-32-4 ReLU network trained on the host on four
/// Gaussian clusters in 16-D (`cargo run -p vatic-qemu-tests --bin vatic-make-blobs`), with 64
/// held-out samples.
pub mod m4f_model {
    use super::ModelConfig;

    /// Input width.
    pub const IN: usize = 16;
    /// Hidden width.
    pub const H: usize = 32;
    /// Number of classes.
    pub const OUT: usize = 4;
    /// The network.
    pub type Net = vatic::Mlp<IN, H, OUT>;
    /// Hidden activation (what `vatic-make-blobs` trains it with).
    pub const ACTIVATION: vatic::Activation = vatic::Activation::Relu;
    /// Stored samples.
    pub const SAMPLES: usize = 64;
    /// Capacity of the fine-tuning's ring buffer of unlabelled samples.
    pub const RING: usize = 8;
    /// Buffer for the corrupted copy of the blob: the blob's size.
    pub const COPY: usize = vatic::blob::len(&[IN, H, OUT], SAMPLES);
    /// What the model phase keeps in RAM.
    pub type State = crate::model::State<
        Net,
        IN,
        SAMPLES,
        RING,
        COPY,
        { Net::WORKSPACE },
        { Net::CERTIFY_WORKSPACE },
    >;
    /// The blob (see [`vatic::blob`]).
    pub static BLOB: &[u8] = include_bytes!("../blobs/m4f.vatc");
    /// Check and fine-tuning settings.
    pub const CONFIG: ModelConfig = ModelConfig {
        prefix: "",
        fgsm_eps: &[0.0, 0.05, 0.1, 0.2, 0.3, 0.5],
        pgd_eps: &[0.1, 0.2, 0.3],
        pgd_iterations: 5,
        min_eps: (1.0, 8),
        vat_eps: 1.0,
        seed: 11,
        anchors: 8,
        steps: 24,
        lr: 0.02,
    };
}

/// The second stored model of the Cortex-M4F suite: a 16-24-16-8-4 tanh network (three hidden
/// layers) trained on the host on four Gaussian clusters in 16-D, with 64 held-out samples; its
/// keys and checks are prefixed `deep.`. The tanh network is smooth at ε = 1 (mean LDS about
/// 0.13, which fine-tuning does not lower), so its LDS and VAT use ε = 2 and 48 steps.
pub mod m4f_deep {
    use super::ModelConfig;

    /// Input width.
    pub const IN: usize = 16;
    /// First hidden width.
    pub const H1: usize = 24;
    /// Second hidden width.
    pub const H2: usize = 16;
    /// Third hidden width.
    pub const H3: usize = 8;
    /// Number of classes.
    pub const OUT: usize = 4;
    /// The network.
    pub type Net = vatic::Mlp3<IN, H1, H2, H3, OUT>;
    /// Hidden activation (what `vatic-make-blobs` trains it with).
    pub const ACTIVATION: vatic::Activation = vatic::Activation::Tanh;
    /// Stored samples.
    pub const SAMPLES: usize = 64;
    /// Capacity of the fine-tuning's ring buffer of unlabelled samples.
    pub const RING: usize = 8;
    /// Buffer for the corrupted copy of the blob: the blob's size.
    pub const COPY: usize = vatic::blob::len(&[IN, H1, H2, H3, OUT], SAMPLES);
    /// What the model phase keeps in RAM.
    pub type State = crate::model::State<
        Net,
        IN,
        SAMPLES,
        RING,
        COPY,
        { Net::WORKSPACE },
        { Net::CERTIFY_WORKSPACE },
    >;
    /// The blob (see [`vatic::blob`]).
    pub static BLOB: &[u8] = include_bytes!("../blobs/m4f-deep.vatc");
    /// Check and fine-tuning settings.
    pub const CONFIG: ModelConfig = ModelConfig {
        prefix: "deep.",
        fgsm_eps: &[0.0, 0.05, 0.1, 0.2, 0.3, 0.5],
        pgd_eps: &[0.1, 0.2, 0.3],
        pgd_iterations: 5,
        min_eps: (1.0, 8),
        vat_eps: 2.0,
        seed: 17,
        anchors: 8,
        steps: 48,
        lr: 0.05,
    };
}

/// The stored model of the Cortex-M0 suite: an 8-16-2 tanh network on two Gaussian clusters in
/// 8-D, with 32 held-out samples (fits the micro:bit's 16 KB of RAM with room to spare).
pub mod m0_model {
    use super::ModelConfig;

    /// Input width.
    pub const IN: usize = 8;
    /// Hidden width.
    pub const H: usize = 16;
    /// Number of classes.
    pub const OUT: usize = 2;
    /// The network.
    pub type Net = vatic::Mlp<IN, H, OUT>;
    /// Hidden activation (what `vatic-make-blobs` trains it with).
    pub const ACTIVATION: vatic::Activation = vatic::Activation::Tanh;
    /// Stored samples.
    pub const SAMPLES: usize = 32;
    /// Capacity of the fine-tuning's ring buffer of unlabelled samples.
    pub const RING: usize = 4;
    /// Buffer for the corrupted copy of the blob: the blob's size.
    pub const COPY: usize = vatic::blob::len(&[IN, H, OUT], SAMPLES);
    /// What the model phase keeps in RAM.
    pub type State = crate::model::State<
        Net,
        IN,
        SAMPLES,
        RING,
        COPY,
        { Net::WORKSPACE },
        { Net::CERTIFY_WORKSPACE },
    >;
    /// The blob (see [`vatic::blob`]).
    pub static BLOB: &[u8] = include_bytes!("../blobs/m0.vatc");
    /// Check and fine-tuning settings.
    pub const CONFIG: ModelConfig = ModelConfig {
        prefix: "",
        fgsm_eps: &[0.0, 0.1, 0.2, 0.4],
        pgd_eps: &[0.2, 0.4],
        pgd_iterations: 3,
        min_eps: (1.5, 6),
        vat_eps: 1.0,
        seed: 13,
        anchors: 4,
        steps: 12,
        lr: 0.02,
    };
}

/// The layer whose dense kernels [`crate::bench::kernels`] counts on the Cortex-M4F boards:
/// 64 inputs × 32 outputs (2 048 multiply-adds per pass, so the loops' overhead is amortised).
/// The layer and a gradient of the same shape take 2 × 8 320 bytes.
pub mod m4f_kernel {
    /// Inputs.
    pub const IN: usize = 64;
    /// Outputs.
    pub const OUT: usize = 32;
    /// What the kernel counts keep in RAM (layer, gradient, `x`, `dy`, `y`, `dx`).
    pub type State = crate::bench::Kernels<IN, OUT>;
    /// Seed of [`vatic::Rng`]: draws the weights, the gradient, the input and `dy`.
    pub const SEED: u64 = 5;
}

/// The layer whose dense kernels [`crate::bench::kernels`] counts on the Cortex-M0: 32 × 32
/// (1 024 multiply-adds per pass; the layer and its gradient take 2 × 4 224 bytes of the
/// micro:bit's 16 KB).
pub mod m0_kernel {
    /// Inputs.
    pub const IN: usize = 32;
    /// Outputs.
    pub const OUT: usize = 32;
    /// What the kernel counts keep in RAM (layer, gradient, `x`, `dy`, `y`, `dx`).
    pub type State = crate::bench::Kernels<IN, OUT>;
    /// Seed of [`vatic::Rng`]: draws the weights, the gradient, the input and `dy`.
    pub const SEED: u64 = 5;
}
