//! `pyve hook SHELL`: prints the init code for the shell's rc file.

use std::process::ExitCode;

use crate::cli::ShellName;
use crate::error::Error;
use crate::shell;

pub fn run(name: ShellName) -> Result<ExitCode, Error> {
    let shell = shell::by_name(name.as_str()).expect("every ShellName has a Shell");
    // The hook runs the binary by absolute path: PATH changes inside a
    // project, and a project's own `bin` must never stand in for pyve.
    let exe = std::env::current_exe()
        .map_err(|e| Error::User(format!("cannot locate the pyve binary: {e}")))?;
    super::write_stdout(&shell.init(&exe), "the hook")
}
