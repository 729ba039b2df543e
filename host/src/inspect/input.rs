//! The input file of `vatic inspect` ([`Input`], the fixtures' `<case>.input.json`) and its
//! check against a model: every value rounded to the core's `f32` and refused where it does not
//! fit ([`Batch::new`]).

use crate::models::Model;
use anyhow::{bail, ensure, Result};
use serde::{Deserialize, Serialize};

/// The input file of `vatic inspect` (the fixtures' `<case>.input.json`).
///
/// Numbers are read as `f64` and rounded to the core's `f32`; a value that is not finite in
/// `f32` is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Samples `[B][D]`.
    pub x: Vec<Vec<f64>>,
    /// Labels `[B]`, each in `0..classes`.
    pub y: Vec<i64>,
    /// VAT start directions `[B][D]` (normalised by the core).
    pub d0: Vec<Vec<f64>>,
    /// FGSM radius (L∞ and L2).
    pub eps_fgsm: f64,
    /// Weight of the clean loss in adversarial training, in `[0, 1]`.
    pub alpha: f64,
    /// Finite-difference step of VAT's power iteration.
    pub xi: f64,
    /// VAT radius (L2).
    pub eps_vat: f64,
    /// Power iterations `K` behind `r_vadv`, `lds*`, `r_vadv_exact`, `lds_exact*`, `semi_*`.
    pub power_iterations: u32,
    /// Weight of the mean LDS in the semi-supervised objectives.
    pub lambda: f64,
    /// Optional perturbations `[B][D]` at which `lds`, `lds_mean`, `lds_grad` and `semi_*` are
    /// evaluated instead of the core's own finite-difference `r_vadv` (which is then not
    /// computed; the output's `r_vadv` is this one, rounded to `f32`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r_vadv: Option<Vec<Vec<f64>>>,
}

/// Parses the input file's text.
///
/// # Errors
///
/// Malformed JSON, a missing or unknown field, or a value of the wrong type; the message says
/// where. JSON has no NaN: a `NaN`/`Infinity` literal (as Python's `json` writes them) is
/// reported as a non-finite input.
pub fn parse_input(text: &str) -> Result<Input> {
    serde_json::from_str(text).map_err(|e| {
        let hint = if ["NaN", "Infinity"].iter().any(|w| text.contains(w)) {
            " (the input contains NaN or Infinity, which JSON cannot represent; inputs must be \
             finite numbers)"
        } else {
            ""
        };
        anyhow::anyhow!("malformed inspect input: {e}{hint}")
    })
}

/// An [`Input`] checked against a model, in the core's `f32`: the arrays flat (`B · D`).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Samples `x`, `[B · D]`.
    pub xs: Vec<f32>,
    /// Labels `y`, each below the model's classes.
    pub ys: Vec<usize>,
    /// VAT start directions `d0`, `[B · D]`.
    pub d0s: Vec<f32>,
    /// The given perturbations `r_vadv`, if any, `[B · D]`.
    pub given_r: Option<Vec<f32>>,
    /// FGSM radius, `≥ 0`.
    pub eps_fgsm: f32,
    /// Adversarial training's weight of the clean loss, in `[0, 1]`.
    pub alpha: f32,
    /// VAT's finite-difference step, `> 0`.
    pub xi: f32,
    /// VAT radius, `≥ 0`.
    pub eps_vat: f32,
    /// Power iterations `K`.
    pub power_iterations: u32,
    /// Weight of the mean LDS in the semi-supervised objectives, `≥ 0`.
    pub lambda: f32,
}

impl Batch {
    /// Checks `input` against `model` and rounds it to `f32`.
    ///
    /// # Errors
    ///
    /// When the input does not fit the model (number of features, labels out of range, `d0` or
    /// `r_vadv` of another shape, an empty batch), a value is not finite in `f32`, or a
    /// hyper-parameter is out of range; the message names the field and index.
    pub fn new(model: &Model, input: &Input) -> Result<Self> {
        let name = model.shape_name();
        let (inputs, classes) = (model.features(), model.classes());
        let b = input.x.len();
        ensure!(b > 0, "x is empty: give at least one sample");
        ensure!(
            input.y.len() == b,
            "y has {} labels but x has {b} samples",
            input.y.len()
        );
        ensure!(
            input.d0.len() == b,
            "d0 has {} rows but x has {b} samples (one VAT start direction per sample)",
            input.d0.len()
        );
        let xs = rows("x", &input.x, inputs, &name)?;
        let d0s = rows("d0", &input.d0, inputs, &name)?;
        let mut ys = Vec::with_capacity(b);
        for (i, &y) in input.y.iter().enumerate() {
            if y < 0 || y >= classes as i64 {
                bail!(
                    "y[{i}] = {y} is out of range: the {name} model has {classes} classes \
                     (labels 0..={})",
                    classes - 1
                );
            }
            ys.push(y as usize);
        }
        let eps_fgsm = to_f32(input.eps_fgsm, || "eps_fgsm".into())?;
        let alpha = to_f32(input.alpha, || "alpha".into())?;
        let xi = to_f32(input.xi, || "xi".into())?;
        let eps_vat = to_f32(input.eps_vat, || "eps_vat".into())?;
        let lambda = to_f32(input.lambda, || "lambda".into())?;
        ensure!(eps_fgsm >= 0.0, "eps_fgsm = {eps_fgsm} must be >= 0");
        ensure!(
            (0.0..=1.0).contains(&alpha),
            "alpha = {alpha} must be in [0, 1]"
        );
        ensure!(xi > 0.0, "xi = {xi} must be > 0");
        ensure!(eps_vat >= 0.0, "eps_vat = {eps_vat} must be >= 0");
        ensure!(lambda >= 0.0, "lambda = {lambda} must be >= 0");
        let given_r = match &input.r_vadv {
            Some(r) => {
                ensure!(
                    r.len() == b,
                    "r_vadv has {} rows but x has {b} samples",
                    r.len()
                );
                Some(rows("r_vadv", r, inputs, &name)?)
            }
            None => None,
        };
        Ok(Batch {
            xs,
            ys,
            d0s,
            given_r,
            eps_fgsm,
            alpha,
            xi,
            eps_vat,
            power_iterations: input.power_iterations,
            lambda,
        })
    }
}

/// `v` as `f32`, refusing values that are not finite in `f32`.
fn to_f32(v: f64, what: impl FnOnce() -> String) -> Result<f32> {
    let f = v as f32;
    ensure!(
        f.is_finite(),
        "{} = {} is not a finite f32 value (NaN, infinite or beyond ±3.4e38)",
        what(),
        if v.abs() >= 1e16 {
            format!("{v:e}")
        } else {
            v.to_string()
        }
    );
    Ok(f)
}

/// A `[B][D]` field as `f32` rows of `width` values, flat (`B · width`).
fn rows(name: &str, m: &[Vec<f64>], width: usize, model: &str) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(m.len() * width);
    for (i, r) in m.iter().enumerate() {
        ensure!(
            r.len() == width,
            "{name}[{i}] has {} values but the {model} model takes {width} features",
            r.len()
        );
        for (j, &v) in r.iter().enumerate() {
            out.push(to_f32(v, || format!("{name}[{i}][{j}]"))?);
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use vatic::Activation;

    /// A batch of `x` with labels `y`, start directions of ones and valid settings.
    pub(crate) fn input(x: Vec<Vec<f64>>, y: Vec<i64>) -> Input {
        let d0 = x.iter().map(|r| vec![1.0; r.len()]).collect();
        Input {
            x,
            y,
            d0,
            eps_fgsm: 0.1,
            alpha: 0.5,
            xi: 1e-3,
            eps_vat: 0.5,
            power_iterations: 1,
            lambda: 1.0,
            r_vadv: None,
        }
    }

    fn err(model: &Model, i: &Input) -> String {
        format!("{:#}", Batch::new(model, i).unwrap_err())
    }

    #[test]
    fn explains_inputs_that_do_not_fit() {
        let m = Model::new(&[2, 100, 2], Activation::Relu, 1).unwrap();
        let ok = input(vec![vec![0.5, -0.5], vec![1.0, 0.0]], vec![0, 1]);
        let b = Batch::new(&m, &ok).unwrap();
        assert_eq!((b.xs.len(), b.ys, b.d0s.len()), (4, vec![0, 1], 4));

        let e = err(&m, &input(vec![vec![0.5, -0.5, 1.0]], vec![0]));
        assert!(
            e.contains("x[0] has 3 values") && e.contains("2-100-2"),
            "{e}"
        );
        let e = err(&m, &input(vec![vec![0.5, -0.5]], vec![2]));
        assert!(e.contains("y[0] = 2 is out of range"), "{e}");
        let e = err(&m, &input(vec![vec![0.5, -0.5]], vec![-1]));
        assert!(e.contains("out of range"), "{e}");
        let e = err(&m, &input(vec![vec![0.5, 1e39]], vec![0]));
        assert!(
            e.contains("x[0][1]") && e.contains("not a finite f32"),
            "{e}"
        );
        let e = err(&m, &input(vec![], vec![]));
        assert!(e.contains("x is empty"), "{e}");
        let mut bad = ok.clone();
        bad.d0.pop();
        assert!(err(&m, &bad).contains("d0 has 1 rows"));
        let mut bad = ok.clone();
        bad.alpha = 1.5;
        assert!(err(&m, &bad).contains("alpha"));
        let mut bad = ok.clone();
        bad.xi = 0.0;
        assert!(err(&m, &bad).contains("xi"));
        let mut bad = ok.clone();
        bad.r_vadv = Some(vec![vec![0.0, 0.0]]);
        assert!(err(&m, &bad).contains("r_vadv has 1 rows"));
    }

    #[test]
    fn parse_errors_are_explained() {
        let e = format!("{:#}", parse_input("{\"x\": [[NaN]]}").unwrap_err());
        assert!(e.contains("NaN or Infinity"), "{e}");
        let e = format!("{:#}", parse_input("{\"x\": [[1]]}").unwrap_err());
        assert!(e.contains("missing field"), "{e}");
        let e = format!("{:#}", parse_input("[1, 2").unwrap_err());
        assert!(e.contains("malformed"), "{e}");
    }
}
