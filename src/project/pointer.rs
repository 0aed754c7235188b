//! `.pyve/current`: which named environment is active. A relative symlink
//! to the environment's directory, so the project can be moved; replaced
//! in one step, so every shell inside sees one environment or the other.

use std::path::{Path, PathBuf};

use super::named_env_dir;
use crate::config::{Config, ConfigError};
use crate::error::{user, Error};
use crate::layout;
use crate::paths::lexical;
use crate::text::shown;

/// The environment `.pyve/current` points at: None when there is no
/// pointer, an error when it points at something that is not one of the
/// config's environments.
pub fn read(root: &Path, config: &Config) -> Result<Option<String>, ConfigError> {
    let pointer = layout::pointer(root);
    let target = match std::fs::read_link(&pointer) {
        Ok(target) => target,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(_) if std::fs::symlink_metadata(&pointer).is_ok() => {
            return Err(ConfigError::at(&pointer, "is not a symbolic link")
                .with_hint("remove it, then choose an environment with `pyve activate NAME`"))
        }
        Err(e) => return Err(ConfigError::at(&pointer, format!("cannot read: {e}"))),
    };
    let aimed = lexical(&layout::pyve_dir(root).join(&target));
    let found = config
        .environments
        .0
        .iter()
        .find(|(name, entry)| lexical(&named_env_dir(root, name, entry)) == aimed);
    match found {
        Some((name, _)) => Ok(Some(name.clone())),
        None => Err(ConfigError::at(
            &pointer,
            format!(
                "points at {}, which is none of the environments in .pyve/config ({})",
                shown(&target),
                config.environments.names().join(", ")
            ),
        )
        .with_hint("choose one with `pyve activate NAME`")),
    }
}

/// Whether `.pyve/current` points at the environment at `env_dir`.
pub fn points_at(root: &Path, env_dir: &Path) -> bool {
    std::fs::read_link(layout::pointer(root))
        .is_ok_and(|target| lexical(&layout::pyve_dir(root).join(target)) == lexical(env_dir))
}

/// The link text `.pyve/current` holds for the environment at `env_dir`:
/// relative to `.pyve`, so it survives moving the project.
fn target(root: &Path, env_dir: &Path) -> PathBuf {
    let pyve = layout::pyve_dir(root);
    let env_dir = lexical(env_dir);
    match env_dir.strip_prefix(&pyve) {
        Ok(inside) => inside.to_owned(),
        Err(_) => match env_dir.strip_prefix(root) {
            Ok(relative) => Path::new("..").join(relative),
            Err(_) => env_dir,
        },
    }
}

/// Points `.pyve/current` at the environment at `env_dir`: a new link
/// renamed over the old one, so readers see one or the other.
pub fn write(root: &Path, env_dir: &Path) -> Result<(), Error> {
    let pointer = layout::pointer(root);
    if std::fs::symlink_metadata(&pointer).is_ok_and(|m| !m.file_type().is_symlink()) {
        return Err(user(format!("{} is not a symbolic link", shown(&pointer)))
            .with_hint("remove it, then run `pyve activate` again"));
    }
    let temporary = layout::pyve_dir(root).join(format!(".current.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    std::os::unix::fs::symlink(target(root, env_dir), &temporary)
        .and_then(|()| std::fs::rename(&temporary, &pointer))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            user(format!("cannot write {}: {e}", shown(&pointer)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_is_relative_to_dot_pyve() {
        let root = Path::new("/p");
        assert_eq!(
            target(root, Path::new("/p/.pyve/envs/dev")),
            PathBuf::from("envs/dev")
        );
        assert_eq!(
            target(root, Path::new("/p/.venv")),
            PathBuf::from("../.venv")
        );
        assert_eq!(target(root, Path::new("/q/env")), PathBuf::from("/q/env"));
    }
}
