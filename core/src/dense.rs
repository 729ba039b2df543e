//! A fully connected layer `y = W x + b`: its compile-time storage [`Dense`] and the borrowed
//! views [`DenseRef`] / [`DenseMut`] the block kernels run on, whatever the widths.

#[cfg(all(feature = "dispatch", target_arch = "x86_64"))]
use crate::kernels::Avx2;
use crate::kernels::{axpy_in, dot, dot_tile_in, load8, store8, Lanes, Portable, LANES};
use wide::f32x8;

// Register-tile shapes of the block passes. They decide which outputs are computed together,
// never the order of any sum, so they may depend on the target and on the instruction set
// `dispatch` picks: with AVX (sixteen 256-bit registers, one per 8-lane partial sum) the tiles
// are twice as large as with SSE2 or on Cortex-M. The constants below are the portable lanes'
// (AVX when the build enables it); `dispatch` has those of each dispatched set. `.ci/run` runs
// the bit-equality tests in an AVX build, with dispatch and without.

/// Weight rows per tile of the block forward pass ([`dot_tile`]'s `R`).
const FWD_ROWS: usize = 2;
/// Weight rows per tile for a lone sample: one on Cortex-M, whose 16 double registers cannot
/// hold two rows' partial sums and the operands (3.2 instructions per multiply-add against 4.4).
const ONE_ROWS: usize = if cfg!(target_arch = "arm") {
    1
} else {
    FWD_ROWS
};
/// Samples per tile of the block forward pass ([`dot_tile`]'s `S`).
const FWD_SAMPLES: usize = if cfg!(target_feature = "avx") { 4 } else { 2 };
/// Samples per register tile of the block input-gradient pass.
const BWD_SAMPLES: usize = if cfg!(target_feature = "avx") { 8 } else { 4 };
/// Weight rows per panel of the block input-gradient pass.
const BWD_PANEL: usize = 16;
/// Gradient rows per register tile of the block parameter-gradient pass.
const GRAD_ROWS: usize = if cfg!(target_feature = "avx") { 8 } else { 4 };

/// A block pass of a layer, run by [`dispatch`] on the lanes `L` of one instruction set with its
/// tile shapes: `FS` samples per forward tile, `BS` per input-gradient tile, `GR` gradient rows
/// per parameter-gradient tile.
trait Batch {
    /// The pass's multiply-adds (samples × inputs × outputs): what [`dispatch`] weighs.
    #[cfg_attr(
        not(all(feature = "dispatch", target_arch = "x86_64")),
        allow(dead_code)
    )]
    fn work(&self) -> usize;
    fn run<L: Lanes, const FS: usize, const BS: usize, const GR: usize>(self, l: L);
}

/// Below this many multiply-adds a pass runs on the [`Portable`] lanes without asking for
/// the CPU's: the check and the call into a function built for other features cost more than
/// wider vectors save on the smallest layers. 1024 lets 2-100-2's blocks of 8 (1600
/// multiply-adds per layer) take AVX2: its `forward` 18 % faster than at 4096, training rows
/// level.
#[cfg(all(feature = "dispatch", target_arch = "x86_64"))]
const DISPATCH_MIN_WORK: usize = 1024;

/// Runs a block pass with the widest lanes this CPU has ([`crate::kernels::batch_lanes`]):
/// with the `dispatch` feature on x86-64, AVX2 lanes in a function compiled for AVX2, else the
/// [`Portable`] lanes the build was compiled for. Every choice computes the same bits; only the
/// instructions and the tile shapes differ.
///
/// The portable pass has one call site, so that it is inlined once per layer shape (two calls
/// of this `inline(always)` pass made the self-test firmware's text 10 % larger).
#[inline(always)]
fn dispatch<B: Batch>(b: B) {
    #[cfg(all(feature = "dispatch", target_arch = "x86_64"))]
    if b.work() >= DISPATCH_MIN_WORK {
        if let crate::kernels::Isa::Avx2(simd) = crate::kernels::isa() {
            /// The pass on AVX2 lanes, compiled for AVX2 by `vectorize` (sixteen 256-bit
            /// registers: the tiles of an AVX build).
            struct OnAvx2<B>(B, pulp::x86::V3);
            impl<B: Batch> pulp::NullaryFnOnce for OnAvx2<B> {
                type Output = ();
                #[inline(always)]
                fn call(self) {
                    self.0.run::<Avx2, 4, 8, 8>(Avx2(self.1));
                }
            }
            simd.vectorize(OnAvx2(b, simd));
            return;
        }
    }
    b.run::<Portable, FWD_SAMPLES, BWD_SAMPLES, GRAD_ROWS>(Portable);
}

/// `N` when the width is a constant (`N > 0`: a compile-time layer), else `n`.
#[inline(always)]
const fn width<const N: usize>(n: usize) -> usize {
    if N > 0 {
        N
    } else {
        n
    }
}

/// [`DenseRef::forward_rows`] as a [`Batch`]; `IN`, `OUT` are the constant widths (`0`: read
/// them from the layer).
struct Forward<'a, 'b, const BIAS: bool, const IN: usize, const OUT: usize> {
    layer: DenseRef<'a>,
    src: &'b [f32],
    dst: &'b mut [f32],
}

impl<const BIAS: bool, const IN: usize, const OUT: usize> Batch for Forward<'_, '_, BIAS, IN, OUT> {
    #[inline(always)]
    fn work(&self) -> usize {
        self.src.len() * width::<OUT>(self.layer.outputs())
    }
    #[inline(always)]
    fn run<L: Lanes, const FS: usize, const BS: usize, const GR: usize>(self, l: L) {
        let (i, o) = (
            width::<IN>(self.layer.inputs),
            width::<OUT>(self.layer.outputs()),
        );
        (self.layer).forward_rows_in::<L, BIAS, FS>(l, i, o, self.src, self.dst);
    }
}

/// [`DenseRef::backprop_rows`] as a [`Batch`] (widths as in [`Forward`]).
struct Backprop<'a, 'b, const IN: usize, const OUT: usize> {
    layer: DenseRef<'a>,
    src: &'b [f32],
    dst: &'b mut [f32],
}

impl<const IN: usize, const OUT: usize> Batch for Backprop<'_, '_, IN, OUT> {
    #[inline(always)]
    fn work(&self) -> usize {
        self.dst.len() * width::<OUT>(self.layer.outputs())
    }
    #[inline(always)]
    fn run<L: Lanes, const FS: usize, const BS: usize, const GR: usize>(self, l: L) {
        let (i, o) = (
            width::<IN>(self.layer.inputs),
            width::<OUT>(self.layer.outputs()),
        );
        (self.layer).backprop_rows_in::<L, BS>(l, i, o, self.src, self.dst);
    }
}

/// [`DenseMut::accumulate_rows`] as a [`Batch`] (widths as in [`Forward`]).
struct Accumulate<'a, 'b, const IN: usize, const OUT: usize> {
    layer: DenseMut<'a>,
    xs: &'b [f32],
    dys: &'b [f32],
}

impl<const IN: usize, const OUT: usize> Batch for Accumulate<'_, '_, IN, OUT> {
    #[inline(always)]
    fn work(&self) -> usize {
        self.xs.len() * width::<OUT>(self.layer.bias.len())
    }
    #[inline(always)]
    fn run<L: Lanes, const FS: usize, const BS: usize, const GR: usize>(mut self, l: L) {
        let (i, o) = (
            width::<IN>(self.layer.inputs),
            width::<OUT>(self.layer.bias.len()),
        );
        (self.layer).accumulate_rows_in::<L, GR>(l, i, o, self.xs, self.dys);
    }
}

/// A dense layer with `IN` inputs and `OUT` outputs stored as nested arrays: `y = W x + b`.
///
/// Shapes: `weight` is `[OUT][IN]` (row `o` holds the weights into output `o`, the layout of
/// PyTorch's `nn.Linear.weight`), `bias` is `[OUT]`. Each output is
/// `y_o = dot(W_o, x) + b_o` with [`dot`](crate::kernels::dot)'s fixed summation order.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense<const IN: usize, const OUT: usize> {
    /// `W`, shape `[OUT][IN]`.
    pub weight: [[f32; IN]; OUT],
    /// `b`, shape `[OUT]`.
    pub bias: [f32; OUT],
}

impl<const IN: usize, const OUT: usize> Dense<IN, OUT> {
    /// All weights and biases zero.
    pub const ZERO: Self = Self {
        weight: [[0.0; IN]; OUT],
        bias: [0.0; OUT],
    };

    /// The layer as flat slices.
    #[inline]
    pub fn view(&self) -> DenseRef<'_> {
        DenseRef {
            weight: self.weight.as_flattened(),
            bias: &self.bias,
            inputs: IN,
        }
    }

    /// The layer as flat mutable slices.
    #[inline]
    pub fn view_mut(&mut self) -> DenseMut<'_> {
        DenseMut {
            weight: self.weight.as_flattened_mut(),
            bias: &mut self.bias,
            inputs: IN,
        }
    }

    /// `y = W x + b` for one sample.
    #[inline]
    pub fn forward(&self, x: &[f32; IN], y: &mut [f32; OUT]) {
        self.forward_block::<true>(x, y);
    }

    /// `dx = Wᵀ dy` for one sample, summed over outputs in increasing order.
    #[inline]
    pub fn backprop(&self, dy: &[f32; OUT], dx: &mut [f32; IN]) {
        self.backprop_block(dy, dx);
    }

    /// Adds one sample's parameter gradient to `self`: `∂W += dy xᵀ`, `∂b += dy`.
    #[inline]
    pub fn accumulate(&mut self, x: &[f32; IN], dy: &[f32; OUT]) {
        self.accumulate_block(x, dy);
    }

    // The block kernels specialised to `IN` and `OUT`: one out-of-line copy per layer shape
    // (what the compile-time networks call), so the widths are constants without the kernels
    // being inlined at every call site.

    // A lone sample (the attacks, inference on a device) goes through fixed-size arrays, so
    // the compiler unrolls the dots and updates; the same operations in the same order.

    /// [`DenseRef::forward_rows`] with constant widths.
    #[inline(never)]
    pub(crate) fn forward_block<const BIAS: bool>(&self, src: &[f32], dst: &mut [f32]) {
        if let (Some(x), Some(y)) = (src.first_chunk::<IN>(), dst.first_chunk_mut::<OUT>()) {
            if src.len() == IN {
                // Cortex-M4F (64→32: 3.16 instructions per multiply-add at opt-level 3, 4.04 at
                // "s"): a `vldr` of W and a `vmla` per multiply-add, 48 of the 64 x values reloaded
                // from the stack (LLVM hoists x out of the row loop and keeps 16 in s16–s31), and
                // per row 8 `vmov` zeroings, 7 `vadd`s, the bias and the store. Reusing x across
                // rows costs more than it saves at opt-level 3 in every shape tried with these
                // bits: 2 / 3-row tiles 3.22 (3.36 at "s") / 5.18 (x and sums spill); 4 rows ×
                // lanes k, k + 4 per vector 3.14 (x spilled, reloaded per use); lanes k, k + 4 of
                // all rows per pass with x in registers 2.77, but a 128-byte scratch and 5 per
                // multiply-add at opt-level "s" (the template's), where the chunk loop stays
                // rolled. Nearer the floor (≈ 1.3) needs `vldmia`, which LLVM never forms from
                // these loads: its ARM load/store optimiser merges adjacent `vldr`s only into
                // consecutive ascending S registers, and it allocates S registers even-first (s0,
                // s2, …, s30, s1, s3, …), so neighbouring loads never get neighbouring registers
                // (inline asm would need `unsafe`). Without it, a `vldr` and a `vmla` per
                // multiply-add plus the per-row work (≥ 17 instructions) bound any shape above 2.3
                // at 64 inputs.
                for ((y, w), &b) in y.iter_mut().zip(&self.weight).zip(&self.bias) {
                    let d = dot(w, x);
                    *y = if BIAS { d + b } else { d };
                }
                return;
            }
        }
        #[cfg(feature = "compact")]
        for (x, y) in samples::<IN>(src).zip(rows_mut(dst, OUT)) {
            self.forward_block::<BIAS>(x, y);
        }
        #[cfg(not(feature = "compact"))]
        dispatch(Forward::<BIAS, IN, OUT> {
            layer: self.view(),
            src,
            dst,
        });
    }

    /// [`DenseRef::backprop_rows`] with constant widths.
    #[inline(never)]
    pub(crate) fn backprop_block(&self, src: &[f32], dst: &mut [f32]) {
        if let (Some(dy), Some(dx)) = (src.first_chunk::<OUT>(), dst.first_chunk_mut::<IN>()) {
            if src.len() == OUT {
                transposed_one(&self.weight, dy, dx);
                return;
            }
        }
        #[cfg(feature = "compact")]
        for (dy, dx) in samples::<OUT>(src).zip(rows_mut(dst, IN)) {
            self.backprop_block(dy, dx);
        }
        #[cfg(not(feature = "compact"))]
        dispatch(Backprop::<IN, OUT> {
            layer: self.view(),
            src,
            dst,
        });
    }

    /// [`DenseMut::accumulate_rows`] with constant widths.
    #[inline(never)]
    pub(crate) fn accumulate_block(&mut self, xs: &[f32], dys: &[f32]) {
        if let (Some(x), Some(dy)) = (xs.first_chunk::<IN>(), dys.first_chunk::<OUT>()) {
            if xs.len() == IN {
                rank1_one(&mut self.weight, x, dy);
                for (b, &d) in self.bias.iter_mut().zip(dy) {
                    *b += d;
                }
                return;
            }
        }
        #[cfg(feature = "compact")]
        for (x, dy) in samples::<IN>(xs).zip(rows(dys, OUT)) {
            self.accumulate_block(x, dy);
        }
        #[cfg(not(feature = "compact"))]
        dispatch(Accumulate::<IN, OUT> {
            layer: self.view_mut(),
            xs,
            dys,
        });
    }
}

/// Feature `compact`: the `[W]`-wide samples of a block, which the `*_block` passes run one at
/// a time through their lone-sample kernel by calling themselves (each call takes that path):
/// the same bits as the register-tiled batch kernels, which are then never compiled in. None
/// when `W` is 0 (such a block holds no sample; it also keeps a pass from recursing).
#[cfg(feature = "compact")]
#[inline(always)]
fn samples<const W: usize>(m: &[f32]) -> core::slice::ChunksExact<'_, f32> {
    rows(if W == 0 { &[] } else { m }, W)
}

/// `dx = Wᵀ dy` of one sample with constant widths, column chunk by column chunk: the
/// [`LANES`] partial sums of a chunk stay in registers while every row passes (one load of `W`
/// per multiply-add, none of `dx`), summed over outputs in increasing `o` from `0.0`, the
/// order of `dx.fill(0); for o { axpy(dx, dy[o], W[o]) }` element by element.
///
/// On Cortex-M4F (64→32: 2.38 instructions per multiply-add at opt-level 3, 2.73 at "s") that
/// is a `vldr` of `W` and a `vmla` per multiply-add, and a `vldr` of `dy[o]` per row and chunk.
#[inline(always)]
fn transposed_one<const IN: usize, const OUT: usize>(
    w: &[[f32; IN]; OUT],
    dy: &[f32; OUT],
    dx: &mut [f32; IN],
) {
    let (chunks, tail) = dx.as_chunks_mut::<LANES>();
    for (c, out) in chunks.iter_mut().enumerate() {
        let mut acc = f32x8::ZERO;
        for (row, &d) in w.iter().zip(dy) {
            acc += scale8(d, load8(row, c * LANES));
        }
        *out = acc.to_array();
    }
    let full = IN - IN % LANES;
    for (i, out) in (full..).zip(tail) {
        let mut acc = 0.0;
        for (row, &d) in w.iter().zip(dy) {
            acc += d * row.get(i).copied().unwrap_or(0.0);
        }
        *out = acc;
    }
}

/// `W += dy xᵀ` of one sample with constant widths, column chunk by column chunk: the chunk of
/// `x` stays in registers while every row is updated (one rounding per element, as
/// [`axpy`] row by row).
///
/// On Cortex-M4F (64→32, with the bias update: 3.42 instructions per multiply-add at
/// opt-level 3, 3.85 at "s") each element is `vldr`, `vmla`, `vstr`, plus a
/// `vldr` of `dy[o]` per row and chunk: 3 is the floor without `vldmia` / `vstmia`, which LLVM
/// does not form here (see the note in [`Dense::forward_block`]). 16-column chunks (half the
/// `dy` loads) measured 3.46: x spills.
#[inline(always)]
fn rank1_one<const IN: usize, const OUT: usize>(
    w: &mut [[f32; IN]; OUT],
    x: &[f32; IN],
    dy: &[f32; OUT],
) {
    let full = IN - IN % LANES;
    for c in (0..full).step_by(LANES) {
        let xv = load8(x, c);
        for (row, &d) in w.iter_mut().zip(dy) {
            let v = load8(row, c) + scale8(d, xv);
            store8(row, c, v);
        }
    }
    for i in full..IN {
        let xi = x.get(i).copied().unwrap_or(0.0);
        for (row, &d) in w.iter_mut().zip(dy) {
            if let Some(v) = row.get_mut(i) {
                *v += d * xi;
            }
        }
    }
}

/// Rows `o .. o + R` of [`DenseMut::accumulate_rows`] (`grows`: those `R` gradient rows,
/// `gbs`: their biases): chunk by chunk of [`LANES`] columns, the `R` rows' chunks stay in
/// registers while every sample is added, in order; then the columns past the last chunk.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn accumulate_tile<L: Lanes, const R: usize>(
    l: L,
    inputs: usize,
    outputs: usize,
    o: usize,
    grows: &mut [f32],
    gbs: &mut [f32],
    xs: &[f32],
    dys: &[f32],
) {
    let full = inputs - inputs % LANES;
    let dv = |u: &[f32]| -> [f32; R] {
        match u.get(o..).and_then(|t| t.first_chunk::<R>()) {
            Some(d) => *d,
            None => core::array::from_fn(|r| u.get(o + r).copied().unwrap_or(0.0)),
        }
    };
    for c in (0..full).step_by(LANES) {
        let mut acc = [l.zero(); R];
        for (a, g) in acc.iter_mut().zip(rows(grows, inputs)) {
            *a = l.load(g, c);
        }
        for (x, u) in rows(xs, inputs).zip(rows(dys, outputs)) {
            let xv = l.load(x, c);
            for (a, d) in acc.iter_mut().zip(dv(u)) {
                *a = l.mul_add(*a, l.splat(d), xv);
            }
        }
        for (a, g) in acc.iter().zip(rows_mut(grows, inputs)) {
            l.store(g, c, *a);
        }
    }
    for (r, (grow, gb)) in rows_mut(grows, inputs).zip(gbs.iter_mut()).enumerate() {
        let tail = grow.get_mut(full..).unwrap_or_default();
        for (x, u) in rows(xs, inputs).zip(rows(dys, outputs)) {
            let d = u.get(o + r).copied().unwrap_or(0.0);
            axpy_in(l, tail, d, x.get(full..).unwrap_or_default());
            *gb += d;
        }
    }
}

/// `f32x8::splat(d) * v`, lane by lane where vectors are arrays (Cortex-M): there `splat`
/// builds `[d; 8]`, a store loop and eight reloads per call at opt-level "s" (the template's).
#[inline(always)]
fn scale8(d: f32, v: f32x8) -> f32x8 {
    if cfg!(target_arch = "arm") {
        scale_lanes(d, v)
    } else {
        f32x8::splat(d) * v
    }
}

/// [`scale8`] lane by lane.
#[inline(always)]
fn scale_lanes(d: f32, v: f32x8) -> f32x8 {
    let [a, b, c, e, f, g, h, i] = v.to_array();
    f32x8::new([d * a, d * b, d * c, d * e, d * f, d * g, d * h, d * i])
}

/// A dense layer borrowed as flat slices: `weight` is `[outputs · inputs]` row-major (row `o`
/// at `o · inputs`), `bias` is `[outputs]`.
#[derive(Debug, Clone, Copy)]
pub struct DenseRef<'a> {
    /// `W`, row-major `[outputs][inputs]`.
    pub weight: &'a [f32],
    /// `b`, `[outputs]`.
    pub bias: &'a [f32],
    /// Number of inputs (the row length of `weight`).
    pub inputs: usize,
}

/// A dense layer (or its gradient) borrowed as flat mutable slices, laid out as [`DenseRef`].
#[derive(Debug)]
pub struct DenseMut<'a> {
    /// `W`, row-major `[outputs][inputs]`.
    pub weight: &'a mut [f32],
    /// `b`, `[outputs]`.
    pub bias: &'a mut [f32],
    /// Number of inputs (the row length of `weight`).
    pub inputs: usize,
}

impl DenseMut<'_> {
    /// A read-only view of the same layer.
    #[inline]
    pub fn as_ref(&self) -> DenseRef<'_> {
        DenseRef {
            weight: self.weight,
            bias: self.bias,
            inputs: self.inputs,
        }
    }
}

/// Rows of length `w` of a flat matrix (`w ≥ 1` for every validated layer; a zero width reads as
/// one so that nothing can panic).
#[inline(always)]
fn rows(m: &[f32], w: usize) -> core::slice::ChunksExact<'_, f32> {
    m.chunks_exact(w.max(1))
}

#[inline(always)]
fn rows_mut(m: &mut [f32], w: usize) -> core::slice::ChunksExactMut<'_, f32> {
    m.chunks_exact_mut(w.max(1))
}

impl DenseRef<'_> {
    /// Number of outputs.
    #[inline]
    pub fn outputs(&self) -> usize {
        self.bias.len()
    }

    /// `dst[s] = W src[s] (+ b when BIAS)` for every sample `s` of a block: `src` is
    /// `[n · inputs]` and `dst` `[n · outputs]`, row-major (the shorter sets `n`).
    ///
    /// Same bits as a [`dot`](crate::kernels::dot) per output (plus the bias when `BIAS`;
    /// without it the dot is stored as is, since `v + 0.0` would turn −0 into +0). The products
    /// are computed in [`dot_tile`](crate::kernels::dot_tile)s of a few rows × a few
    /// samples, so each chunk of a weight row is loaded once per tile of samples.
    #[inline]
    pub fn forward_rows<const BIAS: bool>(&self, src: &[f32], dst: &mut [f32]) {
        dispatch(Forward::<BIAS, 0, 0> {
            layer: *self,
            src,
            dst,
        });
    }

    /// [`DenseRef::forward_rows`] with the widths given (constants for a compile-time layer,
    /// so the kernels are specialised to them) on the lanes `l`, in tiles of `FS` samples.
    #[inline(always)]
    pub(crate) fn forward_rows_in<L: Lanes, const BIAS: bool, const FS: usize>(
        &self,
        l: L,
        i: usize,
        o: usize,
        src: &[f32],
        dst: &mut [f32],
    ) {
        let n = (src.len() / i.max(1)).min(dst.len() / o.max(1));
        let (src, dst) = (
            src.get(..n * i).unwrap_or_default(),
            dst.get_mut(..n * o).unwrap_or_default(),
        );
        if i < LANES {
            return self.forward_narrow::<L, BIAS>(l, i, o, src, dst);
        }
        // Whole tiles of FS samples, then the samples left over one at a time.
        let whole = n - n % FS;
        let (s_full, s_rest) = src.split_at_checked(whole * i).unwrap_or_default();
        let (d_full, d_rest) = dst.split_at_mut_checked(whole * o).unwrap_or_default();
        self.row_groups::<L, FWD_ROWS, BIAS, FS>(l, i, o, s_full, d_full);
        self.row_groups::<L, ONE_ROWS, BIAS, FS>(l, i, o, s_rest, d_rest);
    }

    /// [`DenseRef::forward_tiles`] for every group of `R` weight rows (and a last group of one).
    #[inline(always)]
    fn row_groups<L: Lanes, const R: usize, const BIAS: bool, const FS: usize>(
        &self,
        l: L,
        i: usize,
        o: usize,
        src: &[f32],
        dst: &mut [f32],
    ) {
        if src.is_empty() {
            return;
        }
        let mut groups = self.weight.chunks_exact((R * i).max(1));
        let mut row = 0;
        for p in &mut groups {
            let mut pr = rows(p, i);
            let a: [&[f32]; R] = core::array::from_fn(|_| pr.next().unwrap_or(&[]));
            self.forward_tiles::<L, R, BIAS, FS>(l, i, o, row, a, src, dst);
            row += R;
        }
        for w in rows(groups.remainder(), i) {
            self.forward_tiles::<L, 1, BIAS, FS>(l, i, o, row, [w], src, dst);
            row += 1;
        }
    }

    /// [`DenseRef::forward_rows`] for a layer narrower than a vector (`inputs < LANES`),
    /// vectorised across outputs: [`dot`](crate::kernels::dot) of fewer than [`LANES`] elements
    /// is `((+0 + w₀x₀) + w₁x₁) + …` (its partial sums are all zero), computed here for
    /// [`LANES`] rows at once. Monomorphised per input width `K`, so the rows are `[f32; K]`.
    #[inline(always)]
    fn forward_narrow<L: Lanes, const BIAS: bool>(
        &self,
        l: L,
        i: usize,
        o: usize,
        src: &[f32],
        dst: &mut [f32],
    ) {
        match i {
            1 => self.forward_narrow_k::<L, 1, BIAS>(l, o, src, dst),
            2 => self.forward_narrow_k::<L, 2, BIAS>(l, o, src, dst),
            3 => self.forward_narrow_k::<L, 3, BIAS>(l, o, src, dst),
            4 => self.forward_narrow_k::<L, 4, BIAS>(l, o, src, dst),
            5 => self.forward_narrow_k::<L, 5, BIAS>(l, o, src, dst),
            6 => self.forward_narrow_k::<L, 6, BIAS>(l, o, src, dst),
            _ => self.forward_narrow_k::<L, 7, BIAS>(l, o, src, dst),
        }
    }

    #[inline(always)]
    fn forward_narrow_k<L: Lanes, const K: usize, const BIAS: bool>(
        &self,
        l: L,
        outputs: usize,
        src: &[f32],
        dst: &mut [f32],
    ) {
        let (w, _) = self.weight.as_chunks::<K>();
        let (xs, _) = src.as_chunks::<K>();
        let (w8, w_rest) = w.as_chunks::<LANES>();
        let (b8, b_rest) = self.bias.as_chunks::<LANES>();
        // Chunk by chunk of LANES rows: the chunk's K columns are gathered into vectors once,
        // then applied to every sample (gathering them per sample cost more than the products).
        for (c, (w, b)) in w8.iter().zip(b8).enumerate() {
            let wv: [L::V; K] =
                core::array::from_fn(|i| l.vector(core::array::from_fn(|j| w[j][i])));
            let bv = l.vector(*b);
            for (x, y) in xs.iter().zip(rows_mut(dst, outputs)) {
                let mut acc = l.zero();
                for (&wv, &xi) in wv.iter().zip(x) {
                    acc = l.mul_add(acc, wv, l.splat(xi));
                }
                if BIAS {
                    acc = l.add(acc, bv);
                }
                l.store(y, c * LANES, acc);
            }
        }
        for (x, y) in xs.iter().zip(rows_mut(dst, outputs)) {
            let y_rest = y.get_mut(w8.len() * LANES..).unwrap_or_default();
            for ((w, &b), y) in w_rest.iter().zip(b_rest).zip(y_rest) {
                let mut acc = 0.0f32;
                for (&wi, &xi) in w.iter().zip(x) {
                    acc += wi * xi;
                }
                *y = if BIAS { acc + b } else { acc };
            }
        }
    }

    /// Rows `o .. o + R` of [`DenseRef::forward_rows`] for every sample.
    #[inline(always)]
    fn forward_tiles<L: Lanes, const R: usize, const BIAS: bool, const FS: usize>(
        &self,
        l: L,
        inputs: usize,
        outputs: usize,
        o: usize,
        a: [&[f32]; R],
        src: &[f32],
        dst: &mut [f32],
    ) {
        let bias: [f32; R] = core::array::from_fn(|r| self.bias.get(o + r).copied().unwrap_or(0.0));
        let put = |d: &mut [f32], t: [f32; R]| {
            for ((v, b), r) in t.into_iter().zip(bias).zip(o..) {
                if let Some(y) = d.get_mut(r) {
                    *y = if BIAS { v + b } else { v };
                }
            }
        };
        let n = src.len() / inputs.max(1);
        let whole = n - n % FS;
        let (s_full, s_rest) = src.split_at_checked(whole * inputs).unwrap_or_default();
        let (d_full, d_rest) = dst.split_at_mut((whole * outputs).min(dst.len()));
        let sc = s_full.chunks_exact((FS * inputs).max(1));
        let dc = d_full.chunks_exact_mut((FS * outputs).max(1));
        for (s, d) in sc.zip(dc) {
            let mut xr = rows(s, inputs);
            let b: [&[f32]; FS] = core::array::from_fn(|_| xr.next().unwrap_or(&[]));
            let t = dot_tile_in(l, a, b);
            for (k, d) in rows_mut(d, outputs).enumerate() {
                put(
                    d,
                    core::array::from_fn(|r| {
                        t.get(r).and_then(|t| t.get(k)).copied().unwrap_or(0.0)
                    }),
                );
            }
        }
        for (x, d) in rows(s_rest, inputs).zip(rows_mut(d_rest, outputs)) {
            let t = dot_tile_in(l, a, [x]);
            put(d, t.map(|[v]| v));
        }
    }

    /// `dx = Wᵀ dy` for one sample, summed over outputs in increasing `o` from `0.0`.
    #[inline]
    pub fn backprop_input(&self, dy: &[f32], dx: &mut [f32]) {
        self.backprop_input_in(Portable, self.inputs, dy, dx);
    }

    #[inline(always)]
    fn backprop_input_in<L: Lanes>(&self, l: L, inputs: usize, dy: &[f32], dx: &mut [f32]) {
        dx.fill(0.0);
        for (row, &d) in rows(self.weight, inputs).zip(dy) {
            axpy_in(l, dx, d, row);
        }
    }

    /// `dst[s] = Wᵀ src[s]` for every sample of a block (`src` `[n · outputs]`, `dst`
    /// `[n · inputs]`), summed over outputs in increasing `o` from `0.0` (same bits as
    /// [`DenseRef::backprop_input`] per sample).
    ///
    /// Register tiles of a few samples × [`LANES`] input columns: each chunk of a weight row
    /// is loaded once per tile, and the partial sums stay in registers over all `o`.
    #[inline]
    pub fn backprop_rows(&self, src: &[f32], dst: &mut [f32]) {
        dispatch(Backprop::<0, 0> {
            layer: *self,
            src,
            dst,
        });
    }

    /// [`DenseRef::backprop_rows`] with the widths given, on the lanes `l`, in register tiles
    /// of `BS` samples.
    #[inline(always)]
    pub(crate) fn backprop_rows_in<L: Lanes, const BS: usize>(
        &self,
        l: L,
        inputs: usize,
        outputs: usize,
        src: &[f32],
        dst: &mut [f32],
    ) {
        let n = (src.len() / outputs.max(1)).min(dst.len() / inputs.max(1));
        // Tiles only for whole groups of samples; too few rows or samples to amortise a
        // register tile go row by row (the same order: over outputs in increasing `o`).
        let tiled = if outputs < LANES { 0 } else { n - n % BS };
        let (src, rest_src) = src.split_at_checked(tiled * outputs).unwrap_or_default();
        let (dst, rest_dst) = dst.split_at_mut_checked(tiled * inputs).unwrap_or_default();
        for (s, d) in rows(rest_src, outputs).zip(rows_mut(rest_dst, inputs)) {
            self.backprop_input_in(l, inputs, s, d);
        }
        let sc = src.chunks((BS * outputs).max(1));
        let dc = dst.chunks_mut((BS * inputs).max(1));
        for (src, dst) in sc.zip(dc) {
            // Whole tiles only (the rest went sample by sample above): every row is a sample.
            let mut gr = rows(src, outputs);
            let g: [&[f32]; BS] = core::array::from_fn(|_| gr.next().unwrap_or(&[]));
            // Panels of BWD_PANEL rows, each streamed front to back: the partial sums go
            // through `dst` between panels (storing an f32 keeps its bits).
            let panels = self.weight.chunks((BWD_PANEL * inputs).max(1));
            for (p, panel) in panels.enumerate() {
                let o0 = p * BWD_PANEL;
                // On a host a whole panel reads `dy` through arrays of its BWD_PANEL outputs,
                // so that the inner loop's loads are in bounds by construction (a checked load
                // per sample and row cost more than its multiply-adds); a short last panel
                // checks them. Cortex-M keeps one copy of the loop, the checked one (the
                // second copy cost 1.1 % of the self-test firmware's text and did not make
                // its VAT step faster).
                let whole = g.map(|g| g.get(o0..).and_then(|t| t.first_chunk::<BWD_PANEL>()));
                let arrays = !cfg!(target_arch = "arm") && whole.iter().all(Option::is_some);
                if arrays && panel.len() == BWD_PANEL * inputs {
                    let gp = whole.map(|g| g.unwrap_or(&[0.0; BWD_PANEL]));
                    let gv = |o: usize| gp.map(|g| g.get(o).copied().unwrap_or(0.0));
                    transposed_panel::<L, BS, BWD_PANEL>(l, inputs, o0, panel, dst, gv);
                } else {
                    let gv = |o: usize| g.map(|g| g.get(o0 + o).copied().unwrap_or(0.0));
                    transposed_panel::<L, BS, BWD_PANEL>(l, inputs, o0, panel, dst, gv);
                }
            }
        }
    }
}

/// One panel (rows `o0 ..`, at most `P`) of [`DenseRef::backprop_rows`] for a tile of `BS`
/// samples (`dst` `[BS · inputs]`): `gv(o)` is `dy` of panel row `o` for every sample. Each
/// chunk of [`LANES`] columns (then each column past the last chunk) starts from `0.0` in the
/// first panel, else from the partial sums in `dst`, adds the panel's rows in increasing `o`
/// and is stored back.
#[inline(always)]
fn transposed_panel<L: Lanes, const BS: usize, const P: usize>(
    l: L,
    inputs: usize,
    o0: usize,
    panel: &[f32],
    dst: &mut [f32],
    gv: impl Fn(usize) -> [f32; BS],
) {
    let full = inputs - inputs % LANES;
    for c in (0..full).step_by(LANES) {
        let mut acc = [l.zero(); BS];
        if o0 > 0 {
            for (a, d) in acc.iter_mut().zip(rows(dst, inputs)) {
                *a = l.load(d, c);
            }
        }
        for (o, row) in (0..P).zip(rows(panel, inputs)) {
            let w = l.load(row, c);
            for (a, g) in acc.iter_mut().zip(gv(o)) {
                *a = l.mul_add(*a, l.splat(g), w);
            }
        }
        for (a, d) in acc.iter().zip(rows_mut(dst, inputs)) {
            l.store(d, c, *a);
        }
    }
    for i in full..inputs {
        let mut acc = [0.0f32; BS];
        if o0 > 0 {
            for (a, d) in acc.iter_mut().zip(rows(dst, inputs)) {
                *a = d.get(i).copied().unwrap_or(0.0);
            }
        }
        for (o, row) in (0..P).zip(rows(panel, inputs)) {
            let w = row.get(i).copied().unwrap_or(0.0);
            for (a, g) in acc.iter_mut().zip(gv(o)) {
                *a += g * w;
            }
        }
        for (a, d) in acc.iter().zip(rows_mut(dst, inputs)) {
            if let Some(d) = d.get_mut(i) {
                *d = *a;
            }
        }
    }
}

impl DenseMut<'_> {
    /// Accumulates the parameter gradient of a block, `∂W += Σ_s dy_s x_sᵀ`, `∂b += Σ_s dy_s`
    /// (`xs` `[n · inputs]`, `dys` `[n · outputs]`), sample by sample in order for every
    /// element.
    ///
    /// Register tiles of a few gradient rows × [`LANES`] columns, loaded once, updated by every
    /// sample in order, stored once.
    #[inline]
    pub fn accumulate_rows(&mut self, xs: &[f32], dys: &[f32]) {
        dispatch(Accumulate::<0, 0> {
            layer: self.reborrow(),
            xs,
            dys,
        });
    }

    /// The same view, borrowed again.
    #[inline(always)]
    fn reborrow(&mut self) -> DenseMut<'_> {
        DenseMut {
            weight: self.weight,
            bias: self.bias,
            inputs: self.inputs,
        }
    }

    /// [`DenseMut::accumulate_rows`] with the widths given, on the lanes `l`, in register tiles
    /// of `GR` gradient rows.
    #[inline(always)]
    pub(crate) fn accumulate_rows_in<L: Lanes, const GR: usize>(
        &mut self,
        l: L,
        inputs: usize,
        outputs: usize,
        xs: &[f32],
        dys: &[f32],
    ) {
        let n = (xs.len() / inputs.max(1)).min(dys.len() / outputs.max(1));
        let (xs, dys) = (
            xs.get(..n * inputs).unwrap_or_default(),
            dys.get(..n * outputs).unwrap_or_default(),
        );
        if inputs < LANES && LANES.is_multiple_of(inputs.max(1)) {
            return self.accumulate_narrow(l, inputs, outputs, xs, dys);
        }
        if n <= 2 {
            // Too few samples to amortise loading a register tile: row by row (the same
            // per-element order, samples in order).
            for (x, d) in rows(xs, inputs).zip(rows(dys, outputs)) {
                for ((grow, gb), &dv) in rows_mut(self.weight, inputs)
                    .zip(self.bias.iter_mut())
                    .zip(d)
                {
                    axpy_in(l, grow, dv, x);
                    *gb += dv;
                }
            }
            return;
        }
        // Whole tiles of GR rows, then the rows left over one by one (a partial tile would
        // multiply-add its missing rows too).
        let tiled = outputs / GR * GR;
        let (whole, rest) = (self.weight)
            .split_at_mut_checked(tiled * inputs)
            .unwrap_or_default();
        let (b_whole, b_rest) = self.bias.split_at_mut_checked(tiled).unwrap_or_default();
        let tiles = whole.chunks_exact_mut((GR * inputs).max(1));
        for (t, (grows, gbs)) in tiles.zip(b_whole.chunks_exact_mut(GR)).enumerate() {
            accumulate_tile::<L, GR>(l, inputs, outputs, t * GR, grows, gbs, xs, dys);
        }
        let o = b_whole.len();
        for (r, (grow, gb)) in rows_mut(rest, inputs)
            .zip(b_rest.chunks_exact_mut(1))
            .enumerate()
        {
            accumulate_tile::<L, 1>(l, inputs, outputs, o + r, grow, gb, xs, dys);
        }
    }

    /// [`DenseMut::accumulate_rows`] for a layer narrower than a vector (`inputs` divides
    /// [`LANES`]): the gradient is updated as one flat `[outputs · inputs]` array,
    /// `LANES / inputs` rows per vector, with the same per-element order (samples in order).
    /// Monomorphised per input width `K`.
    #[inline(always)]
    fn accumulate_narrow<L: Lanes>(
        &mut self,
        l: L,
        inputs: usize,
        outputs: usize,
        xs: &[f32],
        dys: &[f32],
    ) {
        match inputs {
            1 => self.accumulate_narrow_k::<L, 1, LANES>(l, outputs, xs, dys),
            2 => self.accumulate_narrow_k::<L, 2, { LANES / 2 }>(l, outputs, xs, dys),
            _ => self.accumulate_narrow_k::<L, 4, { LANES / 4 }>(l, outputs, xs, dys),
        }
    }

    /// `N = LANES / K`: the outputs of one chunk.
    #[inline(always)]
    fn accumulate_narrow_k<L: Lanes, const K: usize, const N: usize>(
        &mut self,
        l: L,
        outputs: usize,
        xs: &[f32],
        dys: &[f32],
    ) {
        let (xs, _) = xs.as_chunks::<K>();
        let (head, tail) = self.weight.as_chunks_mut::<LANES>();
        // Lane j of chunk c holds element (c · LANES/K + j / K, j % K).
        for (c, chunk) in head.iter_mut().enumerate() {
            let o = c * (LANES / K);
            let mut acc = l.vector(*chunk);
            for (x, d) in xs.iter().zip(rows(dys, outputs)) {
                // The chunk's N outputs as an array, so that each lane's read is in bounds by
                // construction (a check per lane cost more than the multiply-adds).
                let d = d.get(o..).and_then(|t| t.first_chunk::<N>());
                let d = d.copied().unwrap_or([0.0; N]);
                let dv = core::array::from_fn(|j| d.get(j / K).copied().unwrap_or(0.0));
                let xv = core::array::from_fn(|j| x[j % K]);
                acc = l.mul_add(acc, l.vector(dv), l.vector(xv));
            }
            *chunk = l.array(acc);
        }
        let full = head.len() * LANES;
        for (k, g) in tail.iter_mut().enumerate() {
            let (o, i) = ((full + k) / K, (full + k) % K);
            for (x, d) in xs.iter().zip(rows(dys, outputs)) {
                *g += d.get(o).copied().unwrap_or(0.0) * x.get(i).copied().unwrap_or(0.0);
            }
        }
        // The bias, LANES outputs at a time, then the rest one by one: summed in registers in
        // sample order (behind `dispatch` the compiler cannot tell that the bias is not in
        // `dys`, and would store it after every sample).
        let (b8, b_rest) = self.bias.as_chunks_mut::<LANES>();
        for (c, gb) in b8.iter_mut().enumerate() {
            let mut b = l.vector(*gb);
            for d in rows(dys, outputs) {
                b = l.add(b, l.load(d, c * LANES));
            }
            *gb = l.array(b);
        }
        for (o, gb) in (b8.len() * LANES..).zip(b_rest) {
            let mut b = *gb;
            for d in rows(dys, outputs) {
                b += d.get(o).copied().unwrap_or(0.0);
            }
            *gb = b;
        }
    }

    /// Fills the weights with `N(0, 1/inputs)` samples (row by row) and zeroes the bias.
    pub fn init(&mut self, rng: &mut crate::Rng) {
        let std = 1.0 / crate::math::sqrt(self.inputs as f32);
        for w in self.weight.iter_mut() {
            *w = rng.normal() * std;
        }
        self.bias.fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::axpy;

    #[test]
    fn forward_and_transpose() {
        let layer = Dense::<3, 2> {
            weight: [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
            bias: [0.5, -0.5],
        };
        let mut y = [0.0; 2];
        layer.forward(&[1.0, 0.0, -1.0], &mut y);
        assert_eq!(y, [-1.5, -2.5]);
        let mut dx = [9.0; 3];
        layer.view().backprop_input(&[1.0, 1.0], &mut dx);
        assert_eq!(dx, [5.0, 7.0, 9.0]);
        let mut g = Dense::<3, 2>::ZERO;
        g.view_mut().accumulate_rows(&[1.0, 2.0, 3.0], &[1.0, -1.0]);
        assert_eq!(g.weight, [[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]]);
        assert_eq!(g.bias, [1.0, -1.0]);
    }

    /// Values of every sign and magnitude, with zeros of both signs (a sum's bits depend on
    /// its order, and `0.0 + -0.0` on whether it starts from `0.0`).
    fn values<const N: usize>(seed: u32) -> [f32; N] {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        core::array::from_fn(|i| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            match i % 11 {
                3 => 0.0,
                7 => -0.0,
                _ => (s as f32 / u32::MAX as f32 - 0.5) * [1.0, 1e4, 1e-4][i % 3],
            }
        })
    }

    /// The lone-sample kernels against the row-by-row `dot` / `axpy` orders they must equal,
    /// bit for bit, at widths below, at and between multiples of the vector width.
    fn one_sample_kernels_equal_row_by_row<const IN: usize, const OUT: usize>() {
        let layer = Dense::<IN, OUT> {
            weight: core::array::from_fn(|o| values(o as u32 + 1)),
            bias: values(99),
        };
        let (x, dy) = (values::<IN>(7), values::<OUT>(8));

        let mut y = [1.0; OUT];
        layer.forward(&x, &mut y);
        let mut want = [0.0; OUT];
        for ((v, w), &b) in want.iter_mut().zip(&layer.weight).zip(&layer.bias) {
            *v = dot(w, &x) + b;
        }
        assert_eq!(
            y.map(f32::to_bits),
            want.map(f32::to_bits),
            "W x + b, {IN}x{OUT}"
        );

        let mut dx = [1.0; IN];
        layer.backprop(&dy, &mut dx);
        let mut want = [0.0; IN];
        for (w, &d) in layer.weight.iter().zip(&dy) {
            axpy(&mut want, d, w);
        }
        assert_eq!(
            dx.map(f32::to_bits),
            want.map(f32::to_bits),
            "Wᵀ dy, {IN}x{OUT}"
        );

        let mut got = layer.clone();
        got.accumulate(&x, &dy);
        let mut want = layer.clone();
        for ((w, b), &d) in want.weight.iter_mut().zip(&mut want.bias).zip(&dy) {
            axpy(w, d, &x);
            *b += d;
        }
        let bits = |l: &Dense<IN, OUT>| {
            (
                l.weight.map(|r| r.map(f32::to_bits)),
                l.bias.map(f32::to_bits),
            )
        };
        assert_eq!(bits(&got), bits(&want), "W += dy xᵀ, {IN}x{OUT}");
    }

    #[test]
    fn scaling_lane_by_lane_is_the_vector_product() {
        let v = f32x8::new(values(3));
        for d in values::<16>(4) {
            let want = (f32x8::splat(d) * v).to_array().map(f32::to_bits);
            assert_eq!(scale_lanes(d, v).to_array().map(f32::to_bits), want);
        }
    }

    #[test]
    fn one_sample_kernels_keep_the_row_by_row_bits() {
        one_sample_kernels_equal_row_by_row::<1, 3>();
        one_sample_kernels_equal_row_by_row::<7, 1>();
        one_sample_kernels_equal_row_by_row::<8, 5>();
        one_sample_kernels_equal_row_by_row::<13, 17>();
        one_sample_kernels_equal_row_by_row::<64, 32>();
        one_sample_kernels_equal_row_by_row::<37, 10>();
    }
}
