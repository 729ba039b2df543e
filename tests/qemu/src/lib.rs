//! Helpers of the QEMU tests: find the toolchain and QEMU, build a firmware binary with
//! `scripts/thumb-cargo`, run it under `qemu-system-arm`, and compare its machine-readable lines
//! (`@ …`, `f32` bit patterns) with the host's.
//!
//! Without QEMU or a thumb toolchain the tests print why they are skipped (on stderr, past the
//! test harness's capture) and pass; with `VATIC_REQUIRE_QEMU=1` (as `.ci/run` sets) a missing
//! tool fails them instead.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A QEMU board of the firmware workspace.
#[derive(Debug, Clone, Copy)]
pub struct Board {
    /// Cargo package of the binary (also the binary's name).
    pub package: &'static str,
    /// Rust target.
    pub target: &'static str,
    /// `qemu-system-arm -machine …`.
    pub machine: &'static str,
}

/// QEMU `mps2-an386` (Cortex-M4F).
pub const MPS2_AN386: Board = Board {
    package: "vatic-fw-mps2-an386",
    target: "thumbv7em-none-eabihf",
    machine: "mps2-an386",
};

/// QEMU `microbit` (Cortex-M0, 16 KB RAM).
pub const MICROBIT: Board = Board {
    package: "vatic-fw-microbit",
    target: "thumbv6m-none-eabi",
    machine: "microbit",
};

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
    if !rustup_has_target(board.target) && !fallback {
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
            board.package,
            "--target",
            board.target,
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

/// Runs `elf` on `board`'s QEMU machine, at most 120 s.
pub fn run_qemu(board: &Board, elf: &Path) -> Run {
    let out = Command::new("timeout")
        .arg("120")
        .arg("qemu-system-arm")
        .args(["-machine", board.machine, "-nographic"])
        .args(["-semihosting-config", "enable=on,target=native"])
        .arg("-kernel")
        .arg(elf)
        .stdin(Stdio::null())
        .output()
        .expect("run qemu-system-arm");
    let mut stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    stdout.push_str(&String::from_utf8_lossy(&out.stderr));
    Run {
        stdout,
        code: out.status.code(),
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
pub fn assert_same_bits(board: &Board, host: &str, device: &str) {
    let (h, d) = (summary_lines(host), summary_lines(device));
    for (i, (a, b)) in h.iter().zip(&d).enumerate() {
        assert_eq!(
            a, b,
            "{}: line {i} of the summary differs\n  host:   {a}\n  device: {b}\n\ndevice output:\n{device}",
            board.package
        );
    }
    assert_eq!(
        h.len(),
        d.len(),
        "{}: host printed {} summary lines, the device {}\n\ndevice output:\n{device}",
        board.package,
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
        assert_same_bits(&MPS2_AN386, HOST, device);
    }

    #[test]
    #[should_panic(expected = "line 0 of the summary differs")]
    fn one_bit_differs() {
        let device = "@ probe.loss 40219e39\n6 passed, 0 failed\n";
        assert_same_bits(&MPS2_AN386, HOST, device);
    }

    #[test]
    #[should_panic(expected = "summary lines")]
    fn missing_lines_fail() {
        assert_same_bits(&MPS2_AN386, HOST, "@ probe.loss 40219e38\n");
    }
}
