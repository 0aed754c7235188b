//! `.pyve/config`: the YAML file that makes a directory a pyve project.
//!
//! Parsing happens only when the engine sees that the file changed, so the
//! prompt path never pays for serde.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_PROMPT_FORMAT: &str = "({backend}:{env_name})";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    pub backend: Option<String>,
    pub env_name: Option<String>,
    pub python: PythonSection,
    pub venv: VenvSection,
    pub micromamba: MicromambaSection,
    /// What `pyve init` does about a stale or missing conda lock file.
    pub lock_file_policy: Option<LockPolicy>,
    pub prompt: PromptSection,
    /// Install the requirements into the environment on `pyve init`.
    pub install_deps: bool,
    /// Requirements files for `install_deps`, relative to the project root;
    /// `requirements.txt` when absent.
    pub requirements: Option<Vec<PathBuf>>,
    /// Whether `pyve init` writes `.envrc` (false after `--no-direnv`).
    pub direnv: Option<bool>,
    /// The named environment active when `.pyve/current` does not say.
    pub default_env: Option<String>,
    /// Named environments, in the order written. Empty: the project has
    /// one environment, described by the keys above.
    pub environments: Environments,
    /// Keys this version does not know; reported as warnings, never fatal, so
    /// a config written by a newer pyve still activates.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_yaml_ng::Value>,
}

/// `environments:`, a mapping kept in the order it is written (listings
/// follow it).
#[derive(Debug, Default)]
pub struct Environments(pub Vec<(String, EnvEntry)>);

impl Environments {
    pub fn get(&self, name: &str) -> Option<&EnvEntry> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }

    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|(n, _)| n.as_str()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for Environments {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Environments;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of environment names to their settings")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Environments, E> {
                Ok(Environments::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Environments, A::Error> {
                let mut entries: Vec<(String, EnvEntry)> = Vec::new();
                while let Some((name, entry)) = map.next_entry::<String, Option<EnvEntry>>()? {
                    if entries.iter().any(|(n, _)| *n == name) {
                        return Err(serde::de::Error::custom(format!(
                            "environment `{}` is defined twice",
                            one_line(&name)
                        )));
                    }
                    entries.push((name, entry.unwrap_or_default()));
                }
                Ok(Environments(entries))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// One named environment's settings; what it leaves out comes from the
/// project-wide keys (`backend`, `python.version`, `requirements`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvEntry {
    pub backend: Option<String>,
    pub python_version: Option<VersionValue>,
    pub requirements: Option<Requirements>,
    /// micromamba: the environment file (default `environment.yml`).
    pub env_file: Option<PathBuf>,
    /// micromamba: the conda-lock file used instead of `env_file` when it
    /// exists (default `conda-lock.yml`, only with the default env_file).
    pub lock_file: Option<PathBuf>,
    /// venv: where it lives (default `.pyve/envs/<name>`); set for the
    /// environment a project had before it named any.
    pub directory: Option<PathBuf>,
}

/// One requirements file or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Requirements {
    One(PathBuf),
    Many(Vec<PathBuf>),
}

impl Requirements {
    pub fn files(&self) -> Vec<PathBuf> {
        match self {
            Requirements::One(file) => vec![file.clone()],
            Requirements::Many(files) => files.clone(),
        }
    }
}

impl EnvEntry {
    pub fn python_request(&self) -> Option<crate::python::VersionRequest> {
        match &self.python_version {
            Some(VersionValue::Text(text)) => crate::python::VersionRequest::parse(text).ok(),
            _ => None,
        }
    }
}

impl Config {
    /// Whether the project names its environments (`environments:`).
    pub fn is_named(&self) -> bool {
        !self.environments.is_empty()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PythonSection {
    /// `X.Y` or `X.Y.Z`; read as a string so `3.10` is not the number 3.1.
    pub version: Option<VersionValue>,
}

/// A Python version as written in YAML. Unquoted, `3.10` is the number 3.1,
/// so numbers are read only to be refused with the fix.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum VersionValue {
    Text(String),
    Number(serde_yaml_ng::Number),
    /// Anything else (a list, a mapping), refused by `validate`.
    Other(#[allow(dead_code)] serde::de::IgnoredAny),
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VenvSection {
    pub directory: Option<PathBuf>,
    pub creator: Option<Creator>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MicromambaSection {
    /// The conda environment's name: `.pyve/envs/<env_name>`.
    pub env_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LockPolicy {
    /// Say so (and ask, on a terminal).
    Warn,
    /// Refuse to build.
    Strict,
    /// Say nothing.
    Ignore,
}

/// What builds a venv: `uv venv` or the standard library's `venv` module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Creator {
    Uv,
    Stdlib,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromptSection {
    pub show: bool,
    pub format: String,
}

impl PythonSection {
    /// The requested version, once `validate` has admitted it.
    pub fn request(&self) -> Option<crate::python::VersionRequest> {
        match &self.version {
            Some(VersionValue::Text(text)) => crate::python::VersionRequest::parse(text).ok(),
            _ => None,
        }
    }
}

impl Default for PromptSection {
    fn default() -> Self {
        PromptSection {
            show: true,
            format: DEFAULT_PROMPT_FORMAT.to_owned(),
        }
    }
}

/// A config problem, with the position in the file when serde knows it.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", shown(&self.path))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// A path for a one-line diagnostic: control characters (a newline in a
/// directory name) escaped, so one message never becomes several lines.
pub fn shown(path: &Path) -> String {
    one_line(&path.to_string_lossy())
}

pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The line (1-based) where `key` is written, at the top level or inside
/// `section`: for values YAML accepted and pyve does not. None for layouts
/// this simple scan does not follow (flow mappings).
fn key_line(text: &str, section: Option<&str>, key: &str) -> Option<usize> {
    let mut in_section = false;
    for (index, line) in text.lines().enumerate() {
        let blank = line.trim().is_empty() || line.trim_start().starts_with('#');
        let top = !blank && !line.starts_with([' ', '\t']);
        match section {
            None if top && is_key_line(line, key) => return Some(index + 1),
            None => {}
            Some(section) => {
                if top {
                    in_section = is_key_line(line, section);
                } else if in_section && !blank && is_key_line(line.trim_start(), key) {
                    return Some(index + 1);
                }
            }
        }
    }
    None
}

impl ConfigError {
    /// A problem with the value of `key` (in `section`), at its line.
    fn at_key(
        path: &Path,
        text: &str,
        section: Option<&str>,
        key: &str,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            line: key_line(text, section, key),
            ..ConfigError::at(path, message)
        }
    }

    fn at(path: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_owned(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

/// What parsing yields besides the config itself: warnings the caller shows.
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Configs are a handful of lines; anything this large is not one, and
/// refusing it keeps a hostile repository from making the hook slow.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    parse(path, &read(path)?)
}

/// The config's bytes, refusing what cannot be a config (a directory, a
/// device, something huge) before reading it.
pub fn read(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let metadata = std::fs::metadata(path).map_err(|e| match std::fs::read_link(path) {
        Ok(target) if e.kind() == std::io::ErrorKind::NotFound => ConfigError::at(
            path,
            format!(
                "is a symbolic link to {}, which does not exist; fix or remove the link",
                shown(&target)
            ),
        ),
        _ => ConfigError::at(path, format!("cannot read: {e}")),
    })?;
    if !metadata.is_file() {
        return Err(ConfigError::at(
            path,
            "is not a regular file; remove it or replace it with a YAML file",
        ));
    }
    if metadata.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::at(
            path,
            format!(
                "is {} bytes; a pyve config is at most {MAX_CONFIG_BYTES} bytes",
                metadata.len()
            ),
        ));
    }
    std::fs::read(path).map_err(|e| ConfigError::at(path, format!("cannot read: {e}")))
}

pub fn parse(path: &Path, bytes: &[u8]) -> Result<Loaded, ConfigError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ConfigError {
            path: path.to_owned(),
            line: Some(line),
            column: None,
            message: "is not UTF-8 text; a pyve config is YAML".to_owned(),
        }
    })?;
    // An empty file (or one holding only comments) is a valid, all-default config.
    let config: Config = if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        Config::default()
    } else {
        let value: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).map_err(|e| yaml_error(path, &e))?;
        match value {
            serde_yaml_ng::Value::Null => Config::default(),
            serde_yaml_ng::Value::Mapping(_) => {
                // Deserializing from the text (not the Value) keeps line numbers.
                serde_yaml_ng::from_str(text).map_err(|e| yaml_error(path, &e))?
            }
            _ => {
                return Err(ConfigError {
                    path: path.to_owned(),
                    line: Some(1),
                    column: None,
                    message: "must be a YAML mapping of keys (for example `env_name: myproject`)"
                        .to_owned(),
                })
            }
        }
    };
    validate(path, text, &config)?;
    let mut warnings: Vec<String> = config
        .unknown
        .keys()
        .map(|key| format!("{}: unknown key `{}` ignored", shown(path), one_line(key)))
        .collect();
    if config.is_named() {
        // These describe the single environment of a project without
        // `environments:`; each named one has its own entry.
        let unused = [
            ("env_name", config.env_name.is_some()),
            ("venv.directory", config.venv.directory.is_some()),
            ("micromamba.env_name", config.micromamba.env_name.is_some()),
        ];
        for (key, set) in unused {
            if set {
                warnings.push(format!(
                    "{}: `{key}` is not used once `environments` is set; remove it \
                     (each environment is named by its key under `environments`)",
                    shown(path)
                ));
            }
        }
    }
    Ok(Loaded { config, warnings })
}

fn yaml_error(path: &Path, error: &serde_yaml_ng::Error) -> ConfigError {
    let location = error.location();
    // serde names the Rust type it wanted; the user wrote YAML.
    let mut message = error.to_string();
    for section in [
        "PythonSection",
        "VenvSection",
        "MicromambaSection",
        "PromptSection",
        "EnvEntry",
    ] {
        message = message.replace(
            &format!("expected struct {section}"),
            "expected a mapping of keys indented below it",
        );
    }
    // The position is printed in front; later positions ("while parsing a
    // flow sequence at line 3 column 9") are context worth keeping.
    if let Some(location) = &location {
        let own = format!(" at line {} column {}", location.line(), location.column());
        message = message.replacen(&own, "", 1);
    }
    ConfigError {
        path: path.to_owned(),
        line: location.as_ref().map(|l| l.line()),
        column: location.as_ref().map(|l| l.column()),
        message,
    }
}

fn validate(path: &Path, text: &str, config: &Config) -> Result<(), ConfigError> {
    if let Some(backend) = &config.backend {
        if backend != "venv" && backend != "micromamba" {
            return Err(ConfigError::at_key(
                path,
                text,
                None,
                "backend",
                format!(
                    "backend: `{}` is not supported; use `venv` or `micromamba`",
                    one_line(backend)
                ),
            ));
        }
    }
    if let Some(name) = &config.micromamba.env_name {
        crate::backend::micromamba::check_env_name(name).map_err(|m| {
            ConfigError::at_key(
                path,
                text,
                Some("micromamba"),
                "env_name",
                format!("micromamba.env_name: {m}"),
            )
        })?;
    }
    if let Some(name) = &config.env_name {
        if name.is_empty() {
            return Err(ConfigError::at_key(
                path,
                text,
                None,
                "env_name",
                "env_name: must not be empty; remove the key to use the project directory's name",
            ));
        }
    }
    if let Some(dir) = &config.venv.directory {
        if dir.as_os_str().is_empty() {
            return Err(ConfigError::at_key(
                path,
                text,
                Some("venv"),
                "directory",
                "venv.directory: must not be empty; remove the key to use `.venv`",
            ));
        }
    }
    match &config.python.version {
        Some(VersionValue::Number(number)) => {
            // As written, when the line can be found: the number has lost
            // `3.10`'s trailing zero.
            let written = key_line(text, Some("python"), "version")
                .and_then(|n| text.lines().nth(n - 1))
                .and_then(|line| line.split_once(':'))
                .map(|(_, value)| {
                    value
                        .split('#')
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_owned()
                })
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| number.to_string());
            return Err(ConfigError::at_key(
                path,
                text,
                Some("python"),
                "version",
                format!(
                    "python.version: write the version in quotes, `version: \"{written}\"`; \
                     unquoted, YAML reads a number (3.10 would be 3.1)"
                ),
            ));
        }
        Some(VersionValue::Text(version)) => {
            crate::python::VersionRequest::parse(version).map_err(|m| {
                ConfigError::at_key(
                    path,
                    text,
                    Some("python"),
                    "version",
                    format!("python.version: {m}"),
                )
            })?;
        }
        Some(VersionValue::Other(_)) => {
            return Err(ConfigError::at_key(
                path,
                text,
                Some("python"),
                "version",
                "python.version: must be a version in quotes, for example `version: \"3.12\"`",
            ))
        }
        None => {}
    }
    if let Some(files) = &config.requirements {
        if files.iter().any(|f| f.as_os_str().is_empty()) {
            return Err(ConfigError::at_key(
                path,
                text,
                None,
                "requirements",
                "requirements: an entry is empty; list requirements files such as `requirements.txt`",
            ));
        }
    }
    check_prompt_format(&config.prompt.format)
        .map_err(|m| ConfigError::at_key(path, text, Some("prompt"), "format", m))?;
    validate_environments(path, text, config)
}

/// The line of `key` inside environment `name`'s entry, else the entry's.
fn entry_line(text: &str, name: &str, key: Option<&str>) -> Option<usize> {
    let start = key_line(text, Some("environments"), name)?;
    let Some(key) = key else {
        return Some(start);
    };
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let own = indent(lines[start - 1]);
    for (index, line) in lines.iter().enumerate().skip(start) {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if indent(line) <= own {
            break;
        }
        if is_key_line(line.trim_start(), key) {
            return Some(index + 1);
        }
    }
    Some(start)
}

fn validate_environments(path: &Path, text: &str, config: &Config) -> Result<(), ConfigError> {
    let at = |name: &str, key: Option<&str>, message: String| ConfigError {
        line: entry_line(text, name, key),
        ..ConfigError::at(path, message)
    };
    let mut directories: Vec<(&str, PathBuf)> = Vec::new();
    for (name, entry) in &config.environments.0 {
        let shown_name = one_line(name);
        crate::backend::micromamba::check_env_name(name)
            .map_err(|m| at(name, None, format!("environments: the name {m}")))?;
        let backend = entry
            .backend
            .as_deref()
            .or(config.backend.as_deref())
            .unwrap_or("venv");
        if backend != "venv" && backend != "micromamba" {
            return Err(at(
                name,
                Some("backend"),
                format!(
                    "environments.{shown_name}.backend: `{}` is not supported; use `venv` or `micromamba`",
                    one_line(backend)
                ),
            ));
        }
        match &entry.python_version {
            Some(VersionValue::Text(version)) => {
                crate::python::VersionRequest::parse(version).map_err(|m| {
                    at(
                        name,
                        Some("python_version"),
                        format!("environments.{shown_name}.python_version: {m}"),
                    )
                })?;
            }
            Some(_) => {
                return Err(at(
                    name,
                    Some("python_version"),
                    format!(
                        "environments.{shown_name}.python_version: write the version in quotes, \
                         for example `python_version: \"3.12\"`"
                    ),
                ))
            }
            None => {}
        }
        let empty = |p: &Option<PathBuf>| p.as_ref().is_some_and(|p| p.as_os_str().is_empty());
        for (key, value) in [
            ("env_file", &entry.env_file),
            ("lock_file", &entry.lock_file),
            ("directory", &entry.directory),
        ] {
            if empty(value) {
                return Err(at(
                    name,
                    Some(key),
                    format!("environments.{shown_name}.{key}: must not be empty; remove the key for the default"),
                ));
            }
        }
        if let Some(files) = &entry.requirements {
            if files.files().iter().any(|f| f.as_os_str().is_empty()) {
                return Err(at(
                    name,
                    Some("requirements"),
                    format!("environments.{shown_name}.requirements: an entry is empty"),
                ));
            }
        }
        let wrong = match backend {
            "venv" => [
                ("env_file", entry.env_file.is_some()),
                ("lock_file", entry.lock_file.is_some()),
            ]
            .into_iter()
            .find(|(_, set)| *set)
            .map(|(key, _)| (key, "a micromamba environment's conda spec")),
            _ => entry.directory.is_some().then_some((
                "directory",
                "a venv's place; a conda environment lives in .pyve/envs/<name>",
            )),
        };
        if let Some((key, meaning)) = wrong {
            return Err(at(
                name,
                Some(key),
                format!(
                    "environments.{shown_name}.{key}: is {meaning}, and this is a {backend} environment; remove it or change the backend"
                ),
            ));
        }
        let directory = entry
            .directory
            .clone()
            .unwrap_or_else(|| Path::new(".pyve/envs").join(name));
        if let Some((other, _)) = directories.iter().find(|(_, d)| *d == directory) {
            return Err(at(
                name,
                Some("directory"),
                format!(
                    "environments.{shown_name}: uses the same directory as `{other}` ({}); give it its own `directory`",
                    shown(&directory)
                ),
            ));
        }
        directories.push((name, directory));
    }
    if let Some(default) = &config.default_env {
        if config.environments.get(default).is_none() {
            let known = config.environments.names();
            return Err(ConfigError::at_key(
                path,
                text,
                None,
                "default_env",
                if known.is_empty() {
                    format!(
                        "default_env: `{}` names an environment, and `environments` defines none; \
                         remove the key, or add environments with `pyve init --env NAME`",
                        one_line(default)
                    )
                } else {
                    format!(
                        "default_env: `{}` is not one of the environments ({}); use one of them",
                        one_line(default),
                        known.join(", ")
                    )
                },
            ));
        }
    }
    Ok(())
}

/// Only `{backend}` and `{env_name}` are placeholders; any other `{word}` is
/// almost certainly a typo, so it is an error rather than literal text.
fn check_prompt_format(format: &str) -> Result<(), String> {
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let word = &after[..close];
                let is_word = !word.is_empty()
                    && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if is_word && word != "backend" && word != "env_name" {
                    return Err(format!(
                        "prompt.format: unknown placeholder `{{{word}}}`; use `{{backend}}` or `{{env_name}}`"
                    ));
                }
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    Ok(())
}

/// Renders the prompt prefix. Works on bytes because a project's directory
/// name, and so the environment name, need not be UTF-8.
pub fn render_prompt(format: &str, backend: &str, env_name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(format.len() + env_name.len());
    let mut rest = format.as_bytes();
    while !rest.is_empty() {
        if rest.starts_with(b"{backend}") {
            out.extend_from_slice(backend.as_bytes());
            rest = &rest[b"{backend}".len()..];
        } else if rest.starts_with(b"{env_name}") {
            out.extend_from_slice(env_name);
            rest = &rest[b"{env_name}".len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// A YAML double-quoted scalar holding `text` exactly.
pub fn yaml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_key_line(line: &str, key: &str) -> bool {
    line.strip_prefix(key).is_some_and(|rest| {
        rest.starts_with(':') && (rest.len() == 1 || rest[1..].starts_with([' ', '\t', '\n', '\r']))
    })
}

/// Whether a line's value continues on the lines below (`key:` alone).
fn value_is_below(line: &str, key: &str) -> bool {
    let rest = line.trim_start()[key.len() + 1..].trim();
    rest.is_empty() || rest.starts_with('#')
}

/// `text` with `key` (inside `section` when given) set to `value`, a YAML
/// scalar, changing only that line (or adding one), so comments and the
/// user's layout survive. None when the layout is beyond this simple editor
/// (flow mappings, multi-line values); the caller re-parses the result too.
pub fn set_value(text: &str, section: Option<&str>, key: &str, value: &str) -> Option<String> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    if let Some(last) = lines.last_mut() {
        if !last.ends_with('\n') {
            last.push('\n');
        }
    }
    let top = |line: &str| !line.starts_with([' ', '\t', '#', '\n', '\r']);
    match section {
        None => match lines.iter().position(|l| is_key_line(l, key)) {
            Some(i) => {
                if value_is_below(&lines[i], key) {
                    return None;
                }
                lines[i] = format!("{key}: {value}\n");
            }
            None => lines.push(format!("{key}: {value}\n")),
        },
        Some(section) => match lines.iter().position(|l| is_key_line(l, section)) {
            Some(i) => {
                if !value_is_below(&lines[i], section) {
                    return None;
                }
                let end = (i + 1..lines.len())
                    .find(|&j| top(&lines[j]))
                    .unwrap_or(lines.len());
                let child = (i + 1..end).find(|&j| {
                    let trimmed = lines[j].trim_start();
                    is_key_line(trimmed, key)
                });
                match child {
                    Some(j) => {
                        let indent = &lines[j][..lines[j].len() - lines[j].trim_start().len()];
                        if value_is_below(&lines[j], key) {
                            return None;
                        }
                        lines[j] = format!("{indent}{key}: {value}\n");
                    }
                    None => {
                        let indent = (i + 1..end)
                            .map(|j| &lines[j])
                            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                            .map(|l| l[..l.len() - l.trim_start().len()].to_owned())
                            .unwrap_or_else(|| "  ".to_owned());
                        lines.insert(i + 1, format!("{indent}{key}: {value}\n"));
                    }
                }
            }
            None => {
                lines.push(format!("{section}:\n"));
                lines.push(format!("  {key}: {value}\n"));
            }
        },
    }
    Some(lines.concat())
}

/// `text` with an entry for environment `name` added under `environments:`
/// (created at the end when missing), holding `fields` as `key: value`
/// lines. None when the layout is beyond this simple editor.
pub fn add_environment(text: &str, name: &str, fields: &[(&str, String)]) -> Option<String> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    if let Some(last) = lines.last_mut() {
        if !last.ends_with('\n') {
            last.push('\n');
        }
    }
    let entry = |indent: &str| {
        let mut block = if fields.is_empty() {
            format!("{indent}{name}: {{}}\n")
        } else {
            format!("{indent}{name}:\n")
        };
        for (key, value) in fields {
            block.push_str(&format!("{indent}{indent}{key}: {value}\n"));
        }
        block
    };
    let top = |line: &str| !line.starts_with([' ', '\t', '#', '\n', '\r']);
    match lines.iter().position(|l| is_key_line(l, "environments")) {
        None => {
            lines.push("environments:\n".to_owned());
            lines.push(entry("  "));
        }
        Some(i) => {
            if !value_is_below(&lines[i], "environments") {
                let value = lines[i]["environments:".len()..].trim();
                if value.split('#').next().unwrap_or_default().trim() != "{}" {
                    return None;
                }
                lines[i] = "environments:\n".to_owned();
            }
            let end = (i + 1..lines.len())
                .find(|&j| top(&lines[j]))
                .unwrap_or(lines.len());
            let children: Vec<usize> = (i + 1..end)
                .filter(|&j| !lines[j].trim().is_empty() && !lines[j].trim_start().starts_with('#'))
                .collect();
            let indent = children
                .first()
                .map(|&j| lines[j][..lines[j].len() - lines[j].trim_start().len()].to_owned())
                .unwrap_or_else(|| "  ".to_owned());
            let after = children.last().map_or(i + 1, |&j| j + 1);
            lines.insert(after, entry(&indent));
        }
    }
    Some(lines.concat())
}

/// `text` without the scalar `key` (inside `section` when given); a section
/// left empty goes too. Unchanged when the key is absent; None when its
/// value spans lines.
pub fn remove_value(text: &str, section: Option<&str>, key: &str) -> Option<String> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    let top = |line: &str| !line.starts_with([' ', '\t', '#', '\n', '\r']);
    match section {
        None => {
            if let Some(i) = lines.iter().position(|l| is_key_line(l, key)) {
                if value_is_below(&lines[i], key) {
                    return None;
                }
                lines.remove(i);
            }
        }
        Some(section) => {
            let Some(i) = lines.iter().position(|l| is_key_line(l, section)) else {
                return Some(text.to_owned());
            };
            if !value_is_below(&lines[i], section) {
                return None;
            }
            let end = (i + 1..lines.len())
                .find(|&j| top(&lines[j]))
                .unwrap_or(lines.len());
            let Some(j) = (i + 1..end).find(|&j| is_key_line(lines[j].trim_start(), key)) else {
                return Some(text.to_owned());
            };
            if value_is_below(&lines[j], key) {
                return None;
            }
            lines.remove(j);
            let left = (i + 1..end - 1)
                .any(|j| !lines[j].trim().is_empty() && !lines[j].trim_start().starts_with('#'));
            if !left {
                lines.remove(i);
            }
        }
    }
    Some(lines.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_keep_their_order_and_are_checked() {
        let text = "default_env: prod\nenvironments:\n  prod:\n    requirements: r.txt\n  dev: {}\n  gpu:\n    backend: micromamba\n    env_file: gpu.yml\n";
        let loaded = parse_str(text).unwrap();
        assert_eq!(loaded.config.environments.names(), ["prod", "dev", "gpu"]);
        let prod = loaded.config.environments.get("prod").unwrap();
        assert_eq!(
            prod.requirements.as_ref().unwrap().files(),
            [PathBuf::from("r.txt")]
        );
        let err = parse_str("default_env: x\nenvironments:\n  dev: {}\n")
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("not one of the environments (dev)"),
            "{err}"
        );
        assert_eq!(err.line, Some(1));
        let err = parse_str("environments:\n  dev:\n    env_file: e.yml\n")
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("environments.dev.env_file"),
            "{err}"
        );
        assert_eq!(err.line, Some(3), "{err}");
        let err = parse_str("environments:\n  Dev: {}\n").err().unwrap();
        assert!(err.to_string().contains("use `dev`"), "{err}");
        assert_eq!(err.line, Some(2), "{err}");
        let err = parse_str("environments:\n  a: {}\n  a: {}\n")
            .err()
            .unwrap();
        assert!(err.to_string().contains("duplicate entry"), "{err}");
        let err = parse_str("environments:\n  a:\n    pyhton_version: '3.1'\n")
            .err()
            .unwrap();
        assert!(err.to_string().contains("pyhton_version"), "{err}");
        let loaded = parse_str("env_name: old\nenvironments:\n  a: {}\n").unwrap();
        assert!(
            loaded.warnings[0].contains("`env_name` is not used"),
            "{:?}",
            loaded.warnings
        );
    }

    #[test]
    fn environments_are_added_and_keys_removed_in_place() {
        let out = add_environment("backend: venv\n", "dev", &[]).unwrap();
        assert_eq!(out, "backend: venv\nenvironments:\n  dev: {}\n");
        let out = add_environment(&out, "gpu", &[("backend", "micromamba".into())]).unwrap();
        assert_eq!(
            out,
            "backend: venv\nenvironments:\n  dev: {}\n  gpu:\n    backend: micromamba\n"
        );
        let nested = "environments:\n    a:\n        backend: venv\n# end\nprompt:\n  show: true\n";
        let out = add_environment(nested, "b", &[]).unwrap();
        assert_eq!(
            out,
            "environments:\n    a:\n        backend: venv\n    b: {}\n# end\nprompt:\n  show: true\n"
        );
        assert!(parse_str(&out)
            .unwrap()
            .config
            .environments
            .get("b")
            .is_some());
        assert!(add_environment("environments: {a: {}}\n", "b", &[]).is_none());
        let text =
            "env_name: x\nvenv:\n  directory: .v\n  creator: uv\nmicromamba:\n  env_name: y\n";
        let out = remove_value(text, None, "env_name").unwrap();
        let out = remove_value(&out, Some("venv"), "directory").unwrap();
        let out = remove_value(&out, Some("micromamba"), "env_name").unwrap();
        assert_eq!(out, "venv:\n  creator: uv\n");
        assert_eq!(remove_value(&out, None, "absent").unwrap(), out);
    }

    fn parse_str(s: &str) -> Result<Loaded, ConfigError> {
        parse(Path::new("/p/.pyve/config"), s.as_bytes())
    }

    #[test]
    fn empty_and_comment_only_files_are_defaults() {
        for text in ["", "\n\n", "# nothing\n", "~\n"] {
            let loaded = parse_str(text).unwrap();
            assert!(loaded.config.prompt.show);
            assert_eq!(loaded.config.prompt.format, DEFAULT_PROMPT_FORMAT);
        }
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let err = parse_str("env_name: x\nprompt:\n  show: maybe\n")
            .err()
            .unwrap();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.to_string().contains("show"), "{err}");
    }

    #[test]
    fn unknown_top_level_keys_warn() {
        let loaded = parse_str("colour: blue\n").unwrap();
        assert_eq!(loaded.warnings.len(), 1);
        assert!(loaded.warnings[0].contains("`colour`"));
    }

    #[test]
    fn unknown_nested_keys_are_errors() {
        let err = parse_str("prompt:\n  shw: false\n").err().unwrap();
        assert!(err.to_string().contains("shw"), "{err}");
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        assert!(parse_str("prompt:\n  format: '({envname})'\n").is_err());
        assert!(parse_str("prompt:\n  format: '[{env_name}] {}'\n").is_ok());
    }

    #[test]
    fn non_mapping_and_non_utf8_are_errors() {
        assert!(parse_str("- a\n- b\n").is_err());
        let err = parse(Path::new("c"), b"env_name: x\n\xff\n").err().unwrap();
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn python_version_must_be_quoted_text() {
        let err = parse_str("python:\n  version: 3.10\n").err().unwrap();
        assert!(err.to_string().contains("`version: \"3.10\"`"), "{err}");
        assert_eq!(err.line, Some(2));
        let loaded = parse_str("python:\n  version: '3.10'\n").unwrap();
        assert_eq!(loaded.config.python.request().unwrap().to_string(), "3.10");
        assert!(parse_str("python:\n  version: 'three'\n").is_err());
    }

    #[test]
    fn creator_is_uv_or_stdlib() {
        let loaded = parse_str("venv:\n  creator: stdlib\n").unwrap();
        assert_eq!(loaded.config.venv.creator, Some(Creator::Stdlib));
        let err = parse_str("venv:\n  creator: conda\n").err().unwrap();
        assert!(err.to_string().contains("creator"), "{err}");
    }

    #[test]
    fn set_value_changes_one_line_and_keeps_comments() {
        let text = "# mine\nbackend: venv  # why\nprompt:\n    show: false\n";
        let out = set_value(text, None, "env_name", &yaml_string("a \"b\"")).unwrap();
        assert_eq!(out, format!("{text}env_name: \"a \\\"b\\\"\"\n"));
        assert_eq!(
            parse_str(&out).unwrap().config.env_name.as_deref(),
            Some("a \"b\"")
        );
        let out = set_value(text, None, "backend", "venv").unwrap();
        assert_eq!(out, "# mine\nbackend: venv\nprompt:\n    show: false\n");
        let out = set_value(text, Some("prompt"), "format", "\"[x]\"").unwrap();
        assert_eq!(
            out,
            "# mine\nbackend: venv  # why\nprompt:\n    format: \"[x]\"\n    show: false\n"
        );
        let out = set_value(text, Some("python"), "version", "\"3.12\"").unwrap();
        assert!(out.ends_with("python:\n  version: \"3.12\"\n"), "{out}");
        let out = set_value(&out, Some("python"), "version", "\"3.11\"").unwrap();
        assert!(out.ends_with("python:\n  version: \"3.11\"\n"), "{out}");
        assert!(set_value("python: {version: '3.1'}\n", Some("python"), "version", "x").is_none());
    }

    #[test]
    fn a_newline_in_the_path_stays_on_one_line() {
        let err = ConfigError::at(Path::new("/p/a\nb/.venv"), "bad");
        assert_eq!(err.to_string(), "/p/a\\nb/.venv: bad");
    }

    #[test]
    fn renders_placeholders_bytewise() {
        assert_eq!(
            render_prompt("({backend}:{env_name})", "venv", b"a\xffb"),
            b"(venv:a\xffb)".to_vec()
        );
    }

    /// YAML-shaped text from the pieces configs are made of, plus noise.
    fn yamlish() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just("backend: ".to_owned()),
            Just("python:\n  version: ".to_owned()),
            Just("venv:\n  directory: ".to_owned()),
            Just("prompt:\n  format: ".to_owned()),
            Just("micromamba:\n  env_name: ".to_owned()),
            Just("requirements: [".to_owned()),
            Just("\n".to_owned()),
            Just("  ".to_owned()),
            Just("- ".to_owned()),
            Just("{".to_owned()),
            Just("\"".to_owned()),
            Just("&a *a !!binary ".to_owned()),
            Just("3.10".to_owned()),
            Just("{env_name}".to_owned()),
            "[ -~]{0,8}",
            any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #[test]
        fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = parse(Path::new("/p/.pyve/config"), &bytes);
        }

        #[test]
        fn parsing_yaml_shaped_text_never_panics(text in yamlish()) {
            if let Err(error) = parse_str(&text) {
                // Every error is one line, however odd the input.
                proptest::prop_assert!(!error.to_string().contains('\n'), "{}", error);
            }
        }
    }
}
