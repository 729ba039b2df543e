//! vatic on QEMU `mps2-an386` (Cortex-M4F with FPU): the [`M4f`] profile, over semihosting,
//! with QEMU's exit code 0 when every check passed ([`vatic_fw_qemu::run`]):
//!
//! ```text
//! cargo run --release -p vatic-fw-mps2-an386     # qemu-system-arm -machine mps2-an386 (../board run)
//! ```
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use vatic_firmware::suite::{M4f, Profile as _, Ram};

#[entry]
fn main() -> ! {
    // The profile's networks, gradients, optimiser state and workspace: `.bss`, counted by the
    // linker (cortex-m-rt hands a `static mut` declared here to `main` as a `&'static mut`).
    static mut RAM: Ram<M4f> = M4f::IDLE;
    vatic_fw_qemu::run::<M4f>("mps2-an386", RAM)
}
