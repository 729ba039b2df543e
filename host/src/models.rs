//! The network shapes the host is built for.
//!
//! The core's shapes are compile-time constants, so the host supports a fixed list, declared
//! once in the `shapes!` invocation below. [`Model`] owns one boxed network of any of them;
//! code that works on "any network" implements [`NetFn`] once, generically, and
//! [`Model::visit`] monomorphises it for every shape.
//!
//! | widths | layers | used by |
//! |---|---|---|
//! | 2-100-2 | 1 hidden | plain 2-D moons/circles, reference fixtures |
//! | 100-100-2 | 1 hidden | the VAT paper's synthetic benchmark |
//! | 64-128-10 | 1 hidden | digits (default), reference fixtures |
//! | 64-32-10 | 1 hidden | digits on the Cortex-M4F firmware |
//! | 16-8-4 | 1 hidden | the Cortex-M0 firmware |
//! | 4-16-12-3 | 2 hidden | two-hidden-layer reference fixtures |
//! | 784-1200-10 | 1 hidden | MNIST |
//!
//! Adding a shape is one line in the macro invocation.

use anyhow::{bail, Result};
use vatic::{Activation, Mlp, Mlp2, Network, Parameters, Rng};

/// Something to do with a network of any supported shape, written once generically.
pub trait NetFn {
    /// What it returns.
    type Output;
    /// Runs on a network with `IN` inputs and `OUT` classes.
    fn call<N, const IN: usize, const OUT: usize>(self, net: &mut N) -> Self::Output
    where
        N: Network<IN, OUT> + Clone + Send + Sync + 'static;
}

macro_rules! shapes {
    ($( $variant:ident => $ty:ty = [$($w:literal),+] ),+ $(,)?) => {
        /// A network of one of the supported shapes, boxed (the largest is ~4 MB).
        #[derive(Debug, Clone, PartialEq)]
        #[allow(non_camel_case_types)]
        pub enum Model {
            $(
                #[doc = concat!("`", stringify!($ty), "`")]
                $variant(Box<$ty>),
            )+
        }

        /// The supported layer widths, input first.
        pub const SUPPORTED: &[&[usize]] = &[$(&[$($w),+]),+];

        impl Model {
            /// A zeroed network with these widths (input, hidden…, classes), or `None` when the
            /// shape is not supported.
            fn zeroed(widths: &[usize]) -> Option<Model> {
                $(
                    if widths == [$($w),+] {
                        return Some(Model::$variant(boxed_zero::<$ty>()));
                    }
                )+
                None
            }

            /// Runs `f` on the network.
            pub fn visit<F: NetFn>(&mut self, f: F) -> F::Output {
                match self {
                    $( Model::$variant(n) => f.call(&mut **n), )+
                }
            }

            /// The layer widths, input first.
            pub fn widths(&self) -> &'static [usize] {
                match self {
                    $( Model::$variant(_) => &[$($w),+], )+
                }
            }
        }
    };
}

shapes! {
    Mlp_2_100_2 => Mlp<2, 100, 2> = [2, 100, 2],
    Mlp_100_100_2 => Mlp<100, 100, 2> = [100, 100, 2],
    Mlp_64_128_10 => Mlp<64, 128, 10> = [64, 128, 10],
    Mlp_64_32_10 => Mlp<64, 32, 10> = [64, 32, 10],
    Mlp_16_8_4 => Mlp<16, 8, 4> = [16, 8, 4],
    Mlp2_4_16_12_3 => Mlp2<4, 16, 12, 3> = [4, 16, 12, 3],
    Mlp_784_1200_10 => Mlp<784, 1200, 10> = [784, 1200, 10],
}

/// A zero network on the heap. A function of its own so that, in debug builds, only the one
/// shape being built takes stack space (a `match` over all shapes would reserve all of them).
#[inline(never)]
fn boxed_zero<N: Parameters>() -> Box<N> {
    Box::new(N::ZERO)
}

/// `"2-100-2, 100-100-2, …"`.
pub fn supported_list() -> String {
    SUPPORTED
        .iter()
        .map(|w| format_widths(w))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `[2, 100, 2]` as `"2-100-2"`.
pub fn format_widths(w: &[usize]) -> String {
    w.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// Parses `"2-100-2"`.
///
/// # Errors
///
/// When a part is not a number.
pub fn parse_widths(s: &str) -> Result<Vec<usize>> {
    s.split(['-', 'x', ','])
        .map(|p| {
            p.trim()
                .parse::<usize>()
                .map_err(|_| anyhow::anyhow!("{s:?} is not a shape like 100-100-2"))
        })
        .collect()
}

impl Model {
    /// A zeroed network of the given widths with `activation`.
    ///
    /// # Errors
    ///
    /// When the shape is not one of [`SUPPORTED`]; the message lists them.
    pub fn zeros(widths: &[usize], activation: Activation) -> Result<Model> {
        let Some(mut m) = Model::zeroed(widths) else {
            bail!(
                "this build of vatic does not support a {} network; supported shapes: {}",
                format_widths(widths),
                supported_list()
            )
        };
        m.set_activation(activation);
        Ok(m)
    }

    /// A freshly initialised network (`W ~ N(0, 1/fan_in)`, `b = 0`, from `seed`).
    ///
    /// # Errors
    ///
    /// As [`Model::zeros`].
    pub fn new(widths: &[usize], activation: Activation, seed: u64) -> Result<Model> {
        let mut m = Model::zeros(widths, activation)?;
        struct Init(u64);
        impl NetFn for Init {
            type Output = ();
            fn call<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(self, net: &mut N) {
                net.init(&mut Rng::new(self.0));
            }
        }
        m.visit(Init(seed));
        Ok(m)
    }

    /// The default shape for `features` inputs and `classes` outputs: the first supported
    /// one-hidden-layer shape that fits.
    ///
    /// # Errors
    ///
    /// When no supported shape has these ends; the message lists them.
    pub fn default_widths(features: usize, classes: usize) -> Result<Vec<usize>> {
        match SUPPORTED
            .iter()
            .find(|w| w[0] == features && w[w.len() - 1] == classes)
        {
            Some(w) => Ok(w.to_vec()),
            None => bail!(
                "no supported network takes {features} features to {classes} classes; \
                 supported shapes: {}",
                supported_list()
            ),
        }
    }

    /// The hidden-layer activation.
    pub fn activation(&mut self) -> Activation {
        struct Get;
        impl NetFn for Get {
            type Output = Activation;
            fn call<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
                self,
                net: &mut N,
            ) -> Activation {
                net.activation()
            }
        }
        self.visit(Get)
    }

    fn set_activation(&mut self, a: Activation) {
        match self {
            Model::Mlp2_4_16_12_3(n) => n.activation = a,
            Model::Mlp_2_100_2(n) => n.activation = a,
            Model::Mlp_100_100_2(n) => n.activation = a,
            Model::Mlp_64_128_10(n) => n.activation = a,
            Model::Mlp_64_32_10(n) => n.activation = a,
            Model::Mlp_16_8_4(n) => n.activation = a,
            Model::Mlp_784_1200_10(n) => n.activation = a,
        }
    }

    /// Number of input features.
    pub fn features(&self) -> usize {
        self.widths()[0]
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        *self.widths().last().unwrap_or(&0)
    }

    /// The parameter tensors in the core's fixed order (per layer: weight `[out][in]`
    /// row-major, then bias), copied out.
    pub fn tensors(&mut self) -> Vec<Vec<f32>> {
        struct Get;
        impl NetFn for Get {
            type Output = Vec<Vec<f32>>;
            fn call<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
                self,
                net: &mut N,
            ) -> Vec<Vec<f32>> {
                net.tensors().map(<[f32]>::to_vec).collect()
            }
        }
        self.visit(Get)
    }

    /// Overwrites the parameters from tensors in [`Model::tensors`]' order.
    ///
    /// # Errors
    ///
    /// When the number or the lengths of the tensors differ.
    pub fn set_tensors(&mut self, tensors: &[Vec<f32>]) -> Result<()> {
        struct Set<'a>(&'a [Vec<f32>]);
        impl NetFn for Set<'_> {
            type Output = Result<()>;
            fn call<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
                self,
                net: &mut N,
            ) -> Result<()> {
                let lens: Vec<usize> = net.tensors().map(<[f32]>::len).collect();
                let got: Vec<usize> = self.0.iter().map(Vec::len).collect();
                if lens != got {
                    bail!("expected tensors of lengths {lens:?}, got {got:?}");
                }
                for (dst, src) in net.tensors_mut().zip(self.0) {
                    dst.copy_from_slice(src);
                }
                Ok(())
            }
        }
        self.visit(Set(tensors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_shape_builds_with_its_widths() {
        for w in SUPPORTED {
            let mut m = crate::with_big_stack(|| Model::new(w, Activation::Tanh, 1).unwrap());
            assert_eq!(m.widths(), *w);
            assert_eq!(m.activation(), Activation::Tanh);
            let t = m.tensors();
            assert_eq!(t.len(), 2 * (w.len() - 1));
            assert_eq!(t[0].len(), w[0] * w[1]);
            assert!(t[0].iter().any(|&v| v != 0.0));
        }
    }

    #[test]
    fn unsupported_shapes_are_named() {
        let e = Model::zeros(&[3, 7, 2], Activation::Relu).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("3-7-2") && msg.contains("100-100-2"), "{msg}");
        assert!(Model::default_widths(5, 2).is_err());
        assert_eq!(Model::default_widths(64, 10).unwrap(), vec![64, 128, 10]);
    }

    #[test]
    fn widths_parse_and_tensors_round_trip() {
        assert_eq!(parse_widths("100-100-2").unwrap(), vec![100, 100, 2]);
        assert!(parse_widths("100-a").is_err());
        let mut a = Model::new(&[16, 8, 4], Activation::Relu, 3).unwrap();
        let mut b = Model::zeros(&[16, 8, 4], Activation::Relu).unwrap();
        b.set_tensors(&a.tensors()).unwrap();
        assert_eq!(a, b);
        assert!(b.set_tensors(&a.tensors()[..2]).is_err());
    }
}
