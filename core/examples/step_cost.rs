//! Runs a fixed number of training steps of one benchmark row, for instruction counting
//! (`valgrind --tool=callgrind`), which, unlike time, does not depend on what else the machine
//! is doing:
//!
//! ```text
//! cargo build -p vatic --release --example step_cost
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/step_cost vat_exact 784 3
//! ```
//!
//! Arguments: row (`forward`, `ce`, `fgsm_at`, `vat_fd`, `vat_exact`), net (`2`: 2-100-2 b32,
//! `100`: 100-100-2 b16, `64`: 64-128-10 b128, `784`: 784-1200-10 b128), steps.

use vatic::adversarial::{adversarial_grad, AdversarialConfig};
use vatic::optim::{Optimizer, Sgd, SgdConfig};
use vatic::semi::{semi_supervised_grad, SemiConfig};
use vatic::vat::{Direction, VatConfig};
use vatic::{supervised, Mlp, Network, Parameters, Rng};

fn run<const IN: usize, const H: usize, const OUT: usize>(row: &str, batch: usize, steps: usize) {
    let mut rng = Rng::new(1);
    let mut net: Box<Mlp<IN, H, OUT>> = Box::new(Mlp::ZERO);
    net.init(&mut rng);
    let mut grad: Box<Mlp<IN, H, OUT>> = Box::new(Mlp::ZERO);
    let mut opt: Box<Sgd<Mlp<IN, H, OUT>>> = Box::new(Sgd::new(SgdConfig {
        lr: 1e-3,
        ..SgdConfig::VAT_SYNTHETIC
    }));
    let xs: Vec<[f32; IN]> = (0..batch)
        .map(|_| core::array::from_fn(|_| rng.normal()))
        .collect();
    let ys: Vec<usize> = (0..batch).map(|i| i % OUT).collect();
    let mut sink = 0.0;
    for _ in 0..steps {
        grad.zero();
        match row {
            "forward" => {
                let mut zs = vec![[0.0; OUT]; xs.len()];
                net.logits_block(&xs, &mut zs);
                sink += zs[0][0];
                continue;
            }
            "ce" => {
                sink += supervised::cross_entropy_grad(&*net, &xs, &ys, 1.0, &mut *grad).unwrap();
            }
            "fgsm_at" => {
                let at = AdversarialConfig::new(0.1);
                sink += adversarial_grad(&*net, &xs, &ys, &at, 1.0, &mut *grad).unwrap();
            }
            "vat_fd" | "vat_exact" => {
                let direction = if row == "vat_fd" {
                    Direction::FiniteDifference
                } else {
                    Direction::Exact
                };
                let cfg = SemiConfig::vat(VatConfig {
                    eps: 1.0,
                    xi: 1e-6,
                    iterations: 1,
                    direction,
                });
                sink += semi_supervised_grad(&*net, &xs, &ys, &xs, &mut rng, &cfg, &mut *grad)
                    .unwrap()
                    .total;
            }
            other => panic!("unknown row {other}"),
        }
        opt.step(&mut net, &grad);
    }
    println!(
        "{row}: {steps} steps, checksum {sink} (bits {:08x})",
        sink.to_bits()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let row = args.get(1).map(String::as_str).unwrap_or("vat_exact");
    let net = args.get(2).map(String::as_str).unwrap_or("2");
    let steps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    match net {
        "2" => run::<2, 100, 2>(row, 32, steps),
        "100" => run::<100, 100, 2>(row, 16, steps),
        "64" => run::<64, 128, 10>(row, 128, steps),
        "784" => run::<784, 1200, 10>(row, 128, steps),
        other => panic!("unknown net {other}"),
    }
}
