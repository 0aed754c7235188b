//! Building an environment so that an interrupted build never leaves half
//! an environment that looks ready: beside its final place, then swapped
//! in; or, for backends whose files name their prefix, in place with the
//! old environment kept aside until the new one is complete. Callers hold
//! the project's lock.

use std::path::{Path, PathBuf};

use crate::backend::{Backend, Builder};
use crate::deps::{Declared, Kind};
use crate::error::{user, Error};
use crate::files::{self, RemoveOnDrop};
use crate::process;
use crate::text::shown;

/// The name prefix of build directories next to `env_dir`: hidden, so
/// `.venv` builds in `.venv.pyve-tmp-<pid>` and `env` in `.env.pyve-tmp-<pid>`.
fn prefix(env_dir: &Path) -> String {
    let name = env_dir.file_name().unwrap_or_default().to_string_lossy();
    let dot = if name.starts_with('.') { "" } else { "." };
    format!("{dot}{name}.pyve-")
}

/// A build directory next to `env_dir`, so the final rename never crosses
/// a filesystem.
fn sibling(env_dir: &Path, kind: &str) -> PathBuf {
    env_dir.with_file_name(format!("{}{kind}-{}", prefix(env_dir), std::process::id()))
}

/// Whether a build directory's suffix (`tmp-<pid>`, `old-<pid>`) names a
/// process that is gone. Another project may share the environment's
/// parent directory; its running init's build is not a leftover.
fn is_stale(suffix: &str) -> bool {
    let Some(pid) = suffix
        .strip_prefix("tmp-")
        .or_else(|| suffix.strip_prefix("old-"))
        .and_then(|p| p.parse::<i32>().ok())
        .filter(|p| *p > 0)
    else {
        return false;
    };
    pid as u32 == std::process::id() || process::is_gone(pid)
}

/// Build directories next to `env_dir` whose init process is gone.
pub fn leftovers(env_dir: &Path) -> Vec<PathBuf> {
    let Some(parent) = env_dir.parent() else {
        return Vec::new();
    };
    let prefix = prefix(env_dir);
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_prefix(&prefix)
                .is_some_and(is_stale)
        })
        .map(|e| e.path())
        .collect()
}

/// Tidies what killed builds left: a rebuild in place that was killed left
/// the old environment aside (`…pyve-old-<pid>`) and an unfinished one (no
/// marker) in its place, so the old one is put back rather than lost; then
/// the other leftovers go.
pub fn recover(backend: &dyn Backend, env_dir: &Path) {
    if !backend.marker(env_dir).exists() {
        let old = leftovers(env_dir).into_iter().find(|l| {
            l.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(".pyve-old-"))
                && backend.marker(l).exists()
        });
        if let Some(old) = old {
            let _ = std::fs::remove_dir_all(env_dir);
            if std::fs::rename(&old, env_dir).is_ok() {
                done!(
                    "restored {} from a rebuild that was interrupted",
                    env_dir.display()
                );
            }
        }
    }
    for leftover in leftovers(env_dir) {
        info!(
            "removing {}, left by an interrupted init",
            leftover.display()
        );
        let _ = std::fs::remove_dir_all(leftover);
    }
}

/// Builds the environment for `env_dir` (installing the `declared`
/// dependencies from `root`) and puts it in place of whatever is there.
pub fn build(
    builder: &dyn Builder,
    env_dir: &Path,
    root: &Path,
    declared: Option<&Declared>,
) -> Result<(), Error> {
    if let Some(parent) = env_dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| user(format!("cannot create {}: {e}", shown(parent))))?;
    }
    if builder.in_place() {
        return build_in_place(builder, env_dir);
    }
    let build_dir = sibling(env_dir, "tmp");
    let mut guard = RemoveOnDrop(Some(build_dir.clone()));
    if let Some(declared) = declared {
        info!("installing the dependencies from {}", describe(declared));
    }
    builder.build_with(&build_dir, root, declared)?;
    builder.finish(&build_dir, env_dir)?;
    process::check()?;
    swap_into_place(&build_dir, env_dir)?;
    guard.0 = None;
    Ok(())
}

/// Where dependencies come from, for messages: `uv.lock`, or the
/// requirements files.
pub fn describe(declared: &Declared) -> String {
    let mut text = match declared.kind {
        Kind::Requirements => list(&declared.requirements),
        kind => kind.name().to_owned(),
    };
    if !declared.groups.is_empty() {
        text.push_str(&format!(" (groups: {})", declared.groups.join(", ")));
    }
    text
}

/// `a, b` for messages.
pub fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds where the environment will live (its files name their prefix).
/// An existing environment is moved aside first and put back if the build
/// fails; the marker is written only by `finish`, after a complete build,
/// so an interrupted build is never taken for a ready environment.
fn build_in_place(builder: &dyn Builder, env_dir: &Path) -> Result<(), Error> {
    struct Restore {
        env_dir: PathBuf,
        old: Option<PathBuf>,
        armed: bool,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            if !self.armed {
                return;
            }
            let _ = std::fs::remove_dir_all(&self.env_dir);
            if let Some(old) = &self.old {
                let _ = std::fs::rename(old, &self.env_dir);
            }
        }
    }
    let old = if std::fs::symlink_metadata(env_dir).is_ok() {
        let old = sibling(env_dir, "old");
        std::fs::rename(env_dir, &old).map_err(|e| {
            user(format!(
                "cannot move {} aside to rebuild it: {e}",
                shown(env_dir)
            ))
        })?;
        Some(old)
    } else {
        None
    };
    let mut restore = Restore {
        env_dir: env_dir.to_owned(),
        old,
        armed: true,
    };
    builder.build(env_dir)?;
    process::check()?;
    builder.finish(env_dir, env_dir)?;
    restore.armed = false;
    if let Some(old) = &restore.old {
        let _ = std::fs::remove_dir_all(old);
    }
    Ok(())
}

/// Moves the finished build to `env_dir`, replacing what is there in one
/// step where the system allows, then deletes the old environment.
fn swap_into_place(build_dir: &Path, env_dir: &Path) -> Result<(), Error> {
    let fail = |e: &dyn std::fmt::Display| {
        user(format!(
            "cannot move the new environment to {}: {e}",
            shown(env_dir)
        ))
    };
    if std::fs::symlink_metadata(env_dir).is_err() {
        return std::fs::rename(build_dir, env_dir).map_err(|e| fail(&e));
    }
    if files::exchange(build_dir, env_dir).is_ok() {
        // The build directory now holds the old environment.
        let _ = std::fs::remove_dir_all(build_dir);
        return Ok(());
    }
    // No exchange here: two renames, with a moment in between when
    // `env_dir` does not exist.
    let old = sibling(env_dir, "old");
    std::fs::rename(env_dir, &old).map_err(|e| fail(&e))?;
    if let Err(e) = std::fs::rename(build_dir, env_dir) {
        let _ = std::fs::rename(&old, env_dir);
        return Err(fail(&e));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_directories_are_hidden_siblings() {
        assert_eq!(prefix(Path::new("/p/.venv")), ".venv.pyve-");
        assert_eq!(prefix(Path::new("/p/env")), ".env.pyve-");
        assert!(!is_stale("tmp-x"));
        assert!(!is_stale("new-1"));
        assert!(is_stale(&format!("tmp-{}", std::process::id())));
    }

    #[test]
    fn a_swap_replaces_the_old_environment_whole() {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join(".venv");
        let build = dir.path().join("build");
        std::fs::create_dir_all(env.join("old-only")).unwrap();
        std::fs::create_dir_all(build.join("new-only")).unwrap();
        swap_into_place(&build, &env).unwrap();
        assert!(env.join("new-only").exists() && !env.join("old-only").exists());
        assert!(!build.exists());
    }
}
