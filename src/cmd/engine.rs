//! `pyve _engine SHELL PWD STAMP DIAGNOSED PID`: the hook's internal entry
//! point, called by the installed shell code, never by people.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::engine::{self, Request};
use crate::error::Error;
use crate::shell;

pub const NAME: &str = "_engine";

pub fn run(mut args: impl Iterator<Item = OsString>) -> Result<ExitCode, Error> {
    let usage = || {
        Error::Usage(format!(
            "`{NAME}` is internal to the hook; use `pyve hook SHELL`"
        ))
    };
    let shell_name = args.next().ok_or_else(usage)?;
    let shell = shell_name
        .to_str()
        .and_then(shell::by_name)
        .ok_or_else(usage)?;
    let pwd = PathBuf::from(args.next().ok_or_else(usage)?);
    let stamp = args.next().ok_or_else(usage)?;
    let diagnosed = args.next().ok_or_else(usage)?;
    let shell_pid = args
        .next()
        .and_then(|p| p.to_str()?.parse().ok())
        .ok_or_else(usage)?;
    let pwd = if pwd.is_absolute() {
        pwd
    } else {
        std::env::current_dir()
            .map_err(|e| Error::User(format!("cannot determine the current directory: {e}")))?
    };
    let request = Request {
        shell,
        pwd,
        stamp: (!stamp.is_empty()).then(|| PathBuf::from(stamp)),
        diagnosed: std::os::unix::ffi::OsStringExt::into_vec(diagnosed),
        shell_pid,
    };
    let output = engine::run(&request, &mut std::io::stderr().lock());
    std::io::stdout()
        .lock()
        .write_all(&output)
        .map_err(|e| Error::User(format!("cannot write to the hook: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
