//! The report, a line at a time, without `core::fmt`.
//!
//! Every result is printed twice: a human-readable line (`clean accuracy 0.8281 (53 of 64)`)
//! and a machine-readable one, `@ <key>` followed by each `f32`'s IEEE-754 bits in hex
//! (`3f540000` = 0.828125), which the QEMU tests compare with the host bit for bit. Lines
//! starting with `# ` are measurements (peak stack, RAM), not compared.

/// Where the report goes: one line of ASCII text at a time, without its line break.
pub trait Sink {
    /// Writes one line.
    fn line(&mut self, text: &[u8]);
}

/// A line being built in a fixed buffer; [`Line::end`] hands it to the sink. Text beyond
/// [`Line::CAPACITY`] bytes is dropped.
#[derive(Debug, Clone)]
pub struct Line {
    buf: [u8; Line::CAPACITY],
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl Line {
    /// Longest line.
    pub const CAPACITY: usize = 120;

    /// An empty line.
    pub const fn new() -> Self {
        Line {
            buf: [0; Line::CAPACITY],
            len: 0,
        }
    }

    fn byte(&mut self, b: u8) -> &mut Self {
        if let Some(d) = self.buf.get_mut(self.len) {
            *d = b;
            self.len += 1;
        }
        self
    }

    /// Appends text.
    #[inline(never)] // one copy, called from every line: flash over speed
    pub fn str(&mut self, s: &str) -> &mut Self {
        for &b in s.as_bytes() {
            self.byte(b);
        }
        self
    }

    /// Appends `n` in decimal.
    #[inline(never)] // one copy, called from every line: flash over speed
    pub fn u32(&mut self, n: u32) -> &mut Self {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        let mut n = n;
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || i == 0 {
                break;
            }
        }
        for &d in digits.get(i..).unwrap_or_default() {
            self.byte(d);
        }
        self
    }

    /// Appends `v` with four decimals (`nan`, `inf` and `-inf` as such; values beyond
    /// `u32::MAX` saturate): enough for accuracies and LDS, without `core::fmt`'s float code.
    pub fn f32(&mut self, v: f32) -> &mut Self {
        if v.is_nan() {
            return self.str("nan");
        }
        if v < 0.0 {
            self.byte(b'-');
        }
        let a = if v < 0.0 { -v } else { v };
        if a == f32::INFINITY {
            return self.str("inf");
        }
        let mut whole = a as u32;
        let mut frac = ((a - whole as f32) * 10_000.0 + 0.5) as u32;
        if frac >= 10_000 {
            whole = whole.saturating_add(1);
            frac -= 10_000;
        }
        self.u32(whole).byte(b'.');
        for div in [1000, 100, 10, 1] {
            self.byte(b'0' + (frac / div % 10) as u8);
        }
        self
    }

    /// Appends ` ` and the bits of `v` in hex (8 digits).
    #[inline(never)] // one copy, called from every line: flash over speed
    pub fn bits(&mut self, v: f32) -> &mut Self {
        self.hex(v.to_bits())
    }

    /// Appends ` ` and `v` in hex (8 digits).
    #[inline(never)] // one copy, called from every line: flash over speed
    pub fn hex(&mut self, v: u32) -> &mut Self {
        self.byte(b' ');
        for shift in (0..8).rev() {
            let nibble = ((v >> (4 * shift)) & 0xf) as u8;
            self.byte(if nibble < 10 {
                b'0' + nibble
            } else {
                b'a' + nibble - 10
            });
        }
        self
    }

    /// Hands the line to `out` and empties it.
    #[inline(never)] // one copy, called from every line: flash over speed
    pub fn end(&mut self, out: &mut impl Sink) {
        out.line(self.buf.get(..self.len).unwrap_or_default());
        self.len = 0;
    }
}

/// Writes a line of text.
pub fn text(out: &mut impl Sink, s: &str) {
    Line::new().str(s).end(out);
}

/// Writes `@ <key>` and the bits of each value.
#[inline(never)] // its own frame (with its line buffer): the stack is measured
pub fn bits(out: &mut impl Sink, key: &str, values: &[f32]) {
    let mut l = Line::new();
    l.str("@ ").str(key);
    for &v in values {
        l.bits(v);
    }
    l.end(out);
}

/// Counts checks, prints `ok <name>` / `FAIL <name>` for each and `N passed, M failed` at
/// the end (the line the QEMU tests and CI look for).
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
        Tally {
            passed: 0,
            failed: 0,
        }
    }

    /// Records and prints one check.
    #[inline(never)] // its own frame (with its line buffer): the stack is measured
    pub fn check(&mut self, out: &mut impl Sink, name: &str, ok: bool) {
        let mut l = Line::new();
        if ok {
            self.passed += 1;
            l.str("ok   ");
        } else {
            self.failed += 1;
            l.str("FAIL ");
        }
        l.str(name).end(out);
    }

    /// `true` when at least one check ran and none failed.
    pub fn success(&self) -> bool {
        self.failed == 0 && self.passed > 0
    }

    /// Prints `N passed, M failed`.
    pub fn summary(&self, out: &mut impl Sink) {
        Line::new()
            .u32(self.passed)
            .str(" passed, ")
            .u32(self.failed)
            .str(" failed")
            .end(out);
    }
}

/// FNV-1a (32-bit) over the little-endian bytes of the values' bits: a digest of a whole
/// tensor that changes when any bit does.
pub fn fnv1a<'a>(values: impl IntoIterator<Item = &'a f32>) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for v in values {
        for b in v.to_bits().to_le_bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    impl Sink for String {
        fn line(&mut self, text: &[u8]) {
            self.push_str(core::str::from_utf8(text).unwrap());
            self.push('\n');
        }
    }

    fn render(f: impl FnOnce(&mut Line)) -> String {
        let mut s = String::new();
        let mut l = Line::new();
        f(&mut l);
        l.end(&mut s);
        s
    }

    #[test]
    fn numbers() {
        assert_eq!(
            render(|l| {
                l.u32(0).str(" ").u32(4_294_967_295);
            }),
            "0 4294967295\n"
        );
        assert_eq!(
            render(|l| {
                l.f32(0.828125)
                    .str(" ")
                    .f32(-2.44476)
                    .str(" ")
                    .f32(0.99999)
                    .str(" ")
                    .f32(f32::NAN);
            }),
            "0.8281 -2.4448 1.0000 nan\n"
        );
        assert_eq!(
            render(|l| {
                l.bits(1.0).bits(-0.0).bits(0.828125);
            }),
            " 3f800000 80000000 3f540000\n"
        );
    }

    #[test]
    fn long_lines_are_cut() {
        let s = render(|l| {
            for _ in 0..100 {
                l.str("ab");
            }
        });
        assert_eq!(s.len(), Line::CAPACITY + 1);
    }
}
