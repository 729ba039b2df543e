//! Fuzz target: `vatic_host::fuzzing::blob` must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vatic_host::fuzzing::blob(data));
