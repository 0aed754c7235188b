//! `pyve export bash|zsh|fish|direnv`: the project's activation as shell
//! code, relative to the current environment. `.envrc` evaluates the direnv
//! dialect; a PATH entry already present is not added again, so direnv and
//! the hook together still give one entry.

use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use crate::cli::ExportDialect;
use crate::error::Error;
use crate::shell::{self, Shell};

pub fn run(dialect: ExportDialect) -> Result<ExitCode, Error> {
    let shell: &dyn Shell = match dialect {
        ExportDialect::Bash | ExportDialect::Direnv => &shell::Bash,
        ExportDialect::Zsh => &shell::Zsh,
        ExportDialect::Fish => &shell::Fish,
    };
    let direnv = dialect == ExportDialect::Direnv;
    let trusted = crate::trust::trust_all();
    let project = super::find_project(trusted, crate::project::Selector::Active)?;
    for warning in &project.warnings {
        warn!("{warning}");
    }
    let resolved = &project.resolved;
    let marker = resolved.backend.marker(&resolved.env_dir);
    let mut out = Vec::new();
    if direnv {
        // direnv reloads when the environment appears, is rebuilt or
        // removed, and when the project is approved or denied.
        // `.pyve` itself: `pyve activate` replaces the link in it.
        let record = crate::trust::record_path(&project.root);
        let pyve_dir = project.root.join(".pyve");
        let pyve_dir = resolved.named.as_ref().map(|_| pyve_dir.as_path());
        for watched in std::iter::once(marker.as_path())
            .chain(record.as_deref())
            .chain(pyve_dir)
        {
            out.extend_from_slice(b"watch_file ");
            shell::Bash.quote_into(&mut out, watched.as_os_str().as_bytes());
            out.push(b'\n');
        }
    }
    if !marker.exists() {
        if !direnv {
            return Err(super::missing_environment(&project));
        }
        let message = super::missing_environment(&project).to_string();
        out.extend_from_slice(b"log_error ");
        shell::Bash.quote_into(&mut out, format!("pyve: {message}").as_bytes());
        out.push(b'\n');
        return write(&out);
    }
    let activation = resolved.activation(&project.root);
    if let Err(refused) = project.require_approval(&activation, trusted) {
        if !direnv {
            return Err(refused);
        }
        // In .envrc: direnv shows the message and loads nothing of pyve's.
        out.extend_from_slice(b"log_error ");
        shell::Bash.quote_into(&mut out, format!("pyve: {refused}").as_bytes());
        out.push(b'\n');
        return write(&out);
    }
    let mut path = std::env::var_os("PATH")
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    let mut path_changed = false;
    for entry in activation.path_prepend.iter().rev() {
        if path.split(|&b| b == b':').any(|e| e == entry.as_slice()) {
            continue;
        }
        let mut new = entry.clone();
        if !path.is_empty() {
            new.push(b':');
            new.extend_from_slice(&path);
        }
        path = new;
        path_changed = true;
    }
    if path_changed {
        shell.export(&mut out, "PATH", &path);
    }
    for (name, value) in &activation.set {
        shell.export(&mut out, name, value);
    }
    for name in &activation.unset {
        if std::env::var_os(name).is_some() {
            shell.unset(&mut out, name);
        }
    }
    if path_changed && !direnv {
        shell.rehash(&mut out);
    }
    for warning in &activation.warnings {
        warn!("{warning}");
    }
    // direnv cannot run deactivation scripts; it restores its snapshot.
    if let Some(scripts) = &activation.scripts {
        for script in scripts.list(true, shell.script_extension()) {
            shell.source(&mut out, script.as_os_str().as_bytes());
        }
    }
    write(&out)
}

fn write(out: &[u8]) -> Result<ExitCode, Error> {
    super::write_stdout(out, "the activation")
}
