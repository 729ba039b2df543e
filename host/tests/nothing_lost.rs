//! Issue #15, "nothing lost, nothing silent": outputs never overwrite inputs or each other,
//! missing output directories are reported before the work, a closed standard output ends the
//! program quietly, and retraining writes byte-identical model files.

mod common;

use common::vatic;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// A quick 2-D model at `dir/name`.
fn train(dir: &Path, name: &str, seed: &str) -> PathBuf {
    let model = dir.join(name);
    vatic()
        .args(["train", "--data", "moons2d", "--method", "supervised"])
        .args(["--epochs", "5", "--unlabelled-pool", "20", "--quiet"])
        .args(["--seed", seed, "--out"])
        .arg(&model)
        .assert()
        .success();
    model
}

#[test]
fn an_output_that_names_an_input_or_another_output_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path(), "m.safetensors", "1");
    let before = std::fs::read(&model).unwrap();
    // export-firmware --out M and --expected M, with M the --model (also spelt differently).
    let other = dir.path().join(".").join("m.safetensors");
    for (flag, path) in [("--out", &model), ("--expected", &other)] {
        vatic()
            .args(["export-firmware", "--data", "moons2d", "--model"])
            .arg(&model)
            .arg(flag)
            .arg(path)
            .assert()
            .failure()
            .stderr(predicate::str::contains(flag).and(predicate::str::contains("--model")))
            .stderr(predicate::str::contains("panicked").not());
        assert_eq!(
            std::fs::read(&model).unwrap(),
            before,
            "{flag} replaced the model"
        );
    }
    // --out and --expected the same file.
    let blob = dir.path().join("b.bin");
    vatic()
        .args(["export-firmware", "--data", "moons2d", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&blob)
        .arg("--expected")
        .arg(&blob)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--out").and(predicate::str::contains("--expected")));
    assert!(!blob.exists());
    // eval --json M.
    vatic()
        .args(["eval", "--data", "moons2d", "--model"])
        .arg(&model)
        .arg("--json")
        .arg(&model)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--json").and(predicate::str::contains("--model")));
    assert_eq!(std::fs::read(&model).unwrap(), before);
    // train --out X --log X: refused before training, X untouched.
    vatic()
        .args(["train", "--data", "moons2d", "--epochs", "5", "--quiet"])
        .arg("--out")
        .arg(&model)
        .arg("--log")
        .arg(&model)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--out").and(predicate::str::contains("--log")))
        .stderr(predicate::str::contains("training a").not());
    assert_eq!(std::fs::read(&model).unwrap(), before);
    // train --out onto its own CSV data.
    let csv = dir.path().join("d.csv");
    std::fs::write(&csv, "0,0,0\n1,1,1\n0,1,0\n1,0,1\n").unwrap();
    vatic()
        .args(["train", "--quiet", "--data"])
        .arg(format!("csv:{}", csv.display()))
        .arg("--out")
        .arg(&csv)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--out").and(predicate::str::contains("--data")));
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "0,0,0\n1,1,1\n0,1,0\n1,0,1\n"
    );
}

#[test]
fn a_missing_log_directory_fails_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model.safetensors");
    vatic()
        .args(["train", "--data", "moons2d", "--epochs", "5", "--quiet"])
        .arg("--out")
        .arg(&out)
        .arg("--log")
        .arg(dir.path().join("missing").join("log.json"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("--log").and(predicate::str::contains("missing")))
        .stderr(predicate::str::contains("training a").not());
    assert!(
        !out.exists(),
        "the model was written before the --log check"
    );
}

#[test]
fn a_closed_standard_output_ends_quietly_and_the_files_are_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path(), "m.safetensors", "1");
    let json = dir.path().join("eval.json");
    let exe = assert_cmd::cargo::cargo_bin("vatic");
    let mut child = std::process::Command::new(exe)
        .args(["eval", "--data", "moons2d", "--limit", "20", "--model"])
        .arg(&model)
        .arg("--json")
        .arg(&json)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end at once, as `| head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "status {:?}, stderr: {stderr}",
        out.status
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert!(json.exists(), "the report was not written");
}

#[test]
fn retraining_writes_byte_identical_model_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = std::fs::read(train(dir.path(), "a.safetensors", "3")).unwrap();
    for name in ["b.safetensors", "c.safetensors", "d.safetensors"] {
        let b = std::fs::read(train(dir.path(), name, "3")).unwrap();
        assert!(a == b, "{name} differs from a.safetensors");
    }
}
