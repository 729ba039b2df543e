//! The errors vatic's boundaries return.

use core::fmt;

/// Why a call was refused. Small and `Copy`; returned only at boundaries (arguments, data,
/// model blobs), never from inside the numeric loops, which cannot fail once inputs are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// A perturbation radius ε was negative or not finite.
    InvalidEpsilon,
    /// The finite-difference step ξ was not strictly positive and finite.
    InvalidXi,
    /// An iteration count was zero where at least one is needed.
    ZeroIterations,
    /// A weight such as α was outside its range (`[0, 1]` for adversarial training, finite
    /// and non-negative for loss and regulariser weights).
    InvalidWeight,
    /// A sample contained NaN or ±∞.
    NonFiniteInput {
        /// Index of the offending sample in its batch.
        sample: usize,
    },
    /// A label was not below the number of classes.
    LabelOutOfRange {
        /// Index of the offending sample in its batch.
        sample: usize,
        /// The label found.
        label: usize,
    },
    /// A batch was empty where at least one sample is needed.
    EmptyBatch,
    /// Two slices that must have the same length did not.
    LengthMismatch,
    /// A clip range had `min > max` or a non-finite bound.
    InvalidRange,
    /// A model blob did not start with the expected magic bytes.
    BadMagic,
    /// A model blob has a format version this build cannot read.
    UnsupportedVersion,
    /// A network, model blob or buffer has another shape than the one expected (widths,
    /// parameter count).
    ShapeMismatch,
    /// A network or data set is larger than the blob format can describe: more than 255
    /// layers, or a width, parameter count, sample count, label or byte length beyond `u32`
    /// (or `usize`).
    TooLarge,
    /// An output buffer cannot hold the result: it has room for `got` elements (bytes of a
    /// blob, samples of a store, radii of a sweep) and `needed` are needed.
    BufferTooSmall {
        /// Elements the result needs.
        needed: usize,
        /// Elements the buffer holds.
        got: usize,
    },
    /// A model blob ended before its declared size, or has trailing bytes.
    Truncated,
    /// A model blob's checksum does not match its content.
    ChecksumMismatch,
    /// A model blob has an unknown activation code or a non-finite parameter.
    InvalidModel,
    /// Network widths that describe no network: fewer than two, or a zero width.
    InvalidShape,
    /// A workspace smaller than one sample's [`Shape::per_sample`](crate::Shape::per_sample).
    WorkspaceTooSmall,
    /// An optimiser or attack setting was out of its range (the field is named, e.g. `"lr"`:
    /// learning rates finite and `> 0`, momenta and `β` in `[0, 1)`, decays finite and `> 0`).
    InvalidSetting {
        /// The setting's field name, as in its settings struct.
        name: &'static str,
    },
    /// A network parameter was NaN or ±∞ (see [`Parameters::check_finite`](crate::Parameters::check_finite)).
    NonFiniteParameter {
        /// Index of the tensor in `nn.Sequential` order: `2l` is layer `l`'s weight, `2l + 1`
        /// its bias.
        tensor: usize,
        /// Index of the value in the flattened (row-major) tensor.
        index: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::InvalidEpsilon => f.write_str("epsilon must be finite and >= 0"),
            Error::InvalidXi => f.write_str("xi must be finite and > 0"),
            Error::ZeroIterations => f.write_str("the number of iterations must be at least 1"),
            Error::InvalidWeight => {
                f.write_str("a weight is out of range (alpha in [0, 1], loss weights >= 0)")
            }
            Error::NonFiniteInput { sample } => {
                write!(f, "sample {sample} contains NaN or infinity")
            }
            Error::LabelOutOfRange { sample, label } => {
                write!(
                    f,
                    "sample {sample} has label {label}, not below the number of classes"
                )
            }
            Error::EmptyBatch => f.write_str("the batch is empty"),
            Error::LengthMismatch => f.write_str("slices that must have the same length differ"),
            Error::InvalidRange => f.write_str("the clip range must be finite with min <= max"),
            Error::BadMagic => f.write_str("not a vatic model blob (bad magic)"),
            Error::UnsupportedVersion => f.write_str("unsupported model blob version"),
            Error::ShapeMismatch => {
                f.write_str("the model blob's shape differs from the compiled network")
            }
            Error::TooLarge => {
                f.write_str("too large for the blob format (at most 255 layers, sizes below 2^32)")
            }
            Error::BufferTooSmall { needed, got } => {
                write!(f, "the buffer holds {got} elements but {needed} are needed")
            }
            Error::Truncated => f.write_str("the model blob is truncated or has trailing bytes"),
            Error::ChecksumMismatch => f.write_str("the model blob's checksum does not match"),
            Error::InvalidModel => {
                f.write_str("the model blob has an unknown activation or non-finite parameters")
            }
            Error::InvalidShape => f.write_str(
                "a network needs at least an input and an output width, none of them zero",
            ),
            Error::WorkspaceTooSmall => {
                f.write_str("the workspace is smaller than Shape::workspace_len(1)")
            }
            Error::InvalidSetting { name } => write!(f, "the setting `{name}` is out of range"),
            Error::NonFiniteParameter { tensor, index } => write!(
                f,
                "parameter {index} of layer {} {} is NaN or infinite",
                tensor / 2,
                if tensor % 2 == 0 { "weight" } else { "bias" }
            ),
        }
    }
}

impl core::error::Error for Error {}

/// `Result` with vatic's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
