//! `pyproject.toml`, as far as pyve reads it: the `[project]` table's
//! `requires-python` and dependencies, PEP 735 `[dependency-groups]`, and
//! whether there is a build system (the project itself is then installed,
//! editable), `[project].name`, and `[tool.pyve]` (`tool`). Read bounded,
//! with errors that name the file, the key and the line; the hook's engine
//! parses it only when it loads such a project, never on its nothing-to-do
//! path (which scans for `[tool.pyve]` without parsing).

pub mod tool;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{user, Error};
use crate::files::{self, ReadError};
use crate::text::{one_line, shown};

/// A pyproject.toml is a few KiB; anything past this is not read.
pub const MAX_BYTES: u64 = 1 << 20;

/// What pyve uses of a pyproject.toml.
#[derive(Debug, Default)]
pub struct Pyproject {
    pub path: PathBuf,
    /// `[project]` is present (a PEP 621 project).
    pub has_project: bool,
    pub requires_python: Option<String>,
    pub dependencies: Vec<String>,
    /// `[dependency-groups]`, in name order.
    pub groups: BTreeMap<String, Vec<GroupItem>>,
    /// `[build-system]` is present: the project is a package.
    pub has_build_system: bool,
}

/// One entry of a dependency group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupItem {
    Requirement(String),
    Include(String),
}

#[derive(Deserialize)]
struct Raw {
    project: Option<RawProject>,
    #[serde(rename = "dependency-groups")]
    dependency_groups: Option<BTreeMap<String, Vec<RawItem>>>,
    #[serde(rename = "build-system")]
    build_system: Option<toml::Table>,
}

#[derive(Deserialize)]
struct RawProject {
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawItem {
    Requirement(String),
    Include {
        #[serde(rename = "include-group")]
        include_group: String,
    },
}

/// `[project].name` of the pyproject.toml `text`, when it parses and has
/// one (a zero-config project's name): nothing else is asked of it.
pub fn project_name(text: &str) -> Option<String> {
    let document = toml::de::DeTable::parse(text).ok()?;
    let project = document.get_ref().get("project")?.get_ref().as_table()?;
    let name = project.get("name")?.get_ref().as_str()?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// The project's `pyproject.toml`; None when there is none.
pub fn read(root: &Path) -> Result<Option<Pyproject>, Error> {
    let path = root.join("pyproject.toml");
    let bytes = match files::read_bounded(&path, MAX_BYTES) {
        Ok(bytes) => bytes,
        Err(ReadError::NotFound) => return Ok(None),
        Err(e) => return Err(user(format!("{}: {e}", shown(&path)))),
    };
    parse(&path, &bytes).map(Some)
}

pub fn parse(path: &Path, bytes: &[u8]) -> Result<Pyproject, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        user(format!("{}: not UTF-8 text ({e})", shown(path)))
            .with_hint("save it as UTF-8, as TOML requires")
    })?;
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| tool::line_at(text, span.start));
        let at = line.map_or(String::new(), |l| format!(", line {l}"));
        user(format!(
            "{}{at}: {}",
            shown(path),
            one_line(e.message())
        ))
        .with_hint("fix pyproject.toml (see https://packaging.python.org/en/latest/specifications/pyproject-toml/)")
    })?;
    let groups = raw
        .dependency_groups
        .unwrap_or_default()
        .into_iter()
        .map(|(name, items)| {
            let items = items
                .into_iter()
                .map(|item| match item {
                    RawItem::Requirement(r) => GroupItem::Requirement(r),
                    RawItem::Include { include_group } => GroupItem::Include(include_group),
                })
                .collect();
            (normalize(&name), items)
        })
        .collect();
    Ok(Pyproject {
        path: path.to_owned(),
        has_project: raw.project.is_some(),
        requires_python: raw.project.as_ref().and_then(|p| p.requires_python.clone()),
        dependencies: raw.project.map(|p| p.dependencies).unwrap_or_default(),
        groups,
        has_build_system: raw.build_system.is_some(),
    })
}

/// PEP 503 normalization, which PEP 735 applies to group names.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

impl Pyproject {
    /// Whether installing from it installs anything: dependencies, groups,
    /// or the project itself.
    pub fn declares_anything(&self) -> bool {
        !self.dependencies.is_empty() || !self.groups.is_empty() || self.has_build_system
    }

    /// The requirements of group `name` with its includes expanded (PEP
    /// 735), or an error naming the group and the file.
    pub fn group_requirements(&self, name: &str) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        self.expand(&normalize(name), &mut Vec::new(), &mut out)?;
        Ok(out)
    }

    fn expand(
        &self,
        name: &str,
        seen: &mut Vec<String>,
        out: &mut Vec<String>,
    ) -> Result<(), Error> {
        let Some(items) = self.groups.get(name) else {
            let known: Vec<&str> = self.groups.keys().map(String::as_str).collect();
            return Err(user(format!(
                "{}: [dependency-groups] has no group `{}`",
                shown(&self.path),
                one_line(name)
            ))
            .with_hint(if known.is_empty() {
                "define it there, or remove it from `groups:` in .pyve/config".to_owned()
            } else {
                format!("choose among: {}", known.join(", "))
            }));
        };
        if seen.iter().any(|s| s == name) {
            return Err(user(format!(
                "{}: [dependency-groups] `{}` includes itself",
                shown(&self.path),
                one_line(name)
            ))
            .with_hint("remove the include-group cycle"));
        }
        seen.push(name.to_owned());
        for item in items {
            match item {
                GroupItem::Requirement(r) => out.push(r.clone()),
                GroupItem::Include(other) => self.expand(&normalize(other), seen, out)?,
            }
        }
        seen.pop();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_pyve_uses_and_names_the_line_of_an_error() {
        let text = "[project]\nname='x'\nrequires-python = '>=3.10'\ndependencies = ['beta']\n\
                    [dependency-groups]\nDev_Tools = ['delta', {include-group = 'docs'}]\ndocs = ['epsilon']\n\
                    [build-system]\nrequires = ['uv_build']\n";
        let p = parse(Path::new("pyproject.toml"), text.as_bytes()).unwrap();
        assert!(p.has_project && p.has_build_system && p.declares_anything());
        assert_eq!(p.requires_python.as_deref(), Some(">=3.10"));
        assert_eq!(p.dependencies, ["beta"]);
        assert_eq!(
            p.group_requirements("dev-tools").unwrap(),
            ["delta", "epsilon"]
        );
        let e = p.group_requirements("test").unwrap_err();
        assert!(e.message().contains("no group `test`"), "{}", e.message());
        assert_eq!(e.hint(), Some("choose among: dev-tools, docs"));

        let cycle =
            "[dependency-groups]\na = [{include-group = 'b'}]\nb = [{include-group = 'a'}]\n";
        let p = parse(Path::new("pyproject.toml"), cycle.as_bytes()).unwrap();
        assert!(p
            .group_requirements("a")
            .unwrap_err()
            .message()
            .contains("includes itself"));

        let bad = "[project]\nname = 'x'\nrequires-python = 3\n";
        let e = parse(Path::new("pyproject.toml"), bad.as_bytes()).unwrap_err();
        assert!(
            e.message().starts_with("pyproject.toml, line 3: "),
            "{}",
            e.message()
        );
        let deep = format!("x = {}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(Path::new("pyproject.toml"), deep.as_bytes()).is_err());
    }
}
