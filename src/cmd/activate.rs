//! `pyve activate NAME`: makes a named environment the project's active
//! one by pointing `.pyve/current` at it. Every shell inside the project
//! switches at its next prompt: `.pyve` is on the hook's watch list, and
//! replacing the link changes it.

use std::process::ExitCode;

use crate::cli::ActivateArgs;
use crate::config::shown;
use crate::error::{user, Error};
use crate::project;

pub fn run(args: ActivateArgs) -> Result<ExitCode, Error> {
    let (root, config) = super::load_config()?;
    if config.environments.get(&args.name).is_none() {
        return Err(super::envs::unknown_name(&config, &args.name));
    }
    let resolved = project::resolve_env(&root, &config, project::Selector::Named(&args.name))
        .map_err(|e| user(e.to_string()))?;
    let marker = resolved.backend.marker(&resolved.env_dir);
    if let Some(error) = super::unreadable_environment(&resolved.env_dir, &marker) {
        return Err(error);
    }
    if !marker.exists() {
        return Err(user(format!(
            "`{}` has not been created ({} has no {}; its creation failed or never ran); \
             create it with `pyve init --env {}`, then activate it",
            args.name,
            shown(&resolved.env_dir),
            crate::backend::marker_name(resolved.backend, &resolved.env_dir),
            args.name
        )));
    }
    let pyve_dir = root.join(".pyve");
    // An init or purge running in the project finishes first.
    let lock = super::init::lock(&pyve_dir)?;
    let pointer = root.join(project::POINTER_RELATIVE);
    let before = project::read_pointer(&root, &config).ok().flatten();
    match std::fs::symlink_metadata(&pointer) {
        Ok(m) if !m.file_type().is_symlink() => {
            return Err(user(format!(
                "{} is not a symbolic link; remove it, then run `pyve activate {}` again",
                shown(&pointer),
                args.name
            )))
        }
        _ => {}
    }
    if before.as_deref() == Some(args.name.as_str()) {
        info!("`{}` is already the active environment", args.name);
        return Ok(ExitCode::SUCCESS);
    }
    // A new link renamed over the old one: readers see one or the other.
    let target = project::pointer_target(&root, &resolved.env_dir);
    let temporary = pyve_dir.join(format!(".current.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    std::os::unix::fs::symlink(&target, &temporary)
        .and_then(|()| std::fs::rename(&temporary, &pointer))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            user(format!("cannot write {}: {e}", shown(&pointer)))
        })?;
    drop(lock);
    info!(
        "`{}` ({}) is now the active environment of {}; shells inside switch at their next prompt",
        args.name,
        resolved.backend.name(),
        shown(&root)
    );
    let verdict = super::verdict_of(&root, &resolved);
    if !verdict.is_trusted() {
        info!(
            "note: the hook will not activate it yet: {}; `pyve allow` after review",
            verdict.summary()
        );
    }
    Ok(ExitCode::SUCCESS)
}
