//! A short, deterministic stand-in for the `host/fuzz` targets that runs on stable in
//! `cargo test`: every parser gets thousands of mutations of valid inputs and random bytes, and
//! must answer without panicking.
//!
//! The valid inputs here are also the fuzz targets' committed seed corpus,
//! `host/fuzz/corpus/<target>/seed-<i>`; after changing them, regenerate it with
//! `cargo test -p host --test fuzz_smoke -- --ignored write_seed_corpus`.

use std::path::PathBuf;

use vatic::{Activation, Error, Rng};
use vatic_host::fuzzing;
use vatic_host::models::Model;

const ROUNDS: usize = 3000;

/// A fuzz target's name and body.
type Target = (&'static str, fn(&[u8]));

/// The fuzz targets.
const TARGETS: [Target; 5] = [
    ("csv", fuzzing::csv),
    ("idx", fuzzing::idx),
    ("safetensors", fuzzing::safetensors),
    ("blob", fuzzing::blob),
    ("inspect_input", fuzzing::inspect_input),
];

/// Seeds longer than this stay out of the committed corpus (`scripts/fuzz-long` runs with
/// `-max_len` of at most this, and libFuzzer would truncate them).
const CORPUS_MAX_LEN: usize = 2048;

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

/// The valid inputs of one target.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    match target {
        "csv" => vec![
            b"a,b,label\n1,2,0\n3,4,1\n".to_vec(),
            b"0.5,1e3,-2,3\n1,1,1,0\n\n# c\n".to_vec(),
        ],
        "idx" => {
            let (img, lab) =
                vatic_host::data::mnist::encode(2, 2, &[0, 50, 100, 255, 1, 2, 3, 4], &[3, 7]);
            let mut joined = vec![img.len() as u8];
            joined.extend_from_slice(&img);
            joined.extend_from_slice(&lab);
            vec![joined, img, lab]
        }
        "safetensors" => {
            let a = Model::new(&[16, 8, 4], Activation::Tanh, 1).unwrap();
            let b = Model::new(&[4, 16, 12, 3], Activation::Relu, 2).unwrap();
            let c = Model::new(&[3, 5, 4, 4, 2], Activation::Tanh, 3).unwrap();
            vec![
                vatic_host::model_io::write(&a, &[]).unwrap(),
                vatic_host::model_io::write(&b, &[("k", "v".into())]).unwrap(),
                vatic_host::model_io::write(&c, &[]).unwrap(),
            ]
        }
        "blob" => {
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
            seeds
        }
        "inspect_input" => {
            vec![
                include_bytes!("../../tests/reference/fixtures/tanh_4_16_12_3_xi1e-3.input.json")
                    .to_vec(),
            ]
        }
        _ => unreachable!("no target {target}"),
    }
}

/// The seeds of one target that go into the committed corpus, with their file names.
fn corpus_seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    seeds(target)
        .into_iter()
        .filter(|s| s.len() <= CORPUS_MAX_LEN)
        .enumerate()
        .map(|(i, s)| (format!("seed-{i}"), s))
        .collect()
}

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

#[test]
fn csv_parser_survives_mutations() {
    run(&seeds("csv"), fuzzing::csv);
}

#[test]
fn idx_parser_survives_mutations() {
    run(&seeds("idx"), fuzzing::idx);
}

#[test]
fn safetensors_loader_survives_mutations() {
    run(&seeds("safetensors"), fuzzing::safetensors);
}

#[test]
fn blob_parser_survives_mutations() {
    run(&seeds("blob"), fuzzing::blob);
}

#[test]
fn inspect_input_parser_survives_mutations() {
    run(&seeds("inspect_input"), fuzzing::inspect_input);
}

#[test]
fn checksum_fix_up_keeps_valid_blobs_and_repairs_mutated_ones() {
    for seed in seeds("blob") {
        // The stored checksum of every valid blob (the firmware's version-1 blobs, written by
        // vatic 0.1, included) is the one the fix-up computes, where it writes it.
        assert_eq!(fuzzing::with_fixed_checksum(&seed).unwrap(), seed);
        let mut broken = seed.clone();
        *broken.last_mut().unwrap() ^= 1;
        assert_eq!(
            vatic::blob::parse_header(&broken).unwrap_err(),
            Error::ChecksumMismatch
        );
        assert_eq!(fuzzing::with_fixed_checksum(&broken).unwrap(), seed);
        // A flipped parameter bit is fixed up to a blob that parses.
        let mut flipped = seed.clone();
        let at = vatic::blob::parse_header(&seed).unwrap().len + 1;
        flipped[at] ^= 0x10;
        let fixed = fuzzing::with_fixed_checksum(&flipped).unwrap();
        assert_ne!(fixed, seed);
        assert!(vatic::blob::parse_header(&fixed).is_ok());
    }
    assert_eq!(fuzzing::with_fixed_checksum(b"VAT"), None);
    assert_eq!(fuzzing::with_fixed_checksum(b""), None);
}

/// Whether a header check got past the checksum (to the activation, widths and parameter
/// count, the only checks after it).
fn past_checksum(bytes: &[u8]) -> bool {
    matches!(
        vatic::blob::parse_header(bytes),
        Ok(_) | Err(Error::InvalidModel)
    )
}

#[test]
fn checksum_fix_up_takes_mutations_past_the_checksum() {
    let seeds = seeds("blob");
    let mut rng = Rng::new(7);
    let (mut raw, mut fixed, mut parsed) = (0, 0, 0);
    for i in 0..ROUNDS {
        let m = fuzzing::mutate(&seeds[i % seeds.len()], &mut rng);
        raw += usize::from(past_checksum(&m));
        if let Some(f) = fuzzing::with_fixed_checksum(&m) {
            fixed += usize::from(past_checksum(&f));
            if let Ok(h) = vatic::blob::parse_header(&f) {
                let widths: Vec<usize> = h.widths().collect();
                let mut net = vatic_host::models::Net::new(
                    widths,
                    vec![0.0; h.params as usize],
                    Activation::Relu,
                )
                .unwrap();
                parsed += usize::from(vatic::blob::parse(&f, &mut net).is_ok());
            }
        }
    }
    eprintln!(
        "of {ROUNDS} mutations: {raw} past the raw checksum, {fixed} past the fixed one, \
         {parsed} parse"
    );
    // The mutations that keep the length (a blob's length must match its header) reach the
    // checks after the checksum once it is fixed; without the fix-up next to none do.
    assert!(
        raw * 100 <= ROUNDS,
        "{raw} of {ROUNDS} past the raw checksum"
    );
    assert!(
        fixed * 100 >= 10 * ROUNDS,
        "{fixed} of {ROUNDS} past the fixed checksum"
    );
    assert!(fixed >= 20 * raw.max(1), "raw {raw}, fixed {fixed}");
    // And many of them parse completely: parameters and samples are checked too.
    assert!(parsed * 100 >= 5 * ROUNDS, "{parsed} of {ROUNDS} parse");
}

#[test]
fn committed_corpus_is_current_and_survives() {
    for (target, body) in TARGETS {
        let dir = corpus_dir(target);
        for (name, seed) in corpus_seeds(target) {
            let on_disk = std::fs::read(dir.join(&name)).unwrap_or_default();
            assert!(
                on_disk == seed,
                "{}/{name} is not the current seed: regenerate the corpus with \
                 `cargo test -p host --test fuzz_smoke -- --ignored write_seed_corpus`",
                dir.display()
            );
        }
        // Every file of the corpus (fuzz-found inputs too) passes its target.
        for entry in std::fs::read_dir(&dir).unwrap() {
            body(&std::fs::read(entry.unwrap().path()).unwrap());
        }
    }
}

/// Writes the committed seed corpus (run on purpose, `--ignored`): every seed of at most
/// [`CORPUS_MAX_LEN`] bytes as `host/fuzz/corpus/<target>/seed-<i>`. Other files in the
/// corpus directories are left alone.
#[test]
#[ignore = "writes host/fuzz/corpus; run to regenerate it"]
fn write_seed_corpus() {
    for (target, _) in TARGETS {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, seed) in corpus_seeds(target) {
            std::fs::write(dir.join(name), seed).unwrap();
        }
    }
}
