//! `pyve run CMD…`: the project's environment without any shell state. pyve
//! replaces itself with CMD, so its exit code, signals, stdin and terminal
//! are CMD's own.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::error::Error;
use crate::shell::Bash;
use crate::text::shown;
use crate::vars::{self, Vars};
use crate::{deps, files, pathlist, python};

pub struct Options {
    /// The user vouches for the project (`--trust`).
    pub trust: bool,
    /// A named environment instead of the active one.
    pub env: Option<String>,
    /// The command and its arguments; never empty.
    pub command: Vec<OsString>,
    /// `--no-sync`: never install before running.
    pub no_sync: bool,
}

pub fn run(options: Options) -> Result<ExitCode, Error> {
    let vars = vars::process();
    let trusted = options.trust || vars::trust_all(vars);
    let selector = super::selector(vars, options.env.as_deref());
    let project = super::find_project(vars, trusted, selector)?;
    for warning in &project.warnings {
        warn!("{warning}");
    }
    let resolved = &project.resolved;
    if !resolved.marker().exists() {
        return Err(project.missing_environment());
    }
    let activation = resolved.activation(&project.root, &super::before(vars));
    project.require_approval(vars, &activation, trusted)?;
    // As `uv run` does: declaration files changed since the last sync
    // (stats against the record, nothing parsed) mean a sync first.
    if resolved.sync_on_run && !options.no_sync {
        if let Some(stale) = deps::stale(&resolved.env_dir) {
            info!(
                "{} changed since the last sync",
                crate::project::build::list(&stale.files)
            );
            super::sync_environment(vars, &project.root, resolved, deps::Mode::Update)?;
        }
    }
    let path = vars.bytes(vars::PATH).unwrap_or_default();
    let path = pathlist::prepend_moving(&activation.path_prepend, &path);

    let Some((program, rest)) = options.command.split_first() else {
        return Err(Error::usage("no command to run"));
    };
    let resolved_program = resolve(program, &path).ok_or_else(|| {
        Error::code(
            127,
            format!(
                "command not found: {} (looked in {} and PATH)",
                program.to_string_lossy(),
                shown(&resolved.env_dir.join("bin"))
            ),
        )
    })?;
    for warning in &activation.warnings {
        warn!("{warning}");
    }
    let scripts = match &activation.scripts {
        Some(scripts) => scripts.list(true, "sh"),
        None => Vec::new(),
    };
    let mut command = if scripts.is_empty() {
        let mut command = Command::new(&resolved_program);
        command.args(rest);
        // argv[0] stays what the user typed, as a shell would pass it.
        command.arg0(program);
        command
    } else {
        through_scripts(vars, &scripts, program, &resolved_program, rest)
    };
    command.env(vars::PATH, OsString::from_vec(path));
    for (name, value) in &activation.set {
        command.env(name, OsStr::from_bytes(value));
    }
    for name in &activation.unset {
        command.env_remove(name);
    }
    let error = command.exec();
    let code = if error.kind() == std::io::ErrorKind::PermissionDenied {
        126
    } else {
        127
    };
    Err(Error::code(
        code,
        format!("cannot run {}: {error}", shown(&resolved_program)),
    ))
}

/// A bash that sources the activation scripts, as conda does in the
/// activating shell, then replaces itself with the command (argv[0] kept).
fn through_scripts(
    vars: &dyn Vars,
    scripts: &[PathBuf],
    program: &OsStr,
    resolved_program: &Path,
    rest: &[OsString],
) -> Command {
    let scripts: Vec<Vec<u8>> = scripts
        .iter()
        .map(|s| s.as_os_str().as_bytes().to_vec())
        .collect();
    let code = Bash.exec_after_sourcing(&scripts);
    let bash = python::which(vars, "bash").unwrap_or_else(|| "/bin/bash".into());
    let mut command = Command::new(bash);
    command
        .arg("-c")
        .arg(OsStr::from_bytes(&code))
        .arg(program)
        .arg(resolved_program)
        .args(rest);
    command
}

/// Where CMD is: a path as given, else the first executable of that name on
/// the new PATH (the environment's `bin` first).
fn resolve(program: &OsStr, path: &[u8]) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    if program.is_empty() {
        return None;
    }
    path.split(|&b| b == b':').find_map(|dir| {
        // An empty PATH element means the current directory, as in execvp.
        let dir = if dir.is_empty() {
            Path::new(".")
        } else {
            Path::new(OsStr::from_bytes(dir))
        };
        let candidate = dir.join(program);
        files::is_executable(&candidate).then_some(candidate)
    })
}
