//! `vatic demo` (also what `vatic` runs without arguments): the VAT paper's synthetic benchmark
//! (ALGORITHMS.md §7) with the authors' protocol.
//!
//! On the 100-D moons and circles (16 labelled points, 8 per class; 1000 test points), train
//! every method of the paper's Figure 3/4 that the core has — supervised, weight decay (L2),
//! random perturbation (VAT with `K = 0`), adversarial training and VAT — from the same
//! initialisation and labels with the authors' settings ([`TrainConfig::authors`]: their
//! dampened momentum SGD, 1000 full-batch iterations, their ε per method and set, VAT on the
//! labelled points); repeat for `--seeds` seeds and print test error (mean, min, max) and the
//! robustness of the first seed's models; write
//!
//! * `out/demo_boundary.png`: one panel per method and set, the decision boundary in the 2-D
//!   plane with the test points shaded by LDS (the paper's figure);
//! * `out/demo_robustness.png`: robust accuracy vs ε (L2) under FGSM and PGD per method, moons;
//! * `out/demo.json`: everything in the tables.
//!
//! Then UCI digits with 10 labels per class: supervised vs VAT test accuracy (`--skip-digits`
//! to leave it out).

use crate::data::synthetic::{Kind, Synthetic};
use crate::data::{Dataset, Split};
use crate::eval::{evaluate, EvalOptions, Report};
use crate::models::Model;
use crate::plot;
use crate::train::{self, DirectionArg, Method, TrainConfig};
use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use vatic::vat::VatConfig;
use vatic::{Activation, Rng};

/// `vatic demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Seed of the data, the initialisation and training of the first (pictured) run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of seeds (starting at --seed) whose test errors are summarised (1 to 1000).
    #[arg(long, default_value_t = 10, value_parser = crate::flags::seeds)]
    pub seeds: u64,
    /// Epochs (full-batch iterations; the authors' 1000).
    #[arg(long, default_value_t = 1000, value_parser = crate::flags::epochs)]
    pub epochs: usize,
    /// VAT's power-iteration direction: the authors' finite difference (ξ = 1e-6), or the
    /// exact Hessian-vector product.
    #[arg(long, value_enum, default_value_t = DirectionArg::Fd)]
    pub direction: DirectionArg,
    /// Unlabelled points besides the 16 labelled ones (the authors' protocol has none: VAT's
    /// term is computed on the labelled points).
    #[arg(long, default_value_t = crate::data::synthetic::DEFAULT_POOL)]
    pub unlabelled_pool: usize,
    /// Unlabelled minibatch of each VAT step when there is a pool (0: all of it; the labelled
    /// batch is always all 16 points).
    #[arg(long, default_value_t = train::SYNTHETIC_UNLABELLED_BATCH)]
    pub unlabelled_batch: usize,
    /// Skip the UCI digits runs (10 labels per class, supervised vs VAT).
    #[arg(long)]
    pub skip_digits: bool,
    /// Output directory for the PNGs and JSON.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

impl Default for DemoArgs {
    fn default() -> Self {
        Self {
            seed: 1,
            seeds: 10,
            epochs: 1000,
            direction: DirectionArg::Fd,
            unlabelled_pool: crate::data::synthetic::DEFAULT_POOL,
            unlabelled_batch: train::SYNTHETIC_UNLABELLED_BATCH,
            skip_digits: false,
            out: "out".into(),
        }
    }
}

/// The methods the demo compares, in table order: those of the paper's Figure 3/4 the core has.
pub const METHODS: [Method; 5] = [
    Method::Supervised,
    Method::WeightDecay,
    Method::Random,
    Method::At,
    Method::Vat,
];

/// The two synthetic sets, in table order.
pub const SETS: [Kind; 2] = [Kind::Moons, Kind::Circles];

/// One method's row of a demo table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The method.
    pub method: Method,
    /// Its radius (ε of VAT, random perturbation or AT; 0 for the others).
    pub eps: f32,
    /// Test error of the first seed's run.
    pub test_error: f32,
    /// Test errors of every seed.
    pub seed_errors: Vec<f32>,
    /// The robustness report of the first seed's run.
    pub report: Report,
}

impl Row {
    /// Mean, min and max of [`Row::seed_errors`].
    pub fn summary(&self) -> (f32, f32, f32) {
        summary(&self.seed_errors)
    }
}

/// Mean, min and max (NaN for no values).
pub fn summary(v: &[f32]) -> (f32, f32, f32) {
    if v.is_empty() {
        return (f32::NAN, f32::NAN, f32::NAN);
    }
    let mean = v.iter().sum::<f32>() / v.len() as f32;
    let (lo, hi) = v
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    (mean, lo, hi)
}

/// One synthetic set's results.
#[derive(Debug, Clone, Serialize)]
pub struct SetResult {
    /// `"moons"` or `"circles"`.
    pub set: &'static str,
    /// One row per method, in [`METHODS`] order.
    pub rows: Vec<Row>,
}

/// Everything the demo measured.
#[derive(Debug, Clone, Serialize)]
pub struct DemoResult {
    /// Seeds summarised.
    pub seeds: Vec<u64>,
    /// VAT's direction.
    pub direction: &'static str,
    /// Moons, then circles.
    pub sets: Vec<SetResult>,
    /// Digits: (method, test accuracy) pairs, when run.
    pub digits: Vec<(Method, f32)>,
}

/// The authors' protocol for `kind` and `method`, with the demo's options.
pub fn config(a: &DemoArgs, kind: Kind, method: Method) -> TrainConfig {
    let mut cfg = TrainConfig::authors(kind, method);
    cfg.epochs = a.epochs;
    if a.direction == DirectionArg::Exact {
        cfg.semi.vat = VatConfig::new(cfg.semi.vat.eps);
    }
    // 0: the whole unlabelled set every step.
    cfg.unlabelled_batch = (a.unlabelled_batch > 0).then_some(a.unlabelled_batch);
    cfg.eval_every = 0;
    cfg
}

/// The radius of `method` in `cfg` (0 when it has none).
fn radius(cfg: &TrainConfig) -> f32 {
    match cfg.method {
        Method::Vat | Method::VatEnt => cfg.semi.vat.eps,
        Method::Random => cfg.random_eps,
        Method::At => cfg.at.eps,
        Method::Supervised | Method::WeightDecay => 0.0,
    }
}

/// Trains every method from the same initialisation on one seed's data, in parallel.
fn train_all(
    a: &DemoArgs,
    kind: Kind,
    s: &Synthetic,
    seed: u64,
    epochs: usize,
) -> Result<Vec<(Model, f32)>> {
    let runs = in_parallel(&METHODS, |&method| -> Result<(Model, f32)> {
        let mut model = Model::new(&[100, 100, 2], Activation::Relu, seed)?;
        let mut cfg = config(a, kind, method);
        cfg.epochs = epochs;
        cfg.seed = seed;
        let out = train::train(
            &mut model,
            &cfg,
            &s.train,
            &s.pool,
            Some(&s.test),
            &mut |_| {},
        )?;
        Ok((model, 1.0 - out.test_accuracy.unwrap_or(f32::NAN)))
    });
    runs.into_iter().collect()
}

/// `f` of every item, each on a thread of its own, in the items' order; a thread's panic
/// goes on here.
fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = items.iter().map(|x| scope.spawn(move || f(x))).collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(r) => r,
                Err(p) => std::panic::resume_unwind(p),
            })
            .collect()
    })
}

/// Runs the demo and returns what it measured (also printed and written to `a.out`).
///
/// # Errors
///
/// When a run fails or a file cannot be written.
pub fn demo(a: &DemoArgs) -> Result<DemoResult> {
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let seeds: Vec<u64> = (a.seed..a.seed + a.seeds.max(1)).collect();
    let direction = match a.direction {
        DirectionArg::Exact => "exact",
        DirectionArg::Fd => "finite difference, xi 1e-6",
    };
    eprintln!(
        "the VAT authors' protocol: 16 labelled + {} unlabelled points, 1000 test points, \
         100-D, 100-100-2 ReLU, {} iterations of full-batch momentum SGD (lr 1.0 x 0.995, \
         momentum 0.9, dampening 0.9); VAT direction {direction}; seeds {}..={}",
        a.unlabelled_pool,
        a.epochs,
        seeds[0],
        seeds[seeds.len() - 1]
    );
    let mut sets = Vec::new();
    let mut pictured = Vec::new();
    for kind in SETS {
        let mut seed_errors = vec![Vec::new(); METHODS.len()];
        let mut first = None;
        for &seed in &seeds {
            let s = Synthetic::generate(kind, seed, a.unlabelled_pool);
            let runs = train_all(a, kind, &s, seed, a.epochs)?;
            eprintln!(
                "  {} seed {seed}: test error {}",
                kind.name(),
                METHODS
                    .iter()
                    .zip(&runs)
                    .map(|(m, (_, e))| format!("{} {:.1} %", m.name(), 100.0 * e))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for (errs, (_, e)) in seed_errors.iter_mut().zip(&runs) {
                errs.push(*e);
            }
            if first.is_none() {
                first = Some((s, runs));
            }
        }
        let Some((s, runs)) = first else {
            anyhow::bail!("no seed was run");
        };
        let opts = EvalOptions {
            bisection_steps: 8,
            ..EvalOptions::synthetic(kind.paper_eps())
        };
        let reports = in_parallel(&runs, |(m, _)| evaluate(m, &s.test, &opts));
        let reports = reports.into_iter().collect::<Result<Vec<Report>>>()?;
        let rows: Vec<Row> = METHODS
            .iter()
            .zip(&runs)
            .zip(reports)
            .zip(seed_errors)
            .map(|(((&method, (_, e)), report), seed_errors)| Row {
                method,
                eps: radius(&config(a, kind, method)),
                test_error: *e,
                seed_errors,
                report,
            })
            .collect();
        let set = SetResult {
            set: kind.name(),
            rows,
        };
        crate::out!("{}", table(&set, &seeds, kind.paper_eps()))?;
        sets.push(set);
        pictured.push((kind, s, runs));
    }

    eprintln!("drawing …");
    pictures(a, &pictured, &sets)?;
    let digits = if !a.skip_digits {
        digits(a.seed)?
    } else {
        Vec::new()
    };
    let result = DemoResult {
        seeds,
        direction,
        sets,
        digits,
    };
    let json = a.out.join("demo.json");
    crate::output::write(&json, serde_json::to_string_pretty(&result)?.as_bytes())?;
    crate::outln!(
        "wrote {}, {}, {}",
        a.out.join("demo_boundary.png").display(),
        a.out.join("demo_robustness.png").display(),
        json.display()
    )?;
    Ok(result)
}

/// A set's table: per method its radius, test error over the seeds (mean, min, max), and the
/// first seed's error and robustness (`lds_eps`: the LDS column's radius).
pub fn table(set: &SetResult, seeds: &[u64], lds_eps: f32) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let at = |r: &Report, list: &[f32], e: f32| {
        r.eps
            .iter()
            .position(|&x| (x - e).abs() < 1e-6)
            .and_then(|i| list.get(i))
            .map_or("-".to_string(), |v| format!("{:.1}", 100.0 * v))
    };
    let (first, last) = (
        seeds.first().copied().unwrap_or(0),
        seeds.last().copied().unwrap_or(0),
    );
    let _ = writeln!(
        s,
        "\n{} 100-D: test error (%) on 1000 test points over {} seeds ({first}..={last}); \
         robustness of the seed-{first} models (L2 attacks)",
        set.set,
        seeds.len()
    );
    let _ = writeln!(
        s,
        "{:<13} {:>5} {:>6} {:>6} {:>6}   {:>7} {:>10} {:>10} {:>8} {:>8} {:>9}",
        "method",
        "eps",
        "mean",
        "min",
        "max",
        format!("seed {first}"),
        "PGD e=0.3",
        "PGD e=0.6",
        "min eps",
        "cert r",
        "mean LDS"
    );
    for r in &set.rows {
        let p = &r.report;
        let (mean, lo, hi) = r.summary();
        let eps = if r.eps > 0.0 {
            format!("{:.2}", r.eps)
        } else {
            "-".into()
        };
        let _ = writeln!(
            s,
            "{:<13} {:>5} {:>6.1} {:>6.1} {:>6.1}   {:>7.1} {:>10} {:>10} {:>8.3} {:>8.3} {:>9.2e}",
            r.method.name(),
            eps,
            100.0 * mean,
            100.0 * lo,
            100.0 * hi,
            100.0 * r.test_error,
            at(p, &p.pgd_accuracy, 0.3),
            at(p, &p.pgd_accuracy, 0.6),
            p.minimal_eps.mean,
            p.certified_radius.map_or(0.0, |c| c.mean),
            p.lds_mean
        );
    }
    let _ = writeln!(
        s,
        "(PGD: robust accuracy under 10-step L2 PGD; min eps: mean smallest L2 radius at which \
         PGD flips a correct prediction; cert r: mean L2 radius CROWN proves for the correct \
         predictions, a lower bound; LDS at eps {lds_eps}, K = 5)"
    );
    s
}

/// The first seed's models of each set, as trained.
type Pictured = (Kind, Synthetic, Vec<(Model, f32)>);

fn pictures(a: &DemoArgs, pictured: &[Pictured], sets: &[SetResult]) -> Result<()> {
    let mut data = Vec::new();
    for (kind, s, runs) in pictured {
        let window = plot::Window::around(&s.test_2d, 120);
        let grid = embed(s, &window.points());
        let lds_cfg = VatConfig::new(kind.paper_eps());
        for (&method, (model, err)) in METHODS.iter().zip(runs) {
            let p = plot::class1_probability(model, &grid)?;
            let lds = plot::lds_each(model, &s.test, &lds_cfg, a.seed)?;
            let title = format!(
                "{} {}: {:.1} % error",
                kind.name(),
                method.name(),
                100.0 * err
            );
            data.push((window, title, p, lds, s));
        }
    }
    let panels: Vec<plot::Panel<'_>> = data
        .iter()
        .map(|(window, title, p, lds, s)| plot::Panel {
            window: *window,
            title: title.clone(),
            probability: p,
            points: &s.test_2d,
            lds,
            labelled: &s.train_2d,
        })
        .collect();
    plot::boundary_figure(
        &a.out.join("demo_boundary.png"),
        &panels,
        METHODS.len(),
        (2200, 1000),
        &format!(
            "the VAT authors' synthetic benchmark (100-D, seen in its 2-D plane), seed {}, {} iterations",
            a.seed, a.epochs
        ),
    )?;

    let moons = &sets[0].rows;
    let curves: Vec<plot::Curve<'_>> = moons
        .iter()
        .map(|r| plot::Curve {
            label: r.method.name(),
            fgsm: &r.report.fgsm_accuracy,
            pgd: &r.report.pgd_accuracy,
        })
        .collect();
    plot::robustness_figure(
        &a.out.join("demo_robustness.png"),
        &moons[0].report.eps,
        &curves,
        "L2",
        "moons 100-D: robust test accuracy vs ε",
    )
}

/// Embeds 2-D points in the synthetic set's 100-D plane.
fn embed(s: &Synthetic, d: &Dataset) -> Dataset {
    let x =
        d.x.chunks_exact(2)
            .flat_map(|p| s.embed([p[0], p[1]]))
            .collect();
    Dataset {
        features: 100,
        classes: 2,
        x,
        y: d.y.clone(),
    }
}

/// UCI digits, 10 labels per class, the rest of the training pool unlabelled, 500 test
/// samples: supervised vs VAT test accuracy (64-128-10 ReLU, Adam).
///
/// # Errors
///
/// When a run fails.
pub fn digits(seed: u64) -> Result<Vec<(Method, f32)>> {
    let d = crate::data::digits::load()?;
    let (train_set, test) = d.split_test(500, &mut Rng::new(seed ^ 0x5eed_da7a))?;
    let Split {
        labelled,
        unlabelled,
    } = train_set.split_labelled(10, &mut Rng::new(seed))?;
    eprintln!(
        "digits: {} labelled, {} unlabelled, {} test samples, 64-128-10 ReLU, Adam",
        labelled.len(),
        unlabelled.len(),
        test.len()
    );
    let results: Vec<(Method, f32)> = std::thread::scope(|scope| {
        let handles: Vec<_> = [Method::Supervised, Method::Vat]
            .into_iter()
            .map(|method| {
                let (labelled, unlabelled, test) = (&labelled, &unlabelled, &test);
                scope.spawn(move || -> Result<(Method, f32)> {
                    let mut m = Model::new(&[64, 128, 10], Activation::Relu, seed)?;
                    let mut cfg = TrainConfig::images(method, DIGITS_EPOCHS, DIGITS_EPS, 0.1);
                    cfg.seed = seed;
                    cfg.eval_every = 0;
                    let out =
                        train::train(&mut m, &cfg, labelled, unlabelled, Some(test), &mut |_| {})?;
                    Ok((method, out.test_accuracy.unwrap_or(f32::NAN)))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(r) => r,
                Err(p) => std::panic::resume_unwind(p),
            })
            .collect::<Result<_>>()
    })?;
    crate::outln!(
        "\ndigits, 10 labels per class, seed {seed}: test accuracy on 500 held-out samples"
    )?;
    for (m, acc) in &results {
        crate::outln!(
            "{:<11} {:>6.1} %   (error {:.1} %)",
            m.name(),
            100.0 * acc,
            100.0 * (1.0 - acc)
        )?;
    }
    Ok(results)
}

/// Epochs of the digits runs (passes over the 100 labelled samples in minibatches of 64).
pub const DIGITS_EPOCHS: usize = 300;
/// VAT's ε on digits (L2, pixels in [0, 1]).
pub const DIGITS_EPS: f32 = 2.0;

/// Runs `vatic demo`.
///
/// # Errors
///
/// As [`demo`].
pub fn run(a: &DemoArgs) -> Result<()> {
    demo(a).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_on_both_sets_over_every_seed() {
        let dir = tempfile::tempdir().unwrap();
        let a = DemoArgs {
            seeds: 2,
            epochs: 3,
            skip_digits: true,
            out: dir.path().to_path_buf(),
            ..DemoArgs::default()
        };
        assert_eq!(DemoArgs::default().seeds, 10);
        let r = demo(&a).unwrap();
        assert_eq!(r.seeds, vec![1, 2]);
        let names: Vec<_> = r.sets.iter().map(|s| s.set).collect();
        assert_eq!(names, ["moons", "circles"]);
        for (set, kind) in r.sets.iter().zip(SETS) {
            let methods: Vec<_> = set.rows.iter().map(|r| r.method).collect();
            assert_eq!(methods, METHODS);
            let eps: Vec<f32> = set.rows.iter().map(|r| r.eps).collect();
            assert_eq!(
                eps,
                [0.0, 0.0, kind.random_eps(), kind.at_eps(), kind.paper_eps()]
            );
            for row in &set.rows {
                assert_eq!(row.seed_errors.len(), 2);
                assert_eq!(row.test_error, row.seed_errors[0]);
                let (mean, lo, hi) = row.summary();
                assert!(lo <= mean && mean <= hi);
            }
            let t = table(set, &r.seeds, kind.paper_eps());
            assert!(t.contains("over 2 seeds (1..=2)"), "{t}");
            assert!(
                t.contains("mean") && t.contains("min") && t.contains("max"),
                "{t}"
            );
            for m in METHODS {
                assert_eq!(
                    t.lines().filter(|l| l.starts_with(m.name())).count(),
                    1,
                    "{t}"
                );
            }
        }
        for f in ["demo_boundary.png", "demo_robustness.png", "demo.json"] {
            assert!(dir.path().join(f).exists(), "{f}");
        }
    }

    #[test]
    fn summary_of_errors() {
        assert_eq!(summary(&[0.1, 0.3, 0.2]), (0.2, 0.1, 0.3));
        assert!(summary(&[]).0.is_nan());
    }
}
