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

/// The real environment, for commands that start from it.
pub fn from_process_env(name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStringExt;
    std::env::var_os(name).map(OsStringExt::into_vec)
}

/// What `init` asks a backend to build.
pub struct BuildRequest<'a> {
    pub root: &'a Path,
    pub env_dir: &'a Path,
    pub config: &'a Config,
    pub env_name: &'a str,
    pub python: Option<(VersionRequest, Source)>,
    /// A person can answer questions (stdin and stderr are terminals).
    pub interactive: bool,
    /// `--yes`: questions are answered yes.
    pub yes: bool,
    /// `--strict`: a stale or missing lock file is an error.
    pub strict: bool,
    /// `--auto-bootstrap`: download a missing tool without asking.
    pub auto_bootstrap: bool,
    /// `--bootstrap-to`: where a downloaded tool goes.
    pub bootstrap_to: crate::cli::BootstrapTo,
    /// micromamba: the conda spec files of this environment.
    pub conda_spec: &'a micromamba::spec::SpecFiles,
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

pub trait Backend: Sync {
    /// The name in `.pyve/config`, in the prompt and in `PYVE_BACKEND`.
    fn name(&self) -> &'static str;
    /// Where the environment lives when the config does not say.
    fn default_env_dir(&self, root: &Path, env_name: &[u8]) -> PathBuf;
    /// The file whose presence means the environment is ready to activate.
    fn marker(&self, env_dir: &Path) -> PathBuf;
    fn activation(&self, env_dir: &Path, env_name: &[u8], before: Before) -> Activation;
    /// Checks everything a build needs and decides how to build; writes
    /// nothing.
    fn prepare(&self, request: &BuildRequest) -> Result<Box<dyn Builder>, Error>;
    /// Health of the environment at `env_dir`, by running it.
    fn inspect(&self, env_dir: &Path) -> Inspection;
    /// What `doctor` checks besides the environment itself: the tools and
    /// spec files a build needs.
    fn diagnose(
        &self,
        _root: &Path,
        _env_dir: &Path,
        _conda_spec: &micromamba::spec::SpecFiles,
    ) -> Vec<Finding> {
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

pub fn by_name(name: &str) -> Option<&'static dyn Backend> {
    match name {
        "venv" => Some(&venv::Venv),
        "micromamba" => Some(&micromamba::Micromamba),
        _ => None,
    }
}
