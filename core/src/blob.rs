//! The firmware blob: a network and a labelled sample set in one small, versioned, checksummed
//! little-endian byte string, read without heap on the device and written without heap on the
//! host (`vatic export-firmware`).
//!
//! # Format (version 1)
//!
//! All integers and floats little-endian; `f32` as IEEE-754 bits.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `b"VATC"` |
//! | 4 | 2 | format version (`1`) |
//! | 6 | 1 | number of hidden layers (1 for [`Mlp`], 2 for [`Mlp2`]) |
//! | 7 | 1 | hidden activation, [`Activation::code`] |
//! | 8 | 4 | `IN` |
//! | 12 | 4 | first hidden width |
//! | 16 | 4 | second hidden width (0 with one hidden layer) |
//! | 20 | 4 | `OUT` |
//! | 24 | 4 | number of parameters ([`Parameters::COUNT`]) |
//! | 28 | 4 | number of samples `n` |
//! | 32 | 4 · COUNT | parameters, in [`Parameters::tensors`] order (weights row-major `[out][in]`) |
//! | … | n · 4 · (IN + 1) | samples: `IN` × `f32`, then the label as `u32` |
//! | end − 4 | 4 | CRC-32 (IEEE 802.3, as zlib's `crc32`) of every byte before it |
//!
//! # Examples
//!
//! ```
//! use vatic::{blob, Activation, Mlp, Parameters, Rng};
//!
//! let net: Mlp<2, 4, 2> = Mlp::new(Activation::Tanh, &mut Rng::new(1));
//! let (xs, ys) = ([[0.5, -1.0], [1.0, 0.25]], [1, 0]);
//! let mut buf = [0u8; blob::mlp_len(2, 4, 2, 2)];
//! let len = blob::write_mlp(&net, &xs, &ys, &mut buf)?;
//!
//! let mut loaded = Mlp::<2, 4, 2>::ZERO;
//! let samples = blob::parse_mlp(&buf[..len], &mut loaded)?;
//! assert_eq!(loaded, net);
//! assert_eq!(samples.len(), 2);
//! for (i, (x, y)) in samples.enumerate() {
//!     assert_eq!((x, y), (xs[i], ys[i]));
//! }
//! # Ok::<(), vatic::Error>(())
//! ```
//!
//! A blob is checked in this order, so the error names the first thing wrong: length of the
//! header ([`Error::Truncated`]), magic ([`Error::BadMagic`]), version
//! ([`Error::UnsupportedVersion`]), total length ([`Error::Truncated`]), checksum
//! ([`Error::ChecksumMismatch`]), activation and parameter count ([`Error::InvalidModel`]),
//! shape against the compiled network ([`Error::ShapeMismatch`]), finite parameters
//! ([`Error::InvalidModel`]), samples ([`Error::NonFiniteInput`], [`Error::LabelOutOfRange`]).

use crate::error::{Error, Result};
use crate::{Activation, Mlp, Mlp2, Parameters};

/// The first four bytes of every blob.
pub const MAGIC: [u8; 4] = *b"VATC";
/// The format version this build reads and writes.
pub const VERSION: u16 = 1;
/// Bytes before the parameters.
pub const HEADER_LEN: usize = 32;
/// Bytes of the trailing checksum.
pub const CHECKSUM_LEN: usize = 4;

/// What a blob's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header {
    /// Number of hidden layers (1 or 2).
    pub hidden_layers: u8,
    /// Hidden activation.
    pub activation: Activation,
    /// Input width.
    pub input: u32,
    /// Hidden widths (the second is 0 with one hidden layer).
    pub hidden: [u32; 2],
    /// Number of classes.
    pub output: u32,
    /// Number of parameters.
    pub params: u32,
    /// Number of samples.
    pub samples: u32,
}

/// The byte length of a blob: header, `params` parameters, `samples` samples of `input`
/// features, checksum. `None` on overflow.
pub const fn blob_len(input: usize, params: usize, samples: usize) -> Option<usize> {
    let Some(p) = params.checked_mul(4) else {
        return None;
    };
    let Some(per) = input.checked_add(1) else {
        return None;
    };
    let Some(per) = per.checked_mul(4) else {
        return None;
    };
    let Some(s) = per.checked_mul(samples) else {
        return None;
    };
    let Some(t) = (HEADER_LEN + CHECKSUM_LEN).checked_add(p) else {
        return None;
    };
    t.checked_add(s)
}

/// The byte length of a blob of an `Mlp<input, hidden, output>` with `samples` samples
/// (usable for a buffer's size: `[0u8; mlp_len(…)]`).
///
/// # Panics
///
/// At compile time (in a `const`) or run time when the length overflows `usize`.
pub const fn mlp_len(input: usize, hidden: usize, output: usize, samples: usize) -> usize {
    let params = hidden * (input + 1) + output * (hidden + 1);
    match blob_len(input, params, samples) {
        Some(n) => n,
        None => panic!("blob length overflows usize"),
    }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial `0xEDB88320`; the value zlib's `crc32` gives),
/// bit by bit: no table, 8 shifts per byte.
///
/// ```
/// assert_eq!(vatic::blob::crc32(b"123456789"), 0xCBF4_3926);
/// ```
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32> {
    let b = bytes.get(at..at + 4).ok_or(Error::Truncated)?;
    let mut a = [0u8; 4];
    a.copy_from_slice(b);
    Ok(u32::from_le_bytes(a))
}

fn f32_at(bytes: &[u8], at: usize) -> Result<f32> {
    u32_at(bytes, at).map(f32::from_bits)
}

/// Validates a blob up to its checksum and returns its header.
///
/// # Errors
///
/// [`Error::Truncated`], [`Error::BadMagic`], [`Error::UnsupportedVersion`],
/// [`Error::ChecksumMismatch`], [`Error::InvalidModel`] (unknown activation, hidden-layer count
/// or a parameter count that does not match the widths), in that order.
pub fn parse_header(bytes: &[u8]) -> Result<Header> {
    if bytes.get(..4) != Some(&MAGIC[..]) {
        return Err(if bytes.len() < 4 && MAGIC.starts_with(bytes) {
            Error::Truncated
        } else {
            Error::BadMagic
        });
    }
    let head = bytes.get(..HEADER_LEN).ok_or(Error::Truncated)?;
    let version = u16::from_le_bytes([head[4], head[5]]);
    if version != VERSION {
        return Err(Error::UnsupportedVersion);
    }
    let hidden_layers = head[6];
    let code = head[7];
    let input = u32_at(head, 8)?;
    let hidden = [u32_at(head, 12)?, u32_at(head, 16)?];
    let output = u32_at(head, 20)?;
    let params = u32_at(head, 24)?;
    let samples = u32_at(head, 28)?;
    let len =
        blob_len(input as usize, params as usize, samples as usize).ok_or(Error::Truncated)?;
    if bytes.len() != len {
        return Err(Error::Truncated);
    }
    let (body, sum) = bytes.split_at(len - CHECKSUM_LEN);
    if crc32(body) != u32_at(sum, 0)? {
        return Err(Error::ChecksumMismatch);
    }
    let activation = Activation::from_code(code).ok_or(Error::InvalidModel)?;
    let (i, h1, h2, o) = (
        u64::from(input),
        u64::from(hidden[0]),
        u64::from(hidden[1]),
        u64::from(output),
    );
    let count = match hidden_layers {
        1 if h2 == 0 => h1 * (i + 1) + o * (h1 + 1),
        2 => h1 * (i + 1) + h2 * (h1 + 1) + o * (h2 + 1),
        _ => return Err(Error::InvalidModel),
    };
    if count != u64::from(params) {
        return Err(Error::InvalidModel);
    }
    Ok(Header {
        hidden_layers,
        activation,
        input,
        hidden,
        output,
        params,
        samples,
    })
}

/// Loads the parameters of a validated blob into `net` and returns the samples.
fn load<'a, N: Parameters, const IN: usize>(
    bytes: &'a [u8],
    header: &Header,
    out: usize,
    net: &mut N,
) -> Result<Samples<'a, IN>> {
    let mut at = HEADER_LEN;
    for t in net.tensors_mut() {
        for v in t.iter_mut() {
            let x = f32_at(bytes, at)?;
            if !x.is_finite() {
                return Err(Error::InvalidModel);
            }
            *v = x;
            at += 4;
        }
    }
    let end = bytes.len() - CHECKSUM_LEN;
    let samples = Samples {
        bytes: bytes.get(at..end).ok_or(Error::Truncated)?,
        remaining: header.samples as usize,
    };
    // Validate every sample now, so iterating cannot fail.
    for (i, (x, y)) in samples.clone().enumerate() {
        if !x.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFiniteInput { sample: i });
        }
        if y >= out {
            return Err(Error::LabelOutOfRange {
                sample: i,
                label: y,
            });
        }
    }
    Ok(samples)
}

/// Reads a blob into a one-hidden-layer network `net` (parameters and activation) and returns
/// its samples.
///
/// On error `net` may hold part of the blob's parameters: discard it.
///
/// # Errors
///
/// Those of [`parse_header`]; [`Error::ShapeMismatch`] when the blob's network is not an
/// `Mlp<IN, H, OUT>`; [`Error::InvalidModel`] for a non-finite parameter;
/// [`Error::NonFiniteInput`] or [`Error::LabelOutOfRange`] for a bad sample.
pub fn parse_mlp<'a, const IN: usize, const H: usize, const OUT: usize>(
    bytes: &'a [u8],
    net: &mut Mlp<IN, H, OUT>,
) -> Result<Samples<'a, IN>> {
    let h = parse_header(bytes)?;
    if h.hidden_layers != 1
        || h.input as usize != IN
        || h.hidden[0] as usize != H
        || h.output as usize != OUT
    {
        return Err(Error::ShapeMismatch);
    }
    net.activation = h.activation;
    load(bytes, &h, OUT, net)
}

/// [`parse_mlp`] for a two-hidden-layer network.
///
/// # Errors
///
/// As [`parse_mlp`].
pub fn parse_mlp2<'a, const IN: usize, const H1: usize, const H2: usize, const OUT: usize>(
    bytes: &'a [u8],
    net: &mut Mlp2<IN, H1, H2, OUT>,
) -> Result<Samples<'a, IN>> {
    let h = parse_header(bytes)?;
    if h.hidden_layers != 2
        || h.input as usize != IN
        || h.hidden[0] as usize != H1
        || h.hidden[1] as usize != H2
        || h.output as usize != OUT
    {
        return Err(Error::ShapeMismatch);
    }
    net.activation = h.activation;
    load(bytes, &h, OUT, net)
}

/// The samples of a validated blob: `(features, label)` in stored order.
#[derive(Debug, Clone)]
pub struct Samples<'a, const IN: usize> {
    bytes: &'a [u8],
    remaining: usize,
}

impl<const IN: usize> Iterator for Samples<'_, IN> {
    type Item = ([f32; IN], usize);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let mut x = [0.0; IN];
        for (i, v) in x.iter_mut().enumerate() {
            *v = f32_at(self.bytes, 4 * i).ok()?;
        }
        let y = u32_at(self.bytes, 4 * IN).ok()? as usize;
        self.bytes = self.bytes.get(4 * (IN + 1)..)?;
        self.remaining -= 1;
        Some((x, y))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<const IN: usize> ExactSizeIterator for Samples<'_, IN> {}

/// Writes header, parameters and samples into `buf` and returns the length written.
fn write<N: Parameters, const IN: usize>(
    shape: (u8, Activation, [usize; 4]),
    net: &N,
    xs: &[[f32; IN]],
    ys: &[usize],
    buf: &mut [u8],
) -> Result<usize> {
    let (layers, activation, [input, h1, h2, output]) = shape;
    if xs.len() != ys.len() {
        return Err(Error::LengthMismatch);
    }
    let n = u32::try_from(xs.len()).map_err(|_| Error::InvalidModel)?;
    let u = |v: usize| u32::try_from(v).map_err(|_| Error::InvalidModel);
    let len = blob_len(input, N::COUNT, xs.len()).ok_or(Error::InvalidModel)?;
    let mut w = Cursor {
        buf: buf.get_mut(..len).ok_or(Error::Truncated)?,
        at: 0,
    };
    w.put(&MAGIC);
    w.put(&VERSION.to_le_bytes());
    w.put(&[layers, activation.code()]);
    for v in [input, h1, h2, output, N::COUNT] {
        w.put(&u(v)?.to_le_bytes());
    }
    w.put(&n.to_le_bytes());
    for t in net.tensors() {
        for v in t {
            w.put(&v.to_le_bytes());
        }
    }
    for (x, &y) in xs.iter().zip(ys) {
        for v in x {
            w.put(&v.to_le_bytes());
        }
        w.put(&u(y)?.to_le_bytes());
    }
    let sum = crc32(w.buf.get(..w.at).ok_or(Error::Truncated)?);
    w.put(&sum.to_le_bytes());
    Ok(w.at)
}

/// Appends bytes to a buffer sized by [`blob_len`] (a write past its end is dropped, which
/// cannot happen when the length was computed from the same sizes).
struct Cursor<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.at..self.at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        self.at += bytes.len();
    }
}

/// Writes `net` and the samples `(xs, ys)` as a blob into `buf`; returns the length
/// ([`mlp_len`]`(IN, H, OUT, xs.len())`).
///
/// # Errors
///
/// [`Error::Truncated`] when `buf` is too short, [`Error::LengthMismatch`] when
/// `xs.len() != ys.len()`, [`Error::InvalidModel`] when a size does not fit in `u32`.
pub fn write_mlp<const IN: usize, const H: usize, const OUT: usize>(
    net: &Mlp<IN, H, OUT>,
    xs: &[[f32; IN]],
    ys: &[usize],
    buf: &mut [u8],
) -> Result<usize> {
    write((1, net.activation, [IN, H, 0, OUT]), net, xs, ys, buf)
}

/// [`write_mlp`] for a two-hidden-layer network.
///
/// # Errors
///
/// As [`write_mlp`].
pub fn write_mlp2<const IN: usize, const H1: usize, const H2: usize, const OUT: usize>(
    net: &Mlp2<IN, H1, H2, OUT>,
    xs: &[[f32; IN]],
    ys: &[usize],
    buf: &mut [u8],
) -> Result<usize> {
    write((2, net.activation, [IN, H1, H2, OUT]), net, xs, ys, buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;

    const LEN: usize = mlp_len(3, 4, 2, 2);
    const XS: [[f32; 3]; 2] = [[0.5, -1.0, 2.0], [0.0, 1.5, -0.25]];
    const YS: [usize; 2] = [1, 0];

    fn blob() -> ([u8; LEN], Mlp<3, 4, 2>) {
        let net: Mlp<3, 4, 2> = Mlp::new(Activation::Tanh, &mut Rng::new(5));
        let mut buf = [0u8; LEN];
        assert_eq!(write_mlp(&net, &XS, &YS, &mut buf), Ok(LEN));
        (buf, net)
    }

    /// Recomputes the checksum after an edit, so the parser reaches the later checks.
    fn reseal(buf: &mut [u8]) {
        let end = buf.len() - 4;
        let sum = crc32(&buf[..end]);
        buf[end..].copy_from_slice(&sum.to_le_bytes());
    }

    fn parse(buf: &[u8]) -> Result<(Mlp<3, 4, 2>, usize)> {
        let mut net = Mlp::ZERO;
        let n = parse_mlp(buf, &mut net)?.len();
        Ok((net, n))
    }

    #[test]
    fn round_trip() {
        let (buf, net) = blob();
        let mut loaded = Mlp::<3, 4, 2>::ZERO;
        let samples: [([f32; 3], usize); 2] = {
            let mut it = parse_mlp(&buf, &mut loaded).unwrap();
            [it.next().unwrap(), it.next().unwrap()]
        };
        assert_eq!(loaded, net);
        assert_eq!(samples, [(XS[0], YS[0]), (XS[1], YS[1])]);
        let h = parse_header(&buf).unwrap();
        assert_eq!(h.params as usize, <Mlp<3, 4, 2>>::COUNT);
        assert_eq!((h.input, h.hidden, h.output, h.samples), (3, [4, 0], 2, 2));
    }

    #[test]
    fn round_trip_two_hidden_layers() {
        let net: Mlp2<3, 4, 5, 2> = Mlp2::new(Activation::Relu, &mut Rng::new(2));
        let mut buf = [0u8; 512];
        let len = write_mlp2(&net, &XS, &YS, &mut buf).unwrap();
        let mut loaded = Mlp2::<3, 4, 5, 2>::ZERO.with_activation(Activation::Tanh);
        assert_eq!(parse_mlp2(&buf[..len], &mut loaded).unwrap().len(), 2);
        assert_eq!(loaded, net);
        // A two-layer blob is not a one-layer network.
        assert_eq!(parse(&buf[..len]).unwrap_err(), Error::ShapeMismatch);
    }

    #[test]
    fn every_flipped_bit_is_caught() {
        let (buf, _) = blob();
        for i in 0..LEN {
            for bit in 0..8 {
                let mut b = buf;
                b[i] ^= 1 << bit;
                assert!(parse(&b).is_err(), "flip of bit {bit} in byte {i} accepted");
            }
        }
    }

    #[test]
    fn corruptions_name_their_cause() {
        let (buf, _) = blob();
        assert_eq!(parse(&buf).map(|(_, n)| n), Ok(2));

        let mut b = buf;
        b[0] = b'X';
        assert_eq!(parse(&b).unwrap_err(), Error::BadMagic);
        assert_eq!(parse(b"ELF").unwrap_err(), Error::BadMagic);
        assert_eq!(parse(b"VA").unwrap_err(), Error::Truncated);
        assert_eq!(parse(&[]).unwrap_err(), Error::Truncated);

        let mut b = buf;
        b[4] = 2;
        assert_eq!(parse(&b).unwrap_err(), Error::UnsupportedVersion);

        assert_eq!(parse(&buf[..LEN - 1]).unwrap_err(), Error::Truncated);
        assert_eq!(parse(&buf[..HEADER_LEN - 1]).unwrap_err(), Error::Truncated);
        let mut long = [0u8; LEN + 1];
        long[..LEN].copy_from_slice(&buf);
        assert_eq!(parse(&long).unwrap_err(), Error::Truncated);

        let mut b = buf;
        b[HEADER_LEN + 5] ^= 0x10;
        assert_eq!(parse(&b).unwrap_err(), Error::ChecksumMismatch);

        let mut b = buf;
        b[7] = 9; // activation code
        reseal(&mut b);
        assert_eq!(parse(&b).unwrap_err(), Error::InvalidModel);

        let mut b = buf;
        b[12] = 5; // a hidden width that disagrees with the parameter count
        reseal(&mut b);
        assert_eq!(parse(&b).unwrap_err(), Error::InvalidModel);

        let mut b = buf;
        b[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        reseal(&mut b);
        assert_eq!(parse(&b).unwrap_err(), Error::InvalidModel);

        let s0 = LEN - 4 - 2 * 16; // first sample
        let mut b = buf;
        b[s0 + 16 + 4..s0 + 16 + 8].copy_from_slice(&f32::INFINITY.to_le_bytes());
        reseal(&mut b);
        assert_eq!(parse(&b).unwrap_err(), Error::NonFiniteInput { sample: 1 });

        let mut b = buf;
        b[s0 + 12..s0 + 16].copy_from_slice(&7u32.to_le_bytes());
        reseal(&mut b);
        assert_eq!(
            parse(&b).unwrap_err(),
            Error::LabelOutOfRange {
                sample: 0,
                label: 7
            }
        );
    }

    #[test]
    fn shape_mismatch() {
        let (buf, _) = blob();
        let mut other = Mlp::<3, 5, 2>::ZERO;
        assert_eq!(
            parse_mlp(&buf, &mut other).unwrap_err(),
            Error::ShapeMismatch
        );
        let mut other = Mlp::<3, 4, 3>::ZERO;
        assert_eq!(
            parse_mlp(&buf, &mut other).unwrap_err(),
            Error::ShapeMismatch
        );
    }

    #[test]
    fn writer_checks_its_buffer() {
        let net = Mlp::<3, 4, 2>::ZERO;
        let mut small = [0u8; LEN - 1];
        assert_eq!(write_mlp(&net, &XS, &YS, &mut small), Err(Error::Truncated));
        let mut buf = [0u8; LEN];
        assert_eq!(
            write_mlp(&net, &XS, &YS[..1], &mut buf),
            Err(Error::LengthMismatch)
        );
    }

    #[test]
    fn crc_reference_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
