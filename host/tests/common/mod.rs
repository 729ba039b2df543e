//! What the binary's end-to-end tests share: the built `vatic` and one `vatic eval` run.
#![allow(dead_code)]

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

/// The built `vatic` binary.
pub fn vatic() -> Command {
    Command::cargo_bin("vatic").unwrap()
}

/// `vatic eval ARGS --model MODEL --json JSON`, which must succeed with each of `stdout` in
/// its standard output; the JSON report it wrote.
pub fn eval_json(args: &[&str], model: &Path, json: &Path, stdout: &[&str]) -> serde_json::Value {
    let mut assert = vatic()
        .arg("eval")
        .args(args)
        .arg("--model")
        .arg(model)
        .arg("--json")
        .arg(json)
        .assert()
        .success();
    for s in stdout {
        assert = assert.stdout(predicate::str::contains(*s));
    }
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}
