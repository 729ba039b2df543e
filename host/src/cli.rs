//! The command line (clap derive): the [`Cli`] parser and its dispatch, nothing else. Every
//! subcommand is a variant of [`Command`] whose `Args` struct and `run` function live in the
//! subcommand's own module ([`demo`](crate::demo), [`train`](crate::train),
//! [`eval`](crate::eval), [`export`](crate::export), [`inspect`](crate::inspect)), so adding
//! one is a variant, a match arm and a module. No module imports from this one.

use anyhow::Result;
use clap::{Parser, Subcommand};

/// vatic: tiny MLPs with FGSM, adversarial training and virtual adversarial training.
///
/// Without a subcommand, runs `vatic demo`.
#[derive(Debug, Parser)]
#[command(name = "vatic", version, about, long_about = None)]
pub struct Cli {
    /// What to do (default: demo).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The VAT paper's synthetic benchmark with the authors' protocol: supervised, weight decay,
    /// random perturbation, AT and VAT on the 100-D moons and circles over several seeds; print
    /// a table, write PNGs.
    Demo(crate::demo::DemoArgs),
    /// Train a model and write it as safetensors.
    Train(crate::train::TrainArgs),
    /// Robustness report of a model: clean accuracy, FGSM/PGD ε sweeps, minimal ε, LDS.
    Eval(crate::eval::EvalArgs),
    /// Write the firmware blob (model + test subset + expected results).
    ExportFirmware(crate::export::ExportArgs),
    /// Print every quantity the core computes (logits, gradients, FGSM, VAT, LDS, …) for a
    /// model and a batch as JSON, named as in the reference fixtures.
    Inspect(crate::inspect::InspectArgs),
}

/// Runs the parsed command line.
///
/// # Errors
///
/// Whatever the subcommand reports.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => crate::demo::run(&crate::demo::DemoArgs::default()),
        Some(Command::Demo(a)) => crate::demo::run(&a),
        Some(Command::Train(a)) => crate::train::run(&a),
        Some(Command::Eval(a)) => crate::eval::run(&a),
        Some(Command::ExportFirmware(a)) => crate::export::run(&a),
        Some(Command::Inspect(a)) => crate::inspect::run(&a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_consistent_and_defaults_to_the_demo() {
        Cli::command().debug_assert();
        assert!(Cli::parse_from(["vatic"]).command.is_none());
        assert!(matches!(
            Cli::parse_from(["vatic", "demo", "--seeds", "2"]).command,
            Some(Command::Demo(crate::demo::DemoArgs { seeds: 2, .. }))
        ));
        assert!(matches!(
            Cli::parse_from(["vatic", "train", "--data", "circles"]).command,
            Some(Command::Train(_))
        ));
    }
}
