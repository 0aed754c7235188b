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
use crate::shell::Shell;
use crate::{project, trust};
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

    /// Whether `activation` may be applied: the environment and what it
    /// puts on PATH are this user's, and the user approved the project as
    /// it is now. Otherwise the one line that says why not.
    fn approval(&self, activation: &Activation) -> Result<(), String> {
        let project = Path::new(OsStr::from_bytes(&self.facts.project));
        let env_dir = self.facts.env_dir();
        let shown = crate::config::shown(project);
        trust::check_environment(env_dir, activation)
            .map_err(|why| format!("{shown}: not activated: {why}"))?;
        let config = std::fs::read(project::config_path(project))
            .map_err(|e| format!("{shown}: not activated: cannot read .pyve/config: {e}"))?;
        let verdict = trust::verdict(&trust::Subject {
            project,
            config: &config,
            envs: &[trust::EnvRef {
                dir: env_dir.to_owned(),
                marker: self.backend.marker(env_dir),
            }],
        });
        if verdict.is_trusted() {
            Ok(())
        } else {
            Err(verdict.blocked(project))
        }
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

/// What this shell was already told, so each problem is told once per
/// shell session: tokens, one per line, oldest first, a bounded number.
struct Told(Vec<Vec<u8>>);

impl Told {
    const MAX: usize = 32;

    fn parse(bytes: &[u8]) -> Told {
        Told(
            bytes
                .split(|&b| b == b'\n')
                .filter(|t| !t.is_empty())
                .map(<[u8]>::to_vec)
                .collect(),
        )
    }

    fn contains(&self, token: &[u8]) -> bool {
        self.0.iter().any(|t| t == token)
    }

    /// Tells `lines` unless `token` was told; records it.
    fn tell(&mut self, token: Vec<u8>, lines: &[String], diagnostics: &mut dyn Write) {
        if self.contains(&token) {
            return;
        }
        for line in lines {
            let _ = writeln!(diagnostics, "pyve: {line}");
        }
        if self.0.len() >= Self::MAX {
            self.0.remove(0);
        }
        self.0.push(token);
    }

    fn encode(&self) -> Vec<u8> {
        self.0.join(&b'\n')
    }
}

/// Runs the engine; returns the shell code for stdout. Diagnostics go to
/// `diagnostics` (stderr), each at most once per shell session.
pub fn run(request: &Request, diagnostics: &mut dyn Write) -> Vec<u8> {
    let shell = request.shell;
    // The stamp is renewed before anything is read, so a change made while
    // this runs is newer than the stamp and caught at the next prompt.
    let stamp = watch::renew_stamp(request.stamp.as_deref(), request.shell_pid);
    let mut told = Told::parse(&request.diagnosed);
    let found = project::find_root(&request.pwd);
    let mut out = Vec::with_capacity(1024);
    shell.begin(&mut out);

    // Empty counts as absent: `export PYVE_STATE=` is how people clear it.
    let raw_state = std::env::var_os(state::VAR).filter(|v| !v.is_empty());
    let state = match raw_state.as_ref().map(|raw| State::decode(raw.as_bytes())) {
        None => None,
        Some(Ok(state)) => Some(state),
        Some(Err(e)) => {
            // Without the record of what was applied, neither reverting nor
            // applying on top can be right: change nothing, say how to fix.
            let raw = raw_state.as_ref().map_or(&b""[..], |r| r.as_bytes());
            let token = format!("state:{}", trust::short_digest(raw)).into_bytes();
            let clear = if shell.script_extension() == "fish" {
                "set -e PYVE_STATE"
            } else {
                "unset PYVE_STATE"
            };
            told.tell(
                token,
                &[format!(
                    "{} is corrupt ({e}): it was edited by hand or written by an incompatible pyve, \
                     so pyve cannot tell what it changed in this shell and changes nothing; \
                     open a new shell, or run `{clear}` and leave and re-enter the project",
                    state::VAR
                )],
                diagnostics,
            );
            finish(&mut out, request, &stamp, &found, None, &told);
            return out;
        }
    };

    // The project's resolved config, active or not (its environment may be
    // missing, and is then watched for).
    let mut model: Option<Model> = None;
    // Set when the state already describes exactly what should be active.
    let mut unchanged = false;
    // Set when the state was applied under an approval of these very files.
    let mut approved_before = false;
    if let Some((root, config_metadata)) = &found {
        let root_bytes = root.as_os_str().as_bytes();
        // `.pyve/current` chooses among named environments: its link is
        // part of what the config decided (one lstat, only here).
        let pointer = std::fs::symlink_metadata(root.join(project::POINTER_RELATIVE))
            .map_or_else(|_| MISSING.to_owned(), |m| fingerprint(&m));
        let config_fp = format!("{}+{pointer}", fingerprint(config_metadata));
        let known = state
            .as_ref()
            .filter(|s| s.facts.root == root_bytes && s.facts.config_fp == config_fp)
            .and_then(|s| Some((s, Model::from_state(s)?)));
        model = match known {
            Some((current_state, mut current_model)) => {
                let facts = &mut current_model.facts;
                facts.marker_fp = fingerprint_path(&current_model.backend.marker(facts.env_dir()));
                facts.trust_fp =
                    trust::record_fingerprint(Path::new(OsStr::from_bytes(&facts.project)));
                approved_before = facts.marker_fp == current_state.facts.marker_fp
                    && facts.trust_fp == current_state.facts.trust_fp;
                // An activation that reads the environment's own files is
                // recomputed; the diff then changes only what changed.
                unchanged = approved_before && !current_model.backend.reads_environment();
                Some(current_model)
            }
            None => load_model(root, config_fp, &mut told, diagnostics),
        };
    }
    let mut entering_scripts = Vec::new();
    if !unchanged {
        let ready = model.as_ref().filter(|m| m.ready());
        let old_ops: &[Op] = state.as_ref().map_or(&[], |s| &s.ops);
        let before = |name: &str| before_pyve(old_ops, name);
        let mut new_activation = ready.map(|m| m.activation(&before));
        if let (Some(m), Some(activation)) = (ready, &new_activation) {
            let notes = if approved_before {
                Ok(())
            } else {
                m.approval(activation)
            };
            match notes {
                Ok(()) => {
                    let token = format!("{}/{}", m.facts.config_fp, m.facts.marker_fp).into_bytes();
                    if !activation.warnings.is_empty() {
                        told.tell(token, &activation.warnings, diagnostics);
                    }
                }
                Err(blocked) => {
                    let token = format!(
                        "t:{}/{}/{}",
                        m.facts.config_fp, m.facts.marker_fp, m.facts.trust_fp
                    )
                    .into_bytes();
                    told.tell(token, &[blocked], diagnostics);
                    new_activation = None;
                }
            }
        }
        let active = ready.filter(|_| new_activation.is_some());
        let Some(scripts) = apply(
            &mut out,
            shell,
            state.as_ref(),
            raw_state.as_deref(),
            active,
            new_activation.as_ref(),
            &told,
        ) else {
            // Leaving ran deactivation scripts; the engine runs again on
            // what they left.
            return out;
        };
        entering_scripts = scripts;
        let prompt: &[u8] = match active {
            Some(m) if m.facts.show_prompt => &m.facts.prompt,
            _ => b"",
        };
        shell.call(&mut out, "__pyve_prompt", prompt);
    } else if let Some(m) = model.as_ref().filter(|m| m.ready()) {
        // Nothing changed for pyve, but a shell started inside the project
        // may have put version manager shims in front again. Most PATHs
        // have no shims: then PATH is read once and nothing else is done.
        let has_shims = std::env::var_os("PATH")
            .is_some_and(|path| path.as_bytes().windows(6).any(|w| w == b"/shims"));
        let mut env = Env::default();
        // Recorded in reverse: each was prepended in turn.
        let entries: Vec<&[u8]> = state
            .iter()
            .filter(|_| has_shims)
            .flat_map(|s| s.ops.iter().rev())
            .filter_map(|op| match op {
                Op::Prepend { entry } => Some(entry.as_slice()),
                _ => None,
            })
            .collect();
        env.ahead_of_shims(&entries);
        if env.emit(shell, &mut out) {
            shell.rehash(&mut out);
        }
        let prompt: &[u8] = if m.facts.show_prompt {
            &m.facts.prompt
        } else {
            b""
        };
        shell.call(&mut out, "__pyve_prompt", prompt);
    }
    finish(&mut out, request, &stamp, &found, model.as_ref(), &told);
    // Entering: the environment's activation scripts run last, on the
    // environment already in place, as conda runs them, and interruptibly.
    if !entering_scripts.is_empty() {
        let scripts: Vec<Vec<u8>> = entering_scripts
            .iter()
            .map(|s| s.as_os_str().as_bytes().to_vec())
            .collect();
        shell.activation_scripts(&mut out, &scripts);
    }
    out
}

/// Writes the diff from what `state` applied to `activation` (None: nothing
/// active) and the new state, and returns the activation scripts that are
/// due. Returns None when it wrote a first phase of leaving instead
/// (deactivation scripts, then the engine again).
fn apply(
    out: &mut Vec<u8>,
    shell: &dyn Shell,
    state: Option<&State>,
    raw_state: Option<&OsStr>,
    active: Option<&Model>,
    activation: Option<&Activation>,
    told: &Told,
) -> Option<Vec<PathBuf>> {
    let old_ops: &[Op] = state.map_or(&[], |s| &s.ops);
    let mut wanted = activation.map(wanted_ops).unwrap_or_default();
    if let (Some(m), Some(activation)) = (active, activation) {
        let has_scripts = activation
            .scripts
            .as_ref()
            .is_some_and(|s| s.any(shell.script_extension()));
        if has_scripts {
            wanted.push(Op::Scripts {
                env_dir: m.facts.env_dir.clone(),
                version: m.facts.marker_fp.clone(),
            });
        }
    }
    // Leaving an environment whose activation scripts ran: its
    // deactivation scripts run first, while it is still active, and
    // the engine runs again on what they left, so PATH edits they
    // make are not overwritten by a value computed before them.
    if let Some(state) = state {
        let leaving = old_ops.iter().position(|op| {
            matches!(op, Op::Scripts { .. }) && !wanted.iter().any(|w| op.same_effect(w))
        });
        if let Some(index) = leaving {
            if let Op::Scripts { env_dir, .. } = &old_ops[index] {
                let scripts = backend::Scripts {
                    dir: Path::new(OsStr::from_bytes(env_dir)).join("etc/conda"),
                };
                for script in scripts.list(false, shell.script_extension()) {
                    shell.source(out, script.as_os_str().as_bytes());
                }
            }
            let mut remaining = state.clone();
            remaining.ops.remove(index);
            shell.export(out, state::VAR, remaining.encode().as_bytes());
            shell.set_global(out, "__pyve_diagnosed", &told.encode());
            shell.rerun(out);
            return None;
        }
    }
    let mut env = Env::default();
    let mut ops = Vec::new();
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
    if let Some(activation) = activation {
        let entries: Vec<&[u8]> = activation.path_prepend.iter().map(Vec::as_slice).collect();
        env.ahead_of_shims(&entries);
    }
    let path_changed = env.emit(shell, out);
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
            if raw_state.map(OsStr::as_bytes) != Some(encoded.as_bytes()) {
                shell.export(out, state::VAR, encoded.as_bytes());
            }
        }
        None => {
            if raw_state.is_some() {
                shell.unset(out, state::VAR);
            }
        }
    }
    if path_changed {
        shell.rehash(out);
    }
    let scripts = activation
        .and_then(|a| a.scripts.as_ref())
        .filter(|_| entered)
        .map(|s| s.list(true, shell.script_extension()))
        .unwrap_or_default();
    Some(scripts)
}

/// The shell variables every run ends with: what to watch for the fast
/// path, the stamp, what was told, and last the directory handled.
fn finish(
    out: &mut Vec<u8>,
    request: &Request,
    stamp: &Option<PathBuf>,
    found: &Option<(PathBuf, Metadata)>,
    model: Option<&Model>,
    told: &Told,
) {
    let shell = request.shell;
    // Without a stamp every watched path would look newer: watch nothing
    // and run on directory changes only.
    let watched = match stamp {
        Some(_) => watch::watch_list(
            &request.pwd,
            found.as_ref().map(|(root, _)| root.as_path()),
            model.map(|m| watch::EnvWatch {
                env_dir: m.facts.env_dir(),
                backend: m.backend,
                ready: m.ready(),
            }),
        ),
        None => Vec::new(),
    };
    shell.set_list(out, "__pyve_watch", &watched);
    shell.set_global(
        out,
        "__pyve_stamp",
        stamp
            .as_ref()
            .map_or(&b""[..], |p| p.as_os_str().as_bytes()),
    );
    shell.set_global(out, "__pyve_diagnosed", &told.encode());
    // Last: an interrupted eval leaves the old directory, so it runs again.
    shell.set_global(out, "__pyve_pwd", request.pwd.as_os_str().as_bytes());
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
    told: &mut Told,
    diagnostics: &mut dyn Write,
) -> Option<Model> {
    // Resolved here, on the slow path only: a project reached through a
    // symlink is the same project, with the same name and environment.
    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    // The config's own problems are told once per version of the file.
    let token = config_fp.clone().into_bytes();
    if let Err(why) = trust::check_project_files(&real_root) {
        told.tell(
            token,
            &[format!("{why}; environment not activated")],
            diagnostics,
        );
        return None;
    }
    let resolved = match project::load(&real_root, project::Selector::Active) {
        Ok((resolved, warnings)) => {
            if !warnings.is_empty() {
                told.tell(token, &warnings, diagnostics);
            }
            resolved
        }
        Err(error) => {
            told.tell(
                token,
                &[format!("{error}; environment not activated")],
                diagnostics,
            );
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
            trust_fp: trust::record_fingerprint(&real_root),
        },
        backend: resolved.backend,
    })
}
