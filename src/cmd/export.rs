//! `pyve export bash|zsh|fish|direnv|json`: the project's activation as
//! shell code, relative to the current environment, or as one JSON object
//! for the tools and shells pyve has no hook for. `.envrc` evaluates the
//! direnv dialect; a PATH entry already present is not added again, so
//! direnv and the hook together still give one entry.

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
    /// One JSON object (`json_document`), schema version 1.
    Json,
}

pub fn run(dialect: Dialect) -> Result<ExitCode, Error> {
    let vars = vars::process();
    let json = matches!(dialect, Dialect::Json);
    let (shell, direnv): (&dyn Shell, bool) = match dialect {
        Dialect::Shell(shell) => (shell, false),
        Dialect::Direnv => (&Bash, true),
        Dialect::Json => (&Bash, false),
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
        direnv_watch(&mut out, vars, &project.root, resolved);
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
    if json {
        for warning in &activation.warnings {
            warn!("{warning}");
        }
        let document = json_document(vars, &project.root, resolved, &activation)?;
        return write(document.as_bytes());
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

/// The files direnv watches for `.envrc`: it reloads when the environment
/// appears, is rebuilt or removed, and when the project is approved or
/// denied.
fn direnv_watch(
    out: &mut Vec<u8>,
    vars: &dyn Vars,
    root: &std::path::Path,
    resolved: &crate::project::Resolved,
) {
    let marker = resolved.marker();
    // `.pyve` itself: `pyve activate` replaces the link in it.
    let record = Store::new(vars).record_path(root);
    let pyve_dir = layout::pyve_dir(root);
    let pyve_dir = resolved.named.as_ref().map(|_| pyve_dir.as_path());
    // The dotenv files: a value edited there is read again. Settings
    // in pyproject.toml: .envrc itself watches only .pyve/config.
    let settings =
        (resolved.source != crate::config::Source::Pyve).then(|| resolved.source.file(root));
    for watched in std::iter::once(marker.as_path())
        .chain(record.as_deref())
        .chain(pyve_dir)
        .chain(resolved.dotenv.iter().map(|f| f.as_path()))
        .chain(settings.as_deref())
    {
        Direnv.watch_file(out, watched);
    }
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

/// The activation as one JSON object, relative to `vars` (docs/commands.md
/// documents the schema; `version` changes only if a key changes meaning
/// or goes away):
///
/// ```json
/// {"version": 1, "root": "/p", "backend": "venv", "environment": "/p/.venv",
///  "env_name": "p", "set": {"VIRTUAL_ENV": "/p/.venv", …},
///  "unset": ["PYTHONHOME"],
///  "path": {"prepend": ["/p/.venv/bin"], "value": "/p/.venv/bin:/usr/bin"},
///  "prompt": "(venv:p)"}
/// ```
///
/// `set` never holds PATH (nushell keeps PATH as a list, and a consumer
/// applies `path` its own way); `unset` names only variables set now;
/// `prompt` is null when the project hides its prefix. JSON holds text:
/// a value that is not UTF-8 is refused rather than changed.
fn json_document(
    vars: &dyn Vars,
    root: &std::path::Path,
    resolved: &crate::project::Resolved,
    activation: &crate::backend::Activation,
) -> Result<String, Error> {
    use std::os::unix::ffi::OsStrExt;
    let text = |what: &str, value: &[u8]| -> Result<String, Error> {
        String::from_utf8(value.to_vec()).map_err(|_| {
            crate::error::user(format!(
                "{what} is not valid UTF-8, and JSON holds text only"
            ))
            .with_hint("use `pyve export bash` (or zsh, fish), which keep every byte")
        })
    };
    let mut path = vars.bytes(vars::PATH).unwrap_or_default();
    for entry in activation.path_prepend.iter().rev() {
        if let Some(prepended) = pathlist::prepend(&path, entry) {
            path = prepended;
        }
    }
    let mut out = String::from("{\"version\":1,\"root\":");
    crate::json::string(
        &mut out,
        &text("the project's path", root.as_os_str().as_bytes())?,
    );
    out.push_str(",\"backend\":");
    crate::json::string(&mut out, resolved.backend.name());
    out.push_str(",\"environment\":");
    let environment = resolved.env_dir.as_os_str().as_bytes();
    crate::json::string(&mut out, &text("the environment's path", environment)?);
    out.push_str(",\"env_name\":");
    crate::json::string(
        &mut out,
        &text("the environment's name", &resolved.env_name)?,
    );
    out.push_str(",\"set\":{");
    let mut first = true;
    for (name, value) in activation.set.iter().filter(|(name, _)| name != vars::PATH) {
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        crate::json::string(&mut out, name);
        out.push(':');
        crate::json::string(&mut out, &text(name, value)?);
    }
    out.push_str("},\"unset\":[");
    let unset = activation
        .unset
        .iter()
        .filter(|name| vars.get(name).is_some());
    for (i, name) in unset.enumerate() {
        if i > 0 {
            out.push(',');
        }
        crate::json::string(&mut out, name);
    }
    out.push_str("],\"path\":{\"prepend\":[");
    for (i, entry) in activation.path_prepend.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        crate::json::string(&mut out, &text("a PATH entry", entry)?);
    }
    out.push_str("],\"value\":");
    crate::json::string(&mut out, &text("PATH", &path)?);
    out.push_str("},\"prompt\":");
    let prompt = crate::text::prompt_bytes(&resolved.prompt);
    let prompt = text("the prompt prefix", &prompt)?;
    crate::json::string_or_null(&mut out, resolved.show_prompt.then_some(prompt.as_str()));
    out.push_str("}\n");
    Ok(out)
}

fn write(out: &[u8]) -> Result<ExitCode, Error> {
    super::write_stdout(out, "the activation")
}
