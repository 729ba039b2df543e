//! The block passes (which stream each weight row once per block of samples) must give exactly
//! the bits of the per-sample passes, for every batch length (tails of the register tiles and
//! of the blocks included) and every workspace size, so that blocking never changes a result;
//! and a run-time `Sequential` must give exactly the bits of the compile-time `Net` with the
//! same parameters, pass by pass and through the batch functions.
//!
//! A proptest over random depths (1–5 hidden layers), widths (1–20), activations and data
//! checks `Sequential` against the f64 reference (`common::RefNet`), blocks against single
//! samples, and the VAT properties `LDS ≥ 0`, `‖r_vadv‖ = ε`.

mod common;

use common::*;
use proptest::prelude::*;
use vatic::adversarial::{adversarial_grad, AdversarialConfig};
use vatic::attack::Norm;
use vatic::semi::{semi_supervised_grad_with_directions, SemiConfig};
use vatic::vat::{self, Direction, VatConfig};
use vatic::{
    loss, pass, supervised, Activation, Dense, Hidden, Mlp, Mlp2, Mlp3, Mlp4, Net, Network,
    Parameters, Rng, BLOCK,
};

fn normals(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.normal()).collect()
}

/// The per-sample passes of a batch: logits, `J v`, `dx` and the accumulated gradient.
struct Passes<N> {
    zs: Vec<f32>,
    jvs: Vec<f32>,
    dxs: Vec<f32>,
    grad: N,
}

/// Runs forward, jvp and backward on `xs` in blocks of `b` samples (`b = 1`: one at a time),
/// with buffers of exactly the sizes `pass::trace_len` / `pass::scratch_len` give.
fn passes<N: Network + Clone>(net: &N, xs: &[f32], vs: &[f32], dzs: &[f32], b: usize) -> Passes<N> {
    let s = net.shape();
    let n = xs.len() / s.inputs;
    let mut out = Passes {
        zs: vec![f32::NAN; n * s.outputs],
        jvs: vec![f32::NAN; n * s.outputs],
        dxs: vec![f32::NAN; n * s.inputs],
        grad: net.clone(),
    };
    out.grad.zero();
    let (bi, bo) = (b * s.inputs, b * s.outputs);
    let chunks = xs
        .chunks(bi)
        .zip(vs.chunks(bi))
        .zip(dzs.chunks(bo))
        .zip(out.zs.chunks_mut(bo))
        .zip(out.jvs.chunks_mut(bo))
        .zip(out.dxs.chunks_mut(bi));
    for (((((x, v), dz), z), jv), dx) in chunks {
        let m = x.len() / s.inputs;
        let mut trace = vec![f32::NAN; pass::trace_len(&s, m)];
        let mut scratch = vec![f32::NAN; pass::scratch_len(&s, m)];
        pass::forward(net, x, &mut trace, z);
        pass::jvp(net, &trace, v, jv, &mut scratch);
        pass::backward(
            net,
            x,
            &trace,
            dz,
            Some(&mut out.grad),
            Some(dx),
            &mut scratch,
        );
    }
    out
}

fn assert_same<N: Parameters>(a: &Passes<N>, b: &Passes<N>, what: &str) {
    assert_eq!(bits(&a.zs), bits(&b.zs), "logits, {what}");
    assert_eq!(bits(&a.jvs), bits(&b.jvs), "J v, {what}");
    assert_eq!(bits(&a.dxs), bits(&b.dxs), "dx, {what}");
    assert_eq!(bits(&flat(&a.grad)), bits(&flat(&b.grad)), "grad, {what}");
}

/// Workspace lengths: 1, 2, 3, `BLOCK` and 17 samples per block, one holding the whole batch,
/// and one that is not a whole number of samples.
fn ws_lens<N: Network + ?Sized>(net: &N) -> Vec<usize> {
    let s = net.shape();
    let mut v: Vec<usize> = [1, 2, 3, BLOCK, 17, 64]
        .iter()
        .map(|&b| s.workspace_len(b))
        .collect();
    v.push(s.workspace_len(3) + s.per_sample() - 1);
    v
}

/// Blocks against single samples, for the passes and the batch functions.
fn check_blocks<N: Network + Clone>(net: &N, seed: u64) {
    let mut rng = Rng::new(seed);
    let s = net.shape();
    let (i, o) = (s.inputs, s.outputs);
    for len in [1, 3, 4, 5, 8, 9, 13, 17] {
        let xs = normals(&mut rng, len * i);
        let vs = normals(&mut rng, len * i);
        let dzs = normals(&mut rng, len * o);
        let ys: Vec<usize> = (0..len).map(|k| (k * 7 + 1) % o).collect();

        let one = passes(net, &xs, &vs, &dzs, 1);
        for b in [2, 3, 4, BLOCK, 9, len] {
            assert_same(
                &one,
                &passes(net, &xs, &vs, &dzs, b),
                &format!("batch {len}, block {b}"),
            );
        }

        let mut reference_grad = None;
        let mut reference_vat = [None, None];
        for wl in ws_lens(net) {
            let what = format!("batch {len}, workspace {wl}");
            let mut ws = vec![f32::NAN; wl];
            let mut zs = vec![f32::NAN; len * o];
            pass::logits(net, &xs, &mut zs, &mut ws).unwrap();
            assert_eq!(bits(&zs), bits(&one.zs), "pass::logits, {what}");
            for (k, x) in xs.chunks(i).enumerate() {
                let want = vatic::argmax(&one.zs[k * o..(k + 1) * o]);
                assert_eq!(pass::predict(net, x, &mut ws), Ok(want), "predict, {what}");
            }

            // Cross-entropy: the loss is the per-sample CEs summed in order, the gradient the
            // same for every workspace.
            let mut grad = net.clone();
            grad.zero();
            let l = supervised::cross_entropy_grad(net, &xs, &ys, 0.5, &mut grad, &mut ws).unwrap();
            let per: f32 = one
                .zs
                .chunks(o)
                .zip(&ys)
                .map(|(z, &y)| loss::cross_entropy(z, y).unwrap())
                .fold(0.0, |a, b| a + b)
                / len as f32;
            assert_eq!(l.to_bits(), per.to_bits(), "CE, {what}");
            let l2 = supervised::cross_entropy_loss(net, &xs, &ys, &mut ws).unwrap();
            assert_eq!(l2.to_bits(), per.to_bits(), "CE loss, {what}");
            let g = bits(&flat(&grad));
            assert_eq!(
                reference_grad.get_or_insert(g.clone()),
                &g,
                "CE grad, {what}"
            );

            // VAT over a batch equals the per-sample LDS, summed in order, and its gradient
            // does not depend on the workspace.
            for (di, direction) in [Direction::Exact, Direction::FiniteDifference]
                .into_iter()
                .enumerate()
            {
                let cfg = VatConfig {
                    eps: 0.7,
                    xi: 1e-3,
                    iterations: 2,
                    direction,
                };
                let per: f32 = xs
                    .chunks(i)
                    .zip(vs.chunks(i))
                    .map(|(x, d)| vat::lds(net, x, d, &cfg, &mut ws).unwrap())
                    .fold(0.0, |a, b| a + b)
                    / len as f32;
                let mut g = net.clone();
                g.zero();
                let batch =
                    vat::vat_grad_with_directions(net, &xs, &vs, &cfg, 1.0, &mut g, &mut ws)
                        .unwrap();
                assert_eq!(per.to_bits(), batch.to_bits(), "{direction:?} LDS, {what}");
                let gb = bits(&flat(&g));
                let want = reference_vat[di].get_or_insert(gb.clone());
                assert_eq!(want, &gb, "{direction:?} VAT grad, {what}");

                // lds_at at the per-sample r_vadv is the last step of VAT: the same LDS and
                // the same gradient.
                let mut rs = vec![f32::NAN; len * i];
                for ((x, d), r) in xs.chunks(i).zip(vs.chunks(i)).zip(rs.chunks_mut(i)) {
                    vat::virtual_adversarial(net, x, d, &cfg, r, &mut ws).unwrap();
                }
                let mut g_at = net.clone();
                g_at.zero();
                let at = vat::lds_at(net, &xs, &rs, 1.0, &mut g_at, &mut ws).unwrap();
                assert_eq!(
                    at.to_bits(),
                    batch.to_bits(),
                    "{direction:?} lds_at, {what}"
                );
                assert_eq!(bits(&flat(&g_at)), gb, "{direction:?} lds_at grad, {what}");
            }
        }
    }
}

/// The same bits from the `Sequential` with the same parameters as the compile-time `net`.
fn check_sequential<N: Network + Clone>(net: &N, seed: u64) {
    let seq = sequential(net);
    assert_eq!(seq.shape(), net.shape());
    assert_eq!(seq.count(), net.count());
    let mut rng = Rng::new(seed);
    let s = net.shape();
    let (i, o) = (s.inputs, s.outputs);
    for len in [1, 5, 8, 13] {
        let xs = normals(&mut rng, len * i);
        let vs = normals(&mut rng, len * i);
        let dzs = normals(&mut rng, len * o);
        let ys: Vec<usize> = (0..len).map(|k| (k * 5 + 2) % o).collect();
        let what = format!("batch {len}");
        for b in [1, BLOCK, len] {
            let a = passes(net, &xs, &vs, &dzs, b);
            let q = passes(&seq, &xs, &vs, &dzs, b);
            assert_eq!(bits(&a.zs), bits(&q.zs), "logits, {what}");
            assert_eq!(bits(&a.jvs), bits(&q.jvs), "J v, {what}");
            assert_eq!(bits(&a.dxs), bits(&q.dxs), "dx, {what}");
            assert_eq!(bits(&flat(&a.grad)), bits(&flat(&q.grad)), "grad, {what}");
        }

        // The batch functions with the same workspace length (so the same blocks, which
        // matters for adversarial training and VAT+EntMin).
        for wl in [s.workspace_len(BLOCK), s.workspace_len(3)] {
            let what = format!("batch {len}, workspace {wl}");
            let (mut wn, mut wq) = (vec![0.0; wl], vec![0.0; wl]);
            let (mut gn, mut gq) = (net.clone(), zero_like(&seq));
            gn.zero();
            let ln = supervised::cross_entropy_grad(net, &xs, &ys, 0.3, &mut gn, &mut wn).unwrap();
            let lq = supervised::cross_entropy_grad(&seq, &xs, &ys, 0.3, &mut gq, &mut wq).unwrap();
            assert_eq!(ln.to_bits(), lq.to_bits(), "CE, {what}");
            assert_eq!(bits(&flat(&gn)), bits(&flat(&gq)), "CE grad, {what}");

            for cfg in [
                VatConfig::new(0.8),
                VatConfig {
                    xi: 1e-2,
                    ..VatConfig::paper(0.8)
                },
            ] {
                // Gaussian starts drawn by the function itself, from the same seed.
                let ln = vat::vat_grad(net, &xs, &mut Rng::new(3), &cfg, 0.7, &mut gn, &mut wn);
                let lq = vat::vat_grad(&seq, &xs, &mut Rng::new(3), &cfg, 0.7, &mut gq, &mut wq);
                assert_eq!(ln.unwrap().to_bits(), lq.unwrap().to_bits(), "VAT, {what}");
                assert_eq!(bits(&flat(&gn)), bits(&flat(&gq)), "VAT grad, {what}");
            }

            for norm in [Norm::LInf, Norm::L2] {
                let cfg = AdversarialConfig {
                    alpha: 0.3,
                    norm,
                    ..AdversarialConfig::new(0.2)
                };
                let ln = adversarial_grad(net, &xs, &ys, &cfg, 0.9, &mut gn, &mut wn).unwrap();
                let lq = adversarial_grad(&seq, &xs, &ys, &cfg, 0.9, &mut gq, &mut wq).unwrap();
                assert_eq!(ln.to_bits(), lq.to_bits(), "adversarial, {what}");
                assert_eq!(
                    bits(&flat(&gn)),
                    bits(&flat(&gq)),
                    "adversarial grad, {what}"
                );
            }

            let cfg = SemiConfig::vat_entmin(VatConfig::new(0.5));
            let (xl, yl) = (&xs[..i], &ys[..1]);
            let ln =
                semi_supervised_grad_with_directions(net, xl, yl, &xs, &vs, &cfg, &mut gn, &mut wn)
                    .unwrap();
            let lq = semi_supervised_grad_with_directions(
                &seq, xl, yl, &xs, &vs, &cfg, &mut gq, &mut wq,
            )
            .unwrap();
            assert_eq!(ln.total.to_bits(), lq.total.to_bits(), "VAT+EntMin, {what}");
            assert_eq!(
                bits(&flat(&gn)),
                bits(&flat(&gq)),
                "VAT+EntMin grad, {what}"
            );
        }
    }
}

/// Both checks, after giving `net` `N(0, 1)` biases (`Net::new` leaves them zero, which would
/// hide a bias handled differently in blocks).
fn check<N: Network + Clone>(net: &N, seed: u64) {
    let mut net = net.clone();
    random_biases(&mut net, &mut Rng::new(seed + 2000));
    check_blocks(&net, seed);
    check_sequential(&net, seed + 1000);
}

#[test]
fn no_hidden_layer_blocks_equal_samples() {
    let net: Net<Dense<7, 3>> = Net::new(Activation::Relu, &mut Rng::new(17));
    check(&net, 18);
    let net: Net<Dense<19, 10>> = Net::new(Activation::Tanh, &mut Rng::new(19));
    check(&net, 20);
}

#[test]
fn one_hidden_layer_blocks_equal_samples() {
    for act in [Activation::Relu, Activation::Tanh] {
        let net: Mlp<13, 21, 5> = Mlp::new(act, &mut Rng::new(1));
        check(&net, 2);
    }
}

#[test]
fn two_hidden_layers_blocks_equal_samples() {
    for act in [Activation::Relu, Activation::Tanh] {
        let net: Mlp2<9, 12, 10, 3> = Mlp2::new(act, &mut Rng::new(3));
        check(&net, 4);
    }
}

#[test]
fn three_to_five_hidden_layers_blocks_equal_samples() {
    for act in [Activation::Relu, Activation::Tanh] {
        let net: Mlp3<6, 17, 1, 13, 4> = Mlp3::new(act, &mut Rng::new(21));
        check(&net, 22);
        let net: Mlp4<11, 3, 24, 9, 17, 2> = Mlp4::new(act, &mut Rng::new(23));
        check(&net, 24);
        type Deep = Net<
            Hidden<5, 8, Hidden<8, 13, Hidden<13, 1, Hidden<1, 20, Hidden<20, 3, Dense<3, 6>>>>>>,
        >;
        let net = Deep::new(act, &mut Rng::new(25));
        check(&net, 26);
    }
}

#[test]
fn register_tile_edges_equal_samples() {
    // Widths around the kernels' tiles: below one 8-lane chunk, one chunk plus a tail, several
    // chunks; output counts below and above the row-tile threshold of the input gradient.
    let net: Mlp<37, 50, 11> = Mlp::new(Activation::Relu, &mut Rng::new(5));
    check(&net, 6);
    let net: Mlp<3, 9, 2> = Mlp::new(Activation::Tanh, &mut Rng::new(7));
    check(&net, 8);
    let net: Mlp2<64, 16, 8, 7> = Mlp2::new(Activation::Relu, &mut Rng::new(9));
    check(&net, 10);
    // Layers narrower than a vector (IN = 1, 2, 4) take the flat weight-gradient path,
    // with and without a tail past the last whole vector.
    let net: Mlp<2, 13, 4> = Mlp::new(Activation::Relu, &mut Rng::new(11));
    check(&net, 12);
    let net: Mlp<1, 8, 2> = Mlp::new(Activation::Tanh, &mut Rng::new(13));
    check(&net, 14);
    let net: Mlp2<4, 6, 4, 3> = Mlp2::new(Activation::Relu, &mut Rng::new(15));
    check(&net, 16);
}

/// Tolerances of the proptest against the f64 reference, for `N(0, 1)` data and weights
/// `N(0, 1/fan_in)`, biases `N(0, 1)`: logits `1e-5 (1 + |z|)`, backward `2e-5 + 1e-4 |g|`
/// with `|g|` the largest entry (`f32` rounding of sums of ≤ 21 terms per layer over ≤ 6
/// layers). Measured over 2 000 random nets of this kind: logits within `5.6e-7 (1 + |z|)`,
/// `dx`, `J v` and the parameter gradient within 2.4 %, 1.2 % and 0.5 % of their bound.
const LOGIT_TOL: f64 = 1e-5;
const GRAD_ATOL: f64 = 2e-5;
const GRAD_RTOL: f64 = 1e-4;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_sequential_nets(
        seed in any::<u64>(), tanh in any::<bool>(),
        widths in prop::collection::vec(1usize..=20, 3..=7),
        len in 1usize..20, block in 1usize..10,
        eps in 0.01f32..3.0, k in 0u32..3, fd in any::<bool>(),
    ) {
        let mut rng = Rng::new(seed);
        let net = random_sequential(&widths, activation(tanh), &mut rng);
        let s = net.shape();
        let (i, o) = (s.inputs, s.outputs);
        let xs = normals(&mut rng, len * i);
        let vs = normals(&mut rng, len * i);
        let dzs = normals(&mut rng, len * o);

        // Blocks of `block` samples against one sample at a time, to the bit.
        let one = passes(&net, &xs, &vs, &dzs, 1);
        let blocked = passes(&net, &xs, &vs, &dzs, block);
        prop_assert_eq!(bits(&one.zs), bits(&blocked.zs));
        prop_assert_eq!(bits(&one.jvs), bits(&blocked.jvs));
        prop_assert_eq!(bits(&one.dxs), bits(&blocked.dxs));
        prop_assert_eq!(bits(&flat(&one.grad)), bits(&flat(&blocked.grad)));
        let mut ws = vec![0.0; s.workspace_len(block)];
        let mut zs = vec![0.0; len * o];
        pass::logits(&net, &xs, &mut zs, &mut ws).unwrap();
        prop_assert_eq!(bits(&zs), bits(&one.zs));

        // Forward, backward (parameters and input) and J v against the f64 reference.
        let r = RefNet::of(&net);
        let mut g64 = vec![0.0; net.count()];
        for (k, ((x, v), dz)) in xs.chunks(i).zip(vs.chunks(i)).zip(dzs.chunks(o)).enumerate() {
            let x64 = to64(x);
            let z64 = r.logits(&x64);
            for (a, b) in one.zs[k * o..(k + 1) * o].iter().zip(&z64) {
                prop_assert!((*a as f64 - b).abs() <= LOGIT_TOL * (1.0 + b.abs()), "logit {a} vs {b}");
            }
            let (g, dx) = r.backward(&x64, &to64(dz));
            for (a, b) in g64.iter_mut().zip(&g) {
                *a += b;
            }
            let (d, scale) = max_abs_diff(&to64(&one.dxs[k * i..(k + 1) * i]), &dx);
            prop_assert!(d <= GRAD_ATOL + GRAD_RTOL * scale, "dx: {d:e} of {scale:e}");
            let jv = r.jvp(&x64, &to64(v));
            let (d, scale) = max_abs_diff(&to64(&one.jvs[k * o..(k + 1) * o]), &jv);
            prop_assert!(d <= GRAD_ATOL + GRAD_RTOL * scale, "J v: {d:e} of {scale:e}");
        }
        let (d, scale) = max_abs_diff(&to64(&flat(&one.grad)), &g64);
        prop_assert!(d <= GRAD_ATOL + GRAD_RTOL * scale, "grad: {d:e} of {scale:e}");

        // VAT: ‖r_vadv‖ = ε and LDS ≥ 0, per sample; the batch LDS is their mean.
        let direction = if fd { Direction::FiniteDifference } else { Direction::Exact };
        let cfg = VatConfig { eps, xi: 1e-2, iterations: k, direction };
        let mut r_vadv = vec![0.0; i];
        let mut sum = 0.0f32;
        for (x, d0) in xs.chunks(i).zip(vs.chunks(i)) {
            let lds = vat::virtual_adversarial(&net, x, d0, &cfg, &mut r_vadv, &mut ws).unwrap();
            prop_assert!(lds >= 0.0 && lds.is_finite(), "LDS {lds}");
            let n = r_vadv.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
            // normalize divides by 1e-12 + max|d| and then by √(1e-6 + ‖d′‖²) with ‖d′‖ ≥ 1:
            // the norm is ε within 5e-7 relative, plus f32 rounding, unless the power
            // iteration's H d is itself below ~1e-7 (a dead ReLU net has H = 0, so r = 0,
            // as in the authors' code): the norm is asserted where the f64 H is not tiny.
            let hmax = vat_hessian(&r, &to64(x))
                .iter()
                .flatten()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            // The finite difference sees the gradient at x + ξ d, not the Hessian at x: where
            // that step kills a ReLU bottleneck (a width-1 layer, say) its H d is exactly 0 and
            // so is r, as in the authors' code; otherwise its norm is ε too.
            let fd_vanished = fd && n == 0.0;
            if (k == 0 || hmax > 1e-4) && !fd_vanished {
                prop_assert!(
                    (n - eps as f64).abs() <= 1e-5 * eps as f64,
                    "‖r_vadv‖ = {n}, ε = {eps}, K = {k}, max |H| = {hmax:e}"
                );
            }
            sum += lds;
        }
        let mut g = zero_like(&net);
        let mean = vat::vat_grad_with_directions(&net, &xs, &vs, &cfg, 1.0, &mut g, &mut ws).unwrap();
        prop_assert_eq!(mean.to_bits(), (sum / len as f32).to_bits());
    }
}
