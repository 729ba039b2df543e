//! Comma-separated data: one sample per line, numeric features and an integer class label
//! (the last column unless told otherwise, classes numbered from 0). An optional first line of
//! column names is skipped, and so is a UTF-8 byte-order mark; blank lines and lines starting
//! with `#` are ignored; `.gz` files are decompressed.

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
/// A UTF-8 byte-order mark is skipped. Classes are numbered from 0: the number of classes is
/// the largest label plus one, and every class must have at least one sample.
///
/// # Errors
///
/// Explains the first problem with the file's line number: ragged rows, non-numeric or
/// non-finite values, labels that are not non-negative integers, a label beyond the others'
/// range (a class without samples), fewer than two classes, no data. When the file looks
/// separated by semicolons or tabs instead of commas, the message says so.
pub fn parse(text: &str, label_column: Option<usize>) -> Result<Dataset> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    parse_commas(text, label_column).map_err(|e| match other_separator(text) {
        Some((name, c, lineno)) => anyhow::anyhow!(
            "the data looks {name}-separated ({c:?} on line {lineno}), but vatic reads \
             comma-separated values: replace the {name}s with commas (and decimal commas with \
             points), e.g. with your spreadsheet's CSV export ({e:#})"
        ),
        None => e,
    })
}

/// The separator the first line of content uses when it is not a comma: its name, the
/// character and the line number.
fn other_separator(text: &str) -> Option<(&'static str, char, usize)> {
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| !l.trim().is_empty() && !l.trim().starts_with('#'))?;
    let line = line.trim();
    [("semicolon", ';'), ("tab", '\t'), ("pipe", '|')]
        .into_iter()
        .find(|&(_, c)| line.contains(c))
        .map(|(name, c)| (name, c, n + 1))
}

fn parse_commas(text: &str, label_column: Option<usize>) -> Result<Dataset> {
    let mut width = None;
    let mut x = Vec::new();
    let mut y = Vec::new();
    // The file's line number of every sample.
    let mut lines = Vec::new();
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
        lines.push(lineno);
    }
    let Some(w) = width else {
        bail!("no data lines (the file is empty or holds only a header or comments)");
    };
    let classes = y.iter().copied().max().unwrap_or(0) + 1;
    ensure!(
        classes >= 2,
        "every label is 0: a classifier needs at least two classes"
    );
    check_classes(&y, &lines, classes)?;
    Dataset::new(w - 1, classes, x, y)
}

/// Every class below `classes` (the largest label plus one) has a sample; otherwise explains
/// which label stands outside the others' range, on which line.
fn check_classes(y: &[usize], lines: &[usize], classes: usize) -> Result<()> {
    let mut present = vec![false; classes];
    for &l in y {
        present[l] = true;
    }
    let Some(gap) = present.iter().position(|&p| !p) else {
        return Ok(());
    };
    let next = (gap..classes).find(|&c| present[c]).unwrap_or(classes - 1);
    let at = y.iter().position(|&l| l == next).unwrap_or(0);
    let line = lines.get(at).copied().unwrap_or(0);
    let missing = if next - gap == 1 {
        format!("label {gap} never appears")
    } else {
        format!("labels {gap}..{} never appear", next - 1)
    };
    if gap == 0 {
        bail!(
            "label {next} on line {line}, but {missing}: classes are numbered from 0 \
             (here the smallest label is {next}; renumber the labels, e.g. subtract {next}, or \
             choose the label column with --label-column)"
        );
    }
    let s = if gap == 1 { "" } else { "es" };
    bail!(
        "label {next} on line {line}, but {missing}: labels 0..{} make {gap} class{s} \
         and every class needs samples; renumber the labels without gaps, or choose \
         the label column with --label-column",
        gap - 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_comments_and_label_column() {
        let d = parse("a,b,label\n# comment\n1,2,0\n\n3,4,1\n", None).unwrap();
        assert_eq!((d.features, d.classes, d.len()), (2, 2, 2));
        assert_eq!(d.x, vec![1.0, 2.0, 3.0, 4.0]);
        let d = parse("2,1,2\n0,3,4\n1,5,6\n", Some(0)).unwrap();
        assert_eq!(d.y, vec![2, 0, 1]);
        assert_eq!(d.classes, 3);
        assert_eq!(d.x, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
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
    fn a_byte_order_mark_is_not_a_header() {
        let d = parse("\u{feff}1,2,0\n3,4,1\n", None).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d.x, vec![1.0, 2.0, 3.0, 4.0]);
        let d = parse("\u{feff}a,b,label\n1,2,0\n3,4,1\n", None).unwrap();
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn another_separator_is_named() {
        for (sep, name) in [(';', "semicolon"), ('\t', "tab")] {
            let text = format!("a{sep}b{sep}label\n1{sep}2{sep}0\n3{sep}4{sep}1\n");
            let m = err(&text, None);
            assert!(m.contains(name) && m.contains("comma"), "{m}");
            // Decimal commas with ; separators (a European spreadsheet's export).
            let text = format!("1,5{sep}2{sep}0\n3{sep}4,25{sep}1\n");
            let m = err(&text, None);
            assert!(m.contains(name), "{m}");
        }
    }

    #[test]
    fn messages_carry_the_files_line_numbers() {
        // Line 5 is the third sample (a header, a comment and a blank line come first).
        let m = err("a,b,label\n# c\n\n1,2,0\n3,x,1\n", None);
        assert!(m.contains("line 5"), "{m}");
        // A label beyond the others' range: 0..3 and a stray 7.
        let text = "1,2,0\n1,2,1\n# c\n1,2,2\n1,2,3\n1,2,7\n1,2,0\n";
        let m = err(text, None);
        assert!(
            m.contains("label 7 on line 6") && m.contains("4 classes") && m.contains("4..6"),
            "{m}"
        );
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
