//! `pyve lock`: conda-lock, solving with the micromamba pyve builds with,
//! writes the project's lock file; and `--check`, which needs neither.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::lock::{self, Basis, LockStatus};
use super::spec::{self, Locked, SpecFiles};
use super::{root_prefix, tool};
use crate::backend::Sources;
use crate::error::{user, Error};
use crate::text::shown;
use crate::vars::Vars;
use crate::{files, process, python};

pub struct LockRequest<'a> {
    pub root: &'a Path,
    pub sources: &'a Sources,
    /// `--platform`: the platforms to lock for, else the file's
    /// `platforms:`, else the lock's own, else this machine's.
    pub platforms: Vec<String>,
    /// `--channel`: channels instead of the file's (else the config's).
    pub channels: Vec<String>,
    /// Whether the project's own `.pyve/bin/micromamba` may run.
    pub project_tools: bool,
    pub vars: &'a dyn Vars,
}

/// What `--check` found: fresh (exit 0) or the reasons it is not.
pub enum Verdict {
    Fresh(String),
    Stale(Vec<String>),
}

/// Whether the lock file still matches the environment file.
pub fn check(root: &Path, sources: &Sources) -> Result<Verdict, Error> {
    let files = SpecFiles::new(root, sources);
    let (environment, lock_name) = (files.environment_name(), files.lock_name());
    Ok(match lock::status(&files, &sources.channels)? {
        LockStatus::Fresh(basis) => Verdict::Fresh(match basis {
            Basis::Content => {
                format!("{lock_name} matches {environment} (conda-lock's content hash)")
            }
            Basis::Times(_) => format!("{lock_name} is fresh{}", basis.note()),
        }),
        LockStatus::LockOnly => Verdict::Fresh(format!(
            "{lock_name} is used as it is (there is no {environment} to compare)"
        )),
        LockStatus::Missing if files.lock.is_none() => Verdict::Stale(vec![format!(
            "this environment names no lock file; add `lock_file: {}` to its entry in \
             .pyve/config, then run `pyve lock --env` with its name",
            default_lock_name(&files.environment)
        )]),
        LockStatus::Missing => Verdict::Stale(vec![format!(
            "there is no {lock_name}; make it with `{}`",
            spec::lock_command(&files)
        )]),
        LockStatus::Stale(mut reasons, basis) => {
            if let Basis::Times(why) = basis {
                reasons.push(format!("(compared by file times: {why})"));
            }
            reasons.push(format!("update it with `{}`", spec::lock_command(&files)));
            Verdict::Stale(reasons)
        }
    })
}

/// Runs conda-lock and puts the new lock file in place; returns what
/// changed, one line each.
pub fn lock(request: &LockRequest) -> Result<Vec<String>, Error> {
    let files = SpecFiles::new(request.root, request.sources);
    let environment = files.environment_path();
    if !environment.is_file() {
        return Err(user(format!(
            "pyve lock reads {}, and there is none in {}",
            files.environment_name(),
            shown(request.root)
        ))
        .with_hint(format!(
            "create it first:\n{}",
            spec::minimal_environment_yml("myproject")
        )));
    }
    let lock_path = files.lock_path().ok_or_else(|| {
        user(format!(
            "this environment's file {} has no lock file named in .pyve/config",
            files.environment_name()
        ))
        .with_hint(format!(
            "add `lock_file: {}` to the environment's entry, then run pyve lock again",
            default_lock_name(&files.environment)
        ))
    })?;
    let conda_lock = find_conda_lock(request.vars)?;
    let micromamba = find_micromamba(request)?;
    let text = String::from_utf8_lossy(&spec::read_bytes(&environment)?).into_owned();
    let old = old_lock(&lock_path);
    let platforms = platforms(request, &text, old.as_ref());
    let channels = channels(request);
    // conda-lock merges into an existing file and keeps platforms no longer
    // asked for; a fresh file beside it, renamed over it, is exactly this
    // solve.
    let dir = lock_path.parent().unwrap_or(request.root);
    let name = lock_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Inside the project only (`lock_file: ../x` is refused), and nothing
    // left there for conda-lock to merge into.
    let lock_path = files::landing(request.root, &crate::paths::lexical(&lock_path))?;
    let fresh = files::scratch_inside(
        request.root,
        &crate::paths::lexical(&dir.join(format!(".{name}.pyve-{}", std::process::id()))),
    )?;
    let _cleanup = files::RemoveOnDrop(Some(fresh.clone()));
    let mut command = Command::new(&conda_lock);
    command.arg("lock").arg("--file").arg(&environment);
    for platform in &platforms {
        command.args(["--platform", platform]);
    }
    for channel in channels {
        command.args(["--channel", channel]);
    }
    command
        .arg("--conda")
        .arg(&micromamba)
        .arg("--lockfile")
        .arg(&fresh);
    command.current_dir(dir);
    if let Some(root) = root_prefix(request.vars) {
        // conda-lock runs micromamba without `-r`: as for a build, the
        // root prefix must not be the project's .pyve.
        command.env("MAMBA_ROOT_PREFIX", root);
    }
    solve(&mut command, &files, &platforms)?;
    let new = spec::read_lock(&fresh)
        .map_err(|e| user(format!("conda-lock wrote no usable lock file: {e}")))?;
    std::fs::rename(&fresh, &lock_path)
        .map_err(|e| user(format!("cannot write {}: {e}", shown(&lock_path))))?;
    Ok(changes(
        old.map(|l| l.packages).unwrap_or_default(),
        &new.packages,
    ))
}

fn solve(command: &mut Command, files: &SpecFiles, platforms: &[String]) -> Result<(), Error> {
    info!(
        "locking {} for {} with conda-lock",
        files.environment_name(),
        platforms.join(", ")
    );
    process::run(command, "solving with conda-lock").map_err(|e| {
        e.with_hint("run `pyve lock --verbose` to see conda-lock's own output; nothing was changed")
    })
}

/// The lock there is now, read only to say what changed: one that does not
/// parse is what `pyve lock` is there to replace.
fn old_lock(path: &Path) -> Option<spec::LockFile> {
    if !path.is_file() {
        return None;
    }
    spec::read_lock(path)
        .map_err(|e| warn!("{e}; replacing it"))
        .ok()
}

/// `--channel`, else the config's channels, else none (the file's).
fn channels<'a>(request: &'a LockRequest) -> &'a [String] {
    if request.channels.is_empty() {
        return &request.sources.channels;
    }
    if request.channels != request.sources.channels {
        // --check, init and doctor hash with the config's channels.
        warn!(
            "--channel is for this lock only: `pyve lock --check` and `pyve init` will \
             call it stale; to keep the channels, record them (`pyve init --channel … \
             --record-channels`, or `micromamba.channels` in .pyve/config)"
        );
    }
    &request.channels
}

/// `environment-gpu.yml` → `environment-gpu.conda-lock.yml`.
fn default_lock_name(environment: &Path) -> String {
    let name = environment
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.trim_end_matches(".yaml").trim_end_matches(".yml");
    format!("{stem}.conda-lock.yml")
}

/// `PYVE_CONDA_LOCK`, else `conda-lock` on PATH.
fn find_conda_lock(vars: &dyn Vars) -> Result<PathBuf, Error> {
    if let Some(path) = vars.non_empty("PYVE_CONDA_LOCK") {
        return Ok(PathBuf::from(path));
    }
    python::which(vars, "conda-lock").ok_or_else(|| {
        user("pyve lock runs conda-lock, which is not on PATH").with_hint(
            "install it once with `uv tool install conda-lock` (or `pipx install conda-lock`), \
             or set PYVE_CONDA_LOCK to its path",
        )
    })
}

/// The micromamba a build would use: conda-lock solves with it.
fn find_micromamba(request: &LockRequest) -> Result<PathBuf, Error> {
    let places = tool::Places {
        root: request.root,
        project_tools: request.project_tools,
        vars: request.vars,
    };
    places.find_noting_refusal().map(|t| t.path).ok_or_else(|| {
        user(format!(
            "pyve lock solves with micromamba, which was not found; pyve looked at {}",
            places.looked_at().join(", ")
        ))
        .with_hint("`pyve init --auto-bootstrap` downloads it, or install micromamba yourself")
    })
}

fn platforms(request: &LockRequest, text: &str, old: Option<&spec::LockFile>) -> Vec<String> {
    if !request.platforms.is_empty() {
        return request.platforms.clone();
    }
    let listed = super::content_hash::file_platforms(text);
    if !listed.is_empty() {
        return listed;
    }
    if let Some(old) = old.filter(|l| !l.platforms.is_empty()) {
        return old.platforms.clone();
    }
    let here = spec::platform().unwrap_or("linux-64").to_owned();
    info!(
        "locking for this machine's {here} only; list the project's platforms under \
         `platforms:` in the environment file to lock for them all"
    );
    vec![here]
}

/// `+ name version`, `- name version`, `name old → new`, per platform;
/// a single line when nothing changed.
fn changes(old: Vec<Locked>, new: &[Locked]) -> Vec<String> {
    type Key = (String, String, String);
    let index = |packages: &[Locked]| -> BTreeMap<Key, String> {
        packages
            .iter()
            .map(|p| {
                (
                    (p.platform.clone(), p.manager.clone(), p.name.clone()),
                    p.version.clone(),
                )
            })
            .collect()
    };
    let (before, after) = (index(&old), index(new));
    let mut lines = Vec::new();
    for (key, version) in &after {
        let (platform, manager, name) = key;
        let pip = if manager == "pip" { " (pip)" } else { "" };
        match before.get(key) {
            None => lines.push(format!("{platform}: + {name} {version}{pip}")),
            Some(was) if was != version => {
                lines.push(format!("{platform}: {name} {was} → {version}{pip}"));
            }
            Some(_) => {}
        }
    }
    for ((platform, manager, name), version) in &before {
        if !after.contains_key(&(platform.clone(), manager.clone(), name.clone())) {
            let pip = if manager == "pip" { " (pip)" } else { "" };
            lines.push(format!("{platform}: - {name} {version}{pip}"));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked(platform: &str, name: &str, version: &str) -> Locked {
        Locked {
            platform: platform.into(),
            manager: "conda".into(),
            name: name.into(),
            version: version.into(),
            installed: true,
        }
    }

    #[test]
    fn changes_are_said_per_platform() {
        let old = vec![
            locked("linux-64", "hello", "1.0"),
            locked("linux-64", "gone", "1"),
            locked("linux-64", "python", "3.11.9"),
        ];
        let new = [
            locked("linux-64", "hello", "2.0"),
            locked("linux-64", "python", "3.11.9"),
            locked("linux-64", "tool", "2.0"),
        ];
        assert_eq!(
            changes(old, &new),
            [
                "linux-64: hello 1.0 → 2.0",
                "linux-64: + tool 2.0",
                "linux-64: - gone 1"
            ]
        );
        assert!(changes(new.to_vec(), &new).is_empty());
    }

    #[test]
    fn other_environment_files_get_a_lock_name_micromamba_reads_as_one() {
        let name = default_lock_name(Path::new("environment-gpu.yml"));
        assert_eq!(name, "environment-gpu.conda-lock.yml");
        assert!(name.ends_with("-lock.yml"));
    }
}
