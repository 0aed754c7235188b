//! What init decides before it writes anything: the config as it will be
//! written (only the lines the flags change), the environment it selects,
//! the backend's checked build plan, and the shared files' blocks.

use std::path::{Path, PathBuf};

use super::{named, recorded, shared, vscode, Options};
use crate::backend::{self, Backend, BuildRequest, Builder, Sources};
use crate::config::{self, BackendKind, Config, UserConfig};
use crate::deps::Declared;
use crate::error::{user, Error};
use crate::project::{self, registry};
use crate::python::{self, Source, VersionRequest};
use crate::text::shown;
use crate::trust::{EnvRef, Store};
use crate::vars::{self, Vars};
use crate::{ask, files, layout, pyproject};

const NEW_CONFIG: &str =
    "# pyve project configuration: keys are described in docs/configuration.md\n";

/// What init was asked, where.
pub struct Ask<'a> {
    pub options: &'a Options,
    /// `--python-version`, parsed.
    pub flag_version: Option<VersionRequest>,
    /// The project's real path.
    pub root: &'a Path,
    /// Where its settings are: `.pyve/config` (written by init), or
    /// `[tool.pyve]` in pyproject.toml (read, never edited).
    pub source: config::Source,
    /// The user's defaults (`init.backend`, `init.dependencies`).
    pub user: Option<&'a UserConfig>,
    pub vars: &'a dyn Vars,
}

/// Everything init decided before writing anything.
pub struct Plan {
    /// The config's bytes when read, to notice a concurrent change.
    pub existing: Option<Vec<u8>>,
    /// The config as it will be written.
    pub text: String,
    pub backend: &'static dyn Backend,
    pub env_dir: PathBuf,
    pub builder: Box<dyn Builder>,
    /// The dependencies to install (None: nothing declared, or `--no-deps`).
    pub declared: Option<Declared>,
    pub direnv: bool,
    /// pyve's block for `.gitignore`.
    pub gitignore: String,
    /// The dotenv files the config names (`--dotenv` creates the first).
    pub dotenv: Vec<PathBuf>,
    /// The named environment built, if the project names them.
    pub named: Option<String>,
    /// The environment the project had before it named any, now named, to
    /// record in the registry.
    pub adopted: Option<(String, registry::Entry)>,
    /// Every environment of the project, for the approval.
    pub all_envs: Vec<EnvRef>,
    /// The files the environment is built from, for the registry.
    pub spec: Vec<String>,
}

/// The config's text, or a new config's first line.
pub fn starting_text(existing: &Option<Vec<u8>>) -> String {
    match existing {
        Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        None => NEW_CONFIG.to_owned(),
    }
}

/// A config edit through `config::set_value` and friends, or the error that
/// says which line to change by hand.
pub fn edited(
    config_path: &Path,
    name: &str,
    value: &str,
    result: Option<String>,
) -> Result<String, Error> {
    result.ok_or_else(|| {
        user(format!(
            "cannot update {} automatically (its `{name}` is not a simple `key: value` line)",
            shown(config_path)
        ))
        .with_hint(format!(
            "set `{name}: {value}` by hand and run `pyve init` again"
        ))
    })
}

/// Reads the config and the project, decides, and checks everything the
/// build needs. Writes nothing.
pub fn plan(ask: &Ask) -> Result<Plan, Error> {
    let config_path = layout::config(ask.root);
    // Through the config's own checks (a directory, a dangling link,
    // something huge): init never rewrites what it could not read as one.
    let (existing, loaded) = match ask.source {
        // The table as YAML: what init would edit, compared at the end.
        config::Source::Pyproject => (
            Some(config::source::approved_bytes(ask.root, ask.source)?),
            config::source::load_from(ask.root, ask.source)?,
        ),
        _ => {
            let existing = match std::fs::symlink_metadata(&config_path) {
                Ok(_) => Some(config::read(&config_path)?),
                Err(_) => None,
            };
            let loaded = config::parse(&config_path, existing.as_deref().unwrap_or_default())?;
            (existing, loaded)
        }
    };
    for warning in &loaded.warnings {
        warn!("{warning}");
    }
    let config = loaded.config;
    // A project that names its environments builds one of them: `--env`,
    // else the active one.
    let target = match &ask.options.env {
        Some(name) => Some(name.clone()),
        None if config.is_named() => {
            if ask.options.env_name.is_some() {
                return Err(Error::usage(
                    "this project names its environments; choose one with --env NAME",
                ));
            }
            project::resolve(ask.root, &config)?.named
        }
        None => None,
    };
    match target {
        Some(name) => {
            let (text, adopted) = named::config_text(ask, &config, &existing, &name)?;
            finish(ask, existing, text, Some(name), adopted)
        }
        None => {
            let text = single_config_text(ask, &config, &existing)?;
            finish(ask, existing, text, None, None)
        }
    }
}

/// The config of a project with one environment, with the lines the flags
/// and the chosen name change.
fn single_config_text(
    ask: &Ask,
    config: &Config,
    existing: &Option<Vec<u8>>,
) -> Result<String, Error> {
    let config_path = layout::config(ask.root);
    let backend = backend::by_kind(choose_backend(
        ask.options.backend,
        config,
        ask.root,
        ask.user,
    ));
    let name = backend.init_name(ask.root, config, ask.options.env_name.as_deref())?;
    if let Some(source) = name.derived_from {
        info!("environment name `{}`, from {source}", name.name);
    }
    let mut text = starting_text(existing);
    let mut edit = |section: Option<&str>, key: &str, value: String| -> Result<(), Error> {
        let shown_key = section.map_or(key.to_owned(), |s| format!("{s}.{key}"));
        let result = config::set_value(&text, section, key, &value);
        text = edited(&config_path, &shown_key, &value, result)?;
        Ok(())
    };
    // pyproject.toml is not edited: what init would only write down (the
    // default backend, a derived name) is derived again at each read.
    let in_pyproject = ask.source == config::Source::Pyproject;
    let derived_backend = config.backend.is_none() && config.backend() == backend.kind();
    if config.backend.as_deref() != Some(backend.name()) && !(in_pyproject && derived_backend) {
        edit(None, "backend", backend.name().to_owned())?;
    }
    if let Some((section, key)) = name.record {
        if !(in_pyproject && ask.options.env_name.is_none()) {
            edit(section, key, config::yaml_string(&name.name))?;
        }
    }
    if let Some(version) = ask.flag_version {
        if config.python.request() != Some(version) {
            edit(
                Some("python"),
                "version",
                config::yaml_string(&version.to_string()),
            )?;
        }
    }
    Ok(text)
}

/// Backend selection, highest first: the flag, the config, the project's
/// files, the user's `init.backend`, then venv. A spec a backend claims is
/// never ignored without saying so.
pub fn choose_backend(
    flag: Option<BackendKind>,
    config: &Config,
    root: &Path,
    user: Option<&UserConfig>,
) -> BackendKind {
    let claimed = BackendKind::ALL
        .into_iter()
        .find_map(|kind| Some((kind, backend::by_kind(kind).claims(root)?)));
    let (kind, reason) = match (flag, config.backend.as_deref(), claimed) {
        (Some(kind), _, _) => (kind, format!("--backend {kind}")),
        (None, Some(name), _) => (
            config.backend(),
            format!("`backend: {name}` in .pyve/config"),
        ),
        (None, None, Some((kind, file))) => (kind, format!("{file} in the project")),
        (None, None, None) => match user.and_then(UserConfig::init_backend) {
            Some(kind) => (kind, "`init.backend` in your pyve config".to_owned()),
            None => (BackendKind::Venv, String::new()),
        },
    };
    if let Some((_, file)) = claimed.filter(|(claimer, _)| *claimer != kind) {
        info!(
            "note: {file} is not used: {reason} selects {}",
            describe(kind)
        );
    }
    kind
}

/// A backend in words, for the note about an unused spec.
fn describe(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Venv => "a virtual environment (venv)",
        BackendKind::Micromamba => "a conda environment (micromamba)",
    }
}

/// pyve's block in `.gitignore` for the project as it will be.
fn gitignore(root: &Path, env_dir: &Path, named: bool, config: &Config) -> String {
    // A micromamba downloaded into the project (`--bootstrap-to project`)
    // is a binary for this machine, not part of the repository.
    let own_tools = layout::bin(root).is_dir();
    shared::gitignore_body(root, env_dir, named, own_tools, &config.dotenv_files())
}

/// Checks the config as it will be written and everything the build of the
/// environment it selects needs. Writes nothing.
fn finish(
    ask: &Ask,
    existing: Option<Vec<u8>>,
    text: String,
    named: Option<String>,
    adopted: Option<(String, registry::Entry)>,
) -> Result<Plan, Error> {
    let (root, options) = (ask.root, ask.options);
    let (text, no_deps_by_default) =
        recorded::record_all(ask, existing.as_deref(), text, named.as_deref())?;
    let new_config = config::parse(&layout::config(root), text.as_bytes())
        .map_err(|e| {
            user(format!(
                "pyve produced an invalid config, nothing written: {e}"
            ))
        })?
        .config;
    let selector = match &named {
        Some(name) => project::Selector::Named(name),
        None => project::Selector::Active,
    };
    let resolved = project::resolve_env(root, &new_config, selector)?;
    project::check_env_dir(&resolved.env_dir)?;
    let backend = resolved.backend;
    if options.names_dependencies() {
        backend.installs_dependencies(root, &resolved.sources)?;
    }
    let declared = if no_deps_by_default && new_config.dependencies(None).is_none() {
        None
    } else {
        backend.declared(root, &resolved.sources)?
    };
    let (python, requires) = python_asked(ask, resolved.python, backend)?;
    let env_dir = resolved.env_dir.clone();
    check_env_dir_is_ours(backend, root, &env_dir)?;
    if options.force || !backend.marker(&env_dir).exists() {
        check_buildable(&env_dir)?;
    }
    let sources = with_channels(options, backend, &resolved.sources)?;
    let builder = backend.prepare(&BuildRequest {
        root,
        env_dir: &env_dir,
        config: &new_config,
        env_name: &String::from_utf8_lossy(&resolved.env_name),
        sources: &sources,
        python,
        requires,
        interactive: ask::interactive(),
        yes: options.yes,
        strict: options.strict,
        auto_bootstrap: options.auto_bootstrap,
        bootstrap_to: options.bootstrap_to,
        project_tools: vars::trust_all(ask.vars) || Store::new(ask.vars).approved_once(root),
        channels_from_command_line: !options.channels.is_empty() && !options.record_channels,
        vars: ask.vars,
    })?;
    let all_envs = project::all_envs(root, &new_config)?
        .iter()
        .map(crate::cmd::env_ref)
        .collect();
    let direnv =
        wants_envrc(options.direnv, &new_config, root, ask.vars) && !envrc_activates_python(root);
    let gitignore = gitignore(root, &env_dir, named.is_some(), &new_config);
    check_writable(ask, &gitignore, direnv)?;
    Ok(Plan {
        existing,
        text,
        backend,
        spec: backend.spec_files(root, &resolved.sources),
        env_dir,
        builder,
        declared,
        direnv,
        gitignore,
        dotenv: new_config.dotenv_files(),
        named,
        adopted,
        all_envs,
    })
}

/// A Python version asked for, and by what.
type Asked = Option<(VersionRequest, Source)>;

/// The Python version asked for, and by what: the flag, the config, else
/// a pin file; and the project's `requires-python`. They must agree: uv
/// reads the pin and `requires-python` too, and replaces an environment
/// that disagrees with them.
fn python_asked(
    ask: &Ask,
    configured: Option<VersionRequest>,
    backend: &dyn Backend,
) -> Result<(Asked, Option<python::Requires>), Error> {
    let pin = python::find_pin(ask.root)?;
    let asked = match (ask.flag_version, configured) {
        (Some(version), _) => Some((version, Source::Flag)),
        (None, Some(version)) => Some((version, Source::Config(layout::config(ask.root)))),
        (None, None) => None,
    };
    let requires = if backend.follows_python_version() {
        requires_python(ask.root)?
    } else {
        None
    };
    if let (Some(flag), Some(_)) = (ask.flag_version, &pin) {
        // The flag is this run's explicit choice: said, not refused. It is
        // recorded, so the next init (and doctor) find the disagreement.
        let flagged = Some((flag, Source::Flag));
        if let Err(e) = python::agree(flagged.as_ref(), pin.as_ref(), None) {
            warn!("{}; {}", e.message(), e.hint().unwrap_or(""));
        }
        python::agree(asked.as_ref(), None, requires.as_ref())?;
    } else {
        python::agree(asked.as_ref(), pin.as_ref(), requires.as_ref())?;
    }
    let asked = asked.or_else(|| pin.map(|(version, file)| (version, Source::Pin(file))));
    Ok((asked, requires))
}

/// `requires-python` from the project's pyproject.toml, parsed.
fn requires_python(root: &Path) -> Result<Option<python::Requires>, Error> {
    let Some(project) = pyproject::read(root)? else {
        return Ok(None);
    };
    let Some(text) = project.requires_python.as_deref() else {
        return Ok(None);
    };
    python::Requires::parse(text).map(Some).map_err(|why| {
        user(format!(
            "{}: [project] requires-python: {why}",
            shown(&project.path)
        ))
        .with_hint("write PEP 440 specifiers, for example `>=3.10`")
    })
}

/// The environment's sources with `--channel` in place of its channels.
fn with_channels(
    options: &Options,
    backend: &dyn backend::Backend,
    sources: &Sources,
) -> Result<Sources, Error> {
    let mut sources = sources.clone();
    if let Some(bad) = config::bad_channel(Some(&options.channels)) {
        return Err(Error::usage(format!(
            "--channel `{}` is not a channel name or URL",
            crate::text::one_line(bad)
        )));
    }
    if !options.channels.is_empty() {
        if backend.kind() != config::BackendKind::Micromamba {
            return Err(user(format!(
                "--channel applies to conda environments, and this is a {} environment",
                backend.name()
            )));
        }
        sources.channels = options.channels.clone();
    }
    Ok(sources)
}

/// Whether init writes pyve's block into `.envrc`: as `--direnv` or
/// `--no-direnv` say for this run; never under the project's own
/// `direnv: false`; else where `.envrc` already has the block (kept
/// current), or where direnv is what would activate the project: it is
/// installed, the shell that ran init runs no pyve hook, and this is not
/// CI. A file nobody uses would only be one more to review.
fn wants_envrc(flag: Option<bool>, config: &Config, root: &Path, vars: &dyn Vars) -> bool {
    if let Some(wanted) = flag {
        return wanted;
    }
    if config.direnv == Some(false) {
        return false;
    }
    files::block::file_has_block(&root.join(".envrc"))
        || (!vars::hook_installed(vars)
            && !vars::in_ci(vars)
            && crate::python::which(vars, "direnv").is_some())
}

/// An `.envrc` that already builds or activates a Python environment
/// gets no pyve block (two environments would end up on PATH); says so,
/// with the fix.
fn envrc_activates_python(root: &Path) -> bool {
    let envrc = root.join(".envrc");
    let Ok(Some(bytes)) = files::read_optional(&envrc) else {
        return false;
    };
    let own = match files::block::without_block(&envrc, &bytes) {
        Ok(Some(rest)) => rest,
        _ => bytes,
    };
    let Some((line, text)) = crate::shell::direnv::python_layout(&String::from_utf8_lossy(&own))
    else {
        return false;
    };
    warn!(
        "{}:{line}: `{text}` already activates a Python environment, so pyve did not add its \
         block (two environments would be on PATH); remove that line and run `pyve init` \
         again, or keep the .envrc yours and pass --no-direnv",
        shown(&envrc)
    );
    true
}

/// Fails now, before anything is built or written, when a file init
/// writes could not be written later: a broken block in a shared file, a
/// link to nothing or out of the project.
fn check_writable(ask: &Ask, gitignore: &str, direnv: bool) -> Result<(), Error> {
    let root = ask.root;
    shared::check_block(root, &root.join(".gitignore"), gitignore)?;
    if direnv {
        shared::check_block(root, &root.join(".envrc"), shared::ENVRC_BODY)?;
    }
    files::landing(root, &layout::config(root))?;
    if ask.options.vscode {
        files::landing(root, &root.join(vscode::RELATIVE))?;
    }
    Ok(())
}

/// Whether any tool can build an environment at `env_dir`. Measured: uv
/// refuses a path that is not UTF-8, and `python -m venv` fails writing
/// its activation scripts, half-way.
fn check_buildable(env_dir: &Path) -> Result<(), Error> {
    if env_dir.to_str().is_some() {
        return Ok(());
    }
    Err(user(format!(
        "{}: the environment's path is not valid UTF-8, and neither uv, venv nor conda can \
         build an environment there",
        shown(env_dir)
    ))
    .with_hint("rename the directory, or set venv.directory to a UTF-8 path"))
}

/// pyve replaces only environments: a directory at the environment's path
/// that is something else is the user's, and stays.
fn check_env_dir_is_ours(backend: &dyn Backend, root: &Path, env_dir: &Path) -> Result<(), Error> {
    // Replacing the project itself (`venv.directory: .` in a project that
    // is also a venv) or a directory above it would delete the project.
    let real_env = std::fs::canonicalize(env_dir).unwrap_or_else(|_| env_dir.to_owned());
    if root.starts_with(env_dir) || root.starts_with(&real_env) {
        return Err(user(format!(
            "the environment's path {} is the project directory or above it",
            shown(env_dir)
        ))
        .with_hint(
            "set venv.directory in .pyve/config to a directory inside the project, such as `.venv`",
        ));
    }
    let Ok(metadata) = std::fs::symlink_metadata(env_dir) else {
        return Ok(());
    };
    if let Some(error) = project::unreadable_environment(env_dir, &backend.marker(env_dir)) {
        return Err(error);
    }
    let fix = "move it away, or point venv.directory in .pyve/config elsewhere";
    if metadata.file_type().is_symlink() || !metadata.is_dir() {
        return Err(user(format!(
            "{} exists and is not a directory pyve made",
            shown(env_dir)
        ))
        .with_hint(fix));
    }
    let empty = std::fs::read_dir(env_dir).is_ok_and(|mut d| d.next().is_none());
    if !empty && !backend.marker(env_dir).exists() && !backend.unfinished(env_dir) {
        return Err(user(format!(
            "{} exists and is not an environment (no {})",
            shown(env_dir),
            backend::marker_name(backend, env_dir)
        ))
        .with_hint(fix));
    }
    Ok(())
}
