//! `vatic demo`.

use anyhow::Result;
use clap::Args;

/// `vatic demo`.
#[derive(Debug, Clone, Default, Args)]
pub struct DemoArgs {
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs the demo.
///
/// # Errors
///
/// When a run fails.
pub fn run(_a: &DemoArgs) -> Result<()> {
    Ok(())
}
