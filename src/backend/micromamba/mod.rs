//! Conda environments built by micromamba from the project's
//! `conda-lock.yml` or `environment.yml`, at `<root>/.pyve/envs/<env_name>`,
//! and activated by pyve itself: no micromamba process at prompt time.

mod content_hash;
mod create;
mod doctor;
mod env_vars;
mod lock;
pub mod locking;
mod spec;
mod tool;

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::{
    Activation, Backend, Before, BootstrapTo, BuildRequest, Builder, Diagnosis, InitName,
    Inspection, Scripts, Sources,
};
use crate::config::{names, BackendKind, Config, LockPolicy};
use crate::deps::Declared;
use crate::error::{user, Error};
use crate::health::Finding;
use crate::text::shown;
use crate::{ask, files, layout};
use spec::{Spec, SpecFiles};
use tool::Tool;

pub struct Micromamba;

/// Written into the prefix once `micromamba create` succeeded: the marker
/// that the environment is complete, holding the digest of the spec it was
/// built from.
const MARKER: &str = "conda-meta/pyve-built";

/// The build record is two short lines.
const MAX_MARKER_BYTES: u64 = 64 << 10;

/// The environment's name, highest first: `micromamba.env_name`, the
/// config's `env_name`, environment.yml's `name:`, the directory's name.
/// Names the user wrote must already be valid; the others are sanitized.
fn env_name(root: &Path, config: &Config) -> Result<(String, &'static str), Error> {
    if let Some(name) = &config.micromamba.env_name {
        return Ok((name.clone(), "micromamba.env_name in .pyve/config"));
    }
    if let Some(name) = &config.env_name {
        names::check(name).map_err(|e| e.context("env_name in .pyve/config"))?;
        return Ok((name.clone(), "env_name in .pyve/config"));
    }
    let environment = root.join(spec::ENVIRONMENT_FILE);
    if environment.is_file() {
        if let Some(name) = spec::read_environment(&environment)?.name {
            let derived = names::derive(&name).map_err(|e| {
                user(format!(
                    "`name: {name}` in environment.yml: {}",
                    e.message()
                ))
                .with_hint(format!(
                    "{}; or set one with --env-name",
                    e.hint().unwrap_or("rename it")
                ))
            })?;
            return Ok((derived, "name in environment.yml"));
        }
    }
    let base = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let derived = names::derive(&base).map_err(|e| {
        user(format!(
            "the project directory's name {base:?}: {}",
            e.message()
        ))
        .with_hint(format!(
            "{}; or set one with --env-name",
            e.hint().unwrap_or("rename it")
        ))
    })?;
    Ok((derived, "the project directory's name"))
}

impl Backend for Micromamba {
    fn kind(&self) -> BackendKind {
        BackendKind::Micromamba
    }

    fn single_env(&self, root: &Path, config: &Config) -> Result<(Vec<u8>, PathBuf), Error> {
        let (name, _) = env_name(root, config)?;
        let dir = layout::envs(root).join(&name);
        Ok((name.into_bytes(), dir))
    }

    fn init_name(
        &self,
        root: &Path,
        config: &Config,
        requested: Option<&str>,
    ) -> Result<InitName, Error> {
        let (name, derived_from) = match requested {
            Some(name) => {
                names::check(name).map_err(|e| Error::usage(format!("--env-name: {e}")))?;
                (name.to_owned(), None)
            }
            None => {
                let (name, source) = env_name(root, config)?;
                (name, config.micromamba.env_name.is_none().then_some(source))
            }
        };
        // The resolved name is recorded, so the hook never has to derive it.
        let recorded = config.micromamba.env_name.as_ref() == Some(&name);
        Ok(InitName {
            name,
            derived_from,
            record: (!recorded).then_some((Some("micromamba"), "env_name")),
        })
    }

    fn installs_dependencies(&self, root: &Path, sources: &Sources) -> Result<(), Error> {
        Err(
            user("the micromamba backend installs only what the conda spec lists").with_hint(
                format!(
                    "put pip packages under `- pip:` in {}'s dependencies instead",
                    SpecFiles::new(root, sources).environment_name()
                ),
            ),
        )
    }

    fn declared(&self, _root: &Path, _sources: &Sources) -> Result<Option<Declared>, Error> {
        Ok(None)
    }

    fn claims(&self, root: &Path) -> Option<&'static str> {
        [spec::LOCK_FILE, spec::ENVIRONMENT_FILE]
            .into_iter()
            .find(|file| root.join(file).is_file())
    }

    fn marker(&self, env_dir: &Path) -> PathBuf {
        env_dir.join(MARKER)
    }

    fn active_variable(&self) -> &'static str {
        "CONDA_PREFIX"
    }

    /// What `micromamba activate -p <prefix>` exports, stacked on a conda
    /// environment the shell already had: that one's prefix is saved as
    /// `CONDA_PREFIX_<n>` and its PATH entries stay behind this one's.
    fn activation(&self, prefix: &Path, env_name: &[u8], before: Before) -> Activation {
        let prefix_bytes = prefix.as_os_str().as_bytes().to_vec();
        let mut level = before("CONDA_SHLVL")
            .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse::<u32>().ok())
            .unwrap_or(0);
        let outer = before("CONDA_PREFIX");
        // This very environment already active (`pyve run` in a shell the
        // hook or direnv activated): the same level again, not one more.
        let again = outer.as_deref() == Some(prefix_bytes.as_slice());
        if again {
            level = level.saturating_sub(1);
        }
        let mut modifier = b"(".to_vec();
        modifier.extend_from_slice(env_name);
        modifier.extend_from_slice(b") ");
        let mut set = vec![
            ("CONDA_PREFIX".to_owned(), prefix_bytes),
            (
                "CONDA_SHLVL".to_owned(),
                (level + 1).to_string().into_bytes(),
            ),
            ("CONDA_DEFAULT_ENV".to_owned(), env_name.to_vec()),
            ("CONDA_PROMPT_MODIFIER".to_owned(), modifier),
        ];
        if level > 0 && !again {
            if let Some(outer) = outer {
                set.push((format!("CONDA_PREFIX_{level}"), outer));
            }
        }
        // The environment's own variables come after conda's, as conda
        // applies them; pyve's own variables come after both.
        let (own, warnings) = env_vars::read(prefix);
        set.extend(own);
        let etc = prefix.join("etc/conda");
        let has_scripts = ["activate.d", "deactivate.d"]
            .iter()
            .any(|d| etc.join(d).is_dir());
        Activation {
            path_prepend: vec![prefix.join("bin").as_os_str().as_bytes().to_vec()],
            set,
            unset: Vec::new(),
            scripts: has_scripts.then_some(Scripts { dir: etc }),
            warnings,
        }
    }

    fn prepare(&self, request: &BuildRequest) -> Result<Box<dyn Builder>, Error> {
        let files = SpecFiles::new(request.root, request.sources);
        let spec = spec::detect(&files).ok_or_else(|| {
            user(format!(
                "the micromamba backend needs {} in {}",
                files.describe(),
                shown(request.root)
            ))
            .with_hint(format!(
                "create {} with:\n{}",
                files.environment_name(),
                spec::minimal_environment_yml(request.env_name)
            ))
        })?;
        let channels = request.sources.channels.clone();
        let mut variables = Vec::new();
        if spec.is_lock {
            check_lock_platform(&spec, &files)?;
            if !channels.is_empty() && request.channels_from_command_line {
                return Err(user(format!(
                    "--channel applies to {}, but {} is used and pins every package's URL",
                    files.environment_name(),
                    spec.file_name()
                ))
                .with_hint(
                    "record the channels (`pyve init --channel … --record-channels`, or \
                     `micromamba.channels` in .pyve/config), then `pyve lock` and `pyve init`",
                ));
            }
            // A lock carries no `variables:`; the environment file's apply.
            variables = spec::lock_variables(&files)?;
        } else if !spec::read_environment(&spec.path)?.has_channels && channels.is_empty() {
            return Err(user(format!(
                "{} lists no channels; pyve uses the file's channels and no others",
                shown(&spec.path)
            ))
            .with_hint("add:\n  channels:\n    - conda-forge\n(or pass --channel conda-forge)"));
        }
        let policy = if request.strict {
            LockPolicy::Strict
        } else {
            request.config.lock_file_policy.unwrap_or(LockPolicy::Warn)
        };
        lock::check_lock(&files, &channels, policy, request.interactive, request.yes)?;
        let tool = find_or_bootstrap(request)?;
        let bytes = spec::read_bytes(&spec.path)?;
        let digest = spec::build_digest(&bytes, spec.is_lock, &channels, &variables);
        let (expected, pip_allowed) = create::expected(&spec)?;
        let inputs = if spec.is_lock && !variables.is_empty() {
            format!(
                "{} (or `variables:` in {})",
                spec.file_name(),
                files.environment_name()
            )
        } else {
            spec.file_name().to_owned()
        };
        Ok(Box::new(CondaBuilder {
            create: create::Create {
                root: request.root.to_owned(),
                tool,
                spec,
                bytes,
                root_prefix: root_prefix(request.vars),
                channels,
                expected,
                variables,
            },
            pip_allowed,
            inputs,
            digest,
            prefix: request.env_dir.to_owned(),
        }))
    }

    fn inspect(&self, prefix: &Path) -> Inspection {
        doctor::inspect(prefix)
    }

    fn installed_python(&self, prefix: &Path) -> Option<String> {
        // conda's record of the python package: `python-3.12.1-h….json`.
        std::fs::read_dir(prefix.join("conda-meta"))
            .ok()?
            .flatten()
            .find_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let rest = name.strip_prefix("python-")?.strip_suffix(".json")?;
                let version = rest.split('-').next()?;
                version
                    .starts_with(|c: char| c.is_ascii_digit())
                    .then(|| version.to_owned())
            })
    }

    /// The spec's own `python` dependency chooses the interpreter.
    fn follows_python_version(&self) -> bool {
        false
    }

    fn spec_files(&self, root: &Path, sources: &Sources) -> Vec<String> {
        spec::detect(&SpecFiles::new(root, sources))
            .map(|s| vec![s.name])
            .unwrap_or_default()
    }

    fn describe_sources(&self, root: &Path, sources: &Sources) -> Option<(&'static str, String)> {
        Some(("conda spec", SpecFiles::new(root, sources).describe()))
    }

    fn reads_environment(&self) -> bool {
        true
    }

    fn diagnose(&self, diagnosis: &Diagnosis) -> Vec<Finding> {
        doctor::diagnose(diagnosis)
    }

    /// A transaction (`micromamba install -p`) appends to the history and
    /// may add scripts or variables; `env config vars` edits the state.
    fn watched(&self, prefix: &Path) -> Vec<PathBuf> {
        vec![
            prefix.join("conda-meta/history"),
            prefix.join("conda-meta/state"),
            prefix.join("etc/conda/env_vars.d"),
        ]
    }

    fn unfinished(&self, prefix: &Path) -> bool {
        // Anything in `.pyve/envs` is pyve's; a prefix without the marker
        // is a create that failed or was killed.
        prefix.parent().is_some_and(|p| p.ends_with(".pyve/envs"))
    }
}

/// A lock file without this machine's platform makes micromamba create an
/// empty environment and succeed: refused before it runs.
fn check_lock_platform(spec: &Spec, files: &SpecFiles) -> Result<(), Error> {
    let lock = spec::read_lock(&spec.path)?;
    let here = spec::platform().unwrap_or("this platform");
    if lock.platforms.iter().any(|p| p == here) {
        return Ok(());
    }
    Err(user(format!(
        "{}: metadata.platforms is [{}], without this machine's {here}; micromamba would create an empty environment",
        spec.file_name(),
        lock.platforms.join(", ")
    ))
    .with_hint(format!(
        "add {here} to `platforms:` in {} (or pass `pyve lock --platform {here}`) and run `pyve lock`",
        files.environment_name()
    )))
}

/// The root prefix micromamba gets: none when the user chose one
/// (`MAMBA_ROOT_PREFIX`), else micromamba's own default without its guess
/// from where the binary is (libmamba's `configuration.cpp`): `~/micromamba`
/// when it is a root prefix already (micromamba 1.x's), else
/// `$XDG_DATA_HOME/mamba`, else `~/.local/share/mamba`. Left to its guess, a
/// micromamba in `<project>/.pyve/bin` takes `.pyve` for its root (an
/// `envs` sits beside its `bin`): a package cache per project, and rc
/// files a repository could ship.
fn root_prefix(vars: &dyn crate::vars::Vars) -> Option<PathBuf> {
    if vars.non_empty("MAMBA_ROOT_PREFIX").is_some() {
        return None;
    }
    let home = crate::paths::home(vars)?;
    let v1 = home.join("micromamba");
    if ["pkgs", "conda-meta", "envs"]
        .iter()
        .any(|d| v1.join(d).exists())
    {
        return Some(v1);
    }
    crate::paths::data_home(vars).map(|data| data.join("mamba"))
}

/// The micromamba to build with; downloads one when asked to, or when the
/// person at the terminal agrees.
fn find_or_bootstrap(request: &BuildRequest) -> Result<Tool, Error> {
    let places = tool::Places {
        root: request.root,
        project_tools: request.project_tools,
        vars: request.vars,
    };
    if let Some(found) = places.find_noting_refusal() {
        // Not run for its version first: that is a process of its own (a
        // sixth of a create with a warm cache); a micromamba that does not
        // start fails the create, with its output and a hint.
        return Ok(found);
    }
    let to = request.bootstrap_to;
    if !request.auto_bootstrap {
        offer_download(request, &places)?;
    }
    let dir = places.bootstrap_dir(to)?;
    tool::bootstrap(request.vars, &dir, to.into())
}

/// Says where micromamba was looked for, and asks a person at a terminal
/// whether to download it. `--yes` alone (CI) never fetches and runs a
/// binary.
fn offer_download(request: &BuildRequest, places: &tool::Places) -> Result<(), Error> {
    let mut message = String::from("micromamba was not found. pyve looked at:\n");
    for place in places.looked_at() {
        message.push_str(&format!("  {place}\n"));
    }
    message.push_str(
        "Run `pyve init --auto-bootstrap` to download it to ~/.local/share/pyve/bin \
         (or add `--bootstrap-to project` for this project's .pyve/bin), \
         or install micromamba yourself. pyve never falls back to venv for a conda project",
    );
    if !request.interactive {
        return Err(user(message));
    }
    info!("{message}");
    let url = tool::download_url(request.vars)?;
    let place = match request.bootstrap_to {
        BootstrapTo::User => "~/.local/share/pyve/bin",
        BootstrapTo::Project => "this project's .pyve/bin",
    };
    if ask::confirm(
        &format!("Download micromamba from {url} to {place} now?"),
        request.yes,
    ) {
        Ok(())
    } else {
        Err(user("micromamba is needed; nothing was changed"))
    }
}

struct CondaBuilder {
    create: create::Create,
    /// Packages the spec has pip install (recorded in the marker, so doctor
    /// does not count them as pip's behind conda's back); None: any.
    pip_allowed: Option<Vec<String>>,
    /// What the digest covers, for messages: the spec's name, and for a
    /// lock the environment file whose variables it gets.
    inputs: String,
    digest: String,
    prefix: PathBuf,
}

impl Builder for CondaBuilder {
    fn describe(&self) -> String {
        let tool = &self.create.tool;
        format!(
            "micromamba create from {} (micromamba {} from {})",
            self.create.spec.file_name(),
            tool.path.display(),
            tool.origin
        )
    }

    fn accepts(&self, _existing: &Inspection) -> Result<(), String> {
        self.built_from_this_spec(&self.prefix)
    }

    fn build(&self, prefix: &Path) -> Result<(), Error> {
        self.create.run(prefix)
    }

    fn install(&self, _dir: &Path, _root: &Path, _declared: &Declared) -> Result<(), Error> {
        Err(user(
            "the micromamba backend installs only what environment.yml lists; \
             put pip packages under `dependencies: - pip: [...]` there",
        ))
    }

    fn finish(&self, prefix: &Path, _final_dir: &Path) -> Result<(), Error> {
        let marker = prefix.join(MARKER);
        let pip = self
            .pip_allowed
            .as_ref()
            .map_or_else(|| "*".to_owned(), |names| names.join(" "));
        let text = format!(
            "spec: {}\nsha256: {}\npip: {pip}\n",
            self.create.spec.file_name(),
            self.digest
        );
        std::fs::write(&marker, text)
            .map_err(|e| user(format!("cannot write {}: {e}", shown(&marker))))
    }

    fn in_place(&self) -> bool {
        true
    }
}

impl CondaBuilder {
    /// Whether the environment at `prefix` was built from this very spec.
    fn built_from_this_spec(&self, prefix: &Path) -> Result<(), String> {
        let spec = &self.create.spec;
        match built_from(prefix) {
            Some((file, digest)) if file == spec.file_name() && digest == self.digest => Ok(()),
            Some((file, _)) if file != spec.file_name() => Err(format!(
                "it was built from {file}, and {} is used now",
                spec.file_name()
            )),
            _ => Err(format!("{} changed since it was built", self.inputs)),
        }
    }
}

/// The pip packages the spec installs, as recorded in the marker; None:
/// not known (an older marker, or `-r file` in the spec's pip section).
fn pip_allowed(prefix: &Path) -> Option<Vec<String>> {
    let bytes = files::read_bounded(&prefix.join(MARKER), MAX_MARKER_BYTES).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    // A marker from before pyve recorded it: nothing was allowed then.
    let Some(names) = text.lines().find_map(|l| l.strip_prefix("pip:")) else {
        return Some(Vec::new());
    };
    let names = names.trim();
    (names != "*").then(|| names.split_whitespace().map(str::to_owned).collect())
}

/// The spec file name and digest recorded in the marker.
fn built_from(prefix: &Path) -> Option<(String, String)> {
    let bytes = files::read_bounded(&prefix.join(MARKER), MAX_MARKER_BYTES).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let mut file = None;
    let mut digest = None;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("spec: ") {
            file = Some(v.to_owned());
        } else if let Some(v) = line.strip_prefix("sha256: ") {
            digest = Some(v.to_owned());
        }
    }
    Some((file?, digest?))
}
