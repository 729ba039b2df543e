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
//! [`inspect`] is the library entry point (the reference tests call it on the fixtures); the
//! work is one generic function over [`Network<IN, OUT>`], monomorphised for every supported
//! shape through [`Model::visit`].

use crate::models::{format_widths, Model, NetFn};
use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use vatic::adversarial::{adversarial_grad, AdversarialConfig};
use vatic::attack::{self, Norm};
use vatic::semi::{semi_supervised_grad_with_directions, SemiConfig};
use vatic::vat::{self, Direction, VatConfig};
use vatic::{loss, supervised, Network, Parameters};

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
pub fn inspect(model: &mut Model, input: &Input) -> Result<Outputs> {
    let widths = model.widths();
    model.visit(Inspect { input, widths })
}

/// `vatic inspect`: loads the model and the input, prints (or writes) the JSON.
///
/// # Errors
///
/// When a file cannot be read or written, and as [`model_io::load`](crate::model_io::load),
/// [`parse_input`] and [`inspect`].
pub fn run(args: &InspectArgs) -> Result<()> {
    let mut loaded = crate::model_io::load(&args.model)?;
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read input {}", args.input.display()))?;
    let input = parse_input(&text).with_context(|| format!("in {}", args.input.display()))?;
    let out = inspect(&mut loaded.model, &input).with_context(|| {
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
            std::fs::write(p, json + "\n")
                .with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!("wrote {}", p.display());
        }
        None => println!("{json}"),
    }
    Ok(())
}

struct Inspect<'a> {
    input: &'a Input,
    widths: &'static [usize],
}

impl NetFn for Inspect<'_> {
    type Output = Result<Outputs>;
    fn call<N, const IN: usize, const OUT: usize>(self, net: &mut N) -> Result<Outputs>
    where
        N: Network<IN, OUT> + Clone + Send + Sync + 'static,
    {
        compute::<N, IN, OUT>(net, self.widths, self.input)
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

/// A `[B][D]` field as `f32` rows of `IN` values.
fn rows<const IN: usize>(name: &str, m: &[Vec<f64>], model: &str) -> Result<Vec<[f32; IN]>> {
    m.iter()
        .enumerate()
        .map(|(i, r)| {
            ensure!(
                r.len() == IN,
                "{name}[{i}] has {} values but the {model} model takes {IN} features",
                r.len()
            );
            let mut out = [0.0f32; IN];
            for (j, (o, &v)) in out.iter_mut().zip(r).enumerate() {
                *o = to_f32(v, || format!("{name}[{i}][{j}]"))?;
            }
            Ok(out)
        })
        .collect()
}

/// A zeroed parameter buffer on the heap (the largest shapes are megabytes).
#[inline(never)]
fn zeroed<N: Parameters>() -> Box<N> {
    Box::new(N::ZERO)
}

/// The gradient `g` by PyTorch names, weights as `[out][in]`.
fn grad_dict<N: Parameters>(g: &N, widths: &[usize]) -> Grad {
    let mut out = Grad::new();
    for (t, tensor) in g.tensors().enumerate() {
        let (layer, is_bias) = (t / 2, t % 2 == 1);
        let fan_in = widths[layer];
        let value = if is_bias {
            Tensor::Vector(tensor.to_vec())
        } else {
            Tensor::Matrix(tensor.chunks(fan_in).map(<[f32]>::to_vec).collect())
        };
        let kind = if is_bias { "bias" } else { "weight" };
        out.insert(format!("{}.{kind}", 2 * layer), value);
    }
    out
}

fn vecs<const K: usize>(v: &[[f32; K]]) -> Vec<Vec<f32>> {
    v.iter().map(|r| r.to_vec()).collect()
}

/// A core error with the quantity being computed.
fn core_err(what: &'static str) -> impl Fn(vatic::Error) -> anyhow::Error {
    move |e| anyhow::anyhow!("computing {what}: {e}")
}

/// Adds `scale · ∂H(p(x))/∂θ` for every sample to `grad` (`H` the entropy; the core's
/// [`loss::entropy`] gives `∂H/∂z`, backpropagated through the network).
fn add_entropy_grad<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    xs: &[[f32; IN]],
    scale: f32,
    grad: &mut N,
) {
    let mut trace = N::EMPTY_TRACE;
    for x in xs {
        let z = net.forward(x, &mut trace);
        let (_, mut dz) = loss::entropy(&z);
        for v in &mut dz {
            *v *= scale;
        }
        net.backward(&trace, &dz, Some(grad), None);
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

/// Top eigenpair of the VAT Hessian at `x` by exact power iteration from `d0`.
fn top_eigenpair<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    x: &[f32; IN],
    d0: &[f32; IN],
) -> ([f32; IN], f32) {
    let mut trace = N::EMPTY_TRACE;
    let z = net.forward(x, &mut trace);
    let p = loss::softmax(&z);
    let mut d = *d0;
    attack::normalize(&mut d);
    for _ in 0..EIG_MAX_ITERATIONS {
        let mut next = vat::hessian_vector_product(net, &trace, &p, &d);
        attack::normalize(&mut next);
        let moved = next
            .iter()
            .zip(&d)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        d = next;
        if moved < 1e-7 {
            break;
        }
    }
    let hd = vat::hessian_vector_product(net, &trace, &p, &d);
    let dd: f64 = d.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    let dhd: f64 = d
        .iter()
        .zip(&hd)
        .map(|(&a, &b)| f64::from(a) * f64::from(b))
        .sum();
    fix_sign(&mut d);
    let lambda = if dd > 0.0 { (dhd / dd) as f32 } else { 0.0 };
    (d, lambda)
}

fn compute<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    widths: &[usize],
    input: &Input,
) -> Result<Outputs> {
    let model = format_widths(widths);
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
    let xs = rows::<IN>("x", &input.x, &model)?;
    let d0s = rows::<IN>("d0", &input.d0, &model)?;
    let mut ys = Vec::with_capacity(b);
    for (i, &y) in input.y.iter().enumerate() {
        if y < 0 || y >= OUT as i64 {
            bail!(
                "y[{i}] = {y} is out of range: the {model} model has {OUT} classes (labels 0..={})",
                OUT - 1
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
            Some(rows::<IN>("r_vadv", r, &model)?)
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

    // Forward pass, CE, entropy.
    let mut logits = Vec::with_capacity(b);
    let mut softmax = Vec::with_capacity(b);
    let mut log_softmax = Vec::with_capacity(b);
    let mut ce = Vec::with_capacity(b);
    let mut entropy = Vec::with_capacity(b);
    for (x, &y) in xs.iter().zip(&ys) {
        let z = net.logits(x);
        logits.push(z);
        softmax.push(loss::softmax(&z));
        log_softmax.push(loss::log_softmax(&z));
        ce.push(loss::cross_entropy(&z, y).map_err(core_err("ce"))?.0);
        entropy.push(loss::entropy(&z).0);
    }
    let entropy_mean = entropy.iter().sum::<f32>() / b as f32;

    let mut g = zeroed::<N>();
    let ce_mean =
        supervised::cross_entropy_grad(net, &xs, &ys, 1.0, &mut *g).map_err(core_err("grad"))?;
    let grad = grad_dict(&*g, widths);

    // Input gradient and FGSM.
    let mut input_grad = Vec::with_capacity(b);
    let mut fgsm_linf = Vec::with_capacity(b);
    let mut fgsm_l2 = Vec::with_capacity(b);
    for (x, &y) in xs.iter().zip(&ys) {
        input_grad.push(
            supervised::input_gradient(net, x, y)
                .map_err(core_err("input_grad"))?
                .1,
        );
        fgsm_linf.push(
            attack::fgsm(net, x, y, eps_fgsm, Norm::LInf, None).map_err(core_err("fgsm_linf"))?,
        );
        fgsm_l2
            .push(attack::fgsm(net, x, y, eps_fgsm, Norm::L2, None).map_err(core_err("fgsm_l2"))?);
    }
    let fgsm_linf_loss =
        supervised::cross_entropy_loss(net, &fgsm_linf, &ys).map_err(core_err("fgsm_linf_loss"))?;
    let fgsm_l2_loss =
        supervised::cross_entropy_loss(net, &fgsm_l2, &ys).map_err(core_err("fgsm_l2_loss"))?;

    // Adversarial training.
    g.zero();
    let at_cfg = AdversarialConfig {
        eps: eps_fgsm,
        alpha,
        norm: Norm::LInf,
        clip: None,
    };
    let at_loss =
        adversarial_grad(net, &xs, &ys, &at_cfg, 1.0, &mut *g).map_err(core_err("at_grad"))?;
    let at_grad = grad_dict(&*g, widths);

    // VAT: directions.
    let mut vat_d0_normalized = Vec::with_capacity(b);
    let mut vat_g1 = Vec::with_capacity(b);
    let mut vat_d_k1 = Vec::with_capacity(b);
    let mut vat_d_k3 = Vec::with_capacity(b);
    let mut hvp_d_k1 = Vec::with_capacity(b);
    let mut hvp_d_k3 = Vec::with_capacity(b);
    let mut eig_top = Vec::with_capacity(b);
    let mut eig_max = Vec::with_capacity(b);
    for ((x, d0), z) in xs.iter().zip(&d0s).zip(&logits) {
        let mut d = *d0;
        attack::normalize(&mut d);
        vat_d0_normalized.push(d);
        vat_g1.push(vat::finite_difference_gradient(net, x, z, &d, xi));
        for (iterations, direction, out) in [
            (1, fd, &mut vat_d_k1),
            (3, fd, &mut vat_d_k3),
            (1, exact, &mut hvp_d_k1),
            (3, exact, &mut hvp_d_k3),
        ] {
            let mut d = *d0;
            vat::power_iteration(net, x, &mut d, &cfg(iterations, direction))
                .map_err(core_err("the VAT power iteration"))?;
            out.push(d);
        }
        let (top, lambda_max) = top_eigenpair(net, x, d0);
        eig_top.push(top);
        eig_max.push(lambda_max);
    }

    // VAT with the exact direction (ξ-independent).
    let mut r_vadv_exact = Vec::with_capacity(b);
    let mut lds_exact = Vec::with_capacity(b);
    for (x, d0) in xs.iter().zip(&d0s) {
        let s = vat::virtual_adversarial(net, x, d0, &cfg(k, exact))
            .map_err(core_err("r_vadv_exact"))?;
        r_vadv_exact.push(s.r_vadv);
        lds_exact.push(s.lds);
    }
    g.zero();
    let lds_exact_mean =
        vat::vat_grad_with_directions(net, &xs, &d0s, &cfg(k, exact), 1.0, &mut *g)
            .map_err(core_err("lds_exact_mean"))?;

    // LDS and the semi-supervised objectives: at the core's finite-difference r_vadv, or at the
    // given one.
    let (r_vadv, lds, lds_mean, lds_grad, semi_total, semi_grad, semi_ent_total, semi_ent_grad) =
        match given_r {
            None => {
                let mut r_vadv = Vec::with_capacity(b);
                let mut lds = Vec::with_capacity(b);
                for (x, d0) in xs.iter().zip(&d0s) {
                    let s = vat::virtual_adversarial(net, x, d0, &cfg(k, fd))
                        .map_err(core_err("r_vadv"))?;
                    r_vadv.push(s.r_vadv);
                    lds.push(s.lds);
                }
                g.zero();
                let lds_mean =
                    vat::vat_grad_with_directions(net, &xs, &d0s, &cfg(k, fd), 1.0, &mut *g)
                        .map_err(core_err("lds_grad"))?;
                let lds_grad = grad_dict(&*g, widths);
                let mut semi = |entropy_weight: f32| -> Result<(f32, Grad)> {
                    let semi_cfg = SemiConfig {
                        vat: cfg(k, fd),
                        vat_weight: lambda,
                        entropy_weight,
                    };
                    g.zero();
                    let l = semi_supervised_grad_with_directions(
                        net, &xs, &ys, &xs, &d0s, &semi_cfg, &mut *g,
                    )
                    .map_err(core_err("the semi-supervised objective"))?;
                    Ok((l.total, grad_dict(&*g, widths)))
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
                let mut scratch = zeroed::<N>();
                let mut lds = Vec::with_capacity(b);
                for (x, r) in xs.iter().zip(&rs) {
                    let l = vat::lds_at(net, &[*x], &[*r], 1.0, &mut *scratch)
                        .map_err(core_err("lds"))?;
                    lds.push(l);
                }
                g.zero();
                let lds_mean =
                    vat::lds_at(net, &xs, &rs, 1.0, &mut *g).map_err(core_err("lds_grad"))?;
                let lds_grad = grad_dict(&*g, widths);
                // CE(x, y) + λ · LDS at the given r (+ the mean entropy).
                g.zero();
                let ce = supervised::cross_entropy_grad(net, &xs, &ys, 1.0, &mut *g)
                    .map_err(core_err("semi_grad"))?;
                let l =
                    vat::lds_at(net, &xs, &rs, lambda, &mut *g).map_err(core_err("semi_grad"))?;
                let semi_total = ce + lambda * l;
                let semi_grad = grad_dict(&*g, widths);
                add_entropy_grad(net, &xs, 1.0 / b as f32, &mut *g);
                let semi_ent_total = semi_total + entropy_mean;
                let semi_ent_grad = grad_dict(&*g, widths);
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
        logits: vecs(&logits),
        softmax: vecs(&softmax),
        log_softmax: vecs(&log_softmax),
        ce,
        ce_mean,
        grad,
        input_grad: vecs(&input_grad),
        fgsm_linf: vecs(&fgsm_linf),
        fgsm_linf_loss,
        fgsm_l2: vecs(&fgsm_l2),
        fgsm_l2_loss,
        at_loss,
        at_grad,
        vat_d0_normalized: vecs(&vat_d0_normalized),
        vat_g1: vecs(&vat_g1),
        vat_d_k1: vecs(&vat_d_k1),
        vat_d_k3: vecs(&vat_d_k3),
        r_vadv: vecs(&r_vadv),
        lds,
        lds_mean,
        lds_grad,
        hvp_d_k1: vecs(&hvp_d_k1),
        hvp_d_k3: vecs(&hvp_d_k3),
        r_vadv_exact: vecs(&r_vadv_exact),
        lds_exact,
        lds_exact_mean,
        entropy,
        entropy_mean,
        semi_total,
        semi_grad,
        semi_ent_total,
        semi_ent_grad,
        eig_top: vecs(&eig_top),
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

    fn err(model: &mut Model, i: &Input) -> String {
        format!("{:#}", inspect(model, i).unwrap_err())
    }

    #[test]
    fn explains_inputs_that_do_not_fit() {
        let mut m = Model::new(&[2, 100, 2], Activation::Relu, 1).unwrap();
        let ok = input(vec![vec![0.5, -0.5], vec![1.0, 0.0]], vec![0, 1]);
        let out = inspect(&mut m, &ok).unwrap();
        assert_eq!(out.logits.len(), 2);
        assert_eq!(out.grad.len(), 4);
        assert!(
            matches!(&out.grad["0.weight"], Tensor::Matrix(w) if w.len() == 100 && w[0].len() == 2)
        );

        let e = err(&mut m, &input(vec![vec![0.5, -0.5, 1.0]], vec![0]));
        assert!(
            e.contains("x[0] has 3 values") && e.contains("2-100-2"),
            "{e}"
        );
        let e = err(&mut m, &input(vec![vec![0.5, -0.5]], vec![2]));
        assert!(e.contains("y[0] = 2 is out of range"), "{e}");
        let e = err(&mut m, &input(vec![vec![0.5, -0.5]], vec![-1]));
        assert!(e.contains("out of range"), "{e}");
        let e = err(&mut m, &input(vec![vec![0.5, 1e39]], vec![0]));
        assert!(
            e.contains("x[0][1]") && e.contains("not a finite f32"),
            "{e}"
        );
        let e = err(&mut m, &input(vec![], vec![]));
        assert!(e.contains("x is empty"), "{e}");
        let mut bad = ok.clone();
        bad.d0.pop();
        assert!(err(&mut m, &bad).contains("d0 has 1 rows"));
        let mut bad = ok.clone();
        bad.alpha = 1.5;
        assert!(err(&mut m, &bad).contains("alpha"));
        let mut bad = ok.clone();
        bad.xi = 0.0;
        assert!(err(&mut m, &bad).contains("xi"));
        let mut bad = ok.clone();
        bad.r_vadv = Some(vec![vec![0.0, 0.0]]);
        assert!(err(&mut m, &bad).contains("r_vadv has 1 rows"));
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
        let mut m = Model::new(&[2, 100, 2], Activation::Tanh, 2).unwrap();
        let mut i = input(vec![vec![0.5, -0.5], vec![1.0, 0.0]], vec![0, 1]);
        let own = inspect(&mut m, &i).unwrap();
        i.r_vadv = Some(
            own.r_vadv
                .iter()
                .map(|r| r.iter().map(|&v| f64::from(v)).collect())
                .collect(),
        );
        let at = inspect(&mut m, &i).unwrap();
        assert_eq!(at.r_vadv, own.r_vadv);
        for (a, o) in at.lds.iter().zip(&own.lds) {
            assert!((a - o).abs() <= 1e-6 * o.abs().max(1e-3), "{a} vs {o}");
        }
        assert!((at.semi_total - own.semi_total).abs() < 1e-5);
        assert!((at.semi_ent_total - own.semi_ent_total).abs() < 1e-5);
        i.r_vadv = Some(vec![vec![0.0; 2]; 2]);
        let zero = inspect(&mut m, &i).unwrap();
        assert!(zero.lds.iter().all(|&l| l == 0.0));
        assert!((zero.semi_total - zero.ce_mean).abs() < 1e-6);
    }
}
