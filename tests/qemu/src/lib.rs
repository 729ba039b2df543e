//! Helpers of the QEMU tests: read the firmware's QEMU boards from its board list
//! (`firmware/boards/board`), find the toolchain and QEMU, build a board's binary with
//! `scripts/thumb-cargo`, run it under `qemu-system-arm`, and compare its machine-readable lines
//! (`@ …`, `f32` bit patterns) with the host's.
//!
//! Without QEMU or a thumb toolchain the tests print why they are skipped (on stderr, past the
//! test harness's capture) and pass; with `VATIC_REQUIRE_QEMU=1` (as `.ci/run` sets) a missing
//! tool fails them instead.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A QEMU board of the firmware's board list (`firmware/boards/board list --qemu`, from each
/// board's `[package.metadata.vatic-board]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// Cargo package of the binary (also the binary's name).
    pub package: String,
    /// Rust target.
    pub target: String,
    /// The suite it runs (`vatic_firmware::suite::Profile::NAME`).
    pub profile: String,
    /// `qemu-system-arm -machine …`.
    pub machine: String,
}

impl Board {
    /// A line of `board list`: `package target profile machine`.
    pub fn parse(line: &str) -> Option<Board> {
        let mut f = line.split_whitespace().map(String::from);
        let board = Board {
            package: f.next()?,
            target: f.next()?,
            profile: f.next()?,
            machine: f.next().filter(|m| m != "-")?,
        };
        f.next().is_none().then_some(board)
    }
}

/// The firmware's board script, `firmware/boards/board`.
fn board_script() -> PathBuf {
    repo_root().join("firmware/boards/board")
}

/// Every QEMU board of the firmware's board list.
///
/// # Panics
///
/// When the list cannot be read or has a malformed line.
pub fn qemu_boards() -> Vec<Board> {
    let out = Command::new(board_script())
        .args(["list", "--qemu"])
        .output()
        .expect("run firmware/boards/board");
    assert!(
        out.status.success(),
        "firmware/boards/board list --qemu failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| Board::parse(l).unwrap_or_else(|| panic!("malformed board line: {l:?}")))
        .collect()
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn rustup_has_target(target: &str) -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l == target)
        })
        .unwrap_or(false)
}

/// Why `board` cannot be built and run here, if it cannot.
pub fn missing_tools(board: &Board) -> Option<String> {
    if !on_path("qemu-system-arm") {
        return Some("qemu-system-arm is not installed".into());
    }
    if !on_path("timeout") {
        return Some("coreutils' timeout is not installed".into());
    }
    let fallback = Path::new("/usr/bin/cargo").exists()
        && Path::new("/usr/bin/rustc").exists()
        && on_path("ld.lld-22");
    if !rustup_has_target(&board.target) && !fallback {
        return Some(format!(
            "neither `rustup target add {}` nor Debian's rustc-web/cargo-web/rust-web-src/lld-22 \
             is installed",
            board.target
        ));
    }
    None
}

/// `true` when the test should run; prints the reason and returns `false` when it should be
/// skipped; panics when tools are missing but `VATIC_REQUIRE_QEMU=1`.
pub fn should_run(board: &Board) -> bool {
    let Some(why) = missing_tools(board) else {
        return true;
    };
    if std::env::var("VATIC_REQUIRE_QEMU").is_ok_and(|v| v == "1") {
        panic!(
            "VATIC_REQUIRE_QEMU=1 but {why}: cannot run {}",
            board.package
        );
    }
    // Straight to stderr: libtest's capture would hide a println! of a passing test.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {} under QEMU: {why} (set VATIC_REQUIRE_QEMU=1 to make this an error)",
        board.package
    );
    false
}

/// Builds `board`'s release binary with `scripts/thumb-cargo` and returns the ELF's path.
///
/// # Panics
///
/// When the build fails (its diagnostics are on stderr).
pub fn build(board: &Board) -> PathBuf {
    let root = repo_root();
    let out = Command::new(root.join("scripts/thumb-cargo"))
        .args([
            "build",
            "--release",
            "-p",
            &board.package,
            "--target",
            &board.target,
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(root.join("firmware"))
        // The firmware's link arguments live in its .cargo/config.toml; RUSTFLAGS would replace them.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/thumb-cargo");
    assert!(out.status.success(), "building {} failed", board.package);
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\""))
        .find_map(|l| {
            let start = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = start + l[start..].find('"')?;
            Some(PathBuf::from(&l[start..end]))
        })
        .unwrap_or_else(|| panic!("cargo reported no executable for {}", board.package))
}

/// What a QEMU run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    /// Semihosting output.
    pub stdout: String,
    /// QEMU's exit code (the firmware's semihosting exit code; 124 on timeout).
    pub code: Option<i32>,
}

/// Runs `elf` as cargo's runner does (`firmware/boards/board run`: under its board's QEMU
/// machine, with semihosting), at most 120 s.
pub fn run_qemu(elf: &Path) -> Run {
    let out = Command::new("timeout")
        .arg("120")
        .arg(board_script())
        .arg("run")
        .arg(elf)
        .stdin(Stdio::null())
        .output()
        .expect("run firmware/boards/board run");
    Run::from(out)
}

impl From<std::process::Output> for Run {
    /// A finished run: its stdout then its stderr as text, and its exit code.
    fn from(out: std::process::Output) -> Run {
        let mut stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        stdout.push_str(&String::from_utf8_lossy(&out.stderr));
        Run {
            stdout,
            code: out.status.code(),
        }
    }
}

/// The machine-readable lines (`@ …`) and the closing tally line of a transcript.
pub fn summary_lines(transcript: &str) -> Vec<&str> {
    transcript
        .lines()
        .map(str::trim_end)
        .filter(|l| l.starts_with("@ ") || l.ends_with(" failed"))
        .collect()
}

/// Asserts that two transcripts have the same machine-readable lines, printing the first
/// difference with both sides.
///
/// # Panics
///
/// On any difference.
pub fn assert_same_bits(package: &str, host: &str, device: &str) {
    let (h, d) = (summary_lines(host), summary_lines(device));
    for (i, (a, b)) in h.iter().zip(&d).enumerate() {
        assert_eq!(
            a, b,
            "{package}: line {i} of the summary differs\n  host:   {a}\n  device: {b}\n\ndevice output:\n{device}"
        );
    }
    assert_eq!(
        h.len(),
        d.len(),
        "{package}: host printed {} summary lines, the device {}\n\ndevice output:\n{device}",
        h.len(),
        d.len()
    );
    assert!(!h.is_empty(), "no summary lines at all");
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "probe\n@ probe.loss 40219e38\nok   probe.finite\n6 passed, 0 failed\n";

    #[test]
    fn board_lines_parse() {
        let b = Board::parse("vatic-fw-microbit thumbv6m-none-eabi m0 microbit").unwrap();
        assert_eq!(
            (&*b.package, &*b.target, &*b.profile, &*b.machine),
            ("vatic-fw-microbit", "thumbv6m-none-eabi", "m0", "microbit")
        );
        assert_eq!(
            Board::parse("vatic-fw-nrf52840-dk thumbv7em-none-eabihf m4f -"),
            None
        );
        assert_eq!(
            Board::parse("vatic-fw-microbit thumbv6m-none-eabi m0"),
            None
        );
        assert_eq!(Board::parse("a b c d e"), None);
    }

    #[test]
    fn the_board_list_has_qemu_boards() {
        let boards = qemu_boards();
        assert!(boards.iter().any(|b| b.profile == "m4f"), "{boards:?}");
        assert!(boards.iter().any(|b| b.profile == "m0"), "{boards:?}");
    }

    #[test]
    fn summary_keeps_bit_lines_and_tally() {
        assert_eq!(
            summary_lines(HOST),
            ["@ probe.loss 40219e38", "6 passed, 0 failed"]
        );
    }

    #[test]
    fn same_bits_pass() {
        let device =
            "vatic firmware: mps2\r\n@ probe.loss 40219e38\nstack: 1\n6 passed, 0 failed\n";
        assert_same_bits("vatic-fw-mps2-an386", HOST, device);
    }

    #[test]
    #[should_panic(expected = "line 0 of the summary differs")]
    fn one_bit_differs() {
        let device = "@ probe.loss 40219e39\n6 passed, 0 failed\n";
        assert_same_bits("vatic-fw-mps2-an386", HOST, device);
    }

    #[test]
    #[should_panic(expected = "summary lines")]
    fn missing_lines_fail() {
        assert_same_bits("vatic-fw-mps2-an386", HOST, "@ probe.loss 40219e38\n");
    }
}
