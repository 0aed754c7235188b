//! `.pyve/envs/.registry`: what pyve recorded about each named environment
//! when it created it (backend, Python, spec files and their digest, time),
//! so listings can say what changed since. JSON, written by hand and read
//! back through the YAML parser (JSON is YAML), to keep serde_json out.
//! The config says what should exist; the registry what was built.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::error::{user, Error};
use crate::json::string as json_string;
use crate::text::shown;
use crate::{digest, files, layout};

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Entry {
    pub backend: String,
    /// The version its Python reported when created.
    pub python: Option<String>,
    /// The files it was built from, relative to the project root.
    pub spec: Vec<String>,
    /// sha256 over the spec files' names and contents at creation.
    pub spec_sha256: String,
    /// Seconds since the epoch.
    pub created: u64,
    /// Relative to the project root when inside it.
    pub directory: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct File {
    environments: BTreeMap<String, Entry>,
}

pub fn path(root: &Path) -> PathBuf {
    layout::registry(root)
}

/// The registry's entries by name; empty when there is none. An unreadable
/// registry is an error that names the file: the listing must not pretend.
pub fn read(root: &Path) -> Result<BTreeMap<String, Entry>, Error> {
    let path = path(root);
    let bytes = match files::read_bounded(&path, 1 << 20) {
        Ok(bytes) => bytes,
        Err(files::ReadError::NotFound) => return Ok(BTreeMap::new()),
        Err(e) => return Err(user(format!("{}: {e}", shown(&path)))),
    };
    let text =
        std::str::from_utf8(&bytes).map_err(|_| user(format!("{}: is not UTF-8", shown(&path))))?;
    let file: File = crate::yaml::from_str(text).map_err(|e| {
        user(format!("{}: is damaged ({e})", shown(&path)))
            .with_hint("`pyve init --env NAME` records each environment again")
    })?;
    Ok(file.environments)
}

/// Records (or replaces) `name`'s entry.
pub fn record(root: &Path, name: &str, entry: Entry) -> Result<(), Error> {
    let mut all = read(root).unwrap_or_default();
    all.insert(name.to_owned(), entry);
    write(root, &all)
}

/// Drops `name`'s entry, if any.
pub fn remove(root: &Path, name: &str) -> Result<(), Error> {
    let mut all = read(root)?;
    if all.remove(name).is_some() {
        write(root, &all)?;
    }
    Ok(())
}

fn write(root: &Path, all: &BTreeMap<String, Entry>) -> Result<(), Error> {
    let path = path(root);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| user(format!("cannot create {}: {e}", shown(parent))))?;
    }
    files::write_own(&path, encode(all).as_bytes())
}

fn encode(all: &BTreeMap<String, Entry>) -> String {
    let mut out = String::from("{\"version\": 1, \"environments\": {");
    for (i, (name, entry)) in all.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("\n  ");
        json_string(&mut out, name);
        out.push_str(": {\"backend\": ");
        json_string(&mut out, &entry.backend);
        out.push_str(", \"python\": ");
        match &entry.python {
            Some(version) => json_string(&mut out, version),
            None => out.push_str("null"),
        }
        out.push_str(", \"spec\": [");
        for (j, file) in entry.spec.iter().enumerate() {
            if j > 0 {
                out.push_str(", ");
            }
            json_string(&mut out, file);
        }
        out.push_str("], \"spec_sha256\": ");
        json_string(&mut out, &entry.spec_sha256);
        out.push_str(&format!(
            ", \"created\": {}, \"directory\": ",
            entry.created
        ));
        json_string(&mut out, &entry.directory);
        out.push('}');
    }
    out.push_str("\n}}\n");
    out
}

/// The digest of a set of spec files as they are now: each file's name and
/// content (or that it is missing), in order.
pub fn spec_digest(root: &Path, spec: &[String]) -> String {
    let mut hasher = digest::Hasher::default();
    for file in spec {
        hasher.update(file.as_bytes());
        hasher.update(&[0]);
        match files::read_bounded(&root.join(file), 64 << 20) {
            Ok(bytes) => {
                hasher.update(&bytes.len().to_le_bytes());
                hasher.update(&bytes);
            }
            Err(_) => hasher.update(b"missing"),
        }
    }
    hasher.finish()
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_json() {
        let dir = tempfile::tempdir().unwrap();
        let entry = Entry {
            backend: "venv".into(),
            python: Some("3.12.1".into()),
            spec: vec!["req \"a\".txt".into()],
            spec_sha256: "ab".into(),
            created: 1_700_000_000,
            directory: ".pyve/envs/dev".into(),
        };
        record(dir.path(), "dev", entry.clone()).unwrap();
        record(dir.path(), "gpu", Entry::default()).unwrap();
        let all = read(dir.path()).unwrap();
        assert_eq!(all["dev"], entry);
        assert_eq!(all.len(), 2);
        remove(dir.path(), "gpu").unwrap();
        assert_eq!(read(dir.path()).unwrap().len(), 1);
        std::fs::write(path(dir.path()), "{not json").unwrap();
        assert!(read(dir.path())
            .unwrap_err()
            .to_string()
            .contains(".registry"));
    }
}
