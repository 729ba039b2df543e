//! Fuzz target: `vatic_host::fuzzing::inspect_input` must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vatic_host::fuzzing::inspect_input(data));
