//! vatic on QEMU `mps2-an386` (Cortex-M4F with FPU).
//!
//! Runs the board-agnostic checks of [`vatic_firmware`], prints over semihosting and exits QEMU
//! with code 0 when every check passed, 1 otherwise:
//!
//! ```text
//! qemu-system-arm -machine mps2-an386 -nographic \
//!   -semihosting-config enable=on,target=native -kernel <ELF>
//! ```
#![no_std]
#![no_main]

use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::entry;
use semihosting::{io::Write as _, println};
use vatic_firmware::{status, suite, Tally};

/// `core::fmt::Write` over semihosting's stdout.
struct Console(semihosting::io::Stdout);

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.write_all(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

#[entry]
fn main() -> ! {
    vatic_fw_stack::paint();
    let code = match semihosting::io::stdout() {
        Ok(stdout) => run(&mut Console(stdout)),
        Err(_) => 2,
    };
    semihosting::process::exit(code)
}

fn run(out: &mut Console) -> i32 {
    println!("vatic firmware: mps2-an386 (Cortex-M4F)");
    let mut tally = Tally::new();
    let ok = suite::m4f(out, &mut tally).is_ok();
    let peak = vatic_fw_stack::peak();
    if let Some(p) = cortex_m::Peripherals::take() {
        let mut counter = SysTickCounter::new(p.SYST);
        use vatic_firmware::config::m4f_model as m;
        let _ = vatic_firmware::bench::run::<
            { m::IN },
            { m::H },
            { m::OUT },
            { m::SAMPLES },
            { m::RING },
        >(m::BLOB, &m::CONFIG, &mut counter, out);
    }
    println!(
        "stack: peak {peak} bytes of {} (stack painting)",
        vatic_fw_stack::capacity()
    );
    println!("# stack.peak {peak}");
    let _ = tally.write_summary(out);
    let _ = status::show_outcome(&mut status::NoPin, &mut status::NoDelay, tally.failed);
    i32::from(!(ok && tally.success()))
}

/// Counts instructions with SysTick under `qemu-system-arm -icount shift=0` (one virtual
/// nanosecond per instruction), calibrated on a block of exactly 1000 `nop`s. Without `-icount`
/// the figures follow the host's wall clock and mean nothing.
struct SysTickCounter {
    syst: SYST,
    /// SysTick ticks per 1000 instructions (measured; minus the measurement's own overhead).
    ticks_per_1000: u32,
    overhead: u32,
}

impl SysTickCounter {
    fn new(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(0x00ff_ffff);
        syst.clear_current();
        syst.enable_counter();
        let mut c = SysTickCounter {
            syst,
            ticks_per_1000: 1,
            overhead: 0,
        };
        c.overhead = c.ticks(&mut || {});
        let nops = c.ticks(&mut || {
            // SAFETY: 1000 `nop`s: no memory, registers or flags touched.
            unsafe { core::arch::asm!(".rept 1000", "nop", ".endr", options(nomem, nostack)) };
        });
        c.ticks_per_1000 = nops.max(1);
        c
    }

    fn ticks(&mut self, f: &mut dyn FnMut()) -> u32 {
        self.syst.clear_current();
        let start = SYST::get_current();
        f();
        let end = SYST::get_current();
        // SysTick counts down from the reload value (24 bits).
        start.wrapping_sub(end) & 0x00ff_ffff
    }
}

impl vatic_firmware::bench::Counter for SysTickCounter {
    fn count(&mut self, f: &mut dyn FnMut()) -> u32 {
        let t = self.ticks(f).saturating_sub(self.overhead);
        (u64::from(t) * 1000 / u64::from(self.ticks_per_1000)) as u32
    }

    fn unit(&self) -> &'static str {
        "instructions under qemu -icount shift=0"
    }
}
