//! The seeded, portable random source: PCG32 and a Box–Muller Gaussian through `libm`.

use rand_core::{RngCore, SeedableRng};
use rand_pcg::Pcg32;

/// A seeded PCG32 generator with the two distributions vatic needs.
///
/// The same seed gives the same stream on every target: PCG32 is integer arithmetic, the
/// uniform sample uses the top 24 bits exactly, and [`Rng::normal`] uses `libm`'s `logf`, `cosf`
/// and `sqrtf` directly — also under the `fast-math` feature, so initialisation and VAT's
/// Gaussian start directions keep their exact distribution.
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
        libm::sqrtf(-2.0 * libm::logf(u1)) * libm::cosf(core::f32::consts::TAU * u2)
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

#[cfg(test)]
mod tests {
    use super::*;

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
