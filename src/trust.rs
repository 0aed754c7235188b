//! The projects whose code this user approved. An approval is a file named
//! by sha256(real path, newline, config content) under
//! `$XDG_DATA_HOME/pyve/trust/` (default `~/.local/share/pyve/trust/`):
//! editing the config, or moving or copying the project, needs a new one.
//! `pyve init` approves the project it builds; the hook runs an
//! environment's activation scripts only with an approval.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Where approvals live; None when neither XDG_DATA_HOME nor HOME is set.
pub fn store_dir() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .or_else(|| crate::python::home().map(|h| h.join(".local/share")))?;
    Some(data.join("pyve/trust"))
}

fn key(project: &Path, config: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(project.as_os_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(config);
    crate::backend::micromamba::spec::hex(&hasher.finalize())
}

/// Whether the project at its real path `project`, with this config
/// content, was approved.
pub fn is_trusted(project: &Path, config: &[u8]) -> bool {
    store_dir().is_some_and(|dir| dir.join(key(project, config)).is_file())
}

/// What the hook, `run` and `export` say when an environment's own
/// variables and scripts are held back.
pub fn not_approved(project: &Path) -> String {
    format!(
        "{}: the environment's own variables and activation scripts were not applied: \
         this project's config is not approved by you; run `pyve init` there to approve it",
        crate::config::shown(project)
    )
}

/// Records the approval; the file holds the path, for people reading it.
pub fn grant(project: &Path, config: &[u8]) -> Result<(), String> {
    let dir = store_dir().ok_or("neither XDG_DATA_HOME nor HOME is set")?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut text = project.as_os_str().as_bytes().to_vec();
    text.push(b'\n');
    let file = dir.join(key(project, config));
    std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))
}
