//! Where a model's data came from: the data source, the seed of the generator and of the
//! splits, the test-set size, the CSV label column, the synthetic unlabelled pool, a separate
//! test set and the attack box. `vatic train` writes it into the model file's metadata
//! (`vatic.data`, `vatic.seed`, …), and `eval` and `export-firmware` read it back, so a model
//! is evaluated on the test set it was trained beside — not on another seed's split, which for
//! the digits would put training samples into the test set.
//!
//! A [`Provenance`] is also what [`load`](super::load) reads: the one description of which
//! data a command uses. The command line's flags ([`DataArgs`](super::DataArgs)) become one,
//! completed from the model's where they are left out.

use super::Source;
use anyhow::{Context, Result};
use std::collections::HashMap;
use vatic::attack::Clip;

/// Which data: the source and every setting that decides its training and test sets — what
/// a model was trained with.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// `--data`.
    pub data: Source,
    /// `--seed`: the synthetic generator, the train/test split and the labelled draw.
    pub seed: u64,
    /// `--test-size` (`None`: the loader's default).
    pub test_size: Option<usize>,
    /// `--label-column` (`None`: the last column).
    pub label_column: Option<usize>,
    /// `--unlabelled-pool` of the synthetic sets.
    pub unlabelled_pool: usize,
    /// `--test`, a separate test set.
    pub test: Option<Source>,
    /// `--clip`, or the data set's own box.
    pub clip: Option<Clip>,
}

const DATA: &str = "vatic.data";
const SEED: &str = "vatic.seed";
const TEST_SIZE: &str = "vatic.test_size";
const LABEL_COLUMN: &str = "vatic.label_column";
const POOL: &str = "vatic.unlabelled_pool";
const TEST: &str = "vatic.test";
const CLIP: &str = "vatic.clip";
const NORMALISATION: &str = "vatic.normalisation";

/// Parses `LO,HI` (finite, `LO <= HI`), the form of `--clip` and of the `vatic.clip` metadata.
///
/// # Errors
///
/// A message saying what the value must look like.
pub fn parse_clip(s: &str) -> std::result::Result<Clip, String> {
    let bad = || format!("`{s}` is not LO,HI with finite LO <= HI, e.g. 0,1");
    let (lo, hi) = s.split_once(',').ok_or_else(bad)?;
    let (min, max): (f32, f32) = (
        lo.trim().parse().map_err(|_| bad())?,
        hi.trim().parse().map_err(|_| bad())?,
    );
    if min.is_finite() && max.is_finite() && min <= max {
        Ok(Clip { min, max })
    } else {
        Err(bad())
    }
}

fn clip_text(c: &Clip) -> String {
    format!("{},{}", c.min, c.max)
}

impl Provenance {
    /// The metadata entries of a model trained on this data.
    pub fn to_metadata(&self) -> Vec<(&'static str, String)> {
        let mut m = vec![
            (DATA, self.data.to_string()),
            (SEED, self.seed.to_string()),
            (POOL, self.unlabelled_pool.to_string()),
            (NORMALISATION, normalisation(&self.data).into()),
        ];
        if let Some(n) = self.test_size {
            m.push((TEST_SIZE, n.to_string()));
        }
        if let Some(c) = self.label_column {
            m.push((LABEL_COLUMN, c.to_string()));
        }
        if let Some(t) = &self.test {
            m.push((TEST, t.to_string()));
        }
        if let Some(c) = &self.clip {
            m.push((CLIP, clip_text(c)));
        }
        m
    }

    /// The provenance in a model file's metadata; `None` for a file without it (saved by
    /// PyTorch, or by vatic before provenance was recorded).
    ///
    /// # Errors
    ///
    /// A provenance entry that does not parse, named by its key.
    pub fn from_metadata(meta: &HashMap<String, String>) -> Result<Option<Self>> {
        let Some(data) = meta.get(DATA) else {
            return Ok(None);
        };
        fn num<T: std::str::FromStr>(
            meta: &HashMap<String, String>,
            key: &str,
        ) -> Result<Option<T>> {
            meta.get(key)
                .map(|v| {
                    v.parse().ok().with_context(|| {
                        format!("the model's metadata {key} = {v:?} is not a number")
                    })
                })
                .transpose()
        }
        let source = |key: &str, v: &str| -> Result<Source> {
            v.parse::<Source>()
                .map_err(|e| anyhow::anyhow!("the model's metadata {key} = {v:?}: {e}"))
        };
        let clip = match meta.get(CLIP) {
            Some(v) => Some(
                parse_clip(v).map_err(|e| anyhow::anyhow!("the model's metadata {CLIP}: {e}"))?,
            ),
            None => None,
        };
        Ok(Some(Self {
            data: source(DATA, data)?,
            seed: num(meta, SEED)?
                .with_context(|| format!("the model has {DATA} but no {SEED}"))?,
            test_size: num(meta, TEST_SIZE)?,
            label_column: num(meta, LABEL_COLUMN)?,
            unlabelled_pool: num(meta, POOL)?.unwrap_or(super::synthetic::DEFAULT_POOL),
            test: meta.get(TEST).map(|v| source(TEST, v)).transpose()?,
            clip,
        }))
    }

    /// The command-line flags that reproduce this data, e.g. `--data moons --seed 3`.
    pub fn flags(&self) -> String {
        let mut s = format!("--data {} --seed {}", self.data, self.seed);
        if let Some(n) = self.test_size {
            s += &format!(" --test-size {n}");
        }
        if let Some(c) = self.label_column {
            s += &format!(" --label-column {c}");
        }
        if self.data.is_synthetic() {
            s += &format!(" --unlabelled-pool {}", self.unlabelled_pool);
        }
        if let Some(t) = &self.test {
            s += &format!(" --test {t}");
        }
        if let Some(c) = &self.clip {
            s += &format!(" --clip {}", clip_text(c));
        }
        s
    }
}

/// How the loader scales the features of `source`, recorded for the reader of a model file.
fn normalisation(source: &Source) -> &'static str {
    match source {
        Source::Digits => "pixels 0..16 divided by 16",
        Source::Mnist(_) => "pixels 0..255 divided by 255",
        _ => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Digits, seed 3, 200 test samples, the box [0, 1].
    fn prov() -> Provenance {
        Provenance {
            data: Source::Digits,
            seed: 3,
            test_size: Some(200),
            label_column: None,
            unlabelled_pool: crate::data::synthetic::DEFAULT_POOL,
            test: None,
            clip: Some(Clip { min: 0.0, max: 1.0 }),
        }
    }

    #[test]
    fn metadata_round_trips() {
        let p = prov();
        let meta: HashMap<String, String> = p
            .to_metadata()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(Provenance::from_metadata(&meta).unwrap(), Some(p.clone()));
        assert_eq!(Provenance::from_metadata(&HashMap::new()).unwrap(), None);
        let mut bad = meta.clone();
        bad.insert(SEED.into(), "three".into());
        let e = Provenance::from_metadata(&bad).unwrap_err().to_string();
        assert!(e.contains("vatic.seed"), "{e}");
        assert_eq!(
            p.flags(),
            "--data digits --seed 3 --test-size 200 --clip 0,1"
        );
    }

    #[test]
    fn clips_parse() {
        assert_eq!(
            parse_clip("-5, 5"),
            Ok(Clip {
                min: -5.0,
                max: 5.0
            })
        );
        for bad in ["1", "2,1", "0,inf", "a,b", "0,1,2"] {
            assert!(parse_clip(bad).is_err(), "{bad}");
        }
    }
}
