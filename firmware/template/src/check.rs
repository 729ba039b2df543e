//! The robustness check, one sample at a time: clean accuracy, FGSM and PGD robust accuracy at
//! each radius of [`EPS`], mean and max LDS.
//!
//! The samples stream through [`Check::add`] (from the blob in flash here; from a sensor
//! with labels on a real device), so the check needs one sample of RAM and a one-sample
//! workspace ([`WS`]), not the whole set. Each figure is computed by the same core functions
//! `vatic eval` runs on the host over the whole set — they go sample by sample too, and the
//! LDS sum adds the samples in order — so the results are the same bits:
//!
//! * accuracy = correct samples / n (`vatic::supervised::accuracy`), robust accuracy = samples
//!   still correct after the attack / n (`vatic::metrics::robust_accuracy_sweep`);
//! * LDS = `KL(p(x) ‖ p(x + r_vadv))` with the start direction of each sample drawn from one
//!   `vatic::Rng` in sample order (`vatic::metrics::lds_stats` does the same through the same
//!   one-sample `vatic::vat` block as `vatic::vat::lds`); mean = Σ / n, max.

use vatic::attack::Attack;
use vatic::metrics;
use vatic::vat;
use vatic::{blob::Samples, pass, Error, Network, Rng};

use crate::model::{self, Net, IN};
use crate::report::{Line, Sink, Tally};
use crate::settings::{EPS, FGSM, LDS, PGD, PGD_ITERATIONS, SEED};

/// `f32`s of the workspace: one sample's traces, deltas and perturbed copies
/// (`Net::WORKSPACE_ONE`: 352 values, 1 408 bytes, for 64-32-10).
pub const WS: usize = Net::WORKSPACE_ONE;

/// What the check keeps in RAM beside the network: the current sample, its LDS start
/// direction and the workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The current sample.
    pub x: [f32; IN],
    /// Its LDS start direction.
    pub d: [f32; IN],
    /// The workspace of the core's functions.
    pub ws: [f32; WS],
}

impl State {
    /// All zero (usable in a `static`: `.bss`).
    pub const ZERO: Self = State {
        x: [0.0; IN],
        d: [0.0; IN],
        ws: [0.0; WS],
    };
}

/// The check's running counts.
#[derive(Debug, Clone)]
pub struct Check {
    n: u32,
    clean: u32,
    fgsm: [u32; EPS.len()],
    pgd: [u32; EPS.len()],
    lds_sum: f32,
    lds_max: f32,
    rng: Rng,
}

/// The check's results.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// Samples checked.
    pub n: u32,
    /// Correctly classified samples.
    pub clean: u32,
    /// Samples still correct after FGSM at each radius of [`EPS`].
    pub fgsm: [u32; EPS.len()],
    /// Samples still correct after PGD at each radius.
    pub pgd: [u32; EPS.len()],
    /// Mean LDS.
    pub lds_mean: f32,
    /// Largest LDS.
    pub lds_max: f32,
}

impl Default for Check {
    fn default() -> Self {
        Self::new()
    }
}

impl Check {
    /// No samples yet; LDS directions from `Rng::new(SEED)`.
    pub fn new() -> Self {
        Check {
            n: 0,
            clean: 0,
            fgsm: [0; EPS.len()],
            pgd: [0; EPS.len()],
            lds_sum: 0.0,
            lds_max: 0.0,
            rng: Rng::new(SEED),
        }
    }

    /// Checks one sample `st.x` with label `y` (`st.d` receives its LDS start direction).
    ///
    /// # Errors
    ///
    /// The core's validation errors: a non-finite sample or network, a label out of range.
    #[inline(never)] // its own frame: the stack is measured
    pub fn add(&mut self, net: &Net, y: usize, st: &mut State) -> Result<(), Error> {
        let State { x, d, ws } = st;
        if pass::predict(net, x, ws)? == y {
            self.clean += 1;
        }
        survivors(net, x, y, &FGSM, &mut self.fgsm, ws)?;
        survivors(net, x, y, &PGD, &mut self.pgd, ws)?;
        direction(&mut self.rng, d);
        let l = vat::lds(net, x, d, &LDS, ws)?;
        self.lds_sum += l;
        self.lds_max = if l > self.lds_max { l } else { self.lds_max };
        self.n += 1;
        Ok(())
    }

    /// The results so far.
    pub fn report(&self) -> Report {
        let n = self.n.max(1) as f32;
        Report {
            n: self.n,
            clean: self.clean,
            fgsm: self.fgsm,
            pgd: self.pgd,
            lds_mean: self.lds_sum / n,
            lds_max: self.lds_max,
        }
    }
}

/// Adds 1 to `counts[i]` when `x` is still classified `y` after `attack` at `EPS[i]`.
// Separate frames (not inlined into `Check::add`): the stack peak is the deepest one chain of
// calls, not the sum of the attack's and the LDS's locals.
#[inline(never)]
fn survivors(
    net: &Net,
    x: &[f32],
    y: usize,
    attack: &Attack,
    counts: &mut [u32; EPS.len()],
    ws: &mut [f32],
) -> Result<(), Error> {
    let mut acc = [0.0f32; EPS.len()];
    metrics::robust_accuracy_sweep(net, x, &[y], attack, &EPS, &mut acc, ws)?;
    for (c, &a) in counts.iter_mut().zip(&acc) {
        *c += a as u32;
    }
    Ok(())
}

/// The LDS start direction of the next sample: `IN` standard normal values from `rng`, as
/// `vatic::metrics::lds_stats` draws them (one `fill_normal` per sample, in order).
#[inline(never)] // a separate frame, as `survivors`: `cosf`'s argument reduction is large
fn direction(rng: &mut Rng, d: &mut [f32; IN]) {
    rng.fill_normal(d);
}

impl Report {
    /// `count / n` as `vatic eval` computes an accuracy.
    pub fn fraction(&self, count: u32) -> f32 {
        count as f32 / self.n.max(1) as f32
    }

    /// Prints the results, human-readable and as `@ <prefix>.…` bit lines.
    #[inline(never)] // its own frame: the stack is measured
    pub fn write(&self, prefix: &str, out: &mut impl Sink) {
        let mut l = Line::new();
        l.str(prefix)
            .str(": clean accuracy ")
            .f32(self.fraction(self.clean))
            .str(" (")
            .u32(self.clean)
            .str(" of ")
            .u32(self.n)
            .str(")")
            .end(out);
        for (i, &e) in EPS.iter().enumerate() {
            let (f, p) = (
                self.fgsm.get(i).copied().unwrap_or(0),
                self.pgd.get(i).copied().unwrap_or(0),
            );
            l.str(prefix)
                .str(": eps ")
                .f32(e)
                .str(" Linf: FGSM ")
                .f32(self.fraction(f))
                .str(" PGD-")
                .u32(PGD_ITERATIONS)
                .str(" ")
                .f32(self.fraction(p))
                .end(out);
        }
        l.str(prefix)
            .str(": LDS (eps ")
            .f32(LDS.eps)
            .str(", K ")
            .u32(LDS.iterations)
            .str(") mean ")
            .f32(self.lds_mean)
            .str(" max ")
            .f32(self.lds_max)
            .end(out);
        let key = |l: &mut Line, name: &str| {
            l.str("@ ").str(prefix).str(".").str(name);
        };
        key(&mut l, "clean_accuracy");
        l.bits(self.fraction(self.clean)).end(out);
        key(&mut l, "fgsm_accuracy");
        for &c in &self.fgsm {
            l.bits(self.fraction(c));
        }
        l.end(out);
        key(&mut l, "pgd_accuracy");
        for &c in &self.pgd {
            l.bits(self.fraction(c));
        }
        l.end(out);
        key(&mut l, "lds_mean_max");
        l.bits(self.lds_mean).bits(self.lds_max).end(out);
    }
}

/// Runs the check over every stored sample (streamed from the blob through `st.x`).
///
/// # Errors
///
/// [`Check::add`]'s.
#[inline(never)] // its own frame: the stack is measured
pub fn run(net: &Net, samples: Samples<'_>, st: &mut State) -> Result<Report, Error> {
    let mut check = Check::new();
    for s in samples {
        let y = model::read(s, &mut st.x);
        check.add(net, y, st)?;
    }
    Ok(check.report())
}

/// Writes the header line: `<what>: 64-32-10 relu, 64 samples, blob of N bytes`.
#[inline(never)] // its own frame (with its line buffer): the stack is measured
pub fn header(out: &mut impl Sink, what: &str, net: &Net, samples: usize) {
    let mut l = Line::new();
    l.str(what).str(": ");
    for i in 0..=net.depth() {
        if i > 0 {
            l.str("-");
        }
        l.u32(net.width(i) as u32);
    }
    l.str(" ")
        .str(net.activation().name())
        .str(", ")
        .u32(samples as u32)
        .str(" samples, blob of ")
        .u32(crate::model::BLOB.len() as u32)
        .str(" bytes")
        .end(out);
}

/// Writes `error: <what>` for a failed load or check, as a failed check.
#[inline(never)] // its own frame (with its line buffer): the stack is measured
pub fn error(out: &mut impl Sink, tally: &mut Tally, e: &Error) {
    Line::new()
        .str("error: ")
        .str(model::error_name(e))
        .end(out);
    tally.check(out, "runs", false);
}

/// The `check` binary: loads the blob into `net`, checks the model on every stored sample and
/// reports it (`@ check.…` lines).
pub fn app(net: &mut Net, st: &mut State, out: &mut impl Sink, tally: &mut Tally) {
    let samples = match model::load(net) {
        Ok(s) => s,
        Err(e) => return error(out, tally, &e),
    };
    header(out, "check", net, samples.len());
    match run(net, samples, st) {
        Ok(r) => {
            r.write("check", out);
            tally.check(out, "check.runs", true);
        }
        Err(e) => error(out, tally, &e),
    }
}
