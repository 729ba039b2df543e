//! The data flags every subcommand that reads a data set shares (`--data`, `--seed`,
//! `--test-size`, `--label-column`, `--unlabelled-pool`, `--test`, `--clip`): [`DataArgs`],
//! flattened into `train`'s, `eval`'s and `export-firmware`'s arguments.

use super::provenance::{Given, Provenance};
use super::{Source, TrainTest};
use anyhow::Result;
use clap::Args;
use vatic::attack::Clip;

/// Where the data comes from and how it is split (shared by train, eval and export).
///
/// `eval` and `export-firmware` take every one of these the command line leaves out from the
/// model's metadata ([`Provenance`]).
#[derive(Debug, Clone, Args)]
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
    /// The flags as given (`None` where left out).
    pub fn given(&self) -> Given {
        Given {
            data: self.data.clone(),
            seed: self.seed,
            test_size: self.test_size,
            label_column: self.label_column,
            unlabelled_pool: self.unlabelled_pool,
            test: self.test.clone(),
            clip: self.clip,
        }
    }

    /// The flags with the defaults for what is left out (`vatic train`).
    pub fn provenance(&self) -> Provenance {
        self.given().or_defaults()
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
                let used = p.complete(&self.given(), force, model)?;
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
        self.provenance().load()
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
}
