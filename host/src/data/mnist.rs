//! MNIST in its original IDX format (users bring the files): `train-images-idx3-ubyte`,
//! `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, optionally
//! gzip-compressed (`.gz`). Pixels 0..255 are scaled to [0, 1].
//!
//! IDX: a big-endian header `0x00 0x00 type ndim`, then `ndim` big-endian `u32` dimensions, then
//! the data. Images are type `0x08` (unsigned byte) with 3 dimensions (magic `0x00000803`),
//! labels type `0x08` with 1 dimension (magic `0x00000801`).

use super::{Dataset, TrainTest};
use anyhow::{bail, ensure, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

fn be_u32(bytes: &[u8], at: usize, what: &str) -> Result<u32> {
    match bytes.get(at..at + 4) {
        Some(b) => Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        None => bail!(
            "{what}: the file ends inside its header ({} bytes)",
            bytes.len()
        ),
    }
}

/// Parses an IDX image file: returns `(count, rows, cols, pixels)`.
///
/// # Errors
///
/// Wrong magic, a truncated header, zero dimensions, or a data length that does not equal
/// `count · rows · cols`.
pub fn parse_images(bytes: &[u8]) -> Result<(usize, usize, usize, &[u8])> {
    let magic = be_u32(bytes, 0, "images")?;
    if magic != IMAGES_MAGIC {
        bail!(
            "images: bad magic 0x{magic:08x}, expected 0x{IMAGES_MAGIC:08x} (IDX, unsigned bytes, \
             3 dimensions); is this a labels file, or still gzip-compressed without a .gz name?"
        );
    }
    let n = be_u32(bytes, 4, "images")? as usize;
    let rows = be_u32(bytes, 8, "images")? as usize;
    let cols = be_u32(bytes, 12, "images")? as usize;
    ensure!(
        n > 0 && rows > 0 && cols > 0,
        "images: a dimension is zero ({n}×{rows}×{cols})"
    );
    let want = n
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .context("images: the dimensions overflow")?;
    let data = &bytes[16..];
    ensure!(
        data.len() == want,
        "images: the header declares {n} images of {rows}×{cols} = {want} bytes, but the file \
         holds {} bytes of data",
        data.len()
    );
    Ok((n, rows, cols, data))
}

/// Parses an IDX label file.
///
/// # Errors
///
/// Wrong magic, a truncated header, a length that does not equal the declared count, or a label
/// above 9.
pub fn parse_labels(bytes: &[u8]) -> Result<&[u8]> {
    let magic = be_u32(bytes, 0, "labels")?;
    if magic != LABELS_MAGIC {
        bail!(
            "labels: bad magic 0x{magic:08x}, expected 0x{LABELS_MAGIC:08x} (IDX, unsigned bytes, \
             1 dimension); is this an images file?"
        );
    }
    let n = be_u32(bytes, 4, "labels")? as usize;
    let data = &bytes[8..];
    ensure!(
        data.len() == n,
        "labels: the header declares {n} labels but the file holds {} bytes of data",
        data.len()
    );
    if let Some((i, &l)) = data.iter().enumerate().find(|(_, &l)| l > 9) {
        bail!("labels: label {i} is {l}, MNIST labels are 0..9");
    }
    Ok(data)
}

/// Builds a data set from the bytes of an image file and a label file.
///
/// # Errors
///
/// As [`parse_images`] and [`parse_labels`], and when the counts differ.
pub fn parse(images: &[u8], labels: &[u8]) -> Result<Dataset> {
    let (n, rows, cols, pixels) = parse_images(images)?;
    let labels = parse_labels(labels)?;
    ensure!(
        labels.len() == n,
        "{n} images but {} labels: the files do not belong together",
        labels.len()
    );
    let x = pixels.iter().map(|&p| f32::from(p) / 255.0).collect();
    let y = labels.iter().map(|&l| usize::from(l)).collect();
    Dataset::new(rows * cols, 10, x, y)
}

/// Reads a file, decompressing it when its name ends in `.gz`.
fn read(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .with_context(|| format!("{} is not valid gzip", path.display()))?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Finds `stem` or `stem.gz` in `dir`.
fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    for name in [stem.to_string(), format!("{stem}.gz")] {
        let p = dir.join(&name);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!(
        "{} has no {stem} (or {stem}.gz); mnist:DIR needs the four IDX files \
         train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, \
         t10k-labels-idx1-ubyte",
        dir.display()
    )
}

/// Loads the training and test sets from a directory with the four IDX files.
///
/// # Errors
///
/// Missing files, or whatever [`parse`] reports (named with the file).
pub fn load_dir(dir: &Path) -> Result<TrainTest> {
    let pair = |img: &str, lab: &str| -> Result<Dataset> {
        let (pi, pl) = (find(dir, img)?, find(dir, lab)?);
        parse(&read(&pi)?, &read(&pl)?)
            .with_context(|| format!("reading {} and {}", pi.display(), pl.display()))
    };
    Ok(TrainTest {
        train: pair("train-images-idx3-ubyte", "train-labels-idx1-ubyte")?,
        test: pair("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?,
        domain: Some(vatic::attack::Clip::UNIT),
    })
}

/// Encodes images and labels as IDX bytes (for tests and for users who want to write subsets).
pub fn encode(rows: usize, cols: usize, pixels: &[u8], labels: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut img = IMAGES_MAGIC.to_be_bytes().to_vec();
    for d in [labels.len(), rows, cols] {
        img.extend_from_slice(&(d as u32).to_be_bytes());
    }
    img.extend_from_slice(pixels);
    let mut lab = LABELS_MAGIC.to_be_bytes().to_vec();
    lab.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    lab.extend_from_slice(labels);
    (img, lab)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> (Vec<u8>, Vec<u8>) {
        let pixels: Vec<u8> = (0..3 * 2 * 2).map(|i| (i * 20) as u8).collect();
        encode(2, 2, &pixels, &[3, 9, 0])
    }

    #[test]
    fn parses_tiny_files() {
        let (img, lab) = tiny();
        let d = parse(&img, &lab).unwrap();
        assert_eq!((d.len(), d.features, d.classes), (3, 4, 10));
        assert_eq!(d.y, vec![3, 9, 0]);
        assert_eq!(d.row(1)[0], 80.0 / 255.0);
    }

    fn err(img: &[u8], lab: &[u8]) -> String {
        parse(img, lab).unwrap_err().to_string()
    }

    #[test]
    fn explains_bad_files() {
        let (img, lab) = tiny();
        assert!(err(&lab, &lab).contains("bad magic"));
        assert!(err(&img, &img).contains("bad magic"));
        assert!(err(&img[..10], &lab).contains("header"));
        assert!(err(&img[..img.len() - 1], &lab).contains("holds"));
        assert!(err(&img, &lab[..lab.len() - 1]).contains("holds"));
        let (img2, lab2) = encode(2, 2, &[0; 8], &[1, 2]);
        assert!(err(&img, &lab2).contains("do not belong"));
        let (_, bad) = encode(2, 2, &[0; 8], &[1, 12]);
        assert!(err(&img2, &bad).contains("0..9"));
        let (zero, _) = encode(0, 2, &[], &[1]);
        assert!(err(&zero, &lab).contains("zero"));
        assert!(err(&[], &lab).contains("header"));
    }

    #[test]
    fn loads_a_directory_plain_and_gzipped() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let (img, lab) = tiny();
        std::fs::write(dir.path().join("train-images-idx3-ubyte"), &img).unwrap();
        std::fs::write(dir.path().join("train-labels-idx1-ubyte"), &lab).unwrap();
        let e = load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("t10k-images-idx3-ubyte"), "{e}");
        for (name, bytes) in [
            ("t10k-images-idx3-ubyte.gz", &img),
            ("t10k-labels-idx1-ubyte.gz", &lab),
        ] {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(bytes).unwrap();
            std::fs::write(dir.path().join(name), gz.finish().unwrap()).unwrap();
        }
        let tt = load_dir(dir.path()).unwrap();
        assert_eq!(tt.train, tt.test);
    }
}
