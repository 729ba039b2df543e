//! The UCI handwritten digits (8×8 pixels, 1797 samples, 10 classes, CC BY 4.0), bundled in the
//! repository as `data/digits/digits.csv.gz` (see `data/digits/README.md` for source and licence)
//! and embedded in the binary. Pixels 0..16 are scaled to [0, 1].

use super::Dataset;
use anyhow::{ensure, Context, Result};
use std::io::Read;

/// The bundled file, gzip-compressed CSV: 64 pixels then the label per line.
pub const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../../data/digits/digits.csv.gz");

/// Number of features (8×8 pixels).
pub const FEATURES: usize = 64;
/// Number of samples in the bundled file.
pub const SAMPLES: usize = 1797;

/// The digits with features scaled to [0, 1] (`/16`).
///
/// # Errors
///
/// Only if the embedded file were corrupt.
pub fn load() -> Result<Dataset> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .context("the embedded digits file is not valid gzip")?;
    let mut d = super::csv::parse(&text, None).context("the embedded digits file")?;
    ensure!(
        d.features == FEATURES && d.classes == 10 && d.len() == SAMPLES,
        "the embedded digits file has an unexpected shape"
    );
    for v in &mut d.x {
        *v /= 16.0;
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_range_and_balance() {
        let d = load().unwrap();
        assert_eq!(d.len(), 1797);
        assert!(d.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
        assert!(d.x.contains(&1.0));
        let counts = d.class_counts();
        assert!(
            counts.iter().all(|&c| (174..=183).contains(&c)),
            "{counts:?}"
        );
        // The first sample is a 0 (as in scikit-learn's load_digits).
        assert_eq!(d.y[0], 0);
        assert_eq!(d.row(0)[2], 5.0 / 16.0);
    }
}
