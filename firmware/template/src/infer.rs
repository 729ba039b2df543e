//! Inference of one sample: the forward pass alone, with the smallest buffers it needs.

use vatic::{argmax, pass, Network};

use crate::model::{Net, IN, OUT};
use crate::report::{self, Line, Sink, Tally};

/// Values of a forward pass's trace: every hidden activation of one sample (`Σ H`).
pub const TRACE: usize = crate::model::H;

/// The buffers of one inference, in RAM beside the network: the sample, its hidden activations
/// and its logits (424 bytes for 64-32-10).
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The input.
    pub x: [f32; IN],
    /// The hidden activations.
    pub trace: [f32; TRACE],
    /// The logits.
    pub logits: [f32; OUT],
}

impl State {
    /// All zero (usable in a `static`: `.bss`).
    pub const ZERO: Self = State {
        x: [0.0; IN],
        trace: [0.0; TRACE],
        logits: [0.0; OUT],
    };
}

/// The logits of `st.x` into `st.logits`; returns the predicted class.
///
/// [`vatic::pass::forward`] needs only the trace (`Σ H` values), not the workspace of the
/// batch functions (`Net::WORKSPACE_ONE`, 1 408 bytes here); it trusts its buffers to be
/// the network's widths, which these arrays are by type.
#[inline(never)] // its own frame: the stack is measured
pub fn classify(net: &Net, st: &mut State) -> usize {
    debug_assert_eq!(net.shape().hidden_sum, TRACE);
    pass::forward(net, &st.x, &mut st.trace, &mut st.logits);
    argmax(&st.logits)
}

/// Reports one inference: `sample <i>: class <c> (label <y>)`, and the logits' bits
/// (`@ infer.logits`) and the class (`@ infer.class`, as an `f32`).
pub fn report(out: &mut impl Sink, sample: u32, class: usize, label: usize, logits: &[f32]) {
    Line::new()
        .str("sample ")
        .u32(sample)
        .str(": class ")
        .u32(class as u32)
        .str(" (label ")
        .u32(label as u32)
        .str(")")
        .end(out);
    report::bits(out, "infer.logits", logits);
    report::bits(out, "infer.class", &[class as f32]);
}

/// The `infer` binary: loads the blob into `net`, classifies the first stored sample and
/// reports it.
pub fn app(net: &mut Net, st: &mut State, out: &mut impl Sink, tally: &mut Tally) {
    let mut samples = match crate::model::load(net) {
        Ok(s) => s,
        Err(e) => return crate::check::error(out, tally, &e),
    };
    crate::check::header(out, "infer", net, samples.len());
    let Some(sample) = samples.next() else {
        return tally.check(out, "infer.runs", false);
    };
    let label = crate::model::read(sample, &mut st.x);
    let class = classify(net, st);
    report(out, 0, class, label, &st.logits);
    tally.check(out, "infer.runs", true);
}
