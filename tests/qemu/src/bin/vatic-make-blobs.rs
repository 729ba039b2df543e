//! Writes the firmware's model blobs (`firmware/lib/blobs/*.vatc`): trains a small network on
//! Gaussian clusters with vatic on the host and stores it with held-out samples in
//! [`vatic::blob`]'s format. Deterministic for a given vatic; the blobs are committed, so the
//! firmware and the QEMU tests read the same bytes whatever the host's build.
//!
//! ```text
//! cargo run -p vatic-qemu-tests --bin vatic-make-blobs
//! ```

use std::path::Path;

use vatic::optim::{Adam, AdamConfig, Optimizer};
use vatic::{blob, supervised, Activation, Mlp, Parameters, Rng};
use vatic_firmware::config::{m0_model, m4f_model};

/// `n` samples per class around `OUT` centres `~ N(0, spread² I)`, noise `N(0, noise² I)`,
/// classes interleaved.
fn clusters<const IN: usize, const OUT: usize>(
    rng: &mut Rng,
    centres: &[[f32; IN]; OUT],
    n: usize,
    noise: f32,
) -> (Vec<[f32; IN]>, Vec<usize>) {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..n {
        for (k, c) in centres.iter().enumerate() {
            let mut x = *c;
            for v in &mut x {
                *v += noise * rng.normal();
            }
            xs.push(x);
            ys.push(k);
        }
    }
    (xs, ys)
}

fn make<const IN: usize, const H: usize, const OUT: usize>(
    seed: u64,
    activation: Activation,
    samples: usize,
    path: &Path,
) {
    let mut rng = Rng::new(seed);
    let mut centres = [[0.0f32; IN]; OUT];
    for c in &mut centres {
        for v in c.iter_mut() {
            *v = 0.6 * rng.normal();
        }
    }
    let (xs, ys) = clusters(&mut rng, &centres, 32, 0.5);
    let (tx, ty) = clusters(&mut rng, &centres, samples / OUT, 0.5);
    let mut net: Mlp<IN, H, OUT> = Mlp::new(activation, &mut rng);
    let mut grad = Mlp::ZERO;
    let mut opt = Adam::new(AdamConfig {
        lr: 0.01,
        ..AdamConfig::DEFAULT
    });
    for _ in 0..300 {
        grad.zero();
        supervised::cross_entropy_grad(&net, &xs, &ys, 1.0, &mut grad).expect("valid data");
        opt.step(&mut net, &grad);
    }
    let train = supervised::accuracy(&net, &xs, &ys).expect("valid data");
    let test = supervised::accuracy(&net, &tx, &ty).expect("valid data");
    let mut buf = vec![0u8; blob::mlp_len(IN, H, OUT, tx.len())];
    let len = blob::write_mlp(&net, &tx, &ty, &mut buf).expect("buffer sized by mlp_len");
    std::fs::write(path, &buf[..len]).expect("write blob");
    println!(
        "{}: {IN}-{H}-{OUT} {}, train accuracy {train:.3}, stored {} samples (accuracy {test:.3}), {len} bytes",
        path.display(),
        activation.name(),
        tx.len()
    );
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../firmware/lib/blobs");
    std::fs::create_dir_all(&dir).expect("create blobs/");
    make::<{ m4f_model::IN }, { m4f_model::H }, { m4f_model::OUT }>(
        2024,
        Activation::Relu,
        m4f_model::SAMPLES,
        &dir.join("m4f.vatc"),
    );
    make::<{ m0_model::IN }, { m0_model::H }, { m0_model::OUT }>(
        2025,
        Activation::Tanh,
        m0_model::SAMPLES,
        &dir.join("m0.vatc"),
    );
}
