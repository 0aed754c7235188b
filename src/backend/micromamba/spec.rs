//! The project's conda spec: `conda-lock.yml` (exact) or `environment.yml`
//! (loose), what they name, and whether the lock still matches.

use std::path::{Path, PathBuf};

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
    /// Conda package names of `dependencies` for this platform (pip
    /// entries left out, `sel(...)` entries only when they apply).
    pub packages: Vec<String>,
    pub has_pip_section: bool,
    /// Names of the `- pip:` section's requirements; `None` when it has
    /// entries pyve cannot name (`-r file`, `-e path`, a URL).
    pub pip_names: Option<Vec<String>>,
    /// `variables:`, each value as written (`1.10` stays `1.10`).
    pub variables: Vec<(String, String)>,
}

pub fn read_environment(path: &Path) -> Result<EnvironmentFile, Error> {
    let value = read_yaml(path)?;
    let mut file = EnvironmentFile {
        pip_names: Some(Vec::new()),
        ..EnvironmentFile::default()
    };
    match value.get("name") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => file.name = Some(name.clone()),
        // `name: 2024` is a name to micromamba, as yaml-cpp reads it.
        Some(Value::Number(n)) => file.name = Some(n.to_string()),
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
                read_dependency(path, item, &mut file)?;
            }
        }
        Some(_) => {
            return Err(user(format!(
                "{}: `dependencies` must be a list",
                shown(path)
            )))
        }
    }
    file.variables = read_variables(path)?;
    Ok(file)
}

fn read_dependency(path: &Path, item: &Value, file: &mut EnvironmentFile) -> Result<(), Error> {
    let bad = || {
        user(format!(
            "{}: `dependencies` entries must be package specs such as `numpy>=1.26`, a `pip:` list or `sel(linux): pkg`",
            shown(path)
        ))
    };
    match item {
        Value::String(spec) => file.packages.push(package_name(spec)),
        Value::Mapping(m) if m.len() == 1 => {
            let (key, value) = m.iter().next().ok_or_else(bad)?;
            let key = key.as_str().ok_or_else(bad)?;
            if key == "pip" {
                file.has_pip_section = true;
                let entries = value.as_sequence().ok_or_else(bad)?;
                for entry in entries {
                    let name = entry.as_str().and_then(pip_name);
                    match (name, file.pip_names.as_mut()) {
                        (Some(name), Some(names)) => names.push(name),
                        _ => file.pip_names = None,
                    }
                }
            } else if let Some(selector) =
                key.strip_prefix("sel(").and_then(|k| k.strip_suffix(')'))
            {
                let spec = value.as_str().ok_or_else(bad)?;
                if selector_applies(selector) {
                    file.packages.push(package_name(spec));
                }
            } else {
                return Err(bad());
            }
        }
        _ => return Err(bad()),
    }
    Ok(())
}

/// Whether micromamba's `sel(...)` applies on this machine: `linux`,
/// `osx`, `win`, `unix`.
fn selector_applies(selector: &str) -> bool {
    match selector.trim() {
        "linux" => cfg!(target_os = "linux"),
        "osx" => cfg!(target_os = "macos"),
        "win" => cfg!(windows),
        "unix" => cfg!(unix),
        _ => false,
    }
}

/// The normalized project name of a pip requirement line (`Requests[x]>=2`
/// → `requests`); `None` for options, paths and URLs.
fn pip_name(line: &str) -> Option<String> {
    let line = line.trim();
    if line.starts_with('-') || line.contains('/') || line.contains(':') {
        return None;
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .unwrap_or(line.len());
    let name = &line[..end];
    (!name.is_empty()).then(|| normalize_pip(name))
}

/// PEP 503: lower case, runs of `-`, `_`, `.` as one `-`.
pub fn normalize_pip(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if "-_.".contains(c) {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// `variables:` with each value as its text: a typed read keeps `1.10`
/// and `on` as written, as yaml-cpp hands them to micromamba.
fn read_variables(path: &Path) -> Result<Vec<(String, String)>, Error> {
    #[derive(serde::Deserialize)]
    struct Variables {
        #[serde(default)]
        variables: Option<std::collections::BTreeMap<String, String>>,
    }
    let bytes = files::read_bounded(path, MAX_SPEC_BYTES)
        .map_err(|e| user(format!("{}: {e}", shown(path))))?;
    let text = String::from_utf8_lossy(&bytes);
    let parsed: Variables = yaml::from_str(&text).map_err(|_| {
        user(format!(
            "{}: `variables` must map names to text, such as `MY_VAR: value`",
            shown(path)
        ))
    })?;
    Ok(parsed.variables.unwrap_or_default().into_iter().collect())
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

/// What pyve reads from a conda-lock file.
#[derive(Debug, Default)]
pub struct LockFile {
    pub platforms: Vec<String>,
    /// `metadata.content_hash`: platform → digest of the inputs.
    pub content_hash: Vec<(String, String)>,
    /// Every package, for every platform.
    pub packages: Vec<Locked>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Locked {
    pub platform: String,
    pub manager: String,
    pub name: String,
    pub version: String,
    /// `category: main` and not `optional`: what micromamba installs from
    /// a lock unless asked for more.
    pub installed: bool,
}

impl LockFile {
    /// Conda package names for this platform.
    pub fn conda_names(&self) -> Vec<String> {
        self.names("conda")
    }

    /// pip package names (normalized) for this platform.
    pub fn pip_names(&self) -> Vec<String> {
        self.names("pip").iter().map(|n| normalize_pip(n)).collect()
    }

    fn names(&self, manager: &str) -> Vec<String> {
        let here = platform().unwrap_or_default();
        self.packages
            .iter()
            .filter(|p| p.manager == manager && p.platform == here && p.installed)
            .map(|p| p.name.clone())
            .collect()
    }
}

/// Reads a conda-lock v1 file, keeping the packages for this platform.
pub fn read_lock(path: &Path) -> Result<LockFile, Error> {
    let value = read_yaml(path)?;
    let not_lock = |what: &str| {
        user(format!("{}: {what}; is it a conda-lock file?", shown(path)))
            .with_hint("regenerate it with `pyve lock`")
    };
    let packages = value
        .get("package")
        .and_then(Value::as_sequence)
        .ok_or_else(|| not_lock("has no `package:` list"))?;
    let metadata = value
        .get("metadata")
        .ok_or_else(|| not_lock("has no `metadata:`"))?;
    let platforms: Vec<String> = metadata
        .get("platforms")
        .and_then(Value::as_sequence)
        .ok_or_else(|| not_lock("has no `metadata.platforms` list"))?
        .iter()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    let content_hash = metadata
        .get("content_hash")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let text = |p: &Value, key: &str| match p.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let packages = packages
        .iter()
        .filter_map(|p| {
            Some(Locked {
                platform: text(p, "platform")?,
                manager: text(p, "manager").unwrap_or_else(|| "conda".to_owned()),
                name: text(p, "name")?.to_lowercase(),
                version: text(p, "version").unwrap_or_default(),
                installed: text(p, "category").is_none_or(|c| c == "main")
                    && p.get("optional").and_then(Value::as_bool) != Some(true),
            })
        })
        .collect();
    Ok(LockFile {
        platforms,
        content_hash,
        packages,
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
    if files.environment == Path::new(ENVIRONMENT_FILE) {
        "pyve lock".to_owned()
    } else {
        // A named environment's own file: `pyve lock --env NAME`.
        format!(
            "pyve lock --env <the environment using {}>",
            files.environment_name()
        )
    }
}

/// The spec's bytes, bounded: what is digested and given to micromamba.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, Error> {
    files::read_bounded(path, MAX_SPEC_BYTES).map_err(|e| user(format!("{}: {e}", shown(path))))
}

/// What the environment is built from, as recorded in its marker: the
/// spec's bytes; the channels used instead of an environment file's (other
/// channels are another environment); for a lock, the environment file's
/// `variables:`, which pyve writes into it (conda-lock's hash leaves them
/// out, so an edited variable leaves the lock fresh).
pub fn build_digest(
    bytes: &[u8],
    is_lock: bool,
    channels: &[String],
    variables: &[(String, String)],
) -> String {
    let digest = crate::digest::sha256(bytes);
    let extra = if is_lock {
        variables
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        channels.join(" ")
    };
    if extra.is_empty() {
        return digest;
    }
    crate::digest::sha256(format!("{digest}\n{extra}").as_bytes())
}

/// The environment file's `variables:` that an environment built from the
/// lock gets (none when there is no environment file).
pub fn lock_variables(files: &SpecFiles) -> Result<Vec<(String, String)>, Error> {
    let environment = files.environment_path();
    if !environment.is_file() {
        return Ok(Vec::new());
    }
    Ok(read_environment(&environment)?.variables)
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
