//! Every float function the core calls, in one place.
//!
//! By default these are the [`libm`] crate's functions: pure software, so the host and a
//! Cortex-M device compute the same bits for the same input (std's `f32::exp` and friends call
//! the platform's libm, which differs from `libm` in a few percent of inputs).
//!
//! With the `fast-math` feature, [`exp`], [`ln`] and [`tanh`] use [micromath](https://docs.rs/micromath)'s
//! approximations instead. They are still deterministic across targets, but less accurate:
//! over the ranges the core feeds them the measured worst relative error is below
//! [`FAST_MATH_REL_ERROR`] for `exp` and `tanh` and the absolute error of `ln` is below
//! [`FAST_MATH_ABS_ERROR_LN`] (see the tests at the bottom of this file). [`sqrt`] always uses
//! `libm::sqrtf`, which is correctly rounded.

/// Documented worst-case relative error of [`exp`] and [`tanh`] under `fast-math`
/// (measured 2.4e-3 for `exp` over `[-80, 80]`, 3.2e-3 for `tanh` over `[-10, 10]`).
pub const FAST_MATH_REL_ERROR: f32 = 4.0e-3;

/// Documented worst-case absolute error of [`ln`] under `fast-math` on `[1, 10⁴]`, the range of
/// the log-sum-exp sums the core takes logarithms of (measured 6.1e-5; micromath's `ln` is far
/// less accurate away from 1, which the core never needs).
pub const FAST_MATH_ABS_ERROR_LN: f32 = 1.0e-4;

/// `e^x`.
#[inline]
pub fn exp(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::expf(x)
    }
    #[cfg(feature = "fast-math")]
    {
        micromath::F32Ext::exp(x)
    }
}

/// Natural logarithm.
#[inline]
pub fn ln(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::logf(x)
    }
    #[cfg(feature = "fast-math")]
    {
        micromath::F32Ext::ln(x)
    }
}

/// Hyperbolic tangent.
#[inline]
pub fn tanh(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::tanhf(x)
    }
    #[cfg(feature = "fast-math")]
    {
        // tanh x = 1 − 2 / (e^{2x} + 1); saturates cleanly: e^{2x} → ∞ gives 1, → 0 gives −1.
        1.0 - 2.0 / (exp(2.0 * x) + 1.0)
    }
}

/// Square root (always `libm::sqrtf`, correctly rounded).
#[inline]
pub fn sqrt(x: f32) -> f32 {
    libm::sqrtf(x)
}

/// `base^e` (used for Adam's bias correction).
#[inline]
pub fn powf(base: f32, e: f32) -> f32 {
    libm::powf(base, e)
}

/// `|x|`, the sign bit cleared (no libm call needed; `f32::abs` is in `core`).
#[inline]
pub fn abs(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & 0x7fff_ffff)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn exp_ln_tanh_within_documented_error() {
        let mut worst_exp = 0.0f64;
        let mut worst_tanh = 0.0f64;
        let mut worst_ln = 0.0f64;
        for i in 0..=16_000 {
            let x = -80.0 + i as f32 * 0.01;
            let want = (x as f64).exp();
            let got = exp(x) as f64;
            if want > 1e-30 && want < 1e30 {
                worst_exp = worst_exp.max(((got - want) / want).abs());
            }
            let t = x / 8.0;
            let want = (t as f64).tanh();
            if want.abs() > 1e-3 {
                worst_tanh = worst_tanh.max(((tanh(t) as f64 - want) / want).abs());
            }
        }
        // The core takes logarithms only of log-sum-exp sums, which lie in [1, classes].
        for i in 0..=4000 {
            let x = 10f32.powf(i as f32 / 1000.0);
            worst_ln = worst_ln.max((ln(x) as f64 - (x as f64).ln()).abs());
        }
        if cfg!(feature = "fast-math") {
            std::println!("fast-math worst: exp rel {worst_exp:.2e}, tanh rel {worst_tanh:.2e}, ln abs {worst_ln:.2e}");
            assert!(worst_exp < FAST_MATH_REL_ERROR as f64, "exp {worst_exp}");
            assert!(worst_tanh < FAST_MATH_REL_ERROR as f64, "tanh {worst_tanh}");
            assert!(worst_ln < FAST_MATH_ABS_ERROR_LN as f64, "ln {worst_ln}");
        } else {
            // libm is faithfully rounded: a few ulp at most.
            assert!(worst_exp < 4.0 * f32::EPSILON as f64, "exp {worst_exp}");
            assert!(worst_tanh < 4.0 * f32::EPSILON as f64, "tanh {worst_tanh}");
            assert!(worst_ln < 1e-5, "ln {worst_ln}");
        }
    }

    #[test]
    fn abs_clears_only_the_sign() {
        assert_eq!(abs(-0.0).to_bits(), 0);
        assert_eq!(abs(-3.5), 3.5);
        assert!(abs(f32::NAN).is_nan());
    }
}
