//! `pyve activate NAME`: makes a named environment the project's active
//! one by pointing `.pyve/current` at it. Every shell inside the project
//! switches at its next prompt: `.pyve` is on the hook's watch list, and
//! replacing the link changes it.

use std::process::ExitCode;

use crate::error::{user, Error};
use crate::project::{self, pointer};
use crate::text::shown;
use crate::{backend, layout, vars};

pub fn run(name: &str) -> Result<ExitCode, Error> {
    let vars = vars::process();
    let (root, config) = super::load_config(vars)?;
    if config.environments.get(name).is_none() {
        return Err(project::unknown_name(&config, name));
    }
    let resolved = project::resolve_env(&root, &config, project::Selector::Named(name))?;
    let marker = resolved.marker();
    if let Some(error) = project::unreadable_environment(&resolved.env_dir, &marker) {
        return Err(error);
    }
    if !marker.exists() {
        return Err(user(format!(
            "`{name}` has not been created ({} has no {}; its creation failed or never ran)",
            shown(&resolved.env_dir),
            backend::marker_name(resolved.backend, &resolved.env_dir),
        ))
        .with_hint(format!(
            "create it with `pyve init --env {name}`, then activate it"
        )));
    }
    // An init or purge running in the project finishes first.
    let lock = project::lock::take(&layout::pyve_dir(&root))?;
    let before = pointer::read(&root, &config).ok().flatten();
    if before.as_deref() == Some(name) {
        info!("`{name}` is already the active environment");
        return Ok(ExitCode::SUCCESS);
    }
    pointer::write(&root, &resolved.env_dir)?;
    drop(lock);
    info!(
        "`{name}` ({}) is now the active environment of {}; shells inside switch at their next prompt",
        resolved.backend.name(),
        shown(&root)
    );
    let verdict = super::verdict(vars, &root, &resolved);
    if !verdict.is_trusted() {
        info!(
            "note: the hook will not activate it yet: {}; `pyve allow` after review",
            verdict.summary()
        );
    }
    Ok(ExitCode::SUCCESS)
}
