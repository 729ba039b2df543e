//! The `vatic` command-line harness; see `vatic --help` and the host README.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = vatic_host::cli::Cli::parse();
    match vatic_host::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
