//! Data sets: the VAT paper's synthetic moons and circles, UCI digits, MNIST IDX files and the
//! user's own CSV, all loaded into one validated [`Dataset`] type.
//!
//! Every loader checks its input and explains what is wrong (ragged rows, NaN, labels out of
//! range, wrong magic, …) with an error instead of panicking.

pub mod args;
pub mod csv;
pub mod digits;
pub mod mnist;
pub mod provenance;
pub mod synthetic;

pub use args::DataArgs;
pub use provenance::Provenance;

use anyhow::{bail, ensure, Context, Result};
use vatic::attack::Clip;
use vatic::Rng;

/// A labelled data set: `len` samples of `features` values each, labels in `0..classes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Number of features per sample.
    pub features: usize,
    /// Number of classes; every label is below it.
    pub classes: usize,
    /// Samples, row-major: sample `i` is `x[i * features..(i + 1) * features]`.
    pub x: Vec<f32>,
    /// One label per sample.
    pub y: Vec<usize>,
}

impl Dataset {
    /// A data set after checking that the shapes agree, every value is finite and every label
    /// is below `classes`.
    ///
    /// # Errors
    ///
    /// Explains the first problem found.
    pub fn new(features: usize, classes: usize, x: Vec<f32>, y: Vec<usize>) -> Result<Self> {
        ensure!(features > 0, "a data set needs at least one feature");
        ensure!(
            classes >= 2,
            "a data set needs at least two classes, found {classes}"
        );
        ensure!(
            x.len() == y.len() * features,
            "{} feature values do not make {} samples of {} features",
            x.len(),
            y.len(),
            features
        );
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            bail!(
                "sample {} feature {} is {} (NaN or infinity are not allowed)",
                i / features,
                i % features,
                x[i]
            );
        }
        if let Some((i, &l)) = y.iter().enumerate().find(|(_, &l)| l >= classes) {
            bail!("sample {i} has label {l}, but there are only {classes} classes (0..{classes})");
        }
        Ok(Self {
            features,
            classes,
            x,
            y,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// `true` when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Sample `i`'s features.
    ///
    /// # Panics
    ///
    /// When `i >= self.len()`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.features..(i + 1) * self.features]
    }

    /// The samples as fixed-size arrays, the form the core's functions take.
    ///
    /// # Errors
    ///
    /// When the data set does not have exactly `IN` features.
    pub fn arrays<const IN: usize>(&self) -> Result<Vec<[f32; IN]>> {
        ensure!(
            self.features == IN,
            "the data has {} features but the model expects {IN}",
            self.features
        );
        Ok(self
            .x
            .chunks_exact(IN)
            .map(|c| {
                let mut a = [0.0; IN];
                a.copy_from_slice(c);
                a
            })
            .collect())
    }

    /// The samples at `indices`, in that order.
    ///
    /// # Errors
    ///
    /// When an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> Result<Self> {
        let mut x = Vec::with_capacity(indices.len() * self.features);
        let mut y = Vec::with_capacity(indices.len());
        for &i in indices {
            ensure!(
                i < self.len(),
                "sample index {i} out of range ({})",
                self.len()
            );
            x.extend_from_slice(self.row(i));
            y.push(self.y[i]);
        }
        Ok(Self {
            features: self.features,
            classes: self.classes,
            x,
            y,
        })
    }

    /// Number of samples of each class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &l in &self.y {
            counts[l] += 1;
        }
        counts
    }

    /// Splits into a test set of `test` samples and the rest, after a seeded shuffle.
    ///
    /// # Errors
    ///
    /// When `test` is zero or leaves no training samples.
    pub fn split_test(&self, test: usize, rng: &mut Rng) -> Result<(Self, Self)> {
        ensure!(
            test > 0 && test < self.len(),
            "cannot hold out {test} test samples from {} samples",
            self.len()
        );
        let mut idx: Vec<usize> = (0..self.len()).collect();
        rng.shuffle(&mut idx);
        let (te, tr) = idx.split_at(test);
        Ok((self.subset(tr)?, self.subset(te)?))
    }

    /// Draws `per_class` labelled samples of every class (seeded); the other samples become
    /// the unlabelled pool (their labels are kept, for reporting only).
    ///
    /// # Errors
    ///
    /// When a class has fewer than `per_class` samples, or `per_class` is zero.
    pub fn split_labelled(&self, per_class: usize, rng: &mut Rng) -> Result<Split> {
        ensure!(per_class > 0, "--labels-per-class must be at least 1");
        let mut idx: Vec<usize> = (0..self.len()).collect();
        rng.shuffle(&mut idx);
        let mut taken = vec![0; self.classes];
        let (mut labelled, mut unlabelled) = (Vec::new(), Vec::new());
        for i in idx {
            let c = self.y[i];
            if taken[c] < per_class {
                taken[c] += 1;
                labelled.push(i);
            } else {
                unlabelled.push(i);
            }
        }
        if let Some((c, &n)) = taken.iter().enumerate().find(|(_, &n)| n < per_class) {
            bail!("class {c} has only {n} samples, fewer than --labels-per-class {per_class}");
        }
        labelled.sort_unstable();
        unlabelled.sort_unstable();
        Ok(Split {
            labelled: self.subset(&labelled)?,
            unlabelled: self.subset(&unlabelled)?,
        })
    }

    /// The concatenation of `self` and `other` (same features and classes).
    ///
    /// # Errors
    ///
    /// When the shapes differ.
    pub fn concat(&self, other: &Self) -> Result<Self> {
        ensure!(
            self.features == other.features,
            "cannot join data sets of {} and {} features",
            self.features,
            other.features
        );
        let mut x = self.x.clone();
        x.extend_from_slice(&other.x);
        let mut y = self.y.clone();
        y.extend_from_slice(&other.y);
        Ok(Self {
            features: self.features,
            classes: self.classes.max(other.classes),
            x,
            y,
        })
    }
}

/// A labelled subset and the unlabelled rest.
#[derive(Debug, Clone)]
pub struct Split {
    /// The samples whose labels training may use.
    pub labelled: Dataset,
    /// The samples whose labels training must not use.
    pub unlabelled: Dataset,
}

/// A training set and a test set.
#[derive(Debug, Clone)]
pub struct TrainTest {
    /// Training samples (labelled and unlabelled are split later).
    pub train: Dataset,
    /// Held-out test samples.
    pub test: Dataset,
    /// The box every feature lives in, which attacks are clipped to: `[0, 1]` for the digits
    /// and MNIST (their pixels are scaled to it), none for the synthetic sets and CSV data
    /// unless `--clip LO,HI` gives one.
    pub domain: Option<Clip>,
}

/// Where the data comes from, as given on the command line (`--data`).
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The VAT paper's two moons, embedded in 100-D.
    Moons,
    /// The VAT paper's two circles, embedded in 100-D.
    Circles,
    /// Two moons in the plane (2-D).
    Moons2d,
    /// Two circles in the plane (2-D).
    Circles2d,
    /// The bundled UCI digits (8×8).
    Digits,
    /// A CSV file.
    Csv(std::path::PathBuf),
    /// A directory with the four MNIST IDX files.
    Mnist(std::path::PathBuf),
}

impl std::str::FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "moons" => Source::Moons,
            "circles" => Source::Circles,
            "moons2d" => Source::Moons2d,
            "circles2d" => Source::Circles2d,
            "digits" => Source::Digits,
            _ => {
                if let Some(p) = s.strip_prefix("csv:") {
                    Source::Csv(expand_home(p))
                } else if let Some(p) = s.strip_prefix("mnist:") {
                    Source::Mnist(expand_home(p))
                } else {
                    return Err(format!(
                        "unknown data set {s:?}; expected moons, circles, moons2d, circles2d, \
                         digits, csv:PATH or mnist:DIR"
                    ));
                }
            }
        })
    }
}

impl Source {
    /// Which synthetic set this is (its 100-D and 2-D versions alike); `None` for the others.
    pub fn synthetic_kind(&self) -> Option<synthetic::Kind> {
        match self {
            Source::Moons | Source::Moons2d => Some(synthetic::Kind::Moons),
            Source::Circles | Source::Circles2d => Some(synthetic::Kind::Circles),
            _ => None,
        }
    }

    /// `true` for the synthetic sets.
    pub fn is_synthetic(&self) -> bool {
        self.synthetic_kind().is_some()
    }

    /// The VAT authors' ε of VAT for the synthetic sets (moons 0.6, circles 0.5, from their
    /// `vis_model_contours.sh`); otherwise `None`.
    pub fn paper_eps(&self) -> Option<f32> {
        self.synthetic_kind().map(synthetic::Kind::paper_eps)
    }
}

/// `~` and a leading `~/` as the home directory (`$HOME`), as a shell would expand them (the
/// shell does not, after `csv:` or `mnist:`); any other path, or no `$HOME`, as given.
fn expand_home(p: &str) -> std::path::PathBuf {
    let home = || std::env::var_os("HOME").filter(|h| !h.is_empty());
    match (p, home()) {
        ("~", Some(h)) => h.into(),
        (_, Some(h)) if p.starts_with("~/") => std::path::PathBuf::from(h).join(&p[2..]),
        _ => p.into(),
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Moons => f.write_str("moons"),
            Source::Circles => f.write_str("circles"),
            Source::Moons2d => f.write_str("moons2d"),
            Source::Circles2d => f.write_str("circles2d"),
            Source::Digits => f.write_str("digits"),
            Source::Csv(p) => write!(f, "csv:{}", p.display()),
            Source::Mnist(p) => write!(f, "mnist:{}", p.display()),
        }
    }
}

/// Loads the data set `p` describes and its test set.
///
/// Synthetic sets have their own test set (1000 points) and a training set of the 16 labelled
/// points followed by `unlabelled_pool` unlabelled ones; MNIST has its own test files; digits and
/// CSV data are split with a seeded shuffle (`test_size`, default a quarter of the samples, 500
/// for digits). With `p.test`, that source's samples are the test set and `p.data` is not
/// split ([`load_test`]); `p.clip` replaces the data set's own box.
///
/// # Errors
///
/// Whatever the loader reports, named with `--data`; a test set whose features or classes do
/// not fit the data.
pub fn load(p: &Provenance) -> Result<TrainTest> {
    load_with_test(p).with_context(|| format!("loading --data {}", p.data))
}

/// [`load`], before its errors are named with `--data`.
fn load_with_test(p: &Provenance) -> Result<TrainTest> {
    let mut tt = load_own(&p.data, p)?;
    if let Some(t) = &p.test {
        ensure!(
            p.test_size.is_none(),
            "--test-size splits --data into training and test samples; with --test {t} the \
             test set is given, so drop one of them"
        );
        let test = load_test(t, p).with_context(|| format!("loading --test {t}"))?;
        ensure!(
            test.features == tt.train.features,
            "--test {t} has {} features but --data {} has {}",
            test.features,
            p.data,
            tt.train.features
        );
        ensure!(
            test.classes <= tt.train.classes,
            "--test {t} has labels up to {} but --data {} has only {} classes",
            test.classes - 1,
            p.data,
            tt.train.classes
        );
        // Without a held-out part, everything in --data trains.
        if matches!(p.data, Source::Digits | Source::Csv(_)) {
            tt.train = tt.train.concat(&tt.test)?;
        }
        tt.test = Dataset {
            classes: tt.train.classes,
            ..test
        };
    }
    if p.clip.is_some() {
        tt.domain = p.clip;
    }
    Ok(tt)
}

/// Every sample of `source` as a test set: a CSV file's or the digits' rows, MNIST's test
/// files, a synthetic set's test points (generated with `opts`' seed and pool).
///
/// # Errors
///
/// Whatever the loader reports.
pub fn load_test(source: &Source, opts: &Provenance) -> Result<Dataset> {
    Ok(match source {
        Source::Digits => digits::load()?,
        Source::Csv(path) => csv::load(path, opts.label_column)
            .with_context(|| format!("reading CSV data {}", path.display()))?,
        _ => load_own(source, opts)?.test,
    })
}

/// [`load`] of `source` with `opts`' seed, split and pool, without `--test` and `--clip`.
fn load_own(source: &Source, opts: &Provenance) -> Result<TrainTest> {
    let mut rng = Rng::new(opts.seed ^ 0x5eed_da7a);
    let held_out = |d: Dataset, default: usize, rng: &mut Rng| -> Result<TrainTest> {
        let n = opts.test_size.unwrap_or(default);
        let (train, test) = d.split_test(n, rng)?;
        Ok(TrainTest {
            train,
            test,
            domain: None,
        })
    };
    match source {
        Source::Moons | Source::Circles | Source::Moons2d | Source::Circles2d => {
            let kind = match source {
                Source::Moons | Source::Moons2d => synthetic::Kind::Moons,
                _ => synthetic::Kind::Circles,
            };
            let s = synthetic::Synthetic::generate(kind, opts.seed, opts.unlabelled_pool);
            Ok(match source {
                Source::Moons | Source::Circles => TrainTest {
                    train: s.train.concat(&s.pool)?,
                    test: s.test,
                    domain: None,
                },
                _ => TrainTest {
                    train: s.train_2d.concat(&s.pool_2d)?,
                    test: s.test_2d,
                    domain: None,
                },
            })
        }
        Source::Digits => Ok(TrainTest {
            domain: Some(Clip::UNIT),
            ..held_out(digits::load()?, 500, &mut rng)?
        }),
        Source::Csv(path) => {
            let d = csv::load(path, opts.label_column)
                .with_context(|| format!("reading CSV data {}", path.display()))?;
            let default = (d.len() / 4).max(1);
            held_out(d, default, &mut rng)
        }
        Source::Mnist(dir) => Ok(TrainTest {
            domain: Some(Clip::UNIT),
            ..mnist::load_dir(dir)?
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Dataset {
        Dataset::new(2, 2, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0], vec![0, 1, 0]).unwrap()
    }

    #[test]
    fn rejects_bad_shapes_nan_and_labels() {
        let e = Dataset::new(2, 2, vec![0.0; 5], vec![0, 1]).unwrap_err();
        assert!(e.to_string().contains("do not make"), "{e}");
        let e = Dataset::new(2, 2, vec![0.0, f32::NAN], vec![0]).unwrap_err();
        assert!(e.to_string().contains("NaN"), "{e}");
        let e = Dataset::new(1, 2, vec![0.0], vec![2]).unwrap_err();
        assert!(e.to_string().contains("label 2"), "{e}");
        assert!(Dataset::new(0, 2, vec![], vec![]).is_err());
        assert!(Dataset::new(1, 1, vec![0.0], vec![0]).is_err());
    }

    #[test]
    fn arrays_check_the_width() {
        let d = tiny();
        assert_eq!(d.arrays::<2>().unwrap()[2], [4.0, 5.0]);
        assert!(d.arrays::<3>().is_err());
    }

    #[test]
    fn labelled_split_is_balanced_and_disjoint() {
        let d = digits::load().unwrap();
        let s = d.split_labelled(10, &mut Rng::new(3)).unwrap();
        assert_eq!(s.labelled.class_counts(), vec![10; 10]);
        assert_eq!(s.labelled.len() + s.unlabelled.len(), d.len());
        let e = tiny().split_labelled(2, &mut Rng::new(1)).unwrap_err();
        assert!(e.to_string().contains("class 1 has only 1"), "{e}");
        assert!(tiny().split_labelled(0, &mut Rng::new(1)).is_err());
    }

    #[test]
    fn sources_parse() {
        assert_eq!("moons".parse::<Source>().unwrap(), Source::Moons);
        assert_eq!(
            "csv:a/b.csv".parse::<Source>().unwrap(),
            Source::Csv("a/b.csv".into())
        );
        assert!("mnist".parse::<Source>().is_err());
        if let Some(home) = std::env::var_os("HOME") {
            let home = std::path::PathBuf::from(home);
            assert_eq!(
                "mnist:~/mnist".parse::<Source>().unwrap(),
                Source::Mnist(home.join("mnist"))
            );
            assert_eq!(
                "csv:~/d/x.csv".parse::<Source>().unwrap(),
                Source::Csv(home.join("d/x.csv"))
            );
            assert_eq!(
                "csv:~".parse::<Source>().unwrap(),
                Source::Csv(home.clone())
            );
        }
        // Only a leading `~/` (or a lone `~`) is the home directory.
        assert_eq!(
            "csv:a/~/b.csv".parse::<Source>().unwrap(),
            Source::Csv("a/~/b.csv".into())
        );
        assert_eq!(
            "csv:~user.csv".parse::<Source>().unwrap(),
            Source::Csv("~user.csv".into())
        );
        assert!("split_test".parse::<Source>().is_err());
        let e = tiny().split_test(3, &mut Rng::new(0)).unwrap_err();
        assert!(e.to_string().contains("cannot hold out"));
    }
}
