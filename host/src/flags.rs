//! Value parsers for the numeric flags: every number is checked when the command line is
//! parsed, so a bad value is refused before any work starts, and clap's message names the
//! flag (`invalid value '-1' for '--lr <LR>': must be finite and > 0`).
//!
//! Counts that multiply the running time (iterations, epochs, seeds) have a stated maximum
//! ([`MAX_ITERATIONS`], …) so a typo such as `--pgd-iterations 4000000000` is an error, not a
//! run of hours.

/// Largest `--pgd-iterations`, `--power-iterations` and `--lds-iterations`: far beyond what
/// attacks and power iterations use (PGD: 7–100 steps, VAT: `K = 1`, LDS monitoring: 5).
pub const MAX_ITERATIONS: u64 = 10_000;
/// Largest `--pgd-restarts`: each restart is a whole PGD run per sample and radius.
pub const MAX_RESTARTS: u64 = 1_000;
/// Largest `--bisection-steps`: 24 halvings already resolve `ε_max / 2²⁴`, below f32's
/// relative precision.
pub const MAX_BISECTION_STEPS: u64 = 24;
/// Largest `--epochs` (training shows a progress bar per epoch).
pub const MAX_EPOCHS: u64 = 1_000_000;
/// Largest `demo --seeds`.
pub const MAX_SEEDS: u64 = 1_000;

fn float(s: &str) -> Result<f32, String> {
    s.trim()
        .parse::<f32>()
        .map_err(|_| format!("`{s}` is not a number"))
}

/// Finite and `> 0` (learning rates, their decay, ξ).
pub fn positive(s: &str) -> Result<f32, String> {
    let v = float(s)?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err("must be finite and > 0".into())
    }
}

/// Finite and `≥ 0` (radii ε, loss weights).
pub fn non_negative(s: &str) -> Result<f32, String> {
    let v = float(s)?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err("must be finite and >= 0".into())
    }
}

/// In `[0, 1)` (a momentum).
pub fn unit(s: &str) -> Result<f32, String> {
    let v = float(s)?;
    if (0.0..1.0).contains(&v) {
        Ok(v)
    } else {
        Err("must be in [0, 1)".into())
    }
}

/// In `[0, 1]` (a dampening).
pub fn closed_unit(s: &str) -> Result<f32, String> {
    let v = float(s)?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err("must be in [0, 1]".into())
    }
}

fn count(s: &str, max: u64) -> Result<u64, String> {
    let v: u64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number"))?;
    match v {
        0 => Err("must be at least 1".into()),
        v if v > max => Err(format!("must be at most {max}")),
        v => Ok(v),
    }
}

/// A count `≥ 1` with no upper bound beyond the data's (batch sizes, sample counts).
pub fn at_least_one(s: &str) -> Result<usize, String> {
    count(s, usize::MAX as u64).map(|v| v as usize)
}

/// Iterations of PGD or of a power iteration: `1..=`[`MAX_ITERATIONS`].
pub fn iterations(s: &str) -> Result<u32, String> {
    count(s, MAX_ITERATIONS).map(|v| v as u32)
}

/// PGD runs per sample: `1..=`[`MAX_RESTARTS`].
pub fn restarts(s: &str) -> Result<u32, String> {
    count(s, MAX_RESTARTS).map(|v| v as u32)
}

/// Bisection steps: `1..=`[`MAX_BISECTION_STEPS`].
pub fn bisection_steps(s: &str) -> Result<u32, String> {
    count(s, MAX_BISECTION_STEPS).map(|v| v as u32)
}

/// Epochs: `1..=`[`MAX_EPOCHS`].
pub fn epochs(s: &str) -> Result<usize, String> {
    count(s, MAX_EPOCHS).map(|v| v as usize)
}

/// Seeds of `demo`: `1..=`[`MAX_SEEDS`].
pub fn seeds(s: &str) -> Result<u64, String> {
    count(s, MAX_SEEDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        assert_eq!(positive("0.5"), Ok(0.5));
        for bad in ["0", "-1", "nan", "inf", "x", ""] {
            assert!(positive(bad).is_err(), "{bad}");
        }
        assert_eq!(non_negative("0"), Ok(0.0));
        assert!(non_negative("-0.1").is_err());
        assert!(non_negative("NaN").is_err());
        assert_eq!(unit("0.9"), Ok(0.9));
        assert!(unit("1").is_err());
        assert!(unit("5").is_err());
        assert!(unit("-0.1").is_err());
    }

    #[test]
    fn counts() {
        assert_eq!(iterations("10"), Ok(10));
        assert!(iterations("0").is_err());
        assert_eq!(
            iterations("4000000000"),
            Err("must be at most 10000".into())
        );
        assert!(iterations("-1").is_err());
        assert_eq!(restarts("5"), Ok(5));
        assert!(restarts("0").is_err());
        assert!(restarts("1001").is_err());
        assert_eq!(bisection_steps("24"), Ok(24));
        assert!(bisection_steps("25").is_err());
        assert!(epochs("0").is_err());
        assert!(seeds("0").is_err());
        assert_eq!(at_least_one("3"), Ok(3));
        assert!(at_least_one("0").is_err());
    }
}
