//! Finding the Python interpreter a new environment is built from: the
//! requested version (flag, config, or a `.tool-versions` / `.python-version`
//! pin) among asdf installs, pyenv versions, uv-managed Pythons and
//! `pythonX.Y` on PATH. Shims are never used: they resolve per directory and
//! per pin, so what they run today is not what they run tomorrow.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `X.Y` (any patch release) or `X.Y.Z` (exactly that one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionRequest {
    pub major: u32,
    pub minor: u32,
    pub patch: Option<u32>,
}

impl VersionRequest {
    pub fn parse(text: &str) -> Result<VersionRequest, String> {
        let bad = || {
            format!("`{text}` is not a Python version; write X.Y or X.Y.Z, for example `3.12` or `3.12.4`")
        };
        let trimmed = text.trim();
        let trimmed = trimmed.strip_prefix("python").unwrap_or(trimmed);
        let parts: Vec<&str> = trimmed.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let number = |s: &str| -> Result<u32, String> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        Ok(VersionRequest {
            major: number(parts[0])?,
            minor: number(parts[1])?,
            patch: parts.get(2).map(|p| number(p)).transpose()?,
        })
    }

    pub fn matches(&self, version: &Version) -> bool {
        self.major == version.0
            && self.minor == version.1
            && self.patch.is_none_or(|p| p == version.2)
    }
}

impl fmt::Display for VersionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if let Some(patch) = self.patch {
            write!(f, ".{patch}")?;
        }
        Ok(())
    }
}

/// A full interpreter version, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// `3.12.4`, also the leading part of `3.12.4+` or `3.13.0rc1`.
    pub fn parse(text: &str) -> Option<Version> {
        let mut numbers = text.trim().split('.').map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        let major = numbers.next()??;
        let minor = numbers.next()??;
        let patch = numbers.next().flatten().unwrap_or(0);
        Some(Version(major, minor, patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Where the request came from, for messages.
#[derive(Debug, Clone)]
pub enum Source {
    Flag,
    Config(PathBuf),
    Pin(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("--python-version"),
            Source::Config(path) => write!(f, "python.version in {}", path.display()),
            Source::Pin(path) => write!(f, "the pin in {}", path.display()),
        }
    }
}

/// The nearest `.tool-versions` or `.python-version` from `start` upward,
/// the way asdf and pyenv read them. `system` means no particular version.
pub fn find_pin(start: &Path) -> Result<Option<(VersionRequest, PathBuf)>, String> {
    for dir in start.ancestors() {
        let tool_versions = dir.join(".tool-versions");
        if let Ok(text) = std::fs::read_to_string(&tool_versions) {
            let versions = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .find_map(|l| {
                    l.strip_prefix("python")
                        .filter(|r| r.starts_with([' ', '\t']))
                });
            if let Some(versions) = versions {
                return pin_from(versions.split_whitespace(), &tool_versions);
            }
        }
        let python_version = dir.join(".python-version");
        if let Ok(text) = std::fs::read_to_string(&python_version) {
            let words = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty());
            return pin_from(words, &python_version);
        }
    }
    Ok(None)
}

fn pin_from<'a>(
    mut words: impl Iterator<Item = &'a str>,
    file: &Path,
) -> Result<Option<(VersionRequest, PathBuf)>, String> {
    match words.next() {
        None | Some("system") => Ok(None),
        Some(word) => VersionRequest::parse(word)
            .map(|request| Some((request, file.to_owned())))
            .map_err(|m| {
                format!(
                    "{}: {m}; pyve builds CPython X.Y[.Z] environments, so pass --python-version",
                    file.display()
                )
            }),
    }
}

/// An interpreter that ran and told us what it is.
#[derive(Debug, Clone)]
pub struct Interpreter {
    /// The real executable (`sys.executable`, symlinks resolved): what the
    /// environment is built from, never a shim.
    pub executable: PathBuf,
    pub version: Version,
    /// Which manager it belongs to, for messages.
    pub found_in: &'static str,
}

/// Asks an interpreter for its version and real executable.
pub fn probe(program: &Path) -> Option<(Version, PathBuf)> {
    let output = Command::new(program)
        .args([
            "-I",
            "-c",
            "import sys, os; print('%d.%d.%d' % sys.version_info[:3]); print(os.path.realpath(sys.executable))",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let mut lines = text.lines();
    let version = Version::parse(lines.next()?)?;
    let executable = PathBuf::from(lines.next()?);
    executable.is_absolute().then_some((version, executable))
}

/// `probe`, remembered: interpreters are looked up on every `pyve init`,
/// and starting one costs as much as the `uv venv` that follows. The answer
/// is kept under `$XDG_CACHE_HOME/pyve/interpreters/` (default
/// `~/.cache`), keyed by the program's path and valid while the file it
/// resolves to is the same one (device, inode, size, mtime), as uv does.
/// A cache another user could write is not read.
fn probe_cached(program: &Path) -> Option<(Version, PathBuf)> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let identity = std::fs::metadata(program).ok().map(|m| {
        format!(
            "{:x}.{:x}.{:x}.{:x}.{:x}",
            m.dev(),
            m.ino(),
            m.len(),
            m.mtime(),
            m.mtime_nsec()
        )
    });
    let dir = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .or_else(|| home().map(|h| h.join(".cache")))
        .map(|d| d.join("pyve/interpreters"));
    let (Some(identity), Some(dir)) = (identity, dir) else {
        return probe(program);
    };
    let uid = nix::unistd::geteuid().as_raw();
    let private = |path: &Path| {
        std::fs::symlink_metadata(path).is_ok_and(|m| m.uid() == uid && m.mode() & 0o022 == 0)
    };
    let file = dir.join(crate::trust::short_digest(program.as_os_str().as_bytes()));
    if private(&dir) && private(&file) {
        if let Ok(bytes) = crate::files::read_bounded(&file, 4096) {
            let text = String::from_utf8_lossy(&bytes);
            let mut lines = text.lines();
            if lines.next() == Some(program.to_string_lossy().as_ref())
                && lines.next() == Some(identity.as_str())
            {
                let version = lines.next().and_then(Version::parse);
                let executable = lines.next().map(PathBuf::from);
                if let (Some(version), Some(executable)) = (version, executable) {
                    if executable.is_absolute() && is_executable(&executable) {
                        return Some((version, executable));
                    }
                }
            }
        }
    }
    let found = probe(program)?;
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir);
    if private(&dir) && program.to_str().is_some() && found.1.to_str().is_some() {
        let text = format!(
            "{}\n{identity}\n{}\n{}\n",
            program.display(),
            found.0,
            found.1.display()
        );
        let temporary = dir.join(format!(".tmp-{}", std::process::id()));
        if std::fs::write(&temporary, text).is_err() || std::fs::rename(&temporary, &file).is_err()
        {
            let _ = std::fs::remove_file(&temporary);
        }
    }
    Some(found)
}

/// A place interpreters are looked for, and what was found there.
struct Store {
    name: &'static str,
    /// Directory holding one directory per installed version.
    root: Option<PathBuf>,
    /// Turns a version directory's name into its version.
    version_of: fn(&str) -> Option<Version>,
}

pub fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn stores() -> [Store; 3] {
    let data_home = env_dir("XDG_DATA_HOME").or_else(|| home().map(|h| h.join(".local/share")));
    [
        Store {
            name: "asdf",
            root: env_dir("ASDF_DATA_DIR")
                .or_else(|| home().map(|h| h.join(".asdf")))
                .map(|d| d.join("installs/python")),
            version_of: plain_version,
        },
        Store {
            name: "pyenv",
            root: env_dir("PYENV_ROOT")
                .or_else(|| home().map(|h| h.join(".pyenv")))
                .map(|d| d.join("versions")),
            version_of: plain_version,
        },
        Store {
            name: "uv",
            root: env_dir("UV_PYTHON_INSTALL_DIR")
                .or_else(|| data_home.map(|d| d.join("uv/python"))),
            version_of: uv_version,
        },
    ]
}

/// asdf and pyenv name CPython installs by their bare version; anything
/// else there (`pypy3.10-7.3.12`, `miniconda3-latest`, a virtualenv) is not
/// a candidate.
fn plain_version(name: &str) -> Option<Version> {
    name.bytes()
        .all(|b| b.is_ascii_digit() || b == b'.')
        .then(|| Version::parse(name))
        .flatten()
}

/// uv: `cpython-3.12.4-linux-x86_64-gnu`.
fn uv_version(name: &str) -> Option<Version> {
    let rest = name.strip_prefix("cpython-")?;
    let version = rest.split('-').next()?;
    // Free-threaded and debug builds (`3.13.0+freethreaded`) are not the default.
    if version.contains('+') {
        return None;
    }
    Version::parse(version)
}

pub fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// PATH directories that hold shims, which re-dispatch on every call.
fn is_shim_dir(dir: &Path) -> bool {
    dir.file_name().is_some_and(|n| n == "shims")
}

/// What discovery tried, for the error when nothing matched.
pub struct NotFound {
    pub request: Option<VersionRequest>,
    pub tried: Vec<String>,
}

impl NotFound {
    /// The commands that would install the requested version, for managers
    /// that are present on this machine (all of them when none is).
    pub fn install_commands(&self) -> Vec<(&'static str, Vec<String>)> {
        let version = self
            .request
            .map(|r| r.to_string())
            .unwrap_or_else(|| "3".to_owned());
        let asdf_version = match self.request {
            Some(r) if r.patch.is_some() => r.to_string(),
            _ => format!("latest:{version}"),
        };
        let all = [
            (
                "uv",
                vec![
                    "uv".into(),
                    "python".into(),
                    "install".into(),
                    version.clone(),
                ],
            ),
            (
                "pyenv",
                vec!["pyenv".into(), "install".into(), version.clone()],
            ),
            (
                "asdf",
                vec![
                    "asdf".into(),
                    "install".into(),
                    "python".into(),
                    asdf_version,
                ],
            ),
        ];
        let present: Vec<_> = all
            .iter()
            .filter(|(tool, _)| which(tool).is_some())
            .cloned()
            .collect();
        if present.is_empty() {
            all.to_vec()
        } else {
            present
        }
    }
}

/// The first executable `name` on PATH outside shim directories.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute() && !is_shim_dir(d))
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// Finds an interpreter for `request` (the default `python3` when None).
/// Among matches the newest version wins, then the order asdf, pyenv, uv,
/// PATH; each candidate is run once to confirm what it is.
pub fn find(request: Option<VersionRequest>) -> Result<Interpreter, NotFound> {
    let mut tried = Vec::new();
    let mut candidates: Vec<(Version, PathBuf, &'static str)> = Vec::new();
    if let Some(request) = request {
        for store in stores() {
            let Some(root) = store.root else { continue };
            let mut seen = Vec::new();
            if let Ok(entries) = std::fs::read_dir(&root) {
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    let Some(version) = name.to_str().and_then(store.version_of) else {
                        continue;
                    };
                    seen.push(version);
                    let program = entry.path().join("bin/python3");
                    if request.matches(&version) && is_executable(&program) {
                        candidates.push((version, program, store.name));
                    }
                }
            }
            seen.sort();
            tried.push(if seen.is_empty() {
                format!("{}: nothing installed in {}", store.name, root.display())
            } else {
                format!(
                    "{}: {} in {}",
                    store.name,
                    seen.iter()
                        .map(Version::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    root.display()
                )
            });
        }
    }
    // Versions from directory names are claims; sort so the best claim is
    // run first, and fall through to the next when it does not hold.
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (claimed, program, found_in) in candidates {
        match probe_cached(&program) {
            Some((version, executable)) if request.is_none_or(|r| r.matches(&version)) => {
                return Ok(Interpreter {
                    executable,
                    version,
                    found_in,
                })
            }
            Some((version, _)) => tried.push(format!(
                "{}: claims {claimed} but runs {version}",
                program.display()
            )),
            None => tried.push(format!("{}: does not run", program.display())),
        }
    }
    // PATH last: `pythonX.Y` for a request, `python3` for the default.
    let name = match request {
        Some(r) => format!("python{}.{}", r.major, r.minor),
        None => "python3".to_owned(),
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut on_path = Vec::new();
    for dir in std::env::split_paths(&path).filter(|d| d.is_absolute()) {
        let program = dir.join(&name);
        if !is_executable(&program) {
            continue;
        }
        if is_shim_dir(&dir) {
            tried.push(format!("{}: a shim, skipped", program.display()));
            continue;
        }
        // An activated environment's `bin` (this project's own, even): an
        // environment is built from a base interpreter, not from another
        // environment.
        if dir.parent().is_some_and(|p| p.join("pyvenv.cfg").is_file()) {
            tried.push(format!(
                "{}: inside a virtual environment, skipped",
                program.display()
            ));
            continue;
        }
        if on_path.contains(&program) {
            continue;
        }
        on_path.push(program.clone());
        match probe_cached(&program) {
            Some((version, executable)) if request.is_none_or(|r| r.matches(&version)) => {
                return Ok(Interpreter {
                    executable,
                    version,
                    found_in: "PATH",
                })
            }
            Some((version, _)) => tried.push(format!("{}: is {version}", program.display())),
            None => tried.push(format!("{}: does not run", program.display())),
        }
    }
    if on_path.is_empty() {
        tried.push(format!("PATH: no {name} outside shim directories"));
    }
    Err(NotFound { request, tried })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_match() {
        let r = VersionRequest::parse("3.11").unwrap();
        assert!(r.matches(&Version(3, 11, 7)));
        assert!(!r.matches(&Version(3, 12, 0)));
        let r = VersionRequest::parse("3.11.2").unwrap();
        assert!(r.matches(&Version(3, 11, 2)));
        assert!(!r.matches(&Version(3, 11, 7)));
        assert_eq!(
            VersionRequest::parse("python3.10").unwrap().to_string(),
            "3.10"
        );
        for bad in ["3", "3.x", "", "3.11.2.1", "pypy3.10-7.3", "3..1"] {
            assert!(VersionRequest::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn store_directory_names() {
        assert_eq!(plain_version("3.12.1"), Some(Version(3, 12, 1)));
        assert_eq!(plain_version("pypy3.10-7.3.12"), None);
        assert_eq!(
            uv_version("cpython-3.12.4-linux-x86_64-gnu"),
            Some(Version(3, 12, 4))
        );
        assert_eq!(
            uv_version("cpython-3.13.0+freethreaded-linux-x86_64-gnu"),
            None
        );
        assert_eq!(uv_version("pypy-3.10.14-linux-x86_64-gnu"), None);
    }

    #[test]
    fn pins_are_read_like_asdf_and_pyenv() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        assert!(find_pin(&sub).unwrap().is_none());
        std::fs::write(dir.path().join("a/.python-version"), "# c\n3.12\n3.11\n").unwrap();
        let (r, file) = find_pin(&sub).unwrap().unwrap();
        assert_eq!(r.to_string(), "3.12");
        assert!(file.ends_with("a/.python-version"));
        std::fs::write(
            sub.join(".tool-versions"),
            "nodejs 20\npython 3.11.7 system\n",
        )
        .unwrap();
        assert_eq!(find_pin(&sub).unwrap().unwrap().0.to_string(), "3.11.7");
        std::fs::write(sub.join(".tool-versions"), "python system\n").unwrap();
        assert!(find_pin(&sub).unwrap().is_none());
        std::fs::write(sub.join(".tool-versions"), "python pypy3.10\n").unwrap();
        assert!(find_pin(&sub).is_err());
    }
}
