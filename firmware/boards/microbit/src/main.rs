//! vatic on QEMU `microbit` (nRF51, Cortex-M0, 16 KB RAM), built for `thumbv6m-none-eabi`.
//!
//! Runs the board-agnostic checks of [`vatic_firmware`], prints over semihosting and exits QEMU
//! with code 0 when every check passed, 1 otherwise:
//!
//! ```text
//! qemu-system-arm -machine microbit -nographic \
//!   -semihosting-config enable=on,target=native -kernel <ELF>
//! ```
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use semihosting::{io::Write as _, println};
use vatic_firmware::suite::{Profile as _, Ram, M0};
use vatic_firmware::{status, Tally};

/// `core::fmt::Write` over semihosting's stdout.
struct Console(semihosting::io::Stdout);

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.write_all(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

#[entry]
fn main() -> ! {
    // The suite's networks, gradients, optimiser state and workspace: `.bss`, counted by the
    // linker (cortex-m-rt hands a `static mut` declared here to `main` as a `&'static mut`).
    static mut RAM: Ram<M0> = M0::IDLE;
    vatic_fw_stack::paint();
    let code = match semihosting::io::stdout() {
        Ok(stdout) => run(&mut Console(stdout), RAM),
        Err(_) => 2,
    };
    semihosting::process::exit(code)
}

fn run(out: &mut Console, ram: &mut Ram<M0>) -> i32 {
    println!("vatic firmware: microbit (Cortex-M0)");
    let mut tally = Tally::new();
    let ok = M0::check(ram, out, &mut tally).is_ok();
    let peak = vatic_fw_stack::peak();
    // Instruction counts under `qemu-system-arm -icount shift=0` (see vatic_fw_stack::SysTickCounter).
    if let Some(p) = cortex_m::Peripherals::take() {
        let mut counter = vatic_fw_stack::SysTickCounter::new(p.SYST);
        let _ = M0::count(ram, &mut counter, out);
    }
    let with_bench = vatic_fw_stack::peak();
    println!(
        "stack: peak {peak} bytes of {} (stack painting), {with_bench} with the instruction counts",
        vatic_fw_stack::capacity()
    );
    println!("# stack.peak {peak}");
    println!("# stack.peak_with_bench {with_bench}");
    let _ = tally.write_summary(out);
    let _ = status::show_outcome(&mut status::NoPin, &mut status::NoDelay, tally.failed);
    i32::from(!(ok && tally.success()))
}
