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
//!   forward-mode tangent pass for `u = J d` ([`pass::jvp`]), `s = p ⊙ u − p (pᵀu)`, and a
//!   backward pass `Jᵀ s`, about the cost of one finite-difference iteration and with no ξ.
//!   Recommended in `f32`.
//!
//! With `K = 0` the perturbation is the normalised random direction itself (the paper's
//! "random perturbation training" baseline).
//!
//! The parameter gradient of the mean LDS flows only through `f(x + r_vadv)`: `∂LDS/∂z_adv =
//! softmax(z_adv) − p`, backpropagated at `x + r_vadv`.

use crate::error::{Error, Result};
use crate::pass::{self, scratch_len, trace_len};
use crate::vector::normalize;
use crate::{check, kernels, loss, workspace, Network, Rng, Shape};

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

/// The buffers of one VAT block of `b` samples, carved from a workspace.
struct Bufs<'a> {
    clean: &'a mut [f32],
    other: &'a mut [f32],
    zs: &'a mut [f32],
    ps: &'a mut [f32],
    buf: &'a mut [f32],
    ds: &'a mut [f32],
    xa: &'a mut [f32],
    scratch: &'a mut [f32],
    lds: &'a mut [f32],
    entropy: &'a mut [f32],
}

impl<'a> Bufs<'a> {
    /// `2 · Σ H + 3 · OUT + 2 · IN + 2 · max H + 2` values per sample.
    fn carve(s: &Shape, b: usize, ws: &'a mut [f32]) -> Result<Self> {
        let (t, o, i) = (trace_len(s, b), b * s.outputs, b * s.inputs);
        let [clean, other, zs, ps, buf, ds, xa, scratch, lds, entropy] =
            workspace::carve(ws, [t, t, o, o, o, i, i, scratch_len(s, b), b, b])
                .ok_or(Error::WorkspaceTooSmall)?;
        Ok(Bufs {
            clean,
            other,
            zs,
            ps,
            buf,
            ds,
            xa,
            scratch,
            lds,
            entropy,
        })
    }
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

    /// No gradient.
    pub(crate) const NONE: Self = BlockTerms {
        lds_scale: None,
        entropy_scale: None,
    };
}

/// The power iteration of a block: from the clean pass (`b.clean`, `b.zs`) at `xs` and the start
/// directions in `b.ds`, leaves the final unit directions in `b.ds` and `p = softmax(z)` in
/// `b.ps`.
fn directions<N: Network + ?Sized>(net: &N, xs: &[f32], cfg: &VatConfig, b: &mut Bufs<'_>) {
    let (i, o) = (net.width(0).max(1), net.width(net.depth()).max(1));
    let n = xs.len() / i;
    let (zs, ps) = (&b.zs[..], &mut b.ps[..]);
    let ds = b.ds.get_mut(..n * i).unwrap_or_default();
    let buf = b.buf.get_mut(..n * o).unwrap_or_default();
    for ((p, z), d) in ps
        .chunks_exact_mut(o)
        .zip(zs.chunks_exact(o))
        .zip(ds.chunks_exact_mut(i))
    {
        loss::softmax(z, p);
        normalize(d);
    }
    for _ in 0..cfg.iterations {
        match cfg.direction {
            Direction::FiniteDifference => {
                let x1 = b.xa.get_mut(..n * i).unwrap_or_default();
                for ((x1, &x), &d) in x1.iter_mut().zip(xs).zip(ds.iter()) {
                    *x1 = x + cfg.xi * d;
                }
                pass::forward(net, x1, b.other, buf);
                for (z1, z) in buf.chunks_exact_mut(o).zip(zs.chunks_exact(o)) {
                    loss::kl_divergence_grad(z, z1);
                }
                pass::backward(net, x1, b.other, buf, None, Some(ds), b.scratch);
            }
            Direction::Exact => {
                pass::jvp(net, b.clean, ds, buf, b.scratch);
                for (u, p) in buf.chunks_exact_mut(o).zip(ps.chunks_exact(o)) {
                    let pu = kernels::dot(p, u);
                    for (uk, &pk) in u.iter_mut().zip(p) {
                        *uk = pk * (*uk - pu);
                    }
                }
                pass::backward(net, xs, b.clean, buf, None, Some(ds), b.scratch);
            }
        }
        for d in ds.chunks_exact_mut(i) {
            normalize(d);
        }
    }
}

/// VAT for a block of validated samples `xs` from the start directions in `b.ds` (overwritten
/// by the final unit directions): `b.lds[i]` and the entropy `H(p(x_i))` in `b.entropy[i]`;
/// adds the requested gradients to `grad`.
///
/// Each sample's arithmetic is that of one sample alone; the passes run block-wise so each
/// weight matrix is read once per block.
fn block<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    cfg: &VatConfig,
    mut grad: Option<&mut N>,
    terms: BlockTerms,
    b: &mut Bufs<'_>,
) {
    let (i, o) = (net.width(0).max(1), net.width(net.depth()).max(1));
    let n = xs.len() / i;
    let zs = b.zs.get_mut(..n * o).unwrap_or_default();
    pass::forward(net, xs, b.clean, zs);
    directions(net, xs, cfg, b);
    let zs = b.zs.get_mut(..n * o).unwrap_or_default();
    let buf = b.buf.get_mut(..n * o).unwrap_or_default();
    let xa = b.xa.get_mut(..n * i).unwrap_or_default();
    // x_adv = x + r_vadv, r_vadv = ε d.
    for ((xa, &x), &d) in xa.iter_mut().zip(xs).zip(b.ds.iter()) {
        *xa = x + d * cfg.eps;
    }
    pass::forward(net, xa, b.other, buf);
    for ((za, z), l) in buf
        .chunks_exact_mut(o)
        .zip(zs.chunks_exact(o))
        .zip(b.lds.iter_mut())
    {
        *l = loss::kl_divergence_grad(z, za);
        if let Some(s) = terms.lds_scale {
            for v in za.iter_mut() {
                *v *= s;
            }
        }
    }
    if terms.lds_scale.is_some() {
        pass::backward(net, xa, b.other, buf, grad.as_deref_mut(), None, b.scratch);
    }
    for (z, h) in zs.chunks_exact_mut(o).zip(b.entropy.iter_mut()) {
        match terms.entropy_scale {
            Some(s) => {
                *h = loss::entropy_grad(z);
                for v in z.iter_mut() {
                    *v *= s;
                }
            }
            None => *h = loss::entropy(z),
        }
    }
    if terms.entropy_scale.is_some() {
        pass::backward(net, xs, b.clean, zs, grad, None, b.scratch);
    }
}

/// Mean LDS of validated samples `xs [n · IN]`, start directions from `start(i, d)`, gradients
/// as `terms`, in blocks of as many samples as `ws` holds. Returns `(Σ LDS, Σ H, max LDS)`.
pub(crate) fn batch<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    mut start: impl FnMut(usize, &mut [f32]),
    cfg: &VatConfig,
    mut grad: Option<&mut N>,
    terms: BlockTerms,
    ws: &mut [f32],
) -> Result<(f32, f32, f32)> {
    let s = net.shape();
    let per = workspace::block(&s, ws)?;
    let mut b = Bufs::carve(&s, per, ws)?;
    let i = s.inputs.max(1);
    let (mut sum, mut ent, mut max) = (0.0, 0.0, 0.0f32);
    for (k, xs) in xs.chunks(per * i).enumerate() {
        let n = xs.len() / i;
        for (j, d) in b.ds.chunks_exact_mut(i).take(n).enumerate() {
            start(k * per + j, d);
        }
        block(net, xs, cfg, grad.as_deref_mut(), terms, &mut b);
        for (&l, &hv) in b.lds.iter().zip(b.entropy.iter()).take(n) {
            sum += l;
            ent += hv;
            max = if l > max { l } else { max };
        }
    }
    Ok((sum, ent, max))
}

/// `dst ← src` over the common length (no length panic).
#[inline]
fn copy(dst: &mut [f32], src: &[f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
    }
}

/// Checks a sample and a direction of the input width, and a workspace of at least one sample.
fn sample_and_direction<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    d: &[f32],
    ws: &[f32],
) -> Result<()> {
    let w = net.width(0);
    if x.len() != w || d.len() != w {
        return Err(Error::LengthMismatch);
    }
    check::batch(x, w, None, 0)?;
    check::batch(d, w, None, 0).map_err(|_| Error::NonFiniteInput { sample: 1 })?;
    workspace::block(&net.shape(), ws).map(|_| ())
}

/// The unit direction after `K` power iterations from the start direction in `d` (overwritten).
///
/// # Errors
///
/// [`VatConfig::validate`]'s, [`Error::LengthMismatch`] when `x` or `d` is not one sample,
/// [`Error::NonFiniteInput`] for `x` (sample 0) or `d` (sample 1),
/// [`Error::WorkspaceTooSmall`].
pub fn power_iteration<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    d: &mut [f32],
    cfg: &VatConfig,
    ws: &mut [f32],
) -> Result<()> {
    cfg.validate()?;
    sample_and_direction(net, x, d, ws)?;
    let mut b = Bufs::carve(&net.shape(), 1, ws)?;
    copy(b.ds, d);
    pass::forward(net, x, b.clean, b.zs);
    directions(net, x, cfg, &mut b);
    copy(d, b.ds);
    Ok(())
}

/// The virtual adversarial perturbation `r_vadv = ε d` of one sample (written to `r_vadv`) and
/// its `LDS(x) = KL(p(x) ‖ p(x + r_vadv))` (returned), from the start direction `d0` (use
/// [`Rng::fill_normal`] for the paper's Gaussian start).
///
/// # Errors
///
/// As [`power_iteration`].
///
/// # Examples
///
/// ```
/// use vatic::vat::{virtual_adversarial, VatConfig};
/// use vatic::{Activation, Mlp, Rng};
///
/// let net: Mlp<2, 16, 2> = Mlp::new(Activation::Tanh, &mut Rng::new(3));
/// let mut ws = [0.0; Mlp::<2, 16, 2>::WORKSPACE_ONE];
/// let mut r = [0.0; 2];
/// let lds = virtual_adversarial(&net, &[0.3, -0.2], &[1.0, 0.5], &VatConfig::new(0.5), &mut r, &mut ws)?;
/// let norm = (r[0].powi(2) + r[1].powi(2)).sqrt();
/// assert!((norm - 0.5).abs() < 1e-5 && lds >= 0.0);
/// # Ok::<(), vatic::Error>(())
/// ```
pub fn virtual_adversarial<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    d0: &[f32],
    cfg: &VatConfig,
    r_vadv: &mut [f32],
    ws: &mut [f32],
) -> Result<f32> {
    cfg.validate()?;
    sample_and_direction(net, x, d0, ws)?;
    if r_vadv.len() != x.len() {
        return Err(Error::LengthMismatch);
    }
    let mut b = Bufs::carve(&net.shape(), 1, ws)?;
    copy(b.ds, d0);
    block(net, x, cfg, None, BlockTerms::NONE, &mut b);
    for (r, &d) in r_vadv.iter_mut().zip(b.ds.iter()) {
        *r = d * cfg.eps;
    }
    Ok(b.lds.first().copied().unwrap_or(0.0))
}

/// `LDS(x)` of one sample from the start direction `d0`.
///
/// # Errors
///
/// As [`power_iteration`].
pub fn lds<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    d0: &[f32],
    cfg: &VatConfig,
    ws: &mut [f32],
) -> Result<f32> {
    cfg.validate()?;
    sample_and_direction(net, x, d0, ws)?;
    let mut b = Bufs::carve(&net.shape(), 1, ws)?;
    copy(b.ds, d0);
    block(net, x, cfg, None, BlockTerms::NONE, &mut b);
    Ok(b.lds.first().copied().unwrap_or(0.0))
}

/// The raw power-iteration gradient `J(x + ξd)ᵀ (softmax(f(x + ξd)) − softmax(f(x)))` for a
/// given (already normalised) `d`, written to `g`.
///
/// # Errors
///
/// As [`power_iteration`], and [`Error::InvalidXi`] for `ξ ≤ 0`.
pub fn finite_difference_gradient<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    d: &[f32],
    xi: f32,
    g: &mut [f32],
    ws: &mut [f32],
) -> Result<()> {
    if !(xi.is_finite() && xi > 0.0) {
        return Err(Error::InvalidXi);
    }
    sample_and_direction(net, x, d, ws)?;
    if g.len() != x.len() {
        return Err(Error::LengthMismatch);
    }
    let b = Bufs::carve(&net.shape(), 1, ws)?;
    pass::forward(net, x, b.clean, b.zs);
    for ((x1, &x), &d) in b.xa.iter_mut().zip(x).zip(d) {
        *x1 = x + xi * d;
    }
    pass::forward(net, b.xa, b.other, b.buf);
    loss::kl_divergence_grad(b.zs, b.buf);
    pass::backward(net, b.xa, b.other, b.buf, None, Some(g), b.scratch);
    Ok(())
}

/// The exact Hessian-vector product `H d = Jᵀ (diag(p) − p pᵀ) J d` of
/// `r ↦ KL(p(x) ‖ p(x + r))` at `r = 0`, written to `hd`.
///
/// # Errors
///
/// As [`power_iteration`].
pub fn hessian_vector_product<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    d: &[f32],
    hd: &mut [f32],
    ws: &mut [f32],
) -> Result<()> {
    sample_and_direction(net, x, d, ws)?;
    if hd.len() != x.len() {
        return Err(Error::LengthMismatch);
    }
    let b = Bufs::carve(&net.shape(), 1, ws)?;
    pass::forward(net, x, b.clean, b.zs);
    loss::softmax(b.zs, b.ps);
    pass::jvp(net, b.clean, d, b.buf, b.scratch);
    let pu = kernels::dot(b.ps, b.buf);
    for (u, &p) in b.buf.iter_mut().zip(b.ps.iter()) {
        *u = p * (*u - pu);
    }
    pass::backward(net, x, b.clean, b.buf, None, Some(hd), b.scratch);
    Ok(())
}

/// Mean LDS over a batch `xs [n · IN]` with Gaussian start directions drawn from `rng` (sample
/// by sample, coordinate by coordinate); **adds** `weight · ∂(mean LDS)/∂θ` to `grad`.
///
/// # Errors
///
/// [`VatConfig::validate`]'s, [`Error::EmptyBatch`], [`Error::LengthMismatch`],
/// [`Error::NonFiniteInput`], [`Error::InvalidWeight`], [`Error::WorkspaceTooSmall`].
///
/// # Examples
///
/// ```
/// use vatic::vat::{vat_grad, VatConfig};
/// use vatic::{Activation, Mlp, Parameters, Rng};
///
/// let net: Mlp<2, 16, 2> = Mlp::new(Activation::Relu, &mut Rng::new(3));
/// let mut grad = Mlp::ZERO;
/// let mut ws = [0.0; Mlp::<2, 16, 2>::WORKSPACE];
/// let xs = [0.0, 1.0, /* */ 1.0, 0.0, /* */ 0.5, 0.5];
/// let lds = vat_grad(&net, &xs, &mut Rng::new(9), &VatConfig::new(0.5), 1.0, &mut grad, &mut ws)?;
/// assert!(lds >= 0.0);
/// # Ok::<(), vatic::Error>(())
/// ```
pub fn vat_grad<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    rng: &mut Rng,
    cfg: &VatConfig,
    weight: f32,
    grad: &mut N,
    ws: &mut [f32],
) -> Result<f32> {
    cfg.validate()?;
    check::weight(weight)?;
    let n = check::batch(xs, net.width(0), None, 0)?;
    let terms = BlockTerms::lds(weight / n as f32);
    let start = |_, d: &mut [f32]| rng.fill_normal(d);
    let (sum, _, _) = batch(net, xs, start, cfg, Some(grad), terms, ws)?;
    Ok(sum / n as f32)
}

/// [`vat_grad`] with given start directions `d0s [n · IN]` instead of random ones
/// (deterministic: for tests and reference comparisons).
///
/// # Errors
///
/// As [`vat_grad`], and [`Error::LengthMismatch`] when `d0s.len() != xs.len()`.
pub fn vat_grad_with_directions<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    d0s: &[f32],
    cfg: &VatConfig,
    weight: f32,
    grad: &mut N,
    ws: &mut [f32],
) -> Result<f32> {
    cfg.validate()?;
    check::weight(weight)?;
    let w = net.width(0);
    let n = check::batch(xs, w, None, 0)?;
    if d0s.len() != xs.len() {
        return Err(Error::LengthMismatch);
    }
    check::batch(d0s, w, None, 0)?;
    let terms = BlockTerms::lds(weight / n as f32);
    let (sum, _, _) = batch(net, xs, given(d0s, w), cfg, Some(grad), terms, ws)?;
    Ok(sum / n as f32)
}

/// Start directions taken from `d0s`, row `i` for sample `i`.
pub(crate) fn given(d0s: &[f32], w: usize) -> impl FnMut(usize, &mut [f32]) + '_ {
    move |i, d| {
        if let Some(d0) = d0s.get(i * w..(i + 1) * w) {
            copy(d, d0);
        }
    }
}

/// Mean `KL(p(x_i) ‖ p(x_i + r_i))` over a batch at **given** perturbations `rs [n · IN]` (the
/// last step of VAT, without the power iteration); **adds** `weight · ∂/∂θ` of it to `grad`,
/// the gradient flowing only through `f(x + r)`.
///
/// Useful to evaluate LDS at a perturbation computed elsewhere (for example a reference
/// implementation's `r_vadv`: near a ReLU kink, a perturbation that differs in the last bits can
/// switch units on or off and change the gradient by far more than rounding).
///
/// # Errors
///
/// [`Error::LengthMismatch`], [`Error::EmptyBatch`], [`Error::NonFiniteInput`] (for `xs` or
/// `rs`), [`Error::InvalidWeight`], [`Error::WorkspaceTooSmall`].
pub fn lds_at<N: Network + ?Sized>(
    net: &N,
    xs: &[f32],
    rs: &[f32],
    weight: f32,
    grad: &mut N,
    ws: &mut [f32],
) -> Result<f32> {
    check::weight(weight)?;
    let s = net.shape();
    let n = check::batch(xs, s.inputs, None, 0)?;
    if rs.len() != xs.len() {
        return Err(Error::LengthMismatch);
    }
    check::batch(rs, s.inputs, None, 0)?;
    let per = workspace::block(&s, ws)?;
    let b = Bufs::carve(&s, per, ws)?;
    let (i, o) = (s.inputs.max(1), s.outputs.max(1));
    let scale = weight / n as f32;
    let mut sum = 0.0;
    for (xs, rs) in xs.chunks(per * i).zip(rs.chunks(per * i)) {
        let m = xs.len() / i;
        let (zs, za) = (
            b.zs.get_mut(..m * o).unwrap_or_default(),
            b.buf.get_mut(..m * o).unwrap_or_default(),
        );
        let xa = b.xa.get_mut(..m * i).unwrap_or_default();
        pass::forward(net, xs, b.clean, zs);
        for ((xa, &x), &r) in xa.iter_mut().zip(xs).zip(rs) {
            *xa = x + r;
        }
        pass::forward(net, xa, b.other, za);
        for (za, z) in za.chunks_exact_mut(o).zip(zs.chunks_exact(o)) {
            sum += loss::kl_divergence_grad(z, za);
            for v in za.iter_mut() {
                *v *= scale;
            }
        }
        pass::backward(net, xa, b.other, za, Some(grad), None, b.scratch);
    }
    Ok(sum / n as f32)
}
