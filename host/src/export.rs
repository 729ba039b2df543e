//! `vatic export-firmware`: what the firmware embeds — the model and a test subset in the core's
//! blob format (version 1, see the core's `blob` module: magic `VATC`, version, shape, parameters,
//! samples, CRC-32) — plus the host's own results for that model and subset as JSON, so the
//! firmware's output can be compared bit for bit (`f32` values are also given as their bits).
//!
//! The writer here follows the documented byte layout independently of the core's writer (it
//! works for every supported shape without a per-shape buffer size); the tests parse its output
//! with the core's `vatic::blob` parser.

use crate::cli::DataArgs;
use crate::data::Dataset;
use crate::models::{format_widths, Model, NetFn};
use anyhow::{ensure, Context, Result};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use vatic::attack::{Clip, Norm};
use vatic::metrics::{self, Attack};
use vatic::vat::VatConfig;
use vatic::{Network, Rng};

/// The core's magic bytes, format version and checksum: the layout is written independently
/// here, the constants and the CRC are the core's.
pub use vatic::blob::{crc32, MAGIC, VERSION};

/// `vatic export-firmware`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The model (safetensors).
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of test samples to embed (the first ones of the test set).
    #[arg(long, default_value_t = 32)]
    pub samples: usize,
    /// FGSM radius of the expected robust accuracies (L∞ and L2).
    #[arg(long, default_value_t = 0.1)]
    pub fgsm_eps: f32,
    /// VAT ε of the expected LDS (exact direction, K = 1, start directions from --seed).
    #[arg(long, default_value_t = 1.0)]
    pub lds_eps: f32,
    /// Where to write the blob.
    #[arg(long, default_value = "out/firmware.bin")]
    pub out: PathBuf,
    /// Where to write the host's expected results (default: the blob's path with .json).
    #[arg(long)]
    pub expected: Option<PathBuf>,
}

/// Encodes a model and samples as a version-1 blob.
///
/// # Errors
///
/// When the samples do not fit the model, or the model has more than two hidden layers.
pub fn blob(model: &mut Model, samples: &Dataset) -> Result<Vec<u8>> {
    let w = model.widths();
    ensure!(
        samples.features == w[0],
        "the samples have {} features but the model takes {}",
        samples.features,
        w[0]
    );
    ensure!(
        samples.y.iter().all(|&y| y < w[w.len() - 1]),
        "a sample's label is not below the model's {} classes",
        w[w.len() - 1]
    );
    let (hidden_layers, hidden) = match w.len() {
        3 => (1u8, [w[1], 0]),
        4 => (2u8, [w[1], w[2]]),
        _ => anyhow::bail!("the blob format holds one or two hidden layers"),
    };
    let tensors = model.tensors();
    let count: usize = tensors.iter().map(Vec::len).sum();
    let u32_of = |v: usize| u32::try_from(v).context("a size does not fit in u32");
    let mut b = Vec::new();
    b.extend_from_slice(&MAGIC);
    b.extend_from_slice(&VERSION.to_le_bytes());
    b.push(hidden_layers);
    b.push(model.activation().code());
    for v in [
        w[0],
        hidden[0],
        hidden[1],
        w[w.len() - 1],
        count,
        samples.len(),
    ] {
        b.extend_from_slice(&u32_of(v)?.to_le_bytes());
    }
    for v in tensors.iter().flatten() {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for i in 0..samples.len() {
        for v in samples.row(i) {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&u32_of(samples.y[i])?.to_le_bytes());
    }
    let crc = crc32(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    Ok(b)
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

struct Compute<'a> {
    samples: &'a Dataset,
    fgsm_eps: f32,
    lds_eps: f32,
    seed: u64,
}

impl NetFn for Compute<'_> {
    type Output = Result<Expected>;

    fn call<N, const IN: usize, const OUT: usize>(self, net: &mut N) -> Result<Expected>
    where
        N: Network<IN, OUT> + Clone + Send + Sync + 'static,
    {
        let xs = self.samples.arrays::<IN>()?;
        let ys = &self.samples.y;
        let net = &*net;
        let logits: Vec<Vec<f32>> = xs.iter().map(|x| net.logits(x).to_vec()).collect();
        let clip: Option<Clip> = None;
        let fgsm = |norm| {
            metrics::robust_accuracy(net, &xs, ys, Attack::Fgsm { norm }, self.fgsm_eps, clip)
        };
        let cfg = VatConfig::new(self.lds_eps);
        let mut rng = Rng::new(self.seed);
        let lds = xs
            .iter()
            .map(|x| {
                let mut d0 = [0.0; IN];
                rng.fill_normal(&mut d0);
                vatic::vat::lds(net, x, &d0, &cfg)
            })
            .collect::<vatic::Result<Vec<f32>>>()?;
        Ok(Expected {
            format_version: VERSION,
            widths: String::new(),
            activation: String::new(),
            samples: xs.len(),
            blob_crc32: 0,
            logits_bits: logits
                .iter()
                .map(|l| l.iter().map(|v| v.to_bits()).collect())
                .collect(),
            predictions: xs.iter().map(|x| net.predict(x)).collect(),
            logits,
            accuracy: vatic::supervised::accuracy(net, &xs, ys)?,
            fgsm_eps: self.fgsm_eps,
            fgsm_linf_accuracy: fgsm(Norm::LInf)?,
            fgsm_l2_accuracy: fgsm(Norm::L2)?,
            lds_eps: self.lds_eps,
            lds_seed: self.seed,
            lds_bits: lds.iter().map(|v| v.to_bits()).collect(),
            lds,
        })
    }
}

/// The blob and the expected results for `model` on `samples`.
///
/// # Errors
///
/// As [`blob`], and for invalid ε.
pub fn export(
    model: &mut Model,
    samples: &Dataset,
    fgsm_eps: f32,
    lds_eps: f32,
    seed: u64,
) -> Result<(Vec<u8>, Expected)> {
    let bytes = blob(model, samples)?;
    let mut expected = model.visit(Compute {
        samples,
        fgsm_eps,
        lds_eps,
        seed,
    })?;
    expected.widths = format_widths(model.widths());
    expected.activation = model.activation().name().into();
    expected.blob_crc32 = crc32(&bytes[..bytes.len() - 4]);
    Ok((bytes, expected))
}

/// Runs `vatic export-firmware`.
///
/// # Errors
///
/// Unreadable model or data, a model that does not fit the data, unwritable output.
pub fn run(a: &ExportArgs) -> Result<()> {
    let mut model = crate::model_io::load(&a.model)?.model;
    let test = a.data.load()?.test;
    ensure!(a.samples > 0, "--samples must be at least 1");
    let n = a.samples.min(test.len());
    let samples = test.subset(&(0..n).collect::<Vec<_>>())?;
    let (bytes, expected) = export(&mut model, &samples, a.fgsm_eps, a.lds_eps, a.data.seed)?;
    if let Some(dir) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&a.out, &bytes).with_context(|| format!("cannot write {}", a.out.display()))?;
    let json = a
        .expected
        .clone()
        .unwrap_or_else(|| a.out.with_extension("json"));
    std::fs::write(&json, serde_json::to_string_pretty(&expected)?)
        .with_context(|| format!("cannot write {}", json.display()))?;
    println!(
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
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vatic::Activation;

    #[test]
    fn crc_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let mut h = flate2::Crc::new();
        h.update(b"vatic blob");
        assert_eq!(crc32(b"vatic blob"), h.sum());
    }

    #[test]
    fn layout_of_a_small_blob() {
        let mut m = Model::new(&[16, 8, 4], Activation::Tanh, 2).unwrap();
        let d = Dataset::new(
            16,
            4,
            (0..32).map(|i| i as f32 / 32.0).collect(),
            vec![1, 3],
        )
        .unwrap();
        let b = blob(&mut m, &d).unwrap();
        let params = 8 * 17 + 4 * 9;
        assert_eq!(b.len(), 32 + 4 * params + 2 * 4 * 17 + 4);
        assert_eq!(&b[..4], b"VATC");
        assert_eq!(u16::from_le_bytes([b[4], b[5]]), 1);
        assert_eq!((b[6], b[7]), (1, Activation::Tanh.code()));
        let u = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        assert_eq!(
            [u(8), u(12), u(16), u(20), u(24), u(28)],
            [16, 8, 0, 4, params as u32, 2]
        );
        assert_eq!(u(b.len() - 4), crc32(&b[..b.len() - 4]));
        let (_, e) = export(&mut m, &d, 0.1, 1.0, 1).unwrap();
        assert_eq!(e.logits_bits[0][0], e.logits[0][0].to_bits());
        assert_eq!(e.lds.len(), 2);
        assert!(e.lds.iter().all(|&v| v >= 0.0));
    }

    #[test]
    fn the_core_parses_what_the_host_writes() {
        use vatic::{Mlp, Mlp2};
        let d = Dataset::new(
            16,
            4,
            (0..48).map(|i| i as f32 / 7.0).collect(),
            vec![1, 3, 0],
        )
        .unwrap();
        let mut m = Model::new(&[16, 8, 4], Activation::Tanh, 9).unwrap();
        let b = blob(&mut m, &d).unwrap();
        let mut net = Mlp::<16, 8, 4>::ZERO;
        let samples: Vec<_> = vatic::blob::parse_mlp(&b, &mut net).unwrap().collect();
        assert_eq!(Model::Mlp_16_8_4(Box::new(net)), m);
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[2].1, 0);
        assert_eq!(&samples[1].0[..], d.row(1));
        // Any flipped byte is caught by the core.
        let mut bad = b.clone();
        bad[40] ^= 1;
        let mut scratch = Mlp::<16, 8, 4>::ZERO;
        assert!(vatic::blob::parse_mlp(&bad, &mut scratch).is_err());

        let d = Dataset::new(4, 3, vec![0.5; 8], vec![2, 1]).unwrap();
        let mut m = Model::new(&[4, 16, 12, 3], Activation::Relu, 3).unwrap();
        let b = blob(&mut m, &d).unwrap();
        let mut net = Mlp2::<4, 16, 12, 3>::ZERO;
        assert_eq!(vatic::blob::parse_mlp2(&b, &mut net).unwrap().len(), 2);
        assert_eq!(Model::Mlp2_4_16_12_3(Box::new(net)), m);
    }

    #[test]
    fn rejects_mismatched_samples() {
        let mut m = Model::new(&[16, 8, 4], Activation::Relu, 2).unwrap();
        let d = Dataset::new(2, 2, vec![0.0; 4], vec![0, 1]).unwrap();
        assert!(blob(&mut m, &d)
            .unwrap_err()
            .to_string()
            .contains("features"));
        let d = Dataset::new(16, 9, vec![0.0; 16], vec![8]).unwrap();
        assert!(blob(&mut m, &d).unwrap_err().to_string().contains("label"));
    }
}
