//! Per-step time of vatic's training steps, single thread, f32 (criterion).
//!
//! `cargo bench -p vatic --bench steps` — or `python3 bench/compare.py`, which also runs the
//! PyTorch and numpy peers of `bench/peers.py` on the same shapes and prints the ratios.
//!
//! A step is what a training loop does per batch: zero the gradient, compute the loss and its
//! parameter gradient, and apply momentum SGD. Rows:
//! * `forward`: logits of the batch ([`Network::logits_block`]);
//! * `ce`: cross-entropy step;
//! * `fgsm_at`: FGSM (L∞) + adversarial-training step (α = 0.5);
//! * `vat_fd`, `vat_exact`: semi-supervised VAT step, K = 1, with the batch as both the
//!   labelled and the unlabelled batch, finite-difference or exact direction.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use vatic::adversarial::{adversarial_grad, AdversarialConfig};
use vatic::optim::{Optimizer, Sgd, SgdConfig};
use vatic::semi::{semi_supervised_grad, SemiConfig};
use vatic::vat::{Direction, VatConfig};
use vatic::{supervised, Mlp, Network, Parameters, Rng};

fn boxed_net<const IN: usize, const H: usize, const OUT: usize>(
    rng: &mut Rng,
) -> Box<Mlp<IN, H, OUT>> {
    // Built in place on the heap: the 784-1200-10 network is 3.8 MB.
    let mut net: Box<Mlp<IN, H, OUT>> = Box::new(Mlp::ZERO);
    net.init(rng);
    net
}

fn rows<const IN: usize, const H: usize, const OUT: usize>(c: &mut Criterion, batch: usize) {
    let name = format!("{IN}-{H}-{OUT}/b{batch}");
    let mut rng = Rng::new(1);
    let mut net = boxed_net::<IN, H, OUT>(&mut rng);
    let mut grad: Box<Mlp<IN, H, OUT>> = Box::new(Mlp::ZERO);
    let mut opt: Box<Sgd<Mlp<IN, H, OUT>>> = Box::new(Sgd::new(SgdConfig {
        lr: 1e-3,
        ..SgdConfig::VAT_SYNTHETIC
    }));
    let xs: Vec<[f32; IN]> = (0..batch)
        .map(|_| core::array::from_fn(|_| rng.normal()))
        .collect();
    let ys: Vec<usize> = (0..batch).map(|i| i % OUT).collect();
    let mut g = c.benchmark_group("step");
    g.sample_size(if IN * H > 100_000 { 10 } else { 50 });

    let mut zs = vec![[0.0f32; OUT]; batch];
    g.bench_function(BenchmarkId::new("forward", &name), |b| {
        b.iter(|| {
            net.logits_block(black_box(&xs), &mut zs);
            zs[0][0]
        })
    });
    g.bench_function(BenchmarkId::new("ce", &name), |b| {
        b.iter(|| {
            grad.zero();
            supervised::cross_entropy_grad(&*net, &xs, &ys, 1.0, &mut *grad).unwrap();
            opt.step(&mut net, &grad);
        })
    });
    let at = AdversarialConfig::new(0.1);
    g.bench_function(BenchmarkId::new("fgsm_at", &name), |b| {
        b.iter(|| {
            grad.zero();
            adversarial_grad(&*net, &xs, &ys, &at, 1.0, &mut *grad).unwrap();
            opt.step(&mut net, &grad);
        })
    });
    for (label, direction, xi) in [
        ("vat_fd", Direction::FiniteDifference, 1e-6),
        ("vat_exact", Direction::Exact, 1e-6),
    ] {
        let cfg = SemiConfig::vat(VatConfig {
            eps: 1.0,
            xi,
            iterations: 1,
            direction,
        });
        let mut vrng = Rng::new(2);
        g.bench_function(BenchmarkId::new(label, &name), |b| {
            b.iter(|| {
                grad.zero();
                semi_supervised_grad(&*net, &xs, &ys, &xs, &mut vrng, &cfg, &mut *grad).unwrap();
                opt.step(&mut net, &grad);
            })
        });
    }
    g.finish();
}

fn steps(c: &mut Criterion) {
    rows::<2, 100, 2>(c, 32);
    rows::<2, 100, 2>(c, 128);
    rows::<100, 100, 2>(c, 16);
    rows::<64, 128, 10>(c, 128);
    rows::<784, 1200, 10>(c, 128);
}

criterion_group!(benches, steps);
criterion_main!(benches);
