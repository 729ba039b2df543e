//! Argument validation shared by the public entry points.

use crate::error::{Error, Result};

/// Every sample finite, and, when labels are given, as many labels as samples, each `< classes`.
pub(crate) fn batch<const IN: usize>(
    xs: &[[f32; IN]],
    ys: Option<&[usize]>,
    classes: usize,
) -> Result<()> {
    if xs.is_empty() {
        return Err(Error::EmptyBatch);
    }
    for (i, x) in xs.iter().enumerate() {
        if !x.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFiniteInput { sample: i });
        }
    }
    if let Some(ys) = ys {
        if ys.len() != xs.len() {
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
    Ok(())
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
