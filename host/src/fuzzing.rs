//! The bodies of the fuzz targets in `host/fuzz/` (one per parser), kept in the library so the
//! stable test suite can also run them on random and mutated inputs (`tests/fuzz_smoke.rs`).
//!
//! Each takes arbitrary bytes and must return (`Ok` or `Err`) without panicking.

use vatic::{Network, Rng};

/// The CSV loader on arbitrary text.
pub fn csv(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = crate::data::csv::parse(text, None);
        let _ = crate::data::csv::parse(text, Some(0));
    }
}

/// The MNIST IDX parser: the first byte gives the length of the image file, the rest of the
/// input after it is the label file.
pub fn idx(bytes: &[u8]) {
    let Some((&first, rest)) = bytes.split_first() else {
        return;
    };
    let (a, b) = rest.split_at(usize::from(first).min(rest.len()));
    let _ = crate::data::mnist::parse(a, b);
    let _ = crate::data::mnist::parse_images(bytes);
    let _ = crate::data::mnist::parse_labels(bytes);
}

/// The safetensors model loader.
pub fn safetensors(bytes: &[u8]) {
    if let Ok(loaded) = crate::model_io::read(bytes) {
        // Whatever loads must save and load back to the same network.
        if let Ok(again) = crate::model_io::write(&loaded.model, &[]) {
            if let Ok(back) = crate::model_io::read(&again) {
                assert_eq!(back.model, loaded.model);
            }
        }
    }
}

/// The core's firmware blob parser (`vatic::blob`), for whatever shape the blob declares: a
/// run-time network is built from the header's widths (as the firmware and `vatic` do), and
/// whatever the parser accepts must hold finite parameters and valid samples. A network of
/// other widths must be refused.
///
/// A random mutation almost always breaks the blob's trailing CRC-32, and the parser checks the
/// checksum before the activation, widths, parameter count, parameters and samples; so the
/// input is parsed as it is (which exercises the checks up to the checksum, the checksum
/// itself included) and then once more with its last four bytes replaced by the CRC-32 of the
/// bytes before them ([`with_fixed_checksum`]), which takes every mutation to the checks after
/// the checksum.
pub fn blob(bytes: &[u8]) {
    blob_checks(bytes);
    // Without the magic the parser stops before the checksum either way.
    if !bytes.starts_with(&vatic::blob::MAGIC) {
        return;
    }
    if let Some(fixed) = with_fixed_checksum(bytes) {
        if fixed != bytes {
            blob_checks(&fixed);
        }
    }
}

/// `bytes` with its last [`vatic::blob::CHECKSUM_LEN`] bytes set to the little-endian CRC-32
/// ([`vatic::blob::crc32`]) of the bytes before them, as [`vatic::blob::write`] writes it;
/// `None` when `bytes` is too short to hold a checksum.
pub fn with_fixed_checksum(bytes: &[u8]) -> Option<Vec<u8>> {
    let body = bytes.len().checked_sub(vatic::blob::CHECKSUM_LEN)?;
    let mut fixed = bytes.to_vec();
    let sum = vatic::blob::crc32(&fixed[..body]);
    fixed[body..].copy_from_slice(&sum.to_le_bytes());
    Some(fixed)
}

/// The checks of [`blob`] on one input.
fn blob_checks(bytes: &[u8]) {
    let Ok(header) = vatic::blob::parse_header(bytes) else {
        return;
    };
    let widths: Vec<usize> = header.widths().collect();
    // The header was checked against the blob's length, so the parameters fit in it.
    let params = vec![0.0; header.params as usize];
    let Ok(mut net) = crate::models::Net::new(widths.clone(), params, vatic::Activation::Relu)
    else {
        panic!("parse_header accepted widths {widths:?} that make no network");
    };
    if let Ok(samples) = vatic::blob::parse(bytes, &mut net) {
        assert!(vatic::Parameters::is_finite(&net));
        assert_eq!(net.activation(), header.activation);
        let n = samples.len();
        let classes = header.outputs();
        for (x, y) in samples.clone() {
            assert!(x.len() == header.inputs() && y < classes);
            for v in x {
                assert!(v.is_finite());
            }
        }
        let (mut xs, mut ys) = (vec![0.0; n * header.inputs()], vec![0; n]);
        assert_eq!(samples.read_into(&mut xs, &mut ys), Ok(n));
        // What parses writes back to the same bytes.
        let mut again = vec![0u8; bytes.len()];
        if header.version == vatic::blob::VERSION {
            assert_eq!(
                vatic::blob::write(&net, &xs, &ys, &mut again),
                Ok(bytes.len())
            );
            assert_eq!(again, bytes);
        }
    }
    // A network of other widths is refused.
    let mut other = widths;
    other[0] += 1;
    if let Some(n) = crate::models::Net::param_count(&other) {
        if let Ok(mut net) = crate::models::Net::new(other, vec![0.0; n], vatic::Activation::Relu) {
            assert!(vatic::blob::parse(bytes, &mut net).is_err());
        }
    }
}

/// The `vatic inspect` input parser (JSON with the batch and hyper-parameters).
pub fn inspect_input(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = crate::inspect::parse_input(text);
    }
}

/// A deterministic mutation of `seed_input`: flips, overwrites, truncations and insertions.
pub fn mutate(seed_input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = seed_input.to_vec();
    let edits = 1 + rng.below(8);
    for _ in 0..edits {
        let len = v.len() as u32;
        match rng.below(5) {
            0 if len > 0 => {
                let i = rng.below(len) as usize;
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len) as usize;
                v[i] = rng.next_u32() as u8;
            }
            2 => v.truncate(rng.below(len + 1) as usize),
            3 => {
                let i = rng.below(len + 1) as usize;
                v.insert(i, rng.next_u32() as u8);
            }
            _ => {
                // Interesting values in the header region.
                if v.len() >= 8 {
                    let i = rng.below(len - 3) as usize;
                    let val = [0u32, 1, 0xffff_ffff, 0x7fff_ffff, 0x0000_0803, 0x0000_0801]
                        [rng.below(6) as usize];
                    v[i..i + 4].copy_from_slice(&val.to_be_bytes());
                }
            }
        }
    }
    v
}
