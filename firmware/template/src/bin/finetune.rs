//! `finetune`: see [`vatic_app::finetune`]. Run on a board with `cargo run --release --bin finetune`
//! (`probe-rs run`), under QEMU with `cargo qemu --bin finetune` (see README.md).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use vatic_app::report::Tally;
use vatic_app::{board, finetune, Net};

#[entry]
fn main() -> ! {
    // The network and the state: `.bss`, counted by the linker (cortex-m-rt hands a
    // `static mut` declared here to `main` as a `&'static mut`, without `unsafe`).
    static mut NET: Net = Net::ZERO;
    static mut STATE: finetune::State = finetune::State::ZERO;
    board::paint();
    let mut out = board::Out::new();
    let mut tally = Tally::new();
    finetune::app(NET, STATE, &mut out, &mut tally);
    board::report_measurements::<finetune::State>(&mut out);
    tally.summary(&mut out);
    board::exit(tally.success())
}
