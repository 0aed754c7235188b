//! What YAML accepted and pyve does not, checked once when the config is
//! loaded: every error names the key, its line when it can be found, and
//! the fix.

use std::path::{Path, PathBuf};

use super::lines::{is_key_line, key_line};
use super::{names, prompt, BackendKind, Config, ConfigError, EnvEntry, VersionValue};
use crate::error::Error;
use crate::layout;
use crate::python::VersionRequest;
use crate::text::{one_line, shown};

/// Where errors point: the file, and its text to find lines in.
struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Checker<'_> {
    /// An error at `key` (inside `section`).
    fn key(&self, section: Option<&str>, key: &str, message: String, hint: &str) -> ConfigError {
        ConfigError::at_key(self.path, self.text, section, key, message).with_hint(hint)
    }

    /// An error at `key` inside environment `name`'s entry (or the entry).
    fn entry(&self, name: &str, key: Option<&str>, message: String, hint: &str) -> ConfigError {
        ConfigError {
            line: entry_line(self.text, name, key),
            ..ConfigError::at(self.path, message).with_hint(hint)
        }
    }

    /// An error from a rule (names, versions), with the rule's own fix.
    fn rule(&self, at: Option<usize>, prefix: &str, error: Error) -> ConfigError {
        let located = ConfigError {
            line: at,
            ..ConfigError::at(self.path, format!("{prefix}{}", error.message()))
        };
        match error.hint() {
            Some(hint) => located.with_hint(hint),
            None => located,
        }
    }
}

pub(super) fn validate(path: &Path, text: &str, config: &Config) -> Result<(), ConfigError> {
    let check = Checker { path, text };
    if let Some(backend) = config.backend.as_deref() {
        if BackendKind::parse(backend).is_none() {
            return Err(check.key(
                None,
                "backend",
                format!("backend: `{}` is not supported", one_line(backend)),
                "use `venv` or `micromamba`",
            ));
        }
    }
    if let Some(name) = &config.micromamba.env_name {
        names::check(name).map_err(|e| {
            let at = key_line(text, Some("micromamba"), "env_name");
            check.rule(at, "micromamba.env_name: ", e)
        })?;
    }
    if let Some(bad) = bad_channel(config.micromamba.channels.as_deref()) {
        return Err(check.key(
            Some("micromamba"),
            "channels",
            format!("micromamba.channels: `{}` is not a channel", one_line(bad)),
            "list channel names or URLs, such as `conda-forge`",
        ));
    }
    if config.env_name.as_ref().is_some_and(String::is_empty) {
        return Err(check.key(
            None,
            "env_name",
            "env_name: must not be empty".to_owned(),
            "remove the key to use the project directory's name",
        ));
    }
    if config.venv.directory.as_ref().is_some_and(is_empty) {
        return Err(check.key(
            Some("venv"),
            "directory",
            "venv.directory: must not be empty".to_owned(),
            "remove the key to use `.venv`",
        ));
    }
    python_version(&check, config.python.version.as_ref())?;
    if let Some(files) = &config.requirements {
        if files.iter().any(is_empty) {
            return Err(check.key(
                None,
                "requirements",
                "requirements: an entry is empty".to_owned(),
                "list requirements files such as `requirements.txt`",
            ));
        }
    }
    dependencies(
        &check,
        None,
        config.dependencies.as_deref(),
        config.groups.as_deref(),
    )?;
    sizes(&check, config)?;
    if let Some(word) = prompt::unknown_placeholder(config.prompt_format()) {
        return Err(check.key(
            Some("prompt"),
            "format",
            format!("prompt.format: unknown placeholder `{{{word}}}`"),
            "use `{backend}` or `{env_name}`",
        ));
    }
    environments(&check, config)?;
    super::variables::check(path, text, &config.env, config.dotenv.as_ref())?;
    default_env(&check, config)
}

/// What is shown in every prompt and exported to every process stays
/// small: the name at most 255 characters, the prompt's format 1024 bytes.
fn sizes(check: &Checker, config: &Config) -> Result<(), ConfigError> {
    if let Some(name) = config.env_name.as_deref() {
        let length = name.chars().count();
        if length > names::MAX_LEN {
            return Err(check.key(
                None,
                "env_name",
                format!(
                    "env_name: is {length} characters long, more than {}",
                    names::MAX_LEN
                ),
                "shorten it: it is shown in every prompt and exported to every process",
            ));
        }
    }
    if config.prompt_format().len() > prompt::MAX_FORMAT_BYTES {
        return Err(check.key(
            Some("prompt"),
            "format",
            format!(
                "prompt.format: is {} bytes long, more than {}",
                config.prompt_format().len(),
                prompt::MAX_FORMAT_BYTES
            ),
            "shorten it: it is shown in every prompt and exported to every process",
        ));
    }
    Ok(())
}

fn is_empty(path: impl AsRef<Path>) -> bool {
    let path = path.as_ref();
    path.as_os_str().is_empty()
}

/// `python.version`: text that parses as a version; a number (what YAML
/// makes of `3.10` unquoted) is refused with the value as it was written.
fn python_version(check: &Checker, value: Option<&VersionValue>) -> Result<(), ConfigError> {
    let at = || key_line(check.text, Some("python"), "version");
    match value {
        Some(VersionValue::Number(number)) => {
            // As written, when the line can be found: the number has lost
            // `3.10`'s trailing zero.
            let written = at()
                .and_then(|n| check.text.lines().nth(n - 1))
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
            Err(check.key(
                Some("python"),
                "version",
                format!("python.version: write the version in quotes, `version: \"{written}\"`"),
                "unquoted, YAML reads a number (3.10 would be 3.1)",
            ))
        }
        Some(VersionValue::Text(version)) => VersionRequest::parse(version)
            .map(|_| ())
            .map_err(|e| check.rule(at(), "python.version: ", e)),
        Some(VersionValue::Other(_)) => Err(check.key(
            Some("python"),
            "version",
            "python.version: must be a version in quotes".to_owned(),
            "for example `version: \"3.12\"`",
        )),
        None => Ok(()),
    }
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

fn environments(check: &Checker, config: &Config) -> Result<(), ConfigError> {
    let mut directories: Vec<(&str, PathBuf)> = Vec::new();
    for (name, entry) in &config.environments.0 {
        environment(check, config, name, entry)?;
        let directory = entry
            .directory
            .clone()
            .unwrap_or_else(|| Path::new(layout::ENVS).join(name));
        if let Some((other, _)) = directories.iter().find(|(_, d)| *d == directory) {
            return Err(check.entry(
                name,
                Some("directory"),
                format!(
                    "environments.{}: uses the same directory as `{other}` ({})",
                    one_line(name),
                    shown(&directory)
                ),
                "give it its own `directory`",
            ));
        }
        directories.push((name, directory));
    }
    Ok(())
}

/// One entry under `environments:`.
fn environment(
    check: &Checker,
    config: &Config,
    name: &str,
    entry: &EnvEntry,
) -> Result<(), ConfigError> {
    let shown_name = one_line(name);
    let key = |key: &str| format!("environments.{shown_name}.{key}");
    names::check(name).map_err(|e| {
        check.rule(
            entry_line(check.text, name, None),
            "environments: the name ",
            e,
        )
    })?;
    if let Some(backend) = entry.backend.as_deref() {
        if BackendKind::parse(backend).is_none() {
            return Err(check.entry(
                name,
                Some("backend"),
                format!(
                    "{}: `{}` is not supported",
                    key("backend"),
                    one_line(backend)
                ),
                "use `venv` or `micromamba`",
            ));
        }
    }
    match &entry.python_version {
        Some(VersionValue::Text(version)) => {
            VersionRequest::parse(version).map_err(|e| {
                let at = entry_line(check.text, name, Some("python_version"));
                check.rule(at, &format!("{}: ", key("python_version")), e)
            })?;
        }
        Some(_) => {
            return Err(check.entry(
                name,
                Some("python_version"),
                format!("{}: must be a version in quotes", key("python_version")),
                "for example `python_version: \"3.12\"`",
            ))
        }
        None => {}
    }
    for (field, value) in [
        ("env_file", &entry.env_file),
        ("lock_file", &entry.lock_file),
        ("directory", &entry.directory),
    ] {
        if value.as_ref().is_some_and(is_empty) {
            return Err(check.entry(
                name,
                Some(field),
                format!("{}: must not be empty", key(field)),
                "remove the key for the default",
            ));
        }
    }
    if let Some(files) = &entry.requirements {
        if files.files().iter().any(is_empty) {
            return Err(check.entry(
                name,
                Some("requirements"),
                format!("{}: an entry is empty", key("requirements")),
                "list requirements files such as `requirements.txt`",
            ));
        }
    }
    dependencies(
        check,
        Some(name),
        entry.dependencies.as_deref(),
        entry.groups.as_deref(),
    )?;
    entry_channels(check, name, entry)?;
    keys_of_the_other_backend(check, config, name, entry)
}

fn entry_channels(check: &Checker, name: &str, entry: &EnvEntry) -> Result<(), ConfigError> {
    match bad_channel(entry.channels.as_deref()) {
        Some(bad) => Err(check.entry(
            name,
            Some("channels"),
            format!(
                "environments.{}.channels: `{}` is not a channel",
                one_line(name),
                one_line(bad)
            ),
            "list channel names or URLs, such as `conda-forge`",
        )),
        None => Ok(()),
    }
}

/// A channel that is not a name or URL: empty, or with spaces, quotes or
/// control characters.
pub fn bad_channel(channels: Option<&[String]>) -> Option<&str> {
    channels
        .into_iter()
        .flatten()
        .map(String::as_str)
        .find(|c| {
            c.is_empty()
                || c.chars()
                    .any(|ch| ch.is_whitespace() || ch.is_control() || "\"'\\`".contains(ch))
        })
}

/// `dependencies:` names a source pyve knows; `groups:` are names.
fn dependencies(
    check: &Checker,
    entry: Option<&str>,
    value: Option<&str>,
    groups: Option<&[String]>,
) -> Result<(), ConfigError> {
    let fail = |field: &str, message: String, fix: &str| match entry {
        Some(name) => check.entry(name, Some(field), message, fix),
        None => check.key(None, field, message, fix),
    };
    if let Some(value) = value.filter(|v| crate::deps::Choice::parse(v).is_none()) {
        return Err(fail(
            "dependencies",
            format!(
                "dependencies: unknown source `{}`",
                crate::text::one_line(value)
            ),
            "use one of uv.lock, pylock.toml, poetry.lock, pdm.lock, pyproject.toml, \
             requirements, none",
        ));
    }
    if let Some(bad) = groups.into_iter().flatten().find(|g| {
        g.is_empty()
            || !g
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    }) {
        return Err(fail(
            "groups",
            format!(
                "groups: `{}` is not a dependency group name",
                crate::text::one_line(bad)
            ),
            "list names from [dependency-groups] in pyproject.toml, such as `dev`",
        ));
    }
    Ok(())
}

/// A venv entry with a conda spec, or a conda entry with a directory.
fn keys_of_the_other_backend(
    check: &Checker,
    config: &Config,
    name: &str,
    entry: &EnvEntry,
) -> Result<(), ConfigError> {
    let backend = entry.backend(config);
    let wrong = match backend {
        BackendKind::Venv => [
            ("env_file", entry.env_file.is_some()),
            ("lock_file", entry.lock_file.is_some()),
            ("channels", entry.channels.is_some()),
        ]
        .into_iter()
        .find(|(_, set)| *set)
        .map(|(key, _)| (key, "a micromamba environment's conda spec")),
        BackendKind::Micromamba => entry.directory.is_some().then_some((
            "directory",
            "a venv's place; a conda environment lives in .pyve/envs/<name>",
        )),
    };
    match wrong {
        Some((key, meaning)) => Err(check.entry(
            name,
            Some(key),
            format!(
                "environments.{}.{key}: is {meaning}, and this is a {backend} environment",
                one_line(name)
            ),
            "remove it or change the backend",
        )),
        None => Ok(()),
    }
}

fn default_env(check: &Checker, config: &Config) -> Result<(), ConfigError> {
    let Some(default) = &config.default_env else {
        return Ok(());
    };
    if config.environments.get(default).is_some() {
        return Ok(());
    }
    let known = config.environments.names();
    Err(if known.is_empty() {
        check.key(
            None,
            "default_env",
            format!(
                "default_env: `{}` names an environment, and `environments` defines none",
                one_line(default)
            ),
            "remove the key, or add environments with `pyve init --env NAME`",
        )
    } else {
        check.key(
            None,
            "default_env",
            format!(
                "default_env: `{}` is not one of the environments ({})",
                one_line(default),
                known.join(", ")
            ),
            "use one of them",
        )
    })
}
