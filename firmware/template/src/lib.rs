//! # vatic-app
//!
//! A firmware to copy: it embeds a model exported by `vatic export-firmware` (a 64-32-10 ReLU
//! network trained on the bundled digits, with 64 held-out samples), and on the device
//!
//! * [`infer`]: classifies one stored sample (binary `infer`);
//! * [`check`]: measures the model's robustness on the stored samples — clean accuracy, FGSM
//!   and PGD (L∞) robust accuracy at the radii of [`settings::EPS`], mean and max LDS — the
//!   same figures as `vatic eval` on the host, bit for bit (binary `check`);
//! * [`finetune`]: checks, fine-tunes the model with virtual adversarial training on a stream of
//!   unlabelled samples, and checks again (binary `finetune`).
//!
//! Everything the device keeps is a `static` (each binary declares its state as `static mut` in
//! its `#[entry]`, which cortex-m-rt hands to `main` as a `&'static mut`), so the linker's
//! `.bss` is the RAM it needs; the stored samples stay in flash, inside the blob, and are read
//! one at a time. The report goes through a [`Sink`]: semihosting under QEMU, defmt on a board,
//! a `String` in the host tests, which run this same library and demand the device's bits.
//!
//! No `core::fmt`: its machinery costs kilobytes of flash, more than the inference itself, so
//! numbers are written by the few lines of [`report`].
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![allow(clippy::float_cmp)]

pub mod check;
pub mod finetune;
pub mod infer;
pub mod model;
pub mod report;
pub mod settings;

#[cfg(all(target_arch = "arm", target_os = "none"))]
pub mod board;

pub use model::{Net, BLOB, IN, OUT};
pub use report::Sink;
