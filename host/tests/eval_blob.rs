//! `vatic eval --model FILE.vatc`: a firmware blob is evaluated on the samples embedded in it,
//! so the host reports exactly what the device's check computes. Its report is the one of the
//! safetensors model it was exported from on the same samples; data flags that cannot apply are
//! refused, and a damaged blob is refused with the parser's reason, with nothing written.

mod common;

use common::{eval_json, vatic};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// Three classes by the sign pattern of six features spread over [−3, 3], deterministic.
fn csv(path: &Path, n: usize) {
    let mut text = String::new();
    for i in 0..n {
        let f: Vec<f32> = (0..6)
            .map(|j| ((i * (5 + 2 * j) + 7 * j) % 61) as f32 / 10.0 - 3.0)
            .collect();
        let y = usize::from(f[0] > 0.0) + usize::from(f[1] + f[2] > 0.5);
        let row: Vec<String> = f.iter().map(|v| v.to_string()).collect();
        text.push_str(&format!("{},{y}\n", row.join(",")));
    }
    std::fs::write(path, text).unwrap();
}

/// A model trained on that CSV with seed 7 (clipped to [−3, 3]), and its blob with the first
/// 24 test samples.
fn model_and_blob(dir: &Path) -> (PathBuf, PathBuf) {
    let data = dir.join("data.csv");
    csv(&data, 240);
    let data = format!("csv:{}", data.display());
    let model = dir.join("model.safetensors");
    vatic()
        .args([
            "train", "--data", &data, "--shape", "6-16-8-3", "--seed", "7",
        ])
        .args(["--clip", "-3,3", "--epochs", "20", "--quiet", "--out"])
        .arg(&model)
        .assert()
        .success();
    let blob = dir.join("model.vatc");
    vatic()
        .args(["export-firmware", "--samples", "24", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&blob)
        .arg("--expected")
        .arg(dir.join("expected.json"))
        .assert()
        .success();
    (model, blob)
}

const SETTINGS: [&str; 10] = [
    "--norm",
    "linf",
    "--eps",
    "0.1,0.3,0.6",
    "--pgd-iterations",
    "7",
    "--lds-eps",
    "0.5",
    "--certify",
    "on",
];

#[test]
fn a_blob_is_evaluated_on_its_samples_as_its_model_is() {
    let dir = tempfile::tempdir().unwrap();
    let (model, blob) = model_and_blob(dir.path());
    let from_model = eval_json(
        &[&SETTINGS[..], &["--limit", "24"]].concat(),
        &model,
        &dir.path().join("model.json"),
        &["24 test samples"],
    );
    let from_blob = eval_json(
        &[&SETTINGS[..], &["--clip", "-3,3", "--seed", "7"]].concat(),
        &blob,
        &dir.path().join("blob.json"),
        &["model 6-16-8-3 relu, 24 test samples"],
    );
    // Everything, to the last bit of every figure: widths, settings, accuracies, minimal ε,
    // LDS, the certified radii.
    assert_eq!(from_blob, from_model);
    // The blob records neither the seed nor the box: the flags give them, and they count.
    let other_seed = eval_json(
        &[&SETTINGS[..], &["--clip", "-3,3", "--seed", "8"]].concat(),
        &blob,
        &dir.path().join("seed8.json"),
        &[],
    );
    assert_ne!(other_seed["lds_mean"], from_model["lds_mean"]);
    assert_eq!(other_seed["fgsm_accuracy"], from_model["fgsm_accuracy"]);
    let unclipped = eval_json(
        &[&SETTINGS[..], &["--seed", "7"]].concat(),
        &blob,
        &dir.path().join("unclipped.json"),
        &[],
    );
    let attack = |r: &serde_json::Value| r["pgd_attack"].as_str().unwrap().to_string();
    assert!(
        attack(&from_model).contains("box [-3, 3]"),
        "{}",
        attack(&from_model)
    );
    assert!(
        !attack(&unclipped).contains("box"),
        "{}",
        attack(&unclipped)
    );
}

#[test]
fn data_flags_and_damaged_blobs_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (_, blob) = model_and_blob(dir.path());
    let json = dir.path().join("out.json");
    vatic()
        .args(["eval", "--data", "moons", "--model"])
        .arg(&blob)
        .arg("--json")
        .arg(&json)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--data does not apply to"))
        .stderr(predicate::str::contains("samples embedded"));
    assert!(!json.exists());
    // One flipped bit in the samples: the CRC-32 no longer matches.
    let mut bytes = std::fs::read(&blob).unwrap();
    let at = bytes.len() - 10;
    bytes[at] ^= 0x04;
    let damaged = dir.path().join("damaged.vatc");
    std::fs::write(&damaged, &bytes).unwrap();
    vatic()
        .args(["eval", "--model"])
        .arg(&damaged)
        .arg("--json")
        .arg(&json)
        .assert()
        .failure()
        .stderr(predicate::str::contains("loading firmware blob"))
        .stderr(predicate::str::contains("checksum does not match"));
    assert!(!json.exists());
}
