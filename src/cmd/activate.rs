//! `pyve activate NAME`: makes a named environment the project's active
//! one by pointing `.pyve/current` at it. Every shell inside the project
//! switches at its next prompt: `.pyve` is on the hook's watch list, and
//! replacing the link changes it.

use std::process::ExitCode;

use crate::error::Error;
use crate::project::{self, pointer};
use crate::text::shown;
use crate::{layout, vars};

pub fn run(name: &str) -> Result<ExitCode, Error> {
    let vars = vars::process();
    let (root, config) = super::load_config(vars)?;
    let resolved = super::built_named_env(&root, &config, name, "activate it")?;
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
    super::note_if_held_back(vars, &root, &resolved);
    Ok(ExitCode::SUCCESS)
}
