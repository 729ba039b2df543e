//! Instruction counts under QEMU: SysTick read around the measured code, with
//! `qemu-system-arm -icount shift=0` (virtual time advances one nanosecond per instruction).

use cortex_m::peripheral::{syst::SystClkSource, SYST};

/// Counts instructions with SysTick under `qemu-system-arm -icount shift=0`, calibrated on a
/// block of exactly 1000 instructions. The resolution is one SysTick period: 40 instructions on
/// `mps2-an386` (25 MHz), 62.5 on `microbit` (16 MHz). Without `-icount` the figures follow the
/// host's wall clock and mean nothing; on hardware they would be core clock cycles.
pub struct SysTickCounter {
    syst: SYST,
    /// SysTick ticks per 1000 instructions (measured).
    ticks_per_1000: u32,
    /// Ticks of an empty measurement (the call and the two reads).
    overhead: u32,
}

impl SysTickCounter {
    /// Starts SysTick on the core clock (24-bit, free-running) and calibrates.
    pub fn new(mut syst: SYST) -> Self {
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
        c.ticks_per_1000 = c.ticks(&mut thousand_instructions).max(1);
        c
    }

    /// SysTick ticks per 1000 instructions, as calibrated.
    pub fn ticks_per_1000(&self) -> u32 {
        self.ticks_per_1000
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

/// Exactly 1000 instructions on ARMv6-M and ARMv7-M alike: `movs` + 111 × (7 `nop`, `subs`,
/// `bne`). (A straight run of 1000 `nop`s would push the literal pool out of the Cortex-M0's
/// 1 KB `ldr` range.)
#[inline(never)]
fn thousand_instructions() {
    // SAFETY: touches only r3 (declared clobbered) and the flags; no memory, no stack.
    unsafe {
        core::arch::asm!(
            "movs r3, #111",
            "2:",
            ".rept 7",
            "nop",
            ".endr",
            "subs r3, r3, #1",
            "bne 2b",
            out("r3") _,
            options(nomem, nostack),
        );
    }
}

impl vatic_firmware::bench::Counter for SysTickCounter {
    fn count(&mut self, f: &mut dyn FnMut()) -> u32 {
        let t = self.ticks(f).saturating_sub(self.overhead);
        (u64::from(t) * 1000 / u64::from(self.ticks_per_1000)) as u32
    }

    fn unit(&self) -> &'static str {
        "instructions; meaningful only under qemu -icount shift=0"
    }
}
