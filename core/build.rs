//! Sets `cfg(assert_no_panic)` when `VATIC_NO_PANIC` is in the environment and the build is
//! optimised, as libm does with its own `ENSURE_NO_PANIC` (a different name, so libm is not affected): the `no-panic` attributes on the numeric paths then turn any
//! reachable panic into a link error. See the README's "No panics" section.
use std::env;

fn main() {
    println!("cargo:rerun-if-env-changed=VATIC_NO_PANIC");
    println!("cargo:rerun-if-changed=build.rs");
    let optimised = env::var("OPT_LEVEL").map(|o| o != "0").unwrap_or(false);
    if env::var_os("VATIC_NO_PANIC").is_some() && optimised {
        println!("cargo:rustc-cfg=assert_no_panic");
    }
}
