//! Training runs and `vatic train`: supervised, weight decay, random perturbation,
//! adversarial training (AT), VAT and VAT+EntMin over a labelled set and an unlabelled pool,
//! with SGD-momentum or Adam, seeded.
//!
//! * What a run is: the objective ([`Method`]), the optimiser ([`OptimizerKind`]) and every
//!   setting besides the data ([`TrainConfig`]), with the VAT authors' synthetic protocol
//!   ([`TrainConfig::authors`]) and the image settings ([`TrainConfig::images`]) as presets
//!   (`config.rs`).
//! * [`train`]: the training loop, one epoch a pass over the labelled set (`fit.rs`).
//! * [`TrainArgs`]: `vatic train`'s flags and the configuration and widths they select
//!   (`args.rs`).
//! * [`run`]: the subcommand — load the data, draw the labelled samples, train (with a
//!   progress bar, `progress.rs`), write the model (here).

mod args;
mod config;
mod fit;
mod progress;

pub use args::{default_image_eps, ActivationArg, DirectionArg, OptimizerArg, TrainArgs};
pub use config::{Method, OptimizerKind, TrainConfig, SYNTHETIC_UNLABELLED_BATCH};
pub use fit::{train, EpochLog, TrainOutcome};

use crate::data;
use crate::models::{self, Model};
use anyhow::Result;
use vatic::Rng;

/// `vatic train`: loads the data, draws the labelled samples, trains and writes the model
/// (with the data's provenance in its metadata, so `eval` and `export-firmware` find the same
/// test set) and, with `--log`, the training log.
///
/// # Errors
///
/// Unwritable or clashing outputs, unreadable data, inconsistent settings, a diverged run.
pub fn run(a: &TrainArgs) -> Result<()> {
    let mut outputs = vec![crate::output::Output {
        flag: "--out",
        path: &a.out,
        creates_dir: true,
    }];
    if let Some(log) = &a.log {
        outputs.push(crate::output::Output {
            flag: "--log",
            path: log,
            creates_dir: false,
        });
    }
    crate::output::check(&a.data.input_files(), &outputs)?;
    let tt = a.data.load()?;
    let widths = a.widths(tt.train.features, tt.train.classes)?;
    let per_class = a
        .labels_per_class
        .unwrap_or(if a.data.is_synthetic() { 8 } else { 10 });
    let split = if a.data.is_synthetic() && per_class == 8 {
        // The synthetic training set is the 16 labelled points followed by the pool.
        let n = 16.min(tt.train.len());
        data::Split {
            labelled: tt.train.subset(&(0..n).collect::<Vec<_>>())?,
            unlabelled: tt.train.subset(&(n..tt.train.len()).collect::<Vec<_>>())?,
        }
    } else {
        tt.train
            .split_labelled(per_class, &mut Rng::new(a.data.seed()))?
    };
    let mut model = Model::new(&widths, a.activation.into(), a.data.seed())?;
    let cfg = a.config()?;
    // VAT's unlabelled set is the labelled points and the unlabelled ones.
    let pool = split.labelled.len() + split.unlabelled.len();
    if let Some(n) = a.unlabelled_batch.filter(|&n| n > pool) {
        anyhow::bail!(
            "--unlabelled-batch {n} is larger than the {pool} samples VAT draws from ({} labelled + \
             {} unlabelled); use at most {pool}, or 0 for all of them every step",
            split.labelled.len(),
            split.unlabelled.len()
        );
    }
    eprintln!(
        "training a {} {} network with {} on {}: {} labelled, {} unlabelled, {} test samples, {} epochs",
        models::format_widths(&widths),
        model.activation().name(),
        a.method.name(),
        a.data.source(),
        split.labelled.len(),
        split.unlabelled.len(),
        tt.test.len(),
        cfg.epochs
    );
    let bar = progress::bar(cfg.epochs as u64, a.quiet);
    let out = train(
        &mut model,
        &cfg,
        &split.labelled,
        &split.unlabelled,
        Some(&tt.test),
        &mut |log| progress::update(&bar, log),
    )?;
    bar.finish_and_clear();
    let acc = out.test_accuracy.unwrap_or(f32::NAN);
    crate::outln!(
        "test accuracy {:.2} % (error {:.2} %) on {} samples",
        100.0 * acc,
        100.0 * (1.0 - acc),
        tt.test.len()
    )?;
    // The data's provenance, so eval and export-firmware find the same test set.
    let mut meta = a.data.provenance().to_metadata();
    meta.extend([
        ("vatic.method", a.method.name().into()),
        ("vatic.epochs", cfg.epochs.to_string()),
        ("vatic.labels_per_class", per_class.to_string()),
        ("vatic.test_accuracy", acc.to_string()),
    ]);
    crate::model_io::save(&a.out, &model, &meta)?;
    crate::outln!("wrote {}", a.out.display())?;
    if let Some(p) = &a.log {
        crate::output::write(p, serde_json::to_string_pretty(&out)?.as_bytes())?;
    }
    Ok(())
}
