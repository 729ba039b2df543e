//! Writing results: `f32` bit patterns, checks and the closing tally.

use core::fmt::{self, Write};

/// Counts checks and prints one line per check.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Checks that held.
    pub passed: u32,
    /// Checks that did not.
    pub failed: u32,
}

impl Tally {
    /// No checks yet.
    pub const fn new() -> Self {
        Self {
            passed: 0,
            failed: 0,
        }
    }

    /// Records a check and prints `ok <name>` or `FAIL <name>: <detail>`.
    ///
    /// # Errors
    ///
    /// Only the sink's.
    pub fn check<W: Write>(
        &mut self,
        out: &mut W,
        name: &str,
        ok: bool,
        detail: fmt::Arguments<'_>,
    ) -> fmt::Result {
        if ok {
            self.passed += 1;
            writeln!(out, "ok   {name}")
        } else {
            self.failed += 1;
            writeln!(out, "FAIL {name}: {detail}")
        }
    }

    /// Adds another tally's counts.
    pub fn absorb(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
    }

    /// `true` when no check failed (and at least one ran).
    pub fn success(&self) -> bool {
        self.failed == 0 && self.passed > 0
    }

    /// Prints the closing `N passed, M failed` line.
    ///
    /// # Errors
    ///
    /// Only the sink's.
    pub fn write_summary<W: Write>(&self, out: &mut W) -> fmt::Result {
        writeln!(out, "{} passed, {} failed", self.passed, self.failed)
    }
}

/// Prints a machine-readable line `@ <key> <hex bits> <hex bits> …`.
///
/// # Errors
///
/// Only the sink's.
pub fn bits<W: Write>(out: &mut W, key: &str, values: &[f32]) -> fmt::Result {
    write!(out, "@ {key}")?;
    for v in values {
        write!(out, " {:08x}", v.to_bits())?;
    }
    writeln!(out)
}

/// FNV-1a (32-bit) over the little-endian bytes of the values' bit patterns: a short digest
/// of a whole gradient tensor that differs if any bit differs.
pub fn fnv1a(values: &[f32]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for v in values {
        for b in v.to_bits().to_le_bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

/// Prints `@ <key> n=<len> fnv=<digest> sum=<bits of Σ>` for a tensor.
///
/// # Errors
///
/// Only the sink's.
pub fn digest<W: Write>(out: &mut W, key: &str, values: &[f32]) -> fmt::Result {
    let sum: f32 = values.iter().sum();
    writeln!(
        out,
        "@ {key} n={} fnv={:08x} sum={:08x}",
        values.len(),
        fnv1a(values),
        sum.to_bits()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Buf {
        data: [u8; 256],
        len: usize,
    }

    impl Write for Buf {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.len + s.len();
            self.data
                .get_mut(self.len..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }

    #[test]
    fn bit_lines() {
        let mut b = Buf {
            data: [0; 256],
            len: 0,
        };
        bits(&mut b, "x", &[1.0, -0.0]).unwrap();
        assert_eq!(&b.data[..b.len], b"@ x 3f800000 80000000\n");
    }

    #[test]
    fn fnv_known_value() {
        // FNV-1a of the empty input is the offset basis.
        assert_eq!(fnv1a(&[]), 0x811c_9dc5);
        assert_ne!(fnv1a(&[0.0]), fnv1a(&[-0.0]));
    }
}
