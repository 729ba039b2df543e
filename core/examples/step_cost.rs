//! Runs a fixed number of training steps of one benchmark row, for instruction counting
//! (`valgrind --tool=callgrind`), which, unlike time, does not depend on what else the machine
//! is doing:
//!
//! ```text
//! cargo build -p vatic --release --example step_cost
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/step_cost vat_exact 784 3
//! ```
//!
//! Arguments: row (`forward`, `ce`, `fgsm_at`, `vat_fd`, `vat_exact`), net (`2`: 2-100-2 b32, `2b128`:
//! 2-100-2 b128, `100`: 100-100-2 b16, `64`: 64-128-10 b128, `784`: 784-1200-10 b128), steps. The rows are
//! the criterion benchmark's (`benches/rows/mod.rs`). It prints the sum of the steps' losses
//! and its bits, which builds for different targets or CPUs must reproduce exactly.

#[path = "../benches/rows/mod.rs"]
mod rows;

use rows::{Bench, Row};

fn run<const IN: usize, const H: usize, const OUT: usize>(row: Row, batch: usize, steps: usize) {
    let (mut bench, mut rng) = Bench::<IN, H, OUT>::new(batch);
    let mut sink = 0.0;
    for _ in 0..steps {
        sink += bench.step(row, &mut rng);
    }
    println!(
        "{}: {steps} steps, checksum {sink} (bits {:08x})",
        row.name(),
        sink.to_bits()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map(String::as_str).unwrap_or("vat_exact");
    let row = Row::parse(name).unwrap_or_else(|| panic!("unknown row {name}"));
    let net = args.get(2).map(String::as_str).unwrap_or("2");
    let steps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    match net {
        "2" => run::<2, 100, 2>(row, 32, steps),
        "2b128" => run::<2, 100, 2>(row, 128, steps),
        "100" => run::<100, 100, 2>(row, 16, steps),
        "64" => run::<64, 128, 10>(row, 128, steps),
        "784" => run::<784, 1200, 10>(row, 128, steps),
        other => panic!("unknown net {other}"),
    }
}
