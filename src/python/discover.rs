//! Finding the interpreter a new environment is built from: the requested
//! version among asdf installs, pyenv versions, uv-managed Pythons and
//! `pythonX.Y` on PATH. Shims are never used: they resolve per directory
//! and per pin, so what they run today is not what they run tomorrow.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::probe::probe_cached;
use super::{Interpreter, Requires, Version, VersionRequest};
use crate::files::is_executable;
use crate::pathlist;
use crate::vars::{self, Vars};

/// A place interpreters are looked for, and what was found there.
struct Store {
    name: &'static str,
    /// Directory holding one directory per installed version.
    root: Option<PathBuf>,
    /// Turns a version directory's name into its version.
    version_of: fn(&str) -> Option<Version>,
}

fn stores(vars: &dyn Vars) -> [Store; 3] {
    let home = crate::paths::home(vars);
    let dir = |var: &str| vars.non_empty(var).map(PathBuf::from);
    [
        Store {
            name: "asdf",
            root: dir("ASDF_DATA_DIR")
                .or_else(|| home.as_ref().map(|h| h.join(".asdf")))
                .map(|d| d.join("installs/python")),
            version_of: plain_version,
        },
        Store {
            name: "pyenv",
            root: dir("PYENV_ROOT")
                .or_else(|| home.as_ref().map(|h| h.join(".pyenv")))
                .map(|d| d.join("versions")),
            version_of: plain_version,
        },
        Store {
            name: "uv",
            root: dir("UV_PYTHON_INSTALL_DIR")
                .or_else(|| crate::paths::data_home(vars).map(|d| d.join("uv/python"))),
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

/// The absolute directories on PATH, with whether each is a shim directory.
fn path_dirs(vars: &dyn Vars) -> Vec<(PathBuf, bool)> {
    let path = vars.bytes(vars::PATH).unwrap_or_default();
    pathlist::entries(&path)
        .filter(|entry| entry.first() == Some(&b'/'))
        .map(|entry| {
            (
                PathBuf::from(OsStr::from_bytes(entry)),
                pathlist::is_shims(entry),
            )
        })
        .collect()
}

/// The first executable `name` on PATH outside shim directories.
pub fn which(vars: &dyn Vars, name: &str) -> Option<PathBuf> {
    path_dirs(vars)
        .into_iter()
        .filter(|(_, shims)| !shims)
        .map(|(dir, _)| dir.join(name))
        .find(|p| is_executable(p))
}

/// What discovery tried, for the error when nothing matched.
pub struct NotFound {
    pub request: Option<VersionRequest>,
    /// The project's `requires-python`, when it narrowed the search.
    pub requires: Option<Requires>,
    pub tried: Vec<String>,
}

impl NotFound {
    /// When uv is here and knows no CPython release for the requested
    /// version (`3.12.99`): the note to show, and the newest release of
    /// that minor version it can install (`3.12.16`), if any.
    pub fn unknown_version(&self, vars: &dyn Vars) -> Option<(String, Option<String>)> {
        let request = self.request?;
        let uv = which(vars, "uv")?;
        // uv cannot say (an older uv, an error): no claim either way.
        if uv_newest(&uv, &request.to_string())?.is_some() {
            return None;
        }
        let minor = format!("{}.{}", request.major, request.minor);
        let newest = uv_newest(&uv, &minor)?;
        let note = match &newest {
            Some(newest) => format!(
                "there is no Python {request} release (uv's list of CPython releases ends at {newest} for {minor})"
            ),
            None => format!("there is no Python {minor} release that uv knows of"),
        };
        Some((note, newest))
    }

    /// The commands that would install the requested version, for managers
    /// that are present on this machine (all of them when none is); a
    /// version that does not exist is replaced by its minor version (`3.12`)
    /// and a minor version that does not exist gets none.
    pub fn install_commands(&self, vars: &dyn Vars) -> Vec<(&'static str, Vec<String>)> {
        let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        if let (None, Some(requires)) = (self.request, &self.requires) {
            // Only uv installs by a specifier.
            return vec![(
                "uv",
                words(&["uv", "python", "install", &requires.to_string()]),
            )];
        }
        let mut request = self.request;
        if let Some((_, newest)) = self.unknown_version(vars) {
            match (newest, request.as_mut()) {
                (Some(_), Some(r)) => r.patch = None,
                _ => return Vec::new(),
            }
        }
        let version = request
            .map(|r| r.to_string())
            .unwrap_or_else(|| "3".to_owned());
        let asdf_version = match request {
            Some(r) if r.patch.is_some() => r.to_string(),
            _ => format!("latest:{version}"),
        };
        let all = [
            ("uv", words(&["uv", "python", "install", &version])),
            ("pyenv", words(&["pyenv", "install", &version])),
            ("asdf", words(&["asdf", "install", "python", &asdf_version])),
        ];
        let present: Vec<_> = all
            .iter()
            .filter(|(tool, _)| which(vars, tool).is_some())
            .cloned()
            .collect();
        if present.is_empty() {
            all.to_vec()
        } else {
            present
        }
    }
}

/// The newest CPython release uv can install for `spec` (`3.12`,
/// `3.12.4`), from the list built into uv: no network. `Some(None)` when
/// uv knows none; None when it cannot say (it failed, or is too old for
/// these flags).
fn uv_newest(uv: &std::path::Path, spec: &str) -> Option<Option<String>> {
    let output = std::process::Command::new(uv)
        .args([
            "python",
            "list",
            spec,
            "--all-versions",
            "--only-downloads",
            "--no-config",
        ])
        .env("UV_OFFLINE", "1")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    // Lines such as `cpython-3.12.16-linux-x86_64-gnu  <download available>`,
    // newest first; a few kilobytes.
    let text =
        String::from_utf8_lossy(&output.stdout[..output.stdout.len().min(1 << 20)]).into_owned();
    text.lines()
        .filter_map(|line| line.split_whitespace().next()?.strip_prefix("cpython-"))
        .filter_map(|rest| rest.split('-').next())
        .find(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .map(str::to_owned)
        .map_or(Some(None), |v| Some(Some(v)))
}

/// Finds an interpreter for `request` (the default `python3` when None)
/// that `requires` (the project's `requires-python`) allows. Among matches
/// the newest version wins, then the order asdf, pyenv, uv, PATH; each
/// candidate is run once to confirm what it is. With only `requires`,
/// every installed version is a candidate, so the newest it allows wins.
pub fn find(
    vars: &dyn Vars,
    request: Option<VersionRequest>,
    requires: Option<&Requires>,
) -> Result<Interpreter, NotFound> {
    let want = Want { request, requires };
    let mut tried = Vec::new();
    let from_manager = match (request, requires) {
        (None, None) => None,
        _ => from_managers(vars, &want, &mut tried),
    };
    let from_path = from_path(vars, &want, &mut tried);
    let best = match (from_manager, from_path) {
        (Some(m), Some(p)) if requires.is_some() && request.is_none() && p.version > m.version => {
            Some(p)
        }
        (Some(m), _) => Some(m),
        (None, p) => p,
    };
    best.ok_or(NotFound {
        request,
        requires: requires.cloned(),
        tried,
    })
}

/// What a candidate must be.
struct Want<'a> {
    request: Option<VersionRequest>,
    requires: Option<&'a Requires>,
}

impl Want<'_> {
    fn accepts(&self, version: &Version) -> bool {
        self.request.is_none_or(|r| r.matches(version))
            && self.requires.is_none_or(|r| r.matches(version))
    }
}

/// The newest matching install of asdf, pyenv or uv that really is what its
/// directory claims.
fn from_managers(vars: &dyn Vars, want: &Want, tried: &mut Vec<String>) -> Option<Interpreter> {
    let mut candidates: Vec<(Version, PathBuf, &'static str)> = Vec::new();
    for store in stores(vars) {
        let Some(root) = store.root else { continue };
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let Some(version) = name.to_str().and_then(store.version_of) else {
                continue;
            };
            seen.push(version);
            let program = entry.path().join("bin/python3");
            if want.accepts(&version) && is_executable(&program) {
                candidates.push((version, program, store.name));
            }
        }
        seen.sort();
        tried.push(if seen.is_empty() {
            format!("{}: nothing installed in {}", store.name, root.display())
        } else {
            let listed: Vec<String> = seen.iter().map(Version::to_string).collect();
            format!(
                "{}: {} in {}",
                store.name,
                listed.join(", "),
                root.display()
            )
        });
    }
    // Versions from directory names are claims; sort so the best claim is
    // run first, and fall through to the next when it does not hold.
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (claimed, program, found_in) in candidates {
        match probe_cached(vars, &program) {
            Some((version, executable)) if want.accepts(&version) => {
                return Some(Interpreter {
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
    None
}

/// `pythonX.Y` on PATH for a request, `python3` for the default: not a
/// shim, not inside a virtual environment. With only `requires`, every
/// `python3.N` and `python3` on PATH is a candidate and the newest allowed
/// wins.
fn from_path(vars: &dyn Vars, want: &Want, tried: &mut Vec<String>) -> Option<Interpreter> {
    let names: Vec<String> = match (want.request, want.requires) {
        (Some(r), _) => vec![format!("python{}.{}", r.major, r.minor)],
        (None, None) => vec!["python3".to_owned()],
        (None, Some(_)) => (0..=40)
            .rev()
            .map(|minor| format!("python3.{minor}"))
            .chain(["python3".to_owned()])
            .collect(),
    };
    let mut on_path = Vec::new();
    let mut best: Option<Interpreter> = None;
    for name in &names {
        for (dir, shims) in path_dirs(vars) {
            let program = dir.join(name);
            if !is_executable(&program) {
                continue;
            }
            if shims {
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
            match probe_cached(vars, &program) {
                Some((version, executable)) if want.accepts(&version) => {
                    if best.as_ref().is_none_or(|b| version > b.version) {
                        best = Some(Interpreter {
                            executable,
                            version,
                            found_in: "PATH",
                        });
                    }
                    // The first on PATH for a name, as a shell would run it.
                    break;
                }
                Some((version, _)) => tried.push(format!("{}: is {version}", program.display())),
                None => tried.push(format!("{}: does not run", program.display())),
            }
        }
        if best.is_some() && want.requires.is_none() {
            break;
        }
    }
    if on_path.is_empty() {
        tried.push(format!(
            "PATH: no {} outside shim directories",
            names.last().map_or("python3", String::as_str)
        ));
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vars::Map;

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
    fn which_skips_shims_and_relative_entries() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["shims", "bin"] {
            let program = dir.path().join(sub).join("tool");
            std::fs::create_dir_all(program.parent().unwrap()).unwrap();
            std::fs::write(&program, "").unwrap();
            let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
            std::fs::set_permissions(&program, executable).unwrap();
        }
        let path = format!("relative:{0}/shims:{0}/bin", dir.path().display());
        let vars = Map::default().with("PATH", &path);
        assert_eq!(which(&vars, "tool"), Some(dir.path().join("bin/tool")));
        assert_eq!(which(&vars, "absent"), None);
    }
}
