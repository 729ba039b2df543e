//! The firmware to copy (`firmware/template`, package `vatic-app`): builds its three binaries
//! for QEMU, runs them, and demands
//!
//! 1. that every machine-readable line (`@ …`) and the closing tally equal those of the same
//!    library run on the host, bit for bit;
//! 2. that the `check` binary's figures equal those of `vatic eval --model model/model.vatc`
//!    with the check's settings (the CLI's parser and command, run in-process: its JSON report,
//!    which is also the committed `model/eval.json` that `model/make-model` writes);
//! 3. that the `infer` binary's logits equal those `vatic export-firmware` wrote beside the
//!    blob (`model/model.json`).
//!
//! The Cortex-m0() build runs on QEMU's `microbit` (16 KB of RAM); its `finetune` needs more
//! RAM than that (README.md), so it is linked for and run on `mps2-an385` (a Cortex-M3, which
//! executes the same ARMv6-M code).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::Parser;
use vatic::{blob, Network};
use vatic_app::report::{Sink, Tally};
use vatic_app::settings::{CLIP, EPS, LDS, NORM, PGD_ITERATIONS, SEED};
use vatic_app::{check, finetune, infer, Net, BLOB, IN, OUT};
use vatic_host::data::Dataset;
use vatic_host::eval::{evaluate, EvalOptions};
use vatic_host::models::Model;
use vatic_qemu_tests::{assert_same_bits, repo_root, should_run, summary_lines, Board, Run};

/// The report as text, as the device prints it.
#[derive(Default)]
struct Text(String);

impl Sink for Text {
    fn line(&mut self, text: &[u8]) {
        self.0
            .push_str(std::str::from_utf8(text).expect("the report is ASCII"));
        self.0.push('\n');
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Bin {
    Infer,
    Check,
    Finetune,
}

impl Bin {
    fn name(self) -> &'static str {
        match self {
            Bin::Infer => "infer",
            Bin::Check => "check",
            Bin::Finetune => "finetune",
        }
    }
}

/// What the host prints for `bin`: the same library functions the binary calls.
fn host_transcript(bin: Bin) -> (String, Tally) {
    let (mut out, mut tally) = (Text::default(), Tally::new());
    let mut net = Box::new(Net::ZERO);
    match bin {
        Bin::Infer => infer::app(
            &mut net,
            &mut Box::new(infer::State::ZERO),
            &mut out,
            &mut tally,
        ),
        Bin::Check => check::app(
            &mut net,
            &mut Box::new(check::State::ZERO),
            &mut out,
            &mut tally,
        ),
        Bin::Finetune => finetune::app(
            &mut net,
            &mut Box::new(finetune::State::ZERO),
            &mut out,
            &mut tally,
        ),
    }
    tally.summary(&mut out);
    (out.0, tally)
}

/// A QEMU machine for the template's builds of one target.
struct Machine {
    board: Board,
    /// `VATIC_APP_MEMORY` (relative to `firmware/template`) and a target directory of its own.
    memory: Option<(&'static str, &'static str)>,
}

fn m4f() -> Machine {
    Machine {
        board: Board {
            package: "vatic-app (mps2-an386)".into(),
            target: "thumbv7em-none-eabihf".into(),
            profile: "m4f".into(),
            machine: "mps2-an386".into(),
        },
        memory: None,
    }
}

fn m0() -> Machine {
    Machine {
        board: Board {
            package: "vatic-app (microbit)".into(),
            target: "thumbv6m-none-eabi".into(),
            profile: "m0".into(),
            machine: "microbit".into(),
        },
        memory: None,
    }
}

/// The Cortex-m0() build with the mps2 memory map, on the Cortex-M3 `mps2-an385`: for
/// `finetune`, which needs more than the micro:bit's 16 KB of RAM.
fn m0_on_m3() -> Machine {
    Machine {
        board: Board {
            package: "vatic-app (thumbv6m on mps2-an385)".into(),
            target: "thumbv6m-none-eabi".into(),
            profile: "m0".into(),
            machine: "mps2-an385".into(),
        },
        memory: Some(("memory/mps2-an386.x", "target/debian-mps2")),
    }
}

/// Runs `elf` under `board`'s QEMU machine with semihosting, at most 300 s (the template's
/// binaries are not boards of `firmware/boards/board`, which would choose the machine).
fn run_on(board: &Board, elf: &Path) -> Run {
    Command::new("timeout")
        .arg("300")
        .arg("qemu-system-arm")
        .args(["-machine", board.machine.as_str(), "-nographic"])
        .args(["-semihosting-config", "enable=on,target=native"])
        .arg("-kernel")
        .arg(elf)
        .stdin(Stdio::null())
        .output()
        .expect("run qemu-system-arm")
        .into()
}

fn template_dir() -> PathBuf {
    repo_root().join("firmware/template")
}

/// Builds `bin` for QEMU (`--no-default-features --features qemu`) with `scripts/thumb-cargo`.
fn build(m: &Machine, bin: Bin) -> PathBuf {
    let dir = template_dir();
    let mut cmd = Command::new(repo_root().join("scripts/thumb-cargo"));
    cmd.args([
        "build",
        "--release",
        "--no-default-features",
        "--features",
        "qemu",
    ])
    .args(["--bin", bin.name(), "--target", m.board.target.as_str()])
    .arg("--message-format=json-render-diagnostics")
    .current_dir(&dir)
    // The firmware's link arguments come from its configuration; RUSTFLAGS would replace them.
    .env_remove("RUSTFLAGS")
    .env_remove("CARGO_ENCODED_RUSTFLAGS")
    .env_remove("CARGO_TARGET_DIR")
    .env_remove("VATIC_APP_MEMORY")
    .stderr(Stdio::inherit());
    if let Some((memory, target_dir)) = m.memory {
        // Its own target directory, so the default builds keep their memory map.
        let t = dir.join(target_dir);
        cmd.env("VATIC_APP_MEMORY", memory)
            .env("CARGO_TARGET_DIR", &t)
            .env("THUMB_CARGO_TARGET_DIR", &t);
    }
    let out = cmd.output().expect("run scripts/thumb-cargo");
    assert!(
        out.status.success(),
        "building vatic-app {} failed",
        bin.name()
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\""))
        .find_map(|l| {
            let start = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = start + l[start..].find('"')?;
            Some(PathBuf::from(&l[start..end]))
        })
        .unwrap_or_else(|| panic!("cargo reported no executable for {}", bin.name()))
}

/// Runs `bin` on `m` and checks it against the host's transcript; returns the device's output.
fn device_matches_host(m: &Machine, bin: Bin) -> Option<String> {
    let (host, tally) = host_transcript(bin);
    assert!(tally.success(), "the host's own checks failed:\n{host}");
    if !should_run(&m.board) {
        return None;
    }
    let elf = build(m, bin);
    let run = run_on(&m.board, &elf);
    eprintln!("{}", run.stdout);
    assert_eq!(
        run.code,
        Some(0),
        "{} {} exited with {:?} under QEMU (124 = timeout):\n{}",
        m.board.package,
        bin.name(),
        run.code,
        run.stdout
    );
    assert_same_bits(&m.board.package, &host, &run.stdout);
    eprintln!(
        "{} {}: {} summary lines bit-identical to the host's",
        m.board.package,
        bin.name(),
        summary_lines(&host).len()
    );
    Some(run.stdout)
}

/// The `@ <key> …` line of a transcript.
fn bit_line<'a>(transcript: &'a str, key: &str) -> &'a str {
    let prefix = format!("@ {key} ");
    transcript
        .lines()
        .map(str::trim_end)
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no `@ {key}` line in\n{transcript}"))
}

fn hex(values: &[f32]) -> String {
    values
        .iter()
        .map(|v| format!(" {:08x}", v.to_bits()))
        .collect()
}

/// The host model and test set in the blob: what `vatic eval --model FILE.vatc` would read.
fn blob_model() -> (Model, Dataset) {
    let h = blob::parse_header(BLOB).expect("the committed blob parses");
    let widths: Vec<usize> = h.widths().collect();
    let mut model = Model::zeros(&widths, h.activation).expect("widths");
    let samples = blob::parse(BLOB, model.net_mut()).expect("the committed blob parses");
    let n = samples.len();
    let (mut xs, mut ys) = (vec![0.0; n * IN], vec![0; n]);
    samples.read_into(&mut xs, &mut ys).expect("samples");
    (model, Dataset::new(IN, OUT, xs, ys).expect("valid samples"))
}

/// The `vatic eval` arguments of the check's settings on the committed blob, as
/// `model/make-model` runs them (the JSON report goes to `json`).
fn eval_args(json: &Path) -> Vec<String> {
    let eps: Vec<String> = EPS.iter().map(|e| e.to_string()).collect();
    let norm = match NORM {
        vatic::attack::Norm::LInf => "linf",
        vatic::attack::Norm::L2 => "l2",
    };
    [
        "vatic",
        "eval",
        "--model",
        &template_dir()
            .join("model/model.vatc")
            .display()
            .to_string(),
        "--clip",
        &format!("{},{}", CLIP.min, CLIP.max),
        "--norm",
        norm,
        "--eps",
        &eps.join(","),
        "--pgd-iterations",
        &PGD_ITERATIONS.to_string(),
        "--lds-eps",
        &LDS.eps.to_string(),
        "--lds-iterations",
        &LDS.iterations.to_string(),
        "--seed",
        &SEED.to_string(),
        "--certify",
        "off",
        "--json",
        &json.display().to_string(),
    ]
    .map(String::from)
    .to_vec()
}

/// `vatic eval` on the blob with the check's settings, run through the CLI's own parser and
/// command: its JSON report, and the same report as the library computes it (for its f32 bits).
fn eval_on_blob() -> (serde_json::Value, vatic_host::eval::Report) {
    let dir = std::env::temp_dir().join(format!("vatic-template-eval-{}", std::process::id()));
    let json = dir.join("eval.json");
    let cli = vatic_host::cli::Cli::try_parse_from(eval_args(&json)).expect("the eval flags");
    vatic_host::cli::run(cli).expect("vatic eval on the blob");
    let text = std::fs::read_to_string(&json).expect("vatic eval wrote its report");
    let _ = std::fs::remove_dir_all(&dir);
    let written: serde_json::Value = serde_json::from_str(&text).expect("a JSON report");
    // The settings `vatic eval` derives from those flags are the device's.
    let (model, test) = blob_model();
    let mut opts = EvalOptions::images(LDS.eps);
    opts.eps = EPS.to_vec();
    opts.pgd = vatic::attack::Pgd::madry(PGD_ITERATIONS);
    opts.lds.iterations = LDS.iterations;
    opts.seed = SEED;
    opts.certify = false;
    assert_eq!(opts.lds, LDS, "vatic eval's LDS settings are the check's");
    assert_eq!((opts.norm, opts.clip), (NORM, Some(CLIP)));
    let r = evaluate(&model, &test, &opts).expect("the library's report on the blob");
    // Through text, as the CLI writes it: `to_value` would widen each f32 to an f64.
    let library: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&r).expect("serialise")).expect("parse");
    assert_eq!(
        written, library,
        "vatic eval's JSON vs the library's report"
    );
    (written, r)
}

/// The check's bit lines as `vatic eval` gives them.
fn eval_lines(prefix: &str, r: &vatic_host::eval::Report) -> Vec<String> {
    vec![
        format!("@ {prefix}.clean_accuracy{}", hex(&[r.clean_accuracy])),
        format!("@ {prefix}.fgsm_accuracy{}", hex(&r.fgsm_accuracy)),
        format!("@ {prefix}.pgd_accuracy{}", hex(&r.pgd_accuracy)),
        format!("@ {prefix}.lds_mean_max{}", hex(&[r.lds_mean, r.lds_max])),
    ]
}

fn committed(name: &str) -> serde_json::Value {
    let path: &Path = &template_dir().join("model").join(name);
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn check_equals_vatic_eval_on_the_blob() {
    let (json, r) = eval_on_blob();
    // The committed report (model/make-model) is this one: the README's walkthrough shows it.
    assert_eq!(
        json,
        committed("eval.json"),
        "vatic eval on the blob vs the committed model/eval.json (rerun model/make-model)"
    );
    // The host library's check gives the same bits as vatic eval.
    let (host, _) = host_transcript(Bin::Check);
    for want in eval_lines("check", &r) {
        let key = want.split(' ').nth(1).unwrap_or_default();
        assert_eq!(bit_line(&host, key), want, "host check vs vatic eval");
    }
    // And so does the device, on the Cortex-m4f() and the Cortex-m0().
    for m in [&m4f(), &m0()] {
        if let Some(device) = device_matches_host(m, Bin::Check) {
            for want in eval_lines("check", &r) {
                let key = want.split(' ').nth(1).unwrap_or_default();
                assert_eq!(
                    bit_line(&device, key),
                    want,
                    "{}: the device's check vs vatic eval on the same blob",
                    m.board.package
                );
            }
            eprintln!(
                "{}: check bit-identical to vatic eval on the blob",
                m.board.package
            );
        }
    }
}

#[test]
fn infer_equals_the_exported_logits() {
    let exported = committed("model.json");
    assert_eq!(
        exported["blob_crc32"].as_u64(),
        Some(u64::from(blob::crc32(&BLOB[..BLOB.len() - 4]))),
        "model/model.json belongs to another blob (rerun model/make-model)"
    );
    let bits: Vec<u32> = exported["logits_bits"][0]
        .as_array()
        .expect("logits_bits")
        .iter()
        .map(|v| v.as_u64().expect("bits") as u32)
        .collect();
    let want: String = bits.iter().map(|b| format!(" {b:08x}")).collect();
    let want = format!("@ infer.logits{want}");
    let class = exported["predictions"][0].as_u64().expect("prediction") as f32;
    let (host, _) = host_transcript(Bin::Infer);
    assert_eq!(bit_line(&host, "infer.logits"), want);
    assert_eq!(
        bit_line(&host, "infer.class"),
        format!("@ infer.class{}", hex(&[class]))
    );
    for m in [&m4f(), &m0()] {
        if let Some(device) = device_matches_host(m, Bin::Infer) {
            assert_eq!(
                bit_line(&device, "infer.logits"),
                want,
                "{}",
                m.board.package
            );
        }
    }
}

#[test]
fn finetune_matches_host() {
    let (host, _) = host_transcript(Bin::Finetune);
    // Its first check is the check binary's.
    let (_, r) = eval_on_blob();
    for want in eval_lines("before", &r) {
        let key = want.split(' ').nth(1).unwrap_or_default();
        assert_eq!(bit_line(&host, key), want);
    }
    for m in [&m4f(), &m0_on_m3()] {
        device_matches_host(m, Bin::Finetune);
    }
}

#[test]
fn the_blob_is_the_network_type() {
    let mut net = Net::ZERO;
    let samples = blob::parse(BLOB, &mut net).expect("the committed blob parses");
    assert_eq!(samples.len(), 64);
    assert_eq!(
        (net.width(0), net.width(1), net.width(2)),
        (IN, vatic_app::model::H, OUT)
    );
}
