//! Everything a board runs, in order: one function per processor class, and the RAM it runs
//! in. The board binaries and the host tests both call these, so they compute exactly the same
//! thing.
//!
//! ## RAM
//!
//! A suite's networks, gradients, optimiser state, samples and pass workspace live in one value
//! of [`M4fRam`] / [`M0Ram`], which the caller owns: on a device a `static` (cortex-m-rt's
//! `#[entry]` turns a `static mut` declared at the top of `main` into a `&'static mut`, with no
//! `unsafe`), so the linker's `.bss` is that RAM and the stack holds only scalars, short vectors
//! and the text formatting. The phases run one after the other, so they share the memory: the
//! value is an enum with one variant per phase, and entering a phase (`ram.probe()`,
//! `ram.model()`, …) replaces whatever the previous one left with that phase's all-zero state.
//! Its size is the largest phase's (a 16 KB micro:bit could not hold them side by side).

use core::fmt::{self, Write};

use crate::config::{m0, m0_kernel, m0_model, m4f, m4f_deep, m4f_kernel, m4f_model};
use crate::{model, probe, Tally};

/// Declares a suite's RAM: an enum with an `Idle` variant (all bytes zero, so a `static` of it
/// is `.bss`) and one variant per phase, each entered by a method that resets it.
macro_rules! ram {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident($ty:ty) => $enter:ident,)* }) => {
        $(#[$doc])*
        // `repr(u64)`: an explicit tag, 0 for `Idle` (a niche in a phase's fields could make the
        // idle value non-zero, and the static `.data`), as wide as the phases' alignment (8: the
        // certificates' f64 workspace) so that no padding follows it: entering a phase is then
        // one `memset` of the static, without a temporary copy of the state on the stack (with
        // a narrower tag LLVM builds it on the stack, which overflows the M0's).
        #[repr(u64)]
        #[allow(clippy::large_enum_variant)] // one variant at a time, in a static
        #[derive(Debug)]
        pub enum $name {
            /// No phase yet.
            Idle,
            $($(#[$vdoc])* $variant($ty),)*
        }

        impl $name {
            /// No phase yet (usable in a `static`).
            pub const IDLE: Self = Self::Idle;

            $(
                /// Enters this phase: its state, reset to all zeros.
                #[inline(never)]
                pub fn $enter(&mut self) -> &mut $ty {
                    *self = Self::$variant(<$ty>::ZERO);
                    match self {
                        Self::$variant(s) => s,
                        _ => unreachable!("the variant was just written"),
                    }
                }
            )*
        }
    };
}

ram! {
    /// The RAM of the Cortex-M4F suite ([`m4f()`], [`crate::bench::m4f`]), one phase at a time.
    M4fRam {
        /// The self-test ([`probe`]) of the 64-32-10 network.
        Probe(m4f::State) => probe,
        /// The stored 16-32-4 model ([`model`]).
        Model(m4f_model::State) => model,
        /// The stored 16-24-16-8-4 model.
        Deep(m4f_deep::State) => deep,
        /// The 64×32 dense kernels' counts ([`crate::bench::kernels`]).
        Kernels(m4f_kernel::State) => kernels,
    }
}

ram! {
    /// The RAM of the Cortex-M0 suite ([`m0()`], [`crate::bench::m0`]), one phase at a time.
    M0Ram {
        /// The self-test ([`probe`]) of the 16-8-4 network.
        Probe(m0::State) => probe,
        /// The stored 8-16-2 model ([`model`]).
        Model(m0_model::State) => model,
        /// The 32×32 dense kernels' counts ([`crate::bench::kernels`]).
        Kernels(m0_kernel::State) => kernels,
    }
}

/// The Cortex-M4F suite (QEMU `mps2-an386`, nRF52840-DK): the probe, the stored one- and
/// three-hidden-layer models.
///
/// # Errors
///
/// Only the sink's; the checks' outcome is in the returned-through `tally`.
pub fn m4f<W: Write>(ram: &mut M4fRam, out: &mut W, tally: &mut Tally) -> fmt::Result {
    probe::run(&m4f::PROBE, ram.probe(), out, tally)?;
    model::run(m4f_model::BLOB, &m4f_model::CONFIG, ram.model(), out, tally)?;
    model::run(m4f_deep::BLOB, &m4f_deep::CONFIG, ram.deep(), out, tally)
}

/// The Cortex-M0 suite (QEMU `microbit`, 16 KB of RAM): smaller networks.
///
/// # Errors
///
/// Only the sink's.
pub fn m0<W: Write>(ram: &mut M0Ram, out: &mut W, tally: &mut Tally) -> fmt::Result {
    probe::run(&m0::PROBE, ram.probe(), out, tally)?;
    model::run(m0_model::BLOB, &m0_model::CONFIG, ram.model(), out, tally)
}
