//! The stored model: the blob `vatic export-firmware` wrote, embedded in flash, and its network
//! type. Change the widths here (and the blob in `model/`) for another model.

use vatic::blob::{self, Samples};
use vatic::Error;

/// Input width: 8×8 digit images.
pub const IN: usize = 64;
/// Hidden width.
pub const H: usize = 32;
/// Classes.
pub const OUT: usize = 10;

/// The network: 64-32-10, its weights in nested arrays, so `size_of::<Net>()` (9 644 bytes) is
/// the RAM it takes.
pub type Net = vatic::Mlp<IN, H, OUT>;

/// The model and its test samples, as `vatic export-firmware` wrote them (`model/make-model`).
/// It stays in flash; the samples are read from it one at a time.
pub static BLOB: &[u8] = include_bytes!("../model/model.vatc");

/// Parses [`BLOB`] into `net` (checksum, shape, finite parameters, valid samples) and returns
/// the samples, still in flash.
///
/// # Errors
///
/// [`vatic::blob::parse`]'s: a blob for another shape is [`Error::ShapeMismatch`].
#[inline(never)] // its own frame: the stack is measured
pub fn load(net: &mut Net) -> Result<Samples<'static>, Error> {
    blob::parse(BLOB, net)
}

/// Copies one stored sample's features into `x`; returns its label.
pub fn read(sample: (blob::Features<'_>, usize), x: &mut [f32; IN]) -> usize {
    let (features, y) = sample;
    for (d, v) in x.iter_mut().zip(features) {
        *d = v;
    }
    y
}

/// A short name for a load error (the report has no `core::fmt`).
pub fn error_name(e: &Error) -> &'static str {
    match e {
        Error::Truncated => "truncated blob",
        Error::BadMagic => "not a vatic blob (bad magic)",
        Error::UnsupportedVersion => "unsupported blob version",
        Error::ChecksumMismatch => "checksum mismatch",
        Error::InvalidModel => "invalid model",
        Error::ShapeMismatch => "the blob's network is not 64-32-10 (change model.rs)",
        Error::NonFiniteInput { .. } => "non-finite sample",
        Error::LabelOutOfRange { .. } => "label out of range",
        _ => "invalid input",
    }
}
