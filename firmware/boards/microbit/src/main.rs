//! vatic on QEMU `microbit` (nRF51, Cortex-M0, 16 KB RAM), built for `thumbv6m-none-eabi`: the
//! [`M0`] profile, over semihosting, with QEMU's exit code 0 when every check passed
//! ([`vatic_fw_qemu::run`]):
//!
//! ```text
//! cargo run --release -p vatic-fw-microbit --target thumbv6m-none-eabi    # (../board run)
//! ```
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use vatic_firmware::suite::{Profile as _, Ram, M0};

#[entry]
fn main() -> ! {
    // The profile's networks, gradients, optimiser state and workspace: `.bss`, counted by the
    // linker (cortex-m-rt hands a `static mut` declared here to `main` as a `&'static mut`).
    static mut RAM: Ram<M0> = M0::IDLE;
    vatic_fw_qemu::run::<M0>("microbit", RAM)
}
