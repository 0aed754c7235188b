//! Asking an interpreter what it is, and remembering the answer.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::Version;
use crate::files::{self, owner};
use crate::vars::Vars;

/// Asks an interpreter for its version and real executable.
pub fn probe(program: &Path) -> Option<(Version, PathBuf)> {
    let output = Command::new(program)
        .args([
            "-I",
            "-c",
            "import sys, os; print('%d.%d.%d' % sys.version_info[:3]); print(os.path.realpath(sys.executable))",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let mut lines = text.lines();
    let version = Version::parse(lines.next()?)?;
    let executable = PathBuf::from(lines.next()?);
    executable.is_absolute().then_some((version, executable))
}

/// `probe`, remembered: interpreters are looked up on every `pyve init`,
/// and starting one costs as much as the `uv venv` that follows. The answer
/// is kept under `$XDG_CACHE_HOME/pyve/interpreters/`, keyed by the
/// program's path and valid while the file it resolves to is the same one
/// (its fingerprint), as uv does. A cache another user could write is not
/// read.
pub(super) fn probe_cached(vars: &dyn Vars, program: &Path) -> Option<(Version, PathBuf)> {
    let identity = std::fs::metadata(program)
        .ok()
        .map(|m| files::fingerprint(&m));
    let dir = crate::paths::interpreter_cache(vars);
    let (Some(identity), Some(dir)) = (identity, dir) else {
        return probe(program);
    };
    let file = dir.join(crate::digest::short(program.as_os_str().as_bytes()));
    if let Some(found) = remembered(&dir, &file, program, &identity) {
        return Some(found);
    }
    let found = probe(program)?;
    if owner::private_dir(&dir).is_ok() && program.to_str().is_some() && found.1.to_str().is_some()
    {
        let text = format!(
            "{}\n{identity}\n{}\n{}\n",
            program.display(),
            found.0,
            found.1.display()
        );
        let _ = files::replace(&file, text.as_bytes(), 0o600);
    }
    Some(found)
}

/// The answer in the cache file, when it is this program's, for this very
/// file, and the cache is this user's alone.
fn remembered(
    dir: &Path,
    file: &Path,
    program: &Path,
    identity: &str,
) -> Option<(Version, PathBuf)> {
    if owner::check_private_dir(dir).is_err() || !owner::is_private_file(file) {
        return None;
    }
    let bytes = files::read_bounded(file, 4096).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.lines();
    if lines.next() != Some(program.to_string_lossy().as_ref()) || lines.next() != Some(identity) {
        return None;
    }
    let version = lines.next().and_then(Version::parse)?;
    let executable = PathBuf::from(lines.next()?);
    (executable.is_absolute() && files::is_executable(&executable)).then_some((version, executable))
}
