//! Environment backends. The engine knows only this trait: a backend says
//! where its environment lives, which file proves it is ready, and what
//! activating it changes. A second backend plugs in here, not in the engine.

use std::path::{Path, PathBuf};

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

pub trait Backend: Sync {
    /// The name in `.pyve/config`, in the prompt and in `PYVE_BACKEND`.
    fn name(&self) -> &'static str;
    /// Where the environment lives when the config does not say.
    fn default_env_dir(&self, root: &Path, env_name: &[u8]) -> PathBuf;
    /// The file whose presence means the environment is ready to activate.
    fn marker(&self, env_dir: &Path) -> PathBuf;
    fn activation(&self, env_dir: &Path, env_name: &[u8]) -> Activation;
}

pub fn by_name(name: &str) -> Option<&'static dyn Backend> {
    match name {
        "venv" => Some(&venv::Venv),
        _ => None,
    }
}
