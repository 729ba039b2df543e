//! Virtual adversarial training (Miyato et al., TPAMI 2018): power iteration, the virtual
//! adversarial perturbation, the local distributional smoothness (LDS) and its gradient.
//!
//! For one sample `x` with clean logits `z = f(x)` (a constant: stop-gradient) and
//! `p = softmax(z)`:
//!
//! ```text
//! d ← normalize(d₀)                                   d₀ ~ N(0, I) or given
//! repeat K times:  g ← ∇_r KL(p ‖ softmax(f(x + r))) at r = ξ d,   d ← normalize(g)
//! r_vadv = ε d
//! LDS(x) = KL(p ‖ softmax(f(x + r_vadv)))              ≥ 0
//! ```
//!
//! The gradient `g` has the closed form `J(x + ξd)ᵀ (softmax(f(x + ξd)) − p)` (backprop of the
//! softmax difference to the input). Dividing by ξ, `g/ξ → H d` with
//! `H = Jᵀ (diag(p) − p pᵀ) J` the Hessian of `r ↦ KL(p ‖ p(x + r))` at `r = 0`, so the loop is
//! a power iteration for `H`'s top eigenvector.
//!
//! # Which direction method?
//!
//! * [`Direction::FiniteDifference`] is the paper's recipe with its `ξ = 1e-6` default. In `f32`
//!   the difference `softmax(f(x + ξd)) − p` is mostly rounding noise at that ξ: on a 64-128-10
//!   network the direction's cosine with the exact one was 0.1 in the worst sample. Use it to
//!   reproduce the paper, with ξ around `1e-3`–`1e-2` in `f32`.
//! * [`Direction::Exact`] (the default of [`VatConfig::new`]) computes `H d` exactly: a
//!   forward-mode tangent pass for `u = J d` ([`Network::jvp`]), `s = p ⊙ u − p (pᵀu)`, and a
//!   backward pass `Jᵀ s`, about the cost of one finite-difference iteration and with no ξ.
//!   Recommended in `f32`.
//!
//! With `K = 0` the perturbation is the normalised random direction itself (the paper's
//! "random perturbation training" baseline).
//!
//! The parameter gradient of the mean LDS flows only through `f(x + r_vadv)`: `∂LDS/∂z_adv =
//! softmax(z_adv) − p`, backpropagated at `x + r_vadv`.

use crate::attack::normalize;
use crate::error::{Error, Result};
use crate::{check, kernels, loss, Network, Rng, BLOCK};

/// How the power iteration obtains `H d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// `J(x + ξd)ᵀ (softmax(f(x + ξd)) − softmax(f(x)))`, the paper's finite difference.
    FiniteDifference,
    /// `Jᵀ (diag(p) − p pᵀ) J d` at `x`, exact (forward-mode + backward pass).
    #[default]
    Exact,
}

/// Settings of VAT.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct VatConfig {
    /// Radius `ε` of the virtual adversarial perturbation (L2).
    pub eps: f32,
    /// Finite-difference step `ξ` (used by [`Direction::FiniteDifference`] only).
    pub xi: f32,
    /// Number of power iterations `K`.
    pub iterations: u32,
    /// How `H d` is obtained.
    pub direction: Direction,
}

impl VatConfig {
    /// The paper's `ξ = 1e-6`, `K = 1`, with the exact direction (recommended in `f32`).
    pub const fn new(eps: f32) -> Self {
        VatConfig {
            eps,
            xi: 1e-6,
            iterations: 1,
            direction: Direction::Exact,
        }
    }

    /// The authors' code as published: finite differences with `ξ = 1e-6`, `K = 1`.
    pub const fn paper(eps: f32) -> Self {
        VatConfig {
            eps,
            xi: 1e-6,
            iterations: 1,
            direction: Direction::FiniteDifference,
        }
    }

    /// Checks `ε ≥ 0` and, for finite differences, `ξ > 0` (all finite).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEpsilon`], [`Error::InvalidXi`].
    pub fn validate(&self) -> Result<()> {
        check::epsilon(self.eps)?;
        if self.direction == Direction::FiniteDifference && !(self.xi.is_finite() && self.xi > 0.0)
        {
            return Err(Error::InvalidXi);
        }
        Ok(())
    }
}

/// The raw power-iteration gradient `J(x + ξd)ᵀ (softmax(f(x + ξd)) − softmax(z))` for a given
/// (already normalised) `d` and clean logits `z = f(x)`.
#[inline]
pub fn finite_difference_gradient<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    x: &[f32; IN],
    z: &[f32; OUT],
    d: &[f32; IN],
    xi: f32,
) -> [f32; IN] {
    let mut x1 = *x;
    kernels::axpy(&mut x1, xi, d);
    let mut trace = N::EMPTY_TRACE;
    let z1 = net.forward(&x1, &mut trace);
    let (_, dz) = loss::kl_divergence(z, &z1);
    let mut g = [0.0; IN];
    net.backward(&trace, &dz, None, Some(&mut g));
    g
}

/// The exact Hessian-vector product `H d = Jᵀ (diag(p) − p pᵀ) J d` of
/// `r ↦ KL(p(x) ‖ p(x + r))` at `r = 0`, from a trace of the forward pass at `x` and
/// `p = softmax(f(x))`.
#[inline]
pub fn hessian_vector_product<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    trace: &N::Trace,
    p: &[f32; OUT],
    d: &[f32; IN],
) -> [f32; IN] {
    let u = net.jvp(trace, d);
    let pu = kernels::dot(p, &u);
    let mut s = [0.0; OUT];
    for ((s, &pk), &uk) in s.iter_mut().zip(p).zip(&u) {
        *s = pk * (uk - pu);
    }
    let mut hd = [0.0; IN];
    net.backward(trace, &s, None, Some(&mut hd));
    hd
}

/// Runs [`normalize`] on `d`, then `K` power iterations, leaving the final unit direction in
/// `d`. `trace` and `z` are the forward pass at `x`.
#[inline]
pub(crate) fn power_iteration_traced<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    x: &[f32; IN],
    trace: &N::Trace,
    z: &[f32; OUT],
    d: &mut [f32; IN],
    cfg: &VatConfig,
) {
    normalize(d);
    let p = loss::softmax(z);
    for _ in 0..cfg.iterations {
        *d = match cfg.direction {
            Direction::FiniteDifference => finite_difference_gradient(net, x, z, d, cfg.xi),
            Direction::Exact => hessian_vector_product(net, trace, &p, d),
        };
        normalize(d);
    }
}

/// The unit direction after `K` power iterations from the start direction in `d` (overwritten).
///
/// # Errors
///
/// [`VatConfig::validate`]'s, and [`Error::NonFiniteInput`] for `x` or `d`.
pub fn power_iteration<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    x: &[f32; IN],
    d: &mut [f32; IN],
    cfg: &VatConfig,
) -> Result<()> {
    cfg.validate()?;
    check::batch(&[*x, *d], None, OUT)?;
    let mut trace = N::EMPTY_TRACE;
    let z = net.forward(x, &mut trace);
    power_iteration_traced(net, x, &trace, &z, d, cfg);
    Ok(())
}

/// One sample's VAT result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VatSample<const IN: usize> {
    /// `r_vadv = ε d`.
    pub r_vadv: [f32; IN],
    /// `LDS(x) = KL(p(x) ‖ p(x + r_vadv))`.
    pub lds: f32,
}

/// The virtual adversarial perturbation and the LDS of one sample, from the start direction
/// `d0` (use [`Rng::fill_normal`] for the paper's Gaussian start).
///
/// # Errors
///
/// [`VatConfig::validate`]'s, and [`Error::NonFiniteInput`] for `x` or `d0`.
///
/// # Examples
///
/// ```
/// use vatic::vat::{virtual_adversarial, VatConfig};
/// use vatic::{Activation, Mlp, Rng};
///
/// let net: Mlp<2, 16, 2> = Mlp::new(Activation::Tanh, &mut Rng::new(3));
/// let s = virtual_adversarial(&net, &[0.3, -0.2], &[1.0, 0.5], &VatConfig::new(0.5))?;
/// let norm = (s.r_vadv[0].powi(2) + s.r_vadv[1].powi(2)).sqrt();
/// assert!((norm - 0.5).abs() < 1e-5 && s.lds >= 0.0);
/// # Ok::<(), vatic::Error>(())
/// ```
pub fn virtual_adversarial<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    x: &[f32; IN],
    d0: &[f32; IN],
    cfg: &VatConfig,
) -> Result<VatSample<IN>> {
    cfg.validate()?;
    check::batch(&[*x, *d0], None, OUT)?;
    Ok(sample(net, x, d0, cfg))
}

/// VAT for one validated sample: perturbation and LDS (the per-sample path; batch functions use
/// [`block`], which gives the same bits).
#[inline]
pub(crate) fn sample<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    x: &[f32; IN],
    d0: &[f32; IN],
    cfg: &VatConfig,
) -> VatSample<IN> {
    let mut trace = N::EMPTY_TRACE;
    let z = net.forward(x, &mut trace);
    let mut d = *d0;
    power_iteration_traced(net, x, &trace, &z, &mut d, cfg);
    let mut r_vadv = d;
    for v in &mut r_vadv {
        *v *= cfg.eps;
    }
    let mut x_adv = *x;
    kernels::axpy(&mut x_adv, 1.0, &r_vadv);
    let z_adv = net.forward(&x_adv, &mut trace);
    let (lds, _) = loss::kl_divergence(&z, &z_adv);
    VatSample { r_vadv, lds }
}

/// What [`block`] adds to the gradient besides the LDS.
#[derive(Clone, Copy)]
pub(crate) struct BlockTerms {
    /// Scale of `∂LDS/∂θ` (`α / B`); `None`: no gradient at all.
    pub lds_scale: Option<f32>,
    /// Scale of `∂H(p(x))/∂θ` (`β / B`); `None`: entropy not differentiated.
    pub entropy_scale: Option<f32>,
}

impl BlockTerms {
    /// Only `scale · ∂LDS/∂θ`.
    pub(crate) fn lds(scale: f32) -> Self {
        BlockTerms {
            lds_scale: Some(scale),
            entropy_scale: None,
        }
    }
}

/// VAT for a block of at most [`BLOCK`] validated samples `xs`, from the start directions in
/// `ds` (overwritten by the final unit directions). Writes `lds[i]` and the entropy
/// `H(p(x_i))` to `entropy[i]`; adds the requested gradients to `grad`.
///
/// Each sample's arithmetic is exactly that of [`sample`]; the passes run block-wise so each
/// weight row is read once per block.
pub(crate) fn block<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    xs: &[[f32; IN]],
    ds: &mut [[f32; IN]; BLOCK],
    cfg: &VatConfig,
    mut grad: Option<&mut N>,
    terms: BlockTerms,
    lds: &mut [f32; BLOCK],
    entropy: &mut [f32; BLOCK],
) {
    let n = xs.len().min(BLOCK);
    let mut clean = [N::EMPTY_TRACE; BLOCK];
    let mut other = [N::EMPTY_TRACE; BLOCK];
    let mut zs = [[0.0; OUT]; BLOCK];
    net.forward_block(xs, &mut clean, &mut zs);
    let mut ps = [[0.0; OUT]; BLOCK];
    for ((p, z), d) in ps.iter_mut().zip(&zs).zip(ds.iter_mut()).take(n) {
        *p = loss::softmax(z);
        normalize(d);
    }
    let mut buf = [[0.0; OUT]; BLOCK];
    for _ in 0..cfg.iterations {
        match cfg.direction {
            Direction::FiniteDifference => {
                let mut x1 = [[0.0; IN]; BLOCK];
                for ((x1, x), d) in x1.iter_mut().zip(xs).zip(ds.iter()) {
                    *x1 = *x;
                    kernels::axpy(x1, cfg.xi, d);
                }
                net.forward_block(x1.get(..n).unwrap_or_default(), &mut other, &mut buf);
                for (z1, z) in buf.iter_mut().zip(&zs).take(n) {
                    *z1 = loss::kl_divergence(z, z1).1;
                }
                net.backward_block(&other, buf.get(..n).unwrap_or_default(), None, Some(ds));
            }
            Direction::Exact => {
                net.jvp_block(&clean, ds.get(..n).unwrap_or_default(), &mut buf);
                for (u, p) in buf.iter_mut().zip(&ps).take(n) {
                    let pu = kernels::dot(p, u);
                    for (uk, &pk) in u.iter_mut().zip(p) {
                        *uk = pk * (*uk - pu);
                    }
                }
                net.backward_block(&clean, buf.get(..n).unwrap_or_default(), None, Some(ds));
            }
        }
        for d in ds.iter_mut().take(n) {
            normalize(d);
        }
    }
    let mut x_adv = [[0.0; IN]; BLOCK];
    for ((xa, x), d) in x_adv.iter_mut().zip(xs).zip(ds.iter()) {
        let mut r = *d;
        for v in &mut r {
            *v *= cfg.eps;
        }
        *xa = *x;
        kernels::axpy(xa, 1.0, &r);
    }
    net.forward_block(x_adv.get(..n).unwrap_or_default(), &mut other, &mut buf);
    for ((za, z), l) in buf.iter_mut().zip(&zs).zip(lds.iter_mut()).take(n) {
        let (kl, dz) = loss::kl_divergence(z, za);
        *l = kl;
        *za = dz;
        if let Some(s) = terms.lds_scale {
            for v in za.iter_mut() {
                *v *= s;
            }
        }
    }
    if terms.lds_scale.is_some() {
        net.backward_block(
            &other,
            buf.get(..n).unwrap_or_default(),
            grad.as_deref_mut(),
            None,
        );
    }
    for ((z, h), _) in zs.iter_mut().zip(entropy.iter_mut()).zip(0..n) {
        let (hv, dz) = loss::entropy(z);
        *h = hv;
        if let Some(s) = terms.entropy_scale {
            for (zv, d) in z.iter_mut().zip(dz) {
                *zv = d * s;
            }
        }
    }
    if terms.entropy_scale.is_some() {
        net.backward_block(&clean, zs.get(..n).unwrap_or_default(), grad, None);
    }
}

/// Mean LDS of validated samples, start directions from `start(i, d)`, gradients as `terms`.
/// Returns `(Σ LDS, Σ H, max LDS)`.
pub(crate) fn batch<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    xs: &[[f32; IN]],
    mut start: impl FnMut(usize, &mut [f32; IN]),
    cfg: &VatConfig,
    mut grad: Option<&mut N>,
    terms: BlockTerms,
) -> (f32, f32, f32) {
    let (mut sum, mut ent, mut max) = (0.0, 0.0, 0.0f32);
    for (b, xs) in xs.chunks(BLOCK).enumerate() {
        let mut ds = [[0.0; IN]; BLOCK];
        for (i, d) in ds.iter_mut().enumerate().take(xs.len()) {
            start(b * BLOCK + i, d);
        }
        let mut lds = [0.0; BLOCK];
        let mut h = [0.0; BLOCK];
        block(
            net,
            xs,
            &mut ds,
            cfg,
            grad.as_deref_mut(),
            terms,
            &mut lds,
            &mut h,
        );
        for (&l, &hv) in lds.iter().zip(&h).take(xs.len()) {
            sum += l;
            ent += hv;
            max = if l > max { l } else { max };
        }
    }
    (sum, ent, max)
}

/// `LDS(x)` of one sample from the start direction `d0`.
///
/// # Errors
///
/// As [`virtual_adversarial`].
pub fn lds<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    x: &[f32; IN],
    d0: &[f32; IN],
    cfg: &VatConfig,
) -> Result<f32> {
    Ok(virtual_adversarial(net, x, d0, cfg)?.lds)
}

/// Mean LDS over a batch with Gaussian start directions drawn from `rng` (sample by sample,
/// coordinate by coordinate); **adds** `weight · ∂(mean LDS)/∂θ` to `grad`.
///
/// # Errors
///
/// [`VatConfig::validate`]'s, [`Error::EmptyBatch`], [`Error::NonFiniteInput`],
/// [`Error::InvalidWeight`].
///
/// # Examples
///
/// ```
/// use vatic::vat::{vat_grad, VatConfig};
/// use vatic::{Activation, Mlp, Parameters, Rng};
///
/// let net: Mlp<2, 16, 2> = Mlp::new(Activation::Relu, &mut Rng::new(3));
/// let mut grad = Mlp::ZERO;
/// let xs = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]];
/// let lds = vat_grad(&net, &xs, &mut Rng::new(9), &VatConfig::new(0.5), 1.0, &mut grad)?;
/// assert!(lds >= 0.0);
/// # Ok::<(), vatic::Error>(())
/// ```
pub fn vat_grad<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    xs: &[[f32; IN]],
    rng: &mut Rng,
    cfg: &VatConfig,
    weight: f32,
    grad: &mut N,
) -> Result<f32> {
    cfg.validate()?;
    check::weight(weight)?;
    check::batch(xs, None, OUT)?;
    let terms = BlockTerms::lds(weight / xs.len() as f32);
    let (sum, _, _) = batch(net, xs, |_, d| rng.fill_normal(d), cfg, Some(grad), terms);
    Ok(sum / xs.len() as f32)
}

/// [`vat_grad`] with given start directions `d0s[i]` instead of random ones (deterministic:
/// for tests and reference comparisons).
///
/// # Errors
///
/// As [`vat_grad`], and [`Error::LengthMismatch`] when `d0s.len() != xs.len()`.
pub fn vat_grad_with_directions<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    xs: &[[f32; IN]],
    d0s: &[[f32; IN]],
    cfg: &VatConfig,
    weight: f32,
    grad: &mut N,
) -> Result<f32> {
    cfg.validate()?;
    check::weight(weight)?;
    check::batch(xs, None, OUT)?;
    if d0s.len() != xs.len() {
        return Err(Error::LengthMismatch);
    }
    check::batch(d0s, None, OUT)?;
    let terms = BlockTerms::lds(weight / xs.len() as f32);
    let start = |i: usize, d: &mut [f32; IN]| {
        if let Some(d0) = d0s.get(i) {
            *d = *d0;
        }
    };
    let (sum, _, _) = batch(net, xs, start, cfg, Some(grad), terms);
    Ok(sum / xs.len() as f32)
}

/// Mean `KL(p(x_i) ‖ p(x_i + r_i))` over a batch at **given** perturbations `rs[i]` (the last
/// step of VAT, without the power iteration); **adds** `weight · ∂/∂θ` of it to `grad`, the
/// gradient flowing only through `f(x + r)`.
///
/// Useful to evaluate LDS at a perturbation computed elsewhere (for example a reference
/// implementation's `r_vadv`: near a ReLU kink, a perturbation that differs in the last bits can
/// switch units on or off and change the gradient by far more than rounding).
///
/// # Errors
///
/// [`Error::LengthMismatch`], [`Error::EmptyBatch`], [`Error::NonFiniteInput`] (for `xs` or
/// `rs`), [`Error::InvalidWeight`].
pub fn lds_at<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    xs: &[[f32; IN]],
    rs: &[[f32; IN]],
    weight: f32,
    grad: &mut N,
) -> Result<f32> {
    check::weight(weight)?;
    check::batch(xs, None, OUT)?;
    if rs.len() != xs.len() {
        return Err(Error::LengthMismatch);
    }
    check::batch(rs, None, OUT)?;
    let scale = weight / xs.len() as f32;
    let mut traces = [N::EMPTY_TRACE; BLOCK];
    let mut sum = 0.0;
    for (xs, rs) in xs.chunks(BLOCK).zip(rs.chunks(BLOCK)) {
        let n = xs.len();
        let mut zs = [[0.0; OUT]; BLOCK];
        net.forward_block(xs, &mut traces, &mut zs);
        let mut x_adv = [[0.0; IN]; BLOCK];
        for ((xa, x), r) in x_adv.iter_mut().zip(xs).zip(rs) {
            *xa = *x;
            kernels::axpy(xa, 1.0, r);
        }
        let mut za = [[0.0; OUT]; BLOCK];
        net.forward_block(x_adv.get(..n).unwrap_or_default(), &mut traces, &mut za);
        for (za, z) in za.iter_mut().zip(&zs).take(n) {
            let (kl, dz) = loss::kl_divergence(z, za);
            sum += kl;
            for (v, d) in za.iter_mut().zip(dz) {
                *v = d * scale;
            }
        }
        net.backward_block(&traces, za.get(..n).unwrap_or_default(), Some(grad), None);
    }
    Ok(sum / xs.len() as f32)
}
