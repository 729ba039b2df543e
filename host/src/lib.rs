//! The library behind the `vatic` command-line harness: data sets, the supported network
//! shapes, safetensors model files, training runs, robustness reports, plots and the firmware
//! export. The binary (`src/main.rs`) is a thin clap front end over these modules, so tests and
//! other tools can call them directly.

pub mod data;
