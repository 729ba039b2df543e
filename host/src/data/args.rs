//! The data flags every subcommand that reads a data set shares (`--data`, `--seed`,
//! `--test-size`, `--label-column`, `--unlabelled-pool`, `--test`, `--clip`): [`DataArgs`],
//! flattened into `train`'s, `eval`'s and `export-firmware`'s arguments, and turned into the
//! [`Provenance`] the loader reads.
//!
//! `vatic train` fills what is left out with the defaults ([`DataArgs::provenance`]). A model's
//! commands fill it from the model's metadata ([`DataArgs::for_model`]): the split-defining
//! settings (`--data`, `--seed`, `--test-size`, `--label-column`, `--unlabelled-pool`) come
//! from the model when the command line leaves them out; given and different from the
//! model's, they are refused unless `--force` says the other split is meant. `--test` and
//! `--clip` come from the model when left out and replace it when given.

use super::provenance::Provenance;
use super::{Source, TrainTest};
use anyhow::{bail, Result};
use clap::Args;
use vatic::attack::Clip;

/// Where the data comes from and how it is split (shared by train, eval and export), as given
/// on the command line (`None`: left out).
///
/// `eval` and `export-firmware` take every one of these the command line leaves out from the
/// model's metadata ([`Provenance`]).
#[derive(Debug, Clone, Default, PartialEq, Args)]
pub struct DataArgs {
    /// Data set: moons, circles (100-D, the VAT paper's), moons2d, circles2d, digits,
    /// csv:PATH, mnist:DIR [default: moons; eval/export: the model's].
    #[arg(long)]
    pub data: Option<Source>,
    /// Seed of the data (synthetic sets, splits), the initialisation and training [default: 1;
    /// eval/export: the model's].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Held-out test samples for data without a test set (digits: 500, CSV: a quarter).
    #[arg(long, value_parser = crate::flags::at_least_one)]
    pub test_size: Option<usize>,
    /// CSV: the 0-based label column (default: the last).
    #[arg(long)]
    pub label_column: Option<usize>,
    /// Synthetic sets: number of extra unlabelled training points [default: 0, the authors'
    /// protocol computes VAT on the 16 labelled points].
    #[arg(long)]
    pub unlabelled_pool: Option<usize>,
    /// A separate test set, any source (all of a CSV file or the digits, MNIST's test files, a
    /// synthetic set's test points); --data is then not split.
    #[arg(long, conflicts_with = "test_size")]
    pub test: Option<Source>,
    /// The box LO,HI attacks are clipped to, in the data's units (default: the data set's own:
    /// [0, 1] for digits and MNIST, none for the synthetic sets and CSV).
    #[arg(long, value_parser = super::provenance::parse_clip, allow_hyphen_values = true)]
    pub clip: Option<Clip>,
}

impl DataArgs {
    /// The flags with the defaults for what is left out (`vatic train`): moons, seed 1, the
    /// loaders' own splits.
    pub fn provenance(&self) -> Provenance {
        Provenance {
            data: self.source(),
            seed: self.seed.unwrap_or(1),
            test_size: self.test_size,
            label_column: self.label_column,
            unlabelled_pool: self
                .unlabelled_pool
                .unwrap_or(super::synthetic::DEFAULT_POOL),
            test: self.test.clone(),
            clip: self.clip,
        }
    }

    /// The data a model's command uses: the given flags completed from the model's metadata
    /// (and said so on stderr), or the defaults for a model without provenance.
    ///
    /// # Errors
    ///
    /// A flag that contradicts the model's provenance (unless `force`), bad metadata.
    pub fn for_model(
        &self,
        meta: &std::collections::HashMap<String, String>,
        force: bool,
        model: &std::path::Path,
    ) -> Result<Provenance> {
        match Provenance::from_metadata(meta)? {
            Some(p) => {
                let used = self.complete(&p, force, model)?;
                eprintln!(
                    "data: {} (left-out flags from the model's metadata)",
                    used.flags()
                );
                Ok(used)
            }
            None => {
                let used = self.provenance();
                eprintln!(
                    "data: {} (the model {} records no data provenance)",
                    used.flags(),
                    model.display()
                );
                Ok(used)
            }
        }
    }

    /// Loads the data.
    ///
    /// # Errors
    ///
    /// Whatever the loader reports.
    pub fn load(&self) -> Result<TrainTest> {
        super::load(&self.provenance())
    }

    /// The data source (default moons).
    pub fn source(&self) -> Source {
        self.data.clone().unwrap_or(Source::Moons)
    }

    /// The seed (default 1).
    pub fn seed(&self) -> u64 {
        self.provenance().seed
    }

    /// `true` for the synthetic sets.
    pub fn is_synthetic(&self) -> bool {
        self.source().is_synthetic()
    }

    /// The hidden width of the default network for this data: one hidden layer of 100 units
    /// (the VAT paper's synthetic model), 128 for digits, 1200 for MNIST.
    pub fn default_hidden(&self) -> usize {
        match self.source() {
            Source::Digits => 128,
            Source::Mnist(_) => 1200,
            _ => 100,
        }
    }

    /// The files the data is read from, as `(flag, path)` for
    /// [`output::check`](crate::output::check): the CSV file (an MNIST directory holds only
    /// its own files).
    pub fn input_files(&self) -> Vec<(&'static str, &std::path::Path)> {
        let mut v = Vec::new();
        if let Some(Source::Csv(p)) = &self.data {
            v.push(("--data", p.as_path()));
        }
        if let Some(Source::Csv(p)) = &self.test {
            v.push(("--test", p.as_path()));
        }
        v
    }

    /// The VAT authors' ε of VAT for the synthetic sets (moons 0.6, circles 0.5, from their
    /// `vis_model_contours.sh`); otherwise `None`.
    pub fn paper_eps(&self) -> Option<f32> {
        self.source().paper_eps()
    }

    /// The data to use: these flags completed from `trained`, the provenance recorded in the
    /// model file `model`. A split-defining flag that contradicts it is refused unless
    /// `force`.
    ///
    /// # Errors
    ///
    /// Names the flag, both values and the two ways out.
    pub fn complete(
        &self,
        trained: &Provenance,
        force: bool,
        model: &std::path::Path,
    ) -> Result<Provenance> {
        fn pick<T: PartialEq + std::fmt::Debug + Clone>(
            flag: &str,
            given: &Option<T>,
            model: &T,
            force: bool,
            path: &std::path::Path,
            show: impl Fn(&T) -> String,
        ) -> Result<T> {
            match given {
                None => Ok(model.clone()),
                Some(g) if g == model || force => Ok(g.clone()),
                Some(g) => bail!(
                    "{flag} {} contradicts the model {}, which was trained with {flag} {} (its \
                     metadata); leave {flag} out to use the model's data, or add --force to \
                     evaluate on another split on purpose",
                    show(g),
                    path.display(),
                    show(model)
                ),
            }
        }
        let opt = |o: &Option<usize>| o.map_or("(default)".to_string(), |v| v.to_string());
        Ok(Provenance {
            data: pick("--data", &self.data, &trained.data, force, model, |s| {
                s.to_string()
            })?,
            seed: pick("--seed", &self.seed, &trained.seed, force, model, |s| {
                s.to_string()
            })?,
            test_size: pick(
                "--test-size",
                &self.test_size.map(Some),
                &trained.test_size,
                force,
                model,
                opt,
            )?,
            label_column: pick(
                "--label-column",
                &self.label_column.map(Some),
                &trained.label_column,
                force,
                model,
                opt,
            )?,
            unlabelled_pool: pick(
                "--unlabelled-pool",
                &self.unlabelled_pool,
                &trained.unlabelled_pool,
                force,
                model,
                |s| s.to_string(),
            )?,
            test: self.test.clone().or_else(|| trained.test.clone()),
            clip: self.clip.or(trained.clip),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Digits, seed 3, 200 test samples, the box [0, 1].
    fn prov() -> Provenance {
        DataArgs {
            data: Some(Source::Digits),
            seed: Some(3),
            test_size: Some(200),
            clip: Some(Clip { min: 0.0, max: 1.0 }),
            ..DataArgs::default()
        }
        .provenance()
    }

    #[test]
    fn left_out_flags_come_from_the_model_and_contradictions_are_refused() {
        let p = prov();
        let path = Path::new("m.safetensors");
        assert_eq!(DataArgs::default().complete(&p, false, path).unwrap(), p);
        let same = DataArgs {
            seed: Some(3),
            ..DataArgs::default()
        };
        assert_eq!(same.complete(&p, false, path).unwrap(), p);
        let other = DataArgs {
            seed: Some(4),
            ..DataArgs::default()
        };
        let e = other.complete(&p, false, path).unwrap_err().to_string();
        assert!(
            e.contains(
                "--seed 4 contradicts the model m.safetensors, which was trained with --seed 3"
            ),
            "{e}"
        );
        assert_eq!(other.complete(&p, true, path).unwrap().seed, 4);
        let e = DataArgs {
            test_size: Some(100),
            ..DataArgs::default()
        }
        .complete(&p, false, path)
        .unwrap_err()
        .to_string();
        assert!(e.contains("--test-size 100"), "{e}");
        // A separate test set or box is a choice, not a contradiction.
        let t = DataArgs {
            test: Some(Source::Moons),
            clip: Some(Clip {
                min: -1.0,
                max: 1.0,
            }),
            ..DataArgs::default()
        };
        let c = t.complete(&p, false, path).unwrap();
        assert_eq!((c.test, c.clip), (t.test, t.clip));
    }
}
