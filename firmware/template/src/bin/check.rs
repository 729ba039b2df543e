//! `check`: see [`vatic_app::check`]. Run on a board with `cargo run --release --bin check`
//! (`probe-rs run`), under QEMU with `cargo qemu --bin check` (see README.md).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use vatic_app::report::Tally;
use vatic_app::{board, check, Net};

#[entry]
fn main() -> ! {
    // The network and the state: `.bss`, counted by the linker (cortex-m-rt hands a
    // `static mut` declared here to `main` as a `&'static mut`, without `unsafe`).
    static mut NET: Net = Net::ZERO;
    static mut STATE: check::State = check::State::ZERO;
    board::paint();
    let mut out = board::Out::new();
    let mut tally = Tally::new();
    check::app(NET, STATE, &mut out, &mut tally);
    board::report_measurements::<check::State>(&mut out);
    tally.summary(&mut out);
    board::exit(tally.success())
}
