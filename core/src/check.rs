//! Argument validation shared by the public entry points.

use crate::error::{Error, Result};

/// A batch of samples `xs [n · width]` with `n ≥ 1`, every value finite, and, when labels are
/// given, one label per sample, each `< classes`. Returns `n`.
pub(crate) fn batch(
    xs: &[f32],
    width: usize,
    ys: Option<&[usize]>,
    classes: usize,
) -> Result<usize> {
    let n = crate::pass::rows_of(xs, width)?;
    for (i, x) in xs.chunks_exact(width.max(1)).enumerate() {
        if !x.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFiniteInput { sample: i });
        }
    }
    if let Some(ys) = ys {
        if ys.len() != n {
            return Err(Error::LengthMismatch);
        }
        for (i, &y) in ys.iter().enumerate() {
            if y >= classes {
                return Err(Error::LabelOutOfRange {
                    sample: i,
                    label: y,
                });
            }
        }
    }
    Ok(n)
}

/// A perturbation radius: finite and `≥ 0`.
pub(crate) fn epsilon(eps: f32) -> Result<()> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidEpsilon)
    }
}

/// A loss weight: finite and `≥ 0`.
pub(crate) fn weight(w: f32) -> Result<()> {
    if w.is_finite() && w >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidWeight)
    }
}
