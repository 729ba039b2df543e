//! The stored model: load it from its blob, check its robustness, fine-tune it with VAT on a
//! stream of unlabelled samples, and check it again.
//!
//! Everything runs in fixed buffers (the samples in `heapless::Vec`s, the stream in a
//! `heapless::Deque` ring buffer); the `@ model.…` lines are compared bit for bit with the host.

use core::fmt::{self, Write};

use heapless::{Deque, Vec};
use vatic::metrics::{self, Attack};
use vatic::optim::{Sgd, SgdConfig};
use vatic::semi::{self, SemiConfig};
use vatic::vat::VatConfig;
use vatic::{blob, Error, Mlp, Parameters, Rng};

use crate::config::ModelConfig;
use crate::report::{bits, digest, Tally};

/// A network with its stored samples.
pub struct Loaded<const IN: usize, const H: usize, const OUT: usize, const N: usize> {
    /// The network.
    pub net: Mlp<IN, H, OUT>,
    /// Features of the stored samples.
    pub xs: Vec<[f32; IN], N>,
    /// Labels of the stored samples.
    pub ys: Vec<usize, N>,
}

impl<const IN: usize, const H: usize, const OUT: usize, const N: usize> Loaded<IN, H, OUT, N> {
    /// No network, no samples (usable in a `static`).
    pub const EMPTY: Self = Loaded {
        net: Mlp::ZERO,
        xs: Vec::new(),
        ys: Vec::new(),
    };
}

/// Parses `bytes` into `dst`: the network and at most `N` samples. Works in place, because
/// moving a few KB around by value costs stack an M0 does not have.
///
/// # Errors
///
/// The blob's ([`vatic::blob::parse_mlp`]), and [`Error::LengthMismatch`] when it holds more
/// than `N` samples. On error `dst` holds a partial load.
#[inline(never)] // separate frames: the stack is measured (and small on an M0)
pub fn load_into<const IN: usize, const H: usize, const OUT: usize, const N: usize>(
    bytes: &[u8],
    dst: &mut Loaded<IN, H, OUT, N>,
) -> Result<(), Error> {
    dst.xs.clear();
    dst.ys.clear();
    let samples = blob::parse_mlp(bytes, &mut dst.net)?;
    for (x, y) in samples {
        dst.xs.push(x).map_err(|_| Error::LengthMismatch)?;
        dst.ys.push(y).map_err(|_| Error::LengthMismatch)?;
    }
    Ok(())
}

/// Parses `bytes` with the network's parser only (for the corruption checks).
fn parse<const IN: usize, const H: usize, const OUT: usize>(bytes: &[u8]) -> Option<Error> {
    let mut net = Mlp::<IN, H, OUT>::ZERO;
    blob::parse_mlp(bytes, &mut net).err()
}

/// Checks that corrupted copies of the blob are refused with the right error (a truncated one,
/// one with a flipped parameter bit, one with a wrong magic), without faulting.
///
/// # Errors
///
/// Only the sink's.
///
/// `COPY` is the size of the stack buffer that holds the corrupted copy (at least the blob's).
#[inline(never)] // separate frames: the stack is measured (and small on an M0)
pub fn check_corruption<const IN: usize, const H: usize, const OUT: usize, const COPY: usize>(
    bytes: &[u8],
    out: &mut impl Write,
    tally: &mut Tally,
) -> fmt::Result {
    let mut copy: Vec<u8, COPY> = Vec::new();
    let copied = copy.extend_from_slice(bytes).is_ok();
    tally.check(
        out,
        "blob.fits_copy_buffer",
        copied,
        format_args!("{} bytes", bytes.len()),
    )?;
    let cut = parse::<IN, H, OUT>(bytes.get(..bytes.len() / 2).unwrap_or(&[]));
    writeln!(out, "blob cut in half: {cut:?}")?;
    tally.check(
        out,
        "blob.truncated_refused",
        cut == Some(Error::Truncated),
        format_args!("{cut:?}"),
    )?;
    if let Some(b) = copy.get_mut(blob::HEADER_LEN + 1) {
        *b ^= 0x04;
    }
    let flipped = parse::<IN, H, OUT>(&copy);
    writeln!(out, "blob with one flipped bit: {flipped:?}")?;
    tally.check(
        out,
        "blob.bit_flip_refused",
        flipped == Some(Error::ChecksumMismatch),
        format_args!("{flipped:?}"),
    )?;
    if let Some(b) = copy.first_mut() {
        *b = b'X';
    }
    let magic = parse::<IN, H, OUT>(&copy);
    tally.check(
        out,
        "blob.bad_magic_refused",
        magic == Some(Error::BadMagic),
        format_args!("{magic:?}"),
    )
}

/// Robustness of `net` on `(xs, ys)`, printed; returns `(clean accuracy, mean LDS)`.
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
pub fn robustness<const IN: usize, const H: usize, const OUT: usize, W: Write>(
    tag: &str,
    net: &Mlp<IN, H, OUT>,
    xs: &[[f32; IN]],
    ys: &[usize],
    cfg: &ModelConfig,
    out: &mut W,
    tally: &mut Tally,
) -> Result<(f32, f32), fmt::Error> {
    let Stats {
        clean,
        fgsm,
        pgd,
        exact,
        fd,
        min,
    } = match measure(net, xs, ys, cfg) {
        Ok(v) => v,
        Err(e) => {
            tally.check(out, "model.robustness_runs", false, format_args!("{e}"))?;
            return Ok((f32::NAN, f32::NAN));
        }
    };
    let fgsm = &fgsm[..cfg.fgsm_eps.len()];
    let pgd = &pgd[..cfg.pgd_eps.len()];

    writeln!(out, "[{tag}] clean accuracy {clean}")?;
    for (e, a) in cfg.fgsm_eps.iter().zip(fgsm) {
        writeln!(out, "[{tag}] FGSM Linf eps {e}: robust accuracy {a}")?;
    }
    for (e, a) in cfg.pgd_eps.iter().zip(pgd) {
        writeln!(
            out,
            "[{tag}] PGD-{} Linf eps {e}: robust accuracy {a}",
            cfg.pgd_iterations
        )?;
    }
    writeln!(
        out,
        "[{tag}] LDS (eps {}): exact mean {} max {}; finite differences mean {} max {}",
        cfg.vat_eps, exact.mean, exact.max, fd.mean, fd.max
    )?;
    writeln!(
        out,
        "[{tag}] minimal FGSM eps: fooled {} resisted {} misclassified {}; mean {} min {} max {}; empirical robustness {}",
        min.fooled, min.resisted, min.misclassified, min.mean, min.min, min.max, min.empirical_robustness
    )?;

    let mut key: heapless::String<48> = heapless::String::new();
    let mut line = |out: &mut W, name: &str, v: &[f32]| {
        key.clear();
        let _ = write!(key, "model.{tag}.{name}");
        bits(out, &key, v)
    };
    line(out, "clean_accuracy", &[clean])?;
    line(out, "fgsm_accuracy", fgsm)?;
    line(out, "pgd_accuracy", pgd)?;
    line(out, "lds_exact_mean_max", &[exact.mean, exact.max])?;
    line(out, "lds_fd_mean_max", &[fd.mean, fd.max])?;
    line(
        out,
        "min_eps_mean_min_max_er",
        &[min.mean, min.min, min.max, min.empirical_robustness],
    )?;
    writeln!(
        out,
        "@ model.{tag}.min_eps_counts {} {} {}",
        min.fooled, min.resisted, min.misclassified
    )?;

    let first = fgsm.first().copied().unwrap_or(f32::NAN);
    tally.check(
        out,
        "model.fgsm_at_zero_is_clean",
        first == clean,
        format_args!("{first} vs {clean}"),
    )?;
    let monotone = fgsm.windows(2).all(|w| w[1] <= w[0] + 1e-6);
    tally.check(
        out,
        "model.fgsm_accuracy_falls_with_eps",
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
        "model.lds_nonnegative_finite",
        lds_ok,
        format_args!("{exact:?} {fd:?}"),
    )?;
    // The paper's ξ = 1e-6 finite difference in f32 is noisy, but its LDS must not exceed the
    // exact direction's by much: the exact direction is the dominant eigenvector.
    tally.check(
        out,
        "model.fd_lds_not_above_exact",
        fd.mean <= exact.mean * 1.05 + 1e-6,
        format_args!("{} vs {}", fd.mean, exact.mean),
    )?;
    Ok((clean, exact.mean))
}

/// Everything [`robustness`] measures.
struct Stats {
    clean: f32,
    fgsm: [f32; MAX_EPS],
    pgd: [f32; MAX_EPS],
    exact: metrics::LdsStats,
    fd: metrics::LdsStats,
    min: metrics::MinimalEpsilon,
}

/// Most radii a sweep may list.
const MAX_EPS: usize = 8;

#[inline(never)] // separate frames: the stack is measured (and small on an M0)
fn measure<const IN: usize, const H: usize, const OUT: usize>(
    net: &Mlp<IN, H, OUT>,
    xs: &[[f32; IN]],
    ys: &[usize],
    cfg: &ModelConfig,
) -> Result<Stats, Error> {
    let norm = ModelConfig::NORM;
    let clean = vatic::supervised::accuracy(net, xs, ys)?;
    let mut fgsm = [0.0f32; MAX_EPS];
    let sweep = fgsm
        .get_mut(..cfg.fgsm_eps.len())
        .ok_or(Error::LengthMismatch)?;
    metrics::robust_accuracy_sweep(
        net,
        xs,
        ys,
        Attack::Fgsm { norm },
        cfg.fgsm_eps,
        None,
        sweep,
    )?;
    let mut pgd = [0.0f32; MAX_EPS];
    let sweep = pgd
        .get_mut(..cfg.pgd_eps.len())
        .ok_or(Error::LengthMismatch)?;
    let attack = Attack::Pgd {
        norm,
        iterations: cfg.pgd_iterations,
    };
    metrics::robust_accuracy_sweep(net, xs, ys, attack, cfg.pgd_eps, None, sweep)?;
    let exact = metrics::lds_stats(net, xs, &mut Rng::new(cfg.seed), &cfg.vat_exact())?;
    let fd = metrics::lds_stats(net, xs, &mut Rng::new(cfg.seed), &cfg.vat_paper())?;
    let (eps_max, steps) = cfg.min_eps;
    let min =
        metrics::minimal_epsilon_stats(net, xs, ys, Attack::Fgsm { norm }, eps_max, steps, None)?;
    Ok(Stats {
        clean,
        fgsm,
        pgd,
        exact,
        fd,
        min,
    })
}

/// The whole model suite: load, corruption checks (with a `COPY`-byte buffer), robustness,
/// VAT fine-tuning through a `RING`-sample ring buffer, robustness again.
///
/// # Errors
///
/// Only the sink's; everything else is a failed check.
#[inline(never)] // separate frames: the stack is measured (and small on an M0)
pub fn run<
    const IN: usize,
    const H: usize,
    const OUT: usize,
    const N: usize,
    const RING: usize,
    const COPY: usize,
    W: Write,
>(
    blob_bytes: &[u8],
    cfg: &ModelConfig,
    out: &mut W,
    tally: &mut Tally,
) -> fmt::Result {
    writeln!(out, "model: blob of {} bytes", blob_bytes.len())?;
    let mut m = Loaded::<IN, H, OUT, N>::EMPTY;
    match load_into(blob_bytes, &mut m) {
        Ok(()) => tally.check(out, "blob.loads", true, format_args!(""))?,
        Err(e) => {
            writeln!(out, "error: the stored model blob is invalid: {e}")?;
            return tally.check(out, "blob.loads", false, format_args!("{e}"));
        }
    }
    writeln!(
        out,
        "model: {IN}-{H}-{OUT} {}, {} samples",
        m.net.activation.name(),
        m.xs.len()
    )?;
    digest(
        out,
        "model.blob_params",
        m.net.tensors().next().unwrap_or(&[]),
    )?;
    {
        use core::mem::size_of;
        let check = size_of::<Loaded<IN, H, OUT, N>>();
        let tune = size_of::<Sgd<Mlp<IN, H, OUT>>>()
            + size_of::<Mlp<IN, H, OUT>>()
            + size_of::<Deque<[f32; IN], RING>>()
            + size_of::<[[f32; IN]; RING]>();
        writeln!(
            out,
            "ram: model + {N} samples {check} B; fine-tuning adds {tune} B \
             (SGD velocity, gradient, ring buffer, batch)"
        )?;
        writeln!(out, "# ram.model_and_samples {check}")?;
        writeln!(out, "# ram.finetune {tune}")?;
    }
    check_corruption::<IN, H, OUT, COPY>(blob_bytes, out, tally)?;

    let (acc0, lds0) = robustness("before", &m.net, &m.xs, &m.ys, cfg, out, tally)?;

    // VAT fine-tuning: a few labelled anchors + unlabelled samples arriving one per step
    // into a fixed ring buffer (the oldest drops out).
    let anchors = cfg.anchors.min(m.xs.len());
    let (xl, yl) = (&m.xs[..anchors], &m.ys[..anchors]);
    let mut ring: Deque<[f32; IN], RING> = Deque::new();
    let mut batch = [[0.0f32; IN]; RING];
    let mut opt: Sgd<Mlp<IN, H, OUT>> = Sgd::new(SgdConfig {
        lr: cfg.lr,
        momentum: 0.9,
        weight_decay: 0.0,
        lr_decay: 1.0,
    });
    let mut grad = Mlp::<IN, H, OUT>::ZERO;
    let mut rng = Rng::new(cfg.seed ^ 0x5eed);
    let semi_cfg = SemiConfig::vat(VatConfig::new(cfg.vat_eps));
    let mut losses: Vec<f32, 64> = Vec::new();
    let mut stream = m.xs.iter().skip(anchors).chain(m.xs.iter()).cycle();
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
            &mut m.net,
            &mut opt,
            &mut grad,
            xl,
            yl,
            &batch[..n],
            &mut rng,
            &semi_cfg,
        );
        match step {
            Ok(l) => {
                let _ = losses.push(l.total);
            }
            Err(e) => {
                return tally.check(out, "finetune.step", false, format_args!("{e}"));
            }
        }
    }
    writeln!(
        out,
        "fine-tuning: {} VAT steps, {anchors} anchors, ring of {RING}: objective {} -> {}",
        cfg.steps,
        losses.first().copied().unwrap_or(f32::NAN),
        losses.last().copied().unwrap_or(f32::NAN)
    )?;
    bits(out, "finetune.objective", &losses)?;
    for (i, t) in m.net.tensors().enumerate() {
        let mut k: heapless::String<32> = heapless::String::new();
        let _ = write!(k, "finetune.params[{i}]");
        digest(out, &k, t)?;
    }
    tally.check(
        out,
        "finetune.finite",
        m.net.is_finite() && losses.iter().all(|l| l.is_finite()),
        format_args!("non-finite parameters or objective"),
    )?;

    let (acc1, lds1) = robustness("after", &m.net, &m.xs, &m.ys, cfg, out, tally)?;
    writeln!(
        out,
        "fine-tuning: accuracy {acc0} -> {acc1}, mean LDS (exact) {lds0} -> {lds1}"
    )?;
    tally.check(
        out,
        "finetune.lowers_lds",
        lds1 < lds0,
        format_args!("{lds0} -> {lds1}"),
    )?;
    tally.check(
        out,
        "finetune.keeps_accuracy",
        acc1 >= acc0 - 0.1,
        format_args!("{acc0} -> {acc1}"),
    )
}
