//! `pyve purge`: removes the environment, `.pyve/`, and pyve's blocks in
//! `.envrc` and `.gitignore`, and nothing else. A symlink is removed as a
//! link, never followed, and nothing outside the project is deleted.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::error::{user, Error};
use crate::files::{self, block};
use crate::project::{self, build, pointer, registry};
use crate::text::shown;
use crate::trust::{self, Store};
use crate::{ask, backend, config, layout, vars};

pub struct Options {
    /// Do not ask.
    pub yes: bool,
    /// Only this named environment.
    pub env: Option<String>,
}

enum Action {
    /// An environment directory (or a link standing for one).
    Environment(PathBuf),
    /// A directory or link pyve owns outright.
    Owned(PathBuf),
    /// pyve's block in a shared file.
    Block(PathBuf),
}

impl Action {
    fn describe(&self) -> String {
        match self {
            Action::Environment(path) => format!("the environment {}", path.display()),
            Action::Owned(path) => path.display().to_string(),
            Action::Block(path) => format!("pyve's block in {}", path.display()),
        }
    }
}

pub fn run(args: Options) -> Result<ExitCode, Error> {
    let vars = vars::process();
    let cwd = super::current_dir(vars)?;
    let found = super::find_root(vars, &cwd).filter(|f| f.source != config::Source::Implicit);
    let Some(found) = found else {
        return Err(nothing_to_purge(&cwd));
    };
    let source = found.source;
    let root = std::fs::canonicalize(&found.root).unwrap_or(found.root);
    trust::check_project_files(&root, source).map_err(|refused| {
        user(format!(
            "{}; not purging a project that is not yours",
            refused.message()
        ))
        .with_hint(refused.fix)
    })?;
    // The config is the only record of where the environment is: with a
    // broken one, guessing could delete the wrong directory, and removing
    // it would lose the record.
    let fix_first = |e: config::ConfigError| {
        user(format!(
            "{e}; fix it first: purge reads it to know what to remove"
        ))
    };
    let config = config::source::load_from(&root, source)
        .map_err(fix_first)?
        .config;
    if let Some(name) = &args.env {
        return purge_one(&args, &root, &config, name);
    }
    let envs = project::all_envs(&root, &config).map_err(fix_first)?;

    let mut actions = Vec::new();
    let mut kept = Vec::new();
    for resolved in &envs {
        match environment_action(&root, resolved.backend, &resolved.env_dir) {
            Ok(Some(action)) => actions.push(action),
            Ok(None) => {}
            Err(why) => kept.push(why),
        }
        actions.extend(
            leftovers(&root, &resolved.env_dir)
                .into_iter()
                .map(Action::Owned),
        );
    }
    actions.push(Action::Owned(layout::pyve_dir(&root)));
    dotenv(&root, &config, &mut actions, &mut kept);
    for name in [".envrc", ".gitignore"] {
        let path = root.join(name);
        match shared_file_has_block(&root, &path) {
            Ok(true) => actions.push(Action::Block(path)),
            Ok(false) => {}
            Err(why) => kept.push(why),
        }
    }

    info!("purging {}:", root.display());
    for action in &actions {
        detail!("  remove {}", action.describe());
    }
    for why in &kept {
        detail!("  keep {why}");
    }
    if let Some(code) = confirm(&args)? {
        return Ok(code);
    }
    let lock = lock_project(&root)?;
    for action in &actions {
        match action {
            Action::Environment(path) | Action::Owned(path) => remove(&root, path)?,
            Action::Block(path) => remove_block(&root, path)?,
        }
        done!("removed {}", action.describe());
    }
    // The project is gone; so is the approval of its config.
    Store::new(vars).forget(&root);
    drop(lock);
    Ok(ExitCode::SUCCESS)
}

/// `.env` goes when it is as `pyve init --dotenv` made it; one with
/// variables in it is kept. Only a project that uses `.env` has pyve's.
fn dotenv(root: &Path, config: &config::Config, actions: &mut Vec<Action>, kept: &mut Vec<String>) {
    let uses_env_file = config
        .dotenv_files()
        .iter()
        .any(|f| f.as_os_str() == ".env");
    match made_by_init(root).filter(|_| uses_env_file) {
        Some(true) => actions.push(Action::Owned(root.join(".env"))),
        Some(false) => kept.push(format!(
            "{}: it holds your variables",
            shown(&root.join(".env"))
        )),
        None => {}
    }
}

/// Whether `.env` is as `pyve init --dotenv` made it (or empty), so it
/// goes with the project; None when there is none (or it is a link or a
/// directory, which pyve never made).
fn made_by_init(root: &Path) -> Option<bool> {
    let path = root.join(".env");
    if !std::fs::symlink_metadata(&path).ok()?.is_file() {
        return None;
    }
    let limit = crate::variables::dotenv::NEW_FILE.len() as u64 + 1;
    Some(
        files::read_bounded(&path, limit)
            .is_ok_and(|bytes| bytes.is_empty() || bytes == crate::variables::dotenv::NEW_FILE),
    )
}

/// Outside any project with pyve's settings (a zero-config project has
/// nothing of pyve's in it).
fn nothing_to_purge(cwd: &Path) -> Error {
    user(format!(
        "no pyve project in {} or above (no .pyve/config, no [tool.pyve]); nothing to purge",
        shown(cwd)
    ))
    .with_hint(
        "a project pyve recognises by its .venv has nothing of pyve's to remove; \
         `pyve deny` forgets its approval",
    )
}

/// Asks before removing, unless `--yes`; Some(exit) when the answer is no.
fn confirm(args: &Options) -> Result<Option<ExitCode>, Error> {
    if args.yes {
        return Ok(None);
    }
    if !ask::interactive() {
        return Err(
            Error::usage("not on a terminal, so not asking").with_hint("pass --yes to purge")
        );
    }
    if !ask::confirm("Remove these?", false) {
        info!("nothing removed");
        return Ok(Some(ExitCode::from(1)));
    }
    Ok(None)
}

/// An init running in this project finishes first. A `.pyve` that is a
/// link is not followed, so not locked either: it is removed as a link.
fn lock_project(root: &Path) -> Result<Option<project::lock::Lock>, Error> {
    let pyve_dir = layout::pyve_dir(root);
    Ok(match std::fs::symlink_metadata(&pyve_dir) {
        Ok(m) if m.is_dir() => Some(project::lock::take(&pyve_dir)?),
        _ => None,
    })
}

/// `purge --env NAME`: one named environment, its registry entry, and
/// `.pyve/current` when it pointed there. The config's entry stays: it is
/// the user's description of the environment, and `init --env` rebuilds it.
fn purge_one(
    args: &Options,
    root: &Path,
    config: &config::Config,
    name: &str,
) -> Result<ExitCode, Error> {
    let recorded = registry::read(root).unwrap_or_default().remove(name);
    let (backend, env_dir) = match config.environments.get(name) {
        Some(_) => {
            let resolved = project::resolve_env(root, config, project::Selector::Named(name))?;
            (resolved.backend, resolved.env_dir)
        }
        // Only the registry knows it (removed from the config by hand).
        None => match &recorded {
            Some(entry) => (
                backend::by_name(&entry.backend).ok_or_else(|| {
                    user(format!(
                        "{}: `{name}` has an unknown backend `{}`",
                        layout::REGISTRY,
                        entry.backend
                    ))
                    .with_hint("remove it by hand")
                })?,
                root.join(&entry.directory),
            ),
            None => return Err(project::unknown_name(config, name)),
        },
    };
    let active = pointer::points_at(root, &env_dir);
    let mut actions = Vec::new();
    let mut kept = Vec::new();
    match environment_action(root, backend, &env_dir) {
        Ok(Some(action)) => actions.push(action),
        Ok(None) => {}
        Err(why) => kept.push(why),
    }
    actions.extend(leftovers(root, &env_dir).into_iter().map(Action::Owned));
    if active {
        actions.push(Action::Owned(layout::pointer(root)));
    }
    info!("purging the environment `{name}` of {}:", root.display());
    for action in &actions {
        detail!("  remove {}", action.describe());
    }
    if recorded.is_some() {
        detail!("  remove its entry in {}", layout::REGISTRY);
    }
    for why in &kept {
        detail!("  keep {why}");
    }
    if let Some(code) = confirm(args)? {
        return Ok(code);
    }
    let lock = lock_project(root)?;
    for action in &actions {
        match action {
            Action::Environment(path) | Action::Owned(path) => remove(root, path)?,
            Action::Block(path) => remove_block(root, path)?,
        }
        done!("removed {}", action.describe());
    }
    registry::remove(root, name)?;
    drop(lock);
    if config.environments.get(name).is_some() {
        info!("`{name}` stays in .pyve/config; `pyve init --env {name}` builds it again");
    }
    if active {
        match &config.default_env {
            Some(default) if default != name => {
                info!("it was the active environment; the default, `{default}`, is active now")
            }
            _ => info!("it was the active environment; choose another with `pyve activate NAME`"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The environment is deleted only when it really is inside the project
/// (not the project itself, not above it, not reached through a link out of
/// it) and is an environment; a link is removed as a link.
fn environment_action(
    root: &Path,
    backend: &dyn backend::Backend,
    env_dir: &Path,
) -> Result<Option<Action>, String> {
    let Ok(metadata) = std::fs::symlink_metadata(env_dir) else {
        return Ok(None);
    };
    let is_link = metadata.file_type().is_symlink();
    // A link's own location is its real parent plus its name.
    let location = if is_link {
        env_dir
            .parent()
            .and_then(|p| std::fs::canonicalize(p).ok())
            .zip(env_dir.file_name())
            .map(|(parent, name)| parent.join(name))
    } else {
        std::fs::canonicalize(env_dir).ok()
    };
    if !location.is_some_and(|l| l.starts_with(root) && l != root) {
        return Err(format!(
            "{}: it is not inside the project; remove it yourself if you mean to",
            env_dir.display()
        ));
    }
    if is_link {
        return Ok(Some(Action::Environment(env_dir.to_owned())));
    }
    if !backend.marker(env_dir).is_file() {
        return Err(format!(
            "{}: it is not an environment (no {})",
            env_dir.display(),
            backend::marker_name(backend, env_dir)
        ));
    }
    Ok(Some(Action::Environment(env_dir.to_owned())))
}

/// Build directories of interrupted inits, when they are in the project.
fn leftovers(root: &Path, env_dir: &Path) -> Vec<PathBuf> {
    let inside = env_dir
        .parent()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .is_some_and(|p| p.starts_with(root));
    if inside {
        build::leftovers(env_dir)
    } else {
        Vec::new()
    }
}

/// Whether `path` is a file in the project holding pyve's block. A link is
/// not followed: pyve edits only files that are inside the project.
fn shared_file_has_block(root: &Path, path: &Path) -> Result<bool, String> {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return Ok(false);
    };
    if metadata.file_type().is_symlink() {
        let inside = std::fs::canonicalize(path).is_ok_and(|real| real.starts_with(root));
        if !inside {
            return Err(format!(
                "{}: it is a symlink out of the project; remove pyve's block from its target yourself",
                path.display()
            ));
        }
    }
    let bytes = files::read_bounded(path, files::MAX_SHARED_BYTES)
        .map_err(|e| format!("{}: {e}", shown(path)))?;
    block::without_block(path, &bytes)
        .map(|result| result.is_some())
        .map_err(|e| e.to_string())
}

/// Removes `path` (a link as a link), checked again now: the directory it
/// is in must still be inside the project, and the removal itself never
/// follows a link (`files::remove_inside`), so a directory swapped for a
/// link since the question deletes nothing outside.
fn remove(root: &Path, path: &Path) -> Result<(), Error> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(());
    };
    let Ok(real_parent) = std::fs::canonicalize(parent) else {
        return Ok(());
    };
    if !real_parent.starts_with(root) {
        return Err(user(format!(
            "{} now leads out of the project (to {}); nothing there was removed",
            shown(parent),
            shown(&real_parent)
        )));
    }
    files::remove_inside(root, &real_parent.join(name))
}

/// Removes pyve's block; the file goes too when nothing else is left in it.
fn remove_block(root: &Path, path: &Path) -> Result<(), Error> {
    let bytes = files::read_bounded(path, files::MAX_SHARED_BYTES)
        .map_err(|e| user(format!("{}: {e}", shown(path))))?;
    let Some(rest) = block::without_block(path, &bytes)? else {
        return Ok(());
    };
    if files::is_blank(&rest) {
        std::fs::remove_file(path)
            .map_err(|e| user(format!("cannot remove {}: {e}", path.display())))
    } else {
        files::write_inside(root, path, &rest)
    }
}
