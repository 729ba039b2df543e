//! Model files: [safetensors](https://huggingface.co/docs/safetensors) with the tensor names of a
//! PyTorch `nn.Sequential` of `Linear` layers, so
//! `safetensors.torch.save_file(model.state_dict(), path, metadata={"activation": "relu"})`
//! loads directly.
//!
//! * Tensors `K.weight` (shape `[out, in]`) and `K.bias` (`[out]`), `F32`, for each `Linear` at
//!   index `K` of the `Sequential`. The indices only need to increase (PyTorch leaves gaps for the
//!   activation modules: `0`, `2`, `4`, …); vatic writes `0`, `2`, `4`, ….
//! * Metadata `"activation"`: `"relu"` or `"tanh"` (applied after every hidden layer). vatic also
//!   writes `"format": "pt"` (as `safetensors.torch` does) and `"vatic.widths"`; other metadata is
//!   kept by [`read`] for the caller.
//!
//! Loading checks the names, dtypes, shapes (consecutive layers must chain, and the widths must
//! be one of the [supported shapes](crate::models)) and that every value is finite, and explains
//! what is wrong.

use crate::models::{format_widths, Model};
use anyhow::{bail, ensure, Context, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use vatic::Activation;

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

/// Parses a safetensors model from memory.
///
/// # Errors
///
/// Explains the first problem: not safetensors (or truncated), missing or unknown
/// `activation`, unexpected tensor names, a layer without weight or bias, a dtype other than
/// F32, shapes that are not `[out, in]` / `[out]` or do not chain, an unsupported shape (the
/// message lists the supported ones), or a NaN/∞ value.
pub fn read(bytes: &[u8]) -> Result<Loaded> {
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

    // Group the tensors by their Sequential index.
    let mut layers: BTreeMap<usize, (Option<TensorView<'_>>, Option<TensorView<'_>>)> =
        BTreeMap::new();
    for (name, view) in st.tensors() {
        let parsed = name
            .split_once('.')
            .and_then(|(i, kind)| Some((i.parse::<usize>().ok()?, kind)));
        let slot = layers.entry(match parsed {
            Some((i, "weight" | "bias")) => i,
            _ => bail!(
                "unexpected tensor {name:?}: vatic reads the Linear layers of an nn.Sequential, \
                 named like 0.weight, 0.bias, 2.weight, 2.bias"
            ),
        });
        let entry = slot.or_default();
        if name.ends_with(".weight") {
            entry.0 = Some(view);
        } else {
            entry.1 = Some(view);
        }
    }
    ensure!(!layers.is_empty(), "the file holds no tensors");

    let mut widths = Vec::new();
    let mut tensors = Vec::new();
    for (index, (w, b)) in layers {
        let w = w.with_context(|| format!("layer {index} has a bias but no {index}.weight"))?;
        let b = b.with_context(|| format!("layer {index} has a weight but no {index}.bias"))?;
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
        match widths.last() {
            None => widths.push(inp),
            Some(&prev) => ensure!(
                prev == inp,
                "{index}.weight takes {inp} inputs but the previous layer has {prev} outputs"
            ),
        }
        widths.push(out);
        for (t, name) in [(&w, "weight"), (&b, "bias")] {
            let values = f32_values(t.data());
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                bail!("{index}.{name} element {i} is {} (not finite)", values[i]);
            }
            tensors.push(values);
        }
    }
    let mut model = Model::zeros(&widths, activation)
        .with_context(|| format!("the file holds a {} network", format_widths(&widths)))?;
    model.set_tensors(&tensors)?;
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

/// Serialises a model (with extra metadata entries) as safetensors bytes.
///
/// # Errors
///
/// Only if the safetensors encoder fails.
pub fn write(model: &mut Model, extra: &[(&str, String)]) -> Result<Vec<u8>> {
    let widths = model.widths();
    let activation = model.activation();
    let tensors = model.tensors();
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|t| t.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let mut views = Vec::new();
    for (l, pair) in bytes.chunks_exact(2).enumerate() {
        let (out, inp) = (widths[l + 1], widths[l]);
        let w = TensorView::new(Dtype::F32, vec![out, inp], &pair[0])
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let b = TensorView::new(Dtype::F32, vec![out], &pair[1])
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        views.push((format!("{}.weight", 2 * l), w));
        views.push((format!("{}.bias", 2 * l), b));
    }
    let mut meta: HashMap<String, String> = extra
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    meta.insert(ACTIVATION_KEY.into(), activation.name().into());
    meta.insert("format".into(), "pt".into());
    meta.insert("vatic.widths".into(), format_widths(widths));
    safetensors::serialize(views, &Some(meta)).map_err(|e| anyhow::anyhow!("{e:?}"))
}

/// Writes a model file.
///
/// # Errors
///
/// When the file cannot be written.
pub fn save(path: &Path, model: &mut Model, extra: &[(&str, String)]) -> Result<()> {
    let bytes = write(model, extra)?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
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
    fn round_trip_every_supported_shape() {
        crate::with_big_stack(|| {
            for w in crate::models::SUPPORTED {
                for act in [Activation::Relu, Activation::Tanh] {
                    let mut m = Model::new(w, act, 5).unwrap();
                    let bytes = write(&mut m, &[("note", "hi".into())]).unwrap();
                    let loaded = read(&bytes).unwrap();
                    assert_eq!(loaded.model, m);
                    assert_eq!(loaded.metadata["note"], "hi");
                    assert_eq!(loaded.metadata["format"], "pt");
                }
            }
        });
    }

    #[test]
    fn reads_pytorch_names_with_gaps() {
        let mut l = read(&torch_like(Some("tanh"))).unwrap();
        assert_eq!(l.model.widths(), &[16, 8, 4]);
        assert_eq!(l.model.activation(), Activation::Tanh);
        let t = l.model.tensors();
        assert_eq!(t[0][0], 0.5);
        assert_eq!(t[2][31], -0.25);
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
        assert!(
            err(&w("2.weight", Dtype::F32, vec![4, 7], f32s(28, 0.0))).contains("previous layer")
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
        // Unsupported shape: 16-8-5.
        let e = err(&bytes_of(
            &[
                ("0.weight", Dtype::F32, vec![8, 16], f32s(128, 0.5)),
                ("0.bias", Dtype::F32, vec![8], f32s(8, 0.1)),
                ("2.weight", Dtype::F32, vec![5, 8], f32s(40, 0.5)),
                ("2.bias", Dtype::F32, vec![5], f32s(5, 0.0)),
            ],
            Some("relu"),
        ));
        assert!(
            e.contains("16-8-5") && e.contains("supported shapes"),
            "{e}"
        );
        let e = err(&bytes_of(
            &[("fc.weight", Dtype::F32, vec![8, 16], f32s(128, 0.5))],
            Some("relu"),
        ));
        assert!(e.contains("unexpected tensor"), "{e}");
        let e = err(&bytes_of(
            &[("0.weight", Dtype::F32, vec![8, 16], f32s(128, 0.5))],
            Some("relu"),
        ));
        assert!(e.contains("no 0.bias"), "{e}");
        assert!(err(&bytes_of(&[], Some("relu"))).contains("no tensors"));
    }

    #[test]
    fn save_and_load_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/m.safetensors");
        let mut m = Model::new(&[2, 100, 2], Activation::Relu, 1).unwrap();
        save(&p, &mut m, &[]).unwrap();
        assert_eq!(load(&p).unwrap().model, m);
        let e = format!("{:#}", load(&dir.path().join("nope")).unwrap_err());
        assert!(e.contains("cannot read model"), "{e}");
    }
}
