//! `pyve export bash|zsh|fish|direnv`: the project's activation as shell
//! code, relative to the current environment. `.envrc` evaluates the direnv
//! dialect; a PATH entry already present is not added again, so direnv and
//! the hook together still give one entry.

use std::process::ExitCode;

use crate::error::Error;
use crate::project::Selector;
use crate::shell::{Bash, Direnv, Shell};
use crate::trust::Store;
use crate::vars::{self, Vars};
use crate::{layout, pathlist};

/// What the activation is written for.
pub enum Dialect {
    Shell(&'static dyn Shell),
    /// bash, as direnv evaluates it, with direnv's own commands.
    Direnv,
}

pub fn run(dialect: Dialect) -> Result<ExitCode, Error> {
    let vars = vars::process();
    let (shell, direnv): (&dyn Shell, bool) = match dialect {
        Dialect::Shell(shell) => (shell, false),
        Dialect::Direnv => (&Bash, true),
    };
    let trusted = vars::trust_all(vars);
    let mut project = super::find_project_settings(vars, trusted, Selector::Active)?;
    for warning in &project.warnings {
        warn!("{warning}");
    }
    // A dotenv file that does not read is reported only after direnv
    // learns what to watch (below), so its fix reloads.
    let dotenv = project.resolved.read_dotenv(!trusted);
    let resolved = &project.resolved;
    let marker = resolved.marker();
    let mut out = Vec::new();
    if direnv {
        // direnv reloads when the environment appears, is rebuilt or
        // removed, and when the project is approved or denied.
        // `.pyve` itself: `pyve activate` replaces the link in it.
        let record = Store::new(vars).record_path(&project.root);
        let pyve_dir = layout::pyve_dir(&project.root);
        let pyve_dir = resolved.named.as_ref().map(|_| pyve_dir.as_path());
        // The dotenv files: a value edited there is read again. Settings
        // in pyproject.toml: .envrc itself watches only .pyve/config.
        let settings = (resolved.source != crate::config::Source::Pyve)
            .then(|| resolved.source.file(&project.root));
        for watched in std::iter::once(marker.as_path())
            .chain(record.as_deref())
            .chain(pyve_dir)
            .chain(resolved.dotenv.iter().map(|f| f.as_path()))
            .chain(settings.as_deref())
        {
            Direnv.watch_file(&mut out, watched);
        }
    }
    if let Err(error) = dotenv {
        if !direnv {
            return Err(error.into());
        }
        Direnv.log_error(&mut out, &format!("pyve: {error}"));
        return write(&out);
    }
    if !marker.exists() {
        let missing = project.missing_environment();
        if !direnv {
            return Err(missing);
        }
        Direnv.log_error(&mut out, &format!("pyve: {missing}"));
        return write(&out);
    }
    let activation = resolved.activation(&project.root, &super::before(vars));
    if let Err(refused) = project.require_approval(vars, &activation, trusted) {
        if !direnv {
            return Err(refused);
        }
        // In .envrc: direnv shows the message and loads nothing of pyve's.
        Direnv.log_error(&mut out, &format!("pyve: {refused}"));
        return write(&out);
    }
    let path_changed = export(shell, &mut out, vars, &activation);
    if path_changed && !direnv {
        shell.rehash(&mut out);
    }
    for warning in &activation.warnings {
        warn!("{warning}");
    }
    // direnv cannot run deactivation scripts; it restores its snapshot.
    if let Some(scripts) = &activation.scripts {
        for script in scripts.list(true, shell.script_extension()) {
            use std::os::unix::ffi::OsStrExt;
            shell.source(&mut out, script.as_os_str().as_bytes());
        }
    }
    write(&out)
}

/// The activation's variables as `shell` sets them, relative to `vars`.
/// Returns whether PATH changed.
fn export(
    shell: &dyn Shell,
    out: &mut Vec<u8>,
    vars: &dyn Vars,
    activation: &crate::backend::Activation,
) -> bool {
    let mut path = vars.bytes(vars::PATH).unwrap_or_default();
    let mut path_changed = false;
    for entry in activation.path_prepend.iter().rev() {
        if let Some(prepended) = pathlist::prepend(&path, entry) {
            path = prepended;
            path_changed = true;
        }
    }
    if path_changed {
        shell.export(out, vars::PATH, &path);
    }
    for (name, value) in &activation.set {
        shell.export(out, name, value);
    }
    for name in &activation.unset {
        if vars.get(name).is_some() {
            shell.unset(out, name);
        }
    }
    path_changed
}

fn write(out: &[u8]) -> Result<ExitCode, Error> {
    super::write_stdout(out, "the activation")
}
