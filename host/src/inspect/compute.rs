//! [`inspect`]: every quantity of the report, each asked of the core — the passes and losses
//! (`pass`, `loss`, `supervised`), the attacks (`attack`, `adversarial`), VAT (`vat`) and the
//! semi-supervised objectives (`semi`). The host checks the input, lays the batch out for the
//! core, and keeps only what the core has no word for: the fixtures' convergence rule and sign
//! of the Hessian's top eigenvector and its Rayleigh quotient.

use super::{grad_dict, Batch, Grad, Input, Outputs};
use crate::models::{Model, Net};
use anyhow::Result;
use vatic::adversarial::{adversarial_grad, AdversarialConfig};
use vatic::attack::{Attack, Norm};
use vatic::semi::{semi_supervised_grad_with_directions, SemiConfig, SemiLoss};
use vatic::vat::{self, Direction, VatConfig};
use vatic::{loss, pass, supervised, Parameters};

/// Power iterations at most for `eig_top` (stops earlier once the direction has converged).
pub const EIG_MAX_ITERATIONS: usize = 500;

/// Computes every quantity for `model` on `input` (the library behind `vatic inspect`).
///
/// # Errors
///
/// When the input does not fit the model (number of features, labels out of range, `d0` or
/// `r_vadv` of another shape, an empty batch), a value is not finite in `f32`, or a
/// hyper-parameter is out of range ([`Batch::new`]); the message names the field and index.
pub fn inspect(model: &Model, input: &Input) -> Result<Outputs> {
    compute(model, &Batch::new(model, input)?)
}

/// A core error with the quantity being computed.
fn core_err(what: &'static str) -> impl Fn(vatic::Error) -> anyhow::Error {
    move |e| anyhow::anyhow!("computing {what}: {e}")
}

/// A flat `[n · width]` array as `n` rows.
fn vecs(v: &[f32], width: usize) -> Vec<Vec<f32>> {
    v.chunks_exact(width.max(1)).map(<[f32]>::to_vec).collect()
}

/// What the core is asked with: the model, its workspace and a gradient to fill.
struct Core<'a> {
    net: &'a Net,
    inputs: usize,
    ws: Vec<f32>,
    g: Net,
}

/// The LDS stage: the perturbation, the LDS at it and the semi-supervised objectives.
struct LdsStage {
    r_vadv: Vec<f32>,
    lds: Vec<f32>,
    lds_mean: f32,
    lds_grad: Grad,
    semi_total: f32,
    semi_grad: Grad,
    semi_ent_total: f32,
    semi_ent_grad: Grad,
    /// The mean entropy, `semi_ent_total − semi_total`.
    entropy_mean: f32,
}

impl Core<'_> {
    /// VAT's settings with the batch's ε and ξ.
    fn vat(b: &Batch, iterations: u32, direction: Direction) -> VatConfig {
        VatConfig {
            eps: b.eps_vat,
            xi: b.xi,
            iterations,
            direction,
        }
    }

    /// `r_vadv` and the LDS of every sample from its start direction ([`vat::virtual_adversarial`]).
    fn virtual_adversarial(
        &mut self,
        b: &Batch,
        cfg: &VatConfig,
        what: &'static str,
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let mut rs = vec![0.0; b.xs.len()];
        let mut lds = Vec::with_capacity(b.ys.len());
        let samples =
            b.xs.chunks_exact(self.inputs)
                .zip(b.d0s.chunks_exact(self.inputs));
        for ((x, d0), r) in samples.zip(rs.chunks_exact_mut(self.inputs)) {
            lds.push(
                vat::virtual_adversarial(self.net, x, d0, cfg, r, &mut self.ws)
                    .map_err(core_err(what))?,
            );
        }
        Ok((rs, lds))
    }

    /// The mean LDS from the batch's start directions and `∂/∂θ` of it in `self.g`.
    fn lds_grad(&mut self, b: &Batch, cfg: &VatConfig, what: &'static str) -> Result<f32> {
        self.g.zero();
        vat::vat_grad_with_directions(self.net, &b.xs, &b.d0s, cfg, 1.0, &mut self.g, &mut self.ws)
            .map_err(core_err(what))
    }

    /// The core's semi-supervised objective `cfg` with the labelled batch `(xl, yl)` and the
    /// batch's samples as the unlabelled one, from the batch's start directions; **adds** its
    /// gradient to `self.g`.
    fn semi(
        &mut self,
        b: &Batch,
        (xl, yl): (&[f32], &[usize]),
        cfg: &SemiConfig,
        what: &'static str,
    ) -> Result<SemiLoss> {
        semi_supervised_grad_with_directions(
            self.net,
            xl,
            yl,
            &b.xs,
            &b.d0s,
            cfg,
            &mut self.g,
            &mut self.ws,
        )
        .map_err(core_err(what))
    }

    /// Adds `∂(mean H(p(x)))/∂θ` over the batch to `self.g` and returns the mean entropy `H`.
    ///
    /// The core differentiates the entropy only inside the semi-supervised objective; with no
    /// labelled batch and the LDS term switched off (`α = 0`, and `ε = 0`, `K = 0` so nothing is
    /// perturbed) that objective is `β · mean H` with `β = 1`. The LDS term's gradient is then
    /// `0 ·` a finite value, which adds nothing.
    fn add_entropy_grad(&mut self, b: &Batch) -> Result<f32> {
        let entropy_only = SemiConfig {
            vat: VatConfig {
                iterations: 0,
                ..VatConfig::new(0.0)
            },
            vat_weight: 0.0,
            entropy_weight: 1.0,
        };
        let l = self.semi(b, (&[], &[]), &entropy_only, "semi_ent_grad")?;
        Ok(l.entropy)
    }

    /// The LDS stage at the core's own finite-difference `r_vadv`.
    fn lds_stage(&mut self, b: &Batch) -> Result<LdsStage> {
        let cfg = Self::vat(b, b.power_iterations, Direction::FiniteDifference);
        let (r_vadv, lds) = self.virtual_adversarial(b, &cfg, "r_vadv")?;
        let lds_mean = self.lds_grad(b, &cfg, "lds_grad")?;
        let lds_grad = grad_dict(&self.g);
        let mut objective = |entropy_weight: f32| -> Result<(SemiLoss, Grad)> {
            let semi_cfg = SemiConfig {
                vat: cfg,
                vat_weight: b.lambda,
                entropy_weight,
            };
            self.g.zero();
            let labelled = (&b.xs[..], &b.ys[..]);
            let l = self.semi(b, labelled, &semi_cfg, "the semi-supervised objective")?;
            Ok((l, grad_dict(&self.g)))
        };
        let (plain, semi_grad) = objective(0.0)?;
        let (ent, semi_ent_grad) = objective(1.0)?;
        Ok(LdsStage {
            r_vadv,
            lds,
            lds_mean,
            lds_grad,
            semi_total: plain.total,
            semi_grad,
            semi_ent_total: ent.total,
            semi_ent_grad,
            entropy_mean: ent.entropy,
        })
    }

    /// The LDS stage at the given perturbations `rs` ([`vat::lds_at`]).
    fn lds_stage_at(&mut self, b: &Batch, rs: &[f32]) -> Result<LdsStage> {
        // Per-sample LDS: its gradient goes to a scratch network nobody reads.
        let mut scratch = self.g.clone();
        let mut lds = Vec::with_capacity(b.ys.len());
        for (x, r) in
            b.xs.chunks_exact(self.inputs)
                .zip(rs.chunks_exact(self.inputs))
        {
            let l = vat::lds_at(self.net, x, r, 1.0, &mut scratch, &mut self.ws)
                .map_err(core_err("lds"))?;
            lds.push(l);
        }
        self.g.zero();
        let lds_mean = vat::lds_at(self.net, &b.xs, rs, 1.0, &mut self.g, &mut self.ws)
            .map_err(core_err("lds_grad"))?;
        let lds_grad = grad_dict(&self.g);
        // CE(x, y) + λ · LDS at the given r, as the core's objective adds its terms (+ the mean
        // entropy).
        self.g.zero();
        let ce =
            supervised::cross_entropy_grad(self.net, &b.xs, &b.ys, 1.0, &mut self.g, &mut self.ws)
                .map_err(core_err("semi_grad"))?;
        let l = vat::lds_at(self.net, &b.xs, rs, b.lambda, &mut self.g, &mut self.ws)
            .map_err(core_err("semi_grad"))?;
        let semi_total = ce + b.lambda * l;
        let semi_grad = grad_dict(&self.g);
        let entropy_mean = self.add_entropy_grad(b)?;
        let semi_ent_total = semi_total + entropy_mean;
        let semi_ent_grad = grad_dict(&self.g);
        Ok(LdsStage {
            r_vadv: rs.to_vec(),
            lds,
            lds_mean,
            lds_grad,
            semi_total,
            semi_grad,
            semi_ent_total,
            semi_ent_grad,
            entropy_mean,
        })
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

/// Top eigenpair of the VAT Hessian at `x`: the core's exact power iteration
/// ([`vat::power_iteration`], one step at a time) from `d0` until no entry moves by `1e-7`, at
/// most [`EIG_MAX_ITERATIONS`] steps, and the Rayleigh quotient `dᵀHd / dᵀd` with the core's
/// [`vat::hessian_vector_product`], summed in `f64`.
fn top_eigenpair(net: &Net, x: &[f32], d0: &[f32], ws: &mut [f32]) -> Result<(Vec<f32>, f32)> {
    // ε plays no part in the direction; K = 1: one step per call.
    let step = VatConfig::new(0.0);
    let mut d = d0.to_vec();
    vatic::vector::normalize(&mut d);
    let mut next = d0.to_vec();
    for _ in 0..EIG_MAX_ITERATIONS {
        vat::power_iteration(net, x, &mut next, &step, ws).map_err(core_err("eig_top"))?;
        let moved = next
            .iter()
            .zip(&d)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        d.copy_from_slice(&next);
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

/// Every quantity of the report for `model` on the checked batch `b`.
fn compute(model: &Model, b: &Batch) -> Result<Outputs> {
    let net = model.net();
    let (inputs, classes) = (model.features(), model.classes());
    let n = b.ys.len();
    let (xs, ys, d0s) = (&b.xs[..], &b.ys[..], &b.d0s[..]);
    let mut core = Core {
        net,
        inputs,
        ws: model.workspace(),
        g: model.zeroed_like(),
    };
    let ws = &mut core.ws;
    let samples = || xs.chunks_exact(inputs);

    // Forward pass, CE, entropy.
    let mut logits = vec![0.0; n * classes];
    pass::logits(net, xs, &mut logits, ws).map_err(core_err("logits"))?;
    let mut softmax = vec![0.0; n * classes];
    let mut log_softmax = vec![0.0; n * classes];
    let mut ce = Vec::with_capacity(n);
    let mut entropy = Vec::with_capacity(n);
    for (i, z) in logits.chunks_exact(classes).enumerate() {
        loss::softmax(z, &mut softmax[i * classes..(i + 1) * classes]);
        loss::log_softmax(z, &mut log_softmax[i * classes..(i + 1) * classes]);
        ce.push(loss::cross_entropy(z, ys[i]).map_err(core_err("ce"))?);
        entropy.push(loss::entropy(z));
    }

    let g = &mut core.g;
    let ce_mean =
        supervised::cross_entropy_grad(net, xs, ys, 1.0, g, ws).map_err(core_err("grad"))?;
    let grad = grad_dict(g);

    // Input gradient and FGSM.
    let mut input_grad = vec![0.0; n * inputs];
    let (mut fgsm_linf, mut fgsm_l2) = (input_grad.clone(), input_grad.clone());
    for (i, (x, &y)) in samples().zip(ys).enumerate() {
        let row = i * inputs..(i + 1) * inputs;
        supervised::input_gradient(net, x, y, &mut input_grad[row.clone()], ws)
            .map_err(core_err("input_grad"))?;
        for (norm, out, what) in [
            (Norm::LInf, &mut fgsm_linf, "fgsm_linf"),
            (Norm::L2, &mut fgsm_l2, "fgsm_l2"),
        ] {
            Attack::fgsm(norm)
                .perturb(net, x, y, b.eps_fgsm, &mut out[row.clone()], ws)
                .map_err(core_err(what))?;
        }
    }
    let fgsm_linf_loss = supervised::cross_entropy_loss(net, &fgsm_linf, ys, ws)
        .map_err(core_err("fgsm_linf_loss"))?;
    let fgsm_l2_loss =
        supervised::cross_entropy_loss(net, &fgsm_l2, ys, ws).map_err(core_err("fgsm_l2_loss"))?;

    // Adversarial training.
    g.zero();
    let at_cfg = AdversarialConfig {
        eps: b.eps_fgsm,
        alpha: b.alpha,
        norm: Norm::LInf,
        clip: None,
    };
    let at_loss =
        adversarial_grad(net, xs, ys, &at_cfg, 1.0, g, ws).map_err(core_err("at_grad"))?;
    let at_grad = grad_dict(g);

    // VAT: directions.
    let (fd, exact) = (Direction::FiniteDifference, Direction::Exact);
    let mut vat_d0_normalized = d0s.to_vec();
    let mut vat_g1 = vec![0.0; n * inputs];
    let (mut vat_d_k1, mut vat_d_k3) = (Vec::new(), Vec::new());
    let (mut hvp_d_k1, mut hvp_d_k3) = (Vec::new(), Vec::new());
    let (mut eig_top, mut eig_max) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (i, (x, d0)) in samples().zip(d0s.chunks_exact(inputs)).enumerate() {
        let row = i * inputs..(i + 1) * inputs;
        let d = &mut vat_d0_normalized[row.clone()];
        vatic::vector::normalize(d);
        vat::finite_difference_gradient(net, x, d, b.xi, &mut vat_g1[row], ws)
            .map_err(core_err("vat_g1"))?;
        for (iterations, direction, out) in [
            (1, fd, &mut vat_d_k1),
            (3, fd, &mut vat_d_k3),
            (1, exact, &mut hvp_d_k1),
            (3, exact, &mut hvp_d_k3),
        ] {
            let mut d = d0.to_vec();
            vat::power_iteration(net, x, &mut d, &Core::vat(b, iterations, direction), ws)
                .map_err(core_err("the VAT power iteration"))?;
            out.extend_from_slice(&d);
        }
        let (top, lambda_max) = top_eigenpair(net, x, d0, ws)?;
        eig_top.push(top);
        eig_max.push(lambda_max);
    }

    // VAT with the exact direction (ξ-independent).
    let exact_k = Core::vat(b, b.power_iterations, exact);
    let (r_vadv_exact, lds_exact) = core.virtual_adversarial(b, &exact_k, "r_vadv_exact")?;
    let lds_exact_mean = core.lds_grad(b, &exact_k, "lds_exact_mean")?;

    // LDS and the semi-supervised objectives: at the core's finite-difference r_vadv, or at the
    // given one.
    let s = match &b.given_r {
        None => core.lds_stage(b)?,
        Some(rs) => core.lds_stage_at(b, rs)?,
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
        r_vadv: vecs(&s.r_vadv, inputs),
        lds: s.lds,
        lds_mean: s.lds_mean,
        lds_grad: s.lds_grad,
        hvp_d_k1: vecs(&hvp_d_k1, inputs),
        hvp_d_k3: vecs(&hvp_d_k3, inputs),
        r_vadv_exact: vecs(&r_vadv_exact, inputs),
        lds_exact,
        lds_exact_mean,
        entropy,
        entropy_mean: s.entropy_mean,
        semi_total: s.semi_total,
        semi_grad: s.semi_grad,
        semi_ent_total: s.semi_ent_total,
        semi_ent_grad: s.semi_ent_grad,
        eig_top,
        eig_max,
    })
}

#[cfg(test)]
mod tests {
    use super::super::input::tests::input;
    use super::super::Tensor;
    use super::*;
    use vatic::Activation;

    #[test]
    fn every_quantity_has_the_model_s_shape() {
        let m = Model::new(&[2, 100, 2], Activation::Relu, 1).unwrap();
        let ok = input(vec![vec![0.5, -0.5], vec![1.0, 0.0]], vec![0, 1]);
        let out = inspect(&m, &ok).unwrap();
        assert_eq!(out.logits.len(), 2);
        assert_eq!(out.grad.len(), 4);
        assert!(
            matches!(&out.grad["0.weight"], Tensor::Matrix(w) if w.len() == 100 && w[0].len() == 2)
        );
        let e = format!("{:#}", inspect(&m, &input(vec![], vec![])).unwrap_err());
        assert!(e.contains("x is empty"), "{e}");
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
