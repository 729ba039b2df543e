//! The no-panic proof (`scripts/no-panic`).
//!
//! Each `proof_*` function below instantiates a public numeric entry point with run-time data.
//! `scripts/no-panic` builds this example in the `no-panic` profile (fat LTO, one codegen unit)
//! and walks the call graph of every `proof_*` function in the optimised machine code: the proof
//! fails, naming the function and the path, if any panic entry of `core` (bounds checks, slice
//! ranges, unwraps, division by zero, `panic!`) is reachable. `canary_*` functions panic on
//! purpose and must be found, so the check cannot pass vacuously. Together they cover the forward, backward and tangent passes
//! of the compile-time networks (one, two and three hidden layers) and of the run-time
//! [`Sequential`], the losses, the optimisers, the attacks (PGD also from random starts with
//! restarts), VAT (both direction methods,
//! gradient included), the semi-supervised step, the metrics and the blob reader and writer,
//! the certificates (IBP and CROWN bounds, the certified radius),
//! including the argument validation of each (which returns `Err` instead of panicking).

use vatic::adversarial::{adversarial_grad, AdversarialConfig};
use vatic::attack::{Attack, Clip, Method, Norm, Pgd, Start, Step};
use vatic::metrics::{lds_stats, minimal_epsilon_stats, robust_accuracy_sweep};
use vatic::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use vatic::semi::{semi_supervised_step, SemiConfig};
use vatic::vat::{vat_grad, VatConfig};
use vatic::vector::normalize;
use vatic::{blob, loss, pass, supervised, Mlp, Mlp2, Mlp3, Parameters, Result, Rng, Sequential};

type Net = Mlp<6, 10, 3>;
type Deep = Mlp2<6, 7, 5, 3>;
type Deeper = Mlp3<6, 1, 9, 4, 3>;
type Seq<'a> = Sequential<&'a [usize], &'a mut [f32]>;

#[inline(never)]
#[no_mangle]
pub fn proof_passes(
    net: &Net,
    xs: &[f32],
    t: &mut [f32],
    zs: &mut [f32],
    g: &mut Net,
    dx: &mut [f32],
    s: &mut [f32],
) {
    pass::forward(net, xs, t, zs);
    pass::backward(net, xs, t, zs, Some(g), Some(dx), s);
    pass::jvp(net, t, xs, zs, s);
}

#[inline(never)]
#[no_mangle]
pub fn proof_deep_passes(
    net: &Deep,
    xs: &[f32],
    t: &mut [f32],
    zs: &mut [f32],
    g: &mut Deep,
    dx: &mut [f32],
    s: &mut [f32],
) {
    pass::forward(net, xs, t, zs);
    pass::backward(net, xs, t, zs, Some(g), Some(dx), s);
    pass::jvp(net, t, xs, zs, s);
}

#[inline(never)]
#[no_mangle]
pub fn proof_deeper_ce(
    net: &Deeper,
    xs: &[f32],
    ys: &[usize],
    g: &mut Deeper,
    ws: &mut [f32],
) -> Result<f32> {
    supervised::cross_entropy_grad(net, xs, ys, 1.0, g, ws)
}

#[inline(never)]
#[no_mangle]
pub fn proof_sequential_passes(
    net: &Seq<'_>,
    xs: &[f32],
    t: &mut [f32],
    zs: &mut [f32],
    dx: &mut [f32],
    s: &mut [f32],
) {
    pass::forward(net, xs, t, zs);
    pass::backward(net, xs, t, zs, None, Some(dx), s);
    pass::jvp(net, t, xs, zs, s);
}

#[inline(never)]
#[no_mangle]
pub fn proof_tiled_blocks(
    net: &Mlp<20, 17, 9>,
    xs: &[f32],
    zs: &mut [f32],
    g: &mut Mlp<20, 17, 9>,
    ws: &mut [f32],
) -> Result<f32> {
    // Widths of at least one 8-lane chunk plus a tail, so the register tiles are covered.
    pass::logits(net, xs, zs, ws)?;
    vat_grad(net, xs, &mut Rng::new(1), &VatConfig::new(0.5), 1.0, g, ws)
}

#[inline(never)]
#[no_mangle]
pub fn proof_narrow_blocks(
    net: &Mlp<2, 13, 4>,
    xs: &[f32],
    ys: &[usize],
    g: &mut Mlp<2, 13, 4>,
    ws: &mut [f32],
) -> Result<f32> {
    // A layer narrower than a vector: the flat weight-gradient path.
    supervised::cross_entropy_grad(net, xs, ys, 1.0, g, ws)
}

#[inline(never)]
#[no_mangle]
pub fn proof_losses(z: &mut [f32], zq: &mut [f32], y: usize) -> f32 {
    let ce = loss::cross_entropy_grad(z, y).unwrap_or(0.0);
    ce + loss::kl_divergence_grad(z, zq) + loss::entropy_grad(z)
}

#[inline(never)]
#[no_mangle]
pub fn proof_optimisers(net: &mut Net, g: &Net, sgd: &mut Sgd<Net>, adam: &mut Adam<Net>) {
    sgd.step(net, g);
    sgd.end_epoch();
    adam.step(net, g);
}

#[inline(never)]
#[no_mangle]
pub fn proof_attacks(
    net: &Net,
    x: &[f32],
    y: usize,
    eps: f32,
    a: &mut [f32],
    b: &mut [f32],
    ws: &mut [f32],
) -> Result<()> {
    Attack::fgsm(Norm::L2).perturb(net, x, y, eps, a, ws)?;
    let pgd = Attack {
        clip: Some(Clip::UNIT),
        ..Attack::pgd(Norm::LInf, 5)
    };
    pgd.perturb(net, a, y, eps, b, ws)
}

/// Any attack chosen at run time (`main` runs PGD from random starts with restarts, in both
/// norms and step rules, kept in a box).
#[inline(never)]
#[no_mangle]
pub fn proof_random_pgd(
    net: &Deep,
    x: &[f32],
    y: usize,
    eps: f32,
    attack: &Attack,
    adv: &mut [f32],
    ws: &mut [f32],
) -> Result<()> {
    attack.perturb(net, x, y, eps, adv, ws)
}

#[inline(never)]
#[no_mangle]
pub fn proof_normalise(d: &mut [f32]) {
    normalize(d)
}

#[inline(never)]
#[no_mangle]
pub fn proof_adversarial(
    net: &Net,
    xs: &[f32],
    ys: &[usize],
    g: &mut Net,
    ws: &mut [f32],
) -> Result<f32> {
    adversarial_grad(net, xs, ys, &AdversarialConfig::new(0.1), 1.0, g, ws)
}

#[inline(never)]
#[no_mangle]
pub fn proof_vat(
    net: &Net,
    xs: &[f32],
    rng: &mut Rng,
    cfg: &VatConfig,
    g: &mut Net,
    ws: &mut [f32],
) -> Result<f32> {
    vat_grad(net, xs, rng, cfg, 1.0, g, ws)
}

#[inline(never)]
#[no_mangle]
pub fn proof_semi_step(
    net: &mut Net,
    opt: &mut Adam<Net>,
    g: &mut Net,
    ws: &mut [f32],
    xs: &[f32],
    ys: &[usize],
    rng: &mut Rng,
) -> Result<f32> {
    let cfg = SemiConfig::vat_entmin(VatConfig::new(0.5));
    Ok(semi_supervised_step(net, opt, g, ws, xs, ys, xs, rng, &cfg)?.total)
}

#[inline(never)]
#[no_mangle]
pub fn proof_metrics(
    net: &Net,
    xs: &[f32],
    ys: &[usize],
    out: &mut [f32],
    rng: &mut Rng,
    ws: &mut [f32],
) -> Result<f32> {
    let attack = Attack::pgd(Norm::LInf, 3);
    robust_accuracy_sweep(net, xs, ys, &attack, &[0.0, 0.1, 0.2], out, ws)?;
    let random = Attack {
        method: Method::Pgd(Pgd {
            start: Start::Uniform { seed: 7 },
            restarts: 2,
            ..Pgd::madry(3)
        }),
        ..Attack::pgd(Norm::L2, 3)
    };
    let m = minimal_epsilon_stats(net, xs, ys, &random, 1.0, 8, ws)?;
    Ok(m.mean + lds_stats(net, xs, rng, &VatConfig::paper(0.5), ws)?.max)
}

#[inline(never)]
#[no_mangle]
pub fn proof_blobs(
    net: &Net,
    xs: &[f32],
    ys: &[usize],
    buf: &mut [u8],
    into: &mut Net,
) -> Result<usize> {
    let n = blob::write(net, xs, ys, buf)?;
    Ok(blob::parse(buf.get(..n).unwrap_or_default(), into)?.len())
}

#[inline(never)]
#[no_mangle]
pub fn proof_certify(
    net: &Deep,
    seq: &Seq<'_>,
    x: &[f32],
    y: usize,
    ws: &mut [f64],
) -> Result<f32> {
    use vatic::certify::{certified_radius, Bound};
    let a = certified_radius(net, x, y, Norm::LInf, None, Bound::Crown, 1.0, 8, ws)?;
    let b = certified_radius(seq, x, y, Norm::L2, None, Bound::Crown, 1.0, 8, ws)?;
    Ok(a + b)
}

/// Indexes without a check: the proof must report it.
#[inline(never)]
#[no_mangle]
pub fn canary_indexing(v: &[f32], i: usize) -> f32 {
    v[i]
}

/// Unwraps a `None`: the proof must report it.
#[inline(never)]
#[no_mangle]
pub fn canary_unwrap(v: &[f32]) -> f32 {
    *v.first().unwrap()
}

fn main() {
    let mut rng = Rng::new(1);
    let mut net = Net::new(vatic::Activation::Relu, &mut rng);
    let xs = [
        0.1, -0.2, 0.3, 0.5, -1.0, 2.0, /* */ 1.0, 0.0, -0.5, 0.2, 0.2, 0.1,
    ];
    let ys = [0, 2];
    let mut ws = [0.0; Net::WORKSPACE];
    let (mut t, mut zs, mut dx, mut s) = ([0.0; 20], [0.0; 6], [0.0; 12], [0.0; 40]);
    let mut g = Net::ZERO;
    proof_passes(&net, &xs, &mut t, &mut zs, &mut g, &mut dx, &mut s);
    let deep = Deep::new(vatic::Activation::Tanh, &mut rng);
    let mut gd = Deep::ZERO;
    proof_deep_passes(&deep, &xs, &mut t, &mut zs, &mut gd, &mut dx, &mut s);
    assert!(zs.iter().all(|z| z.is_finite()));
    let deeper = Deeper::new(vatic::Activation::Tanh, &mut rng);
    let mut gdd = Deeper::ZERO;
    let mut wd = [0.0; Deeper::WORKSPACE];
    assert!(proof_deeper_ce(&deeper, &xs, &ys, &mut gdd, &mut wd).is_ok());
    let widths = [6usize, 4, 3];
    let mut params = [0.5f32; 4 * 7 + 3 * 5];
    let seq = Sequential::new(&widths[..], &mut params[..], vatic::Activation::Relu).unwrap();
    proof_sequential_passes(&seq, &xs, &mut t, &mut zs, &mut dx, &mut s);
    let (mut z, mut zq) = ([0.1, 0.2, 0.3], [0.0; 3]);
    assert!(proof_losses(&mut z, &mut zq, 1).is_finite());
    let mut sgd = Sgd::new(SgdConfig::VAT_SYNTHETIC).unwrap();
    let mut adam = Adam::new(AdamConfig::DEFAULT).unwrap();
    proof_optimisers(&mut net, &g, &mut sgd, &mut adam);
    let (mut a, mut b) = ([0.0; 6], [0.0; 6]);
    assert!(proof_attacks(&net, &xs[..6], 1, 0.1, &mut a, &mut b, &mut ws).is_ok());
    assert!(proof_attacks(&net, &xs[..6], 1, -0.1, &mut a, &mut b, &mut ws).is_err());
    let mut dws = [0.0; Deep::WORKSPACE];
    let random = |norm, step| Attack {
        method: Method::Pgd(Pgd {
            step,
            start: Start::Uniform { seed: 5 },
            restarts: 3,
            ..Pgd::madry(4)
        }),
        norm,
        clip: Some(Clip::UNIT),
    };
    for (norm, step) in [(Norm::LInf, Step::Madry), (Norm::L2, Step::Ratio(0.3))] {
        let attack = random(norm, step);
        assert!(proof_random_pgd(&deep, &xs[..6], 2, 0.2, &attack, &mut a, &mut dws).is_ok());
    }
    let bad = random(Norm::L2, Step::Ratio(f32::NAN));
    assert!(proof_random_pgd(&deep, &xs[..6], 2, 0.2, &bad, &mut a, &mut dws).is_err());
    let mut d = [3.0, 4.0];
    proof_normalise(&mut d);
    assert!(proof_adversarial(&net, &xs, &ys, &mut g, &mut ws).is_ok());
    assert!(proof_vat(&net, &xs, &mut rng, &VatConfig::new(0.5), &mut g, &mut ws).is_ok());
    assert!(proof_semi_step(&mut net, &mut adam, &mut g, &mut ws, &xs, &ys, &mut rng).is_ok());
    let mut out = [0.0; 3];
    assert!(proof_metrics(&net, &xs, &ys, &mut out, &mut rng, &mut ws).is_ok());
    let mut cws = [0.0f64; 160];
    assert!(cws.len() >= vatic::certify::workspace_len(&vatic::Network::shape(&deep)));
    assert!(proof_certify(&deep, &seq, &xs[..6], 0, &mut cws).is_ok());
    let wide: Mlp<20, 17, 9> = Mlp::new(vatic::Activation::Relu, &mut rng);
    let wxs: [f32; 20 * 11] = core::array::from_fn(|_| rng.normal());
    let (mut wzs, mut wg) = ([0.0; 9 * 11], Mlp::ZERO);
    let mut wws = [0.0; Mlp::<20, 17, 9>::WORKSPACE];
    assert!(proof_tiled_blocks(&wide, &wxs, &mut wzs, &mut wg, &mut wws).is_ok());
    let narrow: Mlp<2, 13, 4> = Mlp::new(vatic::Activation::Tanh, &mut rng);
    let nxs: [f32; 10] = core::array::from_fn(|_| rng.normal());
    let mut ng = Mlp::ZERO;
    let mut nws = [0.0; Mlp::<2, 13, 4>::WORKSPACE];
    assert!(proof_narrow_blocks(&narrow, &nxs, &[0, 1, 2, 3, 0], &mut ng, &mut nws).is_ok());
    assert!(ng.tensors().flatten().all(|g| g.is_finite()));
    let mut buf = [0u8; blob::len(&[6, 10, 3], 2)];
    let mut back = Net::ZERO;
    assert_eq!(proof_blobs(&net, &xs, &ys, &mut buf, &mut back), Ok(2));
    let v = std::hint::black_box([1.0f32]);
    assert_eq!(canary_indexing(&v, 0) + canary_unwrap(&v), 2.0);
    println!("no-panic: every proof_* function ran");
}
