//! Builds each QEMU firmware, runs it, and demands its summary equals the host's bit for bit.

use vatic_firmware::suite::{M4f, Profile, M0};
use vatic_firmware::Tally;
use vatic_qemu_tests::{
    assert_same_bits, build, run_qemu, should_run, summary_lines, Board, MICROBIT, MPS2_AN386,
};

type Suite = fn() -> (String, Tally);

/// `P`'s checks on the host, in a RAM of its own (boxed: the device's is a `static`), with the
/// closing tally line.
fn transcript<P: Profile>() -> (String, Tally) {
    let mut ram = Box::new(P::IDLE);
    let mut out = String::new();
    let mut tally = Tally::new();
    P::check(&mut ram, &mut out, &mut tally).expect("writing to a String");
    tally.write_summary(&mut out).expect("writing to a String");
    (out, tally)
}

fn device_matches_host(board: &Board, suite: Suite) {
    let (host, tally) = suite();
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
    device_matches_host(&MPS2_AN386, transcript::<M4f>);
}

#[test]
fn microbit_matches_host_bit_for_bit() {
    device_matches_host(&MICROBIT, transcript::<M0>);
}

#[test]
fn host_suites_pass_their_own_checks() {
    for s in [transcript::<M4f> as Suite, transcript::<M0>] {
        let (out, tally) = s();
        eprintln!("{out}");
        assert!(tally.success(), "{out}");
    }
}
