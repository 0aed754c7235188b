//! The hook engine: what the prompt hook runs when the shell's builtins
//! could not rule a change out (a new directory, a watched file changed).
//!
//! It finds the project for the directory, compares that with what
//! `PYVE_STATE` says was applied, and prints the exact export/unset diff.
//! Revert is compare-and-swap: a variable is restored only while it still
//! holds what pyve set, a PATH entry is removed once, where it is. When the
//! state shows that neither the project nor its config nor its environment
//! changed, the engine parses nothing and changes nothing: it only renews the
//! watch list for the shell's fast path.
//!
//! This module knows nothing of the command line; `main` hands it arguments.

mod env;
pub mod state;
mod watch;

use std::ffi::OsStr;
use std::fs::Metadata;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::backend::{self, Activation};
use crate::project;
use crate::shell::Shell;
use env::Env;
use state::{Facts, Op, State};

/// What the shell passes on every call.
pub struct Request<'a> {
    pub shell: &'a dyn Shell,
    /// The shell's logical `$PWD`.
    pub pwd: PathBuf,
    /// The stamp file from the previous call in this shell, if any.
    pub stamp: Option<PathBuf>,
    /// Token of the config whose problems this shell has already been told.
    pub diagnosed: Vec<u8>,
    pub shell_pid: u32,
}

/// A project's facts with its backend resolved: what activation needs.
struct Model {
    facts: Facts,
    backend: &'static dyn backend::Backend,
}

impl Model {
    fn from_state(state: &State) -> Option<Model> {
        Some(Model {
            backend: backend::by_name(&state.facts.backend)?,
            facts: state.facts.clone(),
        })
    }

    fn ready(&self) -> bool {
        self.facts.marker_fp != MISSING
    }

    fn activation(&self, before: backend::Before) -> Activation {
        let facts = &self.facts;
        project::activation(
            self.backend,
            facts.env_dir(),
            &facts.env_name,
            &facts.project,
            &facts.prompt,
            before,
        )
    }

    /// Whether the user approved this project as its config is now. Read
    /// only when the environment has scripts to run.
    fn trusted(&self) -> bool {
        let config = Path::new(OsStr::from_bytes(&self.facts.root)).join(project::CONFIG_RELATIVE);
        let Ok(bytes) = std::fs::read(config) else {
            return false;
        };
        crate::trust::is_trusted(Path::new(OsStr::from_bytes(&self.facts.project)), &bytes)
    }
}

/// What `name` held before pyve's applied ops: the prior recorded by
/// pyve's own op, even when something changed the variable since (a conda
/// environment activated by hand inside the project must not make pyve
/// count its level again); the current value when pyve never touched it.
fn before_pyve(old_ops: &[Op], name: &str) -> Option<Vec<u8>> {
    for op in old_ops.iter().rev() {
        match op {
            Op::Set { name: n, prior, .. } if n == name => return prior.clone(),
            Op::Unset { name: n, prior } if n == name => return Some(prior.clone()),
            _ => {}
        }
    }
    std::env::var_os(name).map(OsStringExt::into_vec)
}

/// A file's identity and content version, without reading it.
fn fingerprint(metadata: &Metadata) -> String {
    format!(
        "{:x}.{:x}.{:x}.{:x}.{:x}",
        metadata.dev(),
        metadata.ino(),
        metadata.len(),
        metadata.mtime(),
        metadata.mtime_nsec()
    )
}

const MISSING: &str = "-";

fn fingerprint_path(path: &Path) -> String {
    std::fs::metadata(path)
        .map(|m| fingerprint(&m))
        .unwrap_or_else(|_| MISSING.to_owned())
}

/// Runs the engine; returns the shell code for stdout. Diagnostics go to
/// `diagnostics` (stderr), each at most once per config version per shell.
pub fn run(request: &Request, diagnostics: &mut dyn Write) -> Vec<u8> {
    let shell = request.shell;
    // The stamp is renewed before anything is read, so a change made while
    // this runs is newer than the stamp and caught at the next prompt.
    let stamp = watch::renew_stamp(request.stamp.as_deref(), request.shell_pid);
    let mut diagnosed = request.diagnosed.clone();

    // Empty counts as absent: `export PYVE_STATE=` is how people clear it.
    let raw_state = std::env::var_os(state::VAR).filter(|v| !v.is_empty());
    let state = match &raw_state {
        None => None,
        Some(raw) => match State::decode(raw.as_bytes()) {
            Ok(state) => Some(state),
            Err(e) => {
                let _ = writeln!(
                    diagnostics,
                    "pyve: ignoring a corrupt {} ({e}); it was edited by hand or written by another pyve version",
                    state::VAR
                );
                None
            }
        },
    };

    let found = project::find_root(&request.pwd);
    // The project's resolved config, active or not (its environment may be
    // missing, and is then watched for).
    let mut model: Option<Model> = None;
    // Set when the state already describes exactly what should be active.
    let mut unchanged = false;
    if let Some((root, config_metadata)) = &found {
        let root_bytes = root.as_os_str().as_bytes();
        let config_fp = fingerprint(config_metadata);
        let known = state
            .as_ref()
            .filter(|s| s.facts.root == root_bytes && s.facts.config_fp == config_fp)
            .and_then(|s| Some((s, Model::from_state(s)?)));
        model = match known {
            Some((current_state, mut current_model)) => {
                let marker = current_model.backend.marker(current_model.facts.env_dir());
                current_model.facts.marker_fp = fingerprint_path(&marker);
                // An activation that reads the environment's own files is
                // recomputed; the diff then changes only what changed.
                unchanged = current_model.facts.marker_fp == current_state.facts.marker_fp
                    && !current_model.backend.reads_environment();
                Some(current_model)
            }
            None => load_model(root, config_fp, &mut diagnosed, diagnostics),
        };
    }
    let active = model.as_ref().filter(|m| m.ready());
    let mut out = Vec::with_capacity(1024);
    shell.begin(&mut out);
    if !unchanged {
        let mut env = Env::default();
        let mut ops = Vec::new();
        let old_ops: &[Op] = state.as_ref().map_or(&[], |s| &s.ops);
        let before = |name: &str| before_pyve(old_ops, name);
        let new_activation = active.map(|m| m.activation(&before));
        let mut wanted = new_activation.as_ref().map(wanted_ops).unwrap_or_default();
        let mut notes: Vec<String> = Vec::new();
        if let (Some(m), Some(activation)) = (active, &new_activation) {
            notes.extend(activation.warnings.iter().cloned());
            let extension = shell.script_extension();
            if activation.needs_approval(extension) {
                if m.trusted() {
                    wanted.extend(activation.own.iter().map(|(name, value)| Op::Set {
                        name: name.clone(),
                        value: value.clone(),
                        prior: None,
                    }));
                    let has_scripts = activation
                        .scripts
                        .as_ref()
                        .is_some_and(|s| s.any(extension));
                    if has_scripts {
                        wanted.push(Op::Scripts {
                            env_dir: m.facts.env_dir.clone(),
                            version: m.facts.marker_fp.clone(),
                        });
                    }
                } else {
                    notes.push(crate::trust::not_approved(Path::new(OsStr::from_bytes(
                        &m.facts.project,
                    ))));
                }
            }
        }
        if let Some(m) = active.filter(|_| !notes.is_empty()) {
            let token = format!("{}/{}", m.facts.config_fp, m.facts.marker_fp).into_bytes();
            if diagnosed != token {
                for note in &notes {
                    let _ = writeln!(diagnostics, "pyve: {note}");
                }
                diagnosed = token;
            }
        }
        // Leaving an environment whose activation scripts ran: its
        // deactivation scripts run first, while it is still active, and
        // the engine runs again on what they left, so PATH edits they
        // make are not overwritten by a value computed before them.
        if let Some(state) = &state {
            let leaving = old_ops.iter().position(|op| {
                matches!(op, Op::Scripts { .. }) && !wanted.iter().any(|w| op.same_effect(w))
            });
            if let Some(index) = leaving {
                if let Op::Scripts { env_dir, .. } = &old_ops[index] {
                    let scripts = backend::Scripts {
                        dir: Path::new(OsStr::from_bytes(env_dir)).join("etc/conda"),
                    };
                    for script in scripts.list(false, shell.script_extension()) {
                        shell.source(&mut out, script.as_os_str().as_bytes());
                    }
                }
                let mut remaining = State {
                    facts: state.facts.clone(),
                    ops: old_ops.to_vec(),
                };
                remaining.ops.remove(index);
                shell.export(&mut out, state::VAR, remaining.encode().as_bytes());
                shell.set_global(&mut out, "__pyve_diagnosed", &diagnosed);
                shell.rerun(&mut out);
                return out;
            }
        }
        // Revert, newest first, what the new activation does not keep.
        for op in old_ops.iter().rev() {
            if !wanted.iter().any(|w| op.same_effect(w)) {
                env.revert(op);
            }
        }
        for want in &wanted {
            match old_ops.iter().find(|op| op.same_effect(want)) {
                // Still in effect from before: keep it and its prior value.
                Some(kept) => ops.push(kept.clone()),
                None => {
                    if let Some(op) = env.apply(want) {
                        ops.push(op);
                    }
                }
            }
        }
        let path_changed = env.emit(shell, &mut out);
        let entered = wanted
            .iter()
            .any(|w| matches!(w, Op::Scripts { .. }) && !old_ops.contains(w));
        match active {
            Some(m) => {
                let new_state = State {
                    facts: m.facts.clone(),
                    ops,
                };
                let encoded = new_state.encode();
                if raw_state.as_ref().map(|r| r.as_bytes()) != Some(encoded.as_bytes()) {
                    shell.export(&mut out, state::VAR, encoded.as_bytes());
                }
            }
            None => {
                if raw_state.is_some() {
                    shell.unset(&mut out, state::VAR);
                }
            }
        }
        if path_changed {
            shell.rehash(&mut out);
        }
        // Entering: the environment's activation scripts run last, on the
        // environment already in place, as conda runs them.
        if entered {
            if let Some(scripts) = new_activation.as_ref().and_then(|a| a.scripts.as_ref()) {
                for script in scripts.list(true, shell.script_extension()) {
                    shell.source(&mut out, script.as_os_str().as_bytes());
                }
            }
        }
    }
    let prompt: &[u8] = match active {
        Some(m) if m.facts.show_prompt => &m.facts.prompt,
        _ => b"",
    };
    shell.call(&mut out, "__pyve_prompt", prompt);

    // Without a stamp every watched path would look newer: watch nothing
    // and run on directory changes only.
    let watched = match &stamp {
        Some(_) => watch::watch_list(
            &request.pwd,
            found.as_ref().map(|(root, _)| root.as_path()),
            model.as_ref().map(|m| watch::EnvWatch {
                env_dir: m.facts.env_dir(),
                backend: m.backend,
                ready: m.ready(),
            }),
        ),
        None => Vec::new(),
    };
    shell.set_list(&mut out, "__pyve_watch", &watched);
    shell.set_global(
        &mut out,
        "__pyve_stamp",
        stamp
            .as_ref()
            .map_or(&b""[..], |p| p.as_os_str().as_bytes()),
    );
    shell.set_global(&mut out, "__pyve_diagnosed", &diagnosed);
    // Last: an interrupted eval leaves the old directory, so it runs again.
    shell.set_global(&mut out, "__pyve_pwd", request.pwd.as_os_str().as_bytes());
    out
}

/// The ops an activation wants, with placeholder priors (filled in on apply).
fn wanted_ops(activation: &Activation) -> Vec<Op> {
    let mut ops = Vec::new();
    // Prepending in reverse keeps the backend's order at the front of PATH.
    for entry in activation.path_prepend.iter().rev() {
        ops.push(Op::Prepend {
            entry: entry.clone(),
        });
    }
    for (name, value) in &activation.set {
        ops.push(Op::Set {
            name: name.clone(),
            value: value.clone(),
            prior: None,
        });
    }
    for name in &activation.unset {
        ops.push(Op::Unset {
            name: (*name).to_owned(),
            prior: Vec::new(),
        });
    }
    ops
}

/// Parses the config at `root`. Problems are printed unless this shell was
/// already told about this very version of the file.
fn load_model(
    root: &Path,
    config_fp: String,
    diagnosed: &mut Vec<u8>,
    diagnostics: &mut dyn Write,
) -> Option<Model> {
    // A later token `<config_fp>/<marker_fp>` means activation notes were
    // told too, which implies the config's own were.
    let already_told = diagnosed.as_slice() == config_fp.as_bytes()
        || diagnosed.starts_with(format!("{config_fp}/").as_bytes());
    let mut tell = |message: &str| {
        if !already_told {
            let _ = writeln!(diagnostics, "pyve: {message}");
        }
    };
    // Resolved here, on the slow path only: a project reached through a
    // symlink is the same project, with the same name and environment.
    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    let resolved = match project::load(&real_root) {
        Ok((resolved, warnings)) => {
            for warning in &warnings {
                tell(warning);
            }
            if !warnings.is_empty() && !already_told {
                *diagnosed = config_fp.clone().into_bytes();
            }
            resolved
        }
        Err(error) => {
            tell(&format!("{error}; environment not activated"));
            *diagnosed = config_fp.into_bytes();
            return None;
        }
    };
    let marker_fp = fingerprint_path(&resolved.backend.marker(&resolved.env_dir));
    Some(Model {
        facts: Facts {
            root: root.as_os_str().as_bytes().to_vec(),
            project: real_root.as_os_str().as_bytes().to_vec(),
            config_fp,
            backend: resolved.backend.name().to_owned(),
            env_dir: resolved.env_dir.into_os_string().into_vec(),
            env_name: resolved.env_name,
            prompt: resolved.prompt,
            show_prompt: resolved.show_prompt,
            marker_fp,
        },
        backend: resolved.backend,
    })
}
