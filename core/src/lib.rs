//! # vatic
//!
//! Tiny neural networks that train and check their own robustness on microcontrollers:
//! multi-layer perceptrons of any depth with backprop (parameter **and** input gradients),
//! cross-entropy, SGD/Adam, FGSM and PGD attacks, adversarial training, and virtual adversarial
//! training (VAT) with power iteration — `#![no_std]`, no heap, no `unsafe`, `f32` through
//! [`libm`].
//!
//! One engine runs every network ([`pass`]), seen through the [`Network`] trait:
//!
//! * [`Net`] — widths are const generics ([`Mlp`]`<IN, H, OUT>`, [`Mlp2`] … [`Mlp4`], or any
//!   chain of [`Hidden`] layers), parameters are nested arrays, so a network, its gradient and
//!   its optimiser state are plain values whose `size_of` is the RAM they need, built by `const`
//!   constructors and placeable in a `static`;
//! * [`Sequential`] — widths are run-time values and the parameters one flat array in PyTorch's
//!   `nn.Sequential` order, in storage the caller chooses (a `Vec` on a host, a `static` buffer
//!   loaded from a [`blob`] on a device).
//!
//! An attack is one value, [`attack::Attack`] (FGSM or PGD with its steps, start and restarts,
//! its norm and box), used alike by [`attack::Attack::perturb`] for one sample and by the
//! [`metrics`] over a data set; the radius ε is given where it runs, since the metrics sweep
//! and bisect it.
//!
//! Batches are flat row-major slices (`xs: [n · IN]`), and every function that runs a network
//! takes a caller-owned **workspace** `ws: &mut [f32]` for its traces and deltas:
//! [`Net::WORKSPACE`] values (a constant) for blocks of [`BLOCK`] samples, or
//! [`Shape::workspace_len`] for any block. The same code gives the same bits on x86-64 and on a
//! Cortex-M: every float function goes through [`math`] (libm), and the kernels fix their
//! summation order ([`kernels`]).
//!
//! ```
//! use vatic::optim::{Adam, AdamConfig, Optimizer};
//! use vatic::{supervised, Activation, Mlp, Parameters, Rng};
//!
//! // XOR with a 2-8-2 tanh network.
//! type Net = Mlp<2, 8, 2>;
//! let xs = [0.0, 0.0, /* */ 0.0, 1.0, /* */ 1.0, 0.0, /* */ 1.0, 1.0];
//! let ys = [0, 1, 1, 0];
//! let mut net: Net = Mlp::new(Activation::Tanh, &mut Rng::new(1));
//! let (mut grad, mut ws) = (Net::ZERO, [0.0; Net::WORKSPACE]);
//! let mut opt = Adam::new(AdamConfig { lr: 0.05, ..AdamConfig::DEFAULT })?;
//! for _ in 0..300 {
//!     grad.zero();
//!     supervised::cross_entropy_grad(&net, &xs, &ys, 1.0, &mut grad, &mut ws)?;
//!     opt.step(&mut net, &grad);
//! }
//! assert_eq!(supervised::accuracy(&net, &xs, &ys, &mut ws)?, 1.0);
//! # Ok::<(), vatic::Error>(())
//! ```
//!
//! ## Memory
//!
//! | value | bytes |
//! |---|---|
//! | a network with widths `w_0 … w_L` (also its gradient) | `4 · Σ_l w_{l+1} (w_l + 1)` (+ 4 for [`Net`]) |
//! | `Sgd<N>` | `size_of::<N>()` + 28 |
//! | `Adam<N>` | `2·size_of::<N>()` + 36 |
//! | workspace for blocks of `b` samples | `4 · b · (2 (Σ hidden + max hidden + 1) + 3 (IN + OUT))` |
//!
//! A 64-32-10 network is 9 644 bytes; with its gradient and Adam state, training it needs
//! 38 612 bytes of static RAM, plus an 11 264-byte workspace for blocks of 8
//! (`cargo test -p vatic --test memory -- --nocapture`); the numeric functions keep no arrays of
//! their own on the stack.
//!
//! ## Speed
//!
//! The batch functions run blocks of samples through register-tiled kernels ([`kernels`], on
//! [`wide`]'s portable `f32x8`; [`pass::logits`] is batch inference), as many samples per
//! block as the workspace holds. On x86-64 a build with `RUSTFLAGS="-C target-cpu=native"`
//! uses AVX and wider tiles — faster on large layers, and bit-identical, since vatic never
//! fuses a multiply-add and the tile shape never changes a summation order. The README compares
//! vatic with PyTorch and numpy.
//!
//! ## Features
//!
//! * `defmt`: derives `defmt::Format` on the public plain-data types.
//! * `fast-math`: `exp`, `ln`, `tanh` from [`micromath`](https://docs.rs/micromath) instead of
//!   libm (error bounds in [`math`]); still the same bits on every target.
//! * `compact`: block passes go sample by sample through the lone-sample kernels: less code,
//!   same bits, slower on large batches on a host (the register-tiled batch kernels are never
//!   compiled in; on a Cortex-M, whose tiles are emulated, no slower: firmware/README.md).
//!   For a firmware short of flash or stack.
//!
//! ## Errors and panics
//!
//! Public entry points validate their arguments and data and return [`Error`] (NaN/∞ samples,
//! labels out of range, negative ε, a slice of the wrong width, a workspace too small, …). Once
//! validated, the numeric paths contain no reachable panic; `scripts/no-panic` proves it on the
//! optimised machine code of every entry point (see the README).
//!
//! Settings are checked when they are built ([`optim::Sgd::new`] and [`optim::Adam::new`]
//! return `Result`) or, for an [`attack::Attack`] (a plain `const` value), by
//! [`attack::Attack::validate`], which every function that takes an attack runs;
//! [`Error::InvalidSetting`] names the field (a NaN, zero or negative learning rate, a momentum
//! outside `[0, 1)`, zero PGD restarts, …). Parameters are checked
//! where a network enters ([`blob::parse`]) and before a batch-level report counts anything
//! ([`Parameters::check_finite`], [`Error::NonFiniteParameter`]); the per-sample primitives
//! trust the network they are given.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![allow(
    // Index loops over small fixed arrays read closer to the formulas.
    clippy::needless_range_loop,
    // Float code compares against exact constants on purpose (ReLU's `> 0`, sign(0) = 0).
    clippy::float_cmp,
    // The numeric entry points take data, settings, outputs and a workspace by design.
    clippy::too_many_arguments
)]

// The `dispatch` feature (hosts only) reads CPU features and `VATIC_DISPATCH` through std.
#[cfg(feature = "dispatch")]
extern crate std;

mod activation;
mod check;
mod dense;
mod error;
mod mlp;
mod network;
mod params;
mod rng;
mod sequential;
mod workspace;

pub mod adversarial;
pub mod attack;
pub mod blob;
pub mod certify;
pub mod kernels;
pub mod loss;
pub mod math;
pub mod metrics;
pub mod optim;
pub mod pass;
pub mod semi;
pub mod supervised;
pub mod vat;
pub mod vector;

pub use activation::Activation;
pub use dense::{Dense, DenseMut, DenseRef};
pub use error::{Error, Result};
pub use mlp::{Hidden, Layers, Mlp, Mlp2, Mlp3, Mlp4, Net};
pub use network::{argmax, Network, Shape, BLOCK};
pub use params::{Parameters, Zeroed};
pub use rng::Rng;
pub use sequential::Sequential;
