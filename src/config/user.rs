//! The user's configuration, `$XDG_CONFIG_HOME/pyve/config`
//! (`~/.config/pyve/config`): the same YAML, read and checked by the same
//! rules as a project's `.pyve/config` (bounded, yours and not writable by
//! others, errors with the line, unknown keys warned), with defaults for
//! every project: trusted directories, zero-config projects, the prompt,
//! and what `pyve init` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::lines::key_line;
use super::load::{read, yaml_error, yaml_mapping};
use super::{prompt, BackendKind, ConfigError};
use crate::files::owner;
use crate::text::{one_line, shown};
use crate::vars::Vars;

/// The user's defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UserConfig {
    /// Directories whose projects are approved without `pyve allow` (as
    /// direnv's `[whitelist] prefix`), honoured only for directories this
    /// user owns and nobody else can write.
    pub trusted_paths: Vec<PathBuf>,
    /// Whether a directory with `pyproject.toml` (or `requirements.txt`)
    /// and a `.venv` built here is a project without `.pyve/config`
    /// (default yes).
    pub zero_config: Option<bool>,
    pub prompt: super::PromptSection,
    pub init: InitDefaults,
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_yaml_ng::Value>,
}

/// What `pyve init` does when neither its flags nor the project say.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InitDefaults {
    /// `venv`, `micromamba` or `auto`.
    pub backend: Option<String>,
    /// Whether the project's declared dependencies are installed.
    pub dependencies: Option<bool>,
}

/// The user's config as loaded: where from, and warnings to show.
#[derive(Debug)]
pub struct User {
    pub path: PathBuf,
    pub config: UserConfig,
    pub warnings: Vec<String>,
}

impl UserConfig {
    /// Whether zero-config projects are recognised.
    pub fn zero_config(&self) -> bool {
        self.zero_config != Some(false)
    }

    /// `init.backend` as a backend; None for `auto` or nothing.
    pub fn init_backend(&self) -> Option<BackendKind> {
        self.init.backend.as_deref().and_then(BackendKind::parse)
    }
}

/// Where the user's config is: `$XDG_CONFIG_HOME/pyve/config`.
pub fn path(vars: &dyn Vars) -> Option<PathBuf> {
    crate::paths::config_home(vars).map(|dir| dir.join("pyve/config"))
}

/// The user's config; None when there is none. Read only by the commands
/// and by the engine when it decides something (never on its nothing-to-do
/// path).
pub fn load(vars: &dyn Vars) -> Result<Option<User>, ConfigError> {
    let Some(path) = path(vars) else {
        return Ok(None);
    };
    load_at(path, crate::paths::home(vars).as_deref())
}

/// The user's config at `path`, `~` in it meaning `home`.
pub fn load_at(path: PathBuf, home: Option<&Path>) -> Result<Option<User>, ConfigError> {
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(None);
    }
    if let Err(refused) = owner::check(&path) {
        return Err(ConfigError::at(&path, refused.message()).with_hint(refused.fix));
    }
    let bytes = read(&path)?;
    let (config, warnings) = parse(&path, &bytes, home)?;
    Ok(Some(User {
        path,
        config,
        warnings,
    }))
}

/// Parses and checks the user's config text.
pub fn parse(
    path: &Path,
    bytes: &[u8],
    home: Option<&Path>,
) -> Result<(UserConfig, Vec<String>), ConfigError> {
    let (text, value) = yaml_mapping(path, bytes)?;
    let mut config: UserConfig = match value {
        None => UserConfig::default(),
        Some(()) => serde_yaml_ng::from_str(text).map_err(|e| yaml_error(path, &e))?,
    };
    let at = |section: Option<&str>, key: &str, message: String, hint: &str| ConfigError {
        line: key_line(text, section, key),
        ..ConfigError::at(path, message).with_hint(hint)
    };
    if let Some(backend) = config.init.backend.as_deref() {
        if backend != "auto" && BackendKind::parse(backend).is_none() {
            return Err(at(
                Some("init"),
                "backend",
                format!("init.backend: `{}` is not supported", one_line(backend)),
                "use `venv`, `micromamba` or `auto`",
            ));
        }
    }
    if let Some(format) = config.prompt.format.as_deref() {
        if let Some(word) = prompt::unknown_placeholder(format) {
            return Err(at(
                Some("prompt"),
                "format",
                format!("prompt.format: unknown placeholder `{{{word}}}`"),
                "use `{backend}` or `{env_name}`",
            ));
        }
        if format.len() > prompt::MAX_FORMAT_BYTES {
            return Err(at(
                Some("prompt"),
                "format",
                format!(
                    "prompt.format: is {} bytes long, more than {}",
                    format.len(),
                    prompt::MAX_FORMAT_BYTES
                ),
                "shorten it: it is shown in every prompt and exported to every process",
            ));
        }
    }
    for entry in &mut config.trusted_paths {
        let expanded = match (entry.strip_prefix("~"), home) {
            (Ok(rest), Some(home)) => home.join(rest),
            _ => entry.clone(),
        };
        if !expanded.is_absolute() {
            return Err(at(
                None,
                "trusted_paths",
                format!("trusted_paths: `{}` is not an absolute path", shown(entry)),
                "write it from / or from ~ (your home)",
            ));
        }
        *entry = crate::paths::lexical(&expanded);
    }
    let warnings = config
        .unknown
        .keys()
        .map(|key| format!("{}: unknown key `{}` ignored", shown(path), one_line(key)))
        .collect();
    Ok((config, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<(UserConfig, Vec<String>), ConfigError> {
        parse(
            Path::new("/home/u/.config/pyve/config"),
            text.as_bytes(),
            Some(Path::new("/home/u")),
        )
    }

    #[test]
    fn every_key_is_read_and_checked() {
        let (config, warnings) = parsed(
            "trusted_paths: [~/work, /srv/code/../src]\nzero_config: false\nprompt:\n  format: \"[{env_name}]\"\ninit:\n  backend: micromamba\n  dependencies: false\nextra: 1\n",
        )
        .unwrap();
        assert_eq!(
            config.trusted_paths,
            [PathBuf::from("/home/u/work"), PathBuf::from("/srv/src")]
        );
        assert!(!config.zero_config());
        assert_eq!(config.prompt.format.as_deref(), Some("[{env_name}]"));
        assert_eq!(config.init_backend(), Some(BackendKind::Micromamba));
        assert_eq!(config.init.dependencies, Some(false));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(parsed("").unwrap().0.zero_config());
        for (text, line, says) in [
            ("trusted_paths: [work]\n", 1, "not an absolute path"),
            ("init:\n  backend: conda\n", 2, "init.backend"),
            ("prompt:\n  format: \"{nope}\"\n", 2, "unknown placeholder"),
            ("zero_config: maybe\n", 1, "expected a boolean"),
            ("init:\n  deps: 1\n", 2, "unknown field"),
        ] {
            let err = parsed(text).err().unwrap_or_else(|| panic!("{text}"));
            assert_eq!(err.line, Some(line), "{text}: {err}");
            assert!(err.to_string().contains(says), "{text}: {err}");
        }
    }
}
