//! The stored model: load it from its blob, check its robustness, fine-tune it with VAT on a
//! stream of unlabelled samples, and check it again.
//!
//! Everything runs in one caller-owned [`State`] (on a device a `static`, so the linker counts
//! it): the network and its samples (`heapless::Vec`s), the gradient, the optimiser, the ring
//! buffer of the stream (a `heapless::Deque`), the corruption checks' copy of the blob and the
//! pass workspace. The `@ model.…` lines are compared bit for bit with the host.

use core::fmt::{self, Write};

use heapless::{Deque, String, Vec};
use vatic::certify::{self, Bound};
use vatic::metrics;
use vatic::optim::{Sgd, SgdConfig};
use vatic::semi::{self, SemiConfig};
use vatic::vat::VatConfig;
use vatic::{blob, Error, Network, Parameters, Rng, Zeroed};

use crate::config::{ModelConfig, StoredModel};
use crate::report::{bits, digest, Tally};

/// A network with its stored samples (at most `S` of `IN` features each).
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<N, const IN: usize, const S: usize> {
    /// The network.
    pub net: N,
    /// Features of the stored samples.
    pub xs: Vec<[f32; IN], S>,
    /// Labels of the stored samples.
    pub ys: Vec<usize, S>,
}

impl<N: Zeroed, const IN: usize, const S: usize> Loaded<N, IN, S> {
    /// No network, no samples (usable in a `static`; all bytes zero).
    pub const EMPTY: Self = Loaded {
        net: N::ZERO,
        xs: Vec::new(),
        ys: Vec::new(),
    };
}

impl<N, const IN: usize, const S: usize> Loaded<N, IN, S> {
    /// The features as one row-major `[n · IN]` slice, as vatic's batch functions take them.
    pub fn xs_flat(&self) -> &[f32] {
        self.xs.as_flattened()
    }
}

/// Everything the model phase keeps in RAM: the loaded model, the gradient and SGD state of
/// the fine-tuning, its ring buffer of `RING` unlabelled samples and the batch copied out of
/// it, a `COPY`-byte buffer for the corrupted copies of the blob, and the pass workspace
/// (`WS` values: `Net::WORKSPACE`, blocks of [`vatic::BLOCK`] samples, on host and device).
#[derive(Debug, Clone)]
pub struct State<
    N,
    const IN: usize,
    const S: usize,
    const RING: usize,
    const COPY: usize,
    const WS: usize,
    const CWS: usize,
> {
    /// The network and its samples.
    pub loaded: Loaded<N, IN, S>,
    /// The fine-tuning's gradient (also the scratch network of the corruption checks).
    pub grad: N,
    /// The fine-tuning's optimiser (SGD with momentum).
    pub opt: Sgd<N>,
    /// The stream of unlabelled samples.
    pub ring: Deque<[f32; IN], RING>,
    /// The ring buffer's samples, contiguous.
    pub batch: [[f32; IN]; RING],
    /// The corrupted copy of the blob.
    pub copy: Vec<u8, COPY>,
    /// The pass workspace.
    pub ws: [f32; WS],
    /// The certificates' workspace (`Net::CERTIFY_WORKSPACE` values).
    pub cert: [f64; CWS],
}

impl<
        N: Zeroed,
        const IN: usize,
        const S: usize,
        const RING: usize,
        const COPY: usize,
        const WS: usize,
        const CWS: usize,
    > State<N, IN, S, RING, COPY, WS, CWS>
{
    /// Nothing loaded, every buffer zero: all bytes zero, so a `static` of it is `.bss`.
    pub const ZERO: Self = State {
        loaded: Loaded::EMPTY,
        grad: N::ZERO,
        opt: Sgd::ZERO,
        ring: Deque::new(),
        batch: [[0.0; IN]; RING],
        copy: Vec::new(),
        ws: [0.0; WS],
        cert: [0.0; CWS],
    };
}

/// The fine-tuning's SGD settings: the model's learning rate, momentum 0.9.
pub(crate) fn sgd_config(cfg: &ModelConfig) -> SgdConfig {
    SgdConfig {
        lr: cfg.lr,
        momentum: 0.9,
        dampening: 0.0,
        weight_decay: 0.0,
        lr_decay: 1.0,
    }
}

/// Parses `bytes` into `dst`: the network and at most `S` samples, in place.
///
/// # Errors
///
/// The blob's ([`vatic::blob::parse`]), [`Error::ShapeMismatch`] when the network's input
/// width is not `IN`, and [`Error::BufferTooSmall`] when the blob holds more than `S` samples.
/// On error `dst` holds a partial load.
#[inline(never)] // separate frames: the stack is measured (and small on an M0)
pub fn load_into<N: Network, const IN: usize, const S: usize>(
    bytes: &[u8],
    dst: &mut Loaded<N, IN, S>,
) -> Result<(), Error> {
    dst.xs.clear();
    dst.ys.clear();
    if dst.net.width(0) != IN {
        return Err(Error::ShapeMismatch);
    }
    let samples = blob::parse(bytes, &mut dst.net)?;
    let full = Error::BufferTooSmall {
        needed: samples.len(),
        got: S,
    };
    for (features, y) in samples {
        let mut x = [0.0; IN];
        for (d, v) in x.iter_mut().zip(features) {
            *d = v;
        }
        dst.xs.push(x).map_err(|_| full)?;
        dst.ys.push(y).map_err(|_| full)?;
    }
    Ok(())
}

/// `{prefix}{name}` in a fixed-size string (keys and check names of a prefixed model).
fn key(prefix: &str, name: fmt::Arguments<'_>) -> String<64> {
    let mut k = String::new();
    let _ = write!(k, "{prefix}{name}");
    k
}

/// A network's widths as `16-32-4`.
pub(crate) struct Widths<'a, N>(pub(crate) &'a N);

impl<N: Network> fmt::Display for Widths<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in 0..=self.0.depth() {
            if l > 0 {
                f.write_str("-")?;
            }
            write!(f, "{}", self.0.width(l))?;
        }
        Ok(())
    }
}

/// Checks that corrupted copies of the blob are refused with the right error (a truncated one,
/// one with a flipped parameter bit, one with a wrong magic), without faulting. The copies are
/// made in `copy`; `scratch` (a network of the blob's shape) receives the parses.
///
/// # Errors
///
/// Only the sink's.
#[inline(never)] // separate frames: the stack is measured (and small on an M0)
pub fn check_corruption<N: Network, const COPY: usize>(
    bytes: &[u8],
    prefix: &str,
    copy: &mut Vec<u8, COPY>,
    scratch: &mut N,
    out: &mut impl Write,
    tally: &mut Tally,
) -> fmt::Result {
    copy.clear();
    let copied = copy.extend_from_slice(bytes).is_ok();
    tally.check(
        out,
        &key(prefix, format_args!("blob.fits_copy_buffer")),
        copied,
        format_args!("{} bytes", bytes.len()),
    )?;
    let cut = blob::parse(bytes.get(..bytes.len() / 2).unwrap_or(&[]), scratch).err();
    writeln!(out, "blob cut in half: {cut:?}")?;
    tally.check(
        out,
        &key(prefix, format_args!("blob.truncated_refused")),
        cut == Some(Error::Truncated),
        format_args!("{cut:?}"),
    )?;
    // One bit of the first parameter (the header's length depends on the depth).
    let params_at = blob::parse_header(bytes).map_or(0, |h| h.len);
    if let Some(b) = copy.get_mut(params_at + 1) {
        *b ^= 0x04;
    }
    let flipped = blob::parse(copy, scratch).err();
    writeln!(out, "blob with one flipped bit: {flipped:?}")?;
    tally.check(
        out,
        &key(prefix, format_args!("blob.bit_flip_refused")),
        flipped == Some(Error::ChecksumMismatch),
        format_args!("{flipped:?}"),
    )?;
    if let Some(b) = copy.first_mut() {
        *b = b'X';
    }
    let magic = blob::parse(copy, scratch).err();
    tally.check(
        out,
        &key(prefix, format_args!("blob.bad_magic_refused")),
        magic == Some(Error::BadMagic),
        format_args!("{magic:?}"),
    )
}

/// Robustness of `net` on `(xs, ys)` (`xs` row-major `[n · IN]`), printed; returns
/// `(clean accuracy, mean LDS)`.
///
/// Prints clean accuracy, FGSM (L∞) robust accuracy at each ε, PGD robust accuracy, mean and
/// max LDS with the exact Hessian-vector direction and with the paper's finite differences,
/// and the minimal-ε statistics of FGSM.
///
/// # Errors
///
/// The core's validation errors (which the stored data and settings never trigger), as a
/// failed check.
#[inline(never)] // separate frames: the stack is measured (and small on an M0)
#[allow(clippy::too_many_arguments)] // the core's convention: the workspace is one more
pub fn robustness<N: Network, W: Write>(
    tag: &str,
    net: &N,
    xs: &[f32],
    ys: &[usize],
    cfg: &ModelConfig,
    ws: &mut [f32],
    cert: &mut [f64],
    out: &mut W,
    tally: &mut Tally,
) -> Result<(f32, f32), fmt::Error> {
    let p = cfg.prefix;
    let Stats {
        clean,
        fgsm,
        pgd,
        exact,
        fd,
        min,
        certified,
        radius,
    } = match measure(net, xs, ys, cfg, ws, cert) {
        Ok(v) => v,
        Err(e) => {
            let name = key(p, format_args!("model.robustness_runs"));
            tally.check(out, &name, false, format_args!("{e}"))?;
            return Ok((f32::NAN, f32::NAN));
        }
    };
    let fgsm = &fgsm[..cfg.fgsm_eps.len()];
    let pgd = &pgd[..cfg.pgd_eps.len()];
    let certified = &certified[..cfg.pgd_eps.len()];

    let tag_h = Tag(cfg.name(), tag);
    writeln!(out, "[{tag_h}] clean accuracy {clean}")?;
    for (e, a) in cfg.fgsm_eps.iter().zip(fgsm) {
        writeln!(out, "[{tag_h}] FGSM Linf eps {e}: robust accuracy {a}")?;
    }
    for (e, a) in cfg.pgd_eps.iter().zip(pgd) {
        writeln!(
            out,
            "[{tag_h}] PGD-{} Linf eps {e}: robust accuracy {a}",
            cfg.pgd_iterations()
        )?;
    }
    for (e, a) in cfg.pgd_eps.iter().zip(certified) {
        writeln!(
            out,
            "[{tag_h}] certified (CROWN) Linf eps {e}: accuracy {a} (proved; first {CERTIFY_SAMPLES} samples)"
        )?;
    }
    writeln!(
        out,
        "[{tag_h}] certified radius (CROWN, Linf): mean {} min {} max {}",
        radius[0], radius[1], radius[2]
    )?;
    writeln!(
        out,
        "[{tag_h}] LDS (eps {}): exact mean {} max {}; finite differences mean {} max {}",
        cfg.vat_eps, exact.mean, exact.max, fd.mean, fd.max
    )?;
    writeln!(
        out,
        "[{tag_h}] minimal FGSM eps: fooled {} resisted {} misclassified {}; mean {} min {} max {}; empirical robustness {}",
        min.fooled, min.resisted, min.misclassified, min.mean, min.min, min.max, min.empirical_robustness
    )?;

    let line = |out: &mut W, name: &str, v: &[f32]| {
        bits(out, &key(p, format_args!("model.{tag}.{name}")), v)
    };
    line(out, "clean_accuracy", &[clean])?;
    line(out, "fgsm_accuracy", fgsm)?;
    line(out, "pgd_accuracy", pgd)?;
    line(out, "certified_accuracy", certified)?;
    line(out, "certified_radius_mean_min_max", &radius)?;
    line(out, "lds_exact_mean_max", &[exact.mean, exact.max])?;
    line(out, "lds_fd_mean_max", &[fd.mean, fd.max])?;
    line(
        out,
        "min_eps_mean_min_max_er",
        &[min.mean, min.min, min.max, min.empirical_robustness],
    )?;
    writeln!(
        out,
        "@ {p}model.{tag}.min_eps_counts {} {} {}",
        min.fooled, min.resisted, min.misclassified
    )?;

    let first = fgsm.first().copied().unwrap_or(f32::NAN);
    tally.check(
        out,
        &key(p, format_args!("model.fgsm_at_zero_is_clean")),
        first == clean,
        format_args!("{first} vs {clean}"),
    )?;
    // A certificate is a lower bound: never above what PGD leaves standing.
    let below = certified.iter().zip(pgd).all(|(c, p)| c <= p);
    tally.check(
        out,
        &key(p, format_args!("model.certified_not_above_pgd")),
        below,
        format_args!("{certified:?} vs {pgd:?}"),
    )?;
    let monotone = fgsm.windows(2).all(|w| w[1] <= w[0] + 1e-6);
    tally.check(
        out,
        &key(p, format_args!("model.fgsm_accuracy_falls_with_eps")),
        monotone,
        format_args!("{fgsm:?}"),
    )?;
    let lds_ok = exact.mean >= 0.0
        && exact.max >= exact.mean
        && exact.max.is_finite()
        && fd.mean >= 0.0
        && fd.max.is_finite();
    tally.check(
        out,
        &key(p, format_args!("model.lds_nonnegative_finite")),
        lds_ok,
        format_args!("{exact:?} {fd:?}"),
    )?;
    // The paper's ξ = 1e-6 finite difference in f32 is noisy, but its LDS must not exceed the
    // exact direction's by much: the exact direction is the dominant eigenvector.
    tally.check(
        out,
        &key(p, format_args!("model.fd_lds_not_above_exact")),
        fd.mean <= exact.mean * 1.05 + 1e-6,
        format_args!("{} vs {}", fd.mean, exact.mean),
    )?;
    Ok((clean, exact.mean))
}

/// `before` or `deep before`: the model's name and the phase, for human-readable lines.
struct Tag<'a>(&'a str, &'a str);

impl fmt::Display for Tag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.is_empty() {
            write!(f, "{} ", self.0)?;
        }
        f.write_str(self.1)
    }
}

/// Everything [`robustness`] measures.
struct Stats {
    clean: f32,
    fgsm: [f32; MAX_EPS],
    pgd: [f32; MAX_EPS],
    exact: metrics::LdsStats,
    fd: metrics::LdsStats,
    min: metrics::MinimalEpsilon,
    /// CROWN's certified accuracy at each PGD radius (L∞).
    certified: [f32; MAX_EPS],
    /// Mean, smallest and largest certified radius of the correctly classified samples.
    radius: [f32; 3],
}

/// Most radii a sweep may list.
const MAX_EPS: usize = 8;

#[inline(never)] // separate frames: the stack is measured (and small on an M0)
fn measure<N: Network>(
    net: &N,
    xs: &[f32],
    ys: &[usize],
    cfg: &ModelConfig,
    ws: &mut [f32],
    cert: &mut [f64],
) -> Result<Stats, Error> {
    let clean = vatic::supervised::accuracy(net, xs, ys, ws)?;
    let full = |eps: &[f32]| Error::BufferTooSmall {
        needed: eps.len(),
        got: MAX_EPS,
    };
    let mut fgsm = [0.0f32; MAX_EPS];
    let sweep = fgsm
        .get_mut(..cfg.fgsm_eps.len())
        .ok_or(full(cfg.fgsm_eps))?;
    metrics::robust_accuracy_sweep(net, xs, ys, &cfg.fgsm, cfg.fgsm_eps, sweep, ws)?;
    let mut pgd = [0.0f32; MAX_EPS];
    let sweep = pgd.get_mut(..cfg.pgd_eps.len()).ok_or(full(cfg.pgd_eps))?;
    metrics::robust_accuracy_sweep(net, xs, ys, &cfg.pgd, cfg.pgd_eps, sweep, ws)?;
    let exact = metrics::lds_stats(net, xs, &mut Rng::new(cfg.seed), &cfg.vat_exact(), ws)?;
    let fd = metrics::lds_stats(net, xs, &mut Rng::new(cfg.seed), &cfg.vat_paper(), ws)?;
    let (eps_max, steps) = cfg.min_eps;
    let min = metrics::minimal_epsilon_stats(net, xs, ys, &cfg.fgsm, eps_max, steps, ws)?;
    let (certified, radius) = certification(net, xs, ys, cfg, ws, cert)?;
    Ok(Stats {
        clean,
        fgsm,
        pgd,
        exact,
        fd,
        min,
        certified,
        radius,
    })
}

/// Samples the device certifies (the first ones): CROWN's `f64` bounds run in software on
/// these cores, so all 64 would take minutes under QEMU.
pub const CERTIFY_SAMPLES: usize = 16;

/// Bisection steps of the certified radius on the device.
const CERTIFY_STEPS: u32 = 6;

/// CROWN's certified accuracy at each of `cfg.pgd_eps` and the certified radii (bisection over
/// `[0, cfg.min_eps.0]`, [`CERTIFY_STEPS`] steps) of the correctly classified samples among the
/// first [`CERTIFY_SAMPLES`], in the norm of `cfg.pgd`. The accuracy is over all samples, the
/// unchecked ones counted as not certified: still a lower bound on the robust accuracy of the
/// whole set.
#[inline(never)] // separate frames: the stack is measured
fn certification<N: Network>(
    net: &N,
    xs: &[f32],
    ys: &[usize],
    cfg: &ModelConfig,
    ws: &mut [f32],
    cert: &mut [f64],
) -> Result<([f32; MAX_EPS], [f32; 3]), Error> {
    let norm = cfg.pgd.norm;
    let mut acc = [0.0f32; MAX_EPS];
    let (mut sum, mut lo, mut hi, mut n) = (0.0f32, f32::INFINITY, 0.0f32, 0usize);
    let (eps_max, steps) = (cfg.min_eps.0, CERTIFY_STEPS);
    let samples = xs.chunks_exact(net.width(0).max(1)).zip(ys);
    for (x, &y) in samples.take(CERTIFY_SAMPLES) {
        if vatic::pass::predict(net, x, ws)? != y {
            continue;
        }
        for (a, &e) in acc.iter_mut().zip(cfg.pgd_eps) {
            if certify::certified(net, x, y, e, norm, None, Bound::Crown, cert)? {
                *a += 1.0;
            }
        }
        let r =
            certify::certified_radius(net, x, y, norm, None, Bound::Crown, eps_max, steps, cert)?;
        sum += r;
        lo = lo.min(r);
        hi = hi.max(r);
        n += 1;
    }
    for a in &mut acc {
        *a /= ys.len().max(1) as f32;
    }
    let mean = if n > 0 { sum / n as f32 } else { 0.0 };
    Ok((acc, [mean, if n > 0 { lo } else { 0.0 }, hi]))
}

/// The whole model suite of `model` on `st`: load its blob, corruption checks, robustness, VAT
/// fine-tuning through the ring buffer, robustness again. Keys and check names carry its
/// `config.prefix`.
///
/// # Errors
///
/// Only the sink's; everything else is a failed check.
#[inline(never)] // separate frames: the stack is measured (and small on an M0)
pub fn run<
    N: Network,
    const IN: usize,
    const S: usize,
    const RING: usize,
    const COPY: usize,
    const WS: usize,
    const CWS: usize,
    W: Write,
>(
    model: &StoredModel,
    st: &mut State<N, IN, S, RING, COPY, WS, CWS>,
    out: &mut W,
    tally: &mut Tally,
) -> fmt::Result {
    let (blob_bytes, cfg) = (model.blob, &model.config);
    let p = cfg.prefix;
    let name = Tag(cfg.name(), "model");
    writeln!(out, "{name}: blob of {} bytes", blob_bytes.len())?;
    let loads = key(p, format_args!("blob.loads"));
    match load_into(blob_bytes, &mut st.loaded) {
        Ok(()) => tally.check(out, &loads, true, format_args!(""))?,
        Err(e) => {
            writeln!(out, "error: the stored model blob is invalid: {e}")?;
            return tally.check(out, &loads, false, format_args!("{e}"));
        }
    }
    let State {
        loaded,
        grad,
        opt,
        ring,
        batch,
        copy,
        ws,
        cert,
    } = st;
    let Loaded { net, xs, ys } = loaded;
    writeln!(
        out,
        "{name}: {} {}, {} samples",
        Widths(&*net),
        net.activation().name(),
        xs.len()
    )?;
    digest(
        out,
        &key(p, format_args!("model.blob_params")),
        net.tensors().next().unwrap_or(&[]),
    )?;
    {
        use core::mem::size_of;
        let check = size_of::<Loaded<N, IN, S>>();
        let tune = size_of::<Sgd<N>>()
            + size_of::<N>()
            + size_of::<Deque<[f32; IN], RING>>()
            + size_of::<[[f32; IN]; RING]>();
        let all = size_of::<State<N, IN, S, RING, COPY, WS, CWS>>();
        writeln!(
            out,
            "ram: model + {S} samples {check} B; fine-tuning adds {tune} B \
             (SGD velocity, gradient, ring buffer, batch); the whole phase {all} B \
             (with the blob copy and the workspace)"
        )?;
        let r = p.trim_end_matches('.');
        let u = if r.is_empty() { "" } else { "_" };
        writeln!(out, "# ram.{r}{u}model_and_samples {check}")?;
        writeln!(out, "# ram.{r}{u}finetune {tune}")?;
    }
    check_corruption(blob_bytes, p, copy, grad, out, tally)?;

    let (acc0, lds0) = robustness(
        "before",
        &*net,
        xs.as_flattened(),
        ys,
        cfg,
        ws,
        cert,
        out,
        tally,
    )?;

    // VAT fine-tuning: a few labelled anchors + unlabelled samples arriving one per step
    // into a fixed ring buffer (the oldest drops out).
    let anchors = cfg.anchors.min(xs.len());
    let (xl, yl) = (xs[..anchors].as_flattened(), &ys[..anchors]);
    ring.clear();
    if let Err(e) = opt_reset(opt, cfg) {
        writeln!(out, "error: the fine-tuning settings are invalid: {e}")?;
        return tally.check(
            out,
            &key(p, format_args!("finetune.settings")),
            false,
            format_args!("{e}"),
        );
    }
    let mut rng = Rng::new(cfg.seed ^ 0x5eed);
    let semi_cfg = SemiConfig::vat(VatConfig::new(cfg.vat_eps));
    let mut losses: Vec<f32, 64> = Vec::new();
    let mut stream = xs.iter().skip(anchors).chain(xs.iter()).cycle();
    for _ in 0..cfg.steps {
        if let Some(x) = stream.next() {
            if ring.is_full() {
                ring.pop_front();
            }
            let _ = ring.push_back(*x);
        }
        let mut n = 0;
        for (dst, src) in batch.iter_mut().zip(ring.iter()) {
            *dst = *src;
            n += 1;
        }
        let step = semi::semi_supervised_step(
            net,
            opt,
            grad,
            ws,
            xl,
            yl,
            batch[..n].as_flattened(),
            &mut rng,
            &semi_cfg,
        );
        match step {
            Ok(l) => {
                let _ = losses.push(l.total);
            }
            Err(e) => {
                let name = key(p, format_args!("finetune.step"));
                return tally.check(out, &name, false, format_args!("{e}"));
            }
        }
    }
    writeln!(
        out,
        "{}: {} VAT steps, {anchors} anchors, ring of {RING}: objective {} -> {}",
        Tag(cfg.name(), "fine-tuning"),
        cfg.steps,
        losses.first().copied().unwrap_or(f32::NAN),
        losses.last().copied().unwrap_or(f32::NAN)
    )?;
    bits(out, &key(p, format_args!("finetune.objective")), &losses)?;
    for (i, t) in net.tensors().enumerate() {
        digest(out, &key(p, format_args!("finetune.params[{i}]")), t)?;
    }
    tally.check(
        out,
        &key(p, format_args!("finetune.finite")),
        net.is_finite() && losses.iter().all(|l| l.is_finite()),
        format_args!("non-finite parameters or objective"),
    )?;

    let (acc1, lds1) = robustness(
        "after",
        &*net,
        xs.as_flattened(),
        ys,
        cfg,
        ws,
        cert,
        out,
        tally,
    )?;
    writeln!(
        out,
        "{}: accuracy {acc0} -> {acc1}, mean LDS (exact) {lds0} -> {lds1}",
        Tag(cfg.name(), "fine-tuning"),
    )?;
    tally.check(
        out,
        &key(p, format_args!("finetune.lowers_lds")),
        lds1 < lds0,
        format_args!("{lds0} -> {lds1}"),
    )?;
    tally.check(
        out,
        &key(p, format_args!("finetune.keeps_accuracy")),
        acc1 >= acc0 - 0.1,
        format_args!("{acc0} -> {acc1}"),
    )
}

/// `opt` with the fine-tuning's settings and a zero velocity, in place.
///
/// # Errors
///
/// [`Error::InvalidSetting`] for a learning rate that is not finite and positive.
fn opt_reset<N: Parameters>(opt: &mut Sgd<N>, cfg: &ModelConfig) -> Result<(), Error> {
    opt.reconfigure(sgd_config(cfg))
}
