//! The library behind the `vatic` command-line harness: data sets, the run-time network of any
//! depth ([`models::Model`]), safetensors model files, training runs, robustness reports, plots
//! and the firmware export. The binary (`src/main.rs`) is a thin clap front end over these
//! modules, so tests and other tools can call them directly.

pub mod cli;
pub mod data;
pub mod demo;
pub mod eval;
pub mod export;
pub mod flags;
pub mod fuzzing;
pub mod inspect;
pub mod model_io;
pub mod models;
pub mod output;
pub mod plot;
pub mod progress;
pub mod train;
