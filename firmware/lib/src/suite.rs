//! Everything a board runs, in order: one [`Profile`] per class of device ([`M4f`], [`M0`]),
//! with the RAM it runs in. The boards and the host tests are generic over it
//! (`P::check(ram, out, tally)`), so they compute exactly the same thing.
//!
//! ## RAM
//!
//! A suite's networks, gradients, optimiser state, samples and pass workspace live in one value
//! of [`Ram<P>`](Ram) ([`M4fRam`] / [`M0Ram`]), which the caller owns: on a device a `static`
//! (cortex-m-rt's `#[entry]` turns a `static mut` declared at the top of `main` into a
//! `&'static mut`, with no `unsafe`), so the linker's `.bss` is that RAM and the stack holds
//! only scalars, short vectors and the text formatting. The phases run one after the other, so
//! they share the memory: the value is an enum with one variant per phase, and entering a phase
//! (`ram.probe()`, `ram.model()`, …) replaces whatever the previous one left with that phase's
//! all-zero state. Its size is the largest phase's (a 16 KB micro:bit could not hold them side
//! by side).

use core::fmt::{self, Write};

use crate::bench::{self, Counter};
use crate::config::{m0, m4f};
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
    /// The RAM of the Cortex-M4F profile ([`M4f`]), one phase at a time.
    M4fRam {
        /// The self-test ([`probe`]) of the 64-32-10 network.
        Probe(m4f::Probe) => probe,
        /// The stored 16-32-4 model ([`model`]).
        Model(m4f::Model) => model,
        /// The stored 16-24-16-8-4 model.
        Deep(m4f::Deep) => deep,
        /// The 64×32 dense kernels' counts ([`bench::kernels`]).
        Kernels(m4f::Kernels) => kernels,
    }
}

ram! {
    /// The RAM of the Cortex-M0 profile ([`M0`]), one phase at a time.
    M0Ram {
        /// The self-test ([`probe`]) of the 16-8-4 network.
        Probe(m0::Probe) => probe,
        /// The stored 8-16-2 model ([`model`]).
        Model(m0::Model) => model,
        /// The 32×32 dense kernels' counts ([`bench::kernels`]).
        Kernels(m0::Kernels) => kernels,
    }
}

/// A class of device: what its suite checks ([`Profile::check`]) and counts
/// ([`Profile::count`]), with the networks, blobs and settings of its [`config`](crate::config)
/// profile, and the RAM that takes. A board runs one (its manifest names it: `profile = "m4f"`),
/// and the host tests run the same one to compare the bits.
pub trait Profile {
    /// The name boards' manifests give it (`[package.metadata.vatic-board] profile`).
    const NAME: &'static str;
    /// The processor class, for the boards' first line (`Cortex-M4F`).
    const CORE: &'static str;
    /// The RAM of the suite and the counts, one phase at a time.
    type Ram: 'static;
    /// No phase yet: all bytes zero, so a `static` of it is `.bss`.
    const IDLE: Self::Ram;

    /// The checks: the self-test, then every stored model (load, robustness, VAT fine-tuning,
    /// robustness again).
    ///
    /// # Errors
    ///
    /// Only the sink's; the checks' outcome is in `tally`.
    fn check<W: Write>(ram: &mut Self::Ram, out: &mut W, tally: &mut Tally) -> fmt::Result;

    /// The instruction counts ([`crate::bench`]): [`bench::run`] on every stored model and
    /// [`bench::kernels`] on the profile's layer, each run even if an earlier one's output
    /// failed.
    ///
    /// # Errors
    ///
    /// Only the sink's.
    fn count<W: Write>(ram: &mut Self::Ram, counter: &mut dyn Counter, out: &mut W) -> fmt::Result;
}

/// The RAM of profile `P`: `static mut RAM: Ram<M4f> = M4f::IDLE;`.
pub type Ram<P> = <P as Profile>::Ram;

/// The Cortex-M4F boards (QEMU `mps2-an386`, nRF52840-DK; [`config::m4f`](crate::config::m4f)):
/// the probe, the stored one- and three-hidden-layer models.
#[derive(Debug, Clone, Copy)]
pub struct M4f;

impl Profile for M4f {
    const NAME: &'static str = "m4f";
    const CORE: &'static str = "Cortex-M4F";
    type Ram = M4fRam;
    const IDLE: M4fRam = M4fRam::IDLE;

    fn check<W: Write>(ram: &mut M4fRam, out: &mut W, tally: &mut Tally) -> fmt::Result {
        probe::run(&m4f::PROBE, ram.probe(), out, tally)?;
        model::run(&m4f::MODEL, ram.model(), out, tally)?;
        model::run(&m4f::DEEP, ram.deep(), out, tally)
    }

    fn count<W: Write>(ram: &mut M4fRam, counter: &mut dyn Counter, out: &mut W) -> fmt::Result {
        let model = bench::run(&m4f::MODEL, ram.model(), counter, out);
        let deep = bench::run(&m4f::DEEP, ram.deep(), counter, out);
        let kernels = bench::kernels(m4f::KERNEL_SEED, ram.kernels(), counter, out);
        model.and(deep).and(kernels)
    }
}

/// The Cortex-M0 with 16 KB of RAM (QEMU `microbit`; [`config::m0`](crate::config::m0)):
/// smaller networks.
#[derive(Debug, Clone, Copy)]
pub struct M0;

impl Profile for M0 {
    const NAME: &'static str = "m0";
    const CORE: &'static str = "Cortex-M0";
    type Ram = M0Ram;
    const IDLE: M0Ram = M0Ram::IDLE;

    fn check<W: Write>(ram: &mut M0Ram, out: &mut W, tally: &mut Tally) -> fmt::Result {
        probe::run(&m0::PROBE, ram.probe(), out, tally)?;
        model::run(&m0::MODEL, ram.model(), out, tally)
    }

    fn count<W: Write>(ram: &mut M0Ram, counter: &mut dyn Counter, out: &mut W) -> fmt::Result {
        let model = bench::run(&m0::MODEL, ram.model(), counter, out);
        model.and(bench::kernels(m0::KERNEL_SEED, ram.kernels(), counter, out))
    }
}
