//! The `venv` backend: a standard virtual environment (stdlib `venv`, uv,
//! virtualenv), activated the way CPython's `bin/activate` does.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::{Activation, Backend};

pub struct Venv;

impl Backend for Venv {
    fn name(&self) -> &'static str {
        "venv"
    }

    fn default_env_dir(&self, root: &Path, _env_name: &[u8]) -> PathBuf {
        root.join(".venv")
    }

    fn marker(&self, env_dir: &Path) -> PathBuf {
        env_dir.join("pyvenv.cfg")
    }

    fn activation(&self, env_dir: &Path, _env_name: &[u8]) -> Activation {
        Activation {
            path_prepend: vec![env_dir.join("bin").as_os_str().as_bytes().to_vec()],
            set: vec![("VIRTUAL_ENV", env_dir.as_os_str().as_bytes().to_vec())],
            // `activate` unsets PYTHONHOME: a leftover one points the venv's
            // interpreter at another installation's standard library.
            unset: vec!["PYTHONHOME"],
        }
    }
}
