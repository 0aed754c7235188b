//! One `micromamba create`, and the check of what it made. micromamba's
//! exit code alone does not say an environment is complete: Ctrl-C while
//! it downloads ends it with 0, and a lock file it reads under the wrong
//! name, or without this platform, gives an empty environment and 0.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::spec::{self, Spec};
use super::tool::Tool;
use crate::error::{user, Error};
use crate::files;
use crate::process;
use crate::text::shown;

/// What one build needs, all of it checked before micromamba starts.
pub(super) struct Create {
    /// The project's root (its real path): copies are written only inside.
    pub root: PathBuf,
    pub tool: Tool,
    pub spec: Spec,
    /// The spec's bytes as digested: what micromamba is given.
    pub bytes: Vec<u8>,
    /// `-r`, unless the user chose a root prefix (`MAMBA_ROOT_PREFIX`).
    pub root_prefix: Option<PathBuf>,
    /// Channels replacing the environment file's (`--channel`, `channels:`).
    pub channels: Vec<String>,
    /// Conda packages the environment must hold when micromamba is done.
    pub expected: Vec<String>,
    /// The environment file's `variables:` for an environment built from a
    /// lock file, which carries none.
    pub variables: Vec<(String, String)>,
}

impl Create {
    pub fn run(&self, prefix: &Path) -> Result<(), Error> {
        let input = self.input(prefix)?;
        let mut command = Command::new(&self.tool.path);
        command.args(["create", "-y", "-p"]).arg(prefix);
        if let Some(root) = &self.root_prefix {
            command.arg("-r").arg(root);
        }
        command.arg("-f").arg(&input.path);
        if !self.spec.is_lock {
            // The spec's channels and no others: without this, micromamba
            // appends the channels of ~/.condarc, ~/.mambarc and
            // CONDA_CHANNELS, and the same file builds differently per user.
            command.arg("--override-channels");
        }
        if let Some(dir) = self.spec.path.parent() {
            // `- pip: [-r requirements.txt]` is relative to the spec's
            // directory; so is anything micromamba resolves by cwd.
            command.current_dir(dir);
        }
        process::run(&mut command, "creating the conda environment").map_err(|e| {
            if process::check().is_err() {
                return e; // interrupted: nothing to check
            }
            e.with_hint(format!(
                "`pyve doctor` checks that {} runs, and says where it was found",
                shown(&self.tool.path)
            ))
        })?;
        drop(input);
        self.check(prefix)?;
        if !self.variables.is_empty() {
            write_state(prefix, &self.variables)?;
        }
        Ok(())
    }

    /// The file to pass to micromamba: the project's own, or a copy when
    /// micromamba would misread it (see `needs_copy`).
    fn input(&self, prefix: &Path) -> Result<Input, Error> {
        let original = &self.spec.path;
        let name = original
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let environment =
            (!self.spec.is_lock).then(|| String::from_utf8_lossy(&self.bytes).into_owned());
        let rewritten = environment
            .as_deref()
            .and_then(|text| rewrite_environment(text, &self.channels));
        if rewritten.is_none() && read_as_lock(&name) == self.spec.is_lock {
            return Ok(Input {
                path: original.clone(),
                _copy: files::RemoveOnDrop(None),
            });
        }
        let pid = std::process::id();
        let stem = name.trim_end_matches(".yaml").trim_end_matches(".yml");
        let path = if self.spec.is_lock {
            // A lock has no relative paths; beside the environment, in
            // .pyve/envs, which git ignores.
            let dir = prefix.parent().unwrap_or(prefix);
            dir.join(format!(".{stem}.pyve-{pid}-lock.yml"))
        } else {
            // Beside the original: `- pip:` paths are relative to it.
            original.with_file_name(format!(".{stem}.pyve-{pid}.yml"))
        };
        let bytes = rewritten.map_or_else(|| self.bytes.clone(), String::into_bytes);
        // An environment file outside the project (`env_file: ../x.yml`)
        // gets no copy beside it: pyve writes only inside the project.
        let path =
            files::scratch_inside(&self.root, &crate::paths::lexical(&path)).map_err(|e| {
                e.with_hint(format!(
                "micromamba needs a copy of {} to read it right; move the file into the project",
                shown(original)
            ))
            })?;
        files::write_new(&path, &bytes)?;
        Ok(Input {
            _copy: files::RemoveOnDrop(Some(path.clone())),
            path,
        })
    }

    /// Whether micromamba made what was asked: its history, and a record
    /// for each package the spec names.
    fn check(&self, prefix: &Path) -> Result<(), Error> {
        let installed = installed_names(prefix);
        let history = prefix.join("conda-meta/history").is_file();
        let missing: Vec<&str> = self
            .expected
            .iter()
            .filter(|name| !installed.contains(name))
            .map(String::as_str)
            .collect();
        if history && missing.is_empty() {
            return Ok(());
        }
        let what = if missing.is_empty() {
            "no conda-meta/history".to_owned()
        } else {
            format!("no {}", missing.join(", "))
        };
        Err(user(format!(
            "micromamba finished without an error, but the environment it made has {what}; \
             it was not marked built (micromamba stops with success when interrupted while downloading)"
        ))
        .with_hint("run `pyve init` again; with --verbose micromamba's own output is shown"))
    }
}

struct Input {
    path: PathBuf,
    _copy: files::RemoveOnDrop,
}

/// micromamba reads `*-lock.yml` and `*-lock.yaml` as conda-lock files and
/// any other YAML as an environment file.
fn read_as_lock(name: &str) -> bool {
    name.ends_with("-lock.yml") || name.ends_with("-lock.yaml")
}

/// The environment file as micromamba must see it, when it differs: a
/// top-level `name:` holding `/` or `\` dropped (micromamba refuses it
/// even with `-p`, and `-p` makes it unused), and `channels:` replaced.
/// Line-based, so every other byte is the user's.
pub(super) fn rewrite_environment(text: &str, channels: &[String]) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut skipping = false;
    let mut wrote_channels = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        // A byte-order mark is not part of the first key.
        let bare = if i == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        let top_level =
            !bare.starts_with([' ', '\t', '-', '#', '\n', '\r']) && !bare.trim().is_empty();
        if top_level {
            skipping = false;
            let key = bare.split(':').next().unwrap_or_default().trim();
            let key = key.trim_matches(|c| c == '"' || c == '\'');
            let value = bare.split_once(':').map_or("", |(_, v)| v);
            if key == "name" && value.contains(['/', '\\']) {
                skipping = true;
                changed = true;
                continue;
            }
            if key == "channels" && !channels.is_empty() {
                skipping = true;
                changed = true;
                wrote_channels = true;
                out.push_str(&channels_block(channels));
                continue;
            }
        } else if skipping {
            // The replaced key's own lines: indented, `- item` at column 0,
            // its comments and blank lines.
            continue;
        }
        out.push_str(line);
    }
    if !channels.is_empty() && !wrote_channels {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&channels_block(channels));
        changed = true;
    }
    changed.then_some(out)
}

fn channels_block(channels: &[String]) -> String {
    let mut block = String::from("channels:\n");
    for channel in channels {
        // Quoted: a channel is a name or a URL, never YAML syntax.
        block.push_str(&format!("  - \"{}\"\n", channel.replace(['"', '\\'], "")));
    }
    block
}

/// Package names with a record in `conda-meta` (`<name>-<version>-<build>.json`).
pub(super) fn installed_names(prefix: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(prefix.join("conda-meta")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let file = entry.file_name().to_string_lossy().into_owned();
            let stem = file.strip_suffix(".json")?;
            let mut parts = stem.rsplitn(3, '-');
            let (_build, _version, name) = (parts.next()?, parts.next()?, parts.next()?);
            Some(name.to_lowercase())
        })
        .collect()
}

/// `conda-meta/state` as micromamba writes it for an environment file's
/// `variables:` (names upper-cased and sorted, indented by four).
fn write_state(prefix: &Path, variables: &[(String, String)]) -> Result<(), Error> {
    let mut sorted: Vec<(String, &str)> = variables
        .iter()
        .map(|(name, value)| (name.to_uppercase(), value.as_str()))
        .collect();
    sorted.sort();
    let mut text = String::from("{\n    \"env_vars\": {\n");
    for (i, (name, value)) in sorted.iter().enumerate() {
        text.push_str("        ");
        crate::json::string(&mut text, name);
        text.push_str(": ");
        crate::json::string(&mut text, value);
        text.push_str(if i + 1 < sorted.len() { ",\n" } else { "\n" });
    }
    text.push_str("    }\n}");
    let state = prefix.join("conda-meta/state");
    std::fs::write(&state, text).map_err(|e| user(format!("cannot write {}: {e}", shown(&state))))
}

/// What a spec installs: the conda packages the environment must hold
/// (for a lock, every one it lists for this platform; for an environment
/// file, those it names), and the pip packages (None: not all named).
pub(super) fn expected(spec: &Spec) -> Result<(Vec<String>, Option<Vec<String>>), Error> {
    if spec.is_lock {
        let lock = spec::read_lock(&spec.path)?;
        return Ok((lock.conda_names(), Some(lock.pip_names())));
    }
    let environment = spec::read_environment(&spec.path)?;
    // A package by URL or path (`- ./x-1.0-0.conda`) has no name to look
    // for; the others must all be there.
    let conda = environment
        .packages
        .into_iter()
        .filter(|p| {
            !p.is_empty() && !p.contains('/') && !p.ends_with(".conda") && !p.ends_with(".tar.bz2")
        })
        .collect();
    Ok((conda, environment.pip_names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_files_are_told_by_name() {
        assert!(read_as_lock("conda-lock.yml"));
        assert!(read_as_lock("gpu-lock.yaml"));
        assert!(!read_as_lock("conda-lock-gpu.yml"));
        assert!(!read_as_lock("environment.yml"));
    }

    #[test]
    fn environment_rewrites_touch_only_name_and_channels() {
        let text = "name: team/ml\nchannels:\n  - defaults # old\n- other\ndependencies:\n  - python=3.11\nvariables:\n  V: 1.10\n";
        assert_eq!(
            rewrite_environment(text, &[]).unwrap(),
            "channels:\n  - defaults # old\n- other\ndependencies:\n  - python=3.11\nvariables:\n  V: 1.10\n"
        );
        assert_eq!(
            rewrite_environment(text, &["conda-forge".into(), "file:///c".into()]).unwrap(),
            "channels:\n  - \"conda-forge\"\n  - \"file:///c\"\ndependencies:\n  - python=3.11\nvariables:\n  V: 1.10\n"
        );
        // A quoted key, after a byte-order mark.
        assert_eq!(
            rewrite_environment("\u{feff}\"name\": a/b\nchannels: [c]\n", &[]).unwrap(),
            "channels: [c]\n"
        );
        // Nothing to change: the file is used as it is.
        assert_eq!(rewrite_environment("name: ml\nchannels: [a]\n", &[]), None);
        // Channels added when the file has none.
        assert_eq!(
            rewrite_environment("dependencies: [python]", &["c".into()]).unwrap(),
            "dependencies: [python]\nchannels:\n  - \"c\"\n"
        );
    }

    #[test]
    fn installed_names_come_from_records() {
        let prefix = tempfile::tempdir().unwrap();
        let meta = prefix.path().join("conda-meta");
        std::fs::create_dir_all(&meta).unwrap();
        for file in [
            "python-3.11.9-0.json",
            "python-dateutil-2.9.0-pyhd8ed1ab_0.json",
            "history",
        ] {
            std::fs::write(meta.join(file), "{}").unwrap();
        }
        let mut names = installed_names(prefix.path());
        names.sort();
        assert_eq!(names, ["python", "python-dateutil"]);
    }

    #[test]
    fn state_is_written_as_micromamba_writes_it() {
        let prefix = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(prefix.path().join("conda-meta")).unwrap();
        write_state(
            prefix.path(),
            &[
                ("my_var".into(), "1.10".into()),
                ("B".into(), "on".into()),
                ("A".into(), "x y".into()),
            ],
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(prefix.path().join("conda-meta/state")).unwrap(),
            "{\n    \"env_vars\": {\n        \"A\": \"x y\",\n        \"B\": \"on\",\n        \"MY_VAR\": \"1.10\"\n    }\n}"
        );
    }
}
