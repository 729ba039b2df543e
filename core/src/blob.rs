//! The firmware blob: a network of any depth and a labelled sample set in one small, versioned,
//! checksummed little-endian byte string, read without heap on the device and written without
//! heap on the host (`vatic export-firmware`). One reader ([`parse`]) and one writer
//! ([`write()`]) for both.
//!
//! # Format (version 2)
//!
//! All integers and floats little-endian; `f32` as IEEE-754 bits. `L` is the number of dense
//! layers (hidden layers + 1).
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `b"VATC"` |
//! | 4 | 2 | format version (`2`) |
//! | 6 | 1 | hidden activation, [`Activation::code`] |
//! | 7 | 1 | `L` (1 – 255) |
//! | 8 | 4 | number of parameters `P` (`Σ_l w_{l+1} (w_l + 1)`) |
//! | 12 | 4 | number of samples `n` |
//! | 16 | 4 · (L + 1) | the widths `w_0 = IN, w_1, …, w_L = OUT` |
//! | 20 + 4L | 4 · P | parameters, in [`Parameters::tensors`](crate::Parameters::tensors) order (`nn.Sequential`: `W0` row-major `[w_1][w_0]`, `b0`, `W1`, …) |
//! | … | n · 4 · (IN + 1) | samples: `IN` × `f32`, then the label as `u32` |
//! | end − 4 | 4 | CRC-32 (IEEE 802.3, as zlib's `crc32`) of every byte before it |
//!
//! **Version 1** blobs (one or two hidden layers, written by vatic 0.1) are still read: their
//! 32-byte header (`hidden layers` at 6, activation at 7, then `IN`, `H1`, `H2`, `OUT`, `P`,
//! `n` as `u32`) describes the same parameters and samples. [`write()`] writes version 2 only.
//!
//! # Examples
//!
//! ```
//! use vatic::{blob, Activation, Mlp, Rng};
//!
//! let net: Mlp<2, 4, 2> = Mlp::new(Activation::Tanh, &mut Rng::new(1));
//! let (xs, ys) = ([0.5, -1.0, /* */ 1.0, 0.25], [1, 0]);
//! let mut buf = [0u8; blob::len(&[2, 4, 2], 2)];
//! let len = blob::write(&net, &xs, &ys, &mut buf)?;
//!
//! let mut loaded = Mlp::<2, 4, 2>::ZERO;
//! let samples = blob::parse(&buf[..len], &mut loaded)?;
//! assert_eq!(loaded, net);
//! let (mut xs2, mut ys2) = ([0.0; 4], [0; 2]);
//! assert_eq!(samples.read_into(&mut xs2, &mut ys2), Ok(2));
//! assert_eq!((xs2, ys2), (xs, ys));
//! # Ok::<(), vatic::Error>(())
//! ```
//!
//! A blob is checked in this order, so the error names the first thing wrong: length of the
//! header ([`Error::Truncated`]), magic ([`Error::BadMagic`]), version
//! ([`Error::UnsupportedVersion`]), total length ([`Error::Truncated`]), checksum
//! ([`Error::ChecksumMismatch`]), activation, widths and parameter count
//! ([`Error::InvalidModel`]), shape against the receiving network ([`Error::ShapeMismatch`]),
//! finite parameters ([`Error::InvalidModel`]), samples ([`Error::NonFiniteInput`],
//! [`Error::LabelOutOfRange`]).

use crate::error::{Error, Result};
use crate::{Activation, Network};

/// The first four bytes of every blob.
pub const MAGIC: [u8; 4] = *b"VATC";
/// The format version [`write()`] writes.
pub const VERSION: u16 = 2;
/// Bytes of the trailing checksum.
pub const CHECKSUM_LEN: usize = 4;
/// Bytes of the fixed part of a version-2 header (before the widths).
const FIXED_LEN: usize = 16;
/// Bytes of a version-1 header.
const V1_LEN: usize = 32;

/// What a blob's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header<'a> {
    /// The format version (1 or 2).
    pub version: u16,
    /// Hidden activation.
    pub activation: Activation,
    /// Number of parameters.
    pub params: u32,
    /// Number of samples.
    pub samples: u32,
    /// Bytes before the parameters.
    pub len: usize,
    widths: Widths<'a>,
}

/// Where a header keeps its widths: a version-2 list, or version 1's four fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Widths<'a> {
    List(&'a [u8]),
    V1([u32; 4], u8),
}

impl Header<'_> {
    /// Number of dense layers `L`.
    pub fn depth(&self) -> usize {
        match self.widths {
            Widths::List(b) => (b.len() / 4).saturating_sub(1),
            Widths::V1(_, hidden) => usize::from(hidden) + 1,
        }
    }

    /// Width `l` (`0` is the input, `depth()` the classes; 0 past the end).
    pub fn width(&self, l: usize) -> usize {
        match self.widths {
            Widths::List(b) => u32_at(b, 4 * l).map_or(0, |v| v as usize),
            Widths::V1([i, h1, h2, o], hidden) => match (l, hidden) {
                (0, _) => i as usize,
                (1, _) => h1 as usize,
                (2, 2) => h2 as usize,
                (2, 1) | (3, 2) => o as usize,
                _ => 0,
            },
        }
    }

    /// The widths `w_0 … w_L`.
    pub fn widths(&self) -> impl Iterator<Item = usize> + '_ {
        (0..=self.depth()).map(|l| self.width(l))
    }

    /// Input width.
    pub fn inputs(&self) -> usize {
        self.width(0)
    }

    /// Number of classes.
    pub fn outputs(&self) -> usize {
        self.width(self.depth())
    }
}

/// The byte length of a version-2 blob of a network with these widths and `samples` samples
/// (usable for a buffer's size: `[0u8; len(&[64, 32, 10], 64)]`).
///
/// # Panics
///
/// At compile time (in a `const`) or run time when the widths are empty or the length
/// overflows `usize`.
pub const fn len(widths: &[usize], samples: usize) -> usize {
    match checked_len(widths, samples) {
        Some(n) => n,
        None => panic!("blob length overflows usize or has no widths"),
    }
}

/// [`len`] without the panic: `None` for fewer than two widths or an overflow.
pub const fn checked_len(widths: &[usize], samples: usize) -> Option<usize> {
    if widths.len() < 2 {
        return None;
    }
    let mut params = 0usize;
    let mut l = 0;
    while l + 1 < widths.len() {
        let Some(p) = widths[l].checked_add(1) else {
            return None;
        };
        let Some(p) = p.checked_mul(widths[l + 1]) else {
            return None;
        };
        let Some(p) = params.checked_add(p) else {
            return None;
        };
        params = p;
        l += 1;
    }
    let head = FIXED_LEN + 4 * widths.len();
    body_len(head, widths[0], params, samples)
}

/// `head + 4 · params + samples · 4 · (input + 1) + CHECKSUM_LEN`.
const fn body_len(head: usize, input: usize, params: usize, samples: usize) -> Option<usize> {
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
    let Some(t) = (head + CHECKSUM_LEN).checked_add(p) else {
        return None;
    };
    t.checked_add(s)
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

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn f32_at(bytes: &[u8], at: usize) -> Option<f32> {
    u32_at(bytes, at).map(f32::from_bits)
}

/// Validates a blob up to its checksum and returns its header.
///
/// # Errors
///
/// [`Error::Truncated`], [`Error::BadMagic`], [`Error::UnsupportedVersion`],
/// [`Error::ChecksumMismatch`], [`Error::InvalidModel`] (unknown activation, no layers, a zero
/// width, or a parameter count that does not match the widths), in that order.
pub fn parse_header(bytes: &[u8]) -> Result<Header<'_>> {
    if bytes.get(..4) != Some(&MAGIC[..]) {
        return Err(if bytes.len() < 4 && MAGIC.starts_with(bytes) {
            Error::Truncated
        } else {
            Error::BadMagic
        });
    }
    let field = |at| u32_at(bytes, at).ok_or(Error::Truncated);
    let version = match bytes.get(4..6) {
        Some(&[a, b]) => u16::from_le_bytes([a, b]),
        _ => return Err(Error::Truncated),
    };
    let (code, header) = match version {
        1 => {
            let head = bytes.get(..V1_LEN).ok_or(Error::Truncated)?;
            let dims = [field(8)?, field(12)?, field(16)?, field(20)?];
            let h = Header {
                version,
                activation: Activation::Relu,
                params: field(24)?,
                samples: field(28)?,
                len: V1_LEN,
                widths: Widths::V1(dims, head[6]),
            };
            (head[7], h)
        }
        2 => {
            let fixed = bytes.get(..FIXED_LEN).ok_or(Error::Truncated)?;
            let len = FIXED_LEN + 4 * (usize::from(fixed[7]) + 1);
            let widths = bytes.get(FIXED_LEN..len).ok_or(Error::Truncated)?;
            let h = Header {
                version,
                activation: Activation::Relu,
                params: field(8)?,
                samples: field(12)?,
                len,
                widths: Widths::List(widths),
            };
            (fixed[6], h)
        }
        _ => return Err(Error::UnsupportedVersion),
    };
    let total = body_len(
        header.len,
        header.inputs(),
        header.params as usize,
        header.samples as usize,
    )
    .ok_or(Error::Truncated)?;
    if bytes.len() != total {
        return Err(Error::Truncated);
    }
    let (body, sum) = bytes.split_at(total - CHECKSUM_LEN);
    if Some(crc32(body)) != u32_at(sum, 0) {
        return Err(Error::ChecksumMismatch);
    }
    let activation = Activation::from_code(code).ok_or(Error::InvalidModel)?;
    let valid_depth = match header.widths {
        Widths::List(_) => header.depth() >= 1,
        Widths::V1([_, _, h2, _], hidden) => hidden == 2 || (hidden == 1 && h2 == 0),
    };
    // Σ w_{l+1} (w_l + 1), checked: widths near u32::MAX overflow even a u64 sum (found by
    // the blob fuzz target), which panicked with overflow checks and wrapped to a wrong
    // count without them. An overflow is a count no blob can declare.
    let mut count = Some(0u64);
    for l in 0..header.depth() {
        let (a, b) = (header.width(l) as u64, header.width(l + 1) as u64);
        count = count.and_then(|c| b.checked_mul(a + 1).and_then(|t| c.checked_add(t)));
    }
    if !valid_depth || header.widths().any(|w| w == 0) || count != Some(u64::from(header.params)) {
        return Err(Error::InvalidModel);
    }
    Ok(Header {
        activation,
        ..header
    })
}

/// Reads a blob into `net` (parameters and activation) and returns its samples. `net` must
/// have the blob's widths: a compile-time [`Net`](crate::Net) of that shape, or a
/// [`Sequential`](crate::Sequential) built from [`Header::widths`] with
/// [`Header::params`] parameters.
///
/// On error `net` may hold part of the blob's parameters: discard it.
///
/// # Errors
///
/// Those of [`parse_header`]; [`Error::ShapeMismatch`] when `net` has other widths;
/// [`Error::InvalidModel`] for a non-finite parameter; [`Error::NonFiniteInput`] or
/// [`Error::LabelOutOfRange`] for a bad sample.
pub fn parse<'a, N: Network + ?Sized>(bytes: &'a [u8], net: &mut N) -> Result<Samples<'a>> {
    let h = parse_header(bytes)?;
    if net.depth() != h.depth() || (0..=h.depth()).any(|l| net.width(l) != h.width(l)) {
        return Err(Error::ShapeMismatch);
    }
    net.set_activation(h.activation);
    let mut at = h.len;
    for t in net.tensors_mut() {
        for v in t.iter_mut() {
            let x = f32_at(bytes, at).ok_or(Error::Truncated)?;
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
        inputs: h.inputs(),
        remaining: h.samples as usize,
    };
    // Validate every sample now, so reading cannot fail.
    let classes = h.outputs();
    for (i, (x, y)) in samples.clone().enumerate() {
        if !x.clone().all(f32::is_finite) {
            return Err(Error::NonFiniteInput { sample: i });
        }
        if y >= classes {
            return Err(Error::LabelOutOfRange {
                sample: i,
                label: y,
            });
        }
    }
    Ok(samples)
}

/// The samples of a validated blob: `(features, label)` in stored order.
#[derive(Debug, Clone)]
pub struct Samples<'a> {
    bytes: &'a [u8],
    inputs: usize,
    remaining: usize,
}

impl Samples<'_> {
    /// Copies every sample into `xs [n · IN]` and `ys [n]`; returns `n`.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] when the buffers are not exactly `n` samples long.
    pub fn read_into(self, xs: &mut [f32], ys: &mut [usize]) -> Result<usize> {
        let n = self.remaining;
        if xs.len() != n * self.inputs || ys.len() != n {
            return Err(Error::LengthMismatch);
        }
        let rows = xs.chunks_exact_mut(self.inputs.max(1));
        for ((row, y), (x, label)) in rows.zip(ys.iter_mut()).zip(self) {
            for (d, v) in row.iter_mut().zip(x) {
                *d = v;
            }
            *y = label;
        }
        Ok(n)
    }
}

/// One stored sample's features, read from the blob's bytes.
#[derive(Debug, Clone)]
pub struct Features<'a> {
    bytes: core::slice::ChunksExact<'a, u8>,
}

impl Iterator for Features<'_> {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        self.bytes
            .next()
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.bytes.size_hint()
    }
}

impl ExactSizeIterator for Features<'_> {}

impl<'a> Iterator for Samples<'a> {
    type Item = (Features<'a>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let (x, rest) = self.bytes.split_at_checked(4 * self.inputs)?;
        let y = u32_at(rest, 0)? as usize;
        self.bytes = rest.get(4..)?;
        self.remaining -= 1;
        Some((
            Features {
                bytes: x.chunks_exact(4),
            },
            y,
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Samples<'_> {}

/// Appends bytes to a buffer sized by [`len`] (a write past its end is dropped, which cannot
/// happen when the length was computed from the same sizes).
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

/// Writes `net` and the samples `xs [n · IN]`, `ys [n]` as a version-2 blob into `buf`;
/// returns the length ([`len`] of the widths and `n`).
///
/// # Errors
///
/// [`Error::BufferTooSmall`] when `buf` is shorter than the blob, [`Error::LengthMismatch`]
/// when `xs` is not `ys.len()` samples, [`Error::TooLarge`] when the network has more than 255
/// layers or a size does not fit in `u32`.
pub fn write<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    ys: &[usize],
    buf: &mut [u8],
) -> Result<usize> {
    let depth = net.depth();
    let layers = u8::try_from(depth).map_err(|_| Error::TooLarge)?;
    let input = net.width(0);
    if xs.len() != ys.len() * input {
        return Err(Error::LengthMismatch);
    }
    let u = |v: usize| u32::try_from(v).map_err(|_| Error::TooLarge);
    let params = net.count();
    let head = FIXED_LEN + 4 * (depth + 1);
    let total = body_len(head, input, params, ys.len()).ok_or(Error::TooLarge)?;
    let too_small = Error::BufferTooSmall {
        needed: total,
        got: buf.len(),
    };
    let mut w = Cursor {
        buf: buf.get_mut(..total).ok_or(too_small)?,
        at: 0,
    };
    w.put(&MAGIC);
    w.put(&VERSION.to_le_bytes());
    w.put(&[net.activation().code(), layers]);
    w.put(&u(params)?.to_le_bytes());
    w.put(&u(ys.len())?.to_le_bytes());
    for l in 0..=depth {
        w.put(&u(net.width(l))?.to_le_bytes());
    }
    for t in net.tensors() {
        for v in t {
            w.put(&v.to_le_bytes());
        }
    }
    for (x, &y) in xs.chunks_exact(input.max(1)).zip(ys) {
        for v in x {
            w.put(&v.to_le_bytes());
        }
        w.put(&u(y)?.to_le_bytes());
    }
    let sum = crc32(w.buf.get(..w.at).ok_or(too_small)?);
    w.put(&sum.to_le_bytes());
    Ok(w.at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mlp, Mlp2, Mlp3, Parameters, Rng, Sequential};

    const LEN: usize = len(&[3, 4, 2], 2);
    const HEADER: usize = FIXED_LEN + 12;
    const XS: [f32; 6] = [0.5, -1.0, 2.0, 0.0, 1.5, -0.25];
    const YS: [usize; 2] = [1, 0];

    fn blob() -> ([u8; LEN], Mlp<3, 4, 2>) {
        let net: Mlp<3, 4, 2> = Mlp::new(Activation::Tanh, &mut Rng::new(5));
        let mut buf = [0u8; LEN];
        assert_eq!(write(&net, &XS, &YS, &mut buf), Ok(LEN));
        (buf, net)
    }

    /// Recomputes the checksum after an edit, so the parser reaches the later checks.
    fn reseal(buf: &mut [u8]) {
        let end = buf.len() - 4;
        let sum = crc32(&buf[..end]);
        buf[end..].copy_from_slice(&sum.to_le_bytes());
    }

    fn parse3(buf: &[u8]) -> Result<(Mlp<3, 4, 2>, usize)> {
        let mut net = Mlp::ZERO;
        let n = parse(buf, &mut net)?.len();
        Ok((net, n))
    }

    /// Hex to bytes, for the fuzz target's reproducers.
    fn hex(s: &str) -> [u8; 64] {
        let mut out = [0u8; 64];
        let digits = s.bytes().filter(u8::is_ascii_hexdigit);
        let val = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
        let mut it = digits;
        let mut i = 0;
        while let (Some(a), Some(b)) = (it.next(), it.next()) {
            out[i] = val(a) << 4 | val(b);
            i += 1;
        }
        out
    }

    #[test]
    fn a_parameter_count_that_overflows_is_refused() {
        // Found by the blob fuzz target (host/fuzz/README.md): widths near u32::MAX overflowed
        // the u64 sum Σ w_{l+1} (w_l + 1) — a panic with overflow checks, and without them a
        // wrapped count that accepted a 32-byte blob of widths [2³² − 1, 2³² − 1, 1].
        let v1 = hex(
            "56415443 0100 0200 6600003c ffffffff 2400ffec 00000000 00000000 00000000 6373f1dc",
        );
        let v2 = hex("56415443 0200 01 02 00000000 00000000 ffffffff ffffffff 01000000 9d0f8379");
        for (bytes, len) in [(&v1[..36], 36), (&v2[..32], 32)] {
            let mut b = [0u8; 64];
            b[..len].copy_from_slice(bytes);
            reseal(&mut b[..len]);
            assert!(
                matches!(
                    parse_header(&b[..len]),
                    Err(Error::InvalidModel | Error::Truncated)
                ),
                "{:?}",
                parse_header(&b[..len]).map(|h| h.params)
            );
        }
    }

    #[test]
    fn round_trip() {
        let (buf, net) = blob();
        let mut loaded = Mlp::<3, 4, 2>::ZERO;
        let (mut xs, mut ys) = ([0.0; 6], [0; 2]);
        parse(&buf, &mut loaded)
            .unwrap()
            .read_into(&mut xs, &mut ys)
            .unwrap();
        assert_eq!(loaded, net);
        assert_eq!((xs, ys), (XS, YS));
        let h = parse_header(&buf).unwrap();
        assert_eq!(h.params as usize, <Mlp<3, 4, 2> as crate::Zeroed>::COUNT);
        let mut w = [0; 3];
        for (d, v) in w.iter_mut().zip(h.widths()) {
            *d = v;
        }
        assert_eq!((w, h.depth(), h.samples, h.version), ([3, 4, 2], 2, 2, 2));
    }

    #[test]
    fn any_depth_round_trips_through_a_run_time_network() {
        let net: Mlp3<3, 5, 1, 6, 2> = Mlp3::new(Activation::Relu, &mut Rng::new(2));
        let mut buf = [0u8; len(&[3, 5, 1, 6, 2], 2)];
        let n = write(&net, &XS, &YS, &mut buf).unwrap();
        assert_eq!(n, buf.len());
        let mut params = [0.0f32; 5 * 4 + 6 + 6 * 2 + 2 * 7];
        let mut seq = Sequential::new([3, 5, 1, 6, 2], &mut params[..], Activation::Tanh).unwrap();
        assert_eq!(parse(&buf, &mut seq).unwrap().len(), 2);
        assert_eq!(seq.activation(), Activation::Relu);
        assert!(seq.tensors().flatten().eq(net.tensors().flatten()));
        // A four-layer blob is not a two-layer network.
        assert_eq!(parse3(&buf).unwrap_err(), Error::ShapeMismatch);
        let mut two = Mlp2::<3, 5, 1, 2>::ZERO;
        assert_eq!(parse(&buf, &mut two).unwrap_err(), Error::ShapeMismatch);
    }

    #[test]
    fn version_1_blobs_still_parse() {
        // A v1 blob as vatic 0.1 wrote it: 32-byte header, same parameters and samples.
        let (v2, net) = blob();
        let mut v1 = [0u8; LEN - HEADER + V1_LEN];
        v1[..4].copy_from_slice(&MAGIC);
        v1[4..6].copy_from_slice(&1u16.to_le_bytes());
        v1[6] = 1;
        v1[7] = Activation::Tanh.code();
        for (k, v) in [3u32, 4, 0, 2, 26, 2].iter().enumerate() {
            v1[8 + 4 * k..12 + 4 * k].copy_from_slice(&v.to_le_bytes());
        }
        v1[V1_LEN..].copy_from_slice(&v2[HEADER..]);
        reseal(&mut v1);
        let (loaded, n) = parse3(&v1).unwrap();
        assert_eq!((loaded, n), (net, 2));
        assert_eq!(parse_header(&v1).unwrap().version, 1);
    }

    #[test]
    fn every_flipped_bit_is_caught() {
        let (buf, _) = blob();
        for i in 0..LEN {
            for bit in 0..8 {
                let mut b = buf;
                b[i] ^= 1 << bit;
                assert!(
                    parse3(&b).is_err(),
                    "flip of bit {bit} in byte {i} accepted"
                );
            }
        }
    }

    #[test]
    fn corruptions_name_their_cause() {
        let (buf, _) = blob();
        assert_eq!(parse3(&buf).map(|(_, n)| n), Ok(2));

        let mut b = buf;
        b[0] = b'X';
        assert_eq!(parse3(&b).unwrap_err(), Error::BadMagic);
        assert_eq!(parse3(b"ELF").unwrap_err(), Error::BadMagic);
        assert_eq!(parse3(b"VA").unwrap_err(), Error::Truncated);
        assert_eq!(parse3(&[]).unwrap_err(), Error::Truncated);

        let mut b = buf;
        b[4] = 3;
        assert_eq!(parse3(&b).unwrap_err(), Error::UnsupportedVersion);

        assert_eq!(parse3(&buf[..LEN - 1]).unwrap_err(), Error::Truncated);
        assert_eq!(parse3(&buf[..HEADER - 1]).unwrap_err(), Error::Truncated);
        let mut long = [0u8; LEN + 1];
        long[..LEN].copy_from_slice(&buf);
        assert_eq!(parse3(&long).unwrap_err(), Error::Truncated);

        let mut b = buf;
        b[HEADER + 5] ^= 0x10;
        assert_eq!(parse3(&b).unwrap_err(), Error::ChecksumMismatch);

        let mut b = buf;
        b[6] = 9; // activation code
        reseal(&mut b);
        assert_eq!(parse3(&b).unwrap_err(), Error::InvalidModel);

        let mut b = buf;
        b[FIXED_LEN + 4] = 5; // a hidden width that disagrees with the parameter count
        reseal(&mut b);
        assert_eq!(parse3(&b).unwrap_err(), Error::InvalidModel);

        let mut b = buf;
        b[HEADER..HEADER + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        reseal(&mut b);
        assert_eq!(parse3(&b).unwrap_err(), Error::InvalidModel);

        let s0 = LEN - 4 - 2 * 16; // first sample
        let mut b = buf;
        b[s0 + 16 + 4..s0 + 16 + 8].copy_from_slice(&f32::INFINITY.to_le_bytes());
        reseal(&mut b);
        assert_eq!(parse3(&b).unwrap_err(), Error::NonFiniteInput { sample: 1 });

        let mut b = buf;
        b[s0 + 12..s0 + 16].copy_from_slice(&7u32.to_le_bytes());
        reseal(&mut b);
        assert_eq!(
            parse3(&b).unwrap_err(),
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
        assert_eq!(parse(&buf, &mut other).unwrap_err(), Error::ShapeMismatch);
        let mut other = Mlp::<3, 4, 3>::ZERO;
        assert_eq!(parse(&buf, &mut other).unwrap_err(), Error::ShapeMismatch);
    }

    #[test]
    fn writer_checks_its_buffer() {
        let net = Mlp::<3, 4, 2>::ZERO;
        let mut small = [0u8; LEN - 1];
        assert_eq!(
            write(&net, &XS, &YS, &mut small),
            Err(Error::BufferTooSmall {
                needed: LEN,
                got: LEN - 1
            })
        );
        let mut buf = [0u8; LEN];
        assert_eq!(
            write(&net, &XS, &YS[..1], &mut buf),
            Err(Error::LengthMismatch)
        );
    }

    #[test]
    fn writer_refuses_what_the_format_cannot_hold() {
        // 256 layers of width 1: the layer count is a u8.
        let widths = [1usize; 257];
        let mut params = [0.5f32; 2 * 256];
        let deep = Sequential::new(&widths[..], &mut params[..], Activation::Relu).unwrap();
        let mut buf = [0u8; 4096];
        assert_eq!(write(&deep, &[0.0], &[0], &mut buf), Err(Error::TooLarge));
        // A label beyond u32.
        let net = Mlp::<3, 4, 2>::ZERO;
        let mut buf = [0u8; LEN];
        if let Ok(big) = usize::try_from(u64::from(u32::MAX) + 1) {
            assert_eq!(write(&net, &XS, &[0, big], &mut buf), Err(Error::TooLarge));
        }
    }

    #[test]
    fn crc_reference_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
