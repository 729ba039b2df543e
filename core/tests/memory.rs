//! The RAM a network and its training state need is `size_of` of plain values: check the
//! documented formula, and print the figures the README quotes
//! (`cargo test -p vatic --test memory -- --nocapture`).

use core::mem::size_of;
use vatic::optim::{Adam, Sgd};
use vatic::{Mlp, Mlp2, MlpTrace, Parameters};

fn params<N: Parameters>() -> usize {
    N::COUNT * 4
}

#[test]
fn sizes_are_the_parameters_plus_a_few_bytes() {
    type Net = Mlp<64, 32, 10>;
    assert_eq!(Net::COUNT, 32 * 65 + 10 * 33);
    // Parameters plus the one-byte activation, padded to f32 alignment.
    assert_eq!(size_of::<Net>(), params::<Net>() + 4);
    // Adam: two moment buffers of the network's type, the learning rate, the config, t.
    let adam = size_of::<Adam<Net>>();
    assert!(adam >= 2 * size_of::<Net>() && adam <= 2 * size_of::<Net>() + 48);
    let sgd = size_of::<Sgd<Net>>();
    assert!(sgd >= size_of::<Net>() && sgd <= size_of::<Net>() + 32);
    assert_eq!(size_of::<MlpTrace<64, 32>>(), 4 * (64 + 32));
    type Deep = Mlp2<4, 16, 12, 3>;
    assert_eq!(size_of::<Deep>(), params::<Deep>() + 4);

    let net = size_of::<Net>();
    println!("64-32-10: network {net} B, gradient {net} B, Adam state {adam} B, SGD state {sgd} B");
    println!(
        "64-32-10 trained with Adam (network + gradient + Adam): {} B",
        2 * net + adam
    );
}
