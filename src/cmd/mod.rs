//! One module per subcommand.

pub mod doctor;
pub mod engine;
pub mod export;
pub mod hook;
pub mod init;
pub mod purge;
pub mod run;

use std::path::PathBuf;

use crate::error::{user, Error};
use crate::project::{self, Resolved};

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
    /// Whether the user approved this project's config (its environment's
    /// activation scripts may run).
    pub fn trusted(&self) -> bool {
        std::fs::read(project::config_path(&self.root))
            .is_ok_and(|config| crate::trust::is_trusted(&self.root, &config))
    }
}

/// Finds and loads the project around the current directory, or explains
/// how to make one.
pub fn find_project() -> Result<Project, Error> {
    let cwd = current_dir()?;
    let Some((root, _)) = project::find_root(&cwd) else {
        return Err(user(format!(
            "no pyve project in {} or above (no .pyve/config); create one with `pyve init`",
            cwd.display()
        )));
    };
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    let (resolved, warnings) = project::load(&root).map_err(|e| user(e.to_string()))?;
    Ok(Project {
        root,
        resolved,
        warnings,
    })
}

/// The missing-environment error, the same from every command.
pub fn missing_environment(project: &Project) -> Error {
    user(format!(
        "the environment {} does not exist yet; create it with `pyve init` in {}",
        project.resolved.env_dir.display(),
        project.root.display()
    ))
}
