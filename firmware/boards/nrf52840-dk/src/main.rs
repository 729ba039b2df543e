//! vatic on the nRF52840-DK (Cortex-M4F, 64 MHz): the [`M4f`] profile, as on QEMU's mps2-an386,
//! logged with defmt over RTT, outcome on LED1 (P0.13, active low), cycle counts from the DWT.
//!
//! ```text
//! cargo run --release -p vatic-fw-nrf52840-dk     # probe-rs run --chip nRF52840_xxAA (../board run)
//! ```
//!
//! Only verified on hardware: that it flashes, the RTT log, LED1 and the cycle counts (CI can
//! only build this binary; the same library code runs under QEMU on the mps2-an386 board).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt_rtt as _;
use embedded_hal::digital::OutputPin;
use nrf52840_hal::{self as hal, gpio::Level};
use panic_probe as _;
use vatic_firmware::suite::{M4f, Profile as _, Ram};
use vatic_firmware::{status, Tally};

/// Forwards the library's text to defmt, one line per `println!`.
struct DefmtLines(heapless::String<256>);

impl core::fmt::Write for DefmtLines {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for c in s.chars() {
            if c == '\n' {
                defmt::println!("{=str}", self.0.as_str());
                self.0.clear();
            } else if self.0.push(c).is_err() {
                // Over-long line: flush what we have and keep going.
                defmt::println!("{=str}", self.0.as_str());
                self.0.clear();
                let _ = self.0.push(c);
            }
        }
        Ok(())
    }
}

#[entry]
fn main() -> ! {
    // The suite's networks, gradients, optimiser state and workspace: `.bss`, counted by the
    // linker (cortex-m-rt hands a `static mut` declared here to `main` as a `&'static mut`).
    static mut RAM: Ram<M4f> = M4f::IDLE;
    vatic_fw_stack::paint();
    let mut cp = cortex_m::Peripherals::take().unwrap();
    let dp = hal::pac::Peripherals::take().unwrap();
    // DWT cycle counter: compiled in, verified only on hardware (QEMU does not model it).
    cp.DCB.enable_trace();
    cp.DWT.enable_cycle_counter();
    let port0 = hal::gpio::p0::Parts::new(dp.P0);
    // LED1 is active low: "high" in status terms means LED on, so drive the inverse.
    let mut led = ActiveLow(port0.p0_13.into_push_pull_output(Level::High).degrade());
    let mut delay = hal::Delay::new(cp.SYST);

    defmt::println!("vatic firmware: nRF52840-DK (Cortex-M4F)");
    let _ = led.set_high();
    let mut out = DefmtLines(heapless::String::new());
    let mut tally = Tally::new();
    let start = cortex_m::peripheral::DWT::cycle_count();
    let ok = M4f::check(RAM, &mut out, &mut tally).is_ok();
    let cycles = cortex_m::peripheral::DWT::cycle_count().wrapping_sub(start);
    defmt::println!("suite: {=u32} cycles (DWT)", cycles);
    defmt::println!(
        "stack: peak {=usize} bytes (stack painting)",
        vatic_fw_stack::peak()
    );
    let _ = M4f::count(RAM, &mut DwtCounter, &mut out);
    let _ = tally.write_summary(&mut out);
    let failed = if ok {
        tally.failed
    } else {
        tally.failed.max(1)
    };
    let _ = status::show_outcome(&mut led, &mut delay, failed);
    loop {
        cortex_m::asm::wfi();
    }
}

/// An active-low LED seen as an active-high status pin.
struct ActiveLow<P>(P);

impl<P: embedded_hal::digital::ErrorType> embedded_hal::digital::ErrorType for ActiveLow<P> {
    type Error = P::Error;
}

impl<P: OutputPin> OutputPin for ActiveLow<P> {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.0.set_high()
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.0.set_low()
    }
}

/// Counts CPU cycles with the DWT cycle counter (enabled at start; hardware only: QEMU does not
/// model it).
struct DwtCounter;

impl vatic_firmware::bench::Counter for DwtCounter {
    fn count(&mut self, f: &mut dyn FnMut()) -> u32 {
        let start = cortex_m::peripheral::DWT::cycle_count();
        f();
        cortex_m::peripheral::DWT::cycle_count().wrapping_sub(start)
    }

    fn unit(&self) -> &'static str {
        "CPU cycles (DWT), 64 MHz"
    }
}
