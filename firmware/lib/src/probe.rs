//! The forward/backward self-test: one network from a fixed seed, one input, its logits,
//! cross-entropy, parameter gradients and input gradient, plus checks the device can make alone.
//!
//! The networks, the gradient, Adam's state and the workspace live in a caller-owned [`State`]
//! (on a device a `static`). The machine-readable lines (`@ …`) are what the host test compares
//! bit for bit.

use core::fmt::{self, Write};

use heapless::String;
use vatic::optim::{Adam, AdamConfig, Optimizer};
use vatic::{loss, pass, Network, Rng, Zeroed};

use crate::config::ProbeConfig;
use crate::report::{bits, digest, Tally};

/// Everything the self-test keeps in RAM: the network, a copy re-drawn from the same seed
/// (the determinism check), the gradient, Adam's state and the workspace (`WS` values,
/// `Net::WORKSPACE`), which also holds the test's vectors.
#[derive(Debug, Clone)]
pub struct State<N, const WS: usize> {
    /// The network under test.
    pub net: N,
    /// The same network drawn again from the same seed.
    pub twin: N,
    /// Its parameter gradient.
    pub grad: N,
    /// The optimiser of the short training check.
    pub adam: Adam<N>,
    /// Workspace of the passes and the test's vectors.
    pub ws: [f32; WS],
}

impl<N: Zeroed, const WS: usize> State<N, WS> {
    /// Zero networks, a fresh Adam (configured by [`run`]), zero workspace: all bytes zero, so
    /// a `static` of it is `.bss`.
    pub const ZERO: Self = State {
        net: N::ZERO,
        twin: N::ZERO,
        grad: N::ZERO,
        adam: Adam::ZERO,
        ws: [0.0; WS],
    };
}

/// The short training check's Adam settings.
const ADAM: AdamConfig = AdamConfig {
    lr: 0.01,
    ..AdamConfig::DEFAULT
};

/// Name of layer `l` of `depth` in the output keys: `hidden` (one hidden layer) or
/// `hidden1`, `hidden2`, …, then `output`.
fn layer_name(l: usize, depth: usize) -> String<16> {
    let mut s = String::new();
    let _ = if l + 1 == depth {
        s.write_str("output")
    } else if depth == 2 {
        s.write_str("hidden")
    } else {
        write!(s, "hidden{}", l + 1)
    };
    s
}

/// `(layer name, weight|bias)` of tensor `t` in [`Parameters::tensors`] order.
fn tensor_key(prefix: &str, t: usize, depth: usize) -> String<40> {
    let mut k = String::new();
    let kind = if t % 2 == 0 { "weight" } else { "bias" };
    let _ = write!(k, "{prefix}{}.{kind}", layer_name(t / 2, depth));
    k
}

/// Splits `n` values off the front of `buf`.
fn take<'a>(buf: &mut &'a mut [f32], n: usize) -> &'a mut [f32] {
    let rest = core::mem::take(buf);
    let (head, tail) = rest.split_at_mut(n.min(rest.len()));
    *buf = tail;
    head
}

/// The probe input: `x.len()` values uniform in `[-1, 1)`, drawn after the weights from the
/// same generator.
fn input(rng: &mut Rng, x: &mut [f32]) {
    for v in x {
        *v = 2.0 * rng.uniform() - 1.0;
    }
}

/// Cross-entropy at `x`, without gradients (`trace` and `z` are scratch).
fn ce<N: Network>(net: &N, x: &[f32], label: usize, trace: &mut [f32], z: &mut [f32]) -> f32 {
    pass::forward(net, x, trace, z);
    loss::cross_entropy(z, label).unwrap_or(f32::NAN)
}

/// Runs the self-test on a fresh `st` ([`State::ZERO`]) and prints its report.
///
/// Draws the network from `cfg.seed`; prints `@ logits`, `@ loss`, `@ dx` (every value) and a
/// digest per gradient tensor, then checks: every value finite; a second draw from the same
/// seed gives the same bits; the output bias gradient equals `∂CE/∂z` exactly; `Σ ∂CE/∂z ≈ 0`;
/// the input gradient agrees with a central finite difference of the loss along its own
/// direction; a few Adam steps lower the loss (whose bits are printed too).
///
/// # Errors
///
/// Only the sink's; failed checks are counted in `tally`.
#[inline(never)] // separate frames: the stack is measured (and small on an M0)
pub fn run<N: Network + PartialEq, const WS: usize, W: Write>(
    cfg: &ProbeConfig,
    st: &mut State<N, WS>,
    out: &mut W,
    tally: &mut Tally,
) -> fmt::Result {
    let State {
        net,
        twin,
        grad,
        adam,
        ws,
    } = st;
    let mut rng = Rng::new(cfg.seed);
    net.set_activation(cfg.activation);
    net.init(&mut rng);
    let s = net.shape();
    let depth = net.depth();
    write!(out, "probe: ")?;
    for l in 0..=depth {
        let sep = if l == depth { "" } else { "-" };
        write!(out, "{}{sep}", net.width(l))?;
    }
    writeln!(
        out,
        " {} seed={} label={}",
        cfg.activation.name(),
        cfg.seed,
        cfg.label
    )?;

    // The test's vectors, carved from the workspace.
    let (i, o) = (s.inputs, s.outputs);
    let need = 5 * i + 3 * o + pass::trace_len(&s, 1) + pass::scratch_len(&s, 1);
    if need > ws.len() || adam.steps() != 0 {
        return tally.check(
            out,
            "probe.state",
            false,
            format_args!("needs a fresh state and {need} workspace values"),
        );
    }
    let mut buf = &mut ws[..];
    let [x, x2, xp, xm, dx] = [i; 5].map(|n| take(&mut buf, n));
    let [z, z2, dz] = [o; 3].map(|n| take(&mut buf, n));
    let trace = take(&mut buf, pass::trace_len(&s, 1));
    let scratch = take(&mut buf, pass::scratch_len(&s, 1));

    input(&mut rng, x);
    pass::forward(&*net, x, trace, z);
    dz.copy_from_slice(z);
    let l = match loss::cross_entropy_grad(dz, cfg.label) {
        Ok(v) => v,
        Err(e) => {
            return tally.check(out, "probe.label", false, format_args!("{e}"));
        }
    };
    grad.zero();
    pass::backward(
        &*net,
        x,
        trace,
        dz,
        Some(&mut *grad),
        Some(&mut *dx),
        scratch,
    );

    bits(out, "probe.logits", z)?;
    bits(out, "probe.loss", &[l])?;
    bits(out, "probe.dx", dx)?;
    for (t, v) in grad.tensors().enumerate() {
        digest(out, &tensor_key("grad.", t, depth), v)?;
    }

    let finite = z.iter().chain(&*dx).all(|v| v.is_finite()) && l.is_finite() && grad.is_finite();
    tally.check(out, "probe.finite", finite, format_args!("NaN or inf"))?;

    // Same seed, same bits.
    let mut rng2 = Rng::new(cfg.seed);
    twin.set_activation(cfg.activation);
    twin.init(&mut rng2);
    input(&mut rng2, x2);
    pass::forward(&*twin, x2, trace, z2);
    let same_z = z2.iter().zip(&*z).all(|(a, b)| a.to_bits() == b.to_bits());
    let same = *twin == *net && x2 == x && same_z;
    tally.check(
        out,
        "probe.deterministic",
        same,
        format_args!("rerun differs"),
    )?;

    // ∂CE/∂b_L = ∂CE/∂z (accumulated onto zeros).
    let bias = grad.layer(depth - 1).map_or(&[][..], |d| d.bias);
    let bias_ok = bias.len() == dz.len()
        && bias
            .iter()
            .zip(&*dz)
            .all(|(a, b)| a.to_bits() == b.to_bits());
    tally.check(
        out,
        "probe.output_bias_grad",
        bias_ok,
        format_args!("{bias:?} vs {dz:?}"),
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
    xp.copy_from_slice(x);
    xm.copy_from_slice(x);
    for ((p, m), g) in xp.iter_mut().zip(xm.iter_mut()).zip(&*dx) {
        *p += h * g / norm;
        *m -= h * g / norm;
    }
    let fd =
        (ce(&*net, xp, cfg.label, trace, z2) - ce(&*net, xm, cfg.label, trace, z2)) / (2.0 * h);
    let fd_ok = (fd - norm).abs() <= 2e-2 * norm.max(1e-3);
    tally.check(
        out,
        "probe.input_grad_vs_fd",
        fd_ok,
        format_args!("|dx| {norm} vs finite difference {fd}"),
    )?;

    // A few Adam steps on this one sample lower its loss.
    // ADAM is a valid constant: `reconfigure` cannot fail on it.
    let _ = adam.reconfigure(ADAM);
    for _ in 0..cfg.train_steps {
        grad.zero();
        pass::forward(&*net, x, trace, z2);
        if loss::cross_entropy_grad(z2, cfg.label).is_ok() {
            pass::backward(&*net, x, trace, z2, Some(&mut *grad), None, scratch);
        }
        adam.step(net, grad);
    }
    let trained = ce(&*net, x, cfg.label, trace, z2);
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
    for (t, v) in net.tensors().enumerate() {
        // The trained parameters, digested (names as the gradient's).
        digest(out, &tensor_key("probe.trained.", t, depth), v)?;
    }
    Ok(())
}
