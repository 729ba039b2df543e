//! The dense kernels every layer is made of, with a fixed summation order.
//!
//! The order of floating-point additions is part of the result. These kernels fix it in the
//! source, so that the host vectorises them and Cortex-M4F runs multiply-accumulate sequences,
//! yet both compute the same bits: no reassociation is left to the compiler (Rust never
//! contracts `a * b + c` into a fused multiply-add unless asked) and nothing depends on the
//! target.
//!
//! * [`dot`]: `Σ_i a_i b_i` as [`LANES`] interleaved partial sums (`acc[k] = Σ_j a[8j+k] b[8j+k]`,
//!   in increasing `j`), combined as `((acc0+acc4)+(acc1+acc5)) + ((acc2+acc6)+(acc3+acc7))`, then
//!   the tail `a[8⌊n/8⌋..]` added one by one in increasing index.
//! * [`axpy`]: `y_i ← y_i + α x_i`, one rounding per element, no sums across elements.
//!
//! [`dot_tile`] computes an `R × S` tile of [`dot`]s with each operand chunk loaded once; the
//! layers' block passes (`Dense`'s crate-private `*_rows` functions) are register tiles built on
//! the same orders: the input gradient `Wᵀ dy` sums over outputs in increasing `o` from `0.0`,
//! the weight gradient adds samples in order. The eight partial sums are one vector of eight
//! `f32` lanes (two SSE registers, one AVX register, eight scalars on Cortex-M): element-wise
//! IEEE multiplies and adds, so its width never changes a bit.
//!
//! # Instruction sets
//!
//! The public kernels and the lone-sample passes use [`wide::f32x8`], whose instructions are
//! fixed at compile time: SSE2 in a default x86-64 build, AVX with `-C target-cpu`, NEON on
//! aarch64 (its baseline: nothing to dispatch), scalars on Cortex-M. The batch passes (the
//! layers' block passes, where the time goes on a host) are written once over an internal
//! 8-lane trait and, with the `dispatch` feature (enabled by the `host` package; needs `std`,
//! so never in a firmware), pick their instruction set at run time, once per layer call: AVX2
//! on an x86-64 CPU that has it, through [pulp](https://docs.rs/pulp)'s feature tokens, with no
//! `unsafe` in vatic (layers under a few thousand multiply-adds per call stay portable: the
//! check would cost more than it saves). [`batch_lanes`] says which was picked; the
//! environment variable `VATIC_DISPATCH=portable` turns dispatch off (read once per process).
//! AVX-512 was measured and is not dispatched: the same 256-bit lanes with 32 registers and a
//! 2 × 8 forward tile were 3 % faster on 784-1200-10 and 5–15 % slower on 64-128-10 and
//! 100-100-2 (Emerald Rapids Xeon). The lanes of every set compute `acc + a · b`
//! as a multiply, then an add — never a fused multiply-add, which rounds once and would differ
//! in the last bit — and the tiles only choose which dots run together, so **every instruction
//! set gives the same bits**: `core/examples/step_cost` prints checksum bits to compare, and
//! `.ci/run` runs the block-against-sample bit-equality tests dispatched, with dispatch turned
//! off, without the feature, and in an AVX build.

use wide::f32x8;

/// Number of interleaved partial sums in [`dot`].
pub const LANES: usize = 8;

/// The instruction set of the batch kernels, detected at run time (once per layer call; the
/// detection itself is cached by `std`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Isa {
    /// [`Portable`] lanes: no dispatch, or a CPU without AVX2.
    Portable,
    /// AVX2 and FMA (x86-64-v3), for [`Avx2`] lanes.
    #[cfg(all(feature = "dispatch", target_arch = "x86_64"))]
    Avx2(pulp::x86::V3),
}

/// The widest [`Isa`] this CPU has ([`Isa::Portable`] without the `dispatch` feature or with
/// `VATIC_DISPATCH=portable`).
#[inline(always)]
pub(crate) fn isa() -> Isa {
    #[cfg(all(feature = "dispatch", target_arch = "x86_64"))]
    {
        if dispatch_allowed() {
            if let Some(simd) = pulp::x86::V3::try_new() {
                return Isa::Avx2(simd);
            }
        }
    }
    Isa::Portable
}

/// Whether `VATIC_DISPATCH` allows dispatch (anything but `portable`), read once per process.
#[cfg(all(feature = "dispatch", target_arch = "x86_64"))]
#[inline(always)]
fn dispatch_allowed() -> bool {
    use core::sync::atomic::{AtomicU8, Ordering::Relaxed};
    // 0: not read yet, 1: portable only, 2: dispatch.
    static STATE: AtomicU8 = AtomicU8::new(0);
    match STATE.load(Relaxed) {
        0 => {
            let portable = std::env::var("VATIC_DISPATCH").is_ok_and(|v| v == "portable");
            STATE.store(if portable { 1 } else { 2 }, Relaxed);
            !portable
        }
        state => state == 2,
    }
}

/// The instruction set the batch kernels (the layers' block passes) run on in this process:
/// `"avx2"` when the `dispatch` feature found it on this CPU (unless the environment variable
/// `VATIC_DISPATCH=portable`, read once per process, turns dispatch off), else `"portable"`
/// (the lanes the build was compiled for: SSE2, or AVX with `-C target-cpu`, on x86-64; NEON on
/// aarch64, whose baseline leaves nothing to dispatch; scalars on Cortex-M). Every choice
/// computes the same bits.
///
/// # Examples
///
/// ```
/// assert!(["avx2", "portable"].contains(&vatic::kernels::batch_lanes()));
/// ```
pub fn batch_lanes() -> &'static str {
    match isa() {
        Isa::Portable => "portable",
        #[cfg(all(feature = "dispatch", target_arch = "x86_64"))]
        Isa::Avx2(_) => "avx2",
    }
}

/// Eight `f32` lanes of one instruction set: element-wise IEEE multiplies and adds, never
/// fused, so every implementation computes the same bits (only the instructions differ).
///
/// The value is a token: an implementation that needs CPU features can only be made where they
/// were detected, and its methods compile to those features' instructions once inlined into a
/// function built for them (see the module docs on dispatch).
pub(crate) trait Lanes: Copy {
    /// The vector of [`LANES`] `f32`s.
    type V: Copy;
    /// All lanes `+0.0`.
    fn zero(self) -> Self::V;
    /// All lanes `x`.
    fn splat(self, x: f32) -> Self::V;
    /// The lanes of an array.
    fn vector(self, a: [f32; LANES]) -> Self::V;
    /// The lanes as an array.
    fn array(self, v: Self::V) -> [f32; LANES];
    /// `a + b` lane by lane.
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a · b` lane by lane.
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;

    /// [`finish`]'s tree `((v0+v4)+(v1+v5)) + ((v2+v6)+(v3+v7))` of each of eight vectors:
    /// element `k` is the tree of `v[k]`. The same seven IEEE additions per vector on every
    /// lane type; only how they are scheduled differs (AVX2 runs eight trees as three
    /// vector steps).
    #[inline(always)]
    fn trees(self, v: [Self::V; 8]) -> [f32; 8] {
        v.map(|v| tree(self.array(v)))
    }

    /// `acc + a · b` lane by lane, with two roundings (a multiply, then an add).
    #[inline(always)]
    fn mul_add(self, acc: Self::V, a: Self::V, b: Self::V) -> Self::V {
        self.add(acc, self.mul(a, b))
    }

    /// `v[c .. c + LANES]` (zeros past the end, which the callers never ask for).
    #[inline(always)]
    fn load(self, v: &[f32], c: usize) -> Self::V {
        v.get(c..)
            .and_then(|t| t.first_chunk::<LANES>())
            .map_or(self.zero(), |a| self.vector(*a))
    }

    /// Stores `x` into `v[c .. c + LANES]` (nothing past the end).
    #[inline(always)]
    fn store(self, v: &mut [f32], c: usize, x: Self::V) {
        if let Some(d) = v.get_mut(c..).and_then(|t| t.first_chunk_mut::<LANES>()) {
            *d = self.array(x);
        }
    }
}

/// The lanes of every target: [`wide::f32x8`], whose instructions are chosen at compile time
/// (SSE2 or AVX on x86-64, NEON on aarch64, scalars on Cortex-M).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Portable;

impl Lanes for Portable {
    type V = f32x8;
    #[inline(always)]
    fn zero(self) -> f32x8 {
        f32x8::ZERO
    }
    #[inline(always)]
    fn splat(self, x: f32) -> f32x8 {
        f32x8::splat(x)
    }
    #[inline(always)]
    fn vector(self, a: [f32; LANES]) -> f32x8 {
        f32x8::new(a)
    }
    #[inline(always)]
    fn array(self, v: f32x8) -> [f32; LANES] {
        v.to_array()
    }
    #[inline(always)]
    fn add(self, a: f32x8, b: f32x8) -> f32x8 {
        a + b
    }
    #[inline(always)]
    fn mul(self, a: f32x8, b: f32x8) -> f32x8 {
        a * b
    }
}

/// AVX2 lanes (x86-64-v3), one 256-bit register per vector, made only from a
/// [`pulp::x86::V3`] token, i.e. where the CPU has them: `vmulps` then `vaddps`, never
/// `vfmadd`.
#[cfg(all(feature = "dispatch", target_arch = "x86_64"))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2(pub(crate) pulp::x86::V3);

#[cfg(all(feature = "dispatch", target_arch = "x86_64"))]
impl Lanes for Avx2 {
    type V = pulp::f32x8;
    #[inline(always)]
    fn zero(self) -> pulp::f32x8 {
        self.0.splat_f32x8(0.0)
    }
    #[inline(always)]
    fn splat(self, x: f32) -> pulp::f32x8 {
        self.0.splat_f32x8(x)
    }
    #[inline(always)]
    fn vector(self, a: [f32; LANES]) -> pulp::f32x8 {
        pulp::cast(a)
    }
    #[inline(always)]
    fn array(self, v: pulp::f32x8) -> [f32; LANES] {
        pulp::cast(v)
    }
    #[inline(always)]
    fn add(self, a: pulp::f32x8, b: pulp::f32x8) -> pulp::f32x8 {
        self.0.add_f32x8(a, b)
    }
    #[inline(always)]
    fn mul(self, a: pulp::f32x8, b: pulp::f32x8) -> pulp::f32x8 {
        self.0.mul_f32x8(a, b)
    }
    /// Eight trees in three vector steps, each addition the one of [`finish`]'s order (IEEE
    /// addition commutes bit for bit, so `hadd`'s `x0 + x1` is `x1 + x0`):
    ///
    /// 1. `h_k = lo(v_k, v_{k+4}) + hi(v_k, v_{k+4})` (`vperm2f128` twice, `vaddps`): lanes
    ///    `v_k[j] + v_k[j+4]`, `j < 4`, then the same of `v_{k+4}`;
    /// 2. `hadd(h_0, h_1)`, `hadd(h_2, h_3)`: `(a0+a4)+(a1+a5)` and `(a2+a6)+(a3+a7)` of each;
    /// 3. one more `hadd`: the sum of the two halves, lane `k` holding `v_k`'s tree.
    #[inline(always)]
    fn trees(self, v: [pulp::f32x8; 8]) -> [f32; 8] {
        use core::arch::x86_64::__m256;
        let avx = self.0.avx;
        let m = v.map(pulp::cast::<pulp::f32x8, __m256>);
        let [v0, v1, v2, v3, v4, v5, v6, v7] = m;
        let half = |a: __m256, b: __m256| {
            let lo = avx._mm256_permute2f128_ps::<0x20>(a, b);
            let hi = avx._mm256_permute2f128_ps::<0x31>(a, b);
            avx._mm256_add_ps(lo, hi)
        };
        let (h0, h1, h2, h3) = (half(v0, v4), half(v1, v5), half(v2, v6), half(v3, v7));
        let q0 = avx._mm256_hadd_ps(h0, h1);
        let q1 = avx._mm256_hadd_ps(h2, h3);
        pulp::cast(avx._mm256_hadd_ps(q0, q1))
    }
}

/// Dot product `Σ_i a_i b_i` in the fixed order described in the module docs.
///
/// Only the first `min(a.len(), b.len())` elements are used.
///
/// # Examples
///
/// ```
/// let a = [1.0f32; 10];
/// let b = [2.0f32; 10];
/// assert_eq!(vatic::kernels::dot(&a, &b), 20.0);
/// ```
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let ([(ha, ta)], [(hb, tb)]) = ([split(a, n)], [split(b, n)]);
    let mut acc = f32x8::ZERO;
    for (p, q) in ha
        .as_chunks::<LANES>()
        .0
        .iter()
        .zip(hb.as_chunks::<LANES>().0.iter())
    {
        acc += v8(p) * v8(q);
    }
    finish(acc.to_array(), ta, tb)
}

/// Squared distance `Σ_i (a_i − b_i)²`, the same bits as [`dot`]`(r, r)` of `r = a − b`
/// (only the first `min(a.len(), b.len())` elements are used).
///
/// # Examples
///
/// ```
/// use vatic::kernels::{distance_squared, dot};
/// let (a, b) = ([1.5f32; 11], [0.25f32; 11]);
/// let r = [1.25f32; 11];
/// assert_eq!(distance_squared(&a, &b).to_bits(), dot(&r, &r).to_bits());
/// ```
#[inline(always)]
pub fn distance_squared(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let ((ha, ta), (hb, tb)) = (split(a, n), split(b, n));
    let mut acc = f32x8::ZERO;
    for (p, q) in ha
        .as_chunks::<LANES>()
        .0
        .iter()
        .zip(hb.as_chunks::<LANES>().0.iter())
    {
        let r = v8(p) - v8(q);
        acc += r * r;
    }
    let mut s = tree(acc.to_array());
    for (&p, &q) in ta.iter().zip(tb) {
        let r = p - q;
        s += r * r;
    }
    s
}

/// `v[..n]` split into its whole [`LANES`]-chunks and the tail.
#[inline(always)]
fn split(v: &[f32], n: usize) -> (&[f32], &[f32]) {
    v.get(..n)
        .and_then(|v| v.split_at_checked(n - n % LANES))
        .unwrap_or_default()
}

/// The end of [`dot`]'s order: `((acc0+acc4)+(acc1+acc5)) + ((acc2+acc6)+(acc3+acc7))`, then
/// the tail products one by one.
#[inline(always)]
fn finish(acc: [f32; LANES], ta: &[f32], tb: &[f32]) -> f32 {
    tail(tree(acc), ta, tb)
}

/// `((a0+a4)+(a1+a5)) + ((a2+a6)+(a3+a7))`: how [`dot`] combines its partial sums.
#[inline(always)]
fn tree(acc: [f32; LANES]) -> f32 {
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
    ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7))
}

/// `s` plus the tail products `ta_i tb_i` one by one, in increasing `i`.
#[inline(always)]
fn tail(mut s: f32, ta: &[f32], tb: &[f32]) -> f32 {
    for (&p, &q) in ta.iter().zip(tb) {
        s += p * q;
    }
    s
}

/// An `R × S` tile of dot products, `out[r][s] = dot(a[r], b[s])`, each in [`dot`]'s order
/// (same bits as `R · S` calls of [`dot`]).
///
/// Each chunk of [`LANES`] elements of the `R + S` operands is loaded once for all `R · S`
/// products, which keeps the multiply-adds, not the loads, the bottleneck of a matrix product.
/// Only the first `min` length of all operands is used.
///
/// # Examples
///
/// ```
/// use vatic::kernels::{dot, dot_tile};
/// let a: [[f32; 19]; 2] = core::array::from_fn(|r| core::array::from_fn(|i| (i + r) as f32 * 0.3));
/// let b: [[f32; 19]; 3] = core::array::from_fn(|s| core::array::from_fn(|i| (i * s) as f32 - 2.0));
/// let t = dot_tile([&a[0][..], &a[1]], [&b[0][..], &b[1], &b[2]]);
/// for r in 0..2 {
///     for s in 0..3 {
///         assert_eq!(t[r][s].to_bits(), dot(&a[r], &b[s]).to_bits());
///     }
/// }
/// ```
#[inline(always)]
pub fn dot_tile<const R: usize, const S: usize>(a: [&[f32]; R], b: [&[f32]; S]) -> [[f32; S]; R] {
    dot_tile_in(Portable, a, b)
}

/// [`dot_tile`] on the lanes `l` (the same bits on every [`Lanes`]).
#[inline(always)]
pub(crate) fn dot_tile_in<L: Lanes, const R: usize, const S: usize>(
    l: L,
    a: [&[f32]; R],
    b: [&[f32]; S],
) -> [[f32; S]; R] {
    let n = a.iter().chain(&b).map(|v| v.len()).min().unwrap_or(0);
    let (a, b) = (a.map(|v| split(v, n)), b.map(|v| split(v, n)));
    let (ta, tb) = (a.map(|(_, t)| t), b.map(|(_, t)| t));
    // The shapes the layers use get one zip loop with every chunk loaded once (a zip of
    // exact chunks compiles to a single counter); other shapes run dot by dot.
    let (ca, cb) = (
        a.map(|(h, _)| h.as_chunks::<LANES>().0.iter()),
        b.map(|(h, _)| h.as_chunks::<LANES>().0.iter()),
    );
    let z = l.zero();
    match (&ca[..], &cb[..]) {
        ([a0, a1], [b0, b1, b2, b3]) => {
            let mut t = [[z; 4]; 2];
            let it = a0.clone().zip(a1.clone()).zip(b0.clone()).zip(b1.clone());
            for (((((p0, p1), q0), q1), q2), q3) in it.zip(b2.clone()).zip(b3.clone()) {
                tile_step(l, &mut t, [p0, p1], [q0, q1, q2, q3]);
            }
            cast(finish_tile(l, t, &ta, &tb))
        }
        ([a0, a1], [b0, b1]) => {
            let mut t = [[z; 2]; 2];
            for (((p0, p1), q0), q1) in a0.clone().zip(a1.clone()).zip(b0.clone()).zip(b1.clone()) {
                tile_step(l, &mut t, [p0, p1], [q0, q1]);
            }
            cast(finish_tile(l, t, &ta, &tb))
        }
        ([a0], [b0, b1]) => {
            let mut t = [[z; 2]; 1];
            for ((p0, q0), q1) in a0.clone().zip(b0.clone()).zip(b1.clone()) {
                tile_step(l, &mut t, [p0], [q0, q1]);
            }
            cast(finish_tile(l, t, &ta, &tb))
        }
        ([a0], [b0]) => {
            let mut t = [[z; 1]; 1];
            for (p0, q0) in a0.clone().zip(b0.clone()) {
                tile_step(l, &mut t, [p0], [q0]);
            }
            cast(finish_tile(l, t, &ta, &tb))
        }
        ([a0, a1], [b0]) => {
            let mut t = [[z; 1]; 2];
            for ((p0, p1), q0) in a0.clone().zip(a1.clone()).zip(b0.clone()) {
                tile_step(l, &mut t, [p0, p1], [q0]);
            }
            cast(finish_tile(l, t, &ta, &tb))
        }
        _ => {
            let mut t = [[z; S]; R];
            for (t, ca) in t.iter_mut().zip(&ca) {
                for (t, cb) in t.iter_mut().zip(&cb) {
                    for (p, q) in ca.clone().zip(cb.clone()) {
                        *t = l.mul_add(*t, l.vector(*p), l.vector(*q));
                    }
                }
            }
            cast(finish_tile(l, t, &ta, &tb))
        }
    }
}

/// One chunk of a tile: `t[r][s] += p[r] · q[s]`, lane by lane.
#[inline(always)]
fn tile_step<L: Lanes, const R: usize, const S: usize>(
    l: L,
    t: &mut [[L::V; S]; R],
    p: [&[f32; LANES]; R],
    q: [&[f32; LANES]; S],
) {
    let q = q.map(|q| l.vector(*q));
    for (t, p) in t.iter_mut().zip(p.map(|p| l.vector(*p))) {
        for (t, q) in t.iter_mut().zip(q) {
            *t = l.mul_add(*t, p, q);
        }
    }
}

/// [`finish`] for every dot of a tile.
#[inline(always)]
fn finish_tile<L: Lanes, const R: usize, const S: usize>(
    l: L,
    t: [[L::V; S]; R],
    ta: &[&[f32]],
    tb: &[&[f32]],
) -> [[f32; S]; R] {
    // The trees eight dots at a time (a 2 × 4 tile is one call), the rest one by one.
    let mut out = [[0.0; S]; R];
    let flat = t.as_flattened();
    let (groups, rest) = flat.as_chunks::<8>();
    let (out_groups, out_rest) = out.as_flattened_mut().as_chunks_mut::<8>();
    for (o, v) in out_groups.iter_mut().zip(groups) {
        *o = l.trees(*v);
    }
    for (o, v) in out_rest.iter_mut().zip(rest) {
        *o = tree(l.array(*v));
    }
    for (o, ta) in out.iter_mut().zip(ta) {
        for (o, tb) in o.iter_mut().zip(tb) {
            *o = tail(*o, ta, tb);
        }
    }
    out
}

/// A tile of a matched shape as the generic one (`R2 = R`, `S2 = S` in every use: folded away).
#[inline(always)]
fn cast<const R2: usize, const S2: usize, const R: usize, const S: usize>(
    t: [[f32; S2]; R2],
) -> [[f32; S]; R] {
    core::array::from_fn(|r| {
        core::array::from_fn(|s| t.get(r).and_then(|t| t.get(s)).copied().unwrap_or(0.0))
    })
}

/// `v[c .. c + LANES]` as a vector (zeros past the end, which the callers never ask for).
#[inline(always)]
pub(crate) fn load8(v: &[f32], c: usize) -> f32x8 {
    Portable.load(v, c)
}

/// Stores `x` into `v[c .. c + LANES]` (nothing past the end, which the callers never ask for).
#[inline(always)]
pub(crate) fn store8(v: &mut [f32], c: usize, x: f32x8) {
    Portable.store(v, c, x);
}

/// A chunk of [`LANES`] elements as a vector.
#[inline(always)]
fn v8(c: &[f32; LANES]) -> f32x8 {
    f32x8::new(*c)
}

/// `y ← y + α x`, element by element.
///
/// # Examples
///
/// ```
/// let mut y = [1.0f32, 2.0];
/// vatic::kernels::axpy(&mut y, 0.5, &[2.0, 4.0]);
/// assert_eq!(y, [2.0, 4.0]);
/// ```
#[inline(always)]
pub fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    axpy_in(Portable, y, alpha, x);
}

/// [`axpy`] on the lanes `l`.
#[inline(always)]
pub(crate) fn axpy_in<L: Lanes>(l: L, y: &mut [f32], alpha: f32, x: &[f32]) {
    // Explicit 8-lane chunks: the compiler vectorises a plain loop only when it knows the
    // length, and the element-wise arithmetic is the same either way.
    let n = y.len().min(x.len());
    let (y, x) = (
        y.get_mut(..n).unwrap_or_default(),
        x.get(..n).unwrap_or_default(),
    );
    let a = l.splat(alpha);
    let (yc, yt) = y.as_chunks_mut::<LANES>();
    let (xc, xt) = x.as_chunks::<LANES>();
    for (yv, xv) in yc.iter_mut().zip(xc) {
        *yv = l.array(l.mul_add(l.vector(*yv), a, l.vector(*xv)));
    }
    for (yi, &xi) in yt.iter_mut().zip(xt) {
        *yi += alpha * xi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_f64_on_every_tail_length() {
        for n in 0..40 {
            let a: [f32; 40] = core::array::from_fn(|i| (i as f32 * 0.37).sin());
            let b: [f32; 40] = core::array::from_fn(|i| (i as f32 * 0.11).cos());
            let want: f64 = (0..n).map(|i| a[i] as f64 * b[i] as f64).sum();
            let got = dot(&a[..n], &b[..n]);
            assert!((got as f64 - want).abs() < 1e-5, "n={n}: {got} vs {want}");
        }
    }

    #[test]
    fn dot_order_is_the_documented_one() {
        // 1e8 + 1 - 1e8 depends on the order; the documented order puts lane 0 and lane 4 first.
        let mut a = [0.0f32; 9];
        a[0] = 1e8;
        a[4] = -1e8;
        a[1] = 1.0;
        a[8] = 0.5;
        let b = [1.0f32; 9];
        // ((1e8 + -1e8) + (1 + 0)) + (0 + 0) + tail 0.5
        assert_eq!(dot(&a, &b), 1.5);
    }

    /// Eight vectors whose trees depend on the order of every addition: magnitudes from 1e-3
    /// to 1e8 with both signs, one infinity, signed zeros.
    fn tree_inputs(seed: usize) -> [[f32; LANES]; 8] {
        core::array::from_fn(|k| {
            core::array::from_fn(|j| {
                let i = seed * 64 + k * 8 + j;
                let m = 10f32.powi((i * 7 % 12) as i32 - 3);
                match i % 29 {
                    0 => -0.0,
                    1 => f32::INFINITY,
                    _ => m * ((i as f32 * 0.731).sin()),
                }
            })
        })
    }

    #[test]
    fn trees_take_the_documented_order_on_every_lane_type() {
        // Lane 0 and lane 4 first: (1e8 + -1e8) + (1 + 0) = 1, where a left-to-right sum gives 0.
        let mut v = [[0.0f32; LANES]; 8];
        v[3] = [1e8, 1.0, 0.0, 0.0, -1e8, 0.0, 0.0, 0.0];
        assert_eq!(Portable.trees(v.map(|a| Portable.vector(a)))[3], 1.0);
        for seed in 0..200 {
            let v = tree_inputs(seed);
            let want = v.map(tree);
            let got = Portable.trees(v.map(|a| Portable.vector(a)));
            assert_eq!(
                got.map(f32::to_bits),
                want.map(f32::to_bits),
                "portable, seed {seed}"
            );
            #[cfg(all(feature = "dispatch", target_arch = "x86_64"))]
            if let Some(v3) = pulp::x86::V3::try_new() {
                let l = Avx2(v3);
                let got = l.trees(v.map(|a| l.vector(a)));
                assert_eq!(
                    got.map(f32::to_bits),
                    want.map(f32::to_bits),
                    "avx2, seed {seed}"
                );
            }
        }
    }
}
