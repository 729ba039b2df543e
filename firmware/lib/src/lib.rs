//! # vatic-firmware
//!
//! The on-device logic of vatic's firmware, independent of any board: each board binary
//! (QEMU `mps2-an386`, QEMU `microbit`, nRF52840-DK) supplies a text sink ([`core::fmt::Write`]),
//! a status [`OutputPin`](embedded_hal::digital::OutputPin) and a
//! [`DelayNs`](embedded_hal::delay::DelayNs), and calls the same functions. Porting to another
//! board means supplying those three from its HAL.
//!
//! The library also builds on the host, where the QEMU tests (`tests/qemu` in the main
//! workspace) run the very same functions and demand that the device's machine-readable lines
//! equal the host's **bit for bit**.
//!
//! ## Output format
//!
//! Every result is printed twice: human-readable lines, and machine-readable lines that start
//! with `@ ` and carry `f32` values as their IEEE-754 bit patterns in hex (`3f800000` = 1.0).
//! Checks print `ok`/`FAIL` lines and each run ends with `N passed, M failed`; a board exits with
//! a non-zero code (QEMU) or blinks its status LED (hardware) when anything failed.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![allow(clippy::float_cmp)]

pub mod bench;
pub mod config;
pub mod model;
pub mod probe;
pub mod report;
pub mod status;
pub mod suite;

pub use report::Tally;
