//! Instruction counts of the core operations on the stored model ([`run`]) and of the dense
//! kernels per multiply-add ([`kernels`]), for boards that can count.
//!
//! The board supplies a [`Counter`]; under QEMU (`-icount shift=0`, where virtual time advances
//! one nanosecond per instruction) the mps2-an386 and microbit binaries count with SysTick,
//! calibrated on a block of exactly 1000 instructions (`vatic_fw_stack::SysTickCounter`). These
//! are **instructions executed, not cycles**: a Cortex-M4F needs 1–3 cycles for most of them,
//! more for divisions and flash wait states; on the Cortex-M0 every `f32` operation is a call
//! into the soft-float routines of `compiler_builtins`, whose instructions are counted too.

use core::fmt::{self, Write};
use core::hint::black_box;

use vatic::attack::{self, Norm};
use vatic::optim::{Sgd, SgdConfig};
use vatic::semi::{self, SemiConfig};
use vatic::vat::VatConfig;
use vatic::{Dense, Mlp, Network};

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

/// Counts the three dense kernels of one `IN`×`OUT` layer, [`Dense::forward`] (`y = W x + b`),
/// [`Dense::backprop_input`] (the transposed product `dx = Wᵀ dy`) and
/// [`Dense::accumulate_grad`] (the rank-1 update `∂W += dy xᵀ`, `∂b += dy`), on weights, a
/// gradient, `x` and `dy` drawn from `vatic::Rng::new(seed)` (normal samples: the Cortex-M0's
/// soft float takes data-dependent paths, so zeros would flatter it). Prints each count and the
/// count per multiply-add (`IN·OUT` of them; the bias adds and the zeroing of `dx` are included
/// in the numerator) as `# bench.<kernel>_per_mac N.NN` lines (target-specific, not compared
/// with the host).
///
/// The layer and the gradient live on this function's stack frame: `2 · (IN + 1) · OUT · 4`
/// bytes.
///
/// # Errors
///
/// Only the sink's.
#[inline(never)]
pub fn kernels<const IN: usize, const OUT: usize>(
    seed: u64,
    counter: &mut dyn Counter,
    out: &mut impl Write,
) -> fmt::Result {
    let mut rng = vatic::Rng::new(seed);
    let mut layer = Dense::<IN, OUT>::ZERO;
    layer.init(&mut rng);
    rng.fill_normal(&mut layer.bias);
    let mut grad = Dense::<IN, OUT>::ZERO;
    grad.init(&mut rng);
    rng.fill_normal(&mut grad.bias);
    let mut x = [0.0; IN];
    rng.fill_normal(&mut x);
    let mut dy = [0.0; OUT];
    rng.fill_normal(&mut dy);
    let (mut y, mut dx) = ([0.0; OUT], [0.0; IN]);

    let layer = &layer;
    let forward = counter.count(&mut || {
        black_box(layer).forward(black_box(&x), &mut y);
        black_box(&mut y);
    });
    let transposed = counter.count(&mut || {
        black_box(layer).backprop_input(black_box(&dy), &mut dx);
        black_box(&mut dx);
    });
    let rank1 = counter.count(&mut || {
        black_box(layer).accumulate_grad(black_box(&x), black_box(&dy), &mut grad);
        black_box(&mut grad);
    });

    let macs = IN * OUT;
    let unit = counter.unit();
    writeln!(
        out,
        "bench dense {IN}x{OUT} ({macs} multiply-adds, {unit}): forward {forward} ({}), \
         transposed {transposed} ({}), rank-1 update {rank1} ({}) per multiply-add",
        PerMac(forward, macs),
        PerMac(transposed, macs),
        PerMac(rank1, macs),
    )?;
    writeln!(out, "# bench.forward_per_mac {}", PerMac(forward, macs))?;
    writeln!(
        out,
        "# bench.transposed_per_mac {}",
        PerMac(transposed, macs)
    )?;
    writeln!(out, "# bench.rank1_per_mac {}", PerMac(rank1, macs))
}

/// `count / macs` with two decimals, rounded to nearest, in integer arithmetic (no `f32`
/// formatting code on the device).
struct PerMac(u32, usize);

impl fmt::Display for PerMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let macs = self.1.max(1) as u64;
        let hundredths = (u64::from(self.0) * 100 + macs / 2) / macs;
        write!(f, "{}.{:02}", hundredths / 100, hundredths % 100)
    }
}

/// Every count for the Cortex-M4F boards: [`run`] on the stored `m4f_model` and [`kernels`] on
/// the `m4f_kernel` layer (the counterpart of [`crate::suite::m4f`]).
///
/// # Errors
///
/// Only the sink's.
pub fn m4f(counter: &mut dyn Counter, out: &mut impl Write) -> fmt::Result {
    use crate::config::{m4f_kernel as k, m4f_model as m};
    // Both run even if the first one's output failed, as the boards did before.
    let model = run::<{ m::IN }, { m::H }, { m::OUT }, { m::SAMPLES }, { m::RING }>(
        m::BLOB,
        &m::CONFIG,
        counter,
        out,
    );
    model.and(kernels::<{ k::IN }, { k::OUT }>(k::SEED, counter, out))
}

/// Every count for the Cortex-M0 board: [`run`] on the stored `m0_model` and [`kernels`] on the
/// `m0_kernel` layer (the counterpart of [`crate::suite::m0`]).
///
/// # Errors
///
/// Only the sink's.
pub fn m0(counter: &mut dyn Counter, out: &mut impl Write) -> fmt::Result {
    use crate::config::{m0_kernel as k, m0_model as m};
    // Both run even if the first one's output failed, as the boards did before.
    let model = run::<{ m::IN }, { m::H }, { m::OUT }, { m::SAMPLES }, { m::RING }>(
        m::BLOB,
        &m::CONFIG,
        counter,
        out,
    );
    model.and(kernels::<{ k::IN }, { k::OUT }>(k::SEED, counter, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(p: PerMac) -> heapless::String<16> {
        let mut s = heapless::String::new();
        write!(s, "{p}").unwrap();
        s
    }

    #[test]
    fn per_mac_rounds_to_two_decimals() {
        assert_eq!(show(PerMac(9512, 2048)), "4.64");
        assert_eq!(show(PerMac(2048, 2048)), "1.00");
        assert_eq!(show(PerMac(1, 3)), "0.33");
        assert_eq!(show(PerMac(2, 3)), "0.67");
        assert_eq!(show(PerMac(0, 0)), "0.00");
    }
}
