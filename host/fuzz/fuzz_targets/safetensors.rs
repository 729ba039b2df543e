//! Fuzz target: `vatic_host::fuzzing::safetensors` must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vatic_host::fuzzing::safetensors(data));
