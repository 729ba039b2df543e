//! Backprop and forward-mode passes (`vatic::pass`) against central finite differences of the
//! independent f64 network (`common::RefNet`), for every parameter tensor and the input, ReLU
//! and tanh, from no hidden layer to five, compile-time nets and `Sequential`s.
//!
//! Tolerances: the crate computes in f32, so its gradients carry relative rounding of a few
//! `f32::EPSILON` times the number of accumulated terms (≤ 64 here): `|err| ≤ 2e-5 + 1e-4 |g|`
//! (measured: at most 0.01 of that bound, see the printed `worst` ratios with `--nocapture`).
//! The f64 central difference with `h = 1e-6` has truncation error `O(h²) ≈ 1e-12` and rounding
//! `O(1e-16 / h) ≈ 1e-10`, negligible against that. ReLU kinks are crossed with probability
//! `~h` per unit; the fixed-seed tests assert every pre-activation is ≥ 1e-4 from 0, the
//! proptests rely on that probability (a hit would fail loudly, not pass silently).
//!
//! The f64 reference's own analytic backprop and `J v` (used by the proptest in `blocks.rs`)
//! are checked here against the same finite differences, with a tolerance of `1e-7`.

mod common;

use common::*;
use proptest::prelude::*;
use vatic::{loss, pass, Activation, Dense, Hidden, Mlp, Mlp2, Mlp3, Mlp4, Net, Network, Rng};

const H: f64 = 1e-6;
const ATOL: f64 = 2e-5;
const RTOL: f64 = 1e-4;
/// Analytic f64 against f64 central differences: truncation + cancellation ≲ 1e-9.
const REF_TOL: f64 = 1e-7;

fn sample(rng: &mut Rng, d: usize) -> Vec<f32> {
    (0..d).map(|_| rng.normal()).collect()
}

/// Checks ∂CE/∂θ, ∂CE/∂x and J v of `net` at a random sample against f64 finite differences.
/// With `kinks`, asserts first that the sample is away from every ReLU kink. Returns the
/// largest error as a fraction of its bound.
fn check<N: Network + Clone>(label: &str, net: &N, rng: &mut Rng, kinks: bool) -> f64 {
    let reference = RefNet::of(net);
    let s = net.shape();
    let (inputs, outputs) = (s.inputs, s.outputs);
    let x = sample(rng, inputs);
    let v = sample(rng, inputs);
    let y = (rng.next_u32() as usize) % outputs;
    let x64 = to64(&x);
    if kinks {
        assert_away_from_kinks(label, &reference, std::slice::from_ref(&x64), 1e-4);
    }

    let mut trace = vec![0.0; pass::trace_len(&s, 1)];
    let mut scratch = vec![0.0; pass::scratch_len(&s, 1)];
    let mut z = vec![0.0; outputs];
    pass::forward(net, &x, &mut trace, &mut z);
    let mut worst = assert_close(
        &format!("{label} logits"),
        &z,
        &reference.logits(&x64),
        1e-5,
        1e-5,
    );

    let mut dz = z.clone();
    loss::cross_entropy_grad(&mut dz, y).unwrap();
    let mut grad = net.clone();
    grad.zero();
    let mut dx = vec![f32::NAN; inputs];
    pass::backward(
        net,
        &x,
        &trace,
        &dz,
        Some(&mut grad),
        Some(&mut dx),
        &mut scratch,
    );

    let want = fd_param_grad(&reference, H, |r| cross_entropy(&r.logits(&x64), y));
    let got = flat(&grad);
    if kinks {
        // Not degenerate: every tensor gets a gradient (no dead ReLU layer hides the layers
        // below it from the check).
        for (t, g) in grad.tensors().enumerate() {
            assert!(
                g.iter().any(|&v| v != 0.0),
                "{label}: tensor {t} has a zero gradient"
            );
        }
    }
    worst = worst.max(assert_close(
        &format!("{label} dCE/dtheta"),
        &got,
        &want,
        ATOL,
        RTOL,
    ));

    let want_dx = fd_input_grad(&x64, H, |x| cross_entropy(&reference.logits(x), y));
    worst = worst.max(assert_close(
        &format!("{label} dCE/dx"),
        &dx,
        &want_dx,
        ATOL,
        RTOL,
    ));

    // J v: directional derivative of the logits.
    let v64 = to64(&v);
    let want_jv = fd_directional(&x64, &v64, H, |x| reference.logits(x));
    let mut jv = vec![f32::NAN; outputs];
    pass::jvp(net, &trace, &v, &mut jv, &mut scratch);
    worst = worst.max(assert_close(
        &format!("{label} J v"),
        &jv,
        &want_jv,
        ATOL,
        RTOL,
    ));

    // The reference's analytic passes agree with the same differences (they back the
    // proptest of `blocks.rs`).
    let dz64 = cross_entropy_dz(&reference.logits(&x64), y);
    let (g64, dx64) = reference.backward(&x64, &dz64);
    for (what, a, b) in [
        ("ref dtheta", &g64, &want),
        ("ref dx", &dx64, &want_dx),
        ("ref J v", &reference.jvp(&x64, &v64), &want_jv),
    ] {
        let (d, scale) = max_abs_diff(a, b);
        assert!(d <= REF_TOL * (1.0 + scale), "{label} {what}: {d:e}");
    }

    // Backward accumulates: a second call doubles the parameter gradient exactly.
    pass::backward(net, &x, &trace, &dz, Some(&mut grad), None, &mut scratch);
    for (a, b) in flat(&grad).iter().zip(&got) {
        assert_eq!(*a, 2.0 * b);
    }
    worst
}

/// [`check`] on a compile-time network with non-zero biases and on the `Sequential` with the
/// same parameters, for both activations.
fn check_both<N: Network + Clone>(label: &str, mut net: N, seed: u64) {
    for act in [Activation::Relu, Activation::Tanh] {
        let mut rng = Rng::new(seed);
        net.set_activation(act);
        net.init(&mut rng);
        random_biases(&mut net, &mut rng);
        let w = check(
            &format!("{label} {act:?}"),
            &net,
            &mut Rng::new(seed + 1),
            true,
        );
        let seq = sequential(&net);
        let ws = check(
            &format!("{label} {act:?} seq"),
            &seq,
            &mut Rng::new(seed + 1),
            true,
        );
        println!("{label} {act:?}: worst error / bound {w:.3} (Net), {ws:.3} (Sequential)");
        // The same parameters give the same bits, so the same errors.
        assert_eq!(
            w.to_bits(),
            ws.to_bits(),
            "{label} {act:?}: Net and Sequential differ"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn one_hidden_layer(seed in any::<u64>(), tanh in any::<bool>()) {
        let mut rng = Rng::new(seed);
        let mut net: Mlp<5, 9, 4> = Mlp::new(activation(tanh), &mut rng);
        // Non-zero biases, so their gradients and their effect on the forward pass are checked.
        rng.fill_normal(&mut net.layers.dense.bias);
        rng.fill_normal(&mut net.layers.next.bias);
        check("mlp", &net, &mut rng, false);
    }

    #[test]
    fn two_hidden_layers(seed in any::<u64>(), tanh in any::<bool>()) {
        let mut rng = Rng::new(seed);
        let mut net: Mlp2<4, 7, 6, 3> = Mlp2::new(activation(tanh), &mut rng);
        rng.fill_normal(&mut net.layers.dense.bias);
        rng.fill_normal(&mut net.layers.next.dense.bias);
        rng.fill_normal(&mut net.layers.next.next.bias);
        check("mlp2", &net, &mut rng, false);
    }

    #[test]
    fn sequential_of_random_depth_and_widths(
        seed in any::<u64>(), tanh in any::<bool>(),
        widths in prop::collection::vec(1usize..=20, 3..=7),
    ) {
        // 1 to 5 hidden layers of widths 1–20, any input width and 1–20 classes.
        let mut rng = Rng::new(seed);
        let net = random_sequential(&widths, activation(tanh), &mut rng);
        check(&format!("{widths:?}"), &net, &mut rng, false);
    }
}

#[test]
fn wide_relu_and_tanh_layers() {
    // Widths past the kernel's 8 lanes with a ragged tail (IN = 19, H = 33).
    for tanh in [false, true] {
        let mut rng = Rng::new(11);
        let net: Mlp<19, 33, 10> = Mlp::new(activation(tanh), &mut rng);
        check("19-33-10", &net, &mut rng, false);
    }
}

#[test]
fn no_hidden_layer() {
    // A linear softmax model: depth 1, no trace, no scratch.
    check_both("5-3", Net::<Dense<5, 3>>::ZERO, 60);
    check_both("1-2", Net::<Dense<1, 2>>::ZERO, 62);
    check_both("17-13", Net::<Dense<17, 13>>::ZERO, 64);
}

#[test]
fn one_to_four_hidden_layers_with_odd_widths() {
    // Hidden widths 1, 3, 13, 17: below a vector, a vector plus a tail, never a multiple of 8.
    // Seeds are picked so that no width-1 ReLU layer is dead at the sample (`check` asserts
    // that every tensor gets a gradient, so a dead layer cannot hide the layers below it).
    check_both("5-13-4", Mlp::<5, 13, 4>::ZERO, 70);
    check_both("3-1-2", Mlp::<3, 1, 2>::ZERO, 72);
    check_both("13-17-3-5", Mlp2::<13, 17, 3, 5>::ZERO, 74);
    check_both("4-3-1-3", Mlp2::<4, 3, 1, 3>::ZERO, 172);
    check_both("6-13-17-3-4", Mlp3::<6, 13, 17, 3, 4>::ZERO, 78);
    check_both("2-3-13-1-3", Mlp3::<2, 3, 13, 1, 3>::ZERO, 184);
    check_both("7-17-13-3-1-3", Mlp4::<7, 17, 13, 3, 1, 3>::ZERO, 72);
    check_both("9-1-3-13-17-5", Mlp4::<9, 1, 3, 13, 17, 5>::ZERO, 172);
    check_both(
        "3-8-17-3-13-9",
        Net::<Hidden<3, 8, Hidden<8, 17, Hidden<17, 3, Hidden<3, 13, Dense<13, 9>>>>>>::ZERO,
        72,
    );
}

#[test]
fn five_hidden_layers() {
    type Deep =
        Net<Hidden<4, 13, Hidden<13, 3, Hidden<3, 17, Hidden<17, 1, Hidden<1, 3, Dense<3, 4>>>>>>>;
    check_both("4-13-3-17-1-3-4", Deep::ZERO, 184);
}

#[test]
fn batch_gradient_is_the_mean_of_sample_gradients() {
    let mut rng = Rng::new(5);
    let net: Mlp<3, 6, 2> = Mlp::new(Activation::Tanh, &mut rng);
    let xs = sample(&mut rng, 5 * 3);
    let ys = [0, 1, 1, 0, 1];
    let mut grad = Mlp::ZERO;
    let loss = vatic::supervised::cross_entropy_grad(&net, &xs, &ys, 2.0, &mut grad, &mut ws(&net))
        .unwrap();
    let reference = RefNet::of(&net);
    let x64 = rows64(&xs, 3);
    let mean_ce = |r: &RefNet| {
        x64.iter()
            .zip(&ys)
            .map(|(x, &y)| cross_entropy(&r.logits(x), y))
            .sum::<f64>()
            / 5.0
    };
    assert!((loss as f64 - mean_ce(&reference)).abs() < 1e-6);
    let want: Vec<f64> = fd_param_grad(&reference, H, mean_ce)
        .iter()
        .map(|g| 2.0 * g)
        .collect();
    assert_close("2 * d(mean CE)/dtheta", &flat(&grad), &want, ATOL, RTOL);
}

#[test]
fn init_is_n_0_1_over_fan_in_with_zero_bias() {
    let net: Mlp<256, 128, 10> = Mlp::new(Activation::Relu, &mut Rng::new(1));
    let w = net.layers.dense.weight.as_flattened();
    let n = w.len() as f64;
    let mean = w.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    assert!(mean.abs() < 0.01 / 16.0, "mean {mean}");
    assert!(
        (var * 256.0 - 1.0).abs() < 0.03,
        "var*fan_in {}",
        var * 256.0
    );
    let w2 = net.layers.next.weight.as_flattened();
    let var2 = w2.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / w2.len() as f64;
    assert!(
        (var2 * 128.0 - 1.0).abs() < 0.15,
        "var2*fan_in {}",
        var2 * 128.0
    );
    assert!(net
        .layers
        .dense
        .bias
        .iter()
        .chain(&net.layers.next.bias)
        .all(|&b| b == 0.0));
    // Same seed, same network, to the bit.
    let again: Mlp<256, 128, 10> = Mlp::new(Activation::Relu, &mut Rng::new(1));
    assert_eq!(net, again);
    // A Sequential of the same widths draws the same parameters from the same seed.
    let mut seq = zero_sequential(&[256, 128, 10], Activation::Relu);
    seq.init(&mut Rng::new(1));
    assert_eq!(bits(seq.params()), bits(&flat(&net)));
}
