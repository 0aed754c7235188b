//! `env:` and `dotenv:`: the project's own variables. The schema keeps
//! YAML's values as written; `check` turns them into templates (see
//! `crate::variables`) or names the key, its line and the fix.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::lines::key_line;
use super::ConfigError;
use crate::text::one_line;
use crate::variables::{self, Variable};

/// `env:`, a mapping kept in the order it is written.
#[derive(Debug, Default)]
pub struct EnvMap(pub Vec<(String, serde_yaml_ng::Value)>);

impl<'de> Deserialize<'de> for EnvMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A name with nothing after it is YAML's null, refused by `check`.
        let what = "a mapping of variable names to values";
        super::ordered_map(deserializer, what, |name| {
            format!("env: `{}` is set twice", one_line(name))
        })
        .map(EnvMap)
    }
}

/// `dotenv:` as written: present alone (`.env`), a flag, one file or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Dotenv {
    Flag(bool),
    One(PathBuf),
    Many(Vec<PathBuf>),
    /// `dotenv:` with nothing after it.
    Present(()),
}

/// Reads `dotenv:` when the key is there, even with no value (which
/// `Option` alone would take for an absent key).
pub(super) fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Dotenv>, D::Error> {
    Dotenv::deserialize(deserializer).map(Some)
}

/// The dotenv files `dotenv:` names, relative to the project (as written).
pub fn dotenv_files(value: Option<&Dotenv>) -> Vec<PathBuf> {
    match value {
        None | Some(Dotenv::Flag(false)) => Vec::new(),
        Some(Dotenv::Flag(true) | Dotenv::Present(())) => vec![PathBuf::from(".env")],
        Some(Dotenv::One(file)) => vec![file.clone()],
        Some(Dotenv::Many(files)) => files.clone(),
    }
}

/// A value under `env:` as text: strings, integers and booleans; None for
/// what must be written otherwise (the reason).
fn text(value: &serde_yaml_ng::Value) -> Result<String, &'static str> {
    use serde_yaml_ng::Value;
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        Value::Number(_) => Err("is a number that reads differently than written (1.10 is 1.1)"),
        Value::Null => Err("has no value"),
        _ => Err("is a list or a mapping, not a value"),
    }
}

/// The variables `env:` sets, as templates, once `check` admitted them.
pub fn templates(env: &EnvMap) -> Vec<Variable> {
    env.0
        .iter()
        .filter_map(|(name, value)| {
            let value = text(value).ok()?;
            Some((name.clone(), variables::template(value.as_bytes(), name)))
        })
        .collect()
}

/// Checks `env:` and `dotenv:`: the first problem, with its line and fix.
pub(super) fn check(
    path: &Path,
    text_of_config: &str,
    env: &EnvMap,
    dotenv: Option<&Dotenv>,
) -> Result<(), ConfigError> {
    let at = |key: &str, message: String, hint: &str| ConfigError {
        line: key_line(text_of_config, Some("env"), key),
        ..ConfigError::at(path, message).with_hint(hint)
    };
    for (name, value) in &env.0 {
        let shown = one_line(name);
        if !variables::is_name(name) {
            return Err(at(
                name,
                format!("env: `{shown}` is not a variable name"),
                "use letters, digits and `_`, not starting with a digit",
            ));
        }
        if name.starts_with("PYVE_") {
            return Err(at(
                name,
                format!("env: {shown}: PYVE_ variables are pyve's own"),
                "use another name",
            ));
        }
        let value = text(value).map_err(|why| {
            at(
                name,
                format!("env: {shown}: the value {why}"),
                "write it in quotes, \"\" for an empty one",
            )
        })?;
        if value.contains('\0') {
            return Err(at(
                name,
                format!("env: {shown}: the value holds a NUL byte, which no variable can hold"),
                "remove it",
            ));
        }
        let template = variables::template(value.as_bytes(), name);
        if name == "PATH" && variables::path_entries(&template).is_none() {
            return Err(at(
                name,
                "env: PATH: must be written `DIR[:DIR…]:$PATH`".to_owned(),
                "pyve puts the directories in front of PATH and removes each one on leaving, \
                 for example PATH: \"$PROJECT_ROOT/bin:$PATH\"",
            ));
        }
    }
    for file in dotenv_files(dotenv) {
        let bytes = file.as_os_str().as_encoded_bytes();
        if bytes.is_empty() || bytes.contains(&0) {
            return Err(ConfigError {
                line: key_line(text_of_config, None, "dotenv"),
                ..ConfigError::at(path, "dotenv: an entry is empty".to_owned())
                    .with_hint("name dotenv files such as `.env`")
            });
        }
    }
    Ok(())
}
