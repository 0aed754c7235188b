//! Where a project's settings come from: `.pyve/config`, the `[tool.pyve]`
//! table of `pyproject.toml`, or nowhere, for a zero-config project (a
//! directory with `pyproject.toml` or `requirements.txt` and a `.venv`
//! built on this machine), which has every default. Each is read into the
//! same `Config`, with the same checks, and each gives the bytes an
//! approval covers.

use std::path::{Path, PathBuf};

use super::load::{self, Loaded};
use super::{Config, ConfigError};
use crate::files::{self, ReadError};
use crate::layout;
use crate::pyproject::{self, tool};

/// Where the settings are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Source {
    /// `.pyve/config`.
    #[default]
    Pyve,
    /// `[tool.pyve]` in `pyproject.toml`.
    Pyproject,
    /// None: a zero-config project.
    Implicit,
}

/// `pyproject.toml`, as the hook and the commands read it.
pub const PYPROJECT: &str = "pyproject.toml";

impl Source {
    /// The file that holds the settings (for a zero-config project, the
    /// `pyproject.toml` that names it, when there is one).
    pub fn file(self, root: &Path) -> PathBuf {
        match self {
            Source::Pyve => layout::config(root),
            Source::Pyproject | Source::Implicit => root.join(PYPROJECT),
        }
    }

    /// The source in words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Source::Pyve => ".pyve/config",
            Source::Pyproject => "[tool.pyve] in pyproject.toml",
            Source::Implicit => "no pyve config (a project with its .venv)",
        }
    }

    /// How the hook's state names it (`Pyve`: nothing).
    pub fn tag(self) -> &'static str {
        match self {
            Source::Pyve => "",
            Source::Pyproject => "pyproject",
            Source::Implicit => "implicit",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Source> {
        [Source::Pyve, Source::Pyproject, Source::Implicit]
            .into_iter()
            .find(|s| s.tag() == tag)
    }
}

/// The settings' bytes as an approval covers them: `.pyve/config` whole;
/// of `pyproject.toml` only `[tool.pyve]` (as YAML), so editing the
/// project's dependencies does not revoke an approval; nothing for a
/// zero-config project.
pub fn approved_bytes(root: &Path, source: Source) -> Result<Vec<u8>, ConfigError> {
    match source {
        Source::Pyve => load::read(&layout::config(root)),
        Source::Pyproject => Ok(pyve_table(root)?.1.yaml.into_bytes()),
        Source::Implicit => Ok(Vec::new()),
    }
}

/// Loads and checks the settings.
pub fn load_from(root: &Path, source: Source) -> Result<Loaded, ConfigError> {
    let mut loaded = load_unmarked(root, source)?;
    loaded.config.source = source;
    Ok(loaded)
}

/// The bytes an approval covers and the settings read from those very
/// bytes (one read: what `pyve allow` approves is what it checked).
pub fn load_approved(root: &Path, source: Source) -> Result<(Vec<u8>, Loaded), ConfigError> {
    let (bytes, mut loaded) = match source {
        Source::Pyve => {
            let path = layout::config(root);
            let bytes = load::read(&path)?;
            let loaded = load::parse(&path, &bytes)?;
            (bytes, loaded)
        }
        Source::Pyproject => {
            let (path, table) = pyve_table(root)?;
            let loaded = parse_table(&path, &table)?;
            (table.yaml.into_bytes(), loaded)
        }
        Source::Implicit => (Vec::new(), load_unmarked(root, source)?),
    };
    loaded.config.source = source;
    Ok((bytes, loaded))
}

/// `[tool.pyve]` as YAML, checked, with errors on `pyproject.toml`'s lines.
fn parse_table(path: &Path, table: &tool::PyveTable) -> Result<Loaded, ConfigError> {
    load::parse(path, table.yaml.as_bytes()).map_err(|error| ConfigError {
        line: error.line.and_then(|line| table.toml_line(line)),
        column: None,
        message: format!("[tool.pyve] {}", error.message),
        ..error
    })
}

fn load_unmarked(root: &Path, source: Source) -> Result<Loaded, ConfigError> {
    match source {
        Source::Pyve => load::load(&layout::config(root)),
        Source::Pyproject => {
            let (path, table) = pyve_table(root)?;
            parse_table(&path, &table)
        }
        Source::Implicit => {
            // Named as uv and pip name it: `[project].name`, else the
            // directory (the backend's default).
            let name = files::read_bounded(&root.join(PYPROJECT), pyproject::MAX_BYTES)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|text| pyproject::project_name(&text));
            Ok(Loaded {
                config: Config {
                    // A package name, as PEP 508 writes them, or none.
                    env_name: name.filter(|n| {
                        n.len() <= super::names::MAX_LEN
                            && n.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                    }),
                    ..Config::default()
                },
                warnings: Vec::new(),
            })
        }
    }
}

/// `pyproject.toml`'s `[tool.pyve]`, or the error that names the line.
fn pyve_table(root: &Path) -> Result<(PathBuf, tool::PyveTable), ConfigError> {
    let path = root.join(PYPROJECT);
    let bytes = files::read_bounded(&path, pyproject::MAX_BYTES).map_err(|e| match e {
        ReadError::NotFound => ConfigError::at(&path, "cannot read: it does not exist"),
        other => ConfigError::at(&path, other.to_string()),
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ConfigError::at(&path, "is not UTF-8 text, as TOML requires"))?;
    match tool::pyve_table(text) {
        Ok(Some(table)) => Ok((path, table)),
        Ok(None) => Err(ConfigError::at(&path, "has no [tool.pyve] table")
            .with_hint("add one, or keep pyve's settings in .pyve/config")),
        Err(error) => Err(ConfigError {
            line: error.line,
            ..ConfigError::at(&path, error.message)
        }),
    }
}

/// Whether `pyproject.toml` (its bytes) holds pyve's settings: a scan, no
/// parse (see `tool::mentions_pyve`).
pub fn has_pyve_table(bytes: &[u8]) -> bool {
    tool::mentions_pyve(bytes)
}
