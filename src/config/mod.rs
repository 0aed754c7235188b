//! `.pyve/config`: the YAML file that makes a directory a pyve project.
//! This module is its schema; `load` reads and parses it, `validate`
//! checks what YAML accepted and pyve does not (once, at load), `edit`
//! changes single lines in place for `pyve init`, `prompt` renders the
//! prompt prefix, and `names` holds the rules for environment names.
//!
//! Parsing happens only when the engine sees that the file changed, so the
//! prompt path never pays for serde.

mod edit;
mod lines;
mod load;
pub mod names;
mod prompt;
pub mod source;
pub mod user;
mod validate;
mod variables;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{user, Error};
use crate::python::VersionRequest;
use crate::text::{one_line, shown};

pub use edit::{add_environment, remove_value, set_entry_value, set_value, yaml_string};
pub use load::{load, parse, read};
pub use prompt::{render as render_prompt, DEFAULT_FORMAT as DEFAULT_PROMPT_FORMAT};
pub use source::Source;
pub use user::UserConfig;
pub use validate::bad_channel;
pub use variables::{Dotenv, EnvMap};

/// The environment backends a config can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Venv,
    Micromamba,
}

impl BackendKind {
    pub const ALL: [BackendKind; 2] = [BackendKind::Venv, BackendKind::Micromamba];

    pub fn parse(name: &str) -> Option<BackendKind> {
        BackendKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }

    /// The name in `.pyve/config`, in the prompt and in `PYVE_BACKEND`.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Venv => "venv",
            BackendKind::Micromamba => "micromamba",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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
    /// Where the dependencies are declared (`uv.lock`, `pyproject.toml`,
    /// `requirements`, …, or `none`); detected when absent.
    pub dependencies: Option<String>,
    /// Dependency groups (PEP 735) installed besides a source's defaults.
    pub groups: Option<Vec<String>>,
    /// Whether `pyve run` syncs a stale environment first (default yes).
    pub sync_on_run: Option<bool>,
    /// Before `dependencies:`: `false` installs nothing, `true` is the
    /// default now.
    pub install_deps: Option<bool>,
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
    /// `env:`: variables the project sets, in the order written.
    pub env: EnvMap,
    /// `dotenv:`: the dotenv files whose variables the project sets.
    #[serde(deserialize_with = "variables::present")]
    pub dotenv: Option<Dotenv>,
    /// Where these settings were read from (`source::load_from` says).
    #[serde(skip)]
    pub source: Source,
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
        let what = "a mapping of environment names to their settings";
        ordered_map(deserializer, what, |name| {
            format!("environment `{}` is defined twice", one_line(name))
        })
        .map(Environments)
    }
}

/// A mapping read in the order it is written (`environments:`, `env:`),
/// a name given twice refused with `twice`'s words; nothing at all, or a
/// name with nothing after it, is the value's default.
pub(crate) fn ordered_map<'de, D, V>(
    deserializer: D,
    expecting: &'static str,
    twice: fn(&str) -> String,
) -> Result<Vec<(String, V)>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de> + Default,
{
    struct Visit<V> {
        expecting: &'static str,
        twice: fn(&str) -> String,
        values: std::marker::PhantomData<V>,
    }
    impl<'de, V: Deserialize<'de> + Default> serde::de::Visitor<'de> for Visit<V> {
        type Value = Vec<(String, V)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut entries: Vec<(String, V)> = Vec::new();
            while let Some((name, value)) = map.next_entry::<String, Option<V>>()? {
                if entries.iter().any(|(n, _)| *n == name) {
                    return Err(serde::de::Error::custom((self.twice)(&name)));
                }
                entries.push((name, value.unwrap_or_default()));
            }
            Ok(entries)
        }
    }
    deserializer.deserialize_any(Visit {
        expecting,
        twice,
        values: std::marker::PhantomData,
    })
}

/// One named environment's settings; what it leaves out comes from the
/// project-wide keys (`backend`, `python.version`, `requirements`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvEntry {
    pub backend: Option<String>,
    pub python_version: Option<VersionValue>,
    pub requirements: Option<Requirements>,
    /// venv: where its dependencies are declared, else the project's.
    pub dependencies: Option<String>,
    /// venv: its dependency groups, else the project's.
    pub groups: Option<Vec<String>>,
    /// micromamba: the environment file (default `environment.yml`).
    pub env_file: Option<PathBuf>,
    /// micromamba: channels used instead of the environment file's, else
    /// `micromamba.channels`.
    pub channels: Option<Vec<String>>,
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
    /// The Python version the entry asks for, else the project's.
    pub fn python_request(&self, config: &Config) -> Option<VersionRequest> {
        VersionValue::request(self.python_version.as_ref()).or_else(|| config.python.request())
    }

    /// The entry's backend, else the project's.
    pub fn backend(&self, config: &Config) -> BackendKind {
        self.backend
            .as_deref()
            .and_then(BackendKind::parse)
            .unwrap_or_else(|| config.backend())
    }
}

impl Config {
    /// What the config says about dependencies: `dependencies:`, or the
    /// older `install_deps: false`; None: detect.
    pub fn dependencies(&self, entry: Option<&EnvEntry>) -> Option<crate::deps::Choice> {
        let named = entry.and_then(|e| e.dependencies.as_deref());
        match named.or(self.dependencies.as_deref()) {
            Some(name) => crate::deps::Choice::parse(name),
            None if self.install_deps == Some(false) => Some(crate::deps::Choice::Nothing),
            None => None,
        }
    }

    /// The variables `env:` sets, as templates (`crate::variables`).
    pub fn env_templates(&self) -> Vec<crate::variables::Variable> {
        variables::templates(&self.env)
    }

    /// The dotenv files `dotenv:` names, relative to the project.
    pub fn dotenv_files(&self) -> Vec<PathBuf> {
        variables::dotenv_files(self.dotenv.as_ref())
    }

    /// The prompt prefix's format: the project's, else the default.
    pub fn prompt_format(&self) -> &str {
        self.prompt
            .format
            .as_deref()
            .unwrap_or(DEFAULT_PROMPT_FORMAT)
    }

    /// Whether the prefix is shown: the project's choice, else yes.
    pub fn prompt_show(&self) -> bool {
        self.prompt.show != Some(false)
    }

    /// Fills what the project leaves out with the user's defaults
    /// (`$XDG_CONFIG_HOME/pyve/config`): the prompt's format and whether it
    /// is shown.
    pub fn with_user_defaults(mut self, user: Option<&UserConfig>) -> Config {
        if let Some(user) = user {
            if self.prompt.format.is_none() {
                self.prompt.format = user.prompt.format.clone();
            }
            if self.prompt.show.is_none() {
                self.prompt.show = user.prompt.show;
            }
        }
        self
    }

    /// Whether the project names its environments (`environments:`).
    pub fn is_named(&self) -> bool {
        !self.environments.is_empty()
    }

    /// The project's backend (`venv` unless the config says otherwise;
    /// validation has refused names it does not know).
    pub fn backend(&self) -> BackendKind {
        self.backend
            .as_deref()
            .and_then(BackendKind::parse)
            .unwrap_or(BackendKind::Venv)
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
    /// Whether an environment uv builds gets pip (default yes; the
    /// standard library's venv always has it).
    pub pip: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MicromambaSection {
    /// The conda environment's name: `.pyve/envs/<env_name>`.
    pub env_name: Option<String>,
    /// Channels used instead of the environment file's (and by `pyve lock`).
    pub channels: Option<Vec<String>>,
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

/// `prompt:`; what it leaves out comes from the user's config, else the
/// defaults (`Config::prompt_format`, `Config::prompt_show`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromptSection {
    pub show: Option<bool>,
    pub format: Option<String>,
}

impl PythonSection {
    /// The requested version, once `validate` has admitted it.
    pub fn request(&self) -> Option<VersionRequest> {
        VersionValue::request(self.version.as_ref())
    }
}

impl VersionValue {
    /// The version a value asks for, once `validate` has admitted it.
    fn request(value: Option<&VersionValue>) -> Option<VersionRequest> {
        match value {
            Some(VersionValue::Text(text)) => VersionRequest::parse(text).ok(),
            _ => None,
        }
    }
}

/// A config problem: where (the file, and the line when known), what, and
/// the fix when there is one to give.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

impl ConfigError {
    /// A problem with the file as a whole.
    pub fn at(path: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_owned(),
            line: None,
            column: None,
            message: message.into(),
            hint: None,
        }
    }

    /// A problem with the value of `key` (in `section`), at its line.
    fn at_key(
        path: &Path,
        text: &str,
        section: Option<&str>,
        key: &str,
        message: impl Into<String>,
    ) -> Self {
        ConfigError {
            line: lines::key_line(text, section, key),
            ..ConfigError::at(path, message)
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `path:line:column: message`, without the fix.
    pub fn located(&self) -> String {
        let mut out = shown(&self.path);
        if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
            if let Some(column) = self.column {
                out.push_str(&format!(":{column}"));
            }
        }
        out.push_str(": ");
        out.push_str(&self.message);
        out
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.located())?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Error {
        let located = user(error.located());
        match error.hint {
            Some(hint) => located.with_hint(hint),
            None => located,
        }
    }
}

#[cfg(test)]
mod tests;
