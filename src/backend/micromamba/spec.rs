//! The project's conda spec: `conda-lock.yml` (exact) or `environment.yml`
//! (loose), what they name, and whether the lock still matches.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_yaml_ng::Value;

use crate::backend::Sources;
use crate::error::{user, Error};
use crate::text::shown;
use crate::{files, yaml};

pub const LOCK_FILE: &str = "conda-lock.yml";
pub const ENVIRONMENT_FILE: &str = "environment.yml";

/// The files one conda environment is built from, as the config names
/// them (relative to the project root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecFiles {
    pub root: PathBuf,
    pub environment: PathBuf,
    pub lock: Option<PathBuf>,
}

impl SpecFiles {
    /// The environment's files: `environment.yml` and `conda-lock.yml`
    /// unless the config names others. Another environment file has no
    /// default lock file.
    pub fn new(root: &Path, sources: &Sources) -> SpecFiles {
        let mut files = SpecFiles {
            root: root.to_owned(),
            environment: PathBuf::from(ENVIRONMENT_FILE),
            lock: Some(PathBuf::from(LOCK_FILE)),
        };
        if let Some(file) = &sources.env_file {
            files.environment = file.clone();
            files.lock = None;
        }
        if let Some(lock) = &sources.lock_file {
            files.lock = Some(lock.clone());
        }
        files
    }

    pub fn environment_path(&self) -> PathBuf {
        self.root.join(&self.environment)
    }

    pub fn lock_path(&self) -> Option<PathBuf> {
        self.lock.as_ref().map(|l| self.root.join(l))
    }

    pub fn environment_name(&self) -> String {
        shown(&self.environment)
    }

    pub fn lock_name(&self) -> String {
        self.lock
            .as_deref()
            .map_or_else(|| LOCK_FILE.to_owned(), shown)
    }

    /// `conda-lock.yml or environment.yml`, for messages.
    pub fn describe(&self) -> String {
        match &self.lock {
            Some(_) => format!("{} or {}", self.lock_name(), self.environment_name()),
            None => self.environment_name(),
        }
    }
}

/// What `micromamba create -f` will read.
#[derive(Debug, Clone)]
pub struct Spec {
    pub path: PathBuf,
    pub is_lock: bool,
    /// As the config names it, for messages and the build record.
    pub name: String,
}

impl Spec {
    pub fn file_name(&self) -> &str {
        &self.name
    }
}

/// The lock file first (exact reproducibility), else the environment file.
pub fn detect(files: &SpecFiles) -> Option<Spec> {
    let lock = files.lock_path().map(|path| Spec {
        path,
        is_lock: true,
        name: files.lock_name(),
    });
    let environment = Spec {
        path: files.environment_path(),
        is_lock: false,
        name: files.environment_name(),
    };
    lock.into_iter()
        .chain(std::iter::once(environment))
        .find(|spec| spec.path.is_file())
}

/// What to write when there is no spec at all.
pub fn minimal_environment_yml(name: &str) -> String {
    format!("  name: {name}\n  channels:\n    - conda-forge\n  dependencies:\n    - python=3.12\n")
}

/// Specs are small; a larger file is not one, and is refused before YAML
/// parsing is asked to chew on it.
const MAX_SPEC_BYTES: u64 = 16 << 20;

fn read_yaml(path: &Path) -> Result<Value, Error> {
    let bytes = files::read_bounded(path, MAX_SPEC_BYTES).map_err(|e| match e {
        files::ReadError::TooLarge(_) => {
            user(format!("{}: {e}, too large for a conda spec", shown(path)))
        }
        e => user(format!("{}: {e}", shown(path))),
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| user(format!("{}: is not UTF-8 text", shown(path))))?;
    let value: Value = yaml::from_str(text).map_err(|e| match e {
        yaml::Error::TooDeep { line } => user(format!(
            "{}:{line}: nested more than {} levels deep, which no conda spec needs",
            shown(path),
            yaml::MAX_DEPTH
        )),
        yaml::Error::Yaml(e) => {
            let at = e
                .location()
                .map(|l| format!(":{}:{}", l.line(), l.column()))
                .unwrap_or_default();
            user(format!("{}{at}: invalid YAML: {e}", shown(path)))
        }
    })?;
    if !value.is_mapping() {
        return Err(user(format!(
            "{}: must be a YAML mapping (keys such as `name:`, `channels:`, `dependencies:`)",
            shown(path)
        )));
    }
    Ok(value)
}

/// What pyve reads from `environment.yml`.
#[derive(Debug, Default)]
pub struct EnvironmentFile {
    pub name: Option<String>,
    pub has_channels: bool,
    /// Conda package names of `dependencies` (pip entries left out).
    pub packages: Vec<String>,
    pub has_pip_section: bool,
}

pub fn read_environment(path: &Path) -> Result<EnvironmentFile, Error> {
    let value = read_yaml(path)?;
    let mut file = EnvironmentFile::default();
    match value.get("name") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => file.name = Some(name.clone()),
        Some(_) => return Err(user(format!("{}: `name` must be text", shown(path)))),
    }
    file.has_channels = value
        .get("channels")
        .and_then(Value::as_sequence)
        .is_some_and(|c| !c.is_empty());
    match value.get("dependencies") {
        None | Some(Value::Null) => {}
        Some(Value::Sequence(items)) => {
            for item in items {
                match item {
                    Value::String(spec) => file.packages.push(package_name(spec)),
                    Value::Mapping(m) if m.contains_key("pip") => file.has_pip_section = true,
                    _ => {
                        return Err(user(format!(
                            "{}: `dependencies` entries must be package specs such as `numpy>=1.26` or a `pip:` list",
                            shown(path)
                        )))
                    }
                }
            }
        }
        Some(_) => {
            return Err(user(format!(
                "{}: `dependencies` must be a list",
                shown(path)
            )))
        }
    }
    Ok(file)
}

/// `conda-forge::numpy >=1.26` → `numpy`.
fn package_name(spec: &str) -> String {
    let spec = spec.trim();
    let spec = spec.rsplit_once("::").map_or(spec, |(_, s)| s);
    spec.split(|c: char| c.is_whitespace() || "=<>!~[".contains(c))
        .next()
        .unwrap_or_default()
        .to_lowercase()
}

/// Package names in a conda-lock file.
pub fn lock_packages(path: &Path) -> Result<Vec<String>, Error> {
    let value = read_yaml(path)?;
    let packages = value
        .get("package")
        .and_then(Value::as_sequence)
        .ok_or_else(|| {
            user(format!(
                "{}: has no `package:` list; is it a conda-lock file?",
                shown(path)
            ))
            .with_hint("regenerate it with conda-lock")
        })?;
    Ok(packages
        .iter()
        .filter_map(|p| p.get("name")?.as_str())
        .map(str::to_lowercase)
        .collect())
}

/// How the lock file relates to `environment.yml`.
#[derive(Debug)]
pub enum LockStatus {
    /// Only a lock file: nothing to compare.
    LockOnly,
    Fresh,
    /// Only `environment.yml`.
    Missing,
    Stale {
        environment_modified: SystemTime,
        lock_modified: SystemTime,
        /// The lock is older than `environment.yml`.
        older: bool,
        /// Dependencies of `environment.yml` the lock does not contain.
        not_locked: Vec<String>,
    },
}

pub fn lock_status(files: &SpecFiles) -> Result<LockStatus, Error> {
    let Some(lock) = files.lock_path() else {
        return Ok(LockStatus::Missing);
    };
    let environment = files.environment_path();
    match (lock.is_file(), environment.is_file()) {
        (true, false) => return Ok(LockStatus::LockOnly),
        (false, _) => return Ok(LockStatus::Missing),
        (true, true) => {}
    }
    let modified = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .map_err(|e| user(format!("{}: {e}", shown(p))))
    };
    let environment_modified = modified(&environment)?;
    let lock_modified = modified(&lock)?;
    let locked = lock_packages(&lock)?;
    let not_locked: Vec<String> = read_environment(&environment)?
        .packages
        .into_iter()
        .filter(|p| !p.is_empty() && !locked.contains(p))
        .collect();
    let older = environment_modified > lock_modified;
    if !older && not_locked.is_empty() {
        return Ok(LockStatus::Fresh);
    }
    Ok(LockStatus::Stale {
        environment_modified,
        lock_modified,
        older,
        not_locked,
    })
}

/// The conda platform of this machine, as micromamba and conda-lock name it.
pub fn platform() -> Option<&'static str> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("linux-64"),
        ("linux", "aarch64") => Some("linux-aarch64"),
        ("macos", "x86_64") => Some("osx-64"),
        ("macos", "aarch64") => Some("osx-arm64"),
        _ => None,
    }
}

/// The command that refreshes the lock file.
pub fn lock_command(files: &SpecFiles) -> String {
    let output = match &files.lock {
        Some(lock) if lock != Path::new(LOCK_FILE) => format!(" --lockfile {}", shown(lock)),
        _ => String::new(),
    };
    format!(
        "conda-lock -f {} -p {}{output}",
        files.environment_name(),
        platform().unwrap_or("<platform>")
    )
}

/// The spec's content digest: what the environment was built from.
pub fn digest(path: &Path) -> Result<String, Error> {
    files::sha256_of(path, MAX_SPEC_BYTES).map_err(|e| user(format!("{}: {e}", shown(path))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_drop_versions_and_channels() {
        for (spec, name) in [
            ("python=3.11", "python"),
            ("numpy >=1.26", "numpy"),
            ("conda-forge::NumPy", "numpy"),
            ("scipy[build=py311*]", "scipy"),
            ("pip", "pip"),
        ] {
            assert_eq!(package_name(spec), name, "{spec}");
        }
    }
}
