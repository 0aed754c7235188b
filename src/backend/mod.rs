//! Environment backends behind one trait. The engine asks a backend only
//! where an environment is, which file proves it is ready, and what
//! activating it changes; `init`, `doctor` and the listings also ask it to
//! plan a build, inspect an environment, and say what it is built from.
//! Everything backend-specific (conda's spec files, micromamba itself)
//! stays inside its module: a new backend plugs in here, and nothing above
//! compares backend names.

use std::path::{Path, PathBuf};

use crate::config::{BackendKind, Config};
use crate::deps::{self, Choice, Declared};
use crate::error::Error;
use crate::health::Finding;
use crate::python::{Requires, Source, Version, VersionRequest};
use crate::vars::Vars;

pub mod micromamba;
pub mod venv;

/// What activating an environment changes, before pyve's own variables.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Activation {
    /// Directories put in front of PATH, first listed ends up first.
    pub path_prepend: Vec<Vec<u8>>,
    /// Variables to set, the environment's own (conda's `env_vars.d` and
    /// state) after the backend's.
    pub set: Vec<(String, Vec<u8>)>,
    /// Variables that must not be set while active (restored on leaving).
    pub unset: Vec<&'static str>,
    /// The environment ships activation scripts (conda's
    /// `etc/conda/activate.d` and `deactivate.d`).
    pub scripts: Option<Scripts>,
    /// Problems in the environment's own variable files, for diagnostics.
    pub warnings: Vec<String>,
}

/// An environment's activation scripts, found by listing its directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripts {
    /// `<prefix>/etc/conda`.
    pub dir: PathBuf,
}

impl Scripts {
    /// The directories whose scripts and variables activation uses.
    pub const SUBDIRS: [&'static str; 3] = ["activate.d", "deactivate.d", "env_vars.d"];

    /// Whether this shell has scripts to source, entering or leaving.
    pub fn any(&self, extension: &str) -> bool {
        !self.list(true, extension).is_empty() || !self.list(false, extension).is_empty()
    }

    /// The scripts to source on entering (`activate.d`, ascending) or on
    /// leaving (`deactivate.d`, descending), for a shell whose scripts end
    /// in `extension` (`sh` or `fish`), as conda does.
    pub fn list(&self, activate: bool, extension: &str) -> Vec<PathBuf> {
        let dir = self.dir.join(if activate {
            "activate.d"
        } else {
            "deactivate.d"
        });
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == extension) && p.is_file())
            .collect();
        found.sort();
        if !activate {
            found.reverse();
        }
        found
    }
}

/// The value a variable had before pyve activated anything: activation
/// that stacks on the shell's own state (conda's `CONDA_SHLVL`) reads it,
/// so a second engine run computes the same values as the first.
pub type Before<'a> = &'a dyn Fn(&str) -> Option<Vec<u8>>;

/// What an environment is built from, as the config names the files
/// (relative to the project root): each backend reads what it uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    /// Requirements files; None: `requirements.txt`.
    pub requirements: Option<Vec<PathBuf>>,
    /// An environment file other than the backend's default.
    pub env_file: Option<PathBuf>,
    /// A lock file other than the backend's default.
    pub lock_file: Option<PathBuf>,
    /// Where the dependencies are declared, when the config says; None:
    /// detected.
    pub dependencies: Option<Choice>,
    /// Dependency groups beyond a source's defaults.
    pub groups: Vec<String>,
    /// Channels replacing the environment file's; empty: the file's own.
    pub channels: Vec<String>,
}

/// Where a tool a backend downloads goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootstrapTo {
    /// The project's `.pyve/bin`.
    Project,
    /// The user's `$XDG_DATA_HOME/pyve/bin`, shared by projects.
    User,
}

/// What `init` asks a backend to build.
pub struct BuildRequest<'a> {
    pub root: &'a Path,
    pub env_dir: &'a Path,
    pub config: &'a Config,
    pub env_name: &'a str,
    pub sources: &'a Sources,
    pub python: Option<(VersionRequest, Source)>,
    /// The project's `requires-python`, which the interpreter must satisfy.
    pub requires: Option<Requires>,
    /// A person can answer questions (stdin and stderr are terminals).
    pub interactive: bool,
    /// `--yes`: questions are answered yes.
    pub yes: bool,
    /// `--strict`: a stale or missing lock file is an error.
    pub strict: bool,
    /// `--auto-bootstrap`: download a missing tool without asking.
    pub auto_bootstrap: bool,
    pub bootstrap_to: BootstrapTo,
    /// Whether programs the project ships in `.pyve/bin` may run: the user
    /// approved the project once, or vouched for every project (CI).
    pub project_tools: bool,
    /// `sources.channels` came from `--channel`, for this run only.
    pub channels_from_command_line: bool,
    pub vars: &'a dyn Vars,
}

/// What `doctor` asks a backend to check besides the environment itself.
pub struct Diagnosis<'a> {
    pub root: &'a Path,
    pub env_dir: &'a Path,
    pub sources: &'a Sources,
    /// As in `BuildRequest`.
    pub project_tools: bool,
    pub vars: &'a dyn Vars,
}

/// A checked plan: everything a build needs was found. Building writes only
/// into the directory it is given.
pub trait Builder {
    /// One line: what will be built from what, for the user.
    fn describe(&self) -> String;
    /// Whether an existing, healthy environment can be kept as it is.
    fn accepts(&self, existing: &Inspection) -> Result<(), String>;
    /// Creates the environment in `dir`, which does not exist yet.
    fn build(&self, dir: &Path) -> Result<(), Error>;
    /// Installs the declared dependencies into the environment at `dir`,
    /// from the project root.
    fn install(&self, dir: &Path, root: &Path, declared: &Declared) -> Result<(), Error>;
    /// Creates the environment in `dir` with the `declared` dependencies:
    /// `build`, then `install`, unless the backend has a faster way.
    fn build_with(
        &self,
        dir: &Path,
        root: &Path,
        declared: Option<&Declared>,
    ) -> Result<(), Error> {
        self.build(dir)?;
        match declared {
            Some(declared) => self.install(dir, root, declared),
            None => Ok(()),
        }
    }
    /// Makes the environment built in `dir` correct at `final_dir`, where
    /// it is about to be renamed (files that name their own path).
    fn finish(&self, dir: &Path, final_dir: &Path) -> Result<(), Error>;
    /// Whether the environment must be built at its final path (its files
    /// name their prefix and cannot be moved). It is then marked ready only
    /// when complete, and `finish` is called with `dir == final_dir`.
    fn in_place(&self) -> bool {
        false
    }
}

/// What inspecting an environment found.
#[derive(Debug, Default)]
pub struct Inspection {
    /// The marker file exists.
    pub exists: bool,
    /// The version the environment's Python reported when run.
    pub runs: Option<Version>,
    pub findings: Vec<Finding>,
}

impl Inspection {
    pub fn healthy(&self) -> bool {
        self.exists && self.runs.is_some() && !self.findings.iter().any(Finding::is_error)
    }
}

/// The name `init` gives a project's single environment, and where the
/// config records it.
pub struct InitName {
    pub name: String,
    /// Where the name came from, when the user did not choose it and the
    /// config does not say it yet (init tells).
    pub derived_from: Option<&'static str>,
    /// The config key (`section`, `key`) that holds it, when init must
    /// write it there.
    pub record: Option<(Option<&'static str>, &'static str)>,
}

pub trait Backend: Sync {
    fn kind(&self) -> BackendKind;
    /// The name in `.pyve/config`, in the prompt and in `PYVE_BACKEND`.
    fn name(&self) -> &'static str {
        self.kind().name()
    }
    /// A project with one unnamed environment: its name and directory.
    fn single_env(&self, root: &Path, config: &Config) -> Result<(Vec<u8>, PathBuf), Error>;
    /// The single environment's name for `init`: `requested` (`--env-name`)
    /// checked by this backend's rules, else the one the project implies.
    fn init_name(
        &self,
        root: &Path,
        config: &Config,
        requested: Option<&str>,
    ) -> Result<InitName, Error>;
    /// The project file that calls for this backend when the config names
    /// none (`environment.yml` for conda), if the project has one.
    fn claims(&self, _root: &Path) -> Option<&'static str> {
        None
    }
    /// The file whose presence means the environment is ready to activate.
    fn marker(&self, env_dir: &Path) -> PathBuf;
    fn activation(&self, env_dir: &Path, env_name: &[u8], before: Before) -> Activation;
    /// The variable activation sets to the environment's directory, whose
    /// value says whether it is still the active one: the prompt prefix
    /// follows it, as venv's and conda's own prompts do, so a manual
    /// `deactivate` takes the prefix away.
    fn active_variable(&self) -> &'static str;
    /// Whether this backend installs Python dependencies (`uv.lock`,
    /// `pyproject.toml`, requirements files) into its environments; the
    /// error says where packages go instead.
    fn installs_dependencies(&self, _root: &Path, _sources: &Sources) -> Result<(), Error> {
        Ok(())
    }
    /// The declared dependencies this backend installs for an environment
    /// (None: the spec holds them, or there are none).
    fn declared(&self, root: &Path, sources: &Sources) -> Result<Option<Declared>, Error> {
        Ok(deps::resolve(
            root,
            sources.dependencies,
            &sources.groups,
            sources.requirements.as_deref(),
        )?
        .0)
    }
    /// Checks everything a build needs and decides how to build; writes
    /// nothing.
    fn prepare(&self, request: &BuildRequest) -> Result<Box<dyn Builder>, Error>;
    /// Health of the environment at `env_dir`, by running it.
    fn inspect(&self, env_dir: &Path) -> Inspection;
    /// The Python the environment holds, read from its files (nothing run).
    fn installed_python(&self, env_dir: &Path) -> Option<String>;
    /// Whether the config's Python version chooses this environment's
    /// interpreter (doctor compares the two).
    fn follows_python_version(&self) -> bool {
        true
    }
    /// The files the environment is built from that exist, relative to the
    /// root, for the registry.
    fn spec_files(&self, root: &Path, sources: &Sources) -> Vec<String>;
    /// A line for `env info` about what it is built from (label, text).
    fn describe_sources(&self, _root: &Path, _sources: &Sources) -> Option<(&'static str, String)> {
        None
    }
    /// What `doctor` checks besides the environment itself: the tools and
    /// spec files a build needs.
    fn diagnose(&self, _diagnosis: &Diagnosis) -> Vec<Finding> {
        Vec::new()
    }
    /// Whether activation reads files inside the environment (variables,
    /// scripts), so the engine recomputes it whenever it runs.
    fn reads_environment(&self) -> bool {
        false
    }
    /// More paths whose change means activation must be recomputed.
    fn watched(&self, _env_dir: &Path) -> Vec<PathBuf> {
        Vec::new()
    }
    /// Whether a directory at `env_dir` without the marker is an unfinished
    /// build of this backend (replaceable), not something of the user's.
    fn unfinished(&self, _env_dir: &Path) -> bool {
        false
    }
}

/// The marker's file name (`pyvenv.cfg`), for messages.
pub fn marker_name(backend: &dyn Backend, env_dir: &Path) -> String {
    backend
        .marker(env_dir)
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

pub fn by_kind(kind: BackendKind) -> &'static dyn Backend {
    match kind {
        BackendKind::Venv => &venv::Venv,
        BackendKind::Micromamba => &micromamba::Micromamba,
    }
}

pub fn by_name(name: &str) -> Option<&'static dyn Backend> {
    BackendKind::parse(name).map(by_kind)
}
