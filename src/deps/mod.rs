//! The project's declared dependencies: which source declares them
//! (`uv.lock`, `pylock.toml`, `poetry.lock`, `pdm.lock`, `pyproject.toml`,
//! requirements files), installing them into an environment (`install`),
//! and whether an environment is still in step with them (`record`, read
//! by `pyve run` and the hook, parsing nothing).

mod install;
mod record;

use std::path::{Path, PathBuf};

use crate::error::{user, Error};
use crate::pyproject;
use crate::text::shown;

pub use install::{create_from_lock, install, Mode, Tools};
pub use record::{stale, write_record, Record};

/// Where a project's dependencies are declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    UvLock,
    Pylock,
    Poetry,
    Pdm,
    Pyproject,
    Requirements,
}

impl Kind {
    /// Detection order: a lock is the exact set, so any lock comes before
    /// the ranges of `pyproject.toml`, which come before requirements files.
    pub const ALL: [Kind; 6] = [
        Kind::UvLock,
        Kind::Pylock,
        Kind::Poetry,
        Kind::Pdm,
        Kind::Pyproject,
        Kind::Requirements,
    ];

    /// The value of `dependencies:` in `.pyve/config`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::UvLock => "uv.lock",
            Kind::Pylock => "pylock.toml",
            Kind::Poetry => "poetry.lock",
            Kind::Pdm => "pdm.lock",
            Kind::Pyproject => "pyproject.toml",
            Kind::Requirements => "requirements",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether it pins an exact set (what `--locked` checks).
    pub fn is_lock(self) -> bool {
        matches!(self, Kind::UvLock | Kind::Pylock | Kind::Poetry | Kind::Pdm)
    }
}

/// What the config says about dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// `dependencies: none` (or `--no-deps`): nothing is installed.
    Nothing,
    Source(Kind),
}

impl Choice {
    pub fn parse(name: &str) -> Option<Choice> {
        match name {
            "none" => Some(Choice::Nothing),
            other => Kind::parse(other).map(Choice::Source),
        }
    }
}

/// The dependencies of one environment, as installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub kind: Kind,
    /// Dependency groups (PEP 735) beyond a source's defaults.
    pub groups: Vec<String>,
    /// The requirements files (kind `Requirements`), relative to the root.
    pub requirements: Vec<PathBuf>,
}

impl Declared {
    /// The files whose change means the environment must be synced again,
    /// relative to the root.
    pub fn files(&self) -> Vec<PathBuf> {
        let names: &[&str] = match self.kind {
            Kind::UvLock => &["uv.lock", "pyproject.toml"],
            Kind::Pylock => &["pylock.toml"],
            Kind::Poetry => &["poetry.lock", "pyproject.toml"],
            Kind::Pdm => &["pdm.lock", "pyproject.toml"],
            Kind::Pyproject => &["pyproject.toml"],
            Kind::Requirements => return self.requirements.clone(),
        };
        names.iter().map(PathBuf::from).collect()
    }
}

/// The sources present in the project, in detection order; `listed` is the
/// config's `requirements:` (default `requirements.txt`).
pub fn detect(root: &Path, listed: Option<&[PathBuf]>) -> Result<Vec<Kind>, Error> {
    let mut found = Vec::new();
    for kind in Kind::ALL {
        let present = match kind {
            Kind::Pyproject => {
                pyproject::read(root)?.is_some_and(|p| p.has_project && p.declares_anything())
            }
            Kind::Requirements => requirement_files(listed)
                .iter()
                .all(|f| root.join(f).is_file()),
            lock => root.join(lock.name()).is_file(),
        };
        if present {
            found.push(kind);
        }
    }
    Ok(found)
}

/// The requirements files the config lists, else `requirements.txt`.
pub fn requirement_files(listed: Option<&[PathBuf]>) -> Vec<PathBuf> {
    listed.map_or_else(
        || vec![PathBuf::from("requirements.txt")],
        <[PathBuf]>::to_vec,
    )
}

/// What to install for a project: the config's choice (checked against
/// the files), else the first source present. Returns the source and the
/// others present, which are not used.
pub fn resolve(
    root: &Path,
    choice: Option<Choice>,
    groups: &[String],
    listed: Option<&[PathBuf]>,
) -> Result<(Option<Declared>, Vec<Kind>), Error> {
    let present = detect(root, listed)?;
    let kind = match choice {
        Some(Choice::Nothing) => return Ok((None, Vec::new())),
        Some(Choice::Source(kind)) => {
            if !present.contains(&kind) {
                return Err(missing(root, kind, listed));
            }
            kind
        }
        // Requirements files listed in the config are a choice already.
        None if listed.is_some() => {
            if !present.contains(&Kind::Requirements) {
                return Err(missing(root, Kind::Requirements, listed));
            }
            Kind::Requirements
        }
        None => match present.first() {
            Some(kind) => *kind,
            None => return Ok((None, Vec::new())),
        },
    };
    let declared = Declared {
        kind,
        groups: groups.to_vec(),
        requirements: if kind == Kind::Requirements {
            requirement_files(listed)
        } else {
            Vec::new()
        },
    };
    let unused = present.into_iter().filter(|k| *k != kind).collect();
    Ok((Some(declared), unused))
}

fn missing(root: &Path, kind: Kind, listed: Option<&[PathBuf]>) -> Error {
    let (what, fix) = match kind {
        Kind::Requirements => {
            let files = requirement_files(listed);
            let absent: Vec<String> = files
                .iter()
                .filter(|f| !root.join(f).is_file())
                .map(|f| shown(f))
                .collect();
            (
                format!("the requirements file {} does not exist", absent.join(", ")),
                "create it, or change `requirements:` or `dependencies:` in .pyve/config",
            )
        }
        Kind::Pyproject => (
            "pyproject.toml declares no dependencies, groups or build system".to_owned(),
            "declare them in pyproject.toml, or change `dependencies:` in .pyve/config",
        ),
        lock => (
            format!("there is no {}", lock.name()),
            "create it with its tool, or change `dependencies:` in .pyve/config",
        ),
    };
    user(format!(
        "`dependencies: {}` in .pyve/config, but in {} {what}",
        kind.name(),
        shown(root)
    ))
    .with_hint(fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_wins_and_the_config_decides_between_sources() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(resolve(root, None, &[], None).unwrap(), (None, vec![]));
        std::fs::write(root.join("requirements.txt"), "alpha\n").unwrap();
        std::fs::write(
            root.join("pyproject.toml"),
            "[project]\nname = 'x'\nversion = '1'\ndependencies = ['beta']\n",
        )
        .unwrap();
        let (d, unused) = resolve(root, None, &[], None).unwrap();
        assert_eq!(d.unwrap().kind, Kind::Pyproject);
        assert_eq!(unused, [Kind::Requirements]);
        std::fs::write(root.join("uv.lock"), "version = 1\n").unwrap();
        let (d, unused) = resolve(root, None, &[], None).unwrap();
        assert_eq!(d.as_ref().unwrap().kind, Kind::UvLock);
        assert_eq!(
            d.unwrap().files(),
            [PathBuf::from("uv.lock"), "pyproject.toml".into()]
        );
        assert_eq!(unused, [Kind::Pyproject, Kind::Requirements]);
        let chosen = Some(Choice::Source(Kind::Requirements));
        let (d, _) = resolve(root, chosen, &[], None).unwrap();
        assert_eq!(d.unwrap().requirements, [PathBuf::from("requirements.txt")]);
        assert_eq!(
            resolve(root, Some(Choice::Nothing), &[], None).unwrap(),
            (None, vec![])
        );
        let e = resolve(root, Some(Choice::Source(Kind::Poetry)), &[], None).unwrap_err();
        assert!(
            e.message().contains("there is no poetry.lock"),
            "{}",
            e.message()
        );
        let listed = [PathBuf::from("dev.txt")];
        let e = resolve(root, None, &[], Some(&listed)).unwrap_err();
        assert!(
            e.message().contains("dev.txt does not exist"),
            "{}",
            e.message()
        );
    }
}
