//! End-to-end tests of the `vatic` binary: every subcommand, and bad input that must give a
//! clear error (non-zero exit, a message on stderr) and never a panic.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn vatic() -> Command {
    Command::cargo_bin("vatic").unwrap()
}

/// Runs and asserts failure with `needle` in stderr and no panic.
fn fails_with(args: &[&str], needle: &str) {
    vatic()
        .args(args)
        .assert()
        .failure()
        .stderr(predicate::str::contains(needle))
        .stderr(predicate::str::contains("panicked").not());
}

fn train_2d(dir: &Path, method: &str) -> std::path::PathBuf {
    let model = dir.join(format!("{method}.safetensors"));
    vatic()
        .args([
            "train", "--data", "moons2d", "--method", method, "--epochs", "30",
        ])
        .args(["--unlabelled-pool", "40", "--quiet", "--out"])
        .arg(&model)
        .assert()
        .success()
        .stdout(predicate::str::contains("test accuracy"));
    model
}

#[test]
fn help_lists_every_subcommand() {
    vatic()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("demo"))
        .stdout(predicate::str::contains("train"))
        .stdout(predicate::str::contains("eval"))
        .stdout(predicate::str::contains("export-firmware"));
}

#[test]
fn train_then_eval_then_export() {
    let dir = tempfile::tempdir().unwrap();
    for method in ["supervised", "at", "vat", "vat-ent"] {
        train_2d(dir.path(), method);
    }
    let model = dir.path().join("vat.safetensors");
    let json = dir.path().join("eval.json");
    vatic()
        .args([
            "eval",
            "--data",
            "moons2d",
            "--eps",
            "0,0.2,0.4",
            "--limit",
            "100",
        ])
        .arg("--model")
        .arg(&model)
        .arg("--json")
        .arg(&json)
        .assert()
        .success()
        .stdout(predicate::str::contains("clean accuracy"))
        .stdout(predicate::str::contains("LDS"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["samples"], 100);
    assert_eq!(report["pgd_accuracy"].as_array().unwrap().len(), 3);

    let blob = dir.path().join("fw.bin");
    vatic()
        .args(["export-firmware", "--data", "moons2d", "--samples", "8"])
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(&blob)
        .assert()
        .success();
    let bytes = std::fs::read(&blob).unwrap();
    assert_eq!(&bytes[..4], b"VATC");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(blob.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(expected["samples"], 8);
}

#[test]
fn train_on_csv_and_digits() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d.csv");
    // 16 features, 4 classes: a CSV the 16-8-4 shape fits.
    let mut text = String::from("# toy\n");
    for i in 0..80 {
        let c = i % 4;
        let row: Vec<String> = (0..16)
            .map(|j| {
                format!(
                    "{}",
                    if j / 4 == c {
                        1.0
                    } else {
                        0.1 * ((i * j) % 3) as f32
                    }
                )
            })
            .collect();
        text.push_str(&format!("{},{c}\n", row.join(",")));
    }
    std::fs::write(&csv, text).unwrap();
    let model = dir.path().join("csv.safetensors");
    vatic()
        .args([
            "train",
            "--method",
            "vat",
            "--epochs",
            "20",
            "--labels-per-class",
            "5",
            "--quiet",
        ])
        .arg("--data")
        .arg(format!("csv:{}", csv.display()))
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let model = dir.path().join("digits.safetensors");
    vatic()
        .args([
            "train",
            "--data",
            "digits",
            "--method",
            "supervised",
            "--epochs",
            "3",
        ])
        .args(["--shape", "64-32-10", "--quiet", "--out"])
        .arg(&model)
        .assert()
        .success();
}

#[test]
fn demo_writes_table_and_pictures() {
    let dir = tempfile::tempdir().unwrap();
    vatic()
        .args([
            "demo",
            "--seeds",
            "1",
            "--epochs",
            "20",
            "--unlabelled-pool",
            "40",
        ])
        .args(["--skip-digits", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("supervised"))
        .stdout(predicate::str::contains("vat"));
    for f in ["demo_boundary.png", "demo_robustness.png", "demo.json"] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
}

#[test]
fn bad_input_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    fails_with(&["train", "--data", "nope"], "unknown data set");
    fails_with(&["train", "--data", "csv:/no/such.csv"], "cannot read");
    fails_with(
        &["train", "--data", "mnist:/no/such/dir"],
        "train-images-idx3-ubyte",
    );
    let ragged = dir.path().join("r.csv");
    std::fs::write(&ragged, "1,2,0\n1,1\n").unwrap();
    fails_with(
        &["train", "--data", &format!("csv:{}", ragged.display())],
        "ragged",
    );
    let odd = dir.path().join("o.csv");
    std::fs::write(&odd, "1,2,3,0\n1,2,3,1\n1,2,3,1\n1,2,3,0\n1,2,3,0\n").unwrap();
    fails_with(
        &[
            "train",
            "--labels-per-class",
            "1",
            "--data",
            &format!("csv:{}", odd.display()),
        ],
        "supported shapes",
    );
    fails_with(&["train", "--data", "moons2d", "--shape", "2-7-2"], "2-7-2");
    fails_with(
        &[
            "train", "--data", "moons2d", "--eps=-1", "--epochs", "1", "--quiet",
        ],
        "epsilon",
    );
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"definitely not safetensors").unwrap();
    fails_with(
        &[
            "eval",
            "--data",
            "moons2d",
            "--model",
            junk.to_str().unwrap(),
        ],
        "not a valid safetensors",
    );
    fails_with(
        &[
            "eval",
            "--data",
            "moons2d",
            "--model",
            "/no/model.safetensors",
        ],
        "cannot read model",
    );
    // A 2-D model evaluated on 100-D data.
    let model = train_2d(dir.path(), "supervised");
    fails_with(
        &[
            "eval",
            "--data",
            "moons",
            "--model",
            model.to_str().unwrap(),
        ],
        "features",
    );
    fails_with(
        &[
            "export-firmware",
            "--data",
            "digits",
            "--model",
            model.to_str().unwrap(),
        ],
        "features",
    );
    fails_with(&["eval", "--model"], "a value is required");
}
