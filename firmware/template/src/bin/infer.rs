//! `infer`: see [`vatic_app::infer`]. Run on a board with `cargo run --release --bin infer`
//! (`probe-rs run`), under QEMU with `cargo qemu --bin infer` (see README.md).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use vatic_app::report::Tally;
use vatic_app::{board, infer, Net};

#[entry]
fn main() -> ! {
    // The network and the state: `.bss`, counted by the linker (cortex-m-rt hands a
    // `static mut` declared here to `main` as a `&'static mut`, without `unsafe`).
    static mut NET: Net = Net::ZERO;
    static mut STATE: infer::State = infer::State::ZERO;
    board::paint();
    let mut out = board::Out::new();
    let mut tally = Tally::new();
    infer::app(NET, STATE, &mut out, &mut tally);
    board::report_measurements::<infer::State>(&mut out);
    tally.summary(&mut out);
    board::exit(tally.success())
}
