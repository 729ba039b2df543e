//! The `vatic` command-line harness; see `vatic --help` and the host README.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = vatic_host::cli::Cli::parse();
    // Networks live on the stack while being built; give the largest shapes room.
    match vatic_host::with_big_stack(|| vatic_host::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
