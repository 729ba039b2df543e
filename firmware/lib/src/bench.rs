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

use vatic::attack::{Attack, Norm};
use vatic::certify::{self, Bound};
use vatic::semi::{self, SemiConfig};
use vatic::vat::VatConfig;
use vatic::{pass, Dense, Network};

use crate::config::StoredModel;
use crate::model::{load_into, sgd_config, Loaded, State};

/// Something that can count what a closure executes.
pub trait Counter {
    /// Instructions (or cycles, on hardware with a DWT: say which in `unit`) executed by `f`.
    fn count(&mut self, f: &mut dyn FnMut()) -> u32;

    /// What [`Counter::count`] counts, for the report.
    fn unit(&self) -> &'static str;
}

/// Counts one inference, one FGSM example, one semi-supervised VAT step (labelled anchors + a
/// full ring buffer of unlabelled samples) and one certificate on the stored `model`, loaded
/// into `st`, and prints `# bench.<prefix><what> N` lines (not compared with the host: counts
/// are the target's; the prefix is its `config.prefix` with `_` for `.`).
///
/// # Errors
///
/// Only the sink's.
#[inline(never)]
pub fn run<
    N: Network,
    const IN: usize,
    const S: usize,
    const RING: usize,
    const COPY: usize,
    const WS: usize,
    const CWS: usize,
>(
    model: &StoredModel,
    st: &mut State<N, IN, S, RING, COPY, WS, CWS>,
    counter: &mut dyn Counter,
    out: &mut impl Write,
) -> fmt::Result {
    let cfg = &model.config;
    if let Err(e) = load_into(model.blob, &mut st.loaded) {
        return writeln!(out, "bench: cannot load the model: {e}");
    }
    let State {
        loaded,
        grad,
        opt,
        ws,
        cert,
        ..
    } = st;
    let Loaded { net, xs, ys } = loaded;
    let (Some(x), Some(&y)) = (xs.first(), ys.first()) else {
        return writeln!(out, "bench: no samples");
    };
    let classes = net.width(net.depth());
    // The logits and the adversarial example at the end of the workspace, the rest for the
    // passes (one sample: the block size does not matter).
    let (pass_ws, tail) = ws.split_at_mut(WS.saturating_sub(classes + IN));
    let (z, adv) = tail.split_at_mut(classes.min(tail.len()));
    let unit = counter.unit();
    let inference = {
        let net = &*net;
        counter.count(&mut || {
            let _ = black_box(pass::logits(net, black_box(x), z, pass_ws));
        })
    };
    let eps = cfg.fgsm_eps.last().copied().unwrap_or(0.1);
    let fgsm = {
        let net = &*net;
        counter.count(&mut || {
            let _ = black_box(Attack::fgsm(Norm::LInf).perturb(
                net,
                black_box(x),
                y,
                eps,
                adv,
                pass_ws,
            ));
        })
    };
    let anchors = cfg.anchors.min(xs.len());
    let ring = RING.min(xs.len() - anchors);
    let (xl, yl, xu) = (
        xs[..anchors].as_flattened(),
        &ys[..anchors],
        xs[anchors..anchors + ring].as_flattened(),
    );
    if let Err(e) = opt.reconfigure(sgd_config(cfg)) {
        return writeln!(out, "bench: invalid fine-tuning settings: {e}");
    }
    let mut rng = vatic::Rng::new(cfg.seed);
    let semi_cfg = SemiConfig::vat(VatConfig::new(cfg.vat_eps));
    let step = counter.count(&mut || {
        let _ = black_box(semi::semi_supervised_step(
            net, opt, grad, ws, xl, yl, xu, &mut rng, &semi_cfg,
        ));
    });
    // One certificate (CROWN, L∞, at the FGSM radius) of the first sample: the device's cost
    // per certified sample and radius.
    let certify = {
        let net = &*net;
        counter.count(&mut || {
            let _ = black_box(certify::certified(
                net,
                black_box(x),
                y,
                eps,
                Norm::LInf,
                None,
                Bound::Crown,
                cert,
            ));
        })
    };
    let p = cfg.name();
    let u = if p.is_empty() { "" } else { "_" };
    writeln!(out, "bench: one CROWN certificate {certify}")?;
    writeln!(out, "# bench.{p}{u}certify {certify}")?;
    writeln!(
        out,
        "bench ({}{}{}, {unit}): inference {inference}, FGSM example {fgsm}, \
         VAT step ({anchors} labelled + {ring} unlabelled) {step}",
        p,
        if p.is_empty() { "" } else { " " },
        crate::model::Widths(&*net),
    )?;
    writeln!(out, "# bench.{p}{u}inference {inference}")?;
    writeln!(out, "# bench.{p}{u}fgsm {fgsm}")?;
    writeln!(out, "# bench.{p}{u}vat_step {step}")
}

/// What [`kernels`] keeps in RAM: one `IN`×`OUT` layer, a gradient of its shape, and the
/// vectors `x`, `dy`, `y`, `dx` (`2 · (IN + 1) · OUT + 2 · (IN + OUT)` values).
#[derive(Debug, Clone, PartialEq)]
pub struct Kernels<const IN: usize, const OUT: usize> {
    /// The layer.
    pub layer: Dense<IN, OUT>,
    /// The gradient the rank-1 update accumulates into.
    pub grad: Dense<IN, OUT>,
    /// The forward product's input.
    pub x: [f32; IN],
    /// The transposed product's input.
    pub dy: [f32; OUT],
    /// The forward product's output.
    pub y: [f32; OUT],
    /// The transposed product's output.
    pub dx: [f32; IN],
}

impl<const IN: usize, const OUT: usize> Kernels<IN, OUT> {
    /// Everything zero (usable in a `static`; all bytes zero).
    pub const ZERO: Self = Kernels {
        layer: Dense::ZERO,
        grad: Dense::ZERO,
        x: [0.0; IN],
        dy: [0.0; OUT],
        y: [0.0; OUT],
        dx: [0.0; IN],
    };
}

/// Counts the three dense kernels of one `IN`×`OUT` layer in `k` on one sample, as a
/// compile-time network runs them: [`Dense::forward`] (`y = W x + b`), [`Dense::backprop`]
/// (the transposed product `dx = Wᵀ dy`) and [`Dense::accumulate`] (the rank-1 update
/// `∂W += dy xᵀ`, `∂b += dy`), on weights, a gradient, `x` and `dy` drawn from `vatic::Rng::new(seed)`
/// (normal samples: the Cortex-M0's soft float takes data-dependent paths, so zeros would
/// flatter it). Prints each count and the count per multiply-add (`IN·OUT` of them; the bias
/// adds and the zeroing of `dx` are included in the numerator) as
/// `# bench.<kernel>_per_mac N.NN` lines (target-specific, not compared with the host).
///
/// # Errors
///
/// Only the sink's.
#[inline(never)]
pub fn kernels<const IN: usize, const OUT: usize>(
    seed: u64,
    k: &mut Kernels<IN, OUT>,
    counter: &mut dyn Counter,
    out: &mut impl Write,
) -> fmt::Result {
    let Kernels {
        layer,
        grad,
        x,
        dy,
        y,
        dx,
    } = k;
    let mut rng = vatic::Rng::new(seed);
    layer.view_mut().init(&mut rng);
    rng.fill_normal(&mut layer.bias);
    grad.view_mut().init(&mut rng);
    rng.fill_normal(&mut grad.bias);
    rng.fill_normal(x);
    rng.fill_normal(dy);

    let layer = &*layer;
    let forward = counter.count(&mut || {
        black_box(layer).forward(black_box(&*x), y);
        black_box(&mut *y);
    });
    let transposed = counter.count(&mut || {
        black_box(layer).backprop(black_box(&*dy), dx);
        black_box(&mut *dx);
    });
    let rank1 = counter.count(&mut || {
        black_box(&mut *grad).accumulate(black_box(&*x), black_box(&*dy));
        black_box(&mut *grad);
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
