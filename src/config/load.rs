//! Reading and parsing the config: bounded, UTF-8, a YAML mapping, then
//! `validate`; serde's wording turned into the user's.

use std::path::Path;

use super::{validate, Config, ConfigError};
use crate::files::{self, ReadError};
use crate::text::{self, one_line, shown};
use crate::yaml;

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
/// device, a FIFO, something huge) with the reason. Bounded by the bytes
/// read: a link to a `/proc` file reports size 0.
pub fn read(path: &Path) -> Result<Vec<u8>, ConfigError> {
    // A regular file that says it is too large is named by its size.
    if let Ok(metadata) = std::fs::metadata(path) {
        if metadata.is_file() && metadata.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::at(
                path,
                format!(
                    "is {} bytes; a pyve config is at most {MAX_CONFIG_BYTES} bytes",
                    metadata.len()
                ),
            ));
        }
    }
    files::read_bounded(path, MAX_CONFIG_BYTES).map_err(|e| match e {
        ReadError::NotFound => match std::fs::read_link(path) {
            Ok(target) => ConfigError::at(
                path,
                format!(
                    "is a symbolic link to {}, which does not exist",
                    shown(&target)
                ),
            )
            .with_hint("fix or remove the link"),
            Err(_) => ConfigError::at(path, "cannot read: it does not exist"),
        },
        ReadError::NotRegular => ConfigError::at(path, "is not a regular file")
            .with_hint("remove it or replace it with a YAML file"),
        ReadError::TooLarge(_) => ConfigError::at(
            path,
            format!("has more than {MAX_CONFIG_BYTES} bytes; a pyve config is at most {MAX_CONFIG_BYTES} bytes"),
        ),
        ReadError::Io(e) => ConfigError::at(path, format!("cannot read: {e}")),
    })
}

/// The config's text, and whether it holds a mapping to read (None: empty,
/// only comments, or `~`, which is every default); anything else is an
/// error with its line.
pub(super) fn yaml_mapping<'b>(
    path: &Path,
    bytes: &'b [u8],
) -> Result<(&'b str, Option<()>), ConfigError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ConfigError {
            line: Some(line),
            ..ConfigError::at(path, "is not UTF-8 text; a pyve config is YAML")
        }
    })?;
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok((text, None));
    }
    yaml::check_depth(text).map_err(|e| match e {
        yaml::Error::TooDeep { line } => ConfigError {
            line: Some(line),
            ..ConfigError::at(
                path,
                format!(
                    "is nested more than {} levels deep, which no pyve config needs",
                    yaml::MAX_DEPTH
                ),
            )
        },
        yaml::Error::Yaml(e) => yaml_error(path, &e),
    })?;
    let value: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| yaml_error(path, &e))?;
    match value {
        serde_yaml_ng::Value::Null => Ok((text, None)),
        serde_yaml_ng::Value::Mapping(_) => Ok((text, Some(()))),
        _ => Err(ConfigError {
            line: Some(1),
            ..ConfigError::at(
                path,
                "must be a YAML mapping of keys (for example `env_name: myproject`)",
            )
        }),
    }
}

pub fn parse(path: &Path, bytes: &[u8]) -> Result<Loaded, ConfigError> {
    let (text, mapping) = yaml_mapping(path, bytes)?;
    let config: Config = match mapping {
        None => Config::default(),
        // Deserializing from the text (not the Value) keeps line numbers.
        Some(()) => serde_yaml_ng::from_str(text).map_err(|e| yaml_error(path, &e))?,
    };
    validate::validate(path, text, &config)?;
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
    Ok(Loaded {
        config,
        warnings: text::at_most(warnings, MAX_WARNINGS),
    })
}

/// More than a screenful of warnings about one config helps nobody (60,000
/// unknown keys printed 60,000 lines, at every command and in the hook).
const MAX_WARNINGS: usize = 10;

pub(super) fn yaml_error(path: &Path, error: &serde_yaml_ng::Error) -> ConfigError {
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
        line: location.as_ref().map(|l| l.line()),
        column: location.as_ref().map(|l| l.column()),
        ..ConfigError::at(path, message)
    }
}
