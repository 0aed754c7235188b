//! pyve: project-local Python environments, applied by a prompt hook.

// First, so its macros (info!, warn!, …) are in scope everywhere below.
#[macro_use]
mod ui;

mod ask;
mod backend;
mod cli;
mod cmd;
mod config;
mod engine;
mod error;
mod files;
mod health;
mod json;
mod process;
mod project;
mod python;
mod registry;
mod shell;
mod trust;
mod vscode;

use std::ffi::OsStr;
use std::process::ExitCode;

use error::Error;

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    // The prompt hook's entry point bypasses clap: it runs on every
    // directory change and must not pay for argument parsing machinery.
    if args.nth(1).as_deref() == Some(OsStr::new(cmd::engine::NAME)) {
        return report(cmd::engine::run(args));
    }
    report(cli::run())
}

/// The one place where an error becomes a message and an exit code.
fn report(result: Result<ExitCode, Error>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(error) => {
            ui::error(&error);
            if let Error::Interrupted(signal) = error {
                process::die_by(signal);
            }
            ExitCode::from(error.exit_code())
        }
    }
}
