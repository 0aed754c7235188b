//! `pyve hook SHELL`: prints the init code for the shell's rc file.

use std::process::ExitCode;

use crate::error::{user, Error};
use crate::shell::Shell;

pub fn run(shell: &dyn Shell) -> Result<ExitCode, Error> {
    // The hook runs the binary by absolute path: PATH changes inside a
    // project, and a project's own `bin` must never stand in for pyve.
    let exe =
        std::env::current_exe().map_err(|e| user(format!("cannot locate the pyve binary: {e}")))?;
    super::write_stdout(&shell.init(&exe), "the hook")
}
