//! Small training runs that must learn: XOR and two moons, with SGD and Adam, one and two
//! hidden layers, compile-time and run-time networks. Deterministic (fixed seeds), so a
//! regression shows as a drop below the bar.

mod common;

use common::{bits, flat, sequential};
use vatic::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use vatic::{supervised, Activation, Mlp, Mlp2, Network, Rng, BLOCK};

fn train<N: Network + Clone, O: Optimizer<N>>(
    net: &mut N,
    opt: &mut O,
    xs: &[f32],
    ys: &[usize],
    epochs: usize,
) -> f32 {
    let mut grad = net.clone();
    grad.zero();
    let mut ws = vec![0.0; net.shape().workspace_len(BLOCK)];
    let mut first = f32::NAN;
    for e in 0..epochs {
        grad.zero();
        let loss = supervised::cross_entropy_grad(net, xs, ys, 1.0, &mut grad, &mut ws).unwrap();
        if e == 0 {
            first = loss;
        }
        opt.step(net, &grad);
        opt.end_epoch();
    }
    let last = supervised::cross_entropy_loss(net, xs, ys, &mut ws).unwrap();
    assert!(last < first, "loss went from {first} to {last}");
    supervised::accuracy(net, xs, ys, &mut ws).unwrap()
}

#[test]
fn xor_with_adam_and_tanh() {
    let xs = [
        0.0, 0.0, /* */ 0.0, 1.0, /* */ 1.0, 0.0, /* */ 1.0, 1.0,
    ];
    let ys = [0, 1, 1, 0];
    let mut net: Mlp<2, 8, 2> = Mlp::new(Activation::Tanh, &mut Rng::new(1));
    let config = AdamConfig {
        lr: 0.05,
        ..AdamConfig::DEFAULT
    };
    let mut seq = sequential(&net);
    let mut opt = Adam::new(config).unwrap();
    assert_eq!(train(&mut net, &mut opt, &xs, &ys, 300), 1.0);
    // The run-time network with the same start, trained by `Adam::like`, ends on the same bits.
    let mut opt = Adam::like(config, &seq).unwrap();
    assert_eq!(train(&mut seq, &mut opt, &xs, &ys, 300), 1.0);
    assert_eq!(bits(seq.params()), bits(&flat(&net)));
}

/// Two interleaved half circles with Gaussian noise (scikit-learn's `make_moons` recipe).
fn moons(n: usize, noise: f32, rng: &mut Rng) -> (Vec<f32>, Vec<usize>) {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for i in 0..n {
        let label = i % 2;
        let t = core::f32::consts::PI * rng.uniform();
        let (x, y) = if label == 0 {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        };
        xs.push(x + noise * rng.normal());
        xs.push(y + noise * rng.normal());
        ys.push(label);
    }
    (xs, ys)
}

#[test]
fn two_moons_with_momentum_sgd_and_relu() {
    let mut rng = Rng::new(2);
    let (xs, ys) = moons(200, 0.1, &mut rng);
    let mut net: Mlp<2, 32, 2> = Mlp::new(Activation::Relu, &mut rng);
    let config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        dampening: 0.0,
        weight_decay: 0.0,
        lr_decay: 0.999,
    };
    let mut seq = sequential(&net);
    let mut opt = Sgd::new(config).unwrap();
    let acc = train(&mut net, &mut opt, &xs, &ys, 1500);
    assert!(acc >= 0.97, "train accuracy {acc}");
    let mut opt = Sgd::like(config, &seq).unwrap();
    assert_eq!(train(&mut seq, &mut opt, &xs, &ys, 1500), acc);
    assert_eq!(bits(seq.params()), bits(&flat(&net)));
}

#[test]
fn two_moons_with_two_hidden_layers_and_weight_decay() {
    let mut rng = Rng::new(3);
    let (xs, ys) = moons(200, 0.1, &mut rng);
    let mut net: Mlp2<2, 16, 16, 2> = Mlp2::new(Activation::Tanh, &mut rng);
    let mut opt = Adam::new(AdamConfig {
        lr: 0.02,
        weight_decay: 1e-4,
        ..AdamConfig::DEFAULT
    })
    .unwrap();
    let acc = train(&mut net, &mut opt, &xs, &ys, 600);
    assert!(acc >= 0.97, "train accuracy {acc}");
}
