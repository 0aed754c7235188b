//! A project: finding the one that owns a directory, resolving its config
//! into the environment a command means (`Resolved`), the active-environment
//! pointer (`pointer`), the lock commands take before writing (`lock`),
//! building an environment beside its place and swapping it in (`build`),
//! and the record of what was built (`registry`). Shared by the engine and
//! the commands; it knows nothing of approvals or the command line.

pub mod build;
mod find;
pub mod lock;
pub mod pointer;
pub mod registry;

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::backend::{self, Activation, Backend, Before, Sources};
use crate::config::{self, Config, ConfigError, Source, UserConfig};
use crate::error::{user, Error};
use crate::layout;
use crate::text::{one_line, shown};
use crate::variables::{self, Variable};

pub use find::{find_root, Found};

/// Which of a project's environments a command means.
#[derive(Debug, Clone, Copy)]
pub enum Selector<'a> {
    /// The active one: `.pyve/current`, else `default_env`; the only one
    /// of a project without named environments.
    Active,
    /// `default_env`, whatever `.pyve/current` says (CI never guesses).
    Default,
    Named(&'a str),
    /// This shell's choice (`pyve use`, see `shell_choice`); the active one
    /// when the config no longer has it.
    Shell(&'a str),
}

impl<'a> Selector<'a> {
    /// The active environment, or this shell's choice where it made one
    /// (`pyve use`, read by the caller from `PYVE_USE`).
    pub fn active_or_shell(chosen: Option<&'a str>) -> Selector<'a> {
        chosen.map_or(Selector::Active, Selector::Shell)
    }
}

/// How the environment was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The project has one environment, unnamed.
    Single,
    Pointer,
    Default,
    Explicit,
    /// This shell's `pyve use`.
    Shell,
}

/// A project's config resolved into what activation and the commands need.
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
    /// What the environment is built from, as the config names it.
    pub sources: Sources,
    /// Whether `pyve run` syncs the environment first when its declared
    /// dependencies changed (`sync_on_run`, default yes).
    pub sync_on_run: bool,
    /// The project's own variables as templates: `env:`, and once `load`
    /// read them (`read_dotenv`), its dotenv files' under them.
    pub variables: Vec<Variable>,
    /// The dotenv files `dotenv:` names, absolute.
    pub dotenv: Vec<PathBuf>,
    /// Where the settings came from (`.pyve/config` unless `load` says).
    pub source: Source,
}

impl Resolved {
    /// The backend's marker of this environment.
    pub fn marker(&self) -> PathBuf {
        self.backend.marker(&self.env_dir)
    }

    /// The activation on top of the environment `before` describes.
    pub fn activation(&self, project: &Path, before: Before) -> Activation {
        activation(
            self.backend,
            &self.env_dir,
            &self.env_name,
            project.as_os_str().as_bytes(),
            &self.prompt,
            &self.variables,
            before,
        )
    }

    /// Reads the dotenv files into `variables`: each file's in turn, then
    /// `env:` over them. A missing file sets nothing (a fresh clone has no
    /// `.env`); a bad one is an error naming its line.
    pub fn read_dotenv(&mut self, check_owner: bool) -> Result<(), ConfigError> {
        if self.dotenv.is_empty() {
            return Ok(());
        }
        let mut merged = Vec::new();
        for file in &self.dotenv {
            let read =
                variables::dotenv::read(file, check_owner).map_err(|problem| ConfigError {
                    line: problem.line,
                    ..ConfigError::at(file, problem.message).with_hint(problem.hint)
                })?;
            for (name, template) in read.unwrap_or_default() {
                variables::merge(&mut merged, name, template);
            }
        }
        for (name, template) in std::mem::take(&mut self.variables) {
            variables::merge(&mut merged, name, template);
        }
        self.variables = merged;
        Ok(())
    }

    /// The command that builds this environment.
    pub fn init_command(&self) -> String {
        match &self.named {
            Some(name) => format!("pyve init --env {name}"),
            None => "pyve init".to_owned(),
        }
    }
}

/// Where named environment `name` lives.
pub fn named_env_dir(root: &Path, name: &str, entry: &config::EnvEntry) -> PathBuf {
    match &entry.directory {
        Some(dir) => root.join(dir),
        None => layout::envs(root).join(name),
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

/// The value of `PYVE_USE` when one shell uses environment `name` of the
/// project whose real path is `root`: `NAME:ROOT` (a name has no `:`),
/// with `%`, control bytes and bytes past ASCII in the path as `%XX`, so
/// the value is one line of text that a command substitution keeps whole.
pub fn shell_choice_value(name: &str, root: &Path) -> Vec<u8> {
    let mut value = format!("{name}:").into_bytes();
    for &b in root.as_os_str().as_bytes() {
        if b == b'%' || b.is_ascii_control() || !b.is_ascii() {
            value.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            value.push(b);
        }
    }
    value
}

/// The environment a `PYVE_USE` `value` chooses, when it is about the
/// project at `root` (compared as given: the caller resolves links).
pub fn shell_choice<'v>(value: &'v [u8], root: &Path) -> Option<&'v str> {
    let at = value.iter().position(|&b| b == b':')?;
    let name = std::str::from_utf8(&value[..at]).ok()?;
    if name.is_empty() || shell_choice_value(name, root) != value {
        return None;
    }
    Some(name)
}

/// Resolves the environment `selector` means.
pub fn resolve_env(
    root: &Path,
    config: &Config,
    selector: Selector,
) -> Result<Resolved, ConfigError> {
    if !config.is_named() {
        if let Selector::Named(name) = selector {
            return Err(ConfigError::at(
                &config.source.file(root),
                format!(
                    "defines no named environments, so there is no `{}`",
                    one_line(name)
                ),
            )
            .with_hint(format!("add one with `pyve init --env {}`", one_line(name))));
        }
        return resolve_single(root, config);
    }
    let (name, via) = match selector {
        Selector::Named(name) => (name.to_owned(), Via::Explicit),
        Selector::Active => match pointer::read(root, config)? {
            Some(name) => (name, Via::Pointer),
            None => (default_name(root, config)?, Via::Default),
        },
        Selector::Default => (default_name(root, config)?, Via::Default),
        Selector::Shell(name) if config.environments.get(name).is_some() => {
            (name.to_owned(), Via::Shell)
        }
        Selector::Shell(_) => return resolve_env(root, config, Selector::Active),
    };
    let Some(entry) = config.environments.get(&name) else {
        return Err(ConfigError::at(
            &config.source.file(root),
            format!(
                "has no environment `{}`; the environments are: {}",
                one_line(&name),
                config.environments.names().join(", ")
            ),
        ));
    };
    let backend = backend::by_kind(entry.backend(config));
    let prompt = config::render_prompt(config.prompt_format(), backend.name(), name.as_bytes());
    Ok(Resolved {
        backend,
        env_dir: named_env_dir(root, &name, entry),
        env_name: name.clone().into_bytes(),
        prompt,
        show_prompt: config.prompt_show(),
        python: entry.python_request(config),
        sources: Sources {
            requirements: entry
                .requirements
                .as_ref()
                .map(config::Requirements::files)
                .or_else(|| config.requirements.clone()),
            env_file: entry.env_file.clone(),
            lock_file: entry.lock_file.clone(),
            dependencies: config.dependencies(Some(entry)),
            groups: entry
                .groups
                .clone()
                .or_else(|| config.groups.clone())
                .unwrap_or_default(),
            channels: entry
                .channels
                .clone()
                .or_else(|| config.micromamba.channels.clone())
                .unwrap_or_default(),
        },
        named: Some(name),
        via,
        sync_on_run: config.sync_on_run != Some(false),
        variables: config.env_templates(),
        dotenv: dotenv_paths(root, config),
        source: config.source,
    })
}

fn default_name(root: &Path, config: &Config) -> Result<String, ConfigError> {
    config.default_env.clone().ok_or_else(|| {
        ConfigError::at(
            &config.source.file(root),
            format!(
                "names environments ({}) but no `default_env`, and .pyve/current does not \
                 choose one",
                config.environments.names().join(", ")
            ),
        )
        .with_hint("run `pyve activate NAME`, or set `default_env: NAME`")
    })
}

/// The environment of a project that names none; its backend says what it
/// is called and where it lives.
fn resolve_single(root: &Path, config: &Config) -> Result<Resolved, ConfigError> {
    let backend = backend::by_kind(config.backend());
    let (env_name, env_dir) = backend.single_env(root, config).map_err(|e| {
        let error = ConfigError::at(&config.source.file(root), e.message());
        match e.hint() {
            Some(hint) => error.with_hint(hint),
            None => error,
        }
    })?;
    let prompt = config::render_prompt(config.prompt_format(), backend.name(), &env_name);
    Ok(Resolved {
        backend,
        env_dir,
        env_name,
        prompt,
        show_prompt: config.prompt_show(),
        named: None,
        via: Via::Single,
        python: config.python.request(),
        sync_on_run: config.sync_on_run != Some(false),
        sources: Sources {
            requirements: config.requirements.clone(),
            dependencies: config.dependencies(None),
            groups: config.groups.clone().unwrap_or_default(),
            channels: config.micromamba.channels.clone().unwrap_or_default(),
            ..Sources::default()
        },
        variables: config.env_templates(),
        dotenv: dotenv_paths(root, config),
        source: config.source,
    })
}

fn dotenv_paths(root: &Path, config: &Config) -> Vec<PathBuf> {
    config
        .dotenv_files()
        .iter()
        .map(|file| root.join(file))
        .collect()
}

/// Everything activation sets: the backend's part, the project's own
/// variables (`variables`, templates), then pyve's own. The hook, `pyve
/// run` and `pyve export` all apply this.
pub fn activation(
    backend: &dyn Backend,
    env_dir: &Path,
    env_name: &[u8],
    project: &[u8],
    prompt: &[u8],
    variables: &[Variable],
    before: Before,
) -> Activation {
    let mut activation = backend.activation(env_dir, env_name, before);
    project_variables(&mut activation, backend, project, variables, before);
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

/// Adds the project's variables to `activation`: `PATH`'s directories in
/// front of the environment's (a relative one is the project's), every
/// other variable with its references expanded. A variable the backend
/// sets or unsets stays the backend's, with a warning.
fn project_variables(
    activation: &mut Activation,
    backend: &dyn Backend,
    project: &[u8],
    variables: &[Variable],
    before: Before,
) {
    for (name, template) in variables {
        if name == "PATH" {
            let Some(entries) = variables::path_entries(template) else {
                continue;
            };
            let dirs: Vec<Vec<u8>> = entries
                .iter()
                .map(|entry| {
                    let dir = variables::expand(entry, project, None);
                    if dir.first() == Some(&b'/') {
                        dir
                    } else {
                        [project, b"/", &dir].concat()
                    }
                })
                .collect();
            // PATH cannot hold a directory whose name has its separator.
            if dirs.iter().any(|dir| dir.contains(&b':')) {
                activation.warnings.push(
                    "env: PATH: the project's path contains ':', which PATH cannot hold; \
                     its directories are not added"
                        .to_owned(),
                );
                continue;
            }
            activation.path_prepend.splice(0..0, dirs);
            continue;
        }
        let backends = activation.set.iter().any(|(n, _)| n == name)
            || activation.unset.contains(&name.as_str());
        if backends {
            activation.warnings.push(format!(
                "env: {name} is the {} backend's to set; the project's value is not used",
                backend.name()
            ));
            continue;
        }
        let prior = before(name);
        let value = variables::expand(template, project, prior.as_deref());
        activation.set.push((name.clone(), value));
    }
}

/// PATH cannot hold a directory whose name contains its separator;
/// refusing beats a PATH that silently points somewhere else.
pub fn check_env_dir(env_dir: &Path) -> Result<(), ConfigError> {
    if env_dir.as_os_str().as_bytes().contains(&b':') {
        return Err(ConfigError::at(
            env_dir,
            "the environment's path contains ':', which PATH cannot hold",
        )
        .with_hint("move the project or set venv.directory"));
    }
    Ok(())
}

/// Loads the project at `root` from its settings (`source`), with the
/// user's defaults for what they leave out, and resolves the environment
/// `selector` means. Its dotenv files are read after (`read_dotenv`), by
/// the caller, which knows whether their owners are to be checked.
pub fn load(
    root: &Path,
    source: Source,
    selector: Selector,
    user: Option<&UserConfig>,
) -> Result<(Resolved, Vec<String>), ConfigError> {
    let loaded = config::source::load_from(root, source)?;
    let config = loaded.config.with_user_defaults(user);
    let mut resolved = resolve_env(root, &config, selector)?;
    resolved.source = source;
    check_env_dir(&resolved.env_dir)?;
    Ok((resolved, loaded.warnings))
}

/// A name that is not one of the config's environments, listing those
/// there are.
pub fn unknown_name(config: &Config, name: &str) -> Error {
    if !config.is_named() {
        return user(format!(
            "this project has no named environments, so no `{}`",
            one_line(name)
        ))
        .with_hint(format!("add one with `pyve init --env {}`", one_line(name)));
    }
    user(format!(
        "no environment `{}` in .pyve/config; the environments are: {}",
        one_line(name),
        config.environments.names().join(", ")
    ))
    .with_hint(format!(
        "`pyve init --env {}` adds and builds it (with --backend micromamba for a conda one)",
        one_line(name)
    ))
}

/// Why the environment cannot even be looked at (permission denied on it
/// or its marker), as opposed to being absent.
pub fn unreadable_environment(env_dir: &Path, marker: &Path) -> Option<Error> {
    match std::fs::metadata(marker) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Some(
            user(format!(
                "{}: {e}; pyve can neither use nor replace it",
                shown(env_dir)
            ))
            .with_hint("fix its permissions (or remove it as its owner), then run `pyve init`"),
        ),
        _ => None,
    }
}

/// The missing-environment error, the same from every command.
pub fn missing_environment(root: &Path, resolved: &Resolved) -> Error {
    if let Some(error) = unreadable_environment(&resolved.env_dir, &resolved.marker()) {
        return error;
    }
    user(format!(
        "the environment {} does not exist yet",
        shown(&resolved.env_dir)
    ))
    .with_hint(format!(
        "create it with `{}` in {}",
        resolved.init_command(),
        shown(root)
    ))
}
