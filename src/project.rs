//! Finding the project that owns a directory, and resolving its config into
//! the facts activation needs.

use std::ffi::OsStr;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::backend::{self, Activation, Backend, Before};
use crate::config::{self, Config, ConfigError};

pub const CONFIG_RELATIVE: &str = ".pyve/config";
/// The persistent choice among named environments: a relative symlink to
/// the active one's directory, so the project can be moved.
pub const POINTER_RELATIVE: &str = ".pyve/current";

/// Which of a project's environments a command means.
#[derive(Debug, Clone, Copy)]
pub enum Selector<'a> {
    /// The active one: `.pyve/current`, else `default_env`; the only one
    /// of a project without named environments.
    Active,
    /// `default_env`, whatever `.pyve/current` says (CI never guesses).
    Default,
    Named(&'a str),
}

/// How the environment was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The project has one environment, unnamed.
    Single,
    Pointer,
    Default,
    Explicit,
}

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
    /// The environment's name under `environments:`; None for a project
    /// with one unnamed environment.
    pub named: Option<String>,
    pub via: Via,
    /// The Python version the config asks for (the entry's, else the
    /// project's).
    pub python: Option<crate::python::VersionRequest>,
    /// Requirements files the config lists (the entry's, else the
    /// project's); None: `requirements.txt`.
    pub requirements: Option<Vec<PathBuf>>,
    /// micromamba: the conda spec files.
    pub conda_spec: backend::micromamba::spec::SpecFiles,
}

fn config_error(path: PathBuf, message: String) -> ConfigError {
    ConfigError {
        path,
        line: None,
        column: None,
        message,
    }
}

/// `a/./b/../c` as `a/c`, without touching the filesystem (the path may
/// not exist yet).
pub fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Where named environment `name` lives.
pub fn named_env_dir(root: &Path, name: &str, entry: &config::EnvEntry) -> PathBuf {
    match &entry.directory {
        Some(dir) if dir.is_absolute() => dir.clone(),
        Some(dir) => root.join(dir),
        None => backend::micromamba::envs_dir(root).join(name),
    }
}

/// The environment `.pyve/current` points at: None when there is no
/// pointer, an error when it points at something that is not one of the
/// config's environments.
pub fn read_pointer(root: &Path, config: &Config) -> Result<Option<String>, ConfigError> {
    let pointer = root.join(POINTER_RELATIVE);
    let target = match std::fs::read_link(&pointer) {
        Ok(target) => target,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(_) if std::fs::symlink_metadata(&pointer).is_ok() => {
            return Err(config_error(
                pointer,
                "is not a symbolic link; remove it, then choose an environment with `pyve activate NAME`"
                    .to_owned(),
            ))
        }
        Err(e) => return Err(config_error(pointer, format!("cannot read: {e}"))),
    };
    let aimed = lexical(&root.join(".pyve").join(&target));
    let found = config
        .environments
        .0
        .iter()
        .find(|(name, entry)| lexical(&named_env_dir(root, name, entry)) == aimed);
    match found {
        Some((name, _)) => Ok(Some(name.clone())),
        None => Err(config_error(
            pointer,
            format!(
                "points at {}, which is none of the environments in .pyve/config ({}); \
                 choose one with `pyve activate NAME`",
                config::shown(&target),
                config.environments.names().join(", ")
            ),
        )),
    }
}

/// The link text `.pyve/current` holds for the environment at `env_dir`:
/// relative to `.pyve`, so it survives moving the project.
pub fn pointer_target(root: &Path, env_dir: &Path) -> PathBuf {
    let pyve = root.join(".pyve");
    let env_dir = lexical(env_dir);
    match env_dir.strip_prefix(&pyve) {
        Ok(inside) => inside.to_owned(),
        Err(_) => match env_dir.strip_prefix(root) {
            Ok(relative) => Path::new("..").join(relative),
            Err(_) => env_dir,
        },
    }
}

/// Resolves the active environment of the config.
pub fn resolve(root: &Path, config: &Config) -> Result<Resolved, ConfigError> {
    resolve_env(root, config, Selector::Active)
}

/// Every environment of the project: the named ones in config order, or
/// the single one.
pub fn all_envs(root: &Path, config: &Config) -> Result<Vec<Resolved>, ConfigError> {
    if !config.is_named() {
        return Ok(vec![resolve(root, config)?]);
    }
    config
        .environments
        .names()
        .into_iter()
        .map(|name| resolve_env(root, config, Selector::Named(name)))
        .collect()
}

/// Resolves the environment `selector` means.
pub fn resolve_env(
    root: &Path,
    config: &Config,
    selector: Selector,
) -> Result<Resolved, ConfigError> {
    if !config.is_named() {
        if let Selector::Named(name) = selector {
            return Err(config_error(
                config_path(root),
                format!(
                    "defines no named environments, so there is no `{}`; \
                     add one with `pyve init --env {}`",
                    config::one_line(name),
                    config::one_line(name)
                ),
            ));
        }
        return resolve_single(root, config);
    }
    let known = || config.environments.names().join(", ");
    let (name, via) = match selector {
        Selector::Named(name) => (name.to_owned(), Via::Explicit),
        Selector::Active => match read_pointer(root, config)? {
            Some(name) => (name, Via::Pointer),
            None => (default_name(root, config)?, Via::Default),
        },
        Selector::Default => (default_name(root, config)?, Via::Default),
    };
    let Some(entry) = config.environments.get(&name) else {
        return Err(config_error(
            config_path(root),
            format!(
                "has no environment `{}`; the environments are: {}",
                config::one_line(&name),
                known()
            ),
        ));
    };
    let backend = backend::by_name(
        entry
            .backend
            .as_deref()
            .or(config.backend.as_deref())
            .unwrap_or("venv"),
    )
    .expect("config validation admits only known backends");
    let env_dir = named_env_dir(root, &name, entry);
    let prompt = config::render_prompt(&config.prompt.format, backend.name(), name.as_bytes());
    let mut conda_spec = backend::micromamba::spec::SpecFiles::in_root(root);
    if let Some(file) = &entry.env_file {
        // Another environment file has no default lock file.
        conda_spec.environment = file.clone();
        conda_spec.lock = None;
    }
    if let Some(lock) = &entry.lock_file {
        conda_spec.lock = Some(lock.clone());
    }
    Ok(Resolved {
        backend,
        env_dir,
        env_name: name.clone().into_bytes(),
        prompt,
        show_prompt: config.prompt.show,
        python: entry.python_request().or_else(|| config.python.request()),
        requirements: entry
            .requirements
            .as_ref()
            .map(config::Requirements::files)
            .or_else(|| config.requirements.clone()),
        conda_spec,
        named: Some(name),
        via,
    })
}

fn default_name(root: &Path, config: &Config) -> Result<String, ConfigError> {
    config.default_env.clone().ok_or_else(|| {
        config_error(
            config_path(root),
            format!(
                "names environments ({}) but no `default_env`, and .pyve/current does not \
                 choose one; run `pyve activate NAME`, or set `default_env: NAME`",
                config.environments.names().join(", ")
            ),
        )
    })
}

/// The environment of a project that names none. For micromamba the name
/// may come from environment.yml, whose problems are reported against that
/// file.
fn resolve_single(root: &Path, config: &Config) -> Result<Resolved, ConfigError> {
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
        named: None,
        via: Via::Single,
        python: config.python.request(),
        requirements: config.requirements.clone(),
        conda_spec: backend::micromamba::spec::SpecFiles::in_root(root),
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

/// Loads the project at `root` and resolves the environment `selector`
/// means.
pub fn load(root: &Path, selector: Selector) -> Result<(Resolved, Vec<String>), ConfigError> {
    let loaded = config::load(&config_path(root))?;
    let resolved = resolve_env(root, &loaded.config, selector)?;
    check_env_dir(&resolved.env_dir)?;
    Ok((resolved, loaded.warnings))
}
