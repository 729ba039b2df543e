//! How `vatic inspect` prints its report: one JSON object, compact or indented, on standard
//! output or into the `--out` file.

use super::Outputs;
use anyhow::Result;
use std::path::Path;

/// The report as one JSON object (indented with `pretty`), without a final newline.
///
/// # Errors
///
/// When serde cannot serialise it (it always can: every value is a number, an array or a map
/// with string keys).
pub fn to_json(out: &Outputs, pretty: bool) -> Result<String> {
    Ok(if pretty {
        serde_json::to_string_pretty(out)?
    } else {
        serde_json::to_string(out)?
    })
}

/// Prints the report as [`to_json`] and a newline: into `file` (saying so on stderr), or on
/// standard output.
///
/// # Errors
///
/// When the file cannot be written, or standard output is closed.
pub fn print(out: &Outputs, pretty: bool, file: Option<&Path>) -> Result<()> {
    let json = to_json(out, pretty)?;
    match file {
        Some(p) => {
            crate::output::write(p, (json + "\n").as_bytes())?;
            eprintln!("wrote {}", p.display());
        }
        None => crate::outln!("{json}")?,
    }
    Ok(())
}
