//! `pyve _engine SHELL PWD STAMP DIAGNOSED PID`: the hook's internal entry
//! point, called by the installed shell code, never by people. `main`
//! calls it before any argument parsing machinery.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::engine::{self, Request};
use crate::error::{user, Error};
use crate::shell::{self, protocol};
use crate::vars;

pub fn run(args: impl Iterator<Item = std::ffi::OsString>) -> Result<ExitCode, Error> {
    let usage = || {
        Error::usage(format!(
            "`{}` is internal to the hook; use `pyve hook SHELL`",
            protocol::ENGINE
        ))
    };
    let args = protocol::EngineArgs::parse(args).ok_or_else(usage)?;
    let shell = shell::by_name(&args.shell).ok_or_else(usage)?;
    let pwd = if args.pwd.is_absolute() {
        args.pwd
    } else {
        std::env::current_dir()
            .map_err(|e| user(format!("cannot determine the current directory: {e}")))?
    };
    let request = Request {
        shell,
        pwd,
        stamp: (!args.stamp.is_empty()).then(|| PathBuf::from(args.stamp)),
        diagnosed: std::os::unix::ffi::OsStringExt::into_vec(args.diagnosed),
        shell_pid: args.shell_pid,
        vars: vars::process(),
    };
    let output = engine::run(&request, &mut std::io::stderr().lock());
    std::io::stdout()
        .lock()
        .write_all(&output)
        .map_err(|e| user(format!("cannot write to the hook: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
