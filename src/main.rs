//! pyve: project-local Python environments, applied by a prompt hook.
//!
//! The layers, lowest first (docs/architecture.md says what each owns and
//! may import; `tests` below holds the rule):
//! leaves (error, vars, paths, layout, text, digest, pathlist, files,
//! json, health, ui, ask, shell, process) → python, config → backend →
//! trust, project → engine → cmd → cli → main.

// First, so its macros (info!, warn!, …) are in scope everywhere below.
#[macro_use]
mod ui;

mod ask;
mod backend;
mod cli;
mod cmd;
mod config;
mod deps;
mod digest;
mod engine;
mod error;
mod files;
mod health;
mod json;
mod layout;
mod pathlist;
mod paths;
mod process;
mod project;
mod pyproject;
mod python;
mod shell;
mod text;
mod trust;
mod variables;
mod vars;
mod yaml;

#[cfg(test)]
mod layering;

use std::ffi::OsStr;
use std::process::ExitCode;

use error::{Error, Kind};

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    // The prompt hook's entry point bypasses clap: it runs on every
    // directory change and must not pay for argument parsing machinery.
    if args.nth(1).as_deref() == Some(OsStr::new(shell::protocol::ENGINE)) {
        return report(cmd::engine::run(args));
    }
    report(cli::run())
}

/// The one place where an error becomes a message and an exit code: 1 for
/// what the user can fix, 2 for a wrong command line, a command's own code
/// (127: not found), 128 + the signal after an interruption.
fn report(result: Result<ExitCode, Error>) -> ExitCode {
    let error = match result {
        Ok(code) => return code,
        Err(error) => error,
    };
    ui::error(&error);
    let code = match error.kind() {
        Kind::User => 1,
        Kind::Usage => 2,
        Kind::Code(code) => code,
        Kind::Interrupted(signal) => {
            process::die_by(signal);
            128u8.saturating_add(signal as u8)
        }
    };
    ExitCode::from(code)
}
