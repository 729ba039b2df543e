//! Builds every QEMU board of the firmware's board list, runs it, and demands its summary equals
//! the host's bit for bit: the host runs the profile the board's manifest names.

use vatic_firmware::suite::{M4f, Profile, M0};
use vatic_firmware::Tally;
use vatic_qemu_tests::{
    assert_same_bits, build, qemu_boards, run_qemu, should_run, summary_lines, Board,
};

/// A profile as the host runs it: its name, its processor class, and its transcript.
struct HostProfile {
    name: &'static str,
    core: &'static str,
    transcript: fn() -> (String, Tally),
}

/// Every profile of `vatic_firmware::suite`.
const PROFILES: [HostProfile; 2] = [host::<M4f>(), host::<M0>()];

const fn host<P: Profile>() -> HostProfile {
    HostProfile {
        name: P::NAME,
        core: P::CORE,
        transcript: transcript::<P>,
    }
}

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

fn profile(name: &str) -> &'static HostProfile {
    PROFILES
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no profile {name:?} in vatic_firmware::suite"))
}

fn device_matches_host(board: &Board) {
    let host = profile(&board.profile);
    let (transcript, tally) = (host.transcript)();
    assert!(
        tally.success(),
        "the host's own checks failed:\n{transcript}"
    );
    if !should_run(board) {
        return;
    }
    let elf = build(board);
    let run = run_qemu(&elf);
    eprintln!("{}", run.stdout);
    assert_eq!(
        run.code,
        Some(0),
        "{} exited with {:?} under QEMU {} (124 = timeout):\n{}",
        board.package,
        run.code,
        board.machine,
        run.stdout
    );
    // The banner names the profile's processor class: the one its manifest says it runs.
    let core = format!("({})", host.core);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("vatic firmware: ") && l.trim_end().ends_with(&core)),
        "{}: its banner does not name {core}: does its main run the profile {:?} its manifest names?",
        board.package,
        board.profile
    );
    assert_same_bits(&board.package, &transcript, &run.stdout);
    eprintln!(
        "{}: {} summary lines bit-identical to the host's",
        board.package,
        summary_lines(&transcript).len()
    );
}

#[test]
fn every_qemu_board_matches_host_bit_for_bit() {
    let boards = qemu_boards();
    assert!(!boards.is_empty(), "the board list has no QEMU board");
    // One thread per board, so the QEMU runs overlap (the builds take cargo's lock in turn); a
    // failing board fails the test after the others have finished.
    std::thread::scope(|s| {
        for board in &boards {
            s.spawn(move || device_matches_host(board));
        }
    });
}

#[test]
fn host_profiles_pass_their_own_checks() {
    for p in &PROFILES {
        let (out, tally) = (p.transcript)();
        eprintln!("{out}");
        assert!(tally.success(), "{}:\n{out}", p.name);
    }
}
