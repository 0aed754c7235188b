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
    let (output, stamp) = engine::run_with_stamp(&request, &mut std::io::stderr().lock());
    let output = if shell.output_in_file() {
        // Without a private directory there is nowhere safe for it; the
        // engine has said so once already (the stamp's line).
        let Some(stamp) = stamp else {
            return Ok(ExitCode::from(1));
        };
        in_file(&stamp, args.shell_pid, &output)?
    } else {
        output
    };
    std::io::stdout()
        .lock()
        .write_all(&output)
        .map_err(|e| user(format!("cannot write to the hook: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `output` to the shell's output file beside its stamp (a
/// directory only this user can write to; the file itself is replaced,
/// never followed)
/// and returns what the hook reads instead: the mark and that file's path.
fn in_file(stamp: &std::path::Path, shell_pid: u32, output: &[u8]) -> Result<Vec<u8>, Error> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    let Some(path) = engine::output_file(stamp, shell_pid) else {
        return Err(user(format!(
            "the directory of {} is not private to you; the hook writes nothing there",
            stamp.display()
        )));
    };
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(&path)
        .and_then(|mut file| file.write_all(output));
    written.map_err(|e| user(format!("cannot write {}: {e}", path.display())))?;
    let mut line = protocol::ENGINE_MARK.trim_end().as_bytes().to_vec();
    line.push(b' ');
    line.extend_from_slice(path.as_os_str().as_bytes());
    line.push(b'\n');
    Ok(line)
}
