//! Comma-separated data: one sample per line, numeric features and an integer class label
//! (the last column unless told otherwise). An optional first line of column names is skipped;
//! blank lines and lines starting with `#` are ignored; `.gz` files are decompressed.

use super::Dataset;
use anyhow::{bail, ensure, Context, Result};
use std::io::Read;
use std::path::Path;

/// Largest number of classes a CSV file may declare (a guard against a feature column mistaken
/// for the label).
pub const MAX_CLASSES: usize = 1000;

/// Reads a CSV file (`.gz` is decompressed).
///
/// # Errors
///
/// When the file cannot be read or [`parse`] rejects it.
pub fn load(path: &Path, label_column: Option<usize>) -> Result<Dataset> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .context("the file ends in .gz but is not valid gzip-compressed UTF-8 text")?;
        s
    } else {
        String::from_utf8(bytes).context("the file is not UTF-8 text")?
    };
    parse(&text, label_column)
}

/// Parses CSV text. `label_column` is 0-based; `None` means the last column.
///
/// # Errors
///
/// Explains the first problem with its line number: ragged rows, non-numeric or non-finite
/// values, labels that are not non-negative integers, fewer than two classes, no data.
pub fn parse(text: &str, label_column: Option<usize>) -> Result<Dataset> {
    let mut width = None;
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut first = true;
    for (n, line) in text.lines().enumerate() {
        let lineno = n + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let is_header = first && fields.iter().any(|f| f.parse::<f64>().is_err());
        first = false;
        if is_header {
            continue;
        }
        let w = *width.get_or_insert(fields.len());
        ensure!(
            w >= 2,
            "line {lineno}: a sample needs at least one feature and a label, found {w} column(s)"
        );
        ensure!(
            fields.len() == w,
            "line {lineno} has {} columns but the first data line has {w} (ragged rows)",
            fields.len()
        );
        let label_col = label_column.unwrap_or(w - 1);
        ensure!(
            label_col < w,
            "--label-column {label_col} is out of range: the data has {w} columns (0..{w})"
        );
        for (c, f) in fields.iter().enumerate() {
            let v: f64 = f
                .parse()
                .map_err(|_| anyhow::anyhow!("line {lineno} column {c}: {f:?} is not a number"))?;
            if c == label_col {
                if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < MAX_CLASSES as f64) {
                    bail!(
                        "line {lineno}: label {f:?} must be an integer class in 0..{MAX_CLASSES}"
                    );
                }
                y.push(v as usize);
            } else {
                let v = v as f32;
                ensure!(
                    v.is_finite(),
                    "line {lineno} column {c}: {f:?} is not finite in f32 (NaN, infinity or too large)"
                );
                x.push(v);
            }
        }
    }
    let Some(w) = width else {
        bail!("no data lines (the file is empty or holds only a header or comments)");
    };
    let classes = y.iter().copied().max().unwrap_or(0) + 1;
    ensure!(
        classes >= 2,
        "every label is 0: a classifier needs at least two classes"
    );
    Dataset::new(w - 1, classes, x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_comments_and_label_column() {
        let d = parse("a,b,label\n# comment\n1,2,0\n\n3,4,1\n", None).unwrap();
        assert_eq!((d.features, d.classes, d.len()), (2, 2, 2));
        assert_eq!(d.x, vec![1.0, 2.0, 3.0, 4.0]);
        let d = parse("2,1,2\n0,3,4\n", Some(0)).unwrap();
        assert_eq!(d.y, vec![2, 0]);
        assert_eq!(d.classes, 3);
        assert_eq!(d.x, vec![1.0, 2.0, 3.0, 4.0]);
    }

    fn err(text: &str, col: Option<usize>) -> String {
        parse(text, col).unwrap_err().to_string()
    }

    #[test]
    fn explains_bad_input() {
        assert!(err("1,2,0\n1,1\n", None).contains("ragged"));
        assert!(err("1,NaN,0\n1,2,1\n", None).contains("not finite"));
        assert!(err("1,inf,0\n1,2,1\n", None).contains("not finite"));
        assert!(err("1,1e40,0\n1,2,1\n", None).contains("not finite"));
        assert!(err("1,2,0\n1,x,1\n", None).contains("not a number"));
        assert!(err("1,2,-1\n1,2,1\n", None).contains("label"));
        assert!(err("1,2,0.5\n1,2,1\n", None).contains("label"));
        assert!(err("1,2,5000\n", None).contains("label"));
        assert!(err("1,2,0\n1,2,0\n", None).contains("two classes"));
        assert!(err("", None).contains("no data"));
        assert!(err("a,b\n", None).contains("no data"));
        assert!(err("1\n", None).contains("at least one feature"));
        assert!(err("1,2,0\n", Some(3)).contains("out of range"));
    }

    #[test]
    fn loads_files_and_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        std::fs::write(&p, "1,2,0\n3,4,1\n").unwrap();
        assert_eq!(load(&p, None).unwrap().len(), 2);
        let gz = dir.path().join("d.csv.gz");
        std::fs::write(&gz, b"not gzip").unwrap();
        assert!(load(&gz, None).unwrap_err().to_string().contains("gzip"));
        assert!(load(&dir.path().join("missing.csv"), None).is_err());
    }
}
