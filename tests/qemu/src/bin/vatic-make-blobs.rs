//! Writes the firmware's model blobs (`firmware/lib/blobs/*.vatc`): trains a small network on
//! Gaussian clusters with vatic on the host and stores it with held-out samples in
//! [`vatic::blob`]'s format (version 2). Deterministic for a given vatic; the blobs are
//! committed, so the firmware and the QEMU tests read the same bytes whatever the host's build.
//!
//! ```text
//! cargo run -p vatic-qemu-tests --bin vatic-make-blobs
//! ```

use std::path::Path;

use vatic::optim::{Adam, AdamConfig, Optimizer};
use vatic::{blob, supervised, Network, Rng, Zeroed, BLOCK};
use vatic_firmware::config::{m0, m4f, StoredModel};
use vatic_firmware::model::{self, Loaded};

/// `n` samples per class around the `centres` (`k` rows of `inputs`), noise `N(0, noise² I)`,
/// classes interleaved; row-major features.
fn clusters(
    rng: &mut Rng,
    centres: &[f32],
    inputs: usize,
    n: usize,
    noise: f32,
) -> (Vec<f32>, Vec<usize>) {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..n {
        for (k, c) in centres.chunks_exact(inputs).enumerate() {
            for &v in c {
                xs.push(v + noise * rng.normal());
            }
            ys.push(k);
        }
    }
    (xs, ys)
}

/// Trains the network of `dst`'s type, `N` (300 Adam steps on 32 samples per class), from
/// `seed` with `stored`'s activation, writes it with as many held-out samples as `dst` holds
/// (`S`) to `path`, and checks that the device's loader reads the blob back into `dst`.
fn make<N: Network + Zeroed + Clone + PartialEq, const IN: usize, const S: usize>(
    seed: u64,
    stored: &StoredModel,
    dst: &mut Loaded<N, IN, S>,
    path: &Path,
) {
    let (activation, samples) = (stored.activation, S);
    let mut net = N::ZERO;
    let (inputs, classes) = (net.width(0), net.width(net.depth()));
    let mut rng = Rng::new(seed);
    let mut centres = vec![0.0f32; classes * inputs];
    for v in &mut centres {
        *v = 0.6 * rng.normal();
    }
    let (xs, ys) = clusters(&mut rng, &centres, inputs, 32, 0.5);
    let (tx, ty) = clusters(&mut rng, &centres, inputs, samples / classes, 0.5);
    net.set_activation(activation);
    net.init(&mut rng);
    let mut grad = N::ZERO;
    let mut opt = Adam::<N>::new(AdamConfig {
        lr: 0.01,
        ..AdamConfig::DEFAULT
    })
    .expect("valid Adam settings");
    // The firmware's workspace length: blocks of BLOCK samples.
    let mut ws = vec![0.0f32; net.shape().workspace_len(BLOCK)];
    for _ in 0..300 {
        grad.zero();
        supervised::cross_entropy_grad(&net, &xs, &ys, 1.0, &mut grad, &mut ws)
            .expect("valid data");
        opt.step(&mut net, &grad);
    }
    let train = supervised::accuracy(&net, &xs, &ys, &mut ws).expect("valid data");
    let test = supervised::accuracy(&net, &tx, &ty, &mut ws).expect("valid data");
    let widths: Vec<usize> = (0..=net.depth()).map(|l| net.width(l)).collect();
    let mut buf = vec![0u8; blob::len(&widths, ty.len())];
    let len = blob::write(&net, &tx, &ty, &mut buf).expect("buffer sized by blob::len");
    std::fs::write(path, &buf[..len]).expect("write blob");
    model::load_into(&buf[..len], dst).expect("the device loads the blob");
    assert!(
        dst.net == net && dst.xs_flat() == &tx[..] && dst.ys[..] == ty[..],
        "{}: the device loads another model than was written",
        path.display()
    );
    let shape: Vec<String> = widths.iter().map(usize::to_string).collect();
    println!(
        "{}: {} {}, train accuracy {train:.3}, stored {} samples (accuracy {test:.3}), {len} bytes",
        path.display(),
        shape.join("-"),
        activation.name(),
        ty.len()
    );
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../firmware/lib/blobs");
    std::fs::create_dir_all(&dir).expect("create blobs/");
    // Into the phases' RAM types (boxed: the device's are `static`s).
    make(
        2024,
        &m4f::MODEL,
        &mut Box::new(m4f::Model::ZERO).loaded,
        &dir.join("m4f.vatc"),
    );
    make(
        2025,
        &m0::MODEL,
        &mut Box::new(m0::Model::ZERO).loaded,
        &dir.join("m0.vatc"),
    );
    make(
        2026,
        &m4f::DEEP,
        &mut Box::new(m4f::Deep::ZERO).loaded,
        &dir.join("m4f-deep.vatc"),
    );
}
