//! The RAM a network and its training state need is `size_of` of plain values, and the scratch
//! the batch functions need is a constant of the network type: check the documented formulas,
//! and print the figures the README quotes (`cargo test -p vatic --test memory -- --nocapture`).

use core::mem::size_of;
use vatic::optim::{Adam, Sgd};
use vatic::{Mlp, Mlp2, Mlp4, Network, Zeroed, BLOCK};

fn params<N: Zeroed>() -> usize {
    N::COUNT * 4
}

#[test]
fn sizes_are_the_parameters_plus_a_few_bytes() {
    type Net = Mlp<64, 32, 10>;
    assert_eq!(Net::COUNT, 32 * 65 + 10 * 33);
    // Parameters plus the one-byte activation, padded to f32 alignment.
    assert_eq!(size_of::<Net>(), params::<Net>() + 4);
    assert_eq!(size_of::<Net>(), 9_644);
    // Adam: two moment buffers of the network's type, the learning rate, the config, t and
    // the flag that tells a configured optimiser from `Adam::ZERO`.
    let adam = size_of::<Adam<Net>>();
    assert!(adam >= 2 * size_of::<Net>() && adam <= 2 * size_of::<Net>() + 48);
    assert_eq!(adam, 19_324);
    let sgd = size_of::<Sgd<Net>>();
    assert!(sgd >= size_of::<Net>() && sgd <= size_of::<Net>() + 32);
    assert_eq!(sgd, 9_672);
    // The workspace: per sample 2·(Σ H + max H + 1) + 3·(IN + OUT) f32s, for blocks of BLOCK.
    let per_sample = 2 * (32 + 32 + 1) + 3 * (64 + 10);
    assert_eq!(Net::ZERO.shape().per_sample(), per_sample);
    assert_eq!(Net::WORKSPACE, BLOCK * per_sample);
    assert_eq!(Net::WORKSPACE_ONE, per_sample);
    let workspace = Net::WORKSPACE * 4;
    assert_eq!(workspace, 11_264);
    // A static workspace is exactly that many bytes.
    assert_eq!(size_of::<[f32; Net::WORKSPACE]>(), workspace);
    type Deep = Mlp2<4, 16, 12, 3>;
    assert_eq!(size_of::<Deep>(), params::<Deep>() + 4);
    assert_eq!(Deep::WORKSPACE, BLOCK * (2 * (28 + 16 + 1) + 3 * (4 + 3)));
    type Deeper = Mlp4<4, 16, 12, 8, 5, 3>;
    assert_eq!(size_of::<Deeper>(), params::<Deeper>() + 4);
    assert_eq!(Deeper::COUNT, 16 * 5 + 12 * 17 + 8 * 13 + 5 * 9 + 3 * 6);
    assert_eq!(Deeper::WORKSPACE, BLOCK * (2 * (41 + 16 + 1) + 3 * (4 + 3)));

    let net = size_of::<Net>();
    println!("| value | bytes |");
    println!("|---|---|");
    println!("| `Mlp<64, 32, 10>` (the network, and also its gradient) | {net} |");
    println!("| `Adam<Mlp<64, 32, 10>>` | {adam} |");
    println!("| `Sgd<Mlp<64, 32, 10>>` | {sgd} |");
    println!(
        "| 64-32-10 network + gradient + Adam state (static RAM to train it) | **{}** |",
        2 * net + adam
    );
    println!(
        "| workspace `[f32; Mlp::<64, 32, 10>::WORKSPACE]` (blocks of {BLOCK}) | {workspace} |"
    );
    println!(
        "| workspace for one sample at a time (`WORKSPACE_ONE`) | {} |",
        Net::WORKSPACE_ONE * 4
    );
    assert_eq!(2 * net + adam, 38_612);
}
