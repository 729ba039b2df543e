//! End-to-end tests of the `vatic` binary: every subcommand, and bad input that must give a
//! clear error (non-zero exit, a message on stderr) and never a panic.

mod common;

use common::{eval_json, vatic};
use predicates::prelude::*;
use std::path::Path;

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
    // `vatic eval` of the model on 100 test points with `extra` flags; the JSON report.
    let eval = |extra: &[&str], stdout: &str| -> serde_json::Value {
        let args = [
            &["--data", "moons2d", "--eps", "0,0.2,0.4", "--limit", "100"],
            extra,
        ]
        .concat();
        eval_json(&args, &model, &json, &["clean accuracy", "LDS", stdout])
    };
    let report = eval(&[], "PGD: L2 PGD, 10 steps of 2.5ε/10 from x, restarts 1");
    assert_eq!(report["samples"], 100);
    assert_eq!(report["pgd_accuracy"].as_array().unwrap().len(), 3);
    assert_eq!(report["pgd_restarts"], 1);
    assert_eq!(report["pgd_random_start"], false);
    // PGD from random starts with restarts: the report names the attack and counts them.
    let random = eval(
        &[
            "--pgd-random-start",
            "--pgd-restarts",
            "3",
            "--certify",
            "off",
        ],
        "PGD: L2 PGD, 10 steps of 2.5ε/10 from a uniform random start (seed 1), restarts 3",
    );
    assert_eq!(random["pgd_restarts"], 3);
    assert_eq!(random["pgd_random_start"], true);
    assert_eq!(random["pgd_accuracy"][0], report["pgd_accuracy"][0]);

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
    // 16 features, 4 classes: the default network is 16-100-4.
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

/// A CSV of `n` samples with 13 features and 3 classes (class `c` lights up features
/// `j ≡ c mod 3`), deterministic.
fn csv_13_features_3_classes(path: &Path, n: usize) {
    let mut text = String::from("# 13 features, label last\n");
    for i in 0..n {
        let c = i % 3;
        let row: Vec<String> = (0..13)
            .map(|j| {
                let on = if j % 3 == c { 1.0 } else { 0.0 };
                let noise = 0.05 * (((i * 7 + j * 3) % 11) as f32 - 5.0);
                format!("{}", on + noise)
            })
            .collect();
        text.push_str(&format!("{},{c}\n", row.join(",")));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn any_shape_trains_evaluates_inspects_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d13.csv");
    csv_13_features_3_classes(&csv, 120);
    let data = format!("csv:{}", csv.display());
    let model = dir.path().join("deep.safetensors");
    vatic()
        .args([
            "train",
            "--data",
            &data,
            "--shape",
            "13-40-40-3",
            "--method",
            "vat",
        ])
        .args([
            "--activation",
            "tanh",
            "--epochs",
            "15",
            "--labels-per-class",
            "5",
        ])
        .arg("--quiet")
        .arg("--out")
        .arg(&model)
        .assert()
        .success()
        .stderr(predicate::str::contains("a 13-40-40-3 tanh network"))
        .stdout(predicate::str::contains("test accuracy"));
    let loaded = vatic_host::model_io::load(&model).unwrap();
    assert_eq!(loaded.model.widths(), &[13, 40, 40, 3]);
    assert_eq!(loaded.metadata["vatic.widths"], "13-40-40-3");

    let json = dir.path().join("eval.json");
    let report = eval_json(
        &["--data", &data, "--eps", "0,0.05,0.1"],
        &model,
        &json,
        &["model 13-40-40-3 tanh"],
    );
    assert_eq!(report["widths"], "13-40-40-3");
    assert_eq!(report["samples"], 30);

    // inspect on a batch of the data.
    let rows: Vec<Vec<f64>> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .take(4)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let x: Vec<&[f64]> = rows.iter().map(|r| &r[..13]).collect();
    let y: Vec<i64> = rows.iter().map(|r| r[13] as i64).collect();
    let input = serde_json::json!({
        "x": x, "y": y, "d0": vec![vec![1.0; 13]; 4],
        "eps_fgsm": 0.05, "alpha": 0.5, "xi": 1e-3, "eps_vat": 0.5,
        "power_iterations": 1, "lambda": 1.0,
    });
    let input_path = dir.path().join("input.json");
    std::fs::write(&input_path, input.to_string()).unwrap();
    let out = vatic()
        .arg("inspect")
        .arg("--model")
        .arg(&model)
        .arg("--input")
        .arg(&input_path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let got: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(got["logits"].as_array().unwrap().len(), 4);
    assert_eq!(got["logits"][0].as_array().unwrap().len(), 3);
    let grad = got["grad"].as_object().unwrap();
    let names: Vec<&str> = grad.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    );
    assert_eq!(grad["2.weight"].as_array().unwrap().len(), 40);
    assert_eq!(grad["4.weight"][0].as_array().unwrap().len(), 40);
    assert_eq!(got["eig_top"][3].as_array().unwrap().len(), 13);

    // The firmware blob: version 2 with the four widths, read back by the core.
    let blob = dir.path().join("fw.bin");
    vatic()
        .args(["export-firmware", "--data", &data, "--samples", "6"])
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(&blob)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "13-40-40-3 tanh network, 6 samples",
        ));
    let bytes = std::fs::read(&blob).unwrap();
    let header = vatic::blob::parse_header(&bytes).unwrap();
    assert_eq!(header.version, 2);
    assert_eq!(header.widths().collect::<Vec<_>>(), [13, 40, 40, 3]);
    let mut net = vatic_host::models::Model::zeros(&[13, 40, 40, 3], vatic::Activation::Relu)
        .unwrap()
        .into_net();
    assert_eq!(vatic::blob::parse(&bytes, &mut net).unwrap().len(), 6);
    assert_eq!(&net, loaded.model.net());
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(blob.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(expected["format_version"], 2);
    assert_eq!(expected["widths"], "13-40-40-3");
}

#[test]
fn hidden_flag_takes_the_ends_from_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d13.csv");
    csv_13_features_3_classes(&csv, 60);
    let model = dir.path().join("h.safetensors");
    vatic()
        .args([
            "train", "--hidden", "12,9,7", "--method", "at", "--epochs", "3",
        ])
        .args(["--labels-per-class", "4", "--quiet", "--data"])
        .arg(format!("csv:{}", csv.display()))
        .arg("--out")
        .arg(&model)
        .assert()
        .success()
        .stderr(predicate::str::contains("a 13-12-9-7-3 relu network"));
    let m = vatic_host::model_io::load(&model).unwrap().model;
    assert_eq!(m.widths(), &[13, 12, 9, 7, 3]);
    // On the synthetic sets too, and without a hidden layer through --shape.
    let m2 = dir.path().join("m2.safetensors");
    vatic()
        .args([
            "train", "--data", "moons2d", "--hidden", "30,20", "--epochs", "5",
        ])
        .args(["--unlabelled-pool", "20", "--quiet", "--out"])
        .arg(&m2)
        .assert()
        .success()
        .stderr(predicate::str::contains("a 2-30-20-2 relu network"));
    vatic()
        .args([
            "train", "--data", "moons2d", "--shape", "2-2", "--epochs", "5",
        ])
        .args(["--unlabelled-pool", "20", "--quiet", "--out"])
        .arg(&m2)
        .assert()
        .success()
        .stderr(predicate::str::contains("a 2-2 relu network"));
    vatic()
        .args(["eval", "--data", "moons2d", "--limit", "50", "--json"])
        .arg(dir.path().join("e.json"))
        .arg("--model")
        .arg(&m2)
        .assert()
        .success()
        .stdout(predicate::str::contains("model 2-2 relu"));
}

#[test]
fn bad_shapes_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d13.csv");
    csv_13_features_3_classes(&csv, 30);
    let data = format!("csv:{}", csv.display());
    let d = data.as_str();
    fails_with(
        &["train", "--data", d, "--shape", "12-40-40-3"],
        &format!(
            "--shape 12-40-40-3 takes 12 inputs to 3 classes, but --data {d} has 13 features and \
             3 classes"
        ),
    );
    fails_with(
        &["train", "--data", d, "--shape", "13-40-40-4"],
        "has 13 features and 3 classes",
    );
    fails_with(
        &["train", "--data", d, "--shape", "13-forty-3"],
        "is not a list of positive integers",
    );
    fails_with(&["train", "--data", d, "--shape", "13-0-3"], "zero width");
    fails_with(
        &["train", "--data", d, "--shape", "13"],
        "needs at least the input width and the number of classes",
    );
    fails_with(
        &["train", "--data", d, "--hidden", "40,-1"],
        "--hidden 40,-1",
    );
    fails_with(&["train", "--data", d, "--hidden", "0"], "zero width");
    fails_with(
        &["train", "--data", d, "--shape", "13-4-3", "--hidden", "4"],
        "cannot be used with",
    );
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
    fails_with(
        &["train", "--data", "moons2d", "--shape", "2-7-3"],
        "--shape 2-7-3 takes 2 inputs to 3 classes, but --data moons2d has 2 features and 2 classes",
    );
    fails_with(
        &[
            "train", "--data", "moons2d", "--eps=-1", "--epochs", "1", "--quiet",
        ],
        "invalid value '-1' for '--eps <EPS>': must be finite and >= 0",
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
    // A 2-D model evaluated on 100-D data: a contradiction of its recorded data, and with
    // --force a shape mismatch.
    let model = train_2d(dir.path(), "supervised");
    let m = model.to_str().unwrap();
    fails_with(
        &["eval", "--data", "moons", "--model", m],
        "--data moons contradicts the model",
    );
    fails_with(
        &["eval", "--data", "moons", "--force", "--model", m],
        "features",
    );
    fails_with(
        &[
            "export-firmware",
            "--data",
            "digits",
            "--force",
            "--model",
            m,
        ],
        "features",
    );
    fails_with(&["eval", "--model"], "a value is required");
}

/// Every numeric flag is checked when the command line is parsed: the message names the flag
/// and the rule, the exit code is clap's usage error (2), and nothing is written. Each of these
/// was accepted before (a negative learning rate trained uphill, `--epochs 0` wrote an
/// untrained model, `--pgd-iterations 4000000000` ran for hours).
#[test]
fn numeric_flags_are_checked_when_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.safetensors");
    let out_s = out.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["train", "--lr", "-1"],
            "'--lr <LR>': must be finite and > 0",
        ),
        (
            &["train", "--lr", "0"],
            "'--lr <LR>': must be finite and > 0",
        ),
        (&["train", "--lr", "nan"], "'--lr <LR>'"),
        (&["train", "--lr-decay", "-1"], "'--lr-decay <LR_DECAY>'"),
        (
            &["train", "--momentum", "5"],
            "'--momentum <MOMENTUM>': must be in [0, 1)",
        ),
        (
            &["train", "--epochs", "0"],
            "'--epochs <EPOCHS>': must be at least 1",
        ),
        (
            &["train", "--batch-size", "0"],
            "'--batch-size <BATCH_SIZE>'",
        ),
        (&["train", "--labels-per-class", "0"], "'--labels-per-class"),
        (
            &["train", "--power-iterations", "0"],
            "'--power-iterations <POWER_ITERATIONS>': must be at least 1",
        ),
        (
            &["train", "--eps", "-0.5"],
            "'--eps <EPS>': must be finite and >= 0",
        ),
        (&["train", "--at-eps", "inf"], "'--at-eps <AT_EPS>'"),
        (
            &["train", "--vat-weight", "-1"],
            "'--vat-weight <VAT_WEIGHT>'",
        ),
        (&["train", "--xi", "0"], "'--xi <XI>'"),
        (&["train", "--test-size", "0"], "'--test-size <TEST_SIZE>'"),
        (
            &["eval", "--model", out_s, "--lds-iterations", "0"],
            "'--lds-iterations",
        ),
        (
            &["eval", "--model", out_s, "--pgd-iterations", "4000000000"],
            "'--pgd-iterations <PGD_ITERATIONS>': must be at most 10000",
        ),
        (
            &[
                "eval",
                "--model",
                out_s,
                "--pgd-random-start",
                "--pgd-restarts",
                "0",
            ],
            "'--pgd-restarts <PGD_RESTARTS>': must be at least 1",
        ),
        (
            &[
                "eval",
                "--model",
                out_s,
                "--pgd-random-start",
                "--pgd-restarts",
                "5000",
            ],
            "must be at most 1000",
        ),
        (
            // From the sample itself every restart is the same run.
            &["eval", "--model", out_s, "--pgd-restarts", "3"],
            "--pgd-random-start",
        ),
        (
            &["eval", "--model", out_s, "--bisection-steps", "0"],
            "'--bisection-steps <BISECTION_STEPS>': must be at least 1",
        ),
        (
            &["eval", "--model", out_s, "--bisection-steps", "99"],
            "must be at most 24",
        ),
        (
            &["eval", "--model", out_s, "--eps", "0.1,-1"],
            "invalid value '-1' for '--eps <EPS>'",
        ),
        (
            &["eval", "--model", out_s, "--lds-eps", "nan"],
            "'--lds-eps <LDS_EPS>'",
        ),
        (
            &["eval", "--model", out_s, "--limit", "0"],
            "'--limit <LIMIT>'",
        ),
        (
            &["demo", "--seeds", "0"],
            "'--seeds <SEEDS>': must be at least 1",
        ),
        (&["demo", "--epochs", "0"], "'--epochs <EPOCHS>'"),
        (
            &["export-firmware", "--model", out_s, "--samples", "0"],
            "'--samples <SAMPLES>'",
        ),
        (
            &["export-firmware", "--model", out_s, "--fgsm-eps", "-1"],
            "'--fgsm-eps <FGSM_EPS>'",
        ),
        (
            &["export-firmware", "--model", out_s, "--lds-eps", "inf"],
            "'--lds-eps <LDS_EPS>'",
        ),
    ];
    for (args, needle) in cases {
        let mut cmd = vatic();
        cmd.args(*args);
        if args[0] == "train" {
            cmd.args(["--data", "moons2d", "--quiet", "--out", out_s]);
        }
        cmd.assert()
            .code(2)
            .stderr(predicate::str::contains(*needle))
            .stderr(predicate::str::contains("panicked").not());
        assert!(!out.exists(), "{args:?} wrote {out_s}");
    }
}

/// An unlabelled minibatch larger than what VAT draws from was silently clamped; now it is
/// refused, naming both counts, before training starts.
#[test]
fn unlabelled_batch_beyond_the_pool_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.safetensors");
    vatic()
        .args(["train", "--data", "moons2d", "--unlabelled-pool", "40"])
        .args(["--unlabelled-batch", "57", "--epochs", "1", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--unlabelled-batch 57 is larger than the 56 samples VAT draws from (16 labelled + 40 unlabelled)",
        ));
    assert!(!out.exists());
    vatic()
        .args(["train", "--data", "moons2d", "--unlabelled-pool", "40"])
        .args([
            "--unlabelled-batch",
            "56",
            "--epochs",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
}
