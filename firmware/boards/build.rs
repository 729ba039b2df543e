//! The boards' build script (`build = "../build.rs"` in each board's manifest): puts the
//! board's `memory.x` on the linker search path (as cortex-m-quickstart does), so cortex-m-rt's
//! `link.x` picks it up, and adds the linker script the manifest names in
//! `[package.metadata.vatic-board] linker-script` (`defmt.x` for a board that logs with defmt).
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    let manifest = fs::read_to_string("Cargo.toml").expect("read the board's Cargo.toml");
    if let Some(script) = board_key(&manifest, "linker-script") {
        println!("cargo:rustc-link-arg-bins=-T{script}");
    }
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=Cargo.toml");
}

/// The string of `key = "value"` in the manifest's `[package.metadata.vatic-board]` table (read
/// as `board` reads it).
fn board_key<'a>(manifest: &'a str, key: &str) -> Option<&'a str> {
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[package.metadata.vatic-board]";
        } else if let Some((k, v)) = line.split_once('=').filter(|_| in_table) {
            if k.trim() == key {
                return v.split('"').nth(1);
            }
        }
    }
    None
}
