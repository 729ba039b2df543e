//! `vatic inspect` end to end: the built binary on a model saved in PyTorch `state_dict` form,
//! and bad input that must be explained (non-zero exit, a message on stderr), never a panic.
//!
//! The reference fixtures' `.safetensors` files are exactly what
//! `safetensors.torch.save_file(model.state_dict(), path, metadata={"activation": "tanh"})`
//! writes for a PyTorch `nn.Sequential(Linear(4, 16), Tanh(), Linear(16, 12), Tanh(),
//! Linear(12, 3))`: F32 tensors named `0.weight` `[16, 4]` (`[out, in]`), `0.bias` `[16]`,
//! `2.weight` `[12, 16]`, `2.bias`, `4.weight` `[3, 12]`, `4.bias` (the activation modules take
//! the odd indices and have no tensors), and the activation in the metadata. The first test
//! checks that layout in the file's header before running `vatic inspect` on it.

mod common;

use common::{eval_json, vatic};
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/reference/fixtures")
        .join(name)
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

const CASE: &str = "tanh_4_16_12_3_xi1e-3";

/// The JSON header of a safetensors file.
fn header(bytes: &[u8]) -> Value {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    serde_json::from_slice(&bytes[8..8 + n]).unwrap()
}

/// Runs `vatic inspect` with `model` and `input` and asserts a failure explained by `needle`.
fn fails_with(model: &Path, input: &Path, needle: &str) {
    vatic()
        .arg("inspect")
        .arg("--model")
        .arg(model)
        .arg("--input")
        .arg(input)
        .assert()
        .failure()
        .stderr(predicate::str::contains(needle))
        .stderr(predicate::str::contains("panicked").not());
}

/// Max over rows of max |a − e| / max |e_row|.
fn row_rel_err(a: &Value, e: &Value) -> f64 {
    let mut worst = 0.0f64;
    for (ar, er) in a.as_array().unwrap().iter().zip(e.as_array().unwrap()) {
        let er: Vec<f64> = er
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let scale = er.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (x, y) in ar.as_array().unwrap().iter().zip(&er) {
            worst = worst.max((x.as_f64().unwrap() - y).abs() / scale);
        }
    }
    worst
}

#[test]
fn inspect_reads_a_pytorch_state_dict_and_matches_the_reference_logits() {
    let model = fixture(&format!("{CASE}.safetensors"));
    let input = fixture(&format!("{CASE}.input.json"));
    // The file is in PyTorch state_dict form.
    let h = header(&std::fs::read(&model).unwrap());
    assert_eq!(h["__metadata__"]["activation"], "tanh");
    for (name, shape) in [
        ("0.weight", vec![16, 4]),
        ("0.bias", vec![16]),
        ("2.weight", vec![12, 16]),
        ("2.bias", vec![12]),
        ("4.weight", vec![3, 12]),
        ("4.bias", vec![3]),
    ] {
        assert_eq!(h[name]["dtype"], "F32", "{name}");
        assert_eq!(h[name]["shape"], serde_json::json!(shape), "{name}");
    }

    let out = vatic()
        .arg("inspect")
        .arg("--model")
        .arg(&model)
        .arg("--input")
        .arg(&input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let got: Value = serde_json::from_slice(&out).expect("stdout is one JSON object");
    let fixture = read_json(&fixture(&format!("{CASE}.json")));
    let expected = &fixture["outputs"];
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&got),
        keys(expected),
        "the fixture's quantities, by name"
    );
    let err = row_rel_err(&got["logits"], &expected["logits"]);
    assert!(err <= 1e-5, "logits off by {err:e} (row-relative)");
    // Gradients are dicts in PyTorch's names and [out][in] layout.
    assert_eq!(got["grad"]["2.weight"].as_array().unwrap().len(), 12);
    assert_eq!(got["grad"]["2.weight"][0].as_array().unwrap().len(), 16);
}

#[test]
fn inspect_writes_to_out_and_help_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q.json");
    vatic()
        .arg("inspect")
        .arg("--model")
        .arg(fixture("relu_2_100_2_xi1e-6.safetensors"))
        .arg("--input")
        .arg(fixture("relu_2_100_2_xi1e-6.input.json"))
        .arg("--out")
        .arg(&out)
        .arg("--pretty")
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let got = read_json(&out);
    assert_eq!(got["logits"].as_array().unwrap().len(), 8);
    assert!(got["lds"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v.as_f64().unwrap() >= 0.0));
    vatic()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("inspect"));
}

#[test]
fn inspect_explains_bad_input_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixture("relu_2_100_2_xi1e-3.safetensors");
    let input = fixture("relu_2_100_2_xi1e-3.input.json");
    let good: Value = read_json(&input);
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let edited = |name: &str, f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        write(name, &v.to_string())
    };

    // Missing files.
    fails_with(
        &dir.path().join("nope.safetensors"),
        &input,
        "cannot read model",
    );
    fails_with(&model, &dir.path().join("nope.json"), "cannot read input");
    // Malformed JSON, a missing field, a misspelt field.
    fails_with(
        &model,
        &write("trunc.json", "{\"x\": [[0.5, 1.0]"),
        "malformed inspect input",
    );
    let p = edited("missing.json", &|v| {
        v.as_object_mut().unwrap().remove("xi");
    });
    fails_with(&model, &p, "missing field `xi`");
    let p = edited("typo.json", &|v| {
        let l = v.as_object_mut().unwrap().remove("lambda").unwrap();
        v["lamda"] = l;
    });
    fails_with(&model, &p, "unknown field `lamda`");
    // Shapes that do not fit the model.
    let p = edited("wide.json", &|v| {
        v["x"][3] = serde_json::json!([0.1, 0.2, 0.3])
    });
    fails_with(
        &model,
        &p,
        "x[3] has 3 values but the 2-100-2 model takes 2 features",
    );
    let p = edited("d0.json", &|v| {
        v["d0"].as_array_mut().unwrap().pop();
    });
    fails_with(&model, &p, "d0 has 7 rows but x has 8 samples");
    fails_with(
        &fixture("relu_64_128_10_xi1e-3.safetensors"),
        &input,
        "x[0] has 2 values but the 64-128-10 model takes 64 features",
    );
    // Labels out of range.
    let p = edited("label.json", &|v| v["y"][5] = serde_json::json!(2));
    fails_with(
        &model,
        &p,
        "y[5] = 2 is out of range: the 2-100-2 model has 2 classes",
    );
    let p = edited("neg.json", &|v| v["y"][0] = serde_json::json!(-1));
    fails_with(&model, &p, "y[0] = -1 is out of range");
    // NaN: JSON has none (Python's json writes a bare NaN), and f32 overflow.
    let text = good.to_string().replacen("0.5", "NaN", 1);
    fails_with(&model, &write("nan.json", &text), "NaN or Infinity");
    let p = edited("big.json", &|v| v["d0"][1][0] = serde_json::json!(1e39));
    fails_with(&model, &p, "d0[1][0] = 1e39 is not a finite f32 value");
    let p = edited("alpha.json", &|v| v["alpha"] = serde_json::json!(2.0));
    fails_with(&model, &p, "alpha = 2 must be in [0, 1]");
    // Bad model files: not safetensors, a NaN parameter, layers that do not chain.
    fails_with(
        &write("junk.safetensors", "not a model"),
        &input,
        "not a valid safetensors",
    );
    let mut bytes = std::fs::read(&model).unwrap();
    let n = bytes.len();
    bytes[n - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    let nan_model = dir.path().join("nan.safetensors");
    std::fs::write(&nan_model, &bytes).unwrap();
    fails_with(&nan_model, &input, "not finite");
    // Layers that do not chain: 3-7, then 6-2.
    let odd = write_model(
        dir.path(),
        "odd.safetensors",
        &[
            ("0.weight", vec![7, 3]),
            ("0.bias", vec![7]),
            ("2.weight", vec![2, 6]),
            ("2.bias", vec![2]),
        ],
        "relu",
    );
    fails_with(
        &odd,
        &input,
        "2.weight takes 6 inputs but the previous layer, 0.weight, has 7 outputs",
    );
    // A 3-7-2 network is fine, but not for this 2-feature input.
    let other = write_model(
        dir.path(),
        "other.safetensors",
        &[
            ("0.weight", vec![7, 3]),
            ("0.bias", vec![7]),
            ("2.weight", vec![2, 7]),
            ("2.bias", vec![2]),
        ],
        "relu",
    );
    fails_with(
        &other,
        &input,
        "x[0] has 2 values but the 3-7-2 model takes 3 features",
    );
}

/// Writes a safetensors file the way `safetensors.torch.save_file(model.state_dict(), …)`
/// does, with the `safetensors` crate: F32 tensors of the given names and shapes (values from a
/// fixed pattern) and the activation in the metadata.
fn write_model(dir: &Path, name: &str, tensors: &[(&str, Vec<usize>)], act: &str) -> PathBuf {
    let data: Vec<Vec<u8>> = tensors
        .iter()
        .enumerate()
        .map(|(t, (_, shape))| {
            let n: usize = shape.iter().product();
            (0..n)
                .flat_map(|i| {
                    let v = ((i * 7 + t * 13) % 17) as f32 / 17.0 - 0.45;
                    v.to_le_bytes()
                })
                .collect()
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .zip(&data)
        .map(|((n, s), b)| {
            let v = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                .unwrap();
            (n.to_string(), v)
        })
        .collect();
    let meta = std::collections::HashMap::from([
        ("activation".to_string(), act.to_string()),
        ("format".to_string(), "pt".to_string()),
    ]);
    let p = dir.join(name);
    std::fs::write(&p, safetensors::serialize(views, &Some(meta)).unwrap()).unwrap();
    p
}

/// `nn.Sequential(Linear(2, 16), Tanh(), Linear(16, 12), Tanh(), Linear(12, 8), Tanh(),
/// Linear(8, 2))` as PyTorch names its state_dict: 0, 2, 4, 6.
#[test]
fn a_pytorch_model_with_three_hidden_layers_is_inspected_and_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(
        dir.path(),
        "torch3.safetensors",
        &[
            ("0.weight", vec![16, 2]),
            ("0.bias", vec![16]),
            ("2.weight", vec![12, 16]),
            ("2.bias", vec![12]),
            ("4.weight", vec![8, 12]),
            ("4.bias", vec![8]),
            ("6.weight", vec![2, 8]),
            ("6.bias", vec![2]),
        ],
        "tanh",
    );
    // The 2-feature, 2-class reference input fits it.
    let input = fixture("relu_2_100_2_xi1e-3.input.json");
    let out = vatic()
        .arg("inspect")
        .arg("--model")
        .arg(&model)
        .arg("--input")
        .arg(&input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let got: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(got["logits"].as_array().unwrap().len(), 8);
    let grad = got["semi_ent_grad"].as_object().unwrap();
    assert_eq!(grad.len(), 8);
    assert_eq!(grad["4.weight"].as_array().unwrap().len(), 8);
    assert_eq!(grad["4.weight"][0].as_array().unwrap().len(), 12);
    assert_eq!(grad["6.bias"].as_array().unwrap().len(), 2);
    for key in ["lds", "lds_exact", "eig_max", "entropy"] {
        for v in got[key].as_array().unwrap() {
            assert!(v.as_f64().unwrap() >= 0.0, "{key}: {v}");
        }
    }
    // The same file through the library: the loaded parameters are the file's.
    let m = vatic_host::model_io::load(&model).unwrap().model;
    assert_eq!(m.widths(), &[2, 16, 12, 8, 2]);
    assert_eq!(m.activation(), vatic::Activation::Tanh);

    let json = dir.path().join("eval.json");
    let report = eval_json(
        &["--data", "moons2d", "--limit", "40", "--eps", "0,0.3"],
        &model,
        &json,
        &["model 2-16-12-8-2 tanh, 40 test samples"],
    );
    assert_eq!(report["widths"], "2-16-12-8-2");
    assert_eq!(report["fgsm_accuracy"].as_array().unwrap().len(), 2);
}
