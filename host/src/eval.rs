//! `vatic eval`: the robustness report of a model on a test set — clean accuracy, FGSM and PGD
//! robust accuracy over an ε sweep, minimal-ε statistics (bisection over PGD) and mean/max LDS —
//! printed as a table and written as JSON. PGD keeps its first fooling iterate, and may start at
//! random points of the ball with restarts (`--pgd-random-start`, `--pgd-restarts`); the report
//! names the attack in full.
//!
//! The model is a safetensors file on a data set, or a firmware blob (`vatic export-firmware`)
//! on the samples embedded in it: with the device's settings the report is the device check's,
//! bit for bit (`tests/qemu/tests/template.rs`).

use crate::data::DataArgs;
use crate::model_io::ModelFile;
use crate::models::Model;
use anyhow::{ensure, Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::path::PathBuf;
use vatic::attack::{Attack, Clip, Method, Norm, Pgd, Start};
use vatic::certify::{self, Bound};
use vatic::metrics;
use vatic::vat::VatConfig;
use vatic::{supervised, Rng};

/// The attack norm on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NormArg {
    /// Euclidean.
    L2,
    /// Max-abs (Goodfellow's FGSM).
    Linf,
}

impl From<NormArg> for Norm {
    fn from(n: NormArg) -> Self {
        match n {
            NormArg::L2 => Norm::L2,
            NormArg::Linf => Norm::LInf,
        }
    }
}

/// `vatic eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// The model: safetensors (`vatic train`, PyTorch), or a firmware blob (`vatic
    /// export-firmware`, evaluated on the samples embedded in it, as the device's check is).
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Attack norm, of FGSM, PGD and the minimal ε (default: L2 for the synthetic sets, L∞
    /// otherwise).
    #[arg(long, value_enum)]
    pub norm: Option<NormArg>,
    /// Comma-separated ε sweep, in the data's units [default: eleven radii from 0 to 1 in L2
    /// on the synthetic sets, a quarter of the box in L∞ for images, half the mean feature
    /// standard deviation in L∞ for CSV; ×√features in L2].
    #[arg(long, value_delimiter = ',', value_parser = crate::flags::non_negative, allow_hyphen_values = true)]
    pub eps: Option<Vec<f32>>,
    /// PGD steps (1 to 10 000).
    #[arg(long, default_value_t = 10, value_parser = crate::flags::iterations)]
    pub pgd_iterations: u32,
    /// Start each PGD run at a uniform random point of the ε-ball (seeded by --seed) instead of
    /// the sample itself.
    #[arg(long)]
    pub pgd_random_start: bool,
    /// PGD runs per sample and radius (1 to 1000; needs --pgd-random-start, since from the
    /// sample itself every run is the same): a sample counts as fooled when any run fools it.
    #[arg(long, default_value_t = 1, value_parser = crate::flags::restarts, requires = "pgd_random_start")]
    pub pgd_restarts: u32,
    /// Bisection steps of the minimal-ε search (1 to 24).
    #[arg(long, default_value_t = 10, value_parser = crate::flags::bisection_steps)]
    pub bisection_steps: u32,
    /// VAT ε of the LDS statistics (default: the paper's for moons/circles, 1.0 otherwise).
    #[arg(long, value_parser = crate::flags::non_negative, allow_negative_numbers = true)]
    pub lds_eps: Option<f32>,
    /// Power iterations K of the LDS statistics (the 2016 code monitored with 5; at most
    /// 10 000).
    #[arg(long, default_value_t = 5, value_parser = crate::flags::iterations)]
    pub lds_iterations: u32,
    /// Evaluate only the first N test samples.
    #[arg(long, value_parser = crate::flags::at_least_one)]
    pub limit: Option<usize>,
    /// Where to write the JSON report.
    #[arg(long, default_value = "out/eval.json")]
    pub json: PathBuf,
    /// Use --data/--seed/--test-size/--label-column/--unlabelled-pool even where they
    /// contradict the model's recorded data (another split: its test set may hold training
    /// samples).
    #[arg(long)]
    pub force: bool,
    /// Certify (CROWN lower bounds next to the attacks): auto skips it when it would take more
    /// than about 4·10⁹ f64 multiply-adds (e.g. MNIST-sized networks on the full test set).
    #[arg(long, value_enum, default_value_t = CertifyArg::Auto)]
    pub certify: CertifyArg,
}

/// `eval --certify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CertifyArg {
    /// When it is cheap enough.
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

/// The `--certify auto` budget in f64 multiply-adds.
pub const CERTIFY_BUDGET: u64 = 4_000_000_000;

/// Settings of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    /// Attack norm.
    pub norm: Norm,
    /// The ε sweep.
    pub eps: Vec<f32>,
    /// PGD's settings (steps, step size, start, restarts).
    pub pgd: Pgd,
    /// Bisection steps of the minimal-ε search (over `[0, max ε]`).
    pub bisection_steps: u32,
    /// Data range of adversarial examples.
    pub clip: Option<Clip>,
    /// VAT settings of the LDS statistics.
    pub lds: VatConfig,
    /// Seed of the LDS start directions.
    pub seed: u64,
    /// Also prove a lower bound (CROWN, [`vatic::certify`]): certified accuracy at each ε and
    /// each sample's certified radius.
    pub certify: bool,
}

impl EvalOptions {
    /// Defaults for the synthetic sets: L2 sweep 0, 0.1, …, 1.0; LDS with `lds_eps`, K = 5.
    pub fn synthetic(lds_eps: f32) -> Self {
        Self {
            norm: Norm::L2,
            eps: (0..=10).map(|i| i as f32 * 0.1).collect(),
            pgd: Pgd::madry(10),
            bisection_steps: 10,
            clip: None,
            lds: VatConfig {
                iterations: 5,
                ..VatConfig::new(lds_eps)
            },
            seed: 1,
            certify: true,
        }
    }

    /// Defaults for images in [0, 1]: L∞ sweep 0, 0.025, …, 0.25, clipped to [0, 1].
    pub fn images(lds_eps: f32) -> Self {
        Self {
            norm: Norm::LInf,
            eps: (0..=10).map(|i| i as f32 * 0.025).collect(),
            clip: Some(Clip::UNIT),
            ..Self::synthetic(lds_eps)
        }
    }
}

/// Minimal-ε statistics (PGD, bisection).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MinimalEps {
    /// Correct samples the attack fooled within the largest ε.
    pub fooled: usize,
    /// Correct samples it did not fool.
    pub resisted: usize,
    /// Samples misclassified without attack.
    pub misclassified: usize,
    /// Mean minimal ε over the fooled samples.
    pub mean: f32,
    /// Smallest.
    pub min: f32,
    /// Largest.
    pub max: f32,
    /// ART's empirical robustness: mean `‖x_adv − x‖ / ‖x‖` over fooled samples.
    pub empirical_robustness: f32,
}

/// The robustness report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Network widths, e.g. `100-100-2`.
    pub widths: String,
    /// Hidden activation.
    pub activation: String,
    /// Test samples evaluated.
    pub samples: usize,
    /// Accuracy without attack.
    pub clean_accuracy: f32,
    /// Attack norm.
    pub norm: String,
    /// The ε sweep.
    pub eps: Vec<f32>,
    /// FGSM robust accuracy at each ε.
    pub fgsm_accuracy: Vec<f32>,
    /// PGD robust accuracy at each ε.
    pub pgd_accuracy: Vec<f32>,
    /// PGD steps (1 to 10 000).
    pub pgd_iterations: u32,
    /// PGD runs per sample and radius (restarts; 1 is a single run).
    pub pgd_restarts: u32,
    /// Whether PGD starts at a uniform random point of the ball.
    pub pgd_random_start: bool,
    /// The PGD attack in words, every setting included.
    pub pgd_attack: String,
    /// Minimal successful ε of PGD.
    pub minimal_eps: MinimalEps,
    /// VAT ε of the LDS statistics.
    pub lds_eps: f32,
    /// Mean LDS over the test set.
    pub lds_mean: f32,
    /// Largest LDS over the test set.
    pub lds_max: f32,
    /// Certified accuracy at each ε (CROWN): the fraction of samples proved to keep their
    /// correct prediction under every perturbation of that size; `None` when not certified.
    pub certified_accuracy: Option<Vec<f32>>,
    /// Certified radii (CROWN, bisection over `[0, max ε]`) of the correctly classified samples.
    pub certified_radius: Option<CertifiedRadius>,
}

/// Certified radii: proven lower bounds on each sample's robustness radius.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CertifiedRadius {
    /// Correctly classified samples (the radii below are over them).
    pub samples: usize,
    /// Of those, certified at some radius `> 0`.
    pub certified: usize,
    /// Mean radius (0 for samples certified nowhere).
    pub mean: f32,
    /// Smallest.
    pub min: f32,
    /// Largest.
    pub max: f32,
}

/// About the multiply-adds (an over-estimate) of one CROWN certificate of a sample for a
/// network of `widths`: a backward pass per margin and two per hidden neuron of the second
/// hidden layer on, each counted through every layer up to its own.
pub fn certify_cost(widths: &[usize]) -> u64 {
    let layer = |l: usize| (widths[l] * widths[l + 1]) as u64;
    let below = |l: usize| (0..=l).map(layer).sum::<u64>();
    let depth = widths.len() - 1;
    let hidden: u64 = (1..depth.saturating_sub(1))
        .map(|l| 2 * widths[l + 1] as u64 * below(l))
        .sum();
    hidden + (widths[depth] as u64).saturating_sub(1) * below(depth - 1)
}

/// CROWN's certified accuracy at each ε of `o` and the certified radii.
fn certification(
    model: &Model,
    xs: &[f32],
    ys: &[usize],
    o: &EvalOptions,
    eps_max: f32,
) -> Result<(Vec<f32>, CertifiedRadius)> {
    let net = model.net();
    let s = vatic::Network::shape(net);
    let mut ws = vec![0.0; certify::workspace_len(&s)];
    let mut pws = model.workspace();
    let mut acc = vec![0.0f32; o.eps.len()];
    let mut radii = Vec::new();
    for (x, &y) in xs.chunks_exact(s.inputs).zip(ys) {
        if vatic::pass::predict(net, x, &mut pws)? != y {
            continue;
        }
        for (a, &e) in acc.iter_mut().zip(&o.eps) {
            if certify::certified(net, x, y, e, o.norm, o.clip, Bound::Crown, &mut ws)? {
                *a += 1.0;
            }
        }
        radii.push(certify::certified_radius(
            net,
            x,
            y,
            o.norm,
            o.clip,
            Bound::Crown,
            eps_max,
            o.bisection_steps,
            &mut ws,
        )?);
    }
    for a in &mut acc {
        *a /= ys.len() as f32;
    }
    let n = radii.len();
    let r = CertifiedRadius {
        samples: n,
        certified: radii.iter().filter(|&&r| r > 0.0).count(),
        mean: if n > 0 {
            radii.iter().sum::<f32>() / n as f32
        } else {
            0.0
        },
        min: radii
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min)
            .min(eps_max),
        max: radii.iter().copied().fold(0.0, f32::max),
    };
    Ok((acc, r))
}

/// Computes the report of `model` on `test`.
///
/// # Errors
///
/// When the data does not fit the model or a setting is invalid (negative ε, …).
pub fn evaluate(model: &Model, test: &crate::data::Dataset, opts: &EvalOptions) -> Result<Report> {
    ensure!(!test.is_empty(), "the test set is empty");
    ensure!(!opts.eps.is_empty(), "the ε sweep is empty");
    ensure!(
        test.features == model.features(),
        "the data has {} features but the {} model takes {}",
        test.features,
        model.shape_name(),
        model.features()
    );
    let o = opts;
    let (xs, ys) = (&test.x[..], &test.y[..]);
    let net = model.net();
    let clean = supervised::accuracy(net, xs, ys, &mut model.workspace())?;
    // The two sweeps are independent: one per core.
    let sweep = |attack: &Attack| -> Result<Vec<f32>> {
        let mut out = vec![0.0; o.eps.len()];
        let mut ws = model.workspace();
        metrics::robust_accuracy_sweep(net, xs, ys, attack, &o.eps, &mut out, &mut ws)?;
        Ok(out)
    };
    let fgsm = Attack {
        clip: o.clip,
        ..Attack::fgsm(o.norm)
    };
    let pgd = Attack {
        method: Method::Pgd(o.pgd),
        ..fgsm
    };
    let eps_max = o.eps.iter().copied().fold(0.0, f32::max);
    let (fgsm, (pgd_acc, minimal)) = std::thread::scope(|s| {
        let f = s.spawn(|| sweep(&fgsm));
        let p = (
            sweep(&pgd),
            metrics::minimal_epsilon_stats(
                net,
                xs,
                ys,
                &pgd,
                eps_max,
                o.bisection_steps,
                &mut model.workspace(),
            ),
        );
        let f = match f.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (f, p)
    });
    let m = minimal?;
    let (certified_accuracy, certified_radius) = if o.certify {
        let (a, r) = certification(model, xs, ys, o, eps_max)?;
        (Some(a), Some(r))
    } else {
        (None, None)
    };
    let lds = metrics::lds_stats(
        net,
        xs,
        &mut Rng::new(o.seed),
        &o.lds,
        &mut model.workspace(),
    )?;
    Ok(Report {
        widths: model.shape_name(),
        activation: model.activation().name().to_string(),
        samples: ys.len(),
        clean_accuracy: clean,
        norm: match o.norm {
            Norm::L2 => "l2".into(),
            Norm::LInf => "linf".into(),
        },
        eps: o.eps.clone(),
        fgsm_accuracy: fgsm?,
        pgd_accuracy: pgd_acc?,
        pgd_iterations: o.pgd.iterations,
        pgd_restarts: o.pgd.restarts,
        pgd_random_start: o.pgd.start != Start::Clean,
        pgd_attack: pgd.to_string(),
        minimal_eps: MinimalEps {
            fooled: m.fooled,
            resisted: m.resisted,
            misclassified: m.misclassified,
            mean: m.mean,
            min: m.min,
            max: m.max,
            empirical_robustness: m.empirical_robustness,
        },
        lds_eps: o.lds.eps,
        lds_mean: lds.mean,
        lds_max: lds.max,
        certified_accuracy,
        certified_radius,
    })
}

/// The report as a text table.
pub fn table(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "model {} {}, {} test samples, clean accuracy {:.2} %",
        r.widths,
        r.activation,
        r.samples,
        100.0 * r.clean_accuracy
    );
    let _ = writeln!(s, "PGD: {}", r.pgd_attack);
    let _ = writeln!(
        s,
        "{:>8} {:>10} {:>10} {:>10}   ({} norm, PGD {} steps; accuracy in %; certified: \
         proved by CROWN, a lower bound)",
        "eps", "FGSM", "PGD", "certified", r.norm, r.pgd_iterations
    );
    for (i, ((e, f), p)) in r
        .eps
        .iter()
        .zip(&r.fgsm_accuracy)
        .zip(&r.pgd_accuracy)
        .enumerate()
    {
        let c = match &r.certified_accuracy {
            Some(c) => format!("{:>10.2}", 100.0 * c[i]),
            None => format!("{:>10}", "-"),
        };
        let _ = writeln!(
            s,
            "{:>8} {:>10.2} {:>10.2} {c}",
            short(*e),
            100.0 * f,
            100.0 * p
        );
    }
    let m = &r.minimal_eps;
    let _ = writeln!(
        s,
        "minimal PGD eps: fooled {} resisted {} misclassified {}; mean {:.4} min {:.4} max {:.4}; \
         empirical robustness {:.4}",
        m.fooled, m.resisted, m.misclassified, m.mean, m.min, m.max, m.empirical_robustness
    );
    if let Some(c) = &r.certified_radius {
        let _ = writeln!(
            s,
            "certified radius (CROWN): {} of {} correct samples certified; mean {:.4} min {:.4} \
             max {:.4} (proved lower bounds; the minimal PGD eps above is an upper bound)",
            c.certified, c.samples, c.mean, c.min, c.max
        );
    }
    let _ = writeln!(
        s,
        "LDS (eps {}): mean {:.4e} max {:.4e}",
        r.lds_eps, r.lds_mean, r.lds_max
    );
    s
}

/// The default ε sweep for `norm` on `test`, in the data's own units, and a note saying how it
/// was chosen: eleven radii from 0 to a maximum of
///
/// * the synthetic sets: 1.0 in L2 (the rings and arcs are radius-1 curves), `1/√d` in L∞;
/// * data with a box `[lo, hi]` (digits, MNIST, `--clip`): a quarter of the box's width in L∞,
///   times `√d` in L2;
/// * data without one (CSV): half the mean per-feature standard deviation `σ̄` of the test set
///   in L∞, times `√d` in L2.
pub fn default_sweep(
    norm: Norm,
    test: &crate::data::Dataset,
    synthetic: bool,
    domain: Option<Clip>,
) -> (Vec<f32>, String) {
    let d = test.features as f32;
    let root = d.sqrt();
    let (linf, why) = if synthetic {
        (1.0 / root, "the synthetic curves have radius 1".to_string())
    } else if let Some(c) = domain {
        (
            0.25 * (c.max - c.min),
            format!("a quarter of the box [{}, {}]", c.min, c.max),
        )
    } else {
        let sd = mean_feature_sd(test);
        (
            0.5 * sd,
            format!(
                "half the test set's mean feature standard deviation {}",
                short(sd)
            ),
        )
    };
    let max = match norm {
        Norm::LInf => linf,
        Norm::L2 => linf * root,
    };
    // `max · (i / 10)`, not `max · i / 10`: the product must not overflow for huge data.
    let sweep = (0..=10).map(|i| max * (i as f32 / 10.0)).collect();
    let name = match norm {
        Norm::LInf => "L∞",
        Norm::L2 => "L2",
    };
    let note = if synthetic && norm == Norm::L2 {
        format!("ε sweep 0 … {max} in L2 ({why})")
    } else {
        format!(
            "ε sweep 0 … {} in {name} (the data's units: {why}; {} features)",
            short(max),
            test.features
        )
    };
    (sweep, note)
}

/// `v` with four decimals, or in scientific notation when that would hide it.
fn short(v: f32) -> String {
    if v == 0.0 || (1e-3..1e4).contains(&v.abs()) {
        format!("{v:.4}")
    } else {
        format!("{v:.4e}")
    }
}

/// Mean over the features of each feature's standard deviation (1 for constant data).
fn mean_feature_sd(d: &crate::data::Dataset) -> f32 {
    let (n, f) = (d.len() as f64, d.features);
    if d.is_empty() {
        return 1.0;
    }
    let mut total = 0.0;
    for j in 0..f {
        let col = d.x.iter().skip(j).step_by(f).map(|&v| f64::from(v));
        let mean = col.clone().sum::<f64>() / n;
        let var = col.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        total += var.sqrt();
    }
    let sd = (total / f as f64) as f32;
    if sd > 0.0 && sd.is_finite() {
        sd
    } else {
        1.0
    }
}

/// Runs `vatic eval`.
///
/// # Errors
///
/// Unreadable model or data, a model that does not fit the data, bad settings, a data flag
/// that contradicts the model's provenance (without `--force`).
pub fn run(a: &EvalArgs) -> Result<()> {
    let mut inputs = vec![("--model", a.model.as_path())];
    inputs.extend(a.data.input_files());
    crate::output::check(
        &inputs,
        &[crate::output::Output {
            flag: "--json",
            path: &a.json,
            creates_dir: true,
        }],
    )?;
    let Setup {
        model,
        test,
        synthetic,
        paper_eps,
        domain,
        seed,
    } = match crate::model_io::load_any(&a.model)? {
        ModelFile::Safetensors(loaded) => from_safetensors(a, loaded)?,
        ModelFile::Blob(blob) => from_blob(a, blob)?,
    };
    let lds_eps = a.lds_eps.or(paper_eps).unwrap_or(1.0);
    let mut opts = if synthetic {
        EvalOptions::synthetic(lds_eps)
    } else {
        EvalOptions::images(lds_eps)
    };
    if let Some(n) = a.norm {
        opts.norm = n.into();
    }
    // Attacks stay in the data's box: [0, 1] for images, none for CSV unless --clip.
    opts.clip = domain;
    match &a.eps {
        Some(e) => opts.eps = e.clone(),
        None => {
            let (sweep, note) = default_sweep(opts.norm, &test, synthetic, domain);
            eprintln!("{note}");
            opts.eps = sweep;
        }
    }
    opts.pgd = Pgd {
        iterations: a.pgd_iterations,
        restarts: a.pgd_restarts,
        start: if a.pgd_random_start {
            Start::Uniform { seed }
        } else {
            Start::Clean
        },
        ..opts.pgd
    };
    opts.bisection_steps = a.bisection_steps;
    opts.lds.iterations = a.lds_iterations;
    opts.seed = seed;
    let net = model.net();
    let widths: Vec<usize> = (0..=vatic::Network::depth(net))
        .map(|l| vatic::Network::width(net, l))
        .collect();
    let cost = certify_cost(&widths)
        .saturating_mul(test.len() as u64)
        .saturating_mul(opts.eps.len() as u64 + u64::from(opts.bisection_steps) + 2);
    opts.certify = match a.certify {
        CertifyArg::On => true,
        CertifyArg::Off => false,
        CertifyArg::Auto if cost <= CERTIFY_BUDGET => true,
        CertifyArg::Auto => {
            eprintln!(
                "certification skipped: about {cost:.1e} f64 multiply-adds for this network and \
                 test set (budget {CERTIFY_BUDGET:.0e}); --certify on runs it, --limit N shortens it"
            );
            false
        }
    };
    let report = evaluate(&model, &test, &opts)?;
    crate::out!("{}", table(&report))?;
    if let Some(dir) = a.json.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::output::write(&a.json, serde_json::to_string_pretty(&report)?.as_bytes())?;
    crate::outln!("wrote {}", a.json.display())?;
    Ok(())
}

/// What `eval` runs on, from either kind of model file.
struct Setup {
    model: Model,
    test: crate::data::Dataset,
    /// The data is one of the synthetic sets (their defaults: L2, the paper's ε).
    synthetic: bool,
    /// The paper's VAT ε for the data, if it has one.
    paper_eps: Option<f32>,
    /// The box attacks are clipped to.
    domain: Option<Clip>,
    /// The seed of the LDS directions and of PGD's random starts.
    seed: u64,
}

/// A safetensors model on the data its metadata records (or the flags give), `--limit` applied.
fn from_safetensors(a: &EvalArgs, loaded: crate::model_io::Loaded) -> Result<Setup> {
    let model = loaded.model;
    let data = a.data.for_model(&loaded.metadata, a.force, &a.model)?;
    let tt = crate::data::load(&data)?;
    let test = limited(tt.test, a.limit)?;
    ensure!(
        test.features == model.features(),
        "the model {} takes {} features but --data {} has {}",
        a.model.display(),
        model.features(),
        data.data,
        test.features
    );
    Ok(Setup {
        model,
        test,
        synthetic: data.data.is_synthetic(),
        paper_eps: data.data.paper_eps(),
        domain: tt.domain,
        seed: data.seed,
    })
}

/// A firmware blob on the samples embedded in it: what the device's check computes. The blob
/// records no data set, so no data flag applies, the attacks are clipped only with `--clip`,
/// the norm defaults to L∞ and the seed to 1.
fn from_blob(a: &EvalArgs, blob: crate::model_io::Blob) -> Result<Setup> {
    let d = &a.data;
    let refused = [
        ("--data", d.data.is_some()),
        ("--test", d.test.is_some()),
        ("--test-size", d.test_size.is_some()),
        ("--label-column", d.label_column.is_some()),
        ("--unlabelled-pool", d.unlabelled_pool.is_some()),
    ];
    if let Some((flag, _)) = refused.iter().find(|(_, given)| *given) {
        anyhow::bail!(
            "{flag} does not apply to {}: a firmware blob is evaluated on the samples embedded \
             in it (evaluate the safetensors model it was exported from to use other data)",
            a.model.display()
        );
    }
    let test = limited(blob.samples, a.limit)?;
    eprintln!(
        "data: the {} samples embedded in the firmware blob {}; attacks {}",
        test.len(),
        a.model.display(),
        match d.clip {
            Some(c) => format!("clipped to [{}, {}]", c.min, c.max),
            None => "not clipped (a blob records no data range: --clip LO,HI sets it)".into(),
        }
    );
    Ok(Setup {
        model: blob.model,
        test,
        synthetic: false,
        paper_eps: None,
        domain: d.clip,
        seed: d.seed.unwrap_or(1),
    })
}

/// The first `limit` samples of `test` (all without a limit).
fn limited(test: crate::data::Dataset, limit: Option<usize>) -> Result<crate::data::Dataset> {
    match limit {
        Some(n) if n < test.len() => test.subset(&(0..n).collect::<Vec<_>>()),
        _ => Ok(test),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::{Kind, Synthetic};
    use vatic::Activation;

    #[test]
    fn report_is_consistent() {
        let s = Synthetic::generate(Kind::Moons, 1, 0);
        let test = s.test_2d.subset(&(0..100).collect::<Vec<_>>()).unwrap();
        let mut m = Model::new(&[2, 100, 2], Activation::Relu, 1).unwrap();
        let mut cfg = crate::train::TrainConfig::synthetic(crate::train::Method::Supervised, 0.5);
        cfg.epochs = 50;
        crate::train::train(&mut m, &cfg, &s.train_2d, &s.pool_2d, None, &mut |_| {}).unwrap();
        let r = evaluate(&m, &test, &EvalOptions::synthetic(0.5)).unwrap();
        assert_eq!(r.fgsm_accuracy[0], r.clean_accuracy);
        assert_eq!(r.pgd_accuracy[0], r.clean_accuracy);
        // PGD is at least as strong as FGSM (up to ties) and accuracy falls with ε.
        for (f, p) in r.fgsm_accuracy.iter().zip(&r.pgd_accuracy) {
            assert!(p <= &(f + 0.02), "{r:?}");
        }
        assert!(r.pgd_accuracy.last() < r.pgd_accuracy.first());
        assert!(r.lds_mean >= 0.0 && r.lds_max >= r.lds_mean);
        let m = r.minimal_eps;
        assert_eq!(m.fooled + m.resisted + m.misclassified, 100);
        let t = table(&r);
        assert!(t.contains("clean accuracy") && t.contains("LDS"), "{t}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["widths"], "2-100-2");
        // The certificate is a lower bound: never above PGD's robust accuracy, and the
        // certified radii stay within the sweep.
        let cert = r.certified_accuracy.as_ref().unwrap();
        for (c, p) in cert.iter().zip(&r.pgd_accuracy) {
            assert!(c <= p, "certified {c} above PGD {p}: {r:?}");
        }
        assert!(cert[0] > 0.5 * r.clean_accuracy, "{r:?}");
        let cr = r.certified_radius.unwrap();
        assert!(cr.certified > 0 && cr.max <= 1.0 && cr.min <= cr.mean && cr.mean <= cr.max);
        assert!(cr.mean <= m.max, "{r:?}");
        assert!(t.contains("certified radius (CROWN)"), "{t}");
    }

    #[test]
    fn default_sweeps_are_in_the_datas_units_and_finite_for_huge_data() {
        use crate::data::Dataset;
        let huge = Dataset::new(2, 2, vec![1e38, -1e38, -1e38, 1e38], vec![0, 1]).unwrap();
        for norm in [Norm::LInf, Norm::L2] {
            let (sweep, note) = default_sweep(norm, &huge, false, None);
            assert!(sweep.iter().all(|e| e.is_finite()), "{norm:?}: {sweep:?}");
            assert!(sweep[10] > 1e37 && sweep[0] == 0.0, "{sweep:?}");
            assert!(note.contains("e37"), "{note}");
        }
        let unit = Dataset::new(2, 2, vec![0.0, 0.5, 1.0, 0.5], vec![0, 1]).unwrap();
        let (sweep, _) = default_sweep(Norm::LInf, &unit, false, Some(Clip::UNIT));
        assert_eq!(sweep[10], 0.25);
        let (sweep, _) = default_sweep(Norm::L2, &unit, true, None);
        assert!((sweep[10] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn certification_cost_counts_the_backward_passes() {
        // One hidden layer: one backward pass per margin through both layers.
        assert_eq!(certify_cost(&[2, 100, 2]), 2 * 100 + 100 * 2);
        // Two hidden layers: 2 · 8 passes for the second hidden layer's neurons (counted through
        // both layers below them, an over-estimate), then 2 margins through all three.
        assert_eq!(
            certify_cost(&[4, 6, 8, 3]),
            2 * 8 * (4 * 6 + 6 * 8) + 2 * (4 * 6 + 6 * 8 + 8 * 3)
        );
    }

    #[test]
    fn rejects_bad_settings() {
        let s = Synthetic::generate(Kind::Moons, 1, 0);
        let m = Model::new(&[2, 100, 2], Activation::Relu, 1).unwrap();
        let mut o = EvalOptions::synthetic(0.5);
        o.eps = vec![-1.0];
        assert!(evaluate(&m, &s.test_2d, &o).is_err());
        o.eps = vec![];
        assert!(evaluate(&m, &s.test_2d, &o).is_err());
        let o = EvalOptions::synthetic(0.5);
        assert!(evaluate(&m, &s.test, &o).is_err());
    }
}
