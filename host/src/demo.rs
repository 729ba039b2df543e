//! `vatic demo` (also what `vatic` runs without arguments): the VAT paper's synthetic benchmark.
//!
//! On the 100-D moons (16 labelled points, 8 per class, plus an unlabelled pool), train
//! supervised-only, adversarial training and VAT from the same initialisation and labels with
//! the paper's optimiser (full-batch momentum SGD, lr 1.0 × 0.995 per epoch, 1000 epochs, VAT
//! ε = 0.6); print test error and robustness side by side; repeat the training for a few more
//! seeds to show the spread; write
//!
//! * `out/demo_boundary.png`: decision boundaries in the 2-D plane with the test points shaded
//!   by LDS, after 10 and after 1000 iterations, supervised and VAT (the paper's figure);
//! * `out/demo_robustness.png`: robust accuracy vs ε (L2) under FGSM and PGD per method;
//! * `out/demo.json`: everything in the table.
//!
//! Then UCI digits with 10 labels per class: supervised vs VAT test accuracy (`--skip-digits`
//! to leave it out).

use crate::data::synthetic::{Kind, Synthetic};
use crate::data::{Dataset, Split};
use crate::eval::{evaluate, EvalOptions, Report};
use crate::models::Model;
use crate::plot;
use crate::train::{self, Method, TrainConfig};
use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use vatic::vat::VatConfig;
use vatic::{Activation, Rng};

/// `vatic demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Seed of the data, the initialisation and training of the pictured run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of seeds (starting at --seed) whose test errors are summarised (1 to 1000).
    #[arg(long, default_value_t = 5, value_parser = crate::flags::seeds)]
    pub seeds: u64,
    /// Epochs (full-batch iterations).
    #[arg(long, default_value_t = 1000, value_parser = crate::flags::epochs)]
    pub epochs: usize,
    /// Unlabelled points besides the 16 labelled ones.
    #[arg(long, default_value_t = 1000)]
    pub unlabelled_pool: usize,
    /// Unlabelled minibatch of each VAT step (0: all of them; the labelled batch is always all
    /// 16 points).
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
            seeds: 5,
            epochs: 1000,
            unlabelled_pool: 1000,
            unlabelled_batch: train::SYNTHETIC_UNLABELLED_BATCH,
            skip_digits: false,
            out: "out".into(),
        }
    }
}

/// The methods the demo compares, in table order.
pub const METHODS: [Method; 3] = [Method::Supervised, Method::At, Method::Vat];

/// One method's row of the demo table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The method.
    pub method: Method,
    /// Test error of the pictured run.
    pub test_error: f32,
    /// Test errors of every seed.
    pub seed_errors: Vec<f32>,
    /// The robustness report of the pictured run.
    pub report: Report,
}

/// Everything the demo measured.
#[derive(Debug, Clone, Serialize)]
pub struct DemoResult {
    /// Seeds summarised.
    pub seeds: Vec<u64>,
    /// One row per method.
    pub moons: Vec<Row>,
    /// Digits: (method, test accuracy) pairs, when run.
    pub digits: Vec<(Method, f32)>,
}

fn moons_config(a: &DemoArgs, method: Method) -> TrainConfig {
    let eps = Kind::Moons.paper_eps();
    let mut cfg = TrainConfig::synthetic(method, eps);
    cfg.epochs = a.epochs;
    // 0: the whole unlabelled set every step.
    cfg.unlabelled_batch = (a.unlabelled_batch > 0).then_some(a.unlabelled_batch);
    cfg.eval_every = 0;
    cfg
}

/// Trains every method from the same initialisation on one seed's moons, in parallel.
fn train_all(a: &DemoArgs, s: &Synthetic, seed: u64, epochs: usize) -> Result<Vec<(Model, f32)>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = METHODS
            .iter()
            .map(|&method| {
                scope.spawn(move || -> Result<(Model, f32)> {
                    let mut model = Model::new(&[100, 100, 2], Activation::Relu, seed)?;
                    let mut cfg = moons_config(a, method);
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
                })
            })
            .collect();
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
    eprintln!(
        "moons 100-D: 16 labelled + {} unlabelled points, 1000 test points, 100-100-2 ReLU, \
         {} epochs of full-batch SGD; VAT eps 0.6 (unlabelled batch {}), AT eps 0.6 (L2)",
        a.unlabelled_pool, a.epochs, a.unlabelled_batch
    );
    let mut seed_errors = vec![Vec::new(); METHODS.len()];
    let mut pictured = None;
    for &seed in &seeds {
        let s = Synthetic::generate(Kind::Moons, seed, a.unlabelled_pool);
        let runs = train_all(a, &s, seed, a.epochs)?;
        eprintln!(
            "  seed {seed}: test error {}",
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
        if pictured.is_none() {
            pictured = Some((s, runs));
        }
    }
    let Some((s, runs)) = pictured else {
        anyhow::bail!("no seed was run");
    };

    eprintln!("robustness of the seed-{} models …", a.seed);
    let opts = EvalOptions {
        bisection_steps: 8,
        ..EvalOptions::synthetic(Kind::Moons.paper_eps())
    };
    let reports: Vec<Report> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .map(|(m, _)| {
                let (test, opts) = (&s.test, &opts);
                scope.spawn(move || evaluate(m, test, opts))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(r) => r,
                Err(p) => std::panic::resume_unwind(p),
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let rows: Vec<Row> = METHODS
        .iter()
        .zip(&runs)
        .zip(reports)
        .zip(seed_errors)
        .map(|(((&method, (_, e)), report), seed_errors)| Row {
            method,
            test_error: *e,
            seed_errors,
            report,
        })
        .collect();
    crate::out!("{}", moons_table(&rows, &seeds))?;

    eprintln!("drawing …");
    pictures(a, &s, &runs, &rows)?;
    let digits = if !a.skip_digits {
        digits(a.seed)?
    } else {
        Vec::new()
    };
    let result = DemoResult {
        seeds,
        moons: rows,
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

/// The side-by-side table.
pub fn moons_table(rows: &[Row], seeds: &[u64]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let at = |r: &Report, list: &[f32], e: f32| {
        r.eps
            .iter()
            .position(|&x| (x - e).abs() < 1e-6)
            .and_then(|i| list.get(i))
            .map_or("-".to_string(), |v| format!("{:.1}", 100.0 * v))
    };
    let _ = writeln!(
        s,
        "\nmoons 100-D, seed {}: test error and robust accuracy (%) on 1000 test points (L2 attacks)",
        seeds.first().copied().unwrap_or(0)
    );
    let _ = writeln!(
        s,
        "{:<11} {:>6} {:>11} {:>10} {:>10} {:>10} {:>9} {:>10}   error over seeds {:?}",
        "method",
        "error",
        "FGSM e=0.3",
        "PGD e=0.3",
        "PGD e=0.6",
        "PGD e=1.0",
        "min eps",
        "mean LDS",
        seeds
    );
    for r in rows {
        let p = &r.report;
        let n = r.seed_errors.len().max(1) as f32;
        let mean = r.seed_errors.iter().sum::<f32>() / n;
        let (lo, hi) = r
            .seed_errors
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let _ = writeln!(
            s,
            "{:<11} {:>6.1} {:>11} {:>10} {:>10} {:>10} {:>9.3} {:>10.2e}   mean {:.1} (min {:.1}, max {:.1})",
            r.method.name(),
            100.0 * r.test_error,
            at(p, &p.fgsm_accuracy, 0.3),
            at(p, &p.pgd_accuracy, 0.3),
            at(p, &p.pgd_accuracy, 0.6),
            at(p, &p.pgd_accuracy, 1.0),
            p.minimal_eps.mean,
            p.lds_mean,
            100.0 * mean,
            100.0 * lo,
            100.0 * hi
        );
    }
    let _ = writeln!(
        s,
        "(min eps: mean smallest L2 radius at which PGD flips a correct prediction; \
         LDS at eps 0.6, K = 5)"
    );
    s
}

fn pictures(a: &DemoArgs, s: &Synthetic, runs: &[(Model, f32)], rows: &[Row]) -> Result<()> {
    let window = plot::Window::around(&s.test_2d, 90);
    let grid2 = window.points();
    let grid = embed(s, &grid2);
    let lds_cfg = VatConfig::new(Kind::Moons.paper_eps());
    // The "start" panels: the same runs stopped after 10 iterations (training is deterministic,
    // so these are the first 10 iterations of the full runs).
    let early = train_all(a, s, a.seed, 10.min(a.epochs))?;
    let mut panels_data = Vec::new();
    for (idx, label) in [(0usize, "supervised"), (2, "VAT")] {
        for (model, when) in [(&early[idx].0, 10.min(a.epochs)), (&runs[idx].0, a.epochs)] {
            let p = plot::class1_probability(model, &grid)?;
            let lds = plot::lds_each(model, &s.test, &lds_cfg, a.seed)?;
            let err = {
                let p_test = plot::class1_probability(model, &s.test)?;
                let wrong = p_test
                    .iter()
                    .zip(&s.test.y)
                    .filter(|(p, &y)| (**p >= 0.5) != (y == 1))
                    .count();
                wrong as f32 / s.test.len() as f32
            };
            panels_data.push((
                format!("{label}, {when} iterations: error {:.1} %", 100.0 * err),
                p,
                lds,
            ));
        }
    }
    let panels: Vec<plot::Panel<'_>> = panels_data
        .iter()
        .map(|(title, p, lds)| plot::Panel {
            title: title.clone(),
            probability: p,
            points: &s.test_2d,
            lds,
            labelled: &s.train_2d,
        })
        .collect();
    plot::boundary_figure(
        &a.out.join("demo_boundary.png"),
        &window,
        &panels,
        2,
        (1000, 900),
        "moons 100-D seen in their 2-D plane",
    )?;

    let curves: Vec<plot::Curve<'_>> = rows
        .iter()
        .map(|r| plot::Curve {
            label: r.method.name(),
            fgsm: &r.report.fgsm_accuracy,
            pgd: &r.report.pgd_accuracy,
        })
        .collect();
    plot::robustness_figure(
        &a.out.join("demo_robustness.png"),
        &rows[0].report.eps,
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
