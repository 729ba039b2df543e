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

    /// Fills `out` with standard normal samples, in index order.
    pub fn fill_normal(&mut self, out: &mut [f32]) {
        for v in out {
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
fn cos_tau(u: f32) -> f32 {
    // Origin: FreeBSD msun s_cosf.c, k_cosf.c, k_sinf.c via libm 0.2 (Copyright (C) 1993 by
    // Sun Microsystems, Inc. All rights reserved. Developed at SunPro, a Sun Microsystems,
    // Inc. business. Permission to use, copy, modify, and distribute this software is freely
    // granted, provided that this notice is preserved).
    use core::f64::consts::FRAC_PI_2;
    // libm's coefficients (the same `f64`s, written shortest).
    const C: [f64; 4] = [
        -0.499_999_997_251_031,
        0.041_666_623_323_739_06,
        -0.001_388_676_377_460_993,
        2.439_044_879_627_741e-5,
    ];
    const S: [f64; 4] = [
        -0.166_666_666_416_265_24,
        0.008_333_329_385_889_463,
        -1.983_933_483_609_663_2e-4,
        2.718_311_493_989_822e-6,
    ];
    let k_cos = |x: f64| {
        let z = x * x;
        let w = z * z;
        let r = C[2] + z * C[3];
        (((1.0 + z * C[0]) + w * C[1]) + (w * z) * r) as f32
    };
    let k_sin = |x: f64| {
        let z = x * x;
        let w = z * z;
        let r = S[2] + z * S[3];
        let s = z * x;
        ((x + s * (S[0] + z * S[1])) + s * w * r) as f32
    };
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
