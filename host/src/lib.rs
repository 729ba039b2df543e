//! The library behind the `vatic` command-line harness: data sets, the run-time network of any
//! depth ([`models::Model`]), safetensors model files, training runs, robustness reports, plots
//! and the firmware export. The binary (`src/main.rs`) is a thin clap front end over these
//! modules, so tests and other tools can call them directly.
//!
//! One module a concept, and each subcommand owns its flags and its `run`:
//!
//! | module | what |
//! |---|---|
//! | [`cli`] | the parser ([`cli::Cli`]) and the dispatch to the subcommands; nothing imports it |
//! | [`demo`] | `vatic demo`: the VAT paper's synthetic benchmark |
//! | [`train`] | training runs and `vatic train` (`config`, `fit`, `args`, `progress`) |
//! | [`eval`] | `vatic eval`: the robustness report |
//! | [`export`] | `vatic export-firmware`: the firmware blob and its expected results |
//! | [`inspect`] | `vatic inspect`: every quantity of the core for one batch (`input`, `compute`, `report`, `print`) |
//! | [`data`] | data sets and loaders, the shared data flags ([`data::DataArgs`]) and a model's data [`data::Provenance`] |
//! | [`models`], [`model_io`] | the network of any depth, and its safetensors files |
//! | [`plot`] | the PNG figures |
//! | [`flags`], [`output`] | checked numeric flags; atomic output files and a quiet closed stdout |
//! | [`fuzzing`] | the fuzz targets' bodies |
//!
//! The imports run one way, with no cycle: the subcommands use `data`, `models`, `model_io`
//! and the helpers (`demo` also `train`, `eval` and `plot`; `fuzzing` the parsers of `data`,
//! `model_io` and `inspect`), and only `main.rs` uses `cli`.

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
pub mod train;
