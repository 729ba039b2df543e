//! `vatic export-firmware`: the firmware blob (pending the core's blob format).

use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;

/// `vatic export-firmware`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The model (safetensors).
    #[arg(long)]
    pub model: PathBuf,
    /// Where to write the blob.
    #[arg(long, default_value = "out/firmware.bin")]
    pub out: PathBuf,
}

/// Runs `vatic export-firmware`.
///
/// # Errors
///
/// Always, until the core's blob format lands.
pub fn run(_a: &ExportArgs) -> Result<()> {
    bail!("export-firmware is not available yet: the core has no blob format (core/src/blob.rs)")
}
