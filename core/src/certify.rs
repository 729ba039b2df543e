//! Certified robustness: a proven lower bound on every margin `z_y − z_j` over a whole region
//! around a sample, so that no perturbation inside it can change the prediction.
//!
//! The attacks in [`attack`](crate::attack) find adversarial examples, so their robust
//! accuracy and minimal ε are *upper* bounds on the truth. This module gives the matching
//! *lower* bounds: [`certified`] proves that `argmax z(x') = y` for every `x'` in the region
//! `{x' : ‖x' − x‖ ≤ ε} ∩ clip` (L∞ or L2 ball, optionally intersected with the data's box),
//! and [`certified_radius`] bisects for the largest ε it can prove. A sample then reads
//! "certified up to r_cert (proved), fooled at r_attack (found)", with `r_cert ≤ r_attack`.
//!
//! # Two bounds
//!
//! * [`Bound::Ibp`], interval bound propagation (Gowal et al. 2018): the region's bounding box
//!   is pushed through each layer, `z ∈ W c + b ± |W| r` for a box of centre `c` and radius
//!   `r`, then through the monotone activation. For L2, the first layer uses the ball itself:
//!   `W x + b ± ε ‖W_i‖₂`. One pass per layer.
//! * [`Bound::Crown`], linear relaxation (Zhang et al. 2018, CROWN; Singh et al. 2019,
//!   DeepPoly): each activation on its interval `[l, u]` is sandwiched between two lines
//!   `α_L z + β_L ≤ σ(z) ≤ α_U z + β_U`, and a margin is bounded by a backward pass that
//!   carries a linear function of the layer's inputs down to the input, where it is minimised
//!   over the region exactly (L∞: `Σ min(λ_j a_j, λ_j b_j)` over the box; L2:
//!   `λ·x − ε ‖λ‖₂`). Every hidden layer's bounds are computed the same way (one backward pass
//!   per neuron and direction) and intersected with IBP's, so CROWN is never looser than IBP
//!   beyond `f64` rounding (IBP over CROWN's tighter boxes rounds differently and can land a
//!   few ulp below IBP over its own; starting CROWN from IBP's own margins would close that
//!   gap for 60–80 % more instructions on a Cortex-M, whose `f64` is software).
//!   ReLU: `0 ≤ relu(z) ≤ u (z − l) / (u − l)` on a crossing neuron, lower slope 1 when
//!   `u > −l` (CROWN's adaptive choice); tanh: the lines through `(l, tanh l)` and
//!   `(u, tanh u)` with the smallest slope of `tanh` on `[l, u]` (`min(tanh' l, tanh' u)`,
//!   valid because `tanh'` lies above it on the whole interval).
//!
//! # Sound in f32
//!
//! The certificate is about the network *as vatic evaluates it*: the `f32` forward pass of
//! [`pass`](crate::pass), not the exact real-valued network. Two arguments make it hold:
//!
//! 1. **The network's own rounding.** A dense layer computed in `f32` in any summation order
//!    satisfies `|fl(W h + b)_i − (W h + b)_i| ≤ γ₂₄(n+1) · (Σ_j |W_ij| |h_j| + |b_i|)` with
//!    `γ₂₄(k) = k u / (1 − k u)`, `u = 2⁻²⁴` (Higham, *Accuracy and Stability of Numerical
//!    Algorithms*, §3.1), plus `(n + 1) · 2⁻¹⁴⁹` for products that underflow. vatic never fuses
//!    a multiply-add, so this bound covers every kernel. Each layer's pre-activation is treated
//!    as the exact one plus an error `δ_i` bounded by `Δ_i`, the bound above with `|h_j|`
//!    replaced by its box maximum; IBP widens each interval by `Δ`, CROWN carries `Σ |λ_i| Δ_i`
//!    as slack. `relu` is exact in `f32`; `tanh` in `f32` ([`math::tanh`](crate::math::tanh))
//!    is within `8 ε₃₂` of the true value (libm; measured worst 4 ulp in `math`'s tests) or
//!    within [`FAST_MATH_REL_ERROR`](crate::math::FAST_MATH_REL_ERROR) with `fast-math`
//!    (`|tanh| ≤ 1`, so relative is absolute); the relaxations' offsets are widened by it. The
//!    prediction is the first index of the largest logit, so a certificate needs every margin
//!    `> 0` strictly.
//! 2. **The certificate's own rounding.** The bounds are computed in `f64`, and every
//!    computed quantity is turned into a rigorous bound step by step: a sum of `n` products is
//!    within `γ₅₃(n)` times the sum of their absolute values of the exact one, so each lower
//!    bound subtracts that term, each upper bound adds it, and constants and slack are
//!    accumulated with outward rounding. When a backward pass replaces its exact coefficients
//!    by the computed ones, the difference times the variable's box bound goes into the
//!    slack. Divisions and `tanh` in `f64` only choose the relaxations' slopes; each line is
//!    then made valid with outward margins far above `f64`'s rounding.
//!
//! `f64` here is the IEEE type on every target (software on Cortex-M), and the code is the same,
//! so host and device compute the same bounds bit for bit.
//!
//! # Examples
//!
//! ```
//! use vatic::attack::Norm;
//! use vatic::certify::{self, Bound};
//! use vatic::{Activation, Mlp, Network, Rng};
//!
//! let net: Mlp<2, 8, 2> = Mlp::new(Activation::Relu, &mut Rng::new(3));
//! let mut ws = vec![0.0; certify::workspace_len(&net.shape())];
//! let x = [0.4, -0.2];
//! let y = vatic::pass::predict(&net, &x, &mut [0.0; Mlp::<2, 8, 2>::WORKSPACE_ONE])?;
//! let r = certify::certified_radius(&net, &x, y, Norm::L2, None, Bound::Crown, 4.0, 16, &mut ws)?;
//! // Any perturbation of L2 norm up to r keeps the prediction (proved).
//! assert!(r > 0.0);
//! assert!(certify::certified(&net, &x, y, r, Norm::L2, None, Bound::Crown, &mut ws)?);
//! # Ok::<(), vatic::Error>(())
//! ```

use crate::attack::{Clip, Norm};
use crate::error::{Error, Result};
use crate::{check, workspace, Activation, Network, Shape};

/// Which bound to propagate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Bound {
    /// Interval bound propagation: one box per layer.
    Ibp,
    /// Linear relaxation (CROWN / DeepPoly), intersected with IBP's boxes at every layer.
    #[default]
    Crown,
}

/// Unit roundoff of `f64`.
const U64: f64 = f64::EPSILON / 2.0;
/// Unit roundoff of `f32`, in `f64`.
const U32: f64 = f32::EPSILON as f64 / 2.0;
/// `2⁻¹⁴⁹`, the smallest positive `f32`: the most an underflowing `f32` product loses.
const TINY32: f64 = 1.401_298_464_324_817e-45;
/// Far above what underflowing `f64` products lose.
const TINY64: f64 = 1e-290;
/// Outward margin of the `f64` `tanh` values and derivatives the relaxations use (each is
/// within a few `1e-16`).
const TANH64_MARGIN: f64 = 1e-14;

/// `γ(n) = n u / (1 − n u)`, over-approximated by `1.01 n u` (valid while `n u ≤ 0.0099`).
fn gamma(n: usize, u: f64) -> f64 {
    1.01 * (n as f64 + 2.0) * u
}

/// `v` minus a margin covering the rounding of the few operations that produced it.
fn down(v: f64) -> f64 {
    v - (v.abs() * 4.0 * U64 + TINY64)
}

/// `v` plus a margin covering the rounding of the few operations that produced it.
fn up(v: f64) -> f64 {
    v + (v.abs() * 4.0 * U64 + TINY64)
}

/// The absolute error bound of `math::tanh` in `f32`.
fn tanh32_error() -> f64 {
    if cfg!(feature = "fast-math") {
        crate::math::FAST_MATH_REL_ERROR as f64
    } else {
        8.0 * f32::EPSILON as f64
    }
}

/// `f64`s of workspace the bounds of a network of `shape` need:
/// `7 Σ hidden + 2 OUT + 2 IN + 4 max(IN, max hidden, OUT)` (the last `OUT` hold
/// [`certified`]'s margins).
pub const fn workspace_len(shape: &Shape) -> usize {
    let mut w = shape.inputs;
    if shape.hidden_max > w {
        w = shape.hidden_max;
    }
    if shape.outputs > w {
        w = shape.outputs;
    }
    7 * shape.hidden_sum + 2 * shape.outputs + 2 * shape.inputs + 4 * w
}

/// The workspace carved: per hidden neuron its pre-activation bounds, relaxation lines and
/// rounding bound `Δ`; the input box; two pairs of row buffers.
struct Work<'a> {
    lo: &'a mut [f64],
    hi: &'a mut [f64],
    al: &'a mut [f64],
    bl: &'a mut [f64],
    au: &'a mut [f64],
    bu: &'a mut [f64],
    /// `Δ` of every layer's outputs, hidden layers then the logits.
    delta: &'a mut [f64],
    a: &'a mut [f64],
    b: &'a mut [f64],
    lam: &'a mut [f64],
    mu: &'a mut [f64],
    lam2: &'a mut [f64],
    mu2: &'a mut [f64],
}

impl<'a> Work<'a> {
    fn carve(s: &Shape, ws: &'a mut [f64]) -> Result<Self> {
        let h = s.hidden_sum;
        let w = s.inputs.max(s.hidden_max).max(s.outputs);
        let [lo, hi, al, bl, au, bu, delta, a, b, lam, mu, lam2, mu2] = workspace::carve(
            ws,
            [
                h,
                h,
                h,
                h,
                h,
                h,
                h + s.outputs,
                s.inputs,
                s.inputs,
                w,
                w,
                w,
                w,
            ],
        )
        .ok_or(Error::WorkspaceTooSmall)?;
        Ok(Work {
            lo,
            hi,
            al,
            bl,
            au,
            bu,
            delta,
            a,
            b,
            lam,
            mu,
            lam2,
            mu2,
        })
    }
}

/// The region around `x`: its norm, radius and centre.
#[derive(Clone, Copy)]
struct Region<'x> {
    x: &'x [f32],
    eps: f32,
    norm: Norm,
}

/// Proven lower bounds of the margins `z_y − z_j` of the `f32` network over the region, into
/// `out[j]` (`out[y]` is `+∞`). The region is `{x' : ‖x' − x‖ ≤ eps} ∩ clip` in `norm`.
///
/// # Errors
///
/// [`Error::InvalidEpsilon`], [`Error::InvalidRange`], [`Error::NonFiniteInput`],
/// [`Error::LabelOutOfRange`], [`Error::LengthMismatch`] (`x` or `out` of the wrong width),
/// [`Error::NonFiniteParameter`], [`Error::WorkspaceTooSmall`] (see [`workspace_len`]).
pub fn margins<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    eps: f32,
    norm: Norm,
    clip: Option<Clip>,
    bound: Bound,
    out: &mut [f64],
    ws: &mut [f64],
) -> Result<()> {
    check::epsilon(eps)?;
    Clip::check(clip)?;
    let s = net.shape();
    check::batch(x, s.inputs, Some(&[y]), s.outputs)?;
    if x.len() != s.inputs || out.len() != s.outputs {
        return Err(Error::LengthMismatch);
    }
    net.check_finite()?;
    let mut w = Work::carve(&s, ws)?;
    let region = Region { x, eps, norm };
    input_box(region, clip, w.a, w.b);
    hidden_bounds(net, region, bound, &mut w);
    let last = net.depth().saturating_sub(1);
    let outputs_off = s.hidden_sum;
    // Δ of the logits.
    if let Some(d) = net.layer(last) {
        let (pa, pb) = boxes(net, last, w.a, w.b, w.lo, w.hi);
        layer_delta(
            d,
            pa,
            pb,
            w.delta.get_mut(outputs_off..).unwrap_or_default(),
        );
    }
    for (j, o) in out.iter_mut().enumerate() {
        *o = if j == y {
            f64::INFINITY
        } else {
            let c = [(y, 1.0), (j, -1.0)];
            let mut lb = ibp_row(net, last, &c, &w);
            if bound == Bound::Crown {
                lb = lb.max(crown_row(net, last, &c, region, &mut w));
            }
            lb
        };
    }
    Ok(())
}

/// Whether every `x'` in the region is classified `y` by the `f32` network (proved).
///
/// # Errors
///
/// As [`margins`].
pub fn certified<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    eps: f32,
    norm: Norm,
    clip: Option<Clip>,
    bound: Bound,
    ws: &mut [f64],
) -> Result<bool> {
    // The margins go in the workspace's last `OUT` values.
    let classes = net.width(net.depth());
    let split = ws
        .len()
        .checked_sub(classes)
        .ok_or(Error::WorkspaceTooSmall)?;
    let (ws, out) = ws.split_at_mut(split);
    margins(net, x, y, eps, norm, clip, bound, out, ws)?;
    Ok(out.iter().all(|&m| m > 0.0))
}

/// The largest radius in `[0, eps_max]` at which [`certified`] holds, found by `steps`
/// bisection steps; `0` when not even `x` itself is certified (misclassified, or a margin
/// within the rounding bound). The radius returned was certified, so it is a proven lower
/// bound on the sample's true robustness radius (it may be below the largest certifiable one:
/// the bounds need not shrink monotonically with ε).
///
/// # Errors
///
/// As [`margins`], and [`Error::ZeroIterations`] for `steps = 0`.
pub fn certified_radius<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    norm: Norm,
    clip: Option<Clip>,
    bound: Bound,
    eps_max: f32,
    steps: u32,
    ws: &mut [f64],
) -> Result<f32> {
    check::epsilon(eps_max)?;
    if steps == 0 {
        return Err(Error::ZeroIterations);
    }
    if !certified(net, x, y, 0.0, norm, clip, bound, ws)? {
        return Ok(0.0);
    }
    if certified(net, x, y, eps_max, norm, clip, bound, ws)? {
        return Ok(eps_max);
    }
    let (mut good, mut bad) = (0.0f32, eps_max);
    for _ in 0..steps {
        let mid = 0.5 * (good + bad);
        if certified(net, x, y, mid, norm, clip, bound, ws)? {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Ok(good)
}

/// The region's bounding box `[a, b]`: `x ± eps` (also for L2, whose ball lies in it),
/// intersected with `clip`, rounded outward.
fn input_box(r: Region<'_>, clip: Option<Clip>, a: &mut [f64], b: &mut [f64]) {
    let e = f64::from(r.eps);
    for ((a, b), &x) in a.iter_mut().zip(b.iter_mut()).zip(r.x) {
        let x = f64::from(x);
        let (mut lo, mut hi) = (down(x - e), up(x + e));
        if let Some(c) = clip {
            lo = lo.max(f64::from(c.min));
            hi = hi.min(f64::from(c.max));
            // x outside the box by more than ε: an empty region; keep a superset.
            if lo > hi {
                (lo, hi) = (down(x - e), up(x + e));
            }
        }
        *a = lo;
        *b = hi;
    }
}

/// Offset of hidden layer `l`'s neurons in the per-neuron buffers.
fn offset<N: Network + ?Sized>(net: &N, l: usize) -> usize {
    (1..=l).map(|k| net.width(k)).sum()
}

/// The box of layer `l`'s inputs: the input box for `l = 0`, else hidden layer `l − 1`'s
/// post-activation box. Returned as lower and upper slices.
fn post_box<'w, N: Network + ?Sized>(
    net: &N,
    l: usize,
    w: &'w Work<'_>,
) -> (PostBox<'w>, PostBox<'w>) {
    boxes(net, l, w.a, w.b, w.lo, w.hi)
}

/// [`post_box`] over the buffers themselves (so `Δ` can be written meanwhile).
fn boxes<'w, N: Network + ?Sized>(
    net: &N,
    l: usize,
    a: &'w [f64],
    b: &'w [f64],
    lo: &'w [f64],
    hi: &'w [f64],
) -> (PostBox<'w>, PostBox<'w>) {
    match l.checked_sub(1) {
        None => (PostBox::Plain(a), PostBox::Plain(b)),
        Some(k) => {
            let off = offset(net, k);
            let n = net.width(k + 1);
            let lo = lo.get(off..off + n).unwrap_or_default();
            let hi = hi.get(off..off + n).unwrap_or_default();
            let act = net.activation();
            (
                PostBox::Activated {
                    z: lo,
                    act,
                    upper: false,
                },
                PostBox::Activated {
                    z: hi,
                    act,
                    upper: true,
                },
            )
        }
    }
}

/// A box bound on a layer's inputs, evaluated lazily: the input box, or an activation of
/// pre-activation bounds (`σ` is monotone, so `σ(lo)`, `σ(hi)` bound `σ(z)`, widened by the
/// `f32` activation's error).
#[derive(Clone, Copy)]
enum PostBox<'w> {
    Plain(&'w [f64]),
    Activated {
        z: &'w [f64],
        act: Activation,
        upper: bool,
    },
}

impl PostBox<'_> {
    fn len(&self) -> usize {
        match self {
            PostBox::Plain(v) | PostBox::Activated { z: v, .. } => v.len(),
        }
    }

    fn get(&self, j: usize) -> f64 {
        match *self {
            PostBox::Plain(v) => v.get(j).copied().unwrap_or(0.0),
            PostBox::Activated { z, act, upper } => {
                let z = z.get(j).copied().unwrap_or(0.0);
                match (act, upper) {
                    (Activation::Relu, _) => z.max(0.0),
                    (Activation::Tanh, false) => {
                        (libm::tanh(z) - TANH64_MARGIN - tanh32_error()).max(-1.0)
                    }
                    (Activation::Tanh, true) => {
                        (libm::tanh(z) + TANH64_MARGIN + tanh32_error()).min(1.0)
                    }
                }
            }
        }
    }
}

/// `Δ_i = γ₂₄(n+1) (Σ_j |W_ij| m_j + |b_i|) + (n+1) 2⁻¹⁴⁹` with `m_j = max(|a_j|, |b_j|)`:
/// how far the `f32` layer's output can be from the exact one on inputs in the box.
fn layer_delta(d: crate::DenseRef<'_>, pa: PostBox<'_>, pb: PostBox<'_>, delta: &mut [f64]) {
    let n = d.inputs;
    let g = gamma(n + 1, U32);
    for ((row, &bias), dl) in d
        .weight
        .chunks_exact(n.max(1))
        .zip(d.bias)
        .zip(delta.iter_mut())
    {
        let mut s = f64::from(bias).abs();
        for (j, &wij) in row.iter().enumerate() {
            s += f64::from(wij).abs() * pa.get(j).abs().max(pb.get(j).abs());
        }
        // The sum's own f64 rounding (n + 1 terms) is far below the f32 factor's slack 1.01.
        *dl = up(g * s * (1.0 + gamma(n + 1, U64)) + (n as f64 + 1.0) * TINY32);
    }
}

/// Bounds, relaxations and `Δ` of every hidden layer, in order.
fn hidden_bounds<N: Network + ?Sized>(net: &N, r: Region<'_>, bound: Bound, w: &mut Work<'_>) {
    let depth = net.depth();
    for l in 0..depth.saturating_sub(1) {
        let Some(d) = net.layer(l) else { return };
        let off = offset(net, l);
        let n_out = net.width(l + 1);
        // Δ of this layer, then its IBP bounds.
        let (pa, pb) = boxes(net, l, w.a, w.b, w.lo, w.hi);
        let delta = w.delta.get_mut(off..off + n_out).unwrap_or_default();
        layer_delta(d, pa, pb, delta);
        for i in 0..n_out {
            let (lo, hi) = ibp_neuron(net, l, i, r, w);
            if let (Some(a), Some(b)) = (w.lo.get_mut(off + i), w.hi.get_mut(off + i)) {
                *a = lo;
                *b = hi;
            }
        }
        if bound == Bound::Crown && l > 0 {
            for i in 0..n_out {
                let lo = crown_row(net, l, &[(i, 1.0), (i, 0.0)], r, w);
                let hi = -crown_row(net, l, &[(i, -1.0), (i, 0.0)], r, w);
                if let (Some(a), Some(b)) = (w.lo.get_mut(off + i), w.hi.get_mut(off + i)) {
                    *a = a.max(lo);
                    *b = b.min(hi);
                }
            }
        }
        relax(net.activation(), off, n_out, w);
    }
}

/// The relaxation lines of hidden neurons `off..off + n` from their bounds.
fn relax(act: Activation, off: usize, n: usize, w: &mut Work<'_>) {
    let e32 = tanh32_error();
    for i in off..off + n {
        let (Some(&l), Some(&u)) = (w.lo.get(i), w.hi.get(i)) else {
            return;
        };
        let (al, bl, au, bu) = match act {
            Activation::Relu => {
                if u <= 0.0 {
                    (0.0, 0.0, 0.0, 0.0)
                } else if l >= 0.0 {
                    (1.0, 0.0, 1.0, 0.0)
                } else {
                    // Upper line through (l, 0) and (u, u), slope and offset rounded up:
                    // a ≥ u / (u − l) and b ≥ −a l make a z + b ≥ relu(z) at both ends.
                    let a = (u / (u - l)) * (1.0 + 8.0 * U64);
                    let b = (-a * l) * (1.0 + 4.0 * U64);
                    let lower = if u > -l { 1.0 } else { 0.0 };
                    (lower, 0.0, a, b)
                }
            }
            Activation::Tanh => {
                let (tl, tu) = (libm::tanh(l), libm::tanh(u));
                let s = ((1.0 - tl * tl).min(1.0 - tu * tu) - TANH64_MARGIN).max(0.0);
                let bl = tl - s * l - TANH64_MARGIN - e32;
                let bu = tu - s * u + TANH64_MARGIN + e32;
                (s, bl, s, bu)
            }
        };
        if let (Some(a), Some(b), Some(c), Some(d)) = (
            w.al.get_mut(i),
            w.bl.get_mut(i),
            w.au.get_mut(i),
            w.bu.get_mut(i),
        ) {
            *a = al;
            *b = bl;
            *c = au;
            *d = bu;
        }
    }
}

/// IBP bounds of neuron `i` of layer `l`'s pre-activation (including the `f32` error `Δ`).
fn ibp_neuron<N: Network + ?Sized>(
    net: &N,
    l: usize,
    i: usize,
    r: Region<'_>,
    w: &Work<'_>,
) -> (f64, f64) {
    let Some(d) = net.layer(l) else {
        return (f64::NEG_INFINITY, f64::INFINITY);
    };
    let n = d.inputs;
    let row = d.weight.get(i * n..(i + 1) * n).unwrap_or_default();
    let bias = f64::from(d.bias.get(i).copied().unwrap_or(0.0));
    let (pa, pb) = post_box(net, l, w);
    let delta = w
        .delta
        .get(offset(net, l) + i)
        .copied()
        .unwrap_or(f64::INFINITY);
    // Box: centre c, radius ρ (rounded up so that [c − ρ, c + ρ] ⊇ [a, b]).
    let (mut z, mut mag, mut rho) = (bias, bias.abs(), 0.0);
    for (j, &wij) in row.iter().enumerate().take(pa.len()) {
        let (a, b) = (pa.get(j), pb.get(j));
        let c = 0.5 * (a + b);
        let rj = up((b - c).max(c - a));
        let wij = f64::from(wij);
        z += wij * c;
        mag += (wij * c).abs();
        rho += wij.abs() * rj;
    }
    let g = gamma(n + 1, U64);
    let err = g * (mag + rho) + (n as f64 + 1.0) * TINY64;
    let rho = up(rho + err);
    let (mut lo, mut hi) = (down(z - rho - delta), up(z + rho + delta));
    if l == 0 && r.norm == Norm::L2 {
        // The ball itself: W x + b ± ε ‖W_i‖₂.
        let (mut z2, mut mag2, mut sq) = (bias, bias.abs(), 0.0);
        for (&wij, &x) in row.iter().zip(r.x) {
            let (wij, x) = (f64::from(wij), f64::from(x));
            z2 += wij * x;
            mag2 += (wij * x).abs();
            sq += wij * wij;
        }
        let nrm = libm::sqrt(sq) * (1.0 + gamma(n + 2, U64));
        let rad = up(f64::from(r.eps) * nrm);
        let err2 = g * (mag2 + rad) + (n as f64 + 1.0) * TINY64;
        lo = lo.max(down(z2 - rad - err2 - delta));
        hi = hi.min(up(z2 + rad + err2 + delta));
    }
    (lo, hi)
}

/// IBP lower bound of `Σ c_k z_k` over layer `l`'s pre-activation neurons (`c` has at most two
/// terms; a zero coefficient is ignored).
fn ibp_row<N: Network + ?Sized>(net: &N, l: usize, c: &[(usize, f64); 2], w: &Work<'_>) -> f64 {
    let r = Region {
        x: &[],
        eps: 0.0,
        norm: Norm::LInf,
    };
    // A margin's IBP bound: lower(z_y) − upper(z_j), both with their Δ.
    let mut lb = 0.0;
    for &(k, ck) in c {
        if ck == 0.0 {
            continue;
        }
        let (lo, hi) = ibp_neuron(net, l, k, r, w);
        lb += if ck > 0.0 { ck * lo } else { ck * hi };
    }
    down(lb)
}

/// CROWN lower bound of `Σ c_k z_k` over layer `l`'s pre-activation neurons, for every input
/// of the region: one backward pass through the relaxations of layers `l − 1, …, 0`.
fn crown_row<N: Network + ?Sized>(
    net: &N,
    l: usize,
    c: &[(usize, f64); 2],
    r: Region<'_>,
    w: &mut Work<'_>,
) -> f64 {
    let Some(d) = net.layer(l) else {
        return f64::NEG_INFINITY;
    };
    // Layer l: λ = cᵀ W_l over its inputs, const = cᵀ b_l, slack = |c|ᵀ Δ_l.
    let n_in = d.inputs;
    let (mut konst, mut slack) = (0.0f64, 0.0f64);
    let lam = w.lam.get_mut(..n_in).unwrap_or_default();
    let mu = w.mu.get_mut(..n_in).unwrap_or_default();
    lam.fill(0.0);
    mu.fill(0.0);
    let mut terms = 0usize;
    let delta_off = offset(net, l);
    for &(k, ck) in c {
        if ck == 0.0 {
            continue;
        }
        terms += 1;
        let row = d.weight.get(k * n_in..(k + 1) * n_in).unwrap_or_default();
        for ((lj, mj), &wkj) in lam.iter_mut().zip(mu.iter_mut()).zip(row) {
            *lj += ck * f64::from(wkj);
            *mj += (ck * f64::from(wkj)).abs();
        }
        let b = ck * f64::from(d.bias.get(k).copied().unwrap_or(0.0));
        konst = down(konst + b);
        let dk = w.delta.get(delta_off + k).copied().unwrap_or(f64::INFINITY);
        slack = up(slack + ck.abs() * dk);
    }
    // The computed λ is used as exact from here on; its error (≤ γ μ) times the inputs' box
    // bound goes into the slack.
    let g = gamma(terms + 1, U64);
    let mu = w.mu.get(..n_in).unwrap_or_default();
    slack = up(slack + g * bound_dot(mu, net, l, w));
    for k in (0..l).rev() {
        let Some(dk) = net.layer(k) else {
            return f64::NEG_INFINITY;
        };
        let off = offset(net, k);
        let n = net.width(k + 1);
        let m = dk.inputs;
        // Relax σ of hidden layer k: λ_j h_j ≥ λ_j α_j z_j + λ_j β_j, α, β by the sign of λ_j.
        let mut zslack = 0.0;
        for j in 0..n {
            let (Some(lj), Some(mj)) = (w.lam.get_mut(j), w.mu.get_mut(j)) else {
                return f64::NEG_INFINITY;
            };
            let i = off + j;
            let (alpha, beta) = if *lj >= 0.0 {
                (w.al.get(i), w.bl.get(i))
            } else {
                (w.au.get(i), w.bu.get(i))
            };
            let (Some(&alpha), Some(&beta)) = (alpha, beta) else {
                return f64::NEG_INFINITY;
            };
            konst = down(konst + *lj * beta);
            let prod = *lj * alpha;
            // fl(λ α) differs from λ α by at most u |λ α|, times |z_j| ≤ max(|l|, |u|).
            let zmax =
                w.lo.get(i)
                    .map_or(f64::INFINITY, |v| v.abs())
                    .max(w.hi.get(i).map_or(f64::INFINITY, |v| v.abs()));
            if prod != 0.0 {
                zslack += prod.abs() * 2.0 * U64 * zmax;
            }
            *lj = prod;
            *mj = prod.abs();
        }
        slack = up(slack + up(zslack));
        // Through layer k: z_k = W_k h + b_k + δ_k. λ' = λ W_k, const += λ b_k,
        // slack += |λ| Δ_k, and the error of λ' (≤ γ μ') times the inputs' box bound.
        let lam2 = w.lam2.get_mut(..m).unwrap_or_default();
        let mu2 = w.mu2.get_mut(..m).unwrap_or_default();
        lam2.fill(0.0);
        mu2.fill(0.0);
        let (mut bsum, mut babs, mut dsum) = (0.0, 0.0, 0.0);
        for (((row, &bias), &lj), dl) in dk
            .weight
            .chunks_exact(m.max(1))
            .zip(dk.bias)
            .zip(w.lam.iter())
            .zip(w.delta.get(off..off + n).unwrap_or_default())
        {
            if lj == 0.0 {
                continue;
            }
            for ((a, b), &wij) in lam2.iter_mut().zip(mu2.iter_mut()).zip(row) {
                let t = lj * f64::from(wij);
                *a += t;
                *b += t.abs();
            }
            bsum += lj * f64::from(bias);
            babs += (lj * f64::from(bias)).abs();
            dsum += lj.abs() * dl;
        }
        let gk = gamma(n + 1, U64);
        konst = down(konst + down(bsum - gk * babs - TINY64));
        slack = up(slack + dsum * (1.0 + gk));
        core::mem::swap(&mut w.lam, &mut w.lam2);
        core::mem::swap(&mut w.mu, &mut w.mu2);
        let mu = w.mu.get(..m).unwrap_or_default();
        slack = up(slack + gk * bound_dot(mu, net, k, w));
    }
    // At the input: min over the region of λ·x'.
    let lam = w.lam.get(..n_input(net)).unwrap_or_default();
    let n = lam.len();
    let gn = gamma(n + 1, U64);
    let (mut boxv, mut boxabs) = (0.0, 0.0);
    for ((&lj, &a), &b) in lam.iter().zip(w.a.iter()).zip(w.b.iter()) {
        let t = if lj >= 0.0 { lj * a } else { lj * b };
        boxv += t;
        boxabs += t.abs();
    }
    let mut v = down(boxv - gn * boxabs - TINY64);
    if r.norm == Norm::L2 {
        let (mut dot, mut dabs, mut sq) = (0.0, 0.0, 0.0);
        for (&lj, &x) in lam.iter().zip(r.x) {
            let t = lj * f64::from(x);
            dot += t;
            dabs += t.abs();
            sq += lj * lj;
        }
        let nrm = libm::sqrt(sq) * (1.0 + gamma(n + 2, U64));
        let ball = down(dot - gn * dabs - up(f64::from(r.eps) * nrm) - TINY64);
        v = v.max(ball);
    }
    down(down(v + konst) - slack)
}

/// `Σ_j μ_j max(|a_j|, |b_j|)` over layer `l`'s input box, rounded up.
fn bound_dot<N: Network + ?Sized>(mu: &[f64], net: &N, l: usize, w: &Work<'_>) -> f64 {
    let (pa, pb) = post_box(net, l, w);
    let mut s = 0.0;
    for (j, &m) in mu.iter().enumerate() {
        if m != 0.0 {
            s += m * pa.get(j).abs().max(pb.get(j).abs());
        }
    }
    up(s * (1.0 + gamma(mu.len() + 1, U64)))
}

fn n_input<N: Network + ?Sized>(net: &N) -> usize {
    net.width(0)
}
