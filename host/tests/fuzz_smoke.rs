//! A short, deterministic stand-in for the `host/fuzz` targets that runs on stable in
//! `cargo test`: every parser gets thousands of mutations of valid inputs and random bytes, and
//! must answer without panicking.

use vatic::{Activation, Rng};
use vatic_host::fuzzing;
use vatic_host::models::Model;

const ROUNDS: usize = 3000;

fn run(seed_inputs: &[Vec<u8>], target: fn(&[u8])) {
    let mut rng = Rng::new(12345);
    for input in seed_inputs {
        target(input);
    }
    for i in 0..ROUNDS {
        let base = &seed_inputs[i % seed_inputs.len()];
        target(&fuzzing::mutate(base, &mut rng));
        let random: Vec<u8> = (0..rng.below(64)).map(|_| rng.next_u32() as u8).collect();
        target(&random);
    }
}

#[test]
fn csv_parser_survives_mutations() {
    run(
        &[
            b"a,b,label\n1,2,0\n3,4,1\n".to_vec(),
            b"0.5,1e3,-2,3\n1,1,1,0\n\n# c\n".to_vec(),
        ],
        fuzzing::csv,
    );
}

#[test]
fn idx_parser_survives_mutations() {
    let (img, lab) = vatic_host::data::mnist::encode(2, 2, &[0, 50, 100, 255, 1, 2, 3, 4], &[3, 7]);
    let mut joined = vec![img.len() as u8];
    joined.extend_from_slice(&img);
    joined.extend_from_slice(&lab);
    run(&[joined, img, lab], fuzzing::idx);
}

#[test]
fn safetensors_loader_survives_mutations() {
    let a = Model::new(&[16, 8, 4], Activation::Tanh, 1).unwrap();
    let b = Model::new(&[4, 16, 12, 3], Activation::Relu, 2).unwrap();
    let c = Model::new(&[3, 5, 4, 4, 2], Activation::Tanh, 3).unwrap();
    let seeds = vec![
        vatic_host::model_io::write(&a, &[]).unwrap(),
        vatic_host::model_io::write(&b, &[("k", "v".into())]).unwrap(),
        vatic_host::model_io::write(&c, &[]).unwrap(),
    ];
    run(&seeds, fuzzing::safetensors);
}

#[test]
fn blob_parser_survives_mutations() {
    // The firmware's version-1 blobs and version-2 blobs of 1, 2 and 3 hidden layers.
    let mut seeds = vec![
        include_bytes!("../../firmware/lib/blobs/m4f.vatc").to_vec(),
        include_bytes!("../../firmware/lib/blobs/m0.vatc").to_vec(),
    ];
    for (i, w) in [&[4, 6, 3][..], &[4, 5, 6, 3], &[4, 3, 5, 4, 3]]
        .iter()
        .enumerate()
    {
        let m = Model::new(w, Activation::Tanh, i as u64).unwrap();
        let d = vatic_host::data::Dataset::new(4, 3, vec![0.25; 8], vec![2, 0]).unwrap();
        seeds.push(vatic_host::export::blob(&m, &d).unwrap());
    }
    run(&seeds, fuzzing::blob);
}

#[test]
fn inspect_input_parser_survives_mutations() {
    let seeds =
        vec![
            include_bytes!("../../tests/reference/fixtures/tanh_4_16_12_3_xi1e-3.input.json")
                .to_vec(),
        ];
    run(&seeds, fuzzing::inspect_input);
}
