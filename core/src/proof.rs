//! The no-panic proof (`VATIC_NO_PANIC=1 cargo test -p vatic --profile no-panic --lib`).
//!
//! Each function below instantiates a public numeric entry point at a fixed shape and carries
//! `#[no_panic]`: if the optimised build cannot prove that no panic is reachable from it, the
//! test binary fails to link and names the function. Together they cover the forward, backward
//! and tangent passes of both network types, the losses, the optimisers, the attacks, VAT (both
//! direction methods, gradient included), the semi-supervised step and the metrics, including
//! the argument validation of each (which returns `Err` instead of panicking).
#![cfg(all(test, assert_no_panic))]

use crate::adversarial::{adversarial_grad, AdversarialConfig};
use crate::attack::{fgsm, normalize, pgd, Norm, Pgd};
use crate::metrics::{lds_stats, minimal_epsilon_stats, robust_accuracy_sweep, Attack};
use crate::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use crate::semi::{semi_supervised_step, SemiConfig};
use crate::vat::{vat_grad, VatConfig};
use crate::{loss, supervised, Mlp, Mlp2, MlpTrace, Network, Parameters, Result, Rng};
use no_panic::no_panic;

type Net = Mlp<6, 10, 3>;
type Deep = Mlp2<6, 7, 5, 3>;

#[no_panic]
fn forward(net: &Net, x: &[f32; 6], t: &mut MlpTrace<6, 10>) -> [f32; 3] {
    net.forward(x, t)
}

#[no_panic]
fn backward(net: &Net, t: &MlpTrace<6, 10>, dz: &[f32; 3], g: &mut Net, dx: &mut [f32; 6]) {
    net.backward(t, dz, Some(g), Some(dx));
}

#[no_panic]
fn deep_passes(net: &Deep, x: &[f32; 6], g: &mut Deep, dx: &mut [f32; 6]) -> [f32; 3] {
    let mut t = Deep::EMPTY_TRACE;
    let z = net.forward(x, &mut t);
    net.backward(&t, &z, Some(g), Some(dx));
    net.jvp(&t, x)
}

#[no_panic]
fn tiled_blocks(
    net: &Mlp<20, 17, 9>,
    xs: &[[f32; 20]],
    ts: &mut [MlpTrace<20, 17>],
    zs: &mut [[f32; 9]],
    g: &mut Mlp<20, 17, 9>,
    dxs: &mut [[f32; 20]],
) {
    // Widths of at least one 8-lane chunk plus a tail, so the register tiles are covered.
    net.forward_block(xs, ts, zs);
    net.backward_block(ts, zs, Some(g), Some(dxs));
    net.jvp_block(ts, xs, zs);
    net.logits_block(xs, zs);
}

#[no_panic]
fn narrow_blocks(
    net: &Mlp<2, 13, 4>,
    xs: &[[f32; 2]],
    ts: &mut [MlpTrace<2, 13>],
    zs: &mut [[f32; 4]],
    g: &mut Mlp<2, 13, 4>,
) {
    // A layer narrower than a vector: the flat weight-gradient path.
    net.forward_block(xs, ts, zs);
    net.backward_block(ts, zs, Some(g), None);
}

#[no_panic]
fn losses(z: &[f32; 3], zq: &[f32; 3], y: usize) -> f32 {
    let ce = match loss::cross_entropy(z, y) {
        Ok((c, _)) => c,
        Err(_) => 0.0,
    };
    ce + loss::kl_divergence(z, zq).0 + loss::entropy(z).0
}

#[no_panic]
fn ce_grad(net: &Net, xs: &[[f32; 6]], ys: &[usize], g: &mut Net) -> Result<f32> {
    supervised::cross_entropy_grad(net, xs, ys, 1.0, g)
}

#[no_panic]
fn optimisers(net: &mut Net, g: &Net, sgd: &mut Sgd<Net>, adam: &mut Adam<Net>) {
    sgd.step(net, g);
    sgd.end_epoch();
    adam.step(net, g);
}

#[no_panic]
fn attacks(net: &Net, x: &[f32; 6], y: usize, eps: f32) -> Result<[f32; 6]> {
    let a = fgsm(net, x, y, eps, Norm::L2, None)?;
    pgd(net, &a, y, &Pgd::new(eps, 5, Norm::LInf))
}

#[no_panic]
fn normalise(d: &mut [f32]) {
    normalize(d)
}

#[no_panic]
fn adversarial(net: &Net, xs: &[[f32; 6]], ys: &[usize], g: &mut Net) -> Result<f32> {
    adversarial_grad(net, xs, ys, &AdversarialConfig::new(0.1), 1.0, g)
}

#[no_panic]
fn vat(net: &Net, xs: &[[f32; 6]], rng: &mut Rng, cfg: &VatConfig, g: &mut Net) -> Result<f32> {
    vat_grad(net, xs, rng, cfg, 1.0, g)
}

#[no_panic]
fn semi_step(
    net: &mut Net,
    opt: &mut Adam<Net>,
    g: &mut Net,
    xs: &[[f32; 6]],
    ys: &[usize],
    rng: &mut Rng,
) -> Result<f32> {
    let cfg = SemiConfig::vat_entmin(VatConfig::new(0.5));
    Ok(semi_supervised_step(net, opt, g, xs, ys, xs, rng, &cfg)?.total)
}

#[no_panic]
fn metrics(
    net: &Net,
    xs: &[[f32; 6]],
    ys: &[usize],
    out: &mut [f32],
    rng: &mut Rng,
) -> Result<f32> {
    let attack = Attack::Pgd {
        norm: Norm::LInf,
        iterations: 3,
    };
    robust_accuracy_sweep(net, xs, ys, attack, &[0.0, 0.1, 0.2], None, out)?;
    let m = minimal_epsilon_stats(net, xs, ys, attack, 1.0, 8, None)?;
    Ok(m.mean + lds_stats(net, xs, rng, &VatConfig::paper(0.5))?.max)
}

#[test]
fn proved_functions_run() {
    let mut rng = Rng::new(1);
    let mut net = Net::new(crate::Activation::Relu, &mut rng);
    let deep = Deep::new(crate::Activation::Tanh, &mut rng);
    let xs = [
        [0.1, -0.2, 0.3, 0.5, -1.0, 2.0],
        [1.0, 0.0, -0.5, 0.2, 0.2, 0.1],
    ];
    let ys = [0, 2];
    let mut g = Net::ZERO;
    let mut t = Net::EMPTY_TRACE;
    let z = forward(&net, &xs[0], &mut t);
    let mut dx = [0.0; 6];
    backward(&net, &t, &z, &mut g, &mut dx);
    let mut gd = Deep::ZERO;
    assert!(deep_passes(&deep, &xs[0], &mut gd, &mut dx)[0].is_finite());
    assert!(losses(&z, &[0.0; 3], 1).is_finite());
    assert!(ce_grad(&net, &xs, &ys, &mut g).is_ok());
    let mut sgd = Sgd::new(SgdConfig::VAT_SYNTHETIC);
    let mut adam = Adam::new(AdamConfig::DEFAULT);
    optimisers(&mut net, &g, &mut sgd, &mut adam);
    assert!(attacks(&net, &xs[0], 1, 0.1).is_ok());
    assert!(attacks(&net, &xs[0], 1, -0.1).is_err());
    let mut d = [3.0, 4.0];
    normalise(&mut d);
    assert!(adversarial(&net, &xs, &ys, &mut g).is_ok());
    assert!(vat(&net, &xs, &mut rng, &VatConfig::new(0.5), &mut g).is_ok());
    assert!(semi_step(&mut net, &mut adam, &mut g, &xs, &ys, &mut rng).is_ok());
    let mut out = [0.0; 3];
    assert!(metrics(&net, &xs, &ys, &mut out, &mut rng).is_ok());
    let wide: Mlp<20, 17, 9> = Mlp::new(crate::Activation::Relu, &mut rng);
    let wxs: [[f32; 20]; 11] = core::array::from_fn(|_| core::array::from_fn(|_| rng.normal()));
    let mut wts = [Mlp::<20, 17, 9>::EMPTY_TRACE; 11];
    let (mut wzs, mut wdx, mut wg) = ([[0.0; 9]; 11], [[0.0; 20]; 11], Mlp::ZERO);
    tiled_blocks(&wide, &wxs, &mut wts, &mut wzs, &mut wg, &mut wdx);
    assert!(wzs.iter().flatten().all(|z| z.is_finite()));
    let narrow: Mlp<2, 13, 4> = Mlp::new(crate::Activation::Tanh, &mut rng);
    let nxs: [[f32; 2]; 5] = core::array::from_fn(|_| [rng.normal(), rng.normal()]);
    let mut nts = [Mlp::<2, 13, 4>::EMPTY_TRACE; 5];
    let (mut nzs, mut ng) = ([[0.0; 4]; 5], Mlp::ZERO);
    narrow_blocks(&narrow, &nxs, &mut nts, &mut nzs, &mut ng);
    assert!(ng.tensors().flatten().all(|g| g.is_finite()));
}
