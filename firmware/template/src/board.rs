//! The board side of the binaries: where the report goes, how the program ends, what a panic
//! does, and (feature `measure`) the peak stack. One output feature per build:
//!
//! * `rtt` (default, a board with a debug probe): each report line as a defmt log over RTT,
//!   `panic-probe`, and a breakpoint at the end, where `probe-rs run` stops (`udf`, a fault,
//!   when a check failed);
//! * `qemu`: the lines as text over semihosting, and QEMU's exit code: 0 when every check
//!   passed, 1 when one failed, 101 on a panic.

#[cfg(all(feature = "qemu", feature = "rtt"))]
compile_error!(
    "one output per build: `--no-default-features --features qemu`, or the default `rtt`"
);
#[cfg(not(any(feature = "qemu", feature = "rtt")))]
compile_error!("choose an output: the default feature `rtt`, or `--features qemu`");

#[cfg(feature = "qemu")]
mod out {
    use semihosting::io::Write as _;

    /// Text over semihosting's stdout.
    pub struct Out(Option<semihosting::io::Stdout>);

    impl Out {
        /// Opens stdout (without a semihosting host, the lines go nowhere).
        pub fn new() -> Self {
            Out(semihosting::io::stdout().ok())
        }
    }

    impl crate::Sink for Out {
        fn line(&mut self, text: &[u8]) {
            if let Some(s) = &mut self.0 {
                let _ = s.write_all(text);
                let _ = s.write_all(b"\n");
            }
        }
    }

    /// Ends the program: QEMU exits with 0 when `ok`, else 1.
    pub fn exit(ok: bool) -> ! {
        semihosting::process::exit(if ok { 0 } else { 1 })
    }

    // No message: formatting it would link `core::fmt` (kilobytes) for a path that the core's
    // no-panic proof says is never taken.
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        semihosting::process::exit(101)
    }
}

#[cfg(feature = "rtt")]
mod out {
    use defmt_rtt as _;
    use panic_probe as _;

    /// Each line as one defmt log frame over RTT (`probe-rs run` prints it).
    pub struct Out;

    impl Out {
        /// The RTT channel (defmt-rtt sets it up on first use).
        pub fn new() -> Self {
            Out
        }
    }

    impl crate::Sink for Out {
        fn line(&mut self, text: &[u8]) {
            defmt::println!(
                "{=str}",
                core::str::from_utf8(text).unwrap_or("(not ASCII)")
            );
        }
    }

    /// Ends the program as knurling's app-template does: a breakpoint, where `probe-rs run`
    /// stops and exits; a failed check ends on `udf` instead (a fault, as `panic-probe`
    /// ends a panic), so the run fails.
    pub fn exit(ok: bool) -> ! {
        if !ok {
            defmt::error!("a check failed");
            cortex_m::asm::udf();
        }
        loop {
            cortex_m::asm::bkpt();
        }
    }
}

pub use out::{exit, Out};

impl Default for Out {
    fn default() -> Self {
        Self::new()
    }
}

/// Paints the free stack (feature `measure`; otherwise nothing): call first in `main`.
pub fn paint() {
    #[cfg(feature = "measure")]
    vatic_fw_stack::paint();
}

/// Reports the peak stack since [`paint`] and the RAM of the network and of the binary's state
/// (feature `measure`; otherwise nothing): `stack: peak N bytes of M (stack painting)`,
/// `# stack.peak N`, `# ram.net N`, `# ram.state N` (`size_of`).
pub fn report_measurements<S>(out: &mut impl crate::Sink) {
    #[cfg(feature = "measure")]
    {
        use crate::report::Line;
        let peak = vatic_fw_stack::peak() as u32;
        Line::new()
            .str("stack: peak ")
            .u32(peak)
            .str(" bytes of ")
            .u32(vatic_fw_stack::capacity() as u32)
            .str(" (stack painting)")
            .end(out);
        Line::new().str("# stack.peak ").u32(peak).end(out);
        let net = core::mem::size_of::<crate::Net>() as u32;
        Line::new().str("# ram.net ").u32(net).end(out);
        let state = core::mem::size_of::<S>() as u32;
        Line::new().str("# ram.state ").u32(state).end(out);
    }
    #[cfg(not(feature = "measure"))]
    let _ = out;
}
