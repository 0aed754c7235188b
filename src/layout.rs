//! The files pyve keeps inside a project, by name. Every module that needs
//! one asks here, so the layout is written down once.

use std::path::{Path, PathBuf};

/// The project's own directory: its config, environments and tools.
pub const PYVE_DIR: &str = ".pyve";
/// What makes a directory a pyve project.
pub const CONFIG: &str = ".pyve/config";
/// The persistent choice among named environments: a relative symlink to
/// the active one's directory, so the project can be moved.
pub const POINTER: &str = ".pyve/current";
/// Where named environments and conda environments live.
pub const ENVS: &str = ".pyve/envs";
/// What pyve recorded about each named environment it built.
pub const REGISTRY: &str = ".pyve/envs/.registry";
/// Tools downloaded for this project only (`--bootstrap-to project`).
pub const BIN: &str = ".pyve/bin";

pub fn pyve_dir(root: &Path) -> PathBuf {
    root.join(PYVE_DIR)
}

pub fn config(root: &Path) -> PathBuf {
    root.join(CONFIG)
}

pub fn pointer(root: &Path) -> PathBuf {
    root.join(POINTER)
}

pub fn envs(root: &Path) -> PathBuf {
    root.join(ENVS)
}

pub fn registry(root: &Path) -> PathBuf {
    root.join(REGISTRY)
}

pub fn bin(root: &Path) -> PathBuf {
    root.join(BIN)
}
