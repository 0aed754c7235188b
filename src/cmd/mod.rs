//! One module per subcommand: orchestration and output. Each takes its own
//! options struct (filled by `cli`, which only parses), and none imports
//! another; what several commands share lives here or in the layers below.

pub mod activate;
pub mod allow;
pub mod deny;
pub mod doctor;
pub mod engine;
pub mod envs;
pub mod export;
pub mod hook;
pub mod init;
pub mod lock;
pub mod purge;
pub mod run;
pub mod status;
pub mod sync;
pub mod use_env;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::backend::Activation;
use crate::config::Source;
use crate::error::{user, Error};
use crate::project::{self, Resolved};
use crate::shell::{self, Shell};
use crate::text::shown;
use crate::trust::{self, EnvRef, Store, Subject, Verdict};
use crate::vars::Vars;
use crate::{config, deps, layout, python};

/// Writes a command's data to stdout; a closed pipe (`| head`) is not an
/// error worth a message.
pub fn write_stdout(data: &[u8], what: &str) -> Result<ExitCode, Error> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(data) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(user(format!("cannot write {what}: {e}"))),
    }
}

/// The current directory as the user sees it: `$PWD` when it names the
/// same directory (it keeps symlinked paths), the real path otherwise.
pub fn current_dir(vars: &dyn Vars) -> Result<PathBuf, Error> {
    let real = std::env::current_dir()
        .map_err(|e| user(format!("cannot determine the current directory: {e}")))?;
    if let Some(pwd) = vars.get("PWD").map(PathBuf::from) {
        if pwd.is_absolute()
            && std::fs::canonicalize(&pwd).ok() == std::fs::canonicalize(&real).ok()
        {
            return Ok(pwd);
        }
    }
    Ok(real)
}

/// The user's shell (from `$SHELL`, bash when unknown), for advice about
/// installing the hook.
pub fn user_shell(vars: &dyn Vars) -> &'static dyn Shell {
    vars.get("SHELL")
        .map(PathBuf::from)
        .and_then(|s| {
            s.file_name()
                .and_then(|n| shell::by_name(&n.to_string_lossy()))
        })
        .unwrap_or(&shell::Bash)
}

/// The advice to install the hook: `add `<line>` to <rc file>`.
pub fn hook_advice(vars: &dyn Vars) -> String {
    let shell = user_shell(vars);
    format!("add `{}` to {}", shell.hook_line(), shell.rc_file())
}

/// The user's config (`$XDG_CONFIG_HOME/pyve/config`), if any, read once
/// per command; a broken one is reported (once) and its defaults are not
/// used.
pub fn user_config(vars: &dyn Vars) -> Option<&'static config::user::User> {
    static USER: std::sync::OnceLock<Option<config::user::User>> = std::sync::OnceLock::new();
    USER.get_or_init(|| match config::user::load(vars) {
        Ok(user) => {
            for warning in user.iter().flat_map(|u| &u.warnings) {
                warn!("{warning}");
            }
            user
        }
        Err(error) => {
            warn!("{error}; its settings are not used");
            None
        }
    })
    .as_ref()
}

/// The project at or above `start`, zero-config ones where the user's
/// config lets pyve recognise them.
pub fn find_root(vars: &dyn Vars, start: &Path) -> Option<project::Found> {
    let mut zero_config = || user_config(vars).is_none_or(|u| u.config.zero_config());
    project::find_root(start, &mut zero_config)
}

/// The real path of the project at or above `dir` (default: the current
/// directory), for commands that name a project, and where its settings
/// are.
pub fn project_root(vars: &dyn Vars, dir: Option<&Path>) -> Result<(PathBuf, Source), Error> {
    let cwd = current_dir(vars)?;
    let start = match dir {
        Some(dir) => {
            let dir = cwd.join(dir);
            if !dir.is_dir() {
                return Err(user(format!("{} is not a directory", shown(&dir))));
            }
            dir
        }
        None => cwd,
    };
    let Some(found) = find_root(vars, &start) else {
        return Err(no_project(&start));
    };
    let root = std::fs::canonicalize(&found.root).unwrap_or(found.root);
    Ok((root, found.source))
}

/// The error for a directory in no project.
pub fn no_project(dir: &Path) -> Error {
    user(format!(
        "no pyve project in {} or above (no .pyve/config)",
        shown(dir)
    ))
    .with_hint("create one with `pyve init`")
}

/// A project found from the current directory upward, loaded.
pub struct Project {
    /// The project's real path.
    pub root: PathBuf,
    pub resolved: Resolved,
    pub warnings: Vec<String>,
}

/// The environment a command that runs in it means: `--env NAME`, else
/// in CI `default_env` (CI never guesses from a checkout's local
/// pointer), else the active one.
pub fn selector<'a>(vars: &dyn Vars, env: Option<&'a str>) -> project::Selector<'a> {
    match env {
        Some(name) => project::Selector::Named(name),
        None if crate::vars::in_ci(vars) => project::Selector::Default,
        None => project::Selector::Active,
    }
}

/// Finds and loads the project around the current directory. The
/// project's files must be the user's own, unless `trusted` (the user
/// vouched for it).
pub fn find_project(
    vars: &dyn Vars,
    trusted: bool,
    selector: project::Selector,
) -> Result<Project, Error> {
    let mut project = find_project_settings(vars, trusted, selector)?;
    project.resolved.read_dotenv(!trusted)?;
    Ok(project)
}

/// `find_project` without reading the dotenv files (`read_dotenv`), for a
/// caller that must know them before, or even though, they read.
pub fn find_project_settings(
    vars: &dyn Vars,
    trusted: bool,
    selector: project::Selector,
) -> Result<Project, Error> {
    let (root, source) = project_root(vars, None)?;
    if !trusted {
        trust::check_project_files(&root, source)?;
    }
    let chosen = shell_choice(vars, &root);
    let selector = match selector {
        project::Selector::Active => project::Selector::active_or_shell(chosen.as_deref()),
        selector => selector,
    };
    let defaults = user_config(vars).map(|u| &u.config);
    let (resolved, warnings) = project::load(&root, source, selector, defaults)?;
    Ok(Project {
        root,
        resolved,
        warnings,
    })
}

/// The environment this shell chose with `pyve use` for the project at
/// `root` (its real path), if any: the active one for this shell.
pub fn shell_choice(vars: &dyn Vars, root: &Path) -> Option<String> {
    let value = vars.bytes(crate::vars::USE)?;
    project::shell_choice(&value, root).map(str::to_owned)
}

/// The named environment `name` of the project at `root`, which must
/// exist: what `pyve activate` and `pyve use` switch to. The error for one
/// not built yet says to build it, then `then` (`activate it`).
pub fn built_named_env(
    root: &Path,
    config: &config::Config,
    name: &str,
    then: &str,
) -> Result<Resolved, Error> {
    if config.environments.get(name).is_none() {
        return Err(project::unknown_name(config, name));
    }
    let resolved = project::resolve_env(root, config, project::Selector::Named(name))?;
    let marker = resolved.marker();
    if let Some(error) = project::unreadable_environment(&resolved.env_dir, &marker) {
        return Err(error);
    }
    if !marker.exists() {
        return Err(user(format!(
            "`{name}` has not been created ({} has no {}; its creation failed or never ran)",
            shown(&resolved.env_dir),
            crate::backend::marker_name(resolved.backend, &resolved.env_dir),
        ))
        .with_hint(format!(
            "create it with `pyve init --env {name}`, then {then}"
        )));
    }
    Ok(resolved)
}

/// After a switch to `resolved`: a note when the hook will not apply it
/// yet, and why.
pub fn note_if_held_back(vars: &dyn Vars, root: &Path, resolved: &Resolved) {
    let verdict = verdict(vars, root, resolved);
    if !verdict.is_trusted() {
        info!(
            "note: the hook will not activate it yet: {}; `pyve allow` after review",
            verdict.summary_for(resolved.source)
        );
    }
}

/// The project around the current directory and its config, for commands
/// that read the config and run nothing: the project's files must be the
/// user's own; the config's warnings are shown.
pub fn load_config(vars: &dyn Vars) -> Result<(PathBuf, config::Config), Error> {
    let (root, source) = project_root(vars, None)?;
    trust::check_project_files(&root, source)?;
    let loaded = config::source::load_from(&root, source)?;
    for warning in &loaded.warnings {
        warn!("{warning}");
    }
    Ok((root, loaded.config))
}

/// The environment as approvals know it.
pub fn env_ref(resolved: &Resolved) -> EnvRef {
    EnvRef {
        dir: resolved.env_dir.clone(),
        marker: resolved.marker(),
    }
}

/// Each variable's value before pyve: the shell's, or, for one the hook
/// set in this shell and that still holds its value, what it held before
/// (so `PYTHONPATH: "src:$PYTHONPATH"` is not applied twice by `pyve run`
/// at an active prompt).
pub fn before(vars: &dyn Vars) -> impl Fn(&str) -> Option<Vec<u8>> + '_ {
    let applied = crate::engine::state::sealed_ops(vars);
    move |name| crate::engine::state::before_hook(vars, &applied, name)
}

/// What `trust::decide` says about activating `resolved` in the project at
/// `root` as it is now (with its activation, when the environment exists).
pub fn verdict(vars: &dyn Vars, root: &Path, resolved: &Resolved) -> Verdict {
    let activation = resolved
        .marker()
        .exists()
        .then(|| resolved.activation(root, &before(vars)));
    decide(vars, root, resolved, activation.as_ref())
}

fn decide(
    vars: &dyn Vars,
    root: &Path,
    resolved: &Resolved,
    activation: Option<&Activation>,
) -> Verdict {
    let Ok(config) = config::source::approved_bytes(root, resolved.source) else {
        return Verdict::Unknown;
    };
    trust::decide(
        &Store::new(vars),
        &Subject {
            project: root,
            config: &config,
            envs: &[env_ref(resolved)],
        },
        activation,
    )
}

/// Installs the declared dependencies of the environment `resolved` in
/// place, under the project's lock, and records the sync. Returns what it
/// installed from (None: the project declares nothing).
pub fn sync_environment(
    vars: &dyn Vars,
    root: &Path,
    resolved: &Resolved,
    mode: deps::Mode,
) -> Result<Option<deps::Declared>, Error> {
    let Some(declared) = resolved.backend.declared(root, &resolved.sources)? else {
        return Ok(None);
    };
    let tools = deps::Tools {
        uv: python::which(vars, "uv"),
        poetry: python::which(vars, "poetry"),
        pdm: python::which(vars, "pdm"),
    };
    let _lock = project::lock::take(&layout::pyve_dir(root))?;
    info!(
        "syncing {} from {}",
        shown(&resolved.env_dir),
        project::build::describe(&declared)
    );
    deps::install(&declared, root, &resolved.env_dir, &tools, mode)?;
    deps::write_record(&resolved.env_dir, root, &declared)?;
    Ok(Some(declared))
}

impl Project {
    /// For `run` and `export`: the activation may be applied only when
    /// `trust::decide` allows it, unless the user said to trust the project
    /// (`--trust`, `PYVE_TRUST_ALL=1`).
    pub fn require_approval(
        &self,
        vars: &dyn Vars,
        activation: &Activation,
        trusted: bool,
    ) -> Result<(), Error> {
        if trusted {
            return Ok(());
        }
        match decide(vars, &self.root, &self.resolved, Some(activation)) {
            Verdict::Trusted => Ok(()),
            verdict => Err(verdict.refused(&self.root, self.resolved.source)),
        }
    }

    /// The error for an environment that does not exist.
    pub fn missing_environment(&self) -> Error {
        project::missing_environment(&self.root, &self.resolved)
    }
}
