//! Finding the project that owns a directory: the nearest ancestor with
//! `.pyve/config` or a `pyproject.toml` holding `[tool.pyve]`; else, where
//! the user lets pyve recognise them, the nearest with `pyproject.toml` or
//! `requirements.txt` and a `.venv` built on this machine (zero-config).
//! A few stats per level, and a read of a `pyproject.toml` where there is
//! one; nothing is parsed.

use std::fs::Metadata;
use std::path::{Path, PathBuf};

use crate::config::{source, Source};
use crate::files;
use crate::layout;

/// A project, found.
#[derive(Debug)]
pub struct Found {
    pub root: PathBuf,
    pub source: Source,
    /// The metadata of the file the settings come from (what the hook
    /// fingerprints): `.pyve/config`, `pyproject.toml`, or for a
    /// zero-config project `pyproject.toml` (else `requirements.txt`).
    pub metadata: Metadata,
}

/// The nearest project at or above `start`. `start` is walked as the
/// logical path the shell shows, so a project reached through a symlink is
/// found the way the user sees it. `zero_config` says whether the user
/// lets pyve recognise projects without settings; it is asked only when
/// one is at hand (it may read the user's config).
pub fn find_root(start: &Path, zero_config: &mut dyn FnMut() -> bool) -> Option<Found> {
    let mut implicit = None;
    let found = with_settings(start, &mut |dir, pyproject| {
        if implicit.is_none() {
            if let Some(metadata) = zero_config_project(dir, pyproject) {
                if zero_config() {
                    implicit = Some(Found {
                        root: dir.to_owned(),
                        source: Source::Implicit,
                        metadata,
                    });
                }
            }
        }
    });
    // A project found by its `.venv` alone does not take over inside one
    // with settings (a `docs/` with its own venv would switch the
    // project's environment off without a word).
    found.or(implicit)
}

/// The nearest directory at or above `start` with settings of its own
/// (`.pyve/config`, `[tool.pyve]`); `each` sees every directory passed on
/// the way, with its `pyproject.toml`'s metadata.
fn with_settings(start: &Path, each: &mut dyn FnMut(&Path, Option<Metadata>)) -> Option<Found> {
    let mut candidate = PathBuf::new();
    for dir in start.ancestors() {
        let found = |source: Source, metadata: Metadata| Found {
            root: dir.to_owned(),
            source,
            metadata,
        };
        candidate.clear();
        candidate.push(dir);
        candidate.push(layout::CONFIG);
        // lstat first: one syscall per level. A dangling link or a directory
        // still marks a project, to be reported rather than skipped.
        if let Ok(link) = std::fs::symlink_metadata(&candidate) {
            let metadata = if link.file_type().is_symlink() {
                std::fs::metadata(&candidate).unwrap_or(link)
            } else {
                link
            };
            return Some(found(Source::Pyve, metadata));
        }
        candidate.clear();
        candidate.push(dir);
        candidate.push(source::PYPROJECT);
        let pyproject = std::fs::metadata(&candidate).ok().filter(Metadata::is_file);
        if let Some(metadata) = &pyproject {
            let bytes = files::read_bounded(&candidate, crate::pyproject::MAX_BYTES);
            if bytes.is_ok_and(|b| source::has_pyve_table(&b)) {
                return Some(found(Source::Pyproject, metadata.clone()));
            }
        }
        each(dir, pyproject);
    }
    None
}

/// A directory with `pyproject.toml` (whose metadata is given) or
/// `requirements.txt`, and a `.venv` built on this machine: the metadata
/// of the file that makes it a Python project.
fn zero_config_project(dir: &Path, pyproject: Option<Metadata>) -> Option<Metadata> {
    let venv = dir.join(".venv");
    if !built_here(&venv) {
        return None;
    }
    pyproject.or_else(|| {
        std::fs::metadata(dir.join("requirements.txt"))
            .ok()
            .filter(Metadata::is_file)
    })
}

/// Whether the venv at `venv` looks made on this machine: its `pyvenv.cfg`
/// names a base interpreter's directory (`home`) that exists here, which
/// one whose Python was removed, or one from another kind of machine, does
/// not. A weak sign on its own (a committed venv may name `/usr/bin`): the
/// approval, and for trusted paths the check that git tracks none of the
/// venv's files, are what vouch for it.
pub fn built_here(venv: &Path) -> bool {
    let Ok(bytes) = files::read_bounded(&venv.join("pyvenv.cfg"), 16 * 1024) else {
        return false;
    };
    let text = String::from_utf8_lossy(&bytes);
    text.lines()
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| key.trim() == "home")
        .is_some_and(|(_, home)| {
            let home = Path::new(home.trim());
            home.is_absolute() && home.is_dir()
        })
}
