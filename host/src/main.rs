//! The `vatic` command-line harness.
fn main() {}
