//! Puts the `memory.x` of the machine this build is for on the linker search path, where
//! cortex-m-rt's `link.x` finds it, and passes the link scripts: `link.x`, and defmt's for the
//! `rtt` build:
//!
//! | target | `qemu` feature | `rtt` feature (a board) |
//! |---|---|---|
//! | `thumbv7em-none-eabihf` (Cortex-M4F) | QEMU `mps2-an386` | nRF52840 |
//! | `thumbv6m-none-eabi` (Cortex-M0) | QEMU `microbit` | nRF51822 (micro:bit v1) |
//!
//! Another board: add its `memory/<chip>.x` and a line below (or point `VATIC_APP_MEMORY` at
//! it), and its chip to the runner in `.cargo/config.toml`.
use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    let qemu = env::var_os("CARGO_FEATURE_QEMU").is_some();
    let rtt = env::var_os("CARGO_FEATURE_RTT").is_some();
    println!("cargo:rerun-if-env-changed=VATIC_APP_MEMORY");
    let memory = match (target.as_str(), qemu) {
        // A host build (the library in tests, docs): nothing to link.
        (t, _) if !t.starts_with("thumb") => return,
        _ if env::var_os("VATIC_APP_MEMORY").is_some() => {
            PathBuf::from(env::var_os("VATIC_APP_MEMORY").unwrap_or_default())
        }
        ("thumbv7em-none-eabihf" | "thumbv7em-none-eabi", true) => "memory/mps2-an386.x".into(),
        ("thumbv7em-none-eabihf" | "thumbv7em-none-eabi", false) => "memory/nrf52840.x".into(),
        ("thumbv6m-none-eabi", _) => "memory/nrf51822.x".into(),
        (t, _) => {
            panic!("no memory.x for {t}: add one to memory/ and build.rs, or set VATIC_APP_MEMORY")
        }
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Err(e) = fs::copy(&memory, out.join("memory.x")) {
        panic!("cannot copy {}: {e}", memory.display());
    }
    println!("cargo:rustc-link-search={}", out.display());
    // cortex-m-rt's link script, and no page alignment of the sections (flash is not paged).
    // Inside the vatic repository, firmware/.cargo/config.toml already passes both (to every
    // firmware package), and a second `-Tlink.x` would define the memory regions twice.
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if !flags
        .split('\x1f')
        .any(|f| f.ends_with("link-arg=-Tlink.x"))
    {
        println!("cargo:rustc-link-arg-bins=-Tlink.x");
        println!("cargo:rustc-link-arg-bins=--nmagic");
    }
    if rtt {
        println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
    }
    println!("cargo:rerun-if-changed=memory");
    println!("cargo:rerun-if-changed=build.rs");
}
