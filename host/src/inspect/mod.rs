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
//! passes, losses, attacks, `vat::*`, `semi::*`), the host only arranges inputs and outputs:
//!
//! * `input.rs`: the input file ([`Input`], [`parse_input`]) and its check against the model;
//! * `compute.rs`: [`inspect`], which asks the core for every quantity;
//! * `report.rs`: what it returns ([`Outputs`], plain values under the fixtures' keys);
//! * `print.rs`: the JSON it prints ([`to_json`]);
//! * here: the subcommand's flags ([`InspectArgs`]) and [`run`].

mod compute;
mod input;
mod print;
mod report;

pub use compute::{inspect, EIG_MAX_ITERATIONS};
pub use input::{parse_input, Batch, Input};
pub use print::to_json;
pub use report::{grad_dict, Grad, Outputs, Tensor};

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

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
    print::print(&out, args.pretty, args.out.as_deref())
}
