//! Finding the micromamba binary, and downloading it when asked to.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::spec;
use crate::backend::BootstrapTo;
use crate::error::{user, Error};
use crate::files::{self, owner};
use crate::text::shown;
use crate::vars::Vars;
use crate::{layout, paths, process, python};

/// Where a micromamba was found, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `<root>/.pyve/bin/micromamba`: this project's own copy.
    Project,
    /// `$XDG_DATA_HOME/pyve/bin/micromamba` (or, from earlier versions,
    /// `~/.pyve/bin/micromamba`): the user's copy, shared by projects.
    User,
    Path,
}

impl From<BootstrapTo> for Origin {
    fn from(to: BootstrapTo) -> Origin {
        match to {
            BootstrapTo::Project => Origin::Project,
            BootstrapTo::User => Origin::User,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Project => "the project's .pyve/bin",
            Origin::User => "your pyve/bin",
            Origin::Path => "PATH",
        })
    }
}

#[derive(Debug, Clone)]
pub struct Tool {
    pub path: PathBuf,
    pub origin: Origin,
}

/// Where to look, and what may be run.
pub struct Places<'a> {
    pub root: &'a Path,
    /// Whether the project's own copy may run (see `BuildRequest`).
    pub project_tools: bool,
    pub vars: &'a dyn Vars,
}

impl Places<'_> {
    fn project_copy(&self) -> PathBuf {
        layout::bin(self.root).join("micromamba")
    }

    /// The user's copies: where bootstraps go now, then where they went.
    fn user_copies(&self) -> Vec<PathBuf> {
        [
            paths::user_tool_dir(self.vars),
            paths::legacy_user_tool_dir(self.vars),
        ]
        .into_iter()
        .flatten()
        .map(|d| d.join("micromamba"))
        .collect()
    }

    /// Whether the project ships its own copy that is not used, and why.
    pub fn project_copy_refused(&self) -> Option<String> {
        let copy = self.project_copy();
        if !copy.exists() {
            return None;
        }
        // A cloned repository could ship any program there.
        if !self.project_tools {
            return Some(format!(
                "{} is not used: you have not approved this project (`pyve allow`, or PYVE_TRUST_ALL=1 in CI)",
                shown(&copy)
            ));
        }
        owner::check(&copy)
            .err()
            .map(|why| format!("{}; not used", why.message()))
    }

    /// The first micromamba of: the project's, the user's, PATH's.
    pub fn find(&self) -> Option<Tool> {
        let project = self.project_copy();
        if files::is_executable(&project) && self.project_copy_refused().is_none() {
            return Some(Tool {
                path: project,
                origin: Origin::Project,
            });
        }
        if let Some(user) = self
            .user_copies()
            .into_iter()
            .find(|p| files::is_executable(p))
        {
            return Some(Tool {
                path: user,
                origin: Origin::User,
            });
        }
        python::which(self.vars, "micromamba").map(|path| Tool {
            path,
            origin: Origin::Path,
        })
    }

    /// `find`, for a command that will run what it finds: a project copy it
    /// passes over is said first.
    pub fn find_noting_refusal(&self) -> Option<Tool> {
        if let Some(why) = self.project_copy_refused() {
            info!("{why}");
        }
        self.find()
    }

    /// The places `find` looked, for the error that says it found nothing.
    pub fn looked_at(&self) -> Vec<String> {
        let mut places = vec![format!(
            "{} (in a project you approved)",
            shown(&self.project_copy())
        )];
        places.extend(self.user_copies().iter().map(|p| shown(p)));
        places.push("`micromamba` on PATH".to_owned());
        places
    }

    /// Where a bootstrap puts the binary.
    pub fn bootstrap_dir(&self, to: BootstrapTo) -> Result<PathBuf, Error> {
        match to {
            BootstrapTo::Project => Ok(layout::bin(self.root)),
            BootstrapTo::User => paths::user_tool_dir(self.vars).ok_or_else(|| {
                user("neither XDG_DATA_HOME nor HOME is set")
                    .with_hint("use --bootstrap-to project")
            }),
        }
    }
}

/// What `micromamba --version` says, or why it said nothing.
pub fn version(path: &Path) -> Result<String, String> {
    let output = Command::new(path)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", shown(path)))?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || text.is_empty() {
        return Err(format!(
            "{} --version failed ({})",
            shown(path),
            output.status
        ));
    }
    Ok(text.lines().last().unwrap_or_default().to_owned())
}

pub fn download_url(vars: &dyn Vars) -> Result<String, Error> {
    if let Some(url) = vars.non_empty("PYVE_MICROMAMBA_URL") {
        return Ok(url.to_string_lossy().into_owned());
    }
    let platform = spec::platform().ok_or_else(|| {
        user(format!(
            "micromamba has no download for {} {}",
            std::env::consts::OS,
            std::env::consts::ARCH
        ))
        .with_hint("install it yourself and put it on PATH")
    })?;
    Ok(format!(
        "https://micro.mamba.pm/api/micromamba/{platform}/latest"
    ))
}

/// Downloads are a few megabytes; anything this large is not micromamba.
const MAX_DOWNLOAD_BYTES: u64 = 1 << 30;

/// Downloads micromamba into `dir` (`<dir>/micromamba`). Everything happens
/// in a private directory beside it, renamed into place only once the
/// digest matched (when one is expected) and the binary ran: a failed or
/// partial download leaves nothing behind.
pub fn bootstrap(vars: &dyn Vars, dir: &Path, origin: Origin) -> Result<Tool, Error> {
    let url = download_url(vars)?;
    std::fs::create_dir_all(dir).map_err(|e| user(format!("cannot create {}: {e}", shown(dir))))?;
    let work = dir.join(format!(".micromamba.pyve-download-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir(&work).map_err(|e| user(format!("cannot create {}: {e}", shown(&work))))?;
    let _cleanup = files::RemoveOnDrop(Some(work.clone()));
    // From here on Ctrl-C stops the download and the work directory goes.
    process::catch_interrupts();
    let archive = work.join("micromamba.tar.bz2");
    info!("downloading micromamba from {url}");
    process::run(
        &mut fetch_command(vars, &url, &archive)?,
        "downloading micromamba",
    )?;

    let actual = files::sha256_of(&archive, MAX_DOWNLOAD_BYTES)
        .map_err(|e| user(format!("{}: {e}", shown(&archive))))?;
    verify(vars, &url, &work, &actual)?;
    let unpacked = unpack(&url, &archive, &work)?;
    let said = version(&unpacked).map_err(|e| {
        user(format!(
            "the downloaded micromamba does not run: {e}; nothing was installed"
        ))
    })?;
    let target = dir.join("micromamba");
    std::fs::rename(&unpacked, &target)
        .map_err(|e| user(format!("cannot install {}: {e}", shown(&target))))?;
    done!(
        "installed micromamba {said} at {} (sha256 {actual})",
        target.display()
    );
    Ok(Tool {
        path: target,
        origin,
    })
}

/// Checks the download's digest against `PYVE_MICROMAMBA_SHA256` (or
/// `PYVE_MICROMAMBA_SHA`), else against the checksum file published next
/// to it (`<url>.sha256`). Without either it is installed unverified, and
/// pyve says so with the digest to pin.
fn verify(vars: &dyn Vars, url: &str, work: &Path, actual: &str) -> Result<(), Error> {
    let pinned = ["PYVE_MICROMAMBA_SHA256", "PYVE_MICROMAMBA_SHA"]
        .into_iter()
        .find_map(|name| Some((name.to_owned(), vars.non_empty(name)?)));
    let (source, expected) = match pinned {
        Some((name, value)) => (name, value.to_string_lossy().trim().to_lowercase()),
        None => {
            let checksum_url = format!("{url}.sha256");
            let file = work.join("micromamba.tar.bz2.sha256");
            let fetched = process::run(
                &mut fetch_command(vars, &checksum_url, &file)?,
                "downloading micromamba's checksum",
            );
            if fetched.is_err() {
                // An interruption is not a missing file.
                process::check()?;
                warn!(
                    "micromamba from {url} is not verified: there is no checksum at {checksum_url}; \
                     its sha256 is {actual} (set PYVE_MICROMAMBA_SHA256 to require it)"
                );
                return Ok(());
            }
            (checksum_url, read_checksum(&file)?)
        }
    };
    if expected != actual {
        return Err(user(format!(
            "the download from {url} has sha256 {actual}, but {source} expects {expected}; \
             nothing was installed"
        )));
    }
    info!("verified micromamba's sha256 against {source}");
    Ok(())
}

/// The digest in a checksum file: its first word (`<sha256>  <file>` or
/// the digest alone), 64 hexadecimal digits.
fn read_checksum(file: &Path) -> Result<String, Error> {
    let bytes = files::read_bounded(file, 4096)
        .map_err(|e| user(format!("micromamba's checksum file: {e}")))?;
    let text = String::from_utf8_lossy(&bytes);
    let word = text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase();
    if word.len() == 64 && word.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(word)
    } else {
        Err(user(
            "the checksum file next to micromamba's download holds no sha256; nothing was installed",
        ))
    }
}

/// Unpacks `bin/micromamba` from the archive, as micromamba's own
/// installer does (tar with bzip2); only a plain file is made executable.
fn unpack(url: &str, archive: &Path, work: &Path) -> Result<PathBuf, Error> {
    process::run(
        Command::new("tar")
            .arg("-xjf")
            .arg(archive)
            .arg("-C")
            .arg(work)
            .arg("bin/micromamba"),
        "unpacking micromamba (tar with bzip2)",
    )
    .map_err(|e| {
        user(format!(
            "{e}\nthe download from {url} is not a micromamba tarball holding bin/micromamba"
        ))
    })?;
    let unpacked = work.join("bin/micromamba");
    // A link in the tarball could point anywhere.
    if !std::fs::symlink_metadata(&unpacked).is_ok_and(|m| m.is_file()) {
        return Err(user(format!(
            "bin/micromamba in the download from {url} is not a regular file; nothing was installed"
        )));
    }
    let _ = std::fs::set_permissions(&unpacked, std::fs::Permissions::from_mode(0o755));
    Ok(unpacked)
}

/// curl, else wget: whichever the machine has, as micromamba's installer.
fn fetch_command(vars: &dyn Vars, url: &str, to: &Path) -> Result<Command, Error> {
    if let Some(curl) = python::which(vars, "curl") {
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
    if let Some(wget) = python::which(vars, "wget") {
        let mut command = Command::new(wget);
        command
            .args(["--quiet", "--output-document"])
            .arg(to)
            .arg(url);
        return Ok(command);
    }
    Err(user("downloading micromamba needs curl or wget")
        .with_hint(format!("install one, or download {url} yourself")))
}
