//! The forward/backward self-test: one network from a fixed seed, one input, its logits,
//! cross-entropy, parameter gradients and input gradient, plus checks the device can make alone.
//!
//! The machine-readable lines (`@ …`) are what the host test compares bit for bit.

use core::fmt::{self, Write};

use vatic::optim::{Adam, AdamConfig, Optimizer};
use vatic::{loss, Mlp, Network, Parameters, Rng};

use crate::config::ProbeConfig;
use crate::report::{bits, digest, Tally};

/// Tensor names in [`Parameters::tensors`] order for [`Mlp`].
const TENSORS: [&str; 4] = [
    "grad.hidden.weight",
    "grad.hidden.bias",
    "grad.output.weight",
    "grad.output.bias",
];

/// The probe input: `IN` values uniform in `[-1, 1)`, drawn after the weights from the same
/// generator.
fn input<const IN: usize>(rng: &mut Rng) -> [f32; IN] {
    let mut x = [0.0; IN];
    for v in &mut x {
        *v = 2.0 * rng.uniform() - 1.0;
    }
    x
}

/// Cross-entropy at `x`, without gradients.
fn ce<const IN: usize, const H: usize, const OUT: usize>(
    net: &Mlp<IN, H, OUT>,
    x: &[f32; IN],
    label: usize,
) -> f32 {
    match loss::cross_entropy(&net.logits(x), label) {
        Ok((l, _)) => l,
        Err(_) => f32::NAN,
    }
}

/// Runs the self-test for an `IN → H → OUT` network and prints its report.
///
/// Prints `@ logits`, `@ loss`, `@ dx` (every value) and a digest per gradient tensor, then
/// checks: every value finite; a second run from the same seed gives the same bits; the output
/// bias gradient equals `∂CE/∂z` exactly; `Σ ∂CE/∂z ≈ 0`; the input gradient agrees with a
/// central finite difference of the loss along its own direction; a few Adam steps lower the
/// loss (whose bits are printed too).
///
/// # Errors
///
/// Only the sink's; failed checks are counted in `tally`.
#[inline(never)] // separate frames: the stack is measured (and small on an M0)
pub fn run<const IN: usize, const H: usize, const OUT: usize, W: Write>(
    cfg: &ProbeConfig,
    out: &mut W,
    tally: &mut Tally,
) -> fmt::Result {
    writeln!(
        out,
        "probe: {IN}-{H}-{OUT} {} seed={} label={}",
        cfg.activation.name(),
        cfg.seed,
        cfg.label
    )?;
    let mut rng = Rng::new(cfg.seed);
    let mut net: Mlp<IN, H, OUT> = Mlp::new(cfg.activation, &mut rng);
    let x = input::<IN>(&mut rng);

    let mut trace = Mlp::<IN, H, OUT>::EMPTY_TRACE;
    let z = net.forward(&x, &mut trace);
    let (l, dz) = match loss::cross_entropy(&z, cfg.label) {
        Ok(v) => v,
        Err(e) => {
            return tally.check(out, "probe.label", false, format_args!("{e}"));
        }
    };
    let mut grad = Mlp::<IN, H, OUT>::ZERO;
    let mut dx = [0.0; IN];
    net.backward(&trace, &dz, Some(&mut grad), Some(&mut dx));

    bits(out, "probe.logits", &z)?;
    bits(out, "probe.loss", &[l])?;
    bits(out, "probe.dx", &dx)?;
    for (name, t) in TENSORS.iter().zip(grad.tensors()) {
        digest(out, name, t)?;
    }

    let finite = z.iter().chain(&dx).all(|v| v.is_finite()) && l.is_finite() && grad.is_finite();
    tally.check(out, "probe.finite", finite, format_args!("NaN or inf"))?;

    // Same seed, same bits.
    let mut rng2 = Rng::new(cfg.seed);
    let net2: Mlp<IN, H, OUT> = Mlp::new(cfg.activation, &mut rng2);
    let x2 = input::<IN>(&mut rng2);
    let same = net2 == net && x2 == x && net2.logits(&x2).map(f32::to_bits) == z.map(f32::to_bits);
    tally.check(
        out,
        "probe.deterministic",
        same,
        format_args!("rerun differs"),
    )?;

    // ∂CE/∂b₂ = ∂CE/∂z (accumulated onto zeros).
    let bias_ok = grad.output.bias.map(f32::to_bits) == dz.map(f32::to_bits);
    tally.check(
        out,
        "probe.output_bias_grad",
        bias_ok,
        format_args!("{:?} vs {:?}", grad.output.bias, dz),
    )?;
    let dz_sum: f32 = dz.iter().sum();
    tally.check(
        out,
        "probe.dz_sums_to_zero",
        dz_sum.abs() < 1e-6,
        format_args!("sum {dz_sum}"),
    )?;

    // Directional derivative along u = dx/‖dx‖ is ‖dx‖; central difference with step h.
    let norm = vatic::math::sqrt(dx.iter().map(|v| v * v).sum());
    let h = 1e-2f32;
    let (mut xp, mut xm) = (x, x);
    for ((p, m), g) in xp.iter_mut().zip(&mut xm).zip(&dx) {
        *p += h * g / norm;
        *m -= h * g / norm;
    }
    let fd = (ce(&net, &xp, cfg.label) - ce(&net, &xm, cfg.label)) / (2.0 * h);
    let fd_ok = (fd - norm).abs() <= 2e-2 * norm.max(1e-3);
    tally.check(
        out,
        "probe.input_grad_vs_fd",
        fd_ok,
        format_args!("|dx| {norm} vs finite difference {fd}"),
    )?;

    // A few Adam steps on this one sample lower its loss.
    let mut opt: Adam<Mlp<IN, H, OUT>> = Adam::new(AdamConfig {
        lr: 0.01,
        ..AdamConfig::DEFAULT
    });
    for _ in 0..cfg.train_steps {
        grad.zero();
        let z = net.forward(&x, &mut trace);
        if let Ok((_, dz)) = loss::cross_entropy(&z, cfg.label) {
            net.backward(&trace, &dz, Some(&mut grad), None);
        }
        opt.step(&mut net, &grad);
    }
    let trained = ce(&net, &x, cfg.label);
    bits(out, "probe.loss_after_adam", &[trained])?;
    writeln!(
        out,
        "loss {l} -> {trained} after {} Adam steps",
        cfg.train_steps
    )?;
    tally.check(
        out,
        "probe.adam_lowers_loss",
        trained < l,
        format_args!("{l} -> {trained}"),
    )?;
    for (name, t) in TENSORS.iter().zip(net.tensors()) {
        // The trained parameters, digested (names reuse the gradient order).
        let key = name.trim_start_matches("grad.");
        let mut k: heapless::String<32> = heapless::String::new();
        let _ = write!(k, "probe.trained.{key}");
        digest(out, &k, t)?;
    }
    Ok(())
}
