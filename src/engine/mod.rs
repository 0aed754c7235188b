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
//! This module knows nothing of the command line, and reads no variable of
//! its own process: the shell's variables come in the request, so every
//! decision can be tested with a table of them.

mod choice;
mod diff;
mod here;
mod leave;
mod model;
mod seal;
pub mod state;
mod told;
mod watch;
pub use watch::output_file;

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::backend::Activation;
use crate::config::UserConfig;
use crate::shell::{protocol, Shell};
use crate::trust::Store;
use crate::vars::{self, Vars};
use crate::{deps, pathlist, project};
use diff::Diff;
use here::Here;
use model::Model;
use seal::Seal;
use state::{Decoded, Op, State};
use told::Told;

/// What the shell passes on every call.
pub struct Request<'a> {
    pub shell: &'a dyn Shell,
    /// The shell's logical `$PWD`.
    pub pwd: PathBuf,
    /// The stamp file from the previous call in this shell, if any.
    pub stamp: Option<PathBuf>,
    /// Tokens of what this shell has already been told.
    pub diagnosed: Vec<u8>,
    pub shell_pid: u32,
    /// The shell's variables.
    pub vars: &'a dyn Vars,
}

/// What one run works with.
struct Run<'a> {
    request: &'a Request<'a>,
    store: Store,
    told: Told,
    out: Vec<u8>,
    /// The user's key, read when first needed (never on the
    /// nothing-to-do path).
    seal: Option<Result<Seal, seal::NoKey>>,
    /// The environment in effect after this run, if any.
    active_env: Option<PathBuf>,
    /// This shell's `pyve use` for the project here.
    chosen: Option<String>,
    /// The user's config, read when first needed: None until then, Some(None)
    /// when there is none (or it is broken, which is told once).
    user: Option<Option<UserConfig>>,
    /// Where the user's config is and its fingerprint, stat'ed once a run.
    user_file: Option<(Option<PathBuf>, String)>,
}

/// Runs the engine; returns the shell code for stdout. Diagnostics go to
/// `diagnostics` (stderr), each at most once per shell session.
#[cfg(test)]
pub fn run(request: &Request, diagnostics: &mut dyn Write) -> Vec<u8> {
    run_with_stamp(request, diagnostics).0
}

/// `run`, and the stamp the shell has now (None: no private directory for
/// one), beside which a shell that sources the output from a file gets it.
pub fn run_with_stamp(
    request: &Request,
    diagnostics: &mut dyn Write,
) -> (Vec<u8>, Option<PathBuf>) {
    // The stamp is renewed before anything is read, so a change made while
    // this runs is newer than the stamp and caught at the next prompt.
    let renewed = watch::renew_stamp(request.stamp.as_deref(), request.shell_pid, request.vars);
    let mut run = Run::new(request);
    let stamp = renewed
        .map_err(|refused| {
            if let Some(line) = watch::no_stamp_line(&refused) {
                run.told.tell(b"stamp".to_vec(), &[line], diagnostics);
            }
        })
        .ok();
    let found = project::find_root(&request.pwd, &mut || {
        run.user(diagnostics).is_none_or(|u| u.zero_config())
    });
    request.shell.begin(&mut run.out);
    let root = found.as_ref().map(|found| found.root.as_path());
    run.chosen = choice::begin(request.vars, root, request.shell, &mut run.out);
    // Empty counts as absent: `export PYVE_STATE=` is how people clear it.
    let raw_state = request.vars.non_empty(vars::STATE);
    let Ok(decoded) = run.read_state(raw_state.as_deref(), diagnostics) else {
        run.finish(&stamp, &found, None, None, &[]);
        return (run.out, stamp);
    };
    let (mut state, signature) = match decoded {
        Some(Decoded { state, signature }) => (Some(state), Some(signature)),
        None => (None, None),
    };
    let mut here = match &found {
        Some(found) => run.here(found, state.as_ref(), diagnostics),
        None => Here::nothing(),
    };
    if let Some(state) = state.as_mut() {
        repair_inherited(state, request, &mut here);
    }
    let shims = here.unchanged && has_shims(request.vars);
    // What the state says was applied is acted on only when this pyve
    // sealed it for this user.
    if let Some(signature) = signature.filter(|_| !here.unchanged || shims) {
        if !run.sealed(&signature, &state, diagnostics) {
            run.finish(&stamp, &found, None, None, &[]);
            return (run.out, stamp);
        }
    }
    let mut entering = Vec::new();
    if !here.unchanged {
        match run.change(&here, state.as_ref(), raw_state.as_deref(), diagnostics) {
            Some(scripts) => entering = scripts,
            // Leaving ran deactivation scripts; the engine runs again on
            // what they left.
            None => return (run.out, stamp),
        }
    } else if let Some(model) = here.model.as_ref().filter(|m| m.ready()) {
        run.keep(model, state.as_ref(), shims);
    }
    // The active environment's sync record, read once: what to say about
    // its dependencies, and which declaration files to watch.
    let record = run.active_env.take().and_then(|d| deps::Record::read(&d));
    if let Some(record) = &record {
        run.dependencies(record, diagnostics);
    }
    run.finish(
        &stamp,
        &found,
        here.model.as_ref(),
        record.as_ref(),
        &here.watch,
    );
    // Entering: the environment's activation scripts run last, on the
    // environment already in place, as conda runs them, and interruptibly.
    if !entering.is_empty() {
        let scripts: Vec<Vec<u8>> = entering
            .iter()
            .map(|s| s.as_os_str().as_bytes().to_vec())
            .collect();
        request.shell.activation_scripts(&mut run.out, &scripts);
    }
    (run.out, stamp)
}

/// A state another shell handed down is checked: what no longer holds (a
/// child shell's rc file set PATH outright) is dropped, so it is applied
/// again. Handed down means written by another process, or met at this
/// shell's first run (no stamp yet), as after `exec zsh`, which keeps the
/// pid. An environment that reads its own files (conda) is recomputed every
/// time, and the diff keeps what the state says it applied: dropped here,
/// it is applied again there too.
fn repair_inherited(state: &mut State, request: &Request, here: &mut Here) {
    let inherited = state.pid != request.shell_pid || request.stamp.is_none();
    if inherited && !state.ops.iter().all(|op| op.holds(request.vars)) {
        state.ops.retain(|op| op.holds(request.vars));
        here.unchanged = false;
    }
}

/// Whether PATH has a version manager's shim directory. Most do not:
/// then PATH is read once and nothing else is done.
fn has_shims(vars: &dyn Vars) -> bool {
    vars.bytes(vars::PATH)
        .is_some_and(|path| pathlist::entries(&path).any(pathlist::is_shims))
}

/// What `name` held before pyve's applied ops: the prior recorded by
/// pyve's own op, even when something changed the variable since (a conda
/// environment activated by hand inside the project must not make pyve
/// count its level again); the shell's current value when pyve never
/// touched it.
fn before_pyve(vars: &dyn Vars, old_ops: &[Op], name: &str) -> Option<Vec<u8>> {
    for op in old_ops.iter().rev() {
        match op {
            Op::Set { name: n, prior, .. } if n == name => return prior.clone(),
            Op::Unset { name: n, prior } if n == name => return Some(prior.clone()),
            _ => {}
        }
    }
    vars.bytes(name)
}

impl<'a> Run<'a> {
    fn new(request: &'a Request<'a>) -> Run<'a> {
        Run {
            request,
            store: Store::new(request.vars),
            told: Told::parse(&request.diagnosed),
            out: Vec::with_capacity(1024),
            seal: None,
            active_env: None,
            chosen: None,
            user: None,
            user_file: None,
        }
    }

    fn shell(&self) -> &'a dyn Shell {
        self.request.shell
    }

    fn read_state(
        &mut self,
        raw: Option<&OsStr>,
        diagnostics: &mut dyn Write,
    ) -> Result<Option<state::Decoded>, ()> {
        state::read(raw, self.request.shell, &mut self.told, diagnostics)
    }

    /// Applies what should be active now (or nothing) on top of what the
    /// state says was applied. Returns the activation scripts due, or None
    /// when it wrote a first phase of leaving instead.
    fn change(
        &mut self,
        here: &Here,
        state: Option<&State>,
        raw_state: Option<&OsStr>,
        diagnostics: &mut dyn Write,
    ) -> Option<Vec<PathBuf>> {
        let vars = self.request.vars;
        let ready = here.model.as_ref().filter(|m| m.ready());
        self.tell_if_unbuilt(here, state, diagnostics);
        let old_ops: &[Op] = state.map_or(&[], |s| &s.ops);
        let before = |name: &str| before_pyve(vars, old_ops, name);
        let mut activation = ready.map(|m| m.activation(&before));
        if let (Some(model), Some(wanted)) = (ready, &activation) {
            if !self.approved(model, wanted, here.approved_before, diagnostics) {
                activation = None;
            }
        }
        if activation.is_some() && self.seal().is_none() {
            // Without the key, what is applied could not be sealed, and
            // could never be reverted.
            let problem = self
                .no_key()
                .map_or_else(|| "is missing".to_owned(), |p| p.to_string());
            let line = format!(
                "not activated: pyve seals what it applies with a key, and its key {problem}"
            );
            self.told.tell(b"seal:none".to_vec(), &[line], diagnostics);
            activation = None;
        }
        let mut active = ready.filter(|_| activation.is_some());
        let mark = self.out.len();
        let (mut scripts, size) =
            self.apply(state, raw_state, active, activation.as_ref(), diagnostics)?;
        if let Some(model) = active.filter(|_| size > state::MAX_BYTES) {
            // Exported, a state this large would make every later command
            // in the shell fail ("Argument list too long"), the engine too:
            // nothing is applied, and the line says why.
            self.out.truncate(mark);
            let facts = &model.facts;
            let token = format!("size:{}/{}", facts.config_fp, facts.marker_fp);
            let line = format!(
                "{}: not activated: its variables would make {} {size} bytes, and pyve keeps it \
                 under {} (a variable over 128 KiB makes every command in the shell fail); \
                 remove variables from the environment (conda's etc/conda/env_vars.d or \
                 conda-meta/state)",
                crate::text::shown(Path::new(OsStr::from_bytes(&facts.project))),
                vars::STATE,
                state::MAX_BYTES
            );
            self.told.tell(token.into_bytes(), &[line], diagnostics);
            active = None;
            (scripts, _) = self.apply(state, raw_state, None, None, diagnostics)?;
        }
        self.active_env = active.map(|m| m.facts.env_dir().to_owned());
        self.prompt(active);
        Some(scripts)
    }

    /// Whether `wanted` may be applied (`trust::decide`), telling once why
    /// not, or the activation's warnings.
    fn approved(
        &mut self,
        model: &Model,
        wanted: &Activation,
        approved_before: bool,
        diagnostics: &mut dyn Write,
    ) -> bool {
        let approved = if approved_before {
            Ok(())
        } else {
            model.approval(&self.store, wanted)
        };
        let facts = &model.facts;
        match approved {
            Ok(()) => {
                if !wanted.warnings.is_empty() {
                    let token = format!("{}/{}", facts.config_fp, facts.marker_fp);
                    self.told
                        .tell(token.into_bytes(), &wanted.warnings, diagnostics);
                }
                true
            }
            Err(blocked) => {
                let token = format!(
                    "t:{}/{}/{}",
                    facts.config_fp, facts.marker_fp, facts.trust_fp
                );
                // A project found without settings, never approved, is
                // every Python checkout: the hook says nothing there.
                if !blocked.silent {
                    self.told
                        .tell(token.into_bytes(), &[blocked.line], diagnostics);
                }
                false
            }
        }
    }

    /// The project's environment not built yet: what to run, once.
    fn tell_if_unbuilt(&mut self, here: &Here, state: Option<&State>, diagnostics: &mut dyn Write) {
        if let Some(unbuilt) = here.model.as_ref().filter(|m| !m.ready()) {
            // An environment deleted while inside was the user's doing.
            let deleted = state.is_some_and(|s| s.facts.root == unbuilt.facts.root);
            let chosen = self.chosen.as_deref();
            unbuilt.tell_unbuilt(&self.store, &mut self.told, chosen, deleted, diagnostics);
        }
    }

    /// Says once per change when the active environment is behind the
    /// project's declared dependencies (a lock pulled or edited since the
    /// last sync): stats against the sync record, nothing parsed.
    fn dependencies(&mut self, record: &deps::Record, diagnostics: &mut dyn Write) {
        let Some(stale) = record.stale() else {
            return;
        };
        let names: Vec<String> = stale
            .files
            .iter()
            .map(|f| {
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let line = format!("dependencies changed ({}): pyve sync", names.join(", "));
        self.told.tell(
            format!("deps:{}", stale.token).into_bytes(),
            &[line],
            diagnostics,
        );
    }

    /// Nothing changed for pyve, but a shell started inside the project
    /// may have put version manager shims in front again.
    fn keep(&mut self, model: &Model, state: Option<&State>, has_shims: bool) {
        self.active_env = Some(model.facts.env_dir().to_owned());
        let vars = self.request.vars;
        if has_shims {
            let mut diff = Diff::new(vars);
            // Recorded in reverse: each was prepended in turn.
            let entries: Vec<&[u8]> = state
                .iter()
                .flat_map(|s| s.ops.iter().rev())
                .filter_map(|op| match op {
                    Op::Prepend { entry } => Some(entry.as_slice()),
                    _ => None,
                })
                .collect();
            diff.ahead_of_shims(&entries);
            if diff.emit(self.shell(), &mut self.out) {
                self.shell().rehash(&mut self.out);
            }
        }
        self.prompt(Some(model));
    }

    /// Sets the prompt prefix for `active` (None: none), with the variable
    /// and value that say the environment is still the active one: the
    /// shell shows the prefix only while they hold.
    fn prompt(&mut self, active: Option<&Model>) {
        let Some(model) = active.filter(|m| m.facts.show_prompt) else {
            self.shell().call(&mut self.out, protocol::PROMPT, &[b""]);
            return;
        };
        // Escaped again: on the unchanged path the state's seal is not
        // checked, and escaping escaped text changes nothing (nor copies it).
        let prompt = crate::text::prompt_bytes(&model.facts.prompt);
        let variable = model.backend.active_variable().as_bytes();
        let arguments: [&[u8]; 3] = [&prompt, variable, &model.facts.env_dir];
        self.shell()
            .call(&mut self.out, protocol::PROMPT, &arguments);
    }

    /// Writes the diff from what `state` applied to `activation` (None:
    /// nothing active) and the new state, and returns the activation
    /// scripts that are due and the new state's size. Returns None when it
    /// wrote a first phase of leaving instead (deactivation scripts, then
    /// the engine again).
    fn apply(
        &mut self,
        state: Option<&State>,
        raw_state: Option<&OsStr>,
        active: Option<&Model>,
        activation: Option<&Activation>,
        diagnostics: &mut dyn Write,
    ) -> Option<(Vec<PathBuf>, usize)> {
        let old_ops: &[Op] = state.map_or(&[], |s| &s.ops);
        let mut wanted = activation.map(wanted_ops).unwrap_or_default();
        if let (Some(model), Some(activation)) = (active, activation) {
            let extension = self.shell().script_extension();
            if activation
                .scripts
                .as_ref()
                .is_some_and(|s| s.any(extension))
            {
                wanted.push(Op::Scripts {
                    env_dir: model.facts.env_dir.clone(),
                    version: model.facts.marker_fp.clone(),
                });
            }
        }
        if let Some(state) = state {
            if self.leave_scripts_first(state, &wanted, diagnostics) {
                return None;
            }
        }
        let mut diff = Diff::new(self.request.vars);
        let mut ops = Vec::new();
        // Revert, newest first, what the new activation does not keep.
        for op in old_ops.iter().rev() {
            if !wanted.iter().any(|w| op.same_effect(w)) {
                diff.revert(op);
            }
        }
        for want in &wanted {
            match old_ops.iter().find(|op| op.same_effect(want)) {
                // Still in effect from before: keep it and its prior value.
                Some(kept) => ops.push(kept.clone()),
                None => ops.extend(diff.apply(want)),
            }
        }
        if let Some(activation) = activation {
            let entries: Vec<&[u8]> = activation.path_prepend.iter().map(Vec::as_slice).collect();
            diff.ahead_of_shims(&entries);
        }
        let path_changed = diff.emit(self.shell(), &mut self.out);
        let entered = wanted
            .iter()
            .any(|w| matches!(w, Op::Scripts { .. }) && !old_ops.contains(w));
        let size = self.record(active, ops, raw_state);
        if path_changed {
            self.shell().rehash(&mut self.out);
        }
        let extension = self.shell().script_extension();
        let scripts = activation
            .and_then(|a| a.scripts.as_ref())
            .filter(|_| entered)
            .map(|s| s.list(true, extension))
            .unwrap_or_default();
        Some((scripts, size))
    }

    /// Exports the new state (or unsets it when nothing is active), only
    /// when it differs from the one the shell has. Returns its size.
    fn record(&mut self, active: Option<&Model>, ops: Vec<Op>, raw_state: Option<&OsStr>) -> usize {
        let Some(model) = active else {
            if raw_state.is_some() {
                self.shell().unset(&mut self.out, vars::STATE);
            }
            return 0;
        };
        let state = State {
            facts: model.facts.clone(),
            pid: self.request.shell_pid,
            ops,
        };
        // Present: `change` applies nothing without it.
        let Some(seal) = self.seal() else {
            return 0;
        };
        let encoded = state.encode(seal);
        if raw_state.map(OsStr::as_bytes) != Some(encoded.as_bytes()) {
            self.shell()
                .export(&mut self.out, vars::STATE, encoded.as_bytes());
        }
        encoded.len()
    }

    /// The shell variables every run ends with: what to watch for the fast
    /// path, the stamp, what was told, and last the directory handled.
    fn finish(
        &mut self,
        stamp: &Option<PathBuf>,
        found: &Option<project::Found>,
        model: Option<&Model>,
        record: Option<&deps::Record>,
        failed: &[PathBuf],
    ) {
        // Files edited in place: the project's dotenv files (also those of
        // settings that failed to load, so a fix is noticed) and the
        // user's config, when there is one.
        let user_config = match self.user_file() {
            (Some(path), fp) if fp != crate::files::MISSING => Some(path.clone()),
            _ => None,
        };
        let request = self.request;
        let mut files: Vec<&Path> = model.map_or_else(Vec::new, |m| m.dotenv().collect());
        files.extend(failed.iter().map(PathBuf::as_path));
        files.extend(user_config.as_deref());
        // Without a stamp every watched path would look newer: watch
        // nothing and run on directory changes only.
        let watched = match stamp {
            Some(_) => watch::watch_list(
                &request.pwd,
                found.as_ref().map(|f| (f.root.as_path(), f.source)),
                self.store.dir(),
                &files,
                model.map(|m| watch::EnvWatch {
                    env_dir: m.facts.env_dir(),
                    backend: m.backend,
                    ready: m.ready(),
                    declared: record.map_or_else(Vec::new, |r| r.watched().collect()),
                }),
            ),
            None => Vec::new(),
        };
        let shell = request.shell;
        let stamp_bytes = stamp
            .as_ref()
            .map_or(&b""[..], |p| p.as_os_str().as_bytes());
        shell.watch(&mut self.out, &watched, stamp_bytes);
        shell.set_list(&mut self.out, protocol::LEGACY_WATCH, &watched);
        shell.set_global(&mut self.out, protocol::STAMP, stamp_bytes);
        shell.set_global(&mut self.out, protocol::DIAGNOSED, &self.told.encode());
        let root = found
            .as_ref()
            .map_or(&b""[..], |f| f.root.as_os_str().as_bytes());
        shell.set_global(&mut self.out, protocol::ROOT, root);
        // Last: an apply cut short before here (fish cannot ignore Ctrl-C
        // while applying) leaves the directory unhandled, so it runs again.
        shell.set_global(
            &mut self.out,
            protocol::PWD,
            request.pwd.as_os_str().as_bytes(),
        );
    }
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

#[cfg(test)]
mod tests;
