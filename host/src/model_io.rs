//! Model files: [safetensors](https://huggingface.co/docs/safetensors) with the tensor names of a
//! PyTorch `nn.Sequential` of `Linear` layers, of any depth, so
//! `safetensors.torch.save_file(model.state_dict(), path, metadata={"activation": "relu"})`
//! loads directly.
//!
//! * Tensors `K.weight` (shape `[out, in]`) and `K.bias` (`[out]`), `F32`, for each `Linear` at
//!   index `K` of the `Sequential`. The indices only need to increase (PyTorch leaves gaps for the
//!   activation and dropout modules: `0`, `2`, `4`, `6`, …); vatic writes `0`, `2`, `4`, ….
//! * Metadata `"activation"`: `"relu"` or `"tanh"` (applied after every hidden layer). vatic also
//!   writes `"format": "pt"` (as `safetensors.torch` does) and `"vatic.widths"`; other metadata is
//!   kept by [`read`] for the caller.
//!
//! Loading checks the names (each layer's weight and bias exactly once; a name given twice, or
//! two names for the same tensor such as `2.weight` and `02.weight`, are refused), dtypes,
//! shapes (each weight `[out, in]` with its bias `[out]`, and consecutive layers must chain:
//! a layer's `in` is the previous layer's `out`) and that every value is finite, and explains
//! what is wrong. The widths are then whatever the file holds: any number of layers, any sizes.
//!
//! A firmware blob (`vatic export-firmware`, [`vatic::blob`]) is read back by [`read_blob`]: its
//! network and the samples embedded with it, so the host can evaluate exactly what a device
//! holds. [`load_any`] tells the two formats apart by the blob's magic bytes.

use crate::data::Dataset;
use crate::models::{format_widths, Model};
use anyhow::{bail, ensure, Context, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use vatic::{Activation, Network};

/// The metadata key of the hidden activation.
pub const ACTIVATION_KEY: &str = "activation";

/// A model read from a file, with the file's metadata.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The network.
    pub model: Model,
    /// Every metadata entry of the file.
    pub metadata: HashMap<String, String>,
}

/// The top-level keys of a safetensors header, in file order (`None` when the header is not
/// a JSON object; [`SafeTensors::deserialize`] explains that).
fn header_keys(bytes: &[u8]) -> Option<Vec<String>> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(k) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                keys.push(k);
            }
            Ok(keys)
        }
    }
    let n = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
    let header = bytes.get(8..8usize.checked_add(n)?)?;
    serde_json::Deserializer::from_slice(header)
        .deserialize_map(Keys)
        .ok()
}

/// `"12"` as 12: ASCII digits only (no sign, no spaces); `None` otherwise or on overflow.
fn layer_index(s: &str) -> Option<usize> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// One `Linear` of the file: its weight and bias, with the names they came under.
#[derive(Default)]
struct Layer<'a> {
    weight: Option<(String, TensorView<'a>)>,
    bias: Option<(String, TensorView<'a>)>,
}

/// Parses a safetensors model from memory.
///
/// # Errors
///
/// Explains the first problem: not safetensors (or truncated), missing or unknown
/// `activation`, unexpected tensor names, a name given twice or two names for one tensor, a
/// layer without weight or bias, a dtype other than F32, shapes that are not `[out, in]` /
/// `[out]` or do not chain, a zero width, or a NaN/∞ value.
pub fn read(bytes: &[u8]) -> Result<Loaded> {
    if let Some(keys) = header_keys(bytes) {
        let mut seen = std::collections::HashSet::new();
        if let Some(k) = keys.iter().find(|k| !seen.insert(k.as_str())) {
            bail!("the file's header names {k:?} more than once; every tensor needs its own name");
        }
    }
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| anyhow::anyhow!("not a valid safetensors file ({e:?})"))?;
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| anyhow::anyhow!("not a valid safetensors file ({e:?})"))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let Some(act_name) = metadata.get(ACTIVATION_KEY) else {
        bail!(
            "the file has no \"{ACTIVATION_KEY}\" metadata; save it with \
             save_file(model.state_dict(), path, metadata={{\"activation\": \"relu\"}}) \
             (or \"tanh\")"
        );
    };
    let Some(activation) = Activation::from_name(act_name) else {
        bail!(
            "unknown activation {act_name:?} in the metadata; vatic supports \"relu\" and \"tanh\""
        );
    };

    // Group the tensors by their Sequential index (in name order, so errors are reproducible).
    let mut tensors = st.tensors();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut layers: BTreeMap<usize, Layer<'_>> = BTreeMap::new();
    for (name, view) in tensors {
        let parsed = name
            .split_once('.')
            .and_then(|(i, kind)| Some((layer_index(i)?, kind)));
        let (index, kind) = match parsed {
            Some((i, kind @ ("weight" | "bias"))) => (i, kind),
            _ => bail!(
                "unexpected tensor {name:?}: vatic reads the Linear layers of an nn.Sequential, \
                 named like 0.weight, 0.bias, 2.weight, 2.bias"
            ),
        };
        let layer = layers.entry(index).or_default();
        let slot = if kind == "weight" {
            &mut layer.weight
        } else {
            &mut layer.bias
        };
        if let Some((other, _)) = slot {
            bail!(
                "tensors {other:?} and {name:?} both name the {kind} of layer {index}; \
                 write each index once, without leading zeros (as PyTorch does)"
            );
        }
        *slot = Some((name, view));
    }
    ensure!(!layers.is_empty(), "the file holds no tensors");

    let mut widths = Vec::new();
    let mut params = Vec::new();
    let mut previous: Option<usize> = None;
    for (index, layer) in layers {
        let (_, w) = layer
            .weight
            .with_context(|| format!("layer {index} has a bias but no {index}.weight"))?;
        let (_, b) = layer
            .bias
            .with_context(|| format!("layer {index} has a weight but no {index}.bias"))?;
        for (t, name) in [(&w, "weight"), (&b, "bias")] {
            ensure!(
                t.dtype() == Dtype::F32,
                "{index}.{name} has dtype {:?}; vatic reads F32 only (convert with model.float())",
                t.dtype()
            );
        }
        let &[out, inp] = w.shape() else {
            bail!(
                "{index}.weight has shape {:?}; a Linear weight is [out, in]",
                w.shape()
            );
        };
        ensure!(
            b.shape() == [out],
            "{index}.bias has shape {:?} but {index}.weight has {out} outputs",
            b.shape()
        );
        match (previous, widths.last()) {
            (Some(p), Some(&prev)) => ensure!(
                prev == inp,
                "{index}.weight takes {inp} inputs but the previous layer, {p}.weight, has \
                 {prev} outputs: the layers do not chain"
            ),
            _ => widths.push(inp),
        }
        widths.push(out);
        previous = Some(index);
        for (t, name) in [(&w, "weight"), (&b, "bias")] {
            let values = f32_values(t.data());
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                bail!("{index}.{name} element {i} is {} (not finite)", values[i]);
            }
            params.extend_from_slice(&values);
        }
    }
    let model = Model::from_params(widths.clone(), params, activation)
        .with_context(|| format!("the file holds a {} network", format_widths(&widths)))?;
    Ok(Loaded { model, metadata })
}

fn f32_values(data: &[u8]) -> Vec<f32> {
    data.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Reads a model file.
///
/// # Errors
///
/// When the file cannot be read, and as [`read`].
pub fn load(path: &Path) -> Result<Loaded> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read model {}", path.display()))?;
    read(&bytes).with_context(|| format!("loading model {}", path.display()))
}

/// A firmware blob read back: the network and the samples stored with it.
#[derive(Debug, Clone)]
pub struct Blob {
    /// The network (widths and activation from the blob's header).
    pub model: Model,
    /// The embedded samples, in stored order.
    pub samples: Dataset,
}

/// A model file of either format.
#[derive(Debug, Clone)]
pub enum ModelFile {
    /// safetensors (`vatic train`, PyTorch).
    Safetensors(Loaded),
    /// A firmware blob (`vatic export-firmware`).
    Blob(Blob),
}

/// `true` when `bytes` begin as a firmware blob does ([`vatic::blob::MAGIC`]; a safetensors
/// file begins with its little-endian header length, whose four low bytes are never `VATC` for
/// a header shorter than 1.4 GB).
pub fn is_blob(bytes: &[u8]) -> bool {
    bytes.starts_with(&vatic::blob::MAGIC)
}

/// Reads a firmware blob: the core's own parser checks the magic, version, widths, lengths,
/// every value and the CRC-32.
///
/// # Errors
///
/// When the core's parser refuses the blob (its message says what is wrong), or its widths are
/// not a network the host can build.
pub fn read_blob(bytes: &[u8]) -> Result<Blob> {
    let header = vatic::blob::parse_header(bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let widths: Vec<usize> = header.widths().collect();
    let mut model = Model::zeros(&widths, header.activation)?;
    let samples = vatic::blob::parse(bytes, model.net_mut()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let n = header.samples as usize;
    let (features, classes) = (header.inputs(), header.outputs());
    let (mut xs, mut ys) = (vec![0.0; n * features], vec![0; n]);
    samples
        .read_into(&mut xs, &mut ys)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let samples = Dataset::new(features, classes, xs, ys)?;
    Ok(Blob { model, samples })
}

/// Reads a model file of either format (a blob when it starts with [`vatic::blob::MAGIC`]).
///
/// # Errors
///
/// When the file cannot be read, and as [`read`] or [`read_blob`].
pub fn load_any(path: &Path) -> Result<ModelFile> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read model {}", path.display()))?;
    if is_blob(&bytes) {
        read_blob(&bytes)
            .map(ModelFile::Blob)
            .with_context(|| format!("loading firmware blob {}", path.display()))
    } else {
        read(&bytes)
            .map(ModelFile::Safetensors)
            .with_context(|| format!("loading model {}", path.display()))
    }
}

/// Serialises a model (with extra metadata entries) as safetensors bytes, layer `l` as
/// `{2l}.weight` `[out, in]` and `{2l}.bias` `[out]`.
///
/// # Errors
///
/// Only if the safetensors encoder fails.
pub fn write(model: &Model, extra: &[(&str, String)]) -> Result<Vec<u8>> {
    let net = model.net();
    let le = |t: &[f32]| -> Vec<u8> { t.iter().flat_map(|v| v.to_le_bytes()).collect() };
    let layers: Vec<(Vec<u8>, Vec<u8>, usize, usize)> = (0..net.depth())
        .filter_map(|l| net.layer(l))
        .map(|d| (le(d.weight), le(d.bias), d.outputs(), d.inputs))
        .collect();
    let mut views = Vec::new();
    for (l, (w, b, out, inp)) in layers.iter().enumerate() {
        let w = TensorView::new(Dtype::F32, vec![*out, *inp], w)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let b = TensorView::new(Dtype::F32, vec![*out], b).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        views.push((format!("{}.weight", 2 * l), w));
        views.push((format!("{}.bias", 2 * l), b));
    }
    let mut meta: BTreeMap<String, String> = extra
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    meta.insert(ACTIVATION_KEY.into(), model.activation().name().into());
    meta.insert("format".into(), "pt".into());
    meta.insert("vatic.widths".into(), model.shape_name());
    let bytes = safetensors::serialize(views, &None).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    with_metadata(&bytes, &meta)
}

/// `bytes` (a safetensors file without metadata) with `meta` as its `__metadata__`, keys in
/// sorted order. The safetensors encoder takes the metadata as a `HashMap`, whose order
/// changes from run to run; this keeps model files byte for byte reproducible.
fn with_metadata(bytes: &[u8], meta: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    let n = bytes
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
        .context("the safetensors encoder wrote no header")?;
    let end = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_add(8))
        .filter(|&e| e <= bytes.len())
        .context("the safetensors encoder wrote a bad header length")?;
    let header = std::str::from_utf8(&bytes[8..end])
        .context("the safetensors encoder wrote a non-UTF-8 header")?
        .trim_end();
    let tensors = header
        .strip_prefix('{')
        .context("the safetensors header is not a JSON object")?;
    let mut json = format!("{{\"__metadata__\":{}", serde_json::to_string(meta)?);
    if tensors.trim_start() != "}" {
        json.push(',');
    }
    json.push_str(tensors);
    // The data must stay 8-byte aligned, as the encoder pads it.
    json.extend(std::iter::repeat_n(' ', (8 - json.len() % 8) % 8));
    let mut out = Vec::with_capacity(8 + json.len() + bytes.len() - end);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(json.as_bytes());
    out.extend_from_slice(&bytes[end..]);
    Ok(out)
}

/// Writes a model file (atomically: the previous file stays intact if the write fails).
///
/// # Errors
///
/// When the file cannot be written.
pub fn save(path: &Path, model: &Model, extra: &[(&str, String)]) -> Result<()> {
    let bytes = write(model, extra)?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    crate::output::write(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_of(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)], meta: Option<&str>) -> Vec<u8> {
        let views: Vec<(String, TensorView<'_>)> = tensors
            .iter()
            .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
            .collect();
        let meta = meta.map(|a| HashMap::from([(ACTIVATION_KEY.to_string(), a.to_string())]));
        safetensors::serialize(views, &meta).unwrap()
    }

    fn f32s(n: usize, v: f32) -> Vec<u8> {
        (0..n).flat_map(|_| v.to_le_bytes()).collect()
    }

    /// A file from a hand-written JSON header (which the safetensors encoder would not write).
    fn raw(header: &str, data_len: usize) -> Vec<u8> {
        let mut b = (header.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(header.as_bytes());
        b.extend(std::iter::repeat_n(0u8, data_len));
        b
    }

    /// A 16-8-4 network in PyTorch's layout, with a gap of 3 (e.g. Linear, ReLU, Dropout, Linear).
    fn torch_like(meta: Option<&str>) -> Vec<u8> {
        bytes_of(
            &[
                ("0.weight", Dtype::F32, vec![8, 16], f32s(128, 0.5)),
                ("0.bias", Dtype::F32, vec![8], f32s(8, 0.1)),
                ("3.weight", Dtype::F32, vec![4, 8], f32s(32, -0.25)),
                ("3.bias", Dtype::F32, vec![4], f32s(4, 0.0)),
            ],
            meta,
        )
    }

    fn err(bytes: &[u8]) -> String {
        format!("{:#}", read(bytes).unwrap_err())
    }

    #[test]
    fn round_trip_of_any_depth() {
        for w in [
            &[5, 3][..],
            &[2, 100, 2],
            &[16, 8, 4],
            &[4, 16, 12, 3],
            &[13, 40, 40, 3],
            &[6, 9, 7, 5, 4, 2],
        ] {
            for act in [Activation::Relu, Activation::Tanh] {
                let m = Model::new(w, act, 5).unwrap();
                let bytes = write(&m, &[("note", "hi".into())]).unwrap();
                assert_eq!(bytes, write(&m, &[("note", "hi".into())]).unwrap());
                let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
                assert_eq!(n % 8, 0);
                assert!(std::str::from_utf8(&bytes[8..8 + n])
                    .unwrap()
                    .starts_with(r#"{"__metadata__":{"activation":"#));
                let loaded = read(&bytes).unwrap();
                assert_eq!(loaded.model, m);
                assert_eq!(loaded.metadata["note"], "hi");
                assert_eq!(loaded.metadata["format"], "pt");
                assert_eq!(loaded.metadata["vatic.widths"], format_widths(w));
                let st = SafeTensors::deserialize(&bytes).unwrap();
                let mut names = st.names();
                names.sort();
                let mut want: Vec<String> = (0..w.len() - 1)
                    .flat_map(|l| [format!("{}.weight", 2 * l), format!("{}.bias", 2 * l)])
                    .collect();
                want.sort();
                assert_eq!(names, want.iter().collect::<Vec<_>>());
                assert_eq!(st.tensor("0.weight").unwrap().shape(), [w[1], w[0]]);
            }
        }
    }

    #[test]
    fn reads_pytorch_names_with_gaps() {
        let l = read(&torch_like(Some("tanh"))).unwrap();
        assert_eq!(l.model.widths(), &[16, 8, 4]);
        assert_eq!(l.model.activation(), Activation::Tanh);
        let t = l.model.tensors();
        assert_eq!(t[0][0], 0.5);
        assert_eq!(t[2][31], -0.25);
        // Three hidden layers, as nn.Sequential(Linear, ReLU, Linear, ReLU, Linear, ReLU,
        // Linear) names them: 0, 2, 4, 6 (and a larger index than 9 sorts numerically).
        let l = read(&bytes_of(
            &[
                ("0.weight", Dtype::F32, vec![5, 3], f32s(15, 0.5)),
                ("0.bias", Dtype::F32, vec![5], f32s(5, 0.1)),
                ("2.weight", Dtype::F32, vec![4, 5], f32s(20, 0.25)),
                ("2.bias", Dtype::F32, vec![4], f32s(4, 0.2)),
                ("4.weight", Dtype::F32, vec![6, 4], f32s(24, -0.5)),
                ("4.bias", Dtype::F32, vec![6], f32s(6, 0.3)),
                ("10.weight", Dtype::F32, vec![2, 6], f32s(12, 1.5)),
                ("10.bias", Dtype::F32, vec![2], f32s(2, -1.0)),
            ],
            Some("relu"),
        ))
        .unwrap();
        assert_eq!(l.model.widths(), &[3, 5, 4, 6, 2]);
        let t = l.model.tensors();
        assert_eq!((t[4][0], t[5][0], t[6][0], t[7][1]), (-0.5, 0.3, 1.5, -1.0));
    }

    #[test]
    fn explains_bad_files() {
        let good = torch_like(Some("relu"));
        assert!(err(&good[..good.len() - 3]).contains("not a valid safetensors"));
        assert!(err(&good[..5]).contains("not a valid safetensors"));
        assert!(err(b"").contains("not a valid safetensors"));
        assert!(err(&torch_like(None)).contains("no \"activation\""));
        assert!(err(&torch_like(Some("gelu"))).contains("unknown activation"));
        let w = |name: &str, d: Dtype, shape: Vec<usize>, bytes: Vec<u8>| {
            let mut t = vec![
                ("0.weight", Dtype::F32, vec![8, 16], f32s(128, 0.5)),
                ("0.bias", Dtype::F32, vec![8], f32s(8, 0.1)),
                ("2.weight", Dtype::F32, vec![4, 8], f32s(32, 0.5)),
                ("2.bias", Dtype::F32, vec![4], f32s(4, 0.0)),
            ];
            let i = t.iter().position(|e| e.0 == name).unwrap();
            t[i] = (t[i].0, d, shape, bytes);
            bytes_of(&t, Some("relu"))
        };
        assert!(err(&w("0.weight", Dtype::F64, vec![8, 16], f32s(256, 0.0))).contains("F32 only"));
        let e = err(&w("2.weight", Dtype::F32, vec![4, 7], f32s(28, 0.0)));
        assert!(
            e.contains("2.weight takes 7 inputs but the previous layer, 0.weight, has 8 outputs"),
            "{e}"
        );
        assert!(err(&w("2.bias", Dtype::F32, vec![5], f32s(5, 0.0))).contains("2.bias has shape"));
        assert!(err(&w("2.weight", Dtype::F32, vec![32], f32s(32, 0.0))).contains("[out, in]"));
        assert!(err(&w("2.bias", Dtype::F32, vec![4], f32s(4, f32::NAN))).contains("not finite"));
        assert!(err(&w("0.weight", Dtype::F32, vec![8, 16], {
            let mut b = f32s(128, 0.0);
            b[40..44].copy_from_slice(&f32::INFINITY.to_le_bytes());
            b
        }))
        .contains("element 10"));
        let e = err(&bytes_of(
            &[
                ("0.weight", Dtype::F32, vec![8, 16], f32s(128, 0.5)),
                ("0.bias", Dtype::F32, vec![8], f32s(8, 0.1)),
                ("2.weight", Dtype::F32, vec![0, 8], vec![]),
                ("2.bias", Dtype::F32, vec![0], vec![]),
            ],
            Some("relu"),
        ));
        assert!(e.contains("16-8-0") && e.contains("zero width"), "{e}");
        let e = err(&bytes_of(
            &[("fc.weight", Dtype::F32, vec![8, 16], f32s(128, 0.5))],
            Some("relu"),
        ));
        assert!(e.contains("unexpected tensor"), "{e}");
        for name in ["+2.weight", "2.weights", "2", "-1.bias", "2.bias.x"] {
            let e = err(&bytes_of(
                &[(name, Dtype::F32, vec![4], f32s(4, 0.5))],
                Some("relu"),
            ));
            assert!(e.contains("unexpected tensor"), "{name}: {e}");
        }
        let e = err(&bytes_of(
            &[("0.weight", Dtype::F32, vec![8, 16], f32s(128, 0.5))],
            Some("relu"),
        ));
        assert!(e.contains("no 0.bias"), "{e}");
        assert!(err(&bytes_of(&[], Some("relu"))).contains("no tensors"));
    }

    #[test]
    fn refuses_duplicate_and_ambiguous_names() {
        // Two names for layer 2's weight.
        let e = err(&bytes_of(
            &[
                ("0.weight", Dtype::F32, vec![8, 16], f32s(128, 0.5)),
                ("0.bias", Dtype::F32, vec![8], f32s(8, 0.1)),
                ("2.weight", Dtype::F32, vec![4, 8], f32s(32, 0.5)),
                ("02.weight", Dtype::F32, vec![4, 8], f32s(32, 0.5)),
                ("2.bias", Dtype::F32, vec![4], f32s(4, 0.0)),
            ],
            Some("relu"),
        ));
        assert!(
            e.contains("\"02.weight\" and \"2.weight\" both name the weight of layer 2"),
            "{e}"
        );
        // One name twice in the header (same data range, so safetensors itself accepts it).
        let tensor = |o: usize, n: usize| {
            format!(
                r#"{{"dtype":"F32","shape":[{n}],"data_offsets":[{o},{}]}}"#,
                o + 4 * n
            )
        };
        let header = format!(
            r#"{{"__metadata__":{{"activation":"relu"}},"0.weight":{w},"0.weight":{w},"0.bias":{b}}}"#,
            w = r#"{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}"#,
            b = tensor(16, 2)
        );
        let bytes = raw(&header, 24);
        let e = err(&bytes);
        assert!(e.contains("names \"0.weight\" more than once"), "{e}");
        // The same header without the duplicate loads.
        let ok = header.replacen(
            r#","0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}"#,
            "",
            1,
        );
        assert_eq!(read(&raw(&ok, 24)).unwrap().model.widths(), &[2, 2]);
    }

    #[test]
    fn save_and_load_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/m.safetensors");
        let m = Model::new(&[2, 100, 2], Activation::Relu, 1).unwrap();
        save(&p, &m, &[]).unwrap();
        assert_eq!(load(&p).unwrap().model, m);
        let e = format!("{:#}", load(&dir.path().join("nope")).unwrap_err());
        assert!(e.contains("cannot read model"), "{e}");
    }
}
