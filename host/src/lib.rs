//! The library behind the `vatic` command-line harness: data sets, the supported network
//! shapes, safetensors model files, training runs, robustness reports, plots and the firmware
//! export. The binary (`src/main.rs`) is a thin clap front end over these modules, so tests and
//! other tools can call them directly.

pub mod cli;
pub mod data;
pub mod demo;
pub mod eval;
pub mod export;
pub mod fuzzing;
pub mod inspect;
pub mod model_io;
pub mod models;
pub mod plot;
pub mod progress;
pub mod train;

/// Runs `f` on a thread with a 512 MiB stack and returns its result.
///
/// The core keeps networks, gradients and optimiser state as plain values; for the largest
/// supported shape (784-1200-10, ~3.8 MB per copy) a debug build can hold several copies on the
/// stack while constructing them. The stack is reserved, not committed, so this costs nothing
/// for small networks. A panic in `f` is re-raised.
///
/// # Panics
///
/// When the operating system cannot create a thread, or `f` panics.
pub fn with_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .stack_size(512 << 20)
            .spawn_scoped(s, f)
            .expect("cannot create a thread");
        match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
