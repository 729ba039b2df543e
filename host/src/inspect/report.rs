//! What `vatic inspect` reports ([`Outputs`]): plain values, per-sample arrays `[B][…]` and
//! parameter gradients by PyTorch tensor name ([`Grad`]), under the keys of the reference
//! fixtures (`tests/reference/README.md`, "Output keys").

use crate::models::Net;
use serde::Serialize;
use std::collections::BTreeMap;
use vatic::Network;

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
    /// from `d0` until it stops moving, at most
    /// [`EIG_MAX_ITERATIONS`](super::EIG_MAX_ITERATIONS)); sign: the entry of
    /// largest magnitude is positive.
    pub eig_top: Vec<Vec<f32>>,
    /// Its eigenvalue (Rayleigh quotient `dᵀHd / dᵀd`).
    pub eig_max: Vec<f32>,
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
