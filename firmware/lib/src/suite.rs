//! Everything a board runs, in order: one function per processor class. The board binaries and
//! the host tests both call these, so they compute exactly the same thing.

use core::fmt::{self, Write};

use crate::config::{m0, m0_model, m4f, m4f_model};
use crate::{model, probe, Tally};

/// The Cortex-M4F suite (QEMU `mps2-an386`, nRF52840-DK).
///
/// # Errors
///
/// Only the sink's; the checks' outcome is in the returned-through `tally`.
pub fn m4f<W: Write>(out: &mut W, tally: &mut Tally) -> fmt::Result {
    probe::run::<{ m4f::IN }, { m4f::H }, { m4f::OUT }, _>(&m4f::PROBE, out, tally)?;
    use m4f_model as m;
    model::run::<{ m::IN }, { m::H }, { m::OUT }, { m::SAMPLES }, { m::RING }, { m::COPY }, _>(
        m::BLOB,
        &m::CONFIG,
        out,
        tally,
    )
}

/// The Cortex-M0 suite (QEMU `microbit`, 16 KB of RAM): smaller networks.
///
/// # Errors
///
/// Only the sink's.
pub fn m0<W: Write>(out: &mut W, tally: &mut Tally) -> fmt::Result {
    probe::run::<{ m0::IN }, { m0::H }, { m0::OUT }, _>(&m0::PROBE, out, tally)?;
    use m0_model as m;
    model::run::<{ m::IN }, { m::H }, { m::OUT }, { m::SAMPLES }, { m::RING }, { m::COPY }, _>(
        m::BLOB,
        &m::CONFIG,
        out,
        tally,
    )
}
