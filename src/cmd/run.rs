//! `pyve run CMD…`: the project's environment without any shell state. pyve
//! replaces itself with CMD, so its exit code, signals, stdin and terminal
//! are CMD's own.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::cli::RunArgs;
use crate::error::Error;

pub fn run(args: RunArgs) -> Result<ExitCode, Error> {
    let trusted = args.trust || crate::trust::trust_all();
    // CI never guesses from a checkout's local pointer.
    let selector = match &args.env {
        Some(name) => crate::project::Selector::Named(name),
        None if super::in_ci() => crate::project::Selector::Default,
        None => crate::project::Selector::Active,
    };
    let project = super::find_project(trusted, selector)?;
    for warning in &project.warnings {
        warn!("{warning}");
    }
    let resolved = &project.resolved;
    if !resolved.backend.marker(&resolved.env_dir).exists() {
        return Err(super::missing_environment(&project));
    }
    let activation = resolved.activation(&project.root);
    project.require_approval(&activation, trusted)?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = prepend_moving(&activation.path_prepend, path.as_bytes());

    let (program, rest) = args.command.split_first().expect("clap requires CMD");
    let resolved_program = resolve(program, &path).ok_or_else(|| {
        Error::Code(
            127,
            format!(
                "command not found: {} (looked in {} and PATH)",
                program.to_string_lossy(),
                resolved.env_dir.join("bin").display()
            ),
        )
    })?;

    for warning in &activation.warnings {
        warn!("{warning}");
    }
    let scripts = match &activation.scripts {
        Some(scripts) => scripts.list(true, "sh"),
        None => Vec::new(),
    };
    let mut command = if scripts.is_empty() {
        let mut command = Command::new(&resolved_program);
        command.args(rest);
        // argv[0] stays what the user typed, as a shell would pass it.
        command.arg0(program);
        command
    } else {
        through_scripts(&scripts, program, &resolved_program, rest)
    };
    command.env("PATH", OsString::from_vec(path));
    for (name, value) in &activation.set {
        command.env(name, OsStr::from_bytes(value));
    }
    for name in &activation.unset {
        command.env_remove(name);
    }
    let error = command.exec();
    let code = if error.kind() == std::io::ErrorKind::PermissionDenied {
        126
    } else {
        127
    };
    Err(Error::Code(
        code,
        format!("cannot run {}: {error}", resolved_program.display()),
    ))
}

/// A shell that sources the activation scripts, as conda does in the
/// activating shell, then replaces itself with the command (argv[0] kept).
fn through_scripts(
    scripts: &[PathBuf],
    program: &OsStr,
    resolved_program: &Path,
    rest: &[OsString],
) -> Command {
    // The command is saved first: a script may `shift` or `set --`. Script
    // output goes to stderr, so the command's stdout stays its own.
    let mut code = b"__pyve_command=(\"$@\")\n".to_vec();
    for script in scripts {
        crate::shell::Shell::source(
            &crate::shell::Bash,
            &mut code,
            script.as_os_str().as_bytes(),
        );
        code.pop();
        code.extend_from_slice(b" >&2\n");
    }
    code.extend_from_slice(b"\\builtin exec -a \"$0\" \"${__pyve_command[@]}\"\n");
    let mut command =
        Command::new(crate::python::which("bash").unwrap_or_else(|| "/bin/bash".into()));
    command
        .arg("-c")
        .arg(OsStr::from_bytes(&code))
        .arg(program)
        .arg(resolved_program)
        .args(rest);
    command
}

/// PATH with `entries` in front and nowhere else: `pyve run` inside an
/// activated shell, or nested, must not grow PATH.
fn prepend_moving(entries: &[Vec<u8>], path: &[u8]) -> Vec<u8> {
    let mut elements: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    if !path.is_empty() {
        elements.extend(
            path.split(|&b| b == b':')
                .filter(|element| !entries.iter().any(|e| e.as_slice() == *element)),
        );
    }
    elements.join(&b':')
}

/// Where CMD is: a path as given, else the first executable of that name on
/// the new PATH (the environment's `bin` first).
fn resolve(program: &OsStr, path: &[u8]) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    if program.is_empty() {
        return None;
    }
    path.split(|&b| b == b':').find_map(|dir| {
        // An empty PATH element means the current directory, as in execvp.
        let dir = if dir.is_empty() {
            Path::new(".")
        } else {
            Path::new(OsStr::from_bytes(dir))
        };
        let candidate = dir.join(program);
        crate::python::is_executable(&candidate).then_some(candidate)
    })
}

#[cfg(test)]
mod tests {
    use super::prepend_moving;

    #[test]
    fn entries_move_to_the_front_once() {
        let e = vec![b"/p/.venv/bin".to_vec()];
        let cases: [(&str, &str); 5] = [
            ("/usr/bin:/bin", "/p/.venv/bin:/usr/bin:/bin"),
            ("/p/.venv/bin:/usr/bin", "/p/.venv/bin:/usr/bin"),
            ("/usr/bin:/p/.venv/bin", "/p/.venv/bin:/usr/bin"),
            ("", "/p/.venv/bin"),
            ("/usr/bin::/bin", "/p/.venv/bin:/usr/bin::/bin"),
        ];
        for (path, want) in cases {
            let got = prepend_moving(&e, path.as_bytes());
            assert_eq!(String::from_utf8(got).unwrap(), want, "{path}");
        }
    }
}
