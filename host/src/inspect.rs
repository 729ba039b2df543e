//! `vatic inspect`: every quantity the core computes, for one model and one batch, as one JSON
//! object — the forward pass, cross-entropy and its gradients, FGSM, adversarial training, VAT
//! (finite-difference and exact power iteration), LDS, the semi-supervised objectives and the
//! top eigenpair of the VAT Hessian.
//!
//! The keys and conventions are those of the reference fixtures (`tests/reference/README.md`),
//! so the output of a model can be diffed against an independent implementation:
//!
//! ```sh
//! vatic inspect --model tests/reference/fixtures/relu_2_100_2_xi1e-3.safetensors \
//!               --input tests/reference/fixtures/relu_2_100_2_xi1e-3.input.json
//! ```
//!
//! The input file ([`Input`]) holds `x` `[B][D]`, `y` `[B]`, `d0` `[B][D]` (the VAT start
//! directions, so VAT is deterministic) and the hyper-parameters `eps_fgsm`, `alpha`, `xi`,
//! `eps_vat`, `power_iterations` and `lambda`; optionally `r_vadv` `[B][D]` to evaluate the LDS and
//! the semi-supervised objectives at a given perturbation instead of the core's own (what the
//! reference tests do: near a ReLU kink, an `r_vadv` that differs in the last bits switches units
//! and changes the gradient by far more than rounding).
//!
//! [`inspect`] is the library entry point (the reference tests call it on the fixtures); it
//! works on a model of any depth and widths, and every quantity comes from the core (the
//! passes, losses, attacks, `vat::*`), the host only arranges inputs and outputs.

use crate::models::{Model, Net};
use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use vatic::adversarial::{adversarial_grad, AdversarialConfig};
use vatic::attack::{Attack, Norm};
use vatic::semi::{semi_supervised_grad_with_directions, SemiConfig};
use vatic::vat::{self, Direction, VatConfig};
use vatic::{loss, pass, supervised, Network, Parameters};

/// Power iterations at most for `eig_top` (stops earlier once the direction has converged).
pub const EIG_MAX_ITERATIONS: usize = 500;

/// `vatic inspect`.
#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// The model (safetensors with PyTorch nn.Sequential names, as `vatic train` writes or
    /// `safetensors.torch.save_file(model.state_dict(), path, metadata={"activation": "relu"})`).
    #[arg(long)]
    pub model: PathBuf,
    /// The batch and hyper-parameters (JSON: x, y, d0, eps_fgsm, alpha, xi, eps_vat,
    /// power_iterations, lambda; optional r_vadv).
    #[arg(long)]
    pub input: PathBuf,
    /// Write the JSON here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Indent the JSON.
    #[arg(long)]
    pub pretty: bool,
}

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

/// A tensor of a parameter gradient: a weight `[out][in]` (PyTorch's layout) or a bias `[out]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Tensor {
    /// `K.weight`, `[out][in]`.
    Matrix(Vec<Vec<f32>>),
    /// `K.bias`, `[out]`.
    Vector(Vec<f32>),
}

/// A parameter gradient by PyTorch tensor name (`0.weight`, `0.bias`, `2.weight`, …).
pub type Grad = BTreeMap<String, Tensor>;

/// Everything `vatic inspect` prints. Per-sample arrays are `[B][…]`; the definitions are those
/// of the reference fixtures (`tests/reference/README.md`, "Output keys").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outputs {
    /// Logits `f(x)` `[B][C]`.
    pub logits: Vec<Vec<f32>>,
    /// `softmax(f(x))`.
    pub softmax: Vec<Vec<f32>>,
    /// `log_softmax(f(x))`.
    pub log_softmax: Vec<Vec<f32>>,
    /// Cross-entropy `−log p_y` per sample.
    pub ce: Vec<f32>,
    /// Mean cross-entropy.
    pub ce_mean: f32,
    /// `∂ ce_mean / ∂θ`.
    pub grad: Grad,
    /// `∇ₓ CE` per sample (not divided by B).
    pub input_grad: Vec<Vec<f32>>,
    /// `x + eps_fgsm · sign(input_grad)` (no clipping).
    pub fgsm_linf: Vec<Vec<f32>>,
    /// Mean CE at `fgsm_linf`.
    pub fgsm_linf_loss: f32,
    /// `x + eps_fgsm · normalize(input_grad)`.
    pub fgsm_l2: Vec<Vec<f32>>,
    /// Mean CE at `fgsm_l2`.
    pub fgsm_l2_loss: f32,
    /// `α · mean CE(x) + (1 − α) · mean CE(fgsm_linf)`.
    pub at_loss: f32,
    /// `∂ at_loss / ∂θ` (`fgsm_linf` held constant).
    pub at_grad: Grad,
    /// `normalize(d0)`.
    pub vat_d0_normalized: Vec<Vec<f32>>,
    /// `∇_r KL(p(x) ‖ p(x + r))` at `r = ξ · normalize(d0)`, per sample (not divided by B).
    pub vat_g1: Vec<Vec<f32>>,
    /// Finite-difference power-iteration direction after 1 iteration.
    pub vat_d_k1: Vec<Vec<f32>>,
    /// … after 3 iterations.
    pub vat_d_k3: Vec<Vec<f32>>,
    /// `eps_vat · d` after `power_iterations` finite-difference iterations (or the input's
    /// `r_vadv`).
    pub r_vadv: Vec<Vec<f32>>,
    /// `KL(p(x) ‖ p(x + r_vadv))` per sample.
    pub lds: Vec<f32>,
    /// Mean LDS.
    pub lds_mean: f32,
    /// `∂ lds_mean / ∂θ`, through `f(x + r_vadv)` only.
    pub lds_grad: Grad,
    /// Exact (Hessian-vector) power-iteration direction after 1 iteration.
    pub hvp_d_k1: Vec<Vec<f32>>,
    /// … after 3 iterations.
    pub hvp_d_k3: Vec<Vec<f32>>,
    /// `eps_vat · d` after `power_iterations` exact iterations.
    pub r_vadv_exact: Vec<Vec<f32>>,
    /// LDS at `r_vadv_exact` per sample.
    pub lds_exact: Vec<f32>,
    /// Its mean.
    pub lds_exact_mean: f32,
    /// Entropy `−Σ p log p` at `x` per sample.
    pub entropy: Vec<f32>,
    /// Its mean.
    pub entropy_mean: f32,
    /// `ce_mean + λ · lds_mean` (`x` is both the labelled and the unlabelled batch).
    pub semi_total: f32,
    /// `∂ semi_total / ∂θ`.
    pub semi_grad: Grad,
    /// `semi_total + entropy_mean`.
    pub semi_ent_total: f32,
    /// `∂ semi_ent_total / ∂θ` (entropy gradient not stopped).
    pub semi_ent_grad: Grad,
    /// Top eigenvector of `H = Jᵀ(diag p − ppᵀ)J` at `x` per sample (exact power iteration
    /// from `d0` until it stops moving, at most [`EIG_MAX_ITERATIONS`]); sign: the entry of
    /// largest magnitude is positive.
    pub eig_top: Vec<Vec<f32>>,
    /// Its eigenvalue (Rayleigh quotient `dᵀHd / dᵀd`).
    pub eig_max: Vec<f32>,
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

/// Computes every quantity for `model` on `input` (the library behind `vatic inspect`).
///
/// # Errors
///
/// When the input does not fit the model (number of features, labels out of range, `d0` or
/// `r_vadv` of another shape, an empty batch), a value is not finite in `f32`, or a
/// hyper-parameter is out of range; the message names the field and index.
pub fn inspect(model: &Model, input: &Input) -> Result<Outputs> {
    compute(model, input)
}

/// `vatic inspect`: loads the model and the input, prints (or writes) the JSON.
///
/// # Errors
///
/// When a file cannot be read or written, and as [`model_io::load`](crate::model_io::load),
/// [`parse_input`] and [`inspect`].
pub fn run(args: &InspectArgs) -> Result<()> {
    if let Some(out) = &args.out {
        crate::output::check(
            &[("--model", &args.model), ("--input", &args.input)],
            &[crate::output::Output {
                flag: "--out",
                path: out,
                creates_dir: false,
            }],
        )?;
    }
    let loaded = crate::model_io::load(&args.model)?;
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read input {}", args.input.display()))?;
    let input = parse_input(&text).with_context(|| format!("in {}", args.input.display()))?;
    let out = inspect(&loaded.model, &input).with_context(|| {
        format!(
            "inspecting {} on {}",
            args.model.display(),
            args.input.display()
        )
    })?;
    let json = if args.pretty {
        serde_json::to_string_pretty(&out)?
    } else {
        serde_json::to_string(&out)?
    };
    match &args.out {
        Some(p) => {
            crate::output::write(p, (json + "\n").as_bytes())?;
            eprintln!("wrote {}", p.display());
        }
        None => crate::outln!("{json}")?,
    }
    Ok(())
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

/// The gradient `g` by PyTorch names (`0.weight`, `0.bias`, `2.weight`, …), weights as
/// `[out][in]`.
pub fn grad_dict(g: &Net) -> Grad {
    let mut out = Grad::new();
    for l in 0..g.depth() {
        let Some(d) = g.layer(l) else { break };
        out.insert(
            format!("{}.weight", 2 * l),
            Tensor::Matrix(d.weight.chunks(d.inputs).map(<[f32]>::to_vec).collect()),
        );
        out.insert(format!("{}.bias", 2 * l), Tensor::Vector(d.bias.to_vec()));
    }
    out
}

/// A flat `[n · width]` array as `n` rows.
fn vecs(v: &[f32], width: usize) -> Vec<Vec<f32>> {
    v.chunks_exact(width.max(1)).map(<[f32]>::to_vec).collect()
}

/// A core error with the quantity being computed.
fn core_err(what: &'static str) -> impl Fn(vatic::Error) -> anyhow::Error {
    move |e| anyhow::anyhow!("computing {what}: {e}")
}

/// Adds `scale · ∂H(p(x))/∂θ` for every sample of `xs` to `grad` (`H` the entropy; the core's
/// [`loss::entropy_grad`] gives `∂H/∂z`, backpropagated through the network by the core's
/// [`pass`]).
fn add_entropy_grad(net: &Net, xs: &[f32], scale: f32, grad: &mut Net) {
    let s = net.shape();
    let mut trace = vec![0.0; pass::trace_len(&s, 1)];
    let mut scratch = vec![0.0; pass::scratch_len(&s, 1)];
    let mut z = vec![0.0; s.outputs];
    for x in xs.chunks_exact(s.inputs) {
        pass::forward(net, x, &mut trace, &mut z);
        loss::entropy_grad(&mut z);
        for v in &mut z {
            *v *= scale;
        }
        pass::backward(net, x, &trace, &z, Some(grad), None, &mut scratch);
    }
}

/// The entry of largest magnitude made positive (the fixtures' sign convention for
/// eigenvectors).
fn fix_sign(d: &mut [f32]) {
    let mut big = 0.0f32;
    for &v in d.iter() {
        if v.abs() > big.abs() {
            big = v;
        }
    }
    if big < 0.0 {
        for v in d {
            *v = -*v;
        }
    }
}

/// Top eigenpair of the VAT Hessian at `x` by exact power iteration from `d0`
/// ([`vat::hessian_vector_product`]).
fn top_eigenpair(net: &Net, x: &[f32], d0: &[f32], ws: &mut [f32]) -> Result<(Vec<f32>, f32)> {
    let mut d = d0.to_vec();
    vatic::vector::normalize(&mut d);
    let mut next = vec![0.0; d.len()];
    for _ in 0..EIG_MAX_ITERATIONS {
        vat::hessian_vector_product(net, x, &d, &mut next, ws).map_err(core_err("eig_top"))?;
        vatic::vector::normalize(&mut next);
        let moved = next
            .iter()
            .zip(&d)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        std::mem::swap(&mut d, &mut next);
        if moved < 1e-7 {
            break;
        }
    }
    let mut hd = vec![0.0; d.len()];
    vat::hessian_vector_product(net, x, &d, &mut hd, ws).map_err(core_err("eig_max"))?;
    let dd: f64 = d.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    let dhd: f64 = d
        .iter()
        .zip(&hd)
        .map(|(&a, &b)| f64::from(a) * f64::from(b))
        .sum();
    fix_sign(&mut d);
    let lambda = if dd > 0.0 { (dhd / dd) as f32 } else { 0.0 };
    Ok((d, lambda))
}

fn compute(model: &Model, input: &Input) -> Result<Outputs> {
    let name = model.shape_name();
    let net = model.net();
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
                "y[{i}] = {y} is out of range: the {name} model has {classes} classes (labels \
                 0..={})",
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
    let k = input.power_iterations;
    let cfg = |iterations: u32, direction: Direction| VatConfig {
        eps: eps_vat,
        xi,
        iterations,
        direction,
    };
    let fd = Direction::FiniteDifference;
    let exact = Direction::Exact;
    let mut ws = model.workspace();
    let samples = || xs.chunks_exact(inputs);
    let per_sample = |v: &mut Vec<f32>| v.resize(b * inputs, 0.0);

    // Forward pass, CE, entropy.
    let mut logits = vec![0.0; b * classes];
    pass::logits(net, &xs, &mut logits, &mut ws).map_err(core_err("logits"))?;
    let mut softmax = vec![0.0; b * classes];
    let mut log_softmax = vec![0.0; b * classes];
    let mut ce = Vec::with_capacity(b);
    let mut entropy = Vec::with_capacity(b);
    for (i, z) in logits.chunks_exact(classes).enumerate() {
        loss::softmax(z, &mut softmax[i * classes..(i + 1) * classes]);
        loss::log_softmax(z, &mut log_softmax[i * classes..(i + 1) * classes]);
        ce.push(loss::cross_entropy(z, ys[i]).map_err(core_err("ce"))?);
        entropy.push(loss::entropy(z));
    }
    let entropy_mean = entropy.iter().sum::<f32>() / b as f32;

    let mut g = model.zeroed_like();
    let ce_mean = supervised::cross_entropy_grad(net, &xs, &ys, 1.0, &mut g, &mut ws)
        .map_err(core_err("grad"))?;
    let grad = grad_dict(&g);

    // Input gradient and FGSM.
    let (mut input_grad, mut fgsm_linf, mut fgsm_l2) = (Vec::new(), Vec::new(), Vec::new());
    for v in [&mut input_grad, &mut fgsm_linf, &mut fgsm_l2] {
        per_sample(v);
    }
    for (i, (x, &y)) in samples().zip(&ys).enumerate() {
        let row = i * inputs..(i + 1) * inputs;
        supervised::input_gradient(net, x, y, &mut input_grad[row.clone()], &mut ws)
            .map_err(core_err("input_grad"))?;
        let linf = &mut fgsm_linf[row.clone()];
        Attack::fgsm(Norm::LInf)
            .perturb(net, x, y, eps_fgsm, linf, &mut ws)
            .map_err(core_err("fgsm_linf"))?;
        Attack::fgsm(Norm::L2)
            .perturb(net, x, y, eps_fgsm, &mut fgsm_l2[row], &mut ws)
            .map_err(core_err("fgsm_l2"))?;
    }
    let fgsm_linf_loss = supervised::cross_entropy_loss(net, &fgsm_linf, &ys, &mut ws)
        .map_err(core_err("fgsm_linf_loss"))?;
    let fgsm_l2_loss = supervised::cross_entropy_loss(net, &fgsm_l2, &ys, &mut ws)
        .map_err(core_err("fgsm_l2_loss"))?;

    // Adversarial training.
    g.zero();
    let at_cfg = AdversarialConfig {
        eps: eps_fgsm,
        alpha,
        norm: Norm::LInf,
        clip: None,
    };
    let at_loss = adversarial_grad(net, &xs, &ys, &at_cfg, 1.0, &mut g, &mut ws)
        .map_err(core_err("at_grad"))?;
    let at_grad = grad_dict(&g);

    // VAT: directions.
    let (mut vat_d0_normalized, mut vat_g1) = (d0s.clone(), Vec::new());
    let (mut vat_d_k1, mut vat_d_k3) = (Vec::new(), Vec::new());
    let (mut hvp_d_k1, mut hvp_d_k3) = (Vec::new(), Vec::new());
    let (mut eig_top, mut eig_max) = (Vec::with_capacity(b), Vec::with_capacity(b));
    per_sample(&mut vat_g1);
    for (i, (x, d0)) in samples().zip(d0s.chunks_exact(inputs)).enumerate() {
        let row = i * inputs..(i + 1) * inputs;
        let d = &mut vat_d0_normalized[row.clone()];
        vatic::vector::normalize(d);
        vat::finite_difference_gradient(net, x, d, xi, &mut vat_g1[row], &mut ws)
            .map_err(core_err("vat_g1"))?;
        for (iterations, direction, out) in [
            (1, fd, &mut vat_d_k1),
            (3, fd, &mut vat_d_k3),
            (1, exact, &mut hvp_d_k1),
            (3, exact, &mut hvp_d_k3),
        ] {
            let mut d = d0.to_vec();
            vat::power_iteration(net, x, &mut d, &cfg(iterations, direction), &mut ws)
                .map_err(core_err("the VAT power iteration"))?;
            out.extend_from_slice(&d);
        }
        let (top, lambda_max) = top_eigenpair(net, x, d0, &mut ws)?;
        eig_top.push(top);
        eig_max.push(lambda_max);
    }

    // VAT with the exact direction (ξ-independent).
    let mut r_vadv_exact = Vec::new();
    per_sample(&mut r_vadv_exact);
    let mut lds_exact = Vec::with_capacity(b);
    for (i, (x, d0)) in samples().zip(d0s.chunks_exact(inputs)).enumerate() {
        let r = &mut r_vadv_exact[i * inputs..(i + 1) * inputs];
        let l = vat::virtual_adversarial(net, x, d0, &cfg(k, exact), r, &mut ws)
            .map_err(core_err("r_vadv_exact"))?;
        lds_exact.push(l);
    }
    g.zero();
    let lds_exact_mean =
        vat::vat_grad_with_directions(net, &xs, &d0s, &cfg(k, exact), 1.0, &mut g, &mut ws)
            .map_err(core_err("lds_exact_mean"))?;

    // LDS and the semi-supervised objectives: at the core's finite-difference r_vadv, or at the
    // given one.
    let (r_vadv, lds, lds_mean, lds_grad, semi_total, semi_grad, semi_ent_total, semi_ent_grad) =
        match given_r {
            None => {
                let mut r_vadv = Vec::new();
                per_sample(&mut r_vadv);
                let mut lds = Vec::with_capacity(b);
                for (i, (x, d0)) in samples().zip(d0s.chunks_exact(inputs)).enumerate() {
                    let r = &mut r_vadv[i * inputs..(i + 1) * inputs];
                    let l = vat::virtual_adversarial(net, x, d0, &cfg(k, fd), r, &mut ws)
                        .map_err(core_err("r_vadv"))?;
                    lds.push(l);
                }
                g.zero();
                let lds_mean = vat::vat_grad_with_directions(
                    net,
                    &xs,
                    &d0s,
                    &cfg(k, fd),
                    1.0,
                    &mut g,
                    &mut ws,
                )
                .map_err(core_err("lds_grad"))?;
                let lds_grad = grad_dict(&g);
                let mut semi = |entropy_weight: f32| -> Result<(f32, Grad)> {
                    let semi_cfg = SemiConfig {
                        vat: cfg(k, fd),
                        vat_weight: lambda,
                        entropy_weight,
                    };
                    g.zero();
                    let l = semi_supervised_grad_with_directions(
                        net, &xs, &ys, &xs, &d0s, &semi_cfg, &mut g, &mut ws,
                    )
                    .map_err(core_err("the semi-supervised objective"))?;
                    Ok((l.total, grad_dict(&g)))
                };
                let (semi_total, semi_grad) = semi(0.0)?;
                let (semi_ent_total, semi_ent_grad) = semi(1.0)?;
                (
                    r_vadv,
                    lds,
                    lds_mean,
                    lds_grad,
                    semi_total,
                    semi_grad,
                    semi_ent_total,
                    semi_ent_grad,
                )
            }
            Some(rs) => {
                let mut scratch = model.zeroed_like();
                let mut lds = Vec::with_capacity(b);
                for (x, r) in samples().zip(rs.chunks_exact(inputs)) {
                    let l = vat::lds_at(net, x, r, 1.0, &mut scratch, &mut ws)
                        .map_err(core_err("lds"))?;
                    lds.push(l);
                }
                g.zero();
                let lds_mean = vat::lds_at(net, &xs, &rs, 1.0, &mut g, &mut ws)
                    .map_err(core_err("lds_grad"))?;
                let lds_grad = grad_dict(&g);
                // CE(x, y) + λ · LDS at the given r (+ the mean entropy).
                g.zero();
                let ce = supervised::cross_entropy_grad(net, &xs, &ys, 1.0, &mut g, &mut ws)
                    .map_err(core_err("semi_grad"))?;
                let l = vat::lds_at(net, &xs, &rs, lambda, &mut g, &mut ws)
                    .map_err(core_err("semi_grad"))?;
                let semi_total = ce + lambda * l;
                let semi_grad = grad_dict(&g);
                add_entropy_grad(net, &xs, 1.0 / b as f32, &mut g);
                let semi_ent_total = semi_total + entropy_mean;
                let semi_ent_grad = grad_dict(&g);
                (
                    rs,
                    lds,
                    lds_mean,
                    lds_grad,
                    semi_total,
                    semi_grad,
                    semi_ent_total,
                    semi_ent_grad,
                )
            }
        };

    Ok(Outputs {
        logits: vecs(&logits, classes),
        softmax: vecs(&softmax, classes),
        log_softmax: vecs(&log_softmax, classes),
        ce,
        ce_mean,
        grad,
        input_grad: vecs(&input_grad, inputs),
        fgsm_linf: vecs(&fgsm_linf, inputs),
        fgsm_linf_loss,
        fgsm_l2: vecs(&fgsm_l2, inputs),
        fgsm_l2_loss,
        at_loss,
        at_grad,
        vat_d0_normalized: vecs(&vat_d0_normalized, inputs),
        vat_g1: vecs(&vat_g1, inputs),
        vat_d_k1: vecs(&vat_d_k1, inputs),
        vat_d_k3: vecs(&vat_d_k3, inputs),
        r_vadv: vecs(&r_vadv, inputs),
        lds,
        lds_mean,
        lds_grad,
        hvp_d_k1: vecs(&hvp_d_k1, inputs),
        hvp_d_k3: vecs(&hvp_d_k3, inputs),
        r_vadv_exact: vecs(&r_vadv_exact, inputs),
        lds_exact,
        lds_exact_mean,
        entropy,
        entropy_mean,
        semi_total,
        semi_grad,
        semi_ent_total,
        semi_ent_grad,
        eig_top,
        eig_max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vatic::Activation;

    fn input(x: Vec<Vec<f64>>, y: Vec<i64>) -> Input {
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
        format!("{:#}", inspect(model, i).unwrap_err())
    }

    #[test]
    fn explains_inputs_that_do_not_fit() {
        let m = Model::new(&[2, 100, 2], Activation::Relu, 1).unwrap();
        let ok = input(vec![vec![0.5, -0.5], vec![1.0, 0.0]], vec![0, 1]);
        let out = inspect(&m, &ok).unwrap();
        assert_eq!(out.logits.len(), 2);
        assert_eq!(out.grad.len(), 4);
        assert!(
            matches!(&out.grad["0.weight"], Tensor::Matrix(w) if w.len() == 100 && w[0].len() == 2)
        );

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

    #[test]
    fn given_r_vadv_is_used() {
        let m = Model::new(&[2, 100, 2], Activation::Tanh, 2).unwrap();
        let mut i = input(vec![vec![0.5, -0.5], vec![1.0, 0.0]], vec![0, 1]);
        let own = inspect(&m, &i).unwrap();
        i.r_vadv = Some(
            own.r_vadv
                .iter()
                .map(|r| r.iter().map(|&v| f64::from(v)).collect())
                .collect(),
        );
        let at = inspect(&m, &i).unwrap();
        assert_eq!(at.r_vadv, own.r_vadv);
        for (a, o) in at.lds.iter().zip(&own.lds) {
            assert!((a - o).abs() <= 1e-6 * o.abs().max(1e-3), "{a} vs {o}");
        }
        assert!((at.semi_total - own.semi_total).abs() < 1e-5);
        assert!((at.semi_ent_total - own.semi_ent_total).abs() < 1e-5);
        i.r_vadv = Some(vec![vec![0.0; 2]; 2]);
        let zero = inspect(&m, &i).unwrap();
        assert!(zero.lds.iter().all(|&l| l == 0.0));
        assert!((zero.semi_total - zero.ce_mean).abs() < 1e-6);
    }
}
