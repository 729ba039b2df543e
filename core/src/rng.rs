//! The seeded, portable random source: PCG32 and a Box–Muller Gaussian through `libm`.

use rand_core::{RngCore, SeedableRng};
use rand_pcg::Pcg32;

/// A seeded PCG32 generator with the two distributions vatic needs.
///
/// The same seed gives the same stream on every target: PCG32 is integer arithmetic, the
/// uniform sample uses the top 24 bits exactly, and [`Rng::normal`] uses `libm`'s `logf` and
/// `sqrtf` and the part of its `cosf` that `2π u` reaches (the same branches and kernels: the
/// same bits, tested on every `u`) — also under the `fast-math` feature, so initialisation and
/// VAT's Gaussian start directions keep their exact distribution.
///
/// # Examples
///
/// ```
/// let mut a = vatic::Rng::new(42);
/// let mut b = vatic::Rng::new(42);
/// assert_eq!(a.normal().to_bits(), b.normal().to_bits());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng(Pcg32);

impl Rng {
    /// A generator seeded with `seed` (PCG32 seeded through `rand_core`'s `seed_from_u64`).
    pub fn new(seed: u64) -> Self {
        Rng(Pcg32::seed_from_u64(seed))
    }

    /// The next 32 random bits.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    /// Uniform in `[0, 1)`, a multiple of `2⁻²⁴`.
    #[inline]
    pub fn uniform(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform integer in `[0, n)` (`0` when `n = 0`), by Lemire's multiply-shift without
    /// rejection (bias below `n / 2³²`, irrelevant for shuffling data sets).
    #[inline]
    pub fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.next_u32()) * u64::from(n)) >> 32) as u32
    }

    /// Standard normal sample by Box–Muller: `√(−2 ln u₁) · cos(2π u₂)`, `u₁ ∈ (0, 1]`.
    #[inline]
    pub fn normal(&mut self) -> f32 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        libm::sqrtf(-2.0 * libm::logf(u1)) * cos_tau(u2)
    }

    /// Fills `out` with standard normal samples, in index order: the same bits as
    /// [`Rng::normal`] called for each element.
    ///
    /// On a host the samples go eight at a time: the sixteen uniforms are drawn in order, then
    /// the logarithms and cosines run as straight-line code over the eight (the same IEEE
    /// operations as `libm`'s `logf` and `cosf`, which the compiler vectorises; the cosine's
    /// range branch, taken at random, was most of a sample's time). Cortex-M keeps the
    /// one-by-one loop: there the branch is cheap and a branch-free cosine would evaluate
    /// two `f64` polynomials in software.
    pub fn fill_normal(&mut self, out: &mut [f32]) {
        let (groups, rest) = if cfg!(target_arch = "arm") {
            (&mut [][..], out)
        } else {
            out.as_chunks_mut::<8>()
        };
        for g in groups {
            let (mut u1, mut u2) = ([0.0f32; 8], [0.0f32; 8]);
            for (a, b) in u1.iter_mut().zip(&mut u2) {
                *a = 1.0 - self.uniform();
                *b = self.uniform();
            }
            let mut r = [0.0f32; 8];
            for (r, &u) in r.iter_mut().zip(&u1) {
                *r = -2.0 * ln_unit(u);
            }
            let mut c = [0.0f32; 8];
            for (c, &u) in c.iter_mut().zip(&u2) {
                *c = cos_tau_select(u);
            }
            for ((v, r), c) in g.iter_mut().zip(r).zip(c) {
                *v = libm::sqrtf(r) * c;
            }
        }
        for v in rest {
            *v = self.normal();
        }
    }

    /// Shuffles `items` in place (Fisher–Yates from the end, with [`Rng::below`]).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        let mut i = items.len();
        while i > 1 {
            let j = self.below(i as u32) as usize;
            i -= 1;
            items.swap(i, j.min(i));
        }
    }
}

/// `libm::cosf(τ u)` for `u ∈ [0, 1)`, bit for bit (every one of [`Rng::uniform`]'s 2²⁴ values
/// is tested): libm's own branches for `0 ≤ x ≤ 9π/4` and its polynomial kernels `k_cosf`,
/// `k_sinf` (in `f64`, as libm computes them), without its general argument reduction
/// (`rem_pio2f`, which `τ u < 9π/4` never reaches: about 2.8 KB of Cortex-M code). The last
/// branch also takes the arguments above 9π/4, which `u < 1` cannot produce.
/// `libm::logf(x)` for a positive normal `x` (`2⁻¹²⁶ ≤ x < ∞`; Box–Muller's `u₁ ∈ [2⁻²⁴, 1]`),
/// branch-free: the same operations in the same order (at `x = 1` the reduction gives `f = 0`,
/// `k = 0`, hence the `+0` that `logf` returns there).
#[inline(always)]
#[allow(clippy::excessive_precision)]
fn ln_unit(x: f32) -> f32 {
    // Origin: FreeBSD msun e_logf.c via libm 0.2 (Copyright (C) 1993 by Sun Microsystems, Inc.
    // All rights reserved. Developed at SunPro, a Sun Microsystems, Inc. business. Permission
    // to use, copy, modify, and distribute this software is freely granted, provided that
    // this notice is preserved).
    // libm's constants, as libm writes them (the same parse, the same bits).
    const LN2_HI: f32 = 6.9313812256e-01; // 0x3f317180
    const LN2_LO: f32 = 9.0580006145e-06; // 0x3717f7d1
    const LG: [f32; 4] = [0.66666662693, 0.40000972152, 0.28498786688, 0.24279078841];
    // Reduce x into [√2/2, √2]: x = 2^k (1 + f).
    let ix = x.to_bits().wrapping_add(0x3f80_0000 - 0x3f35_04f3);
    let k = (ix >> 23) as i32 - 0x7f;
    let f = f32::from_bits((ix & 0x007f_ffff) + 0x3f35_04f3) - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG[1] + w * LG[3]);
    let t2 = z * (LG[0] + w * LG[2]);
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    let dk = k as f32;
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

/// [`cos_tau`] with its range chosen by arithmetic instead of branches (both kernels are
/// evaluated, the right one kept): the same bits for every `u ∈ [0, 1)`.
///
/// Range `j ∈ 0..=4` (`cos_tau`'s five branches past the tiny one) reduces to
/// `a = x − j·π/2` (the same `f64` products as `cos_tau`'s constants). Ranges 0, 2, 4 take
/// the cosine kernel, 1 and 3 the sine kernel; 1 and 2 are negated: `cos_tau`'s range 1
/// computes `k_sin(π/2 − x) = k_sin(−a)`, and `k_sin` is odd to the bit (negating `x` negates
/// every term and rounding to nearest is symmetric).
#[inline(always)]
fn cos_tau_select(u: f32) -> f32 {
    use core::f64::consts::FRAC_PI_2;
    let x = core::f32::consts::TAU * u;
    let (ix, x64) = (x.to_bits() & 0x7fff_ffff, f64::from(x));
    let j = u32::from(ix > 0x3f49_0fda)
        + u32::from(ix > 0x4016_cbe3)
        + u32::from(ix > 0x407b_53d1)
        + u32::from(ix > 0x40af_eddf);
    let a = x64 - f64::from(j) * FRAC_PI_2;
    let (c, s) = (k_cos(a).to_bits(), k_sin(a).to_bits());
    let odd = (j & 1).wrapping_neg(); // all ones for the sine kernel
    let v = (s & odd) | (c & !odd);
    let negate = u32::from(j == 1 || j == 2) << 31;
    let tiny = u32::from(ix < 0x3980_0000).wrapping_neg(); // |x| < 2⁻¹²: 1.0
    f32::from_bits(((v ^ negate) & !tiny) | (1.0f32.to_bits() & tiny))
}

/// libm's `__cosdf`: `cos x` for `|x| ≤ π/4`, rounded to `f32`.
#[inline(always)]
fn k_cos(x: f64) -> f32 {
    // Origin: FreeBSD msun k_cosf.c, k_sinf.c via libm 0.2 (Copyright (C) 1993 by Sun
    // Microsystems, Inc. All rights reserved. Developed at SunPro, a Sun Microsystems, Inc.
    // business. Permission to use, copy, modify, and distribute this software is freely
    // granted, provided that this notice is preserved).
    // libm's coefficients (the same `f64`s, written shortest).
    const C: [f64; 4] = [
        -0.499_999_997_251_031,
        0.041_666_623_323_739_06,
        -0.001_388_676_377_460_993,
        2.439_044_879_627_741e-5,
    ];
    let z = x * x;
    let w = z * z;
    let r = C[2] + z * C[3];
    (((1.0 + z * C[0]) + w * C[1]) + (w * z) * r) as f32
}

/// libm's `__sindf`: `sin x` for `|x| ≤ π/4`, rounded to `f32`.
#[inline(always)]
fn k_sin(x: f64) -> f32 {
    const S: [f64; 4] = [
        -0.166_666_666_416_265_24,
        0.008_333_329_385_889_463,
        -1.983_933_483_609_663_2e-4,
        2.718_311_493_989_822e-6,
    ];
    let z = x * x;
    let w = z * z;
    let r = S[2] + z * S[3];
    let s = z * x;
    ((x + s * (S[0] + z * S[1])) + s * w * r) as f32
}

fn cos_tau(u: f32) -> f32 {
    // Origin: FreeBSD msun s_cosf.c via libm 0.2 (notice at `k_cos`).
    use core::f64::consts::FRAC_PI_2;
    let x = core::f32::consts::TAU * u;
    let (ix, x64) = (x.to_bits() & 0x7fff_ffff, f64::from(x));
    if ix < 0x3980_0000 {
        1.0 // |x| < 2⁻¹²
    } else if ix <= 0x3f49_0fda {
        k_cos(x64) // |x| ≤ π/4
    } else if ix <= 0x4016_cbe3 {
        k_sin(FRAC_PI_2 - x64) // ≤ 3π/4
    } else if ix <= 0x407b_53d1 {
        -k_cos(x64 - 2.0 * FRAC_PI_2) // ≤ 5π/4
    } else if ix <= 0x40af_eddf {
        k_sin(x64 - 3.0 * FRAC_PI_2) // ≤ 7π/4
    } else {
        k_cos(x64 - 4.0 * FRAC_PI_2) // ≤ 9π/4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cos_tau_is_libms_cosf_for_every_uniform() {
        for k in 0..1u32 << 24 {
            let u = k as f32 * (1.0 / 16_777_216.0);
            let x = core::f32::consts::TAU * u;
            assert_eq!(cos_tau(u).to_bits(), libm::cosf(x).to_bits(), "u = {u}");
        }
    }

    #[test]
    fn the_branch_free_kernels_are_libms_for_every_uniform() {
        for k in 0..1u32 << 24 {
            let u = k as f32 * (1.0 / 16_777_216.0);
            let u1 = 1.0 - u;
            assert_eq!(ln_unit(u1).to_bits(), libm::logf(u1).to_bits(), "u1 = {u1}");
            assert_eq!(cos_tau_select(u).to_bits(), cos_tau(u).to_bits(), "u = {u}");
        }
        // ln_unit's domain beyond Box–Muller's: every normal exponent.
        for e in 1..255u32 {
            for m in [0, 1, 0x3504f3, 0x3504f4, 0x7f_ffff] {
                let x = f32::from_bits(e << 23 | m);
                assert_eq!(ln_unit(x).to_bits(), libm::logf(x).to_bits(), "x = {x:e}");
            }
        }
    }

    #[test]
    fn fill_normal_is_normal_element_by_element() {
        for n in 0..40 {
            let (mut a, mut b) = (Rng::new(n as u64), Rng::new(n as u64));
            let mut v = [0.0f32; 40];
            a.fill_normal(&mut v[..n]);
            for (i, x) in v[..n].iter().enumerate() {
                assert_eq!(x.to_bits(), b.normal().to_bits(), "n = {n}, i = {i}");
            }
            // And the stream goes on where it would.
            assert_eq!(a.next_u32(), b.next_u32(), "n = {n}");
        }
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut rng = Rng::new(3);
        let n = 200_000;
        let (mut s, mut s2) = (0.0f64, 0.0f64);
        for _ in 0..n {
            let v = rng.normal() as f64;
            assert!(v.is_finite());
            s += v;
            s2 += v * v;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "var {var}");
    }

    #[test]
    fn seeds_differ_and_repeat() {
        let a: [u32; 4] = core::array::from_fn({
            let mut r = Rng::new(1);
            move |_| r.next_u32()
        });
        let b: [u32; 4] = core::array::from_fn({
            let mut r = Rng::new(1);
            move |_| r.next_u32()
        });
        let c: [u32; 4] = core::array::from_fn({
            let mut r = Rng::new(2);
            move |_| r.next_u32()
        });
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v: [u8; 50] = core::array::from_fn(|i| i as u8);
        Rng::new(9).shuffle(&mut v);
        let mut seen = [false; 50];
        for &x in &v {
            seen[x as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_ne!(v, core::array::from_fn(|i| i as u8));
    }
}
