//! What each class of device runs, one profile per class ([`m4f`], [`m0`]): the networks and
//! sample counts (in the types of the phases' RAM), the stored models' blobs and the settings.
//! The firmware and the host tests share them, so both sides compute exactly the same thing
//! (with workspaces of [`vatic::BLOCK`] samples, `Net::WORKSPACE`, on both sides);
//! [`crate::suite`] runs them.
//!
//! A phase's RAM type spells every size as a const generic: stable Rust cannot compute an
//! array length from a type parameter, so a profile names the sizes where its types are
//! concrete, and `model_state!` fills in those that follow from the network.

use vatic::attack::{Attack, Method};
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

/// Settings of the on-device robustness check and VAT fine-tuning ([`crate::model`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelConfig {
    /// Prefix of the model's output keys and check names (`""` or, e.g., `"deep."`), so that
    /// several stored models can run in one suite.
    pub prefix: &'static str,
    /// The FGSM of the robust-accuracy sweep and of the minimal-ε statistics.
    pub fgsm: Attack,
    /// Its radii in the sweep.
    pub fgsm_eps: &'static [f32],
    /// The PGD of the robust-accuracy sweep; the certificates use its norm.
    pub pgd: Attack,
    /// Its radii, which are also the certificates'.
    pub pgd_eps: &'static [f32],
    /// Largest ε and bisection steps of the minimal-ε statistics (with [`ModelConfig::fgsm`]).
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

    /// PGD's steps (for the report; 1 if [`ModelConfig::pgd`] is an FGSM).
    pub const fn pgd_iterations(&self) -> u32 {
        match self.pgd.method {
            Method::Pgd(p) => p.iterations,
            Method::Fgsm => 1,
        }
    }
}

/// A stored model: its blob, the hidden activation it is trained with, and the settings of its
/// checks and fine-tuning. Its network type and sample counts are those of its phase's RAM
/// (declared next to it with `model_state!`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredModel {
    /// The blob ([`vatic::blob`] format): the network and its held-out samples.
    pub blob: &'static [u8],
    /// Hidden activation (what `vatic-make-blobs` trains the network with).
    pub activation: Activation,
    /// Check and fine-tuning settings.
    pub config: ModelConfig,
}

/// The type of a stored model's RAM, [`crate::model::State`], for the vatic network
/// `$net<$widths>` (`Mlp<16, 32, 4>`) with `$s` stored samples and a ring of `$r`: the sizes
/// that follow from those are filled in (the input width, the blob's length for its corrupted
/// copy, the pass and certificate workspaces).
macro_rules! model_state {
    ($net:ident<$($w:literal),+>, samples: $s:literal, ring: $r:literal) => {
        $crate::model::State<
            ::vatic::$net<$($w),+>,
            { [$($w),+][0] },
            $s,
            $r,
            { ::vatic::blob::len(&[$($w),+], $s) },
            { ::vatic::$net::<$($w),+>::WORKSPACE },
            { ::vatic::$net::<$($w),+>::CERTIFY_WORKSPACE },
        >
    };
}

/// The Cortex-M4F boards (QEMU `mps2-an386`, nRF52840-DK).
pub mod m4f {
    use super::{ModelConfig, ProbeConfig, StoredModel};
    use crate::{bench, probe};
    use vatic::attack::{Attack, Norm};
    use vatic::{Activation, Mlp};

    /// The self-test's RAM: a 64-32-10 network, the size the core's docs measure (9 KB of
    /// parameters, about 28 KB with gradient and Adam state).
    pub type Probe = probe::State<Mlp<64, 32, 10>, { Mlp::<64, 32, 10>::WORKSPACE }>;
    /// The self-test's settings: ReLU.
    pub const PROBE: ProbeConfig = ProbeConfig {
        seed: 42,
        activation: Activation::Relu,
        label: 3,
        train_steps: 10,
    };

    /// The stored model's RAM: a 16-32-4 network with 64 held-out samples, fine-tuned through a
    /// ring of 8.
    pub type Model = model_state!(Mlp<16, 32, 4>, samples: 64, ring: 8);
    /// The stored model: ReLU, trained on the host on four Gaussian clusters in 16-D
    /// (`cargo run -p vatic-qemu-tests --bin vatic-make-blobs`).
    pub const MODEL: StoredModel = StoredModel {
        blob: include_bytes!("../blobs/m4f.vatc"),
        activation: Activation::Relu,
        config: ModelConfig {
            prefix: "",
            fgsm: Attack::fgsm(Norm::LInf),
            fgsm_eps: &[0.0, 0.05, 0.1, 0.2, 0.3, 0.5],
            pgd: Attack::pgd(Norm::LInf, 5),
            pgd_eps: &[0.1, 0.2, 0.3],
            min_eps: (1.0, 8),
            vat_eps: 1.0,
            seed: 11,
            anchors: 8,
            steps: 24,
            lr: 0.02,
        },
    };

    /// The second stored model's RAM: a 16-24-16-8-4 network (three hidden layers), 64 samples,
    /// a ring of 8.
    pub type Deep = model_state!(Mlp3<16, 24, 16, 8, 4>, samples: 64, ring: 8);
    /// The second stored model: tanh, on four Gaussian clusters in 16-D; its keys and checks
    /// are prefixed `deep.`. It is attacked as [`MODEL`] is, but the tanh network is smooth at
    /// ε = 1 (mean LDS about 0.13, which fine-tuning does not lower), so its LDS and VAT use
    /// ε = 2 and 48 steps.
    pub const DEEP: StoredModel = StoredModel {
        blob: include_bytes!("../blobs/m4f-deep.vatc"),
        activation: Activation::Tanh,
        config: ModelConfig {
            prefix: "deep.",
            vat_eps: 2.0,
            seed: 17,
            steps: 48,
            lr: 0.05,
            ..MODEL.config
        },
    };

    /// The RAM of the kernel counts ([`bench::kernels`]): a 64 × 32 layer (2 048 multiply-adds
    /// per pass, so the loops' overhead is amortised) and its gradient, 2 × 8 320 bytes.
    pub type Kernels = bench::Kernels<64, 32>;
    /// Seed of [`vatic::Rng`] for the kernel counts: draws the weights, the gradient, the input
    /// and `dy`.
    pub const KERNEL_SEED: u64 = 5;
}

/// The Cortex-M0 with 16 KB of RAM (QEMU `microbit`): smaller networks.
pub mod m0 {
    use super::{ModelConfig, ProbeConfig, StoredModel};
    use crate::{bench, probe};
    use vatic::attack::{Attack, Norm};
    use vatic::{Activation, Mlp};

    /// The self-test's RAM: a 16-8-4 network.
    pub type Probe = probe::State<Mlp<16, 8, 4>, { Mlp::<16, 8, 4>::WORKSPACE }>;
    /// The self-test's settings: tanh.
    pub const PROBE: ProbeConfig = ProbeConfig {
        seed: 7,
        activation: Activation::Tanh,
        label: 1,
        train_steps: 10,
    };

    /// The stored model's RAM: an 8-16-2 network with 32 held-out samples, fine-tuned through a
    /// ring of 4 (fits the micro:bit's 16 KB with room to spare).
    pub type Model = model_state!(Mlp<8, 16, 2>, samples: 32, ring: 4);
    /// The stored model: tanh, on two Gaussian clusters in 8-D.
    pub const MODEL: StoredModel = StoredModel {
        blob: include_bytes!("../blobs/m0.vatc"),
        activation: Activation::Tanh,
        config: ModelConfig {
            prefix: "",
            fgsm: Attack::fgsm(Norm::LInf),
            fgsm_eps: &[0.0, 0.1, 0.2, 0.4],
            pgd: Attack::pgd(Norm::LInf, 3),
            pgd_eps: &[0.2, 0.4],
            min_eps: (1.5, 6),
            vat_eps: 1.0,
            seed: 13,
            anchors: 4,
            steps: 12,
            lr: 0.02,
        },
    };

    /// The RAM of the kernel counts ([`bench::kernels`]): a 32 × 32 layer (1 024 multiply-adds
    /// per pass) and its gradient, 2 × 4 224 bytes of the micro:bit's 16 KB.
    pub type Kernels = bench::Kernels<32, 32>;
    /// Seed of [`vatic::Rng`] for the kernel counts.
    pub const KERNEL_SEED: u64 = 5;
}
