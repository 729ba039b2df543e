//! Per-step time of vatic's training steps, single thread, f32 (criterion).
//!
//! `cargo bench -p vatic --bench steps` — or `python3 bench/compare.py`, which also runs the
//! PyTorch and numpy peers of `bench/peers.py` on the same shapes and prints the ratios. The
//! rows (what one step does) are in `benches/rows/mod.rs`, shared with
//! `examples/step_cost.rs`, which counts their instructions.

mod rows;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use rows::{Bench, Row};
use vatic::Rng;

fn rows<const IN: usize, const H: usize, const OUT: usize>(c: &mut Criterion, batch: usize) {
    let name = format!("{IN}-{H}-{OUT}/b{batch}");
    let (mut bench, _) = Bench::<IN, H, OUT>::new(batch);
    let mut g = c.benchmark_group("step");
    g.sample_size(if IN * H > 100_000 { 10 } else { 50 });
    for row in Row::ALL {
        let mut rng = Rng::new(2);
        g.bench_function(BenchmarkId::new(row.name(), &name), |b| {
            b.iter(|| black_box(bench.step(row, &mut rng)))
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
