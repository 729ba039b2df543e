//! The caller-owned scratch memory of the batch functions.
//!
//! Every function that runs a network takes `ws: &mut [f32]`, a workspace it carves into
//! traces, deltas and per-sample rows, so vatic never allocates and never needs more stack
//! than a few scalars per call. Its size is [`Shape::workspace_len`](crate::Shape) of the
//! block: a constant for a compile-time network ([`Net::WORKSPACE`](crate::Net::WORKSPACE),
//! so a firmware places it in a `static` and the linker counts it), a function of the widths
//! for a [`Sequential`](crate::Sequential). A larger workspace processes more samples per read
//! of each weight matrix.

use crate::error::{Error, Result};
use crate::Shape;

/// Samples per block that `ws` holds for `shape`.
///
/// # Errors
///
/// [`Error::WorkspaceTooSmall`] when it holds less than one sample.
#[inline]
pub(crate) fn block(shape: &Shape, ws: &[f32]) -> Result<usize> {
    match shape.block(ws.len()) {
        0 => Err(Error::WorkspaceTooSmall),
        b => Ok(b),
    }
}

/// Splits the front of `buf` into `K` disjoint slices of the given lengths (`None` when `buf`
/// is too short).
#[inline]
pub(crate) fn carve<T, const K: usize>(buf: &mut [T], lens: [usize; K]) -> Option<[&mut [T]; K]> {
    let total = lens.iter().try_fold(0usize, |a, &l| a.checked_add(l))?;
    if buf.len() < total {
        return None;
    }
    let mut rest = buf;
    Some(lens.map(|l| {
        let (head, tail) = core::mem::take(&mut rest)
            .split_at_mut_checked(l)
            .unwrap_or_default();
        rest = tail;
        head
    }))
}
