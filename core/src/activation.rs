//! Hidden-layer activations.

use crate::math;

/// The non-linearity applied after every hidden dense layer.
///
/// Backprop uses only the activation's output `h`: ReLU's derivative is `1` where `h > 0` and
/// `0` elsewhere (also at `0`, as PyTorch does), tanh's is `1 − h²`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Activation {
    /// `max(a, 0)` (the default).
    #[default]
    Relu,
    /// `tanh(a)`.
    Tanh,
}

impl Activation {
    /// Applies the activation in place.
    #[inline]
    pub fn apply(self, a: &mut [f32]) {
        match self {
            Activation::Relu => {
                for v in a {
                    *v = if *v > 0.0 { *v } else { 0.0 };
                }
            }
            Activation::Tanh => {
                for v in a {
                    *v = math::tanh(*v);
                }
            }
        }
    }

    /// Multiplies `delta` in place by `σ'(a)`, given the activation's output `h = σ(a)`.
    #[inline]
    pub fn backprop(self, h: &[f32], delta: &mut [f32]) {
        match self {
            Activation::Relu => {
                // A select, not a conditional store, so that it vectorises.
                for (d, &hv) in delta.iter_mut().zip(h) {
                    *d = if hv <= 0.0 { 0.0 } else { *d };
                }
            }
            Activation::Tanh => {
                for (d, &hv) in delta.iter_mut().zip(h) {
                    *d *= 1.0 - hv * hv;
                }
            }
        }
    }

    /// The name used in model files (`"relu"`, `"tanh"`).
    pub const fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
        }
    }

    /// Parses a model file's activation name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "relu" => Some(Activation::Relu),
            "tanh" => Some(Activation::Tanh),
            _ => None,
        }
    }

    /// The code used in the firmware blob format.
    pub const fn code(self) -> u8 {
        match self {
            Activation::Relu => 0,
            Activation::Tanh => 1,
        }
    }

    /// Inverse of [`Activation::code`].
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Activation::Relu),
            1 => Some(Activation::Tanh),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_derivative_is_zero_at_zero() {
        let mut a = [-1.0, 0.0, 2.0];
        Activation::Relu.apply(&mut a);
        assert_eq!(a, [0.0, 0.0, 2.0]);
        let mut d = [1.0; 3];
        Activation::Relu.backprop(&a, &mut d);
        assert_eq!(d, [0.0, 0.0, 1.0]);
    }

    #[test]
    fn tanh_derivative() {
        let mut a = [0.5f32];
        Activation::Tanh.apply(&mut a);
        let mut d = [2.0];
        Activation::Tanh.backprop(&a, &mut d);
        let want = 2.0 * (1.0 - 0.5f64.tanh().powi(2));
        assert!((d[0] as f64 - want).abs() < 1e-6);
    }

    #[test]
    fn names_round_trip() {
        for a in [Activation::Relu, Activation::Tanh] {
            assert_eq!(Activation::from_name(a.name()), Some(a));
            assert_eq!(Activation::from_code(a.code()), Some(a));
        }
        assert_eq!(Activation::from_name("gelu"), None);
    }
}
