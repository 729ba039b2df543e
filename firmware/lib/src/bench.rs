//! Instruction counts of the core operations on the stored model, for boards that can count.
//!
//! The board supplies a [`Counter`]; under QEMU (`-icount shift=0`, where virtual time advances
//! one nanosecond per instruction) the mps2-an386 binary counts with SysTick, calibrated on a
//! block of exactly 1000 instructions. These are **instructions executed, not cycles**: a
//! Cortex-M4F needs 1–3 cycles for most of them, more for divisions and flash wait states.

use core::fmt::{self, Write};
use core::hint::black_box;

use vatic::attack::{self, Norm};
use vatic::optim::{Sgd, SgdConfig};
use vatic::semi::{self, SemiConfig};
use vatic::vat::VatConfig;
use vatic::{Mlp, Network};

use crate::config::ModelConfig;
use crate::model::{load_into, Loaded};

/// Something that can count what a closure executes.
pub trait Counter {
    /// Instructions (or cycles, on hardware with a DWT: say which in `unit`) executed by `f`.
    fn count(&mut self, f: &mut dyn FnMut()) -> u32;

    /// What [`Counter::count`] counts, for the report.
    fn unit(&self) -> &'static str;
}

/// Counts one inference, one FGSM example and one semi-supervised VAT step (labelled anchors +
/// a full ring buffer of unlabelled samples) on the stored model, and prints `# bench.<what> N`
/// lines (not compared with the host: counts are the target's).
///
/// # Errors
///
/// Only the sink's.
#[inline(never)]
pub fn run<const IN: usize, const H: usize, const OUT: usize, const N: usize, const RING: usize>(
    blob_bytes: &[u8],
    cfg: &ModelConfig,
    counter: &mut dyn Counter,
    out: &mut impl Write,
) -> fmt::Result {
    let mut m = Loaded::<IN, H, OUT, N>::EMPTY;
    if let Err(e) = load_into(blob_bytes, &mut m) {
        return writeln!(out, "bench: cannot load the model: {e}");
    }
    let (Some(x), Some(&y)) = (m.xs.first(), m.ys.first()) else {
        return writeln!(out, "bench: no samples");
    };
    let net = &m.net;
    let unit = counter.unit();
    let inference = counter.count(&mut || {
        black_box(net.logits(black_box(x)));
    });
    let eps = cfg.fgsm_eps.last().copied().unwrap_or(0.1);
    let fgsm = counter.count(&mut || {
        let _ = black_box(attack::fgsm(net, black_box(x), y, eps, Norm::LInf, None));
    });
    let anchors = cfg.anchors.min(m.xs.len());
    let ring = RING.min(m.xs.len() - anchors);
    let (xl, yl, xu) = (
        &m.xs[..anchors],
        &m.ys[..anchors],
        &m.xs[anchors..anchors + ring],
    );
    let mut net = m.net.clone();
    let mut opt: Sgd<Mlp<IN, H, OUT>> = Sgd::new(SgdConfig {
        lr: cfg.lr,
        momentum: 0.9,
        weight_decay: 0.0,
        lr_decay: 1.0,
    });
    let mut grad = Mlp::<IN, H, OUT>::ZERO;
    let mut rng = vatic::Rng::new(cfg.seed);
    let semi_cfg = SemiConfig::vat(VatConfig::new(cfg.vat_eps));
    let step = counter.count(&mut || {
        let _ = black_box(semi::semi_supervised_step(
            &mut net, &mut opt, &mut grad, xl, yl, xu, &mut rng, &semi_cfg,
        ));
    });
    writeln!(
        out,
        "bench ({IN}-{H}-{OUT}, {unit}): inference {inference}, FGSM example {fgsm}, \
         VAT step ({anchors} labelled + {ring} unlabelled) {step}"
    )?;
    writeln!(out, "# bench.inference {inference}")?;
    writeln!(out, "# bench.fgsm {fgsm}")?;
    writeln!(out, "# bench.vat_step {step}")
}
