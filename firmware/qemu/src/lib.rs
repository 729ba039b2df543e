//! # vatic-fw-qemu
//!
//! The `main` every QEMU board shares ([`run`]): a [`Profile`]'s checks and instruction counts,
//! printed over semihosting, the peak stack, and the outcome as QEMU's exit code (0 when every
//! check passed). A QEMU board is then its manifest, its `memory.x` and an `#[entry]` that
//! hands the profile's RAM to [`run`] (cortex-m-rt turns a `static mut` declared there into a
//! `&'static mut`, so the RAM is `.bss`, counted by the linker):
//!
//! ```ignore
//! use cortex_m_rt::entry;
//! use vatic_firmware::suite::{M4f, Profile as _, Ram};
//!
//! #[entry]
//! fn main() -> ! {
//!     static mut RAM: Ram<M4f> = M4f::IDLE;
//!     vatic_fw_qemu::run::<M4f>("mps2-an386", RAM)
//! }
//! ```
//!
//! Under `qemu-system-arm -icount shift=0` (one virtual nanosecond per instruction) the counts
//! are instructions; without it they follow the host's clock and mean nothing.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use core::fmt::Write as _;

use semihosting::io::Write as _;
use vatic_firmware::suite::{Profile, Ram};
use vatic_firmware::{status, Tally};
use vatic_fw_stack::SysTickCounter;

/// `core::fmt::Write` over semihosting's stdout.
struct Console(semihosting::io::Stdout);

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.write_all(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

/// Runs profile `P` in `ram` on the QEMU machine `board` and exits QEMU with code 0 when every
/// check passed, 1 when one failed, 2 without a semihosting console.
///
/// Paints the stack first, then prints the banner, the checks ([`Profile::check`]), the peak
/// stack, the instruction counts ([`Profile::count`] with [`SysTickCounter`]), the peak stack
/// with them (`# stack.peak`, `# stack.peak_with_bench`) and the closing `N passed, M failed`.
pub fn run<P: Profile>(board: &str, ram: &mut Ram<P>) -> ! {
    vatic_fw_stack::paint();
    let code = match semihosting::io::stdout() {
        Ok(stdout) => report::<P>(board, &mut Console(stdout), ram),
        Err(_) => 2,
    };
    semihosting::process::exit(code)
}

/// Everything [`run`] prints; returns the exit code. Output errors are ignored: the exit code
/// still tells the outcome.
fn report<P: Profile>(board: &str, out: &mut Console, ram: &mut Ram<P>) -> i32 {
    let _ = writeln!(out, "vatic firmware: {board} ({})", P::CORE);
    let mut tally = Tally::new();
    let ok = P::check(ram, out, &mut tally).is_ok();
    let peak = vatic_fw_stack::peak();
    if let Some(p) = cortex_m::Peripherals::take() {
        let _ = P::count(ram, &mut SysTickCounter::new(p.SYST), out);
    }
    let with_bench = vatic_fw_stack::peak();
    let _ = writeln!(
        out,
        "stack: peak {peak} bytes of {} (stack painting), {with_bench} with the instruction counts",
        vatic_fw_stack::capacity()
    );
    let _ = writeln!(out, "# stack.peak {peak}");
    let _ = writeln!(out, "# stack.peak_with_bench {with_bench}");
    let _ = tally.write_summary(out);
    let _ = status::show_outcome(&mut status::NoPin, &mut status::NoDelay, tally.failed);
    i32::from(!(ok && tally.success()))
}
