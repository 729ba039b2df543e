//! The block passes (which stream each weight row once per block of samples) must give exactly
//! the bits of the per-sample passes, for every batch length (tails of the 4-sample register
//! blocks and of the 8-sample blocks included), so that blocking never changes a result.

use vatic::vat::{self, Direction, VatConfig};
use vatic::{Activation, Mlp, Mlp2, Network, Parameters, Rng};

fn bits<const K: usize>(v: &[[f32; K]]) -> Vec<u32> {
    v.iter().flatten().map(|x| x.to_bits()).collect()
}

fn param_bits<N: Parameters>(n: &N) -> Vec<u32> {
    n.tensors().flatten().map(|x| x.to_bits()).collect()
}

fn check<N: Network<IN, OUT> + Clone, const IN: usize, const OUT: usize>(net: &N, seed: u64) {
    let mut rng = Rng::new(seed);
    for len in [1, 3, 4, 5, 8, 9, 13, 17] {
        let xs: Vec<[f32; IN]> = (0..len)
            .map(|_| core::array::from_fn(|_| rng.normal()))
            .collect();
        let vs: Vec<[f32; IN]> = (0..len)
            .map(|_| core::array::from_fn(|_| rng.normal()))
            .collect();
        let dzs: Vec<[f32; OUT]> = (0..len)
            .map(|_| core::array::from_fn(|_| rng.normal()))
            .collect();

        // Per sample.
        let mut traces: Vec<N::Trace> = (0..len).map(|_| N::EMPTY_TRACE).collect();
        let zs: Vec<[f32; OUT]> = xs
            .iter()
            .zip(&mut traces)
            .map(|(x, t)| net.forward(x, t))
            .collect();
        let jvs: Vec<[f32; OUT]> = traces.iter().zip(&vs).map(|(t, v)| net.jvp(t, v)).collect();
        let mut grad = N::ZERO;
        let mut dxs = vec![[0.0; IN]; len];
        for ((t, dz), dx) in traces.iter().zip(&dzs).zip(&mut dxs) {
            net.backward(t, dz, Some(&mut grad), Some(dx));
        }

        // Block.
        let mut btraces: Vec<N::Trace> = (0..len).map(|_| N::EMPTY_TRACE).collect();
        let mut bzs = vec![[0.0; OUT]; len];
        net.forward_block(&xs, &mut btraces, &mut bzs);
        let mut bjvs = vec![[0.0; OUT]; len];
        net.jvp_block(&btraces, &vs, &mut bjvs);
        let mut bgrad = N::ZERO;
        let mut bdxs = vec![[0.0; IN]; len];
        net.backward_block(&btraces, &dzs, Some(&mut bgrad), Some(&mut bdxs));

        assert_eq!(bits(&zs), bits(&bzs), "logits, batch {len}");
        let mut lzs = vec![[0.0; OUT]; len];
        net.logits_block(&xs, &mut lzs);
        assert_eq!(bits(&zs), bits(&lzs), "logits_block, batch {len}");
        assert_eq!(bits(&jvs), bits(&bjvs), "J v, batch {len}");
        assert_eq!(bits(&dxs), bits(&bdxs), "dx, batch {len}");
        assert_eq!(param_bits(&grad), param_bits(&bgrad), "grad, batch {len}");

        // VAT over a batch equals the per-sample LDS, summed in order.
        for direction in [Direction::Exact, Direction::FiniteDifference] {
            let cfg = VatConfig {
                eps: 0.7,
                xi: 1e-3,
                iterations: 2,
                direction,
            };
            let per: f32 = xs
                .iter()
                .zip(&vs)
                .map(|(x, d)| vat::lds(net, x, d, &cfg).unwrap())
                .fold(0.0, |a, b| a + b)
                / len as f32;
            let mut g = N::ZERO;
            let batch = vat::vat_grad_with_directions(net, &xs, &vs, &cfg, 1.0, &mut g).unwrap();
            assert_eq!(
                per.to_bits(),
                batch.to_bits(),
                "{direction:?} LDS, batch {len}"
            );
        }
    }
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
