//! Measurements on the device: peak stack use by stack painting, and (on ARM)
//! `SysTickCounter`, instruction counts under QEMU `-icount`.
//!
//! [`paint`] fills the free stack (from cortex-m-rt's `_stack_end`, the end of `.bss`/`.uninit`,
//! up to a little below the current stack pointer) with a pattern; after the work,
//! [`peak`] finds the lowest word that no longer holds it. The distance from `_stack_start`
//! (the initial stack pointer) is the peak stack use, exact to 4 bytes as long as the program
//! never writes the pattern itself and the stack did not overflow into `.bss`.
//!
//! The only `unsafe` of the firmware lives here: volatile reads and writes of memory that the
//! linker script gives to the stack and no Rust object owns, and the inline assembly of the
//! counter's 1000-instruction calibration block.
#![no_std]
#![deny(missing_docs)]

#[cfg(target_arch = "arm")]
mod systick;
#[cfg(target_arch = "arm")]
pub use systick::SysTickCounter;

use core::ptr::{addr_of, read_volatile, write_volatile};

const PATTERN: u32 = 0xC0FF_EE5A;
/// Bytes below the stack pointer left unpainted (the painting function's own frame).
const MARGIN: usize = 256;

extern "C" {
    static _stack_start: u32;
    static _stack_end: u32;
}

fn bounds() -> (usize, usize) {
    // Only the addresses of the linker symbols are taken: safe since Rust 1.82.
    (
        addr_of!(_stack_end) as usize,
        addr_of!(_stack_start) as usize,
    )
}

/// Paints the unused stack; call early in `main`. Returns the number of bytes painted.
#[inline(never)]
pub fn paint() -> usize {
    let (end, _) = bounds();
    let sp = cortex_m::register::msp::read() as usize;
    let top = sp.saturating_sub(MARGIN) & !3;
    let mut p = end;
    while p < top {
        // SAFETY: [end, sp − MARGIN) is free stack: below every live frame, above `.bss`.
        unsafe { write_volatile(p as *mut u32, PATTERN) };
        p += 4;
    }
    top.saturating_sub(end)
}

/// Peak stack use in bytes since [`paint`]: from `_stack_start` down to the lowest word that
/// was written.
#[inline(never)]
pub fn peak() -> usize {
    let (end, start) = bounds();
    let mut p = end;
    // SAFETY: reads of the (painted) stack region, word-aligned, below the current frame.
    while p < start && unsafe { read_volatile(p as *const u32) } == PATTERN {
        p += 4;
    }
    start - p
}

/// Size of the stack region: `_stack_start − _stack_end`.
pub fn capacity() -> usize {
    let (end, start) = bounds();
    start - end
}
