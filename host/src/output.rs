//! Output files and standard output, written so that nothing is lost.
//!
//! - Every file is written atomically ([`write()`], [`write_with`], [`write_path_with`]): into a
//!   temporary file in the destination's directory, flushed to disk, then renamed over the
//!   destination, so an interrupted or failed write leaves the old file (or none) intact, never
//!   a truncated one.
//! - Before any work starts, [`check`] refuses an output that names one of the command's inputs
//!   or another of its outputs (compared after resolving `.`, `..` and symbolic links), and an
//!   output whose directory does not exist (unless the command creates it).
//! - Standard output goes through [`print()`] (the [`out!`](crate::out) macro): a closed pipe
//!   (`vatic eval … | head -1`) silences it for the rest of the run instead of a panic, so the
//!   files are still written and the exit status is 0.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically.
///
/// # Errors
///
/// When the temporary file cannot be created, written or renamed; `path` is then unchanged.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |w| w.write_all(bytes))
}

/// Writes `path` atomically with what `fill` writes into the temporary file.
///
/// # Errors
///
/// When `fill` fails, or the temporary file cannot be created, flushed or renamed; `path` is
/// then unchanged and the temporary file removed.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    write_path_with(path, "tmp", |tmp| {
        let mut f = std::fs::OpenOptions::new().write(true).open(tmp)?;
        fill(&mut f)?;
        f.flush()?;
        Ok(())
    })
}

/// Writes `path` atomically through a writer that wants a path (e.g. an image encoder that
/// picks the format from the extension): `fill` writes the temporary file (named with
/// extension `ext`, already created and empty), which then replaces `path`.
///
/// # Errors
///
/// As [`write_with`].
pub fn write_path_with(
    path: &Path,
    ext: &str,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("cannot write {}: it names no file", path.display()))?
        .to_string_lossy()
        .into_owned();
    let (tmp, file) = loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{n}.{ext}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => continue,
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot write {}: cannot create a file in {}",
                        path.display(),
                        dir.display()
                    )
                })
            }
        }
    };
    let done = fill(&tmp)
        .and_then(|()| {
            let f = std::fs::File::open(&tmp)?;
            f.sync_all()?;
            drop(file);
            Ok(())
        })
        .and_then(|()| Ok(std::fs::rename(&tmp, path)?));
    if let Err(e) = done {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| {
            format!(
                "cannot write {} (the previous file, if any, is unchanged)",
                path.display()
            )
        });
    }
    Ok(())
}

/// What a command writes, for [`check`].
#[derive(Debug, Clone)]
pub struct Output<'a> {
    /// The flag that names it, e.g. `--out`.
    pub flag: &'a str,
    /// The path.
    pub path: &'a Path,
    /// `true` when the command creates the output's directory itself.
    pub creates_dir: bool,
}

/// Refuses, before any work, an output path that names an input or another output of the same
/// command, and an output whose directory is missing (and not created by the command).
/// `inputs` are `(flag, path)`.
///
/// # Errors
///
/// Names both flags (and the path) of a clash, or the flag and the missing directory.
pub fn check(inputs: &[(&str, &Path)], outputs: &[Output<'_>]) -> Result<()> {
    let inputs: Vec<(&str, &Path, PathBuf)> =
        inputs.iter().map(|&(f, p)| (f, p, identity(p))).collect();
    let mut seen: Vec<(&str, PathBuf)> = Vec::new();
    for o in outputs {
        let id = identity(o.path);
        if let Some((f, p, _)) = inputs.iter().find(|(_, _, i)| *i == id) {
            bail!(
                "{} {} names the input {f} {}: writing it would destroy the input; choose \
                 another {}",
                o.flag,
                o.path.display(),
                p.display(),
                o.flag
            );
        }
        if let Some((f, _)) = seen.iter().find(|(_, i)| *i == id) {
            bail!(
                "{} {} is also the {f} output: one would overwrite the other; give them \
                 different paths",
                o.flag,
                o.path.display()
            );
        }
        if id.is_dir() {
            bail!(
                "{} {} is a directory; give a file name",
                o.flag,
                o.path.display()
            );
        }
        if !o.creates_dir {
            if let Some(dir) = o.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                if !dir.is_dir() {
                    bail!(
                        "{} {}: the directory {} does not exist; create it first",
                        o.flag,
                        o.path.display(),
                        dir.display()
                    );
                }
            }
        }
        seen.push((o.flag, id));
    }
    Ok(())
}

/// The file a path names: canonical (symbolic links, `.` and `..` resolved) for the longest
/// part that exists, followed by the rest with `.` and `..` resolved lexically.
fn identity(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut base = abs.as_path();
    let mut rest = Vec::new();
    let existing = loop {
        if let Ok(p) = base.canonicalize() {
            break p;
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                base = parent;
            }
            _ => break base.to_path_buf(),
        }
    };
    let mut id = existing;
    for part in rest.iter().rev() {
        for c in Path::new(part).components() {
            match c {
                Component::ParentDir => {
                    id.pop();
                }
                Component::CurDir => {}
                c => id.push(c),
            }
        }
    }
    id
}

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output; once its reader has gone (a broken pipe, as in
/// `vatic eval … | head -1`), quietly drops this and every later write.
///
/// # Errors
///
/// When standard output fails for another reason (e.g. a full disk).
pub fn print(args: std::fmt::Arguments<'_>) -> Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_fmt(args).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        r => r.context("cannot write to standard output"),
    }
}

/// `print!` through [`print()`]: a closed standard output is not an error, any other failure
/// is (so the macro is used as `out!(…)?`).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::print(format_args!($($arg)*))
    };
}

/// `println!` through [`print()`], used as `outln!(…)?`.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::print(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_write_leaves_the_old_file_intact() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.safetensors");
        write(&p, b"the old, good file").unwrap();
        // A writer that fails midway, after part of the new content.
        let e = write_with(&p, |w| {
            w.write_all(b"the new, trunc")?;
            Err(std::io::Error::other("interrupted"))
        })
        .unwrap_err();
        assert!(format!("{e:#}").contains("unchanged"), "{e:#}");
        assert_eq!(std::fs::read(&p).unwrap(), b"the old, good file");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("model.safetensors")]);
        // The same through a path writer (the PNGs).
        let e = write_path_with(&p, "png", |tmp| {
            std::fs::write(tmp, b"half a pic")?;
            anyhow::bail!("the encoder failed")
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"the old, good file");
        // A write that succeeds replaces the file.
        write(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn outputs_that_name_inputs_or_each_other_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m.safetensors");
        std::fs::write(&m, b"model").unwrap();
        let out = |flag, path, creates_dir| Output {
            flag,
            path,
            creates_dir,
        };
        let dotted = dir.path().join("sub/../m.safetensors");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let e = check(&[("--model", &m)], &[out("--out", &dotted, true)]).unwrap_err();
        assert!(e.to_string().contains("--out") && e.to_string().contains("--model"));
        let x = dir.path().join("new/x.json");
        let e = check(&[], &[out("--out", &x, true), out("--log", &x, true)]).unwrap_err();
        assert!(e.to_string().contains("--out") && e.to_string().contains("--log"));
        let e = check(&[], &[out("--log", &x, false)]).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        let l = dir.path().join("l");
        check(
            &[("--model", &m)],
            &[out("--out", &x, true), out("--log", &l, false)],
        )
        .unwrap();
        let e = check(&[], &[out("--out", dir.path(), true)]).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
    }
}
