//! Finding the project that owns a directory, and resolving its config into
//! the facts activation needs.

use std::ffi::OsStr;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::backend::{self, Activation, Backend, Before};
use crate::config::{self, Config, ConfigError};

pub const CONFIG_RELATIVE: &str = ".pyve/config";

/// The nearest ancestor of `start` (itself included) holding `.pyve/config`,
/// with the config's metadata (one stat per level walked, nothing else).
/// `start` is walked as the logical path the shell shows, so a project
/// reached through a symlink is found the way the user sees it.
pub fn find_root(start: &Path) -> Option<(PathBuf, Metadata)> {
    let mut candidate = PathBuf::new();
    for dir in start.ancestors() {
        candidate.clear();
        candidate.push(dir);
        candidate.push(CONFIG_RELATIVE);
        // lstat first: one syscall per level. A dangling link or a directory
        // still marks a project, to be reported rather than skipped.
        if let Ok(link) = std::fs::symlink_metadata(&candidate) {
            let metadata = if link.file_type().is_symlink() {
                std::fs::metadata(&candidate).unwrap_or(link)
            } else {
                link
            };
            return Some((dir.to_owned(), metadata));
        }
    }
    None
}

pub fn config_path(root: &Path) -> PathBuf {
    root.join(CONFIG_RELATIVE)
}

/// A project's config resolved into what activation needs.
pub struct Resolved {
    pub backend: &'static dyn Backend,
    pub env_dir: PathBuf,
    pub env_name: Vec<u8>,
    /// The rendered prompt prefix, exported as `PYVE_PROMPT` either way.
    pub prompt: Vec<u8>,
    pub show_prompt: bool,
}

/// Resolves the config. For micromamba the name may come from
/// environment.yml, whose problems are reported against that file.
pub fn resolve(root: &Path, config: &Config) -> Result<Resolved, ConfigError> {
    // `config::parse` has already rejected unknown backends.
    let backend = backend::by_name(config.backend.as_deref().unwrap_or("venv"))
        .expect("config validation admits only known backends");
    let (env_name, env_dir) = if backend.name() == "micromamba" {
        let (name, _) =
            backend::micromamba::env_name(root, config).map_err(|message| ConfigError {
                path: config_path(root),
                line: None,
                column: None,
                message,
            })?;
        let dir = backend.default_env_dir(root, name.as_bytes());
        (name.into_bytes(), dir)
    } else {
        let env_name: Vec<u8> = match &config.env_name {
            Some(name) => name.as_bytes().to_vec(),
            None => root
                .file_name()
                .unwrap_or_else(|| OsStr::new("root"))
                .as_bytes()
                .to_vec(),
        };
        let env_dir = match &config.venv.directory {
            Some(dir) if dir.is_absolute() => dir.clone(),
            Some(dir) => root.join(dir),
            None => backend.default_env_dir(root, &env_name),
        };
        (env_name, env_dir)
    };
    let prompt = config::render_prompt(&config.prompt.format, backend.name(), &env_name);
    Ok(Resolved {
        backend,
        env_dir,
        env_name,
        prompt,
        show_prompt: config.prompt.show,
    })
}

/// Everything activation sets: the backend's part, then pyve's own
/// variables. The hook, `pyve run` and `pyve export` all apply this.
pub fn activation(
    backend: &dyn Backend,
    env_dir: &Path,
    env_name: &[u8],
    project: &[u8],
    prompt: &[u8],
    before: Before,
) -> Activation {
    let mut activation = backend.activation(env_dir, env_name, before);
    activation.set.extend([
        (
            "PYVE_BACKEND".to_owned(),
            backend.name().as_bytes().to_vec(),
        ),
        ("PYVE_ENV_NAME".to_owned(), env_name.to_vec()),
        ("PYVE_PROJECT".to_owned(), project.to_vec()),
        ("PYVE_PROMPT".to_owned(), prompt.to_vec()),
    ]);
    activation
}

impl Resolved {
    /// The activation on top of this process's environment.
    pub fn activation(&self, project: &Path) -> Activation {
        activation(
            self.backend,
            &self.env_dir,
            &self.env_name,
            project.as_os_str().as_bytes(),
            &self.prompt,
            &backend::from_process_env,
        )
    }
}

/// PATH cannot hold a directory whose name contains its separator;
/// refusing beats a PATH that silently points somewhere else.
pub fn check_env_dir(env_dir: &Path) -> Result<(), ConfigError> {
    if env_dir.as_os_str().as_bytes().contains(&b':') {
        return Err(ConfigError {
            path: env_dir.to_owned(),
            line: None,
            column: None,
            message: "the environment's path contains ':', which PATH cannot hold; \
                      move the project or set venv.directory"
                .to_owned(),
        });
    }
    Ok(())
}

/// Loads and resolves the project at `root`.
pub fn load(root: &Path) -> Result<(Resolved, Vec<String>), ConfigError> {
    let loaded = config::load(&config_path(root))?;
    let resolved = resolve(root, &loaded.config)?;
    check_env_dir(&resolved.env_dir)?;
    Ok((resolved, loaded.warnings))
}
