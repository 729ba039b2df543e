//! Backprop and forward-mode passes against central finite differences of an independent f64
//! network (`common::RefNet`), for every parameter tensor and the input, ReLU and tanh, one and
//! two hidden layers.
//!
//! Tolerances: the crate computes in f32, so its gradients carry relative rounding of a few
//! `f32::EPSILON` times the number of accumulated terms (≤ 64 here): `|err| ≤ 2e-5 + 1e-4 |g|`.
//! The f64 central difference with `h = 1e-6` has truncation error `O(h²) ≈ 1e-12` and rounding
//! `O(1e-16 / h) ≈ 1e-10`, negligible against that. ReLU kinks are crossed with probability
//! `~h` per unit, so the seeds below never hit one (a hit would fail loudly, not pass silently).

mod common;

use common::{assert_close, cross_entropy, fd_params, to64, RefNet};
use proptest::prelude::*;
use vatic::{Activation, Mlp, Mlp2, Network, Parameters, Rng};

const H: f64 = 1e-6;
const ATOL: f64 = 2e-5;
const RTOL: f64 = 1e-4;

fn flat<N: Parameters>(n: &N) -> Vec<f32> {
    n.tensors().flatten().copied().collect()
}

fn sample<const D: usize>(rng: &mut Rng) -> [f32; D] {
    core::array::from_fn(|_| rng.normal())
}

/// Checks ∂CE/∂θ, ∂CE/∂x and J v of `net` at a random sample against f64 finite differences.
fn check<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    reference: &RefNet,
    rng: &mut Rng,
) {
    let x: [f32; IN] = sample(rng);
    let v: [f32; IN] = sample(rng);
    let y = (rng.next_u32() as usize) % OUT;

    let mut trace = N::EMPTY_TRACE;
    let z = net.forward(&x, &mut trace);
    assert_close("logits", &z, &reference.logits(&to64(&x)), 1e-5, 1e-5);

    let (_, dz) = vatic::loss::cross_entropy(&z, y).unwrap();
    let mut grad = N::ZERO;
    let mut dx = [0.0; IN];
    net.backward(&trace, &dz, Some(&mut grad), Some(&mut dx));

    let x64 = to64(&x);
    let want = fd_params(reference, H, |r| cross_entropy(&r.logits(&x64), y));
    assert_close("dCE/dtheta", &flat(&grad), &want, ATOL, RTOL);

    let want_dx: Vec<f64> = (0..IN)
        .map(|i| {
            let (mut a, mut b) = (x64.clone(), x64.clone());
            a[i] += H;
            b[i] -= H;
            (cross_entropy(&reference.logits(&a), y) - cross_entropy(&reference.logits(&b), y))
                / (2.0 * H)
        })
        .collect();
    assert_close("dCE/dx", &dx, &want_dx, ATOL, RTOL);

    // J v: directional derivative of the logits.
    let v64 = to64(&v);
    let plus: Vec<f64> = x64.iter().zip(&v64).map(|(a, b)| a + H * b).collect();
    let minus: Vec<f64> = x64.iter().zip(&v64).map(|(a, b)| a - H * b).collect();
    let want_jv: Vec<f64> = reference
        .logits(&plus)
        .iter()
        .zip(reference.logits(&minus))
        .map(|(a, b)| (a - b) / (2.0 * H))
        .collect();
    assert_close("J v", &net.jvp(&trace, &v), &want_jv, ATOL, RTOL);

    // Backward accumulates: a second call doubles the parameter gradient exactly.
    let once = flat(&grad);
    net.backward(&trace, &dz, Some(&mut grad), None);
    for (a, b) in flat(&grad).iter().zip(&once) {
        assert_eq!(*a, 2.0 * b);
    }
}

fn activation(tanh: bool) -> Activation {
    if tanh {
        Activation::Tanh
    } else {
        Activation::Relu
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn one_hidden_layer(seed in any::<u64>(), tanh in any::<bool>()) {
        let mut rng = Rng::new(seed);
        let mut net: Mlp<5, 9, 4> = Mlp::new(activation(tanh), &mut rng);
        // Non-zero biases, so their gradients and their effect on the forward pass are checked.
        rng.fill_normal(&mut net.hidden.bias);
        rng.fill_normal(&mut net.output.bias);
        check(&net, &RefNet::from_mlp(&net), &mut rng);
    }

    #[test]
    fn two_hidden_layers(seed in any::<u64>(), tanh in any::<bool>()) {
        let mut rng = Rng::new(seed);
        let mut net: Mlp2<4, 7, 6, 3> = Mlp2::new(activation(tanh), &mut rng);
        rng.fill_normal(&mut net.hidden1.bias);
        rng.fill_normal(&mut net.hidden2.bias);
        rng.fill_normal(&mut net.output.bias);
        check(&net, &RefNet::from_mlp2(&net), &mut rng);
    }
}

#[test]
fn wide_relu_and_tanh_layers() {
    // Widths past the kernel's 8 lanes with a ragged tail (IN = 19, H = 33).
    for tanh in [false, true] {
        let mut rng = Rng::new(11);
        let net: Mlp<19, 33, 10> = Mlp::new(activation(tanh), &mut rng);
        check(&net, &RefNet::from_mlp(&net), &mut rng);
    }
}

#[test]
fn batch_gradient_is_the_mean_of_sample_gradients() {
    let mut rng = Rng::new(5);
    let net: Mlp<3, 6, 2> = Mlp::new(Activation::Tanh, &mut rng);
    let xs: Vec<[f32; 3]> = (0..5).map(|_| sample(&mut rng)).collect();
    let ys = [0, 1, 1, 0, 1];
    let mut grad = Mlp::ZERO;
    let loss = vatic::supervised::cross_entropy_grad(&net, &xs, &ys, 2.0, &mut grad).unwrap();
    let reference = RefNet::from_mlp(&net);
    let mean_ce = |r: &RefNet| {
        xs.iter()
            .zip(&ys)
            .map(|(x, &y)| cross_entropy(&r.logits(&to64(x)), y))
            .sum::<f64>()
            / 5.0
    };
    assert!((loss as f64 - mean_ce(&reference)).abs() < 1e-6);
    let want: Vec<f64> = fd_params(&reference, H, mean_ce)
        .iter()
        .map(|g| 2.0 * g)
        .collect();
    assert_close("2 * d(mean CE)/dtheta", &flat(&grad), &want, ATOL, RTOL);
}

#[test]
fn init_is_n_0_1_over_fan_in_with_zero_bias() {
    let net: Mlp<256, 128, 10> = Mlp::new(Activation::Relu, &mut Rng::new(1));
    let w = net.hidden.weight.as_flattened();
    let n = w.len() as f64;
    let mean = w.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    assert!(mean.abs() < 0.01 / 16.0, "mean {mean}");
    assert!(
        (var * 256.0 - 1.0).abs() < 0.03,
        "var*fan_in {}",
        var * 256.0
    );
    let w2 = net.output.weight.as_flattened();
    let var2 = w2.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / w2.len() as f64;
    assert!(
        (var2 * 128.0 - 1.0).abs() < 0.15,
        "var2*fan_in {}",
        var2 * 128.0
    );
    assert!(net
        .hidden
        .bias
        .iter()
        .chain(&net.output.bias)
        .all(|&b| b == 0.0));
    // Same seed, same network, to the bit.
    let again: Mlp<256, 128, 10> = Mlp::new(Activation::Relu, &mut Rng::new(1));
    assert_eq!(net, again);
}
