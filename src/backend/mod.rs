//! Environment backends. The engine knows only the first four methods: where
//! an environment lives, which file proves it is ready, and what activating
//! it changes. `init` and `doctor` also ask a backend to plan a build and to
//! inspect an existing environment. A second backend plugs in here, not in
//! the engine or the commands.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::Error;
use crate::health::Finding;
use crate::python::{Source, Version, VersionRequest};

pub mod venv;

/// What activating an environment changes, before pyve's own variables.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Activation {
    /// Directories put in front of PATH, first listed ends up first.
    pub path_prepend: Vec<Vec<u8>>,
    pub set: Vec<(&'static str, Vec<u8>)>,
    /// Variables that must not be set while active (restored on leaving).
    pub unset: Vec<&'static str>,
}

/// What `init` asks a backend to build.
pub struct BuildRequest<'a> {
    pub config: &'a Config,
    pub env_name: &'a str,
    pub python: Option<(VersionRequest, Source)>,
    /// A person can answer questions (stdin and stderr are terminals).
    pub interactive: bool,
    /// `--yes`: questions are answered yes.
    pub yes: bool,
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
    /// Installs requirements files into the environment at `dir` with the
    /// environment's own installer, run from the project root.
    fn install(&self, dir: &Path, root: &Path, requirements: &[PathBuf]) -> Result<(), Error>;
    /// Makes the environment built in `dir` correct at `final_dir`, where
    /// it is about to be renamed (files that name their own path).
    fn finish(&self, dir: &Path, final_dir: &Path) -> Result<(), Error>;
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

pub trait Backend: Sync {
    /// The name in `.pyve/config`, in the prompt and in `PYVE_BACKEND`.
    fn name(&self) -> &'static str;
    /// Where the environment lives when the config does not say.
    fn default_env_dir(&self, root: &Path, env_name: &[u8]) -> PathBuf;
    /// The file whose presence means the environment is ready to activate.
    fn marker(&self, env_dir: &Path) -> PathBuf;
    fn activation(&self, env_dir: &Path, env_name: &[u8]) -> Activation;
    /// Checks everything a build needs and decides how to build; writes
    /// nothing.
    fn prepare(&self, request: &BuildRequest) -> Result<Box<dyn Builder>, Error>;
    /// Health of the environment at `env_dir`, by running it.
    fn inspect(&self, env_dir: &Path) -> Inspection;
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

pub fn by_name(name: &str) -> Option<&'static dyn Backend> {
    match name {
        "venv" => Some(&venv::Venv),
        _ => None,
    }
}
