//! The robustness report is right on any data: attacks stay in the data's own box (none for
//! CSV), `--norm` reaches the ε sweep, and `eval` / `export-firmware` evaluate a model on the
//! test set it was trained beside (its recorded provenance), with `--test` for a separate one.
//! Each of these failed before: FGSM at ε = 0 on features in [−5, 5] was clipped to [0, 1]
//! (72.9 % against 98.6 % clean), and a model trained with `--seed 3` was evaluated on seed 1's
//! data.

mod common;

use common::vatic;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// Two classes split by `x0 + x1 > 0`, four features spread over [−5, 5], deterministic.
fn csv_in_minus_5_to_5(path: &Path, n: usize, phase: usize) {
    let mut text = String::new();
    for i in 0..n {
        let f: Vec<f32> = (0..4)
            .map(|j| ((((i + phase) * (7 + 2 * j) + 3 * j) % 101) as f32 / 10.0) - 5.0)
            .collect();
        let y = usize::from(f[0] + f[1] > 0.0);
        let row: Vec<String> = f.iter().map(|v| v.to_string()).collect();
        text.push_str(&format!("{},{y}\n", row.join(",")));
    }
    std::fs::write(path, text).unwrap();
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap()
}

fn train(args: &[&str], out: &Path) {
    vatic()
        .arg("train")
        .args(args)
        .args(["--quiet", "--out"])
        .arg(out)
        .assert()
        .success();
}

#[test]
fn csv_data_is_not_clipped_to_the_unit_box_in_either_norm() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("wide.csv");
    csv_in_minus_5_to_5(&csv, 400, 0);
    let data = format!("csv:{}", csv.display());
    let model = dir.path().join("m.safetensors");
    train(
        &[
            "--data",
            &data,
            "--method",
            "supervised",
            "--hidden",
            "16",
            "--labels-per-class",
            "100",
            "--lr",
            "0.01",
            "--epochs",
            "60",
        ],
        &model,
    );
    for norm in ["l2", "linf"] {
        let report = dir.path().join(format!("{norm}.json"));
        vatic()
            .args(["eval", "--model"])
            .arg(&model)
            .args(["--norm", norm, "--json"])
            .arg(&report)
            .assert()
            .success()
            .stderr(predicate::str::contains("the data's units"));
        let r = json(&report);
        let clean = f(&r["clean_accuracy"]);
        assert!(clean > 0.8, "{norm}: {r}");
        // At ε = 0 no attack moves a sample: robust accuracy is the clean accuracy.
        assert_eq!(f(&r["eps"][0]), 0.0);
        assert_eq!(f(&r["fgsm_accuracy"][0]), clean, "{norm}: {r}");
        assert_eq!(f(&r["pgd_accuracy"][0]), clean, "{norm}: {r}");
        assert_eq!(r["norm"], norm);
        // The default sweep is in the data's units (features spread over ±5), not [0, 1]'s.
        let eps_max = f(&r["eps"][10]);
        // Half the feature sd (≈ 2.9 for uniform on ±5) in L∞, times √4 features in L2.
        let want = if norm == "l2" { 2.9 } else { 1.45 };
        assert!(
            (eps_max - want).abs() < 0.3 * want,
            "{norm}: max ε {eps_max}"
        );
        assert!(f(&r["pgd_accuracy"][10]) < clean, "{norm}: {r}");
    }
    // --clip gives CSV data a box: with [0, 0] every attacked sample collapses to one point,
    // so robust accuracy at ε = 0 drops below clean accuracy. The flag reaches the attacks.
    let report = dir.path().join("clipped.json");
    vatic()
        .args(["eval", "--model"])
        .arg(&model)
        .args(["--clip", "0,0", "--eps", "0,1", "--json"])
        .arg(&report)
        .assert()
        .success();
    let r = json(&report);
    assert!(f(&r["fgsm_accuracy"][0]) < f(&r["clean_accuracy"]), "{r}");
}

/// `vatic.test_accuracy` as written by `train`.
fn trained_accuracy(model: &Path) -> f64 {
    let loaded = vatic_host::model_io::load(model).unwrap();
    assert_eq!(loaded.metadata["vatic.seed"], "3");
    loaded.metadata["vatic.test_accuracy"].parse().unwrap()
}

fn moons_seed_3(dir: &Path) -> PathBuf {
    let model = dir.join("moons3.safetensors");
    train(
        &[
            "--data",
            "moons2d",
            "--seed",
            "3",
            "--method",
            "supervised",
            "--epochs",
            "60",
        ],
        &model,
    );
    model
}

#[test]
fn eval_and_export_use_the_models_data_and_refuse_a_contradiction() {
    let dir = tempfile::tempdir().unwrap();
    let model = moons_seed_3(dir.path());
    let want = trained_accuracy(&model);
    let report = dir.path().join("r.json");
    // No data flags: the model's --data moons2d --seed 3, said on stderr.
    vatic()
        .args(["eval", "--model"])
        .arg(&model)
        .arg("--json")
        .arg(&report)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "data: --data moons2d --seed 3 --unlabelled-pool",
        ));
    let r = json(&report);
    assert_eq!(f(&r["clean_accuracy"]) as f32, want as f32, "{r}");

    // The same flags are fine; another seed is refused with both values and both ways out.
    vatic()
        .args(["eval", "--data", "moons2d", "--seed", "3", "--model"])
        .arg(&model)
        .arg("--json")
        .arg(&report)
        .assert()
        .success();
    vatic()
        .args(["eval", "--seed", "4", "--model"])
        .arg(&model)
        .arg("--json")
        .arg(&report)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--seed 4 contradicts the model"))
        .stderr(predicate::str::contains("trained with --seed 3"))
        .stderr(predicate::str::contains("--force"));
    vatic()
        .args(["eval", "--seed", "4", "--force", "--model"])
        .arg(&model)
        .arg("--json")
        .arg(&report)
        .assert()
        .success();

    // export-firmware's expected accuracy is the host's on the same test samples as eval's.
    let blob = dir.path().join("m.vatc");
    vatic()
        .args(["export-firmware", "--samples", "50", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&blob)
        .assert()
        .success();
    let expected = json(&blob.with_extension("json"));
    let limited = dir.path().join("r50.json");
    vatic()
        .args(["eval", "--limit", "50", "--model"])
        .arg(&model)
        .arg("--json")
        .arg(&limited)
        .assert()
        .success();
    assert_eq!(
        f(&expected["accuracy"]) as f32,
        f(&json(&limited)["clean_accuracy"]) as f32
    );
    vatic()
        .args([
            "export-firmware",
            "--data",
            "moons2d",
            "--seed",
            "5",
            "--model",
        ])
        .arg(&model)
        .arg("--out")
        .arg(&blob)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--seed 5 contradicts"));
}

#[test]
fn a_separate_test_set_is_used_and_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    csv_in_minus_5_to_5(&a, 300, 0);
    csv_in_minus_5_to_5(&b, 77, 1000);
    let model = dir.path().join("m.safetensors");
    let test = format!("csv:{}", b.display());
    vatic()
        .args(["train", "--data", &format!("csv:{}", a.display())])
        .args(["--test", &test, "--method", "supervised", "--hidden", "8"])
        .args(["--epochs", "20", "--quiet", "--out"])
        .arg(&model)
        .assert()
        .success()
        .stderr(predicate::str::contains(", 77 test samples"));
    let report = dir.path().join("r.json");
    vatic()
        .args(["eval", "--model"])
        .arg(&model)
        .arg("--json")
        .arg(&report)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("--test {test}")));
    let r = json(&report);
    assert_eq!(r["samples"], 77, "{r}");
    // --test and --test-size contradict each other.
    vatic()
        .args(["train", "--data", &format!("csv:{}", a.display())])
        .args(["--test", &test, "--test-size", "10"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--test-size"));
}
