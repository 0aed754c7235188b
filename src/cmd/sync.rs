//! `pyve sync`: brings the active (or `--env`) environment in step with the
//! project's declared dependencies, as `uv sync` does for uv's own
//! environment; `--frozen` and `--locked` mean what they mean to uv.

use std::process::ExitCode;

use crate::deps;
pub use crate::deps::Mode;
use crate::error::{user, Error};
use crate::vars;

pub struct Options {
    pub env: Option<String>,
    pub mode: Mode,
    /// The user vouches for the project (`--trust`).
    pub trust: bool,
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
    resolved
        .backend
        .installs_dependencies(&project.root, &resolved.sources)?;
    if !resolved.marker().exists() {
        return Err(project.missing_environment());
    }
    // Installing runs the environment's Python (and the project's build).
    let activation = resolved.activation(&project.root, &super::before(vars));
    project.require_approval(vars, &activation, trusted)?;
    match super::sync_environment(vars, &project.root, resolved, options.mode)? {
        Some(declared) => {
            let stale = deps::stale(&resolved.env_dir);
            if let Some(stale) = stale {
                return Err(user(format!(
                    "after syncing, {} is still newer than the environment",
                    crate::project::build::list(&stale.files)
                )));
            }
            done!(
                "{} is in step with {}",
                crate::text::shown(&resolved.env_dir),
                crate::project::build::describe(&declared)
            );
        }
        None => info!(
            "the project declares no dependencies (no uv.lock, pylock.toml, pyproject.toml \
             dependencies or requirements.txt, or `dependencies: none`); nothing to sync"
        ),
    }
    Ok(ExitCode::SUCCESS)
}
