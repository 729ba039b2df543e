//! Builds each QEMU firmware, runs it, and demands its summary equals the host's bit for bit.

use std::sync::{Mutex, PoisonError};

use vatic_firmware::suite::{self, M0Ram, M4fRam};
use vatic_firmware::Tally;
use vatic_qemu_tests::{
    assert_same_bits, build, run_qemu, should_run, summary_lines, Board, MICROBIT, MPS2_AN386,
};

type Suite = fn(&mut String, &mut Tally) -> core::fmt::Result;

// The suites' RAM in statics, as on the device (the tests may run in parallel: one at a time).
static M4F_RAM: Mutex<M4fRam> = Mutex::new(M4fRam::IDLE);
static M0_RAM: Mutex<M0Ram> = Mutex::new(M0Ram::IDLE);

fn m4f(out: &mut String, tally: &mut Tally) -> core::fmt::Result {
    let mut ram = M4F_RAM.lock().unwrap_or_else(PoisonError::into_inner);
    suite::m4f(&mut ram, out, tally)
}

fn m0(out: &mut String, tally: &mut Tally) -> core::fmt::Result {
    let mut ram = M0_RAM.lock().unwrap_or_else(PoisonError::into_inner);
    suite::m0(&mut ram, out, tally)
}

fn host_transcript(suite: Suite) -> (String, Tally) {
    let mut out = String::new();
    let mut tally = Tally::new();
    suite(&mut out, &mut tally).expect("writing to a String");
    tally.write_summary(&mut out).expect("writing to a String");
    (out, tally)
}

fn device_matches_host(board: &Board, suite: Suite) {
    let (host, tally) = host_transcript(suite);
    assert!(tally.success(), "the host's own checks failed:\n{host}");
    if !should_run(board) {
        return;
    }
    let elf = build(board);
    let run = run_qemu(board, &elf);
    eprintln!("{}", run.stdout);
    assert_eq!(
        run.code,
        Some(0),
        "{} exited with {:?} under QEMU (124 = timeout):\n{}",
        board.package,
        run.code,
        run.stdout
    );
    assert_same_bits(board, &host, &run.stdout);
    eprintln!(
        "{}: {} summary lines bit-identical to the host's",
        board.package,
        summary_lines(&host).len()
    );
}

#[test]
fn mps2_an386_matches_host_bit_for_bit() {
    device_matches_host(&MPS2_AN386, m4f);
}

#[test]
fn microbit_matches_host_bit_for_bit() {
    device_matches_host(&MICROBIT, m0);
}

#[test]
fn host_suites_pass_their_own_checks() {
    for s in [m4f as Suite, m0] {
        let (out, tally) = host_transcript(s);
        eprintln!("{out}");
        assert!(tally.success(), "{out}");
    }
}
