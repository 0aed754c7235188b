//! Finding the micromamba binary, and downloading it when asked to.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::spec;
use crate::cli::BootstrapTo;
use crate::error::{user, Error};
use crate::{process, python};

/// Where a micromamba was found, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `<root>/.pyve/bin/micromamba`: this project's own copy.
    Project,
    /// `~/.pyve/bin/micromamba`: the user's copy, shared by projects.
    User,
    Path,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Project => "the project's .pyve/bin",
            Origin::User => "~/.pyve/bin",
            Origin::Path => "PATH",
        })
    }
}

#[derive(Debug, Clone)]
pub struct Tool {
    pub path: PathBuf,
    pub origin: Origin,
}

fn project_copy(root: &Path) -> PathBuf {
    root.join(".pyve/bin/micromamba")
}

fn user_dir() -> Option<PathBuf> {
    python::home().map(|h| h.join(".pyve/bin"))
}

/// Whether the project's own copy may run: a cloned repository could ship
/// any program there, so only in a project the user approved (at any
/// time), and only a file of the user's.
pub fn project_copy_usable(root: &Path) -> Result<(), String> {
    // PYVE_TRUST_ALL=1 vouches for the repository, its binaries included:
    // a CI cache restores .pyve/bin on a runner that approved nothing.
    if !crate::trust::approved_once(root) && !crate::trust::trust_all() {
        return Err(format!(
            "{} is not used: you have not approved this project (`pyve allow`, or PYVE_TRUST_ALL=1 in CI)",
            project_copy(root).display()
        ));
    }
    crate::trust::check_owner(&project_copy(root)).map_err(|why| format!("{why}; not used"))
}

/// The first micromamba of: the project's, the user's, PATH's.
pub fn find(root: &Path) -> Option<Tool> {
    let project = project_copy(root);
    if python::is_executable(&project) && project_copy_usable(root).is_ok() {
        return Some(Tool {
            path: project,
            origin: Origin::Project,
        });
    }
    if let Some(user) = user_dir().map(|d| d.join("micromamba")) {
        if python::is_executable(&user) {
            return Some(Tool {
                path: user,
                origin: Origin::User,
            });
        }
    }
    python::which("micromamba").map(|path| Tool {
        path,
        origin: Origin::Path,
    })
}

/// The places `find` looked, for the error that says it found nothing.
pub fn places(root: &Path) -> Vec<String> {
    vec![
        format!(
            "{} (in a project you approved)",
            project_copy(root).display()
        ),
        user_dir().map_or("~/.pyve/bin/micromamba".to_owned(), |d| {
            d.join("micromamba").display().to_string()
        }),
        "`micromamba` on PATH".to_owned(),
    ]
}

/// What `micromamba --version` says, or why it said nothing.
pub fn version(path: &Path) -> Result<String, String> {
    let output = Command::new(path)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || text.is_empty() {
        return Err(format!(
            "{} --version failed ({})",
            path.display(),
            output.status
        ));
    }
    Ok(text.lines().last().unwrap_or_default().to_owned())
}

/// Where a bootstrap puts the binary.
pub fn bootstrap_dir(root: &Path, to: BootstrapTo) -> Result<PathBuf, Error> {
    match to {
        BootstrapTo::Project => Ok(root.join(".pyve/bin")),
        BootstrapTo::User => {
            user_dir().ok_or_else(|| user("HOME is not set; use --bootstrap-to project"))
        }
    }
}

pub fn download_url() -> Result<String, Error> {
    if let Some(url) = std::env::var_os("PYVE_MICROMAMBA_URL").filter(|u| !u.is_empty()) {
        return Ok(url.to_string_lossy().into_owned());
    }
    let platform = spec::platform().ok_or_else(|| {
        user(format!(
            "micromamba has no download for {} {}; install it yourself and put it on PATH",
            std::env::consts::OS,
            std::env::consts::ARCH
        ))
    })?;
    Ok(format!(
        "https://micro.mamba.pm/api/micromamba/{platform}/latest"
    ))
}

/// Downloads micromamba into `dir` (`<dir>/micromamba`). Everything happens
/// in a private directory beside it, renamed into place only once the
/// digest matched (when one is expected) and the binary ran: a failed or
/// partial download leaves nothing behind.
pub fn bootstrap(dir: &Path) -> Result<Tool, Error> {
    let url = download_url()?;
    std::fs::create_dir_all(dir)
        .map_err(|e| user(format!("cannot create {}: {e}", dir.display())))?;
    let work = dir.join(format!(".micromamba.pyve-download-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir(&work)
        .map_err(|e| user(format!("cannot create {}: {e}", work.display())))?;
    let _cleanup = crate::files::RemoveOnDrop(Some(work.clone()));
    // From here on Ctrl-C stops the download and the work directory goes.
    process::catch_interrupts();
    let archive = work.join("micromamba.tar.bz2");
    info!("downloading micromamba from {url}");
    process::run(
        &mut fetch_command(&url, &archive)?,
        "downloading micromamba",
    )?;

    let actual = spec::digest(&archive).map_err(user)?;
    if let Some(expected) = std::env::var_os("PYVE_MICROMAMBA_SHA256").filter(|v| !v.is_empty()) {
        let expected = expected.to_string_lossy().trim().to_lowercase();
        if expected != actual {
            return Err(user(format!(
                "the download from {url} has sha256 {actual}, but PYVE_MICROMAMBA_SHA256 expects {expected}; \
                 nothing was installed"
            )));
        }
    }
    // As micromamba's own installer does: tar with bzip2, `bin/micromamba`.
    process::run(
        Command::new("tar")
            .arg("-xjf")
            .arg(&archive)
            .arg("-C")
            .arg(&work)
            .arg("bin/micromamba"),
        "unpacking micromamba (tar with bzip2)",
    )
    .map_err(|e| {
        user(format!(
            "{e}\nthe download from {url} is not a micromamba tarball holding bin/micromamba"
        ))
    })?;
    let unpacked = work.join("bin/micromamba");
    // A link in the tarball could point anywhere; only a plain file is
    // made executable and installed.
    if !std::fs::symlink_metadata(&unpacked).is_ok_and(|m| m.is_file()) {
        return Err(user(format!(
            "bin/micromamba in the download from {url} is not a regular file; nothing was installed"
        )));
    }
    let _ = std::fs::set_permissions(&unpacked, std::fs::Permissions::from_mode(0o755));
    let said = version(&unpacked).map_err(|e| {
        user(format!(
            "the downloaded micromamba does not run: {e}; nothing was installed"
        ))
    })?;
    let target = dir.join("micromamba");
    std::fs::rename(&unpacked, &target)
        .map_err(|e| user(format!("cannot install {}: {e}", target.display())))?;
    done!(
        "installed micromamba {said} at {} (sha256 {actual})",
        target.display()
    );
    Ok(Tool {
        path: target,
        origin: Origin::User,
    })
}

/// curl, else wget: whichever the machine has, as micromamba's installer.
fn fetch_command(url: &str, to: &Path) -> Result<Command, Error> {
    if let Some(curl) = python::which("curl") {
        let mut command = Command::new(curl);
        command
            .args(["--fail", "--show-error", "--location"])
            // Its progress meter is for --verbose; otherwise pyve's spinner.
            .arg(if crate::ui::verbose() {
                "--progress-bar"
            } else {
                "--silent"
            })
            // A redirect may not downgrade to plain http.
            .args(["--proto-redir", "=https"])
            .args(["--retry", "2", "--output"])
            .arg(to)
            .arg(url);
        return Ok(command);
    }
    if let Some(wget) = python::which("wget") {
        let mut command = Command::new(wget);
        command
            .args(["--quiet", "--output-document"])
            .arg(to)
            .arg(url);
        return Ok(command);
    }
    Err(user(format!(
        "downloading micromamba needs curl or wget; install one, or download {url} yourself"
    )))
}
