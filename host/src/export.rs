//! `vatic export-firmware`: what the firmware embeds — the model and a test subset as a blob in
//! the core's format (written by [`vatic::blob::write`]: version 2, any depth; magic `VATC`,
//! version, activation, depth, parameter and sample counts, the widths, parameters, samples,
//! CRC-32) — plus the host's own results for that model and subset as JSON, so the firmware's
//! output can be compared bit for bit (`f32` values are also given as their bits).

use crate::data::DataArgs;
use crate::data::Dataset;
use crate::models::Model;
use anyhow::{ensure, Context, Result};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use vatic::attack::{Attack, Norm};
use vatic::metrics;
use vatic::vat::VatConfig;
use vatic::Rng;

pub use vatic::blob::VERSION;

/// `vatic export-firmware`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The model (safetensors).
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of test samples to embed (the first ones of the test set).
    #[arg(long, default_value_t = 32, value_parser = crate::flags::at_least_one)]
    pub samples: usize,
    /// FGSM radius of the expected robust accuracies (L∞ and L2).
    #[arg(long, default_value_t = 0.1, value_parser = crate::flags::non_negative, allow_negative_numbers = true)]
    pub fgsm_eps: f32,
    /// VAT ε of the expected LDS (exact direction, K = 1, start directions from --seed).
    #[arg(long, default_value_t = 1.0, value_parser = crate::flags::non_negative, allow_negative_numbers = true)]
    pub lds_eps: f32,
    /// Where to write the blob.
    #[arg(long, default_value = "out/firmware.bin")]
    pub out: PathBuf,
    /// Where to write the host's expected results (default: the blob's path with .json).
    #[arg(long)]
    pub expected: Option<PathBuf>,
    /// Use --data/--seed/--test-size/--label-column/--unlabelled-pool even where they
    /// contradict the model's recorded data (another split: its test set may hold training
    /// samples).
    #[arg(long)]
    pub force: bool,
}

/// Encodes a model and samples as a blob with the core's writer.
///
/// # Errors
///
/// When the samples do not fit the model, or the blob format cannot hold it (more than 255
/// layers, a size beyond `u32`).
pub fn blob(model: &Model, samples: &Dataset) -> Result<Vec<u8>> {
    let w = model.widths();
    ensure!(
        samples.features == model.features(),
        "the samples have {} features but the model takes {}",
        samples.features,
        model.features()
    );
    ensure!(
        samples.y.iter().all(|&y| y < model.classes()),
        "a sample's label is not below the model's {} classes",
        model.classes()
    );
    let len = vatic::blob::checked_len(w, samples.len())
        .context("the blob of this model and these samples would not fit in memory")?;
    let mut buf = vec![0u8; len];
    let n = vatic::blob::write(model.net(), &samples.x, &samples.y, &mut buf).map_err(|e| {
        anyhow::anyhow!(
            "cannot write the {} network as a blob ({e}); the format holds up to 255 layers \
             and sizes below 2^32",
            model.shape_name()
        )
    })?;
    buf.truncate(n);
    Ok(buf)
}

/// The host's results on the embedded samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expected {
    /// Blob format version.
    pub format_version: u16,
    /// Network widths.
    pub widths: String,
    /// Hidden activation.
    pub activation: String,
    /// Number of samples.
    pub samples: usize,
    /// CRC-32 of the blob (its last four bytes).
    pub blob_crc32: u32,
    /// Logits of every sample.
    pub logits: Vec<Vec<f32>>,
    /// Their `f32` bits, for bit-exact comparison.
    pub logits_bits: Vec<Vec<u32>>,
    /// Predicted classes.
    pub predictions: Vec<usize>,
    /// Clean accuracy.
    pub accuracy: f32,
    /// FGSM radius.
    pub fgsm_eps: f32,
    /// Robust accuracy under L∞ FGSM at `fgsm_eps` (no clipping).
    pub fgsm_linf_accuracy: f32,
    /// Robust accuracy under L2 FGSM at `fgsm_eps`.
    pub fgsm_l2_accuracy: f32,
    /// VAT ε of the LDS.
    pub lds_eps: f32,
    /// Seed of the LDS start directions (`Rng::new(seed)`, one `fill_normal` per sample).
    pub lds_seed: u64,
    /// LDS per sample (exact direction, K = 1).
    pub lds: Vec<f32>,
    /// Their `f32` bits.
    pub lds_bits: Vec<u32>,
}

/// The blob and the expected results for `model` on `samples`.
///
/// # Errors
///
/// As [`blob`], and for invalid ε.
pub fn export(
    model: &Model,
    samples: &Dataset,
    fgsm_eps: f32,
    lds_eps: f32,
    seed: u64,
) -> Result<(Vec<u8>, Expected)> {
    let bytes = blob(model, samples)?;
    let net = model.net();
    let (xs, ys) = (&samples.x[..], &samples.y[..]);
    let mut ws = model.workspace();
    let classes = model.classes();
    let mut flat = vec![0.0; ys.len() * classes];
    vatic::pass::logits(net, xs, &mut flat, &mut ws)?;
    let logits: Vec<Vec<f32>> = flat.chunks_exact(classes).map(<[f32]>::to_vec).collect();
    let mut fgsm =
        |norm| metrics::robust_accuracy(net, xs, ys, &Attack::fgsm(norm), fgsm_eps, &mut ws);
    let (fgsm_linf_accuracy, fgsm_l2_accuracy) = (fgsm(Norm::LInf)?, fgsm(Norm::L2)?);
    let cfg = VatConfig::new(lds_eps);
    let mut rng = Rng::new(seed);
    let mut d0 = vec![0.0; model.features()];
    let lds = samples
        .x
        .chunks_exact(model.features())
        .map(|x| {
            rng.fill_normal(&mut d0);
            vatic::vat::lds(net, x, &d0, &cfg, &mut ws)
        })
        .collect::<vatic::Result<Vec<f32>>>()?;
    let expected = Expected {
        format_version: VERSION,
        widths: model.shape_name(),
        activation: model.activation().name().into(),
        samples: ys.len(),
        blob_crc32: vatic::blob::crc32(&bytes[..bytes.len() - 4]),
        logits_bits: logits
            .iter()
            .map(|l| l.iter().map(|v| v.to_bits()).collect())
            .collect(),
        predictions: logits.iter().map(|z| vatic::argmax(z)).collect(),
        logits,
        accuracy: vatic::supervised::accuracy(net, xs, ys, &mut ws)?,
        fgsm_eps,
        fgsm_linf_accuracy,
        fgsm_l2_accuracy,
        lds_eps,
        lds_seed: seed,
        lds_bits: lds.iter().map(|v| v.to_bits()).collect(),
        lds,
    };
    Ok((bytes, expected))
}

/// Runs `vatic export-firmware`.
///
/// # Errors
///
/// Unreadable model or data, a model that does not fit the data, unwritable output.
pub fn run(a: &ExportArgs) -> Result<()> {
    let json = a
        .expected
        .clone()
        .unwrap_or_else(|| a.out.with_extension("json"));
    let mut inputs = vec![("--model", a.model.as_path())];
    inputs.extend(a.data.input_files());
    crate::output::check(
        &inputs,
        &[
            crate::output::Output {
                flag: "--out",
                path: &a.out,
                creates_dir: true,
            },
            crate::output::Output {
                flag: if a.expected.is_some() {
                    "--expected"
                } else {
                    "--expected (by default --out with .json)"
                },
                path: &json,
                // The default is beside --out, whose directory is created.
                creates_dir: a.expected.is_none(),
            },
        ],
    )?;
    let loaded = crate::model_io::load(&a.model)?;
    let model = loaded.model;
    let data = a.data.for_model(&loaded.metadata, a.force, &a.model)?;
    let test = crate::data::load(&data)?.test;
    let n = a.samples.min(test.len());
    let samples = test.subset(&(0..n).collect::<Vec<_>>())?;
    let (bytes, expected) = export(&model, &samples, a.fgsm_eps, a.lds_eps, data.seed)?;
    if let Some(dir) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::output::write(&a.out, &bytes)?;
    crate::output::write(&json, serde_json::to_string_pretty(&expected)?.as_bytes())?;
    crate::outln!(
        "wrote {} ({} bytes: {} {} network, {n} samples, CRC-32 {:08x}) and {}; host accuracy \
         {:.2} %, FGSM eps {} L∞ {:.2} % L2 {:.2} %",
        a.out.display(),
        bytes.len(),
        expected.widths,
        expected.activation,
        expected.blob_crc32,
        json.display(),
        100.0 * expected.accuracy,
        a.fgsm_eps,
        100.0 * expected.fgsm_linf_accuracy,
        100.0 * expected.fgsm_l2_accuracy
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vatic::{blob, Activation, Network};

    /// `n` samples of `features` values and labels below `classes`.
    fn samples(features: usize, classes: usize, n: usize) -> Dataset {
        let x = (0..n * features)
            .map(|i| (i % 7) as f32 / 7.0 - 0.4)
            .collect();
        let y = (0..n).map(|i| (i * 5 + 1) % classes).collect();
        Dataset::new(features, classes, x, y).unwrap()
    }

    #[test]
    fn the_core_parses_what_the_host_exports_at_every_depth() {
        for (widths, act) in [
            (&[16, 8, 4][..], Activation::Tanh),
            (&[4, 16, 12, 3], Activation::Relu),
            (&[13, 40, 40, 20, 3], Activation::Tanh),
        ] {
            let m = Model::new(widths, act, 9).unwrap();
            let d = samples(widths[0], *widths.last().unwrap(), 5);
            let (b, e) = export(&m, &d, 0.1, 1.0, 1).unwrap();
            assert_eq!(b.len(), blob::len(widths, 5));
            let h = blob::parse_header(&b).unwrap();
            assert_eq!(h.version, 2);
            assert_eq!(h.depth(), widths.len() - 1);
            assert_eq!(h.widths().collect::<Vec<_>>(), widths);
            assert_eq!(h.activation, act);
            let mut net = Model::zeros(widths, Activation::Relu).unwrap().into_net();
            let parsed = blob::parse(&b, &mut net).unwrap();
            let (mut xs, mut ys) = (vec![0.0; d.x.len()], vec![0; 5]);
            assert_eq!(parsed.read_into(&mut xs, &mut ys), Ok(5));
            assert_eq!(&net, m.net());
            assert_eq!(net.activation(), act);
            assert_eq!((xs, ys), (d.x.clone(), d.y.clone()));
            // The expected results.
            assert_eq!(e.format_version, 2);
            assert_eq!(e.widths, m.shape_name());
            assert_eq!(e.blob_crc32, blob::crc32(&b[..b.len() - 4]));
            assert_eq!(e.logits.len(), 5);
            assert_eq!(e.logits_bits[0][0], e.logits[0][0].to_bits());
            assert_eq!(e.lds.len(), 5);
            assert!(e.lds.iter().all(|&v| v >= 0.0));
            // Any flipped byte is caught by the core.
            let mut bad = b.clone();
            bad[40] ^= 1;
            let mut scratch = Model::zeros(widths, act).unwrap().into_net();
            assert!(blob::parse(&bad, &mut scratch).is_err());
        }
    }

    #[test]
    fn rejects_mismatched_samples() {
        let m = Model::new(&[16, 8, 4], Activation::Relu, 2).unwrap();
        let d = Dataset::new(2, 2, vec![0.0; 4], vec![0, 1]).unwrap();
        assert!(blob(&m, &d).unwrap_err().to_string().contains("features"));
        let d = Dataset::new(16, 9, vec![0.0; 16], vec![8]).unwrap();
        assert!(blob(&m, &d).unwrap_err().to_string().contains("label"));
    }
}
