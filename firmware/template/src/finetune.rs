//! VAT fine-tuning on a stream: check the model, fine-tune it with semi-supervised virtual
//! adversarial training — a few labelled anchors plus unlabelled samples that arrive one per
//! step into a ring buffer — and check it again.
//!
//! RAM beside the network: the parameter gradient and SGD's velocity (each the network's size),
//! the one-sample workspace and sample of the [`check`], the anchors and the ring.

use vatic::blob::Samples;
use vatic::optim::Sgd;
use vatic::semi::{self, SemiConfig, SemiLoss};
use vatic::{Error, Parameters, Rng};

use crate::check::{self, Report};
use crate::model::{self, Net, IN};
use crate::report::{self, Line, Sink};
use crate::settings::{ANCHORS, FINETUNE_SEED, RING, SGD, STEPS, VAT};

/// What fine-tuning keeps in RAM beside the network.
#[derive(Debug, Clone)]
pub struct State {
    /// The check's sample and workspace (the workspace also serves the training steps).
    pub check: check::State,
    /// The parameter gradient of a step.
    pub grad: Net,
    /// SGD with momentum: its velocity.
    pub opt: Sgd<Net>,
    /// The labelled anchors' features.
    pub anchors: [[f32; IN]; ANCHORS],
    /// Their labels.
    pub labels: [usize; ANCHORS],
    /// The ring buffer of unlabelled samples (written round-robin).
    pub ring: [[f32; IN]; RING],
}

impl State {
    /// All zero (usable in a `static`: `.bss`).
    pub const ZERO: Self = State {
        check: check::State::ZERO,
        grad: Net::ZERO,
        opt: Sgd::ZERO,
        anchors: [[0.0; IN]; ANCHORS],
        labels: [0; ANCHORS],
        ring: [[0.0; IN]; RING],
    };
}

/// The objective of the first and the last step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    /// First step's `CE + LDS`.
    pub first: f32,
    /// Last step's.
    pub last: f32,
}

impl Objective {
    /// Prints the objective's bits and a digest of the fine-tuned parameters.
    #[inline(never)] // its own frame: the stack is measured
    pub fn write(&self, net: &Net, out: &mut impl Sink) {
        report::bits(
            out,
            "finetune.objective_first_last",
            &[self.first, self.last],
        );
        Line::new()
            .str("@ finetune.params")
            .hex(report::fnv1a(net.tensors().flatten()))
            .end(out);
    }
}

/// Fine-tunes `net` for [`STEPS`] steps: the first [`ANCHORS`] stored samples are labelled,
/// the others (then all of them from the first, round and round) arrive unlabelled, one per
/// step, into the ring of [`RING`]; each step is one `vatic::semi::semi_supervised_step` (cross-entropy of the
/// anchors + mean LDS of the ring, SGD with momentum).
///
/// # Errors
///
/// The core's validation errors (the stored data and settings do not trigger them).
#[inline(never)] // its own frame: the stack is measured
pub fn tune(
    net: &mut Net,
    samples: &Samples<'_>,
    st: &mut State,
    out: &mut impl Sink,
) -> Result<Objective, Error> {
    for ((x, y), s) in st
        .anchors
        .iter_mut()
        .zip(&mut st.labels)
        .zip(samples.clone())
    {
        *y = model::read(s, x);
    }
    st.opt.reconfigure(SGD)?;
    let mut rng = Rng::new(FINETUNE_SEED);
    let cfg = SemiConfig::vat(VAT);
    let n = samples.len().max(1);
    let (mut filled, mut next) = (0, 0);
    let mut objective = Objective {
        first: f32::NAN,
        last: f32::NAN,
    };
    for step_no in 0..STEPS {
        // The stream: the samples after the anchors, then all of them, round and round.
        let i = (ANCHORS + step_no as usize) % n;
        if let (Some(s), Some(slot)) = (samples.clone().nth(i), st.ring.get_mut(next)) {
            model::read(s, slot);
            next = (next + 1) % RING;
            filled = RING.min(filled + 1);
        }
        let l = step(net, st, filled, &mut rng, &cfg)?;
        if step_no == 0 {
            objective.first = l.total;
        }
        objective.last = l.total;
        if (step_no + 1) % 16 == 0 {
            progress(out, step_no + 1, &l);
        }
    }
    Ok(objective)
}

/// One training step on the anchors and the first `filled` samples of the ring.
// Separate frames (`step`, `progress`, not inlined into `tune`): the stack peak is then the
// deepest chain of calls, not the sum of every callee's locals.
#[inline(never)]
fn step(
    net: &mut Net,
    st: &mut State,
    filled: usize,
    rng: &mut Rng,
    cfg: &SemiConfig,
) -> Result<SemiLoss, Error> {
    let xu = st.ring.get(..filled).unwrap_or_default().as_flattened();
    semi::semi_supervised_step(
        net,
        &mut st.opt,
        &mut st.grad,
        &mut st.check.ws,
        st.anchors.as_flattened(),
        &st.labels,
        xu,
        rng,
        cfg,
    )
}

#[inline(never)]
fn progress(out: &mut impl Sink, steps: u32, l: &SemiLoss) {
    Line::new()
        .str("finetune: step ")
        .u32(steps)
        .str(" objective ")
        .f32(l.total)
        .str(" (CE ")
        .f32(l.ce)
        .str(", LDS ")
        .f32(l.lds)
        .str(")")
        .end(out);
}

/// Check, fine-tune, check again; prints both reports, the objective and a digest of the
/// fine-tuned parameters, and checks that the mean LDS fell and the accuracy held (within 10
/// points).
///
/// # Errors
///
/// The core's validation errors.
#[inline] // into `app`: one frame less on the deepest path
pub fn run(
    net: &mut Net,
    samples: Samples<'_>,
    st: &mut State,
    out: &mut impl Sink,
    tally: &mut report::Tally,
) -> Result<(Report, Report), Error> {
    let before = check::run(net, samples.clone(), &mut st.check)?;
    before.write("before", out);
    let objective = tune(net, &samples, st, out)?;
    objective.write(net, out);
    let after = check::run(net, samples, &mut st.check)?;
    after.write("after", out);
    tally.check(out, "finetune.finite", net.is_finite());
    tally.check(out, "finetune.lowers_lds", after.lds_mean < before.lds_mean);
    let (a0, a1) = (before.fraction(before.clean), after.fraction(after.clean));
    tally.check(out, "finetune.keeps_accuracy", a1 >= a0 - 0.1);
    Ok((before, after))
}

/// The `finetune` binary: loads the blob into `net`, then [`run`].
pub fn app(net: &mut Net, st: &mut State, out: &mut impl Sink, tally: &mut report::Tally) {
    let samples = match model::load(net) {
        Ok(s) => s,
        Err(e) => return check::error(out, tally, &e),
    };
    check::header(out, "finetune", net, samples.len());
    if let Err(e) = run(net, samples, st, out, tally) {
        check::error(out, tally, &e);
    }
}
