//! One module per subcommand.

pub mod activate;
pub mod allow;
pub mod completions;
pub mod deny;
pub mod doctor;
pub mod engine;
pub mod envs;
pub mod export;
pub mod hook;
pub mod init;
pub mod man;
pub mod purge;
pub mod run;
pub mod status;

use std::path::PathBuf;

use crate::backend::Activation;
use crate::error::{user, Error};
use crate::project::{self, Resolved};
use crate::trust::{self, Verdict};

/// Writes a command's data to stdout; a closed pipe (`| head`) is not an
/// error worth a message.
pub fn write_stdout(data: &[u8], what: &str) -> Result<std::process::ExitCode, Error> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(data) {
        Ok(()) => Ok(std::process::ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(std::process::ExitCode::SUCCESS),
        Err(e) => Err(user(format!("cannot write {what}: {e}"))),
    }
}

/// The current directory as the user sees it: `$PWD` when it names the
/// same directory (it keeps symlinked paths), the real path otherwise.
pub fn current_dir() -> Result<PathBuf, Error> {
    let real = std::env::current_dir()
        .map_err(|e| user(format!("cannot determine the current directory: {e}")))?;
    if let Some(pwd) = std::env::var_os("PWD").map(PathBuf::from) {
        if pwd.is_absolute()
            && std::fs::canonicalize(&pwd).ok() == std::fs::canonicalize(&real).ok()
        {
            return Ok(pwd);
        }
    }
    Ok(real)
}

/// The user's shell (from `$SHELL`, bash when unknown): the hook line to
/// install and the rc file it belongs in, for the advice init and doctor give.
pub fn hook_setup() -> (String, &'static str) {
    let shell = std::env::var_os("SHELL")
        .map(PathBuf::from)
        .and_then(|s| s.file_name().map(|n| n.to_string_lossy().into_owned()));
    match shell.as_deref() {
        Some("fish") => (
            "pyve hook fish | source".to_owned(),
            "~/.config/fish/config.fish",
        ),
        Some("zsh") => ("eval \"$(pyve hook zsh)\"".to_owned(), "~/.zshrc"),
        _ => ("eval \"$(pyve hook bash)\"".to_owned(), "~/.bashrc"),
    }
}

/// A project found from the current directory upward, loaded.
pub struct Project {
    /// The project's real path.
    pub root: PathBuf,
    pub resolved: Resolved,
    pub warnings: Vec<String>,
}

impl Project {
    /// What the user's approvals say about this project as it is now.
    pub fn verdict(&self) -> Verdict {
        verdict_of(&self.root, &self.resolved)
    }

    /// For `run` and `export`: the activation may be applied only when the
    /// environment is the user's own and the project approved, unless the
    /// user said to trust it (`--trust`, `PYVE_TRUST_ALL=1`).
    pub fn require_approval(&self, activation: &Activation, trusted: bool) -> Result<(), Error> {
        if trusted {
            return Ok(());
        }
        let env_dir = &self.resolved.env_dir;
        trust::check_environment(env_dir, activation).map_err(|why| {
            user(format!(
                "{why}; or pass --trust (or set {}=1) if you trust it anyway",
                trust::TRUST_ALL_VAR
            ))
        })?;
        match self.verdict() {
            Verdict::Trusted => Ok(()),
            verdict => Err(user(verdict.refused(&self.root))),
        }
    }
}

/// What the user's approvals say about activating `resolved` in the
/// project at `root` as it is now.
pub fn verdict_of(root: &std::path::Path, resolved: &Resolved) -> Verdict {
    match std::fs::read(project::config_path(root)) {
        Ok(config) => trust::verdict(&trust::Subject {
            project: root,
            config: &config,
            envs: &[trust::EnvRef::of(resolved)],
        }),
        Err(_) => Verdict::Unknown,
    }
}

/// Whether the process runs in CI (`CI` set, as every CI service does, and
/// not `false` or `0`): then nothing local is guessed from.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Finds and loads the project around the current directory, or explains
/// how to make one. The project's files must be the user's own, unless
/// `trusted` (the user vouched for it).
pub fn find_project(trusted: bool, selector: project::Selector) -> Result<Project, Error> {
    let cwd = current_dir()?;
    let Some((root, _)) = project::find_root(&cwd) else {
        return Err(user(format!(
            "no pyve project in {} or above (no .pyve/config); create one with `pyve init`",
            cwd.display()
        )));
    };
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    if !trusted {
        trust::check_project_files(&root).map_err(|why| user(why.to_string()))?;
    }
    let (resolved, warnings) = project::load(&root, selector).map_err(|e| user(e.to_string()))?;
    Ok(Project {
        root,
        resolved,
        warnings,
    })
}

/// The project around the current directory and its config, for commands
/// that read the config and run nothing: the project's files must be the
/// user's own; the config's warnings are shown.
pub fn load_config() -> Result<(PathBuf, crate::config::Config), Error> {
    let root = project_root(None)?;
    trust::check_project_files(&root).map_err(|why| user(why.to_string()))?;
    let loaded =
        crate::config::load(&project::config_path(&root)).map_err(|e| user(e.to_string()))?;
    for warning in &loaded.warnings {
        warn!("{warning}");
    }
    Ok((root, loaded.config))
}

/// The real path of the project at or above `dir` (default: the current
/// directory), for commands that name a project.
pub fn project_root(dir: Option<&std::path::Path>) -> Result<PathBuf, Error> {
    let cwd = current_dir()?;
    let start = match dir {
        Some(dir) => {
            let dir = cwd.join(dir);
            if !dir.is_dir() {
                return Err(user(format!(
                    "{} is not a directory",
                    crate::config::shown(&dir)
                )));
            }
            dir
        }
        None => cwd,
    };
    let Some((root, _)) = project::find_root(&start) else {
        return Err(user(format!(
            "no pyve project in {} or above (no .pyve/config); create one with `pyve init`",
            crate::config::shown(&start)
        )));
    };
    Ok(std::fs::canonicalize(&root).unwrap_or(root))
}

/// Why the environment cannot even be looked at (permission denied on it
/// or its marker), as opposed to being absent.
pub fn unreadable_environment(
    env_dir: &std::path::Path,
    marker: &std::path::Path,
) -> Option<Error> {
    match std::fs::metadata(marker) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Some(user(format!(
            "{}: {e}; pyve can neither use nor replace it: fix its permissions \
             (or remove it as its owner), then run `pyve init`",
            env_dir.display()
        ))),
        _ => None,
    }
}

/// The missing-environment error, the same from every command.
pub fn missing_environment(project: &Project) -> Error {
    let env_dir = &project.resolved.env_dir;
    if let Some(error) = unreadable_environment(env_dir, &project.resolved.backend.marker(env_dir))
    {
        return error;
    }
    let init = match &project.resolved.named {
        Some(name) => format!("pyve init --env {name}"),
        None => "pyve init".to_owned(),
    };
    user(format!(
        "the environment {} does not exist yet; create it with `{init}` in {}",
        project.resolved.env_dir.display(),
        project.root.display()
    ))
}
