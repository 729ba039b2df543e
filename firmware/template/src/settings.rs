//! What the device measures and how it fine-tunes. The check's settings are those of
//! `vatic eval --eps 0.05,0.1,0.2 --certify off` on the digits (L∞ attacks clipped to the
//! images' box [0, 1], PGD with 10 steps, LDS with ε = 1 and K = 5 power iterations from the
//! data's seed), so the host gives the same numbers (`model/make-model` runs it).

use vatic::attack::{Attack, Clip, Norm};
use vatic::optim::SgdConfig;
use vatic::vat::VatConfig;

/// Radii of the FGSM and PGD robust accuracies (L∞, in pixel units: the images are in [0, 1]).
pub const EPS: [f32; 3] = [0.05, 0.1, 0.2];
/// The attacks' norm.
pub const NORM: Norm = Norm::LInf;
/// PGD steps (of `2.5 ε / steps`, Madry et al.).
pub const PGD_ITERATIONS: u32 = 10;
/// The box adversarial examples are clipped to: the digits' pixel range.
pub const CLIP: Clip = Clip::UNIT;
/// FGSM in [`NORM`], clipped to [`CLIP`].
pub const FGSM: Attack = Attack {
    clip: Some(CLIP),
    ..Attack::fgsm(NORM)
};
/// PGD: [`PGD_ITERATIONS`] steps in [`NORM`] from the clean sample, clipped to [`CLIP`]; it
/// keeps the first iterate that fools the network.
pub const PGD: Attack = Attack {
    clip: Some(CLIP),
    ..Attack::pgd(NORM, PGD_ITERATIONS)
};
/// The LDS statistics: VAT's ε = 1 (L2), the exact direction, K = 5 power iterations.
pub const LDS: VatConfig = VatConfig {
    iterations: 5,
    ..VatConfig::new(1.0)
};
/// Seed of the LDS start directions (`vatic::Rng`): the data's seed, as `vatic eval` uses.
pub const SEED: u64 = 1;

/// Fine-tuning: the first this many stored samples are the labelled anchors.
pub const ANCHORS: usize = 16;
/// Fine-tuning: unlabelled samples kept (a ring buffer; one new sample arrives per step).
pub const RING: usize = 8;
/// Fine-tuning steps.
pub const STEPS: u32 = 64;
/// Fine-tuning: VAT's radius (L2; the digits' training default) and one power iteration.
pub const VAT: VatConfig = VatConfig::new(0.6);
/// Fine-tuning: SGD with momentum.
pub const SGD: SgdConfig = SgdConfig::pytorch(0.01, 0.9);
/// Seed of the fine-tuning's VAT directions.
pub const FINETUNE_SEED: u64 = 0x5eed;
