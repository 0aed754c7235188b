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
    /// Keys this version does not know; reported as warnings, never fatal, so
    /// a config written by a newer pyve still activates.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_yaml_ng::Value>,
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
    let warnings = config
        .unknown
        .keys()
        .map(|key| format!("{}: unknown key `{}` ignored", shown(path), one_line(key)))
        .collect();
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

#[cfg(test)]
mod tests {
    use super::*;

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
