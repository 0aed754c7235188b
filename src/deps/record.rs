//! What the last sync installed from: `<env>/.pyve-sync`, written by pyve
//! after installing, listing the declaration files with their fingerprints.
//! `pyve run` and the hook compare it with the files (stats only), so a
//! lock edited or pulled since is noticed without parsing anything.
//!
//! Tools that sync the environment themselves (`uv add`, `uv sync`) leave
//! the record behind; they also change the environment's site-packages
//! after writing the lock, so a declaration file older than the
//! environment's last install is taken as installed.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::Declared;
use crate::error::{user, Error};
use crate::text::shown;
use crate::{files, paths};

const NAME: &str = ".pyve-sync";
const HEADER: &str = "pyve-sync 1";
/// A record lists a few files; anything larger is not one.
const MAX_BYTES: u64 = 64 << 10;

/// Records that `env_dir` was just synced from `declared` in `root`.
/// The files are named relative to the environment (`../uv.lock` from
/// `.venv`), so a project moved with its environment keeps its record.
pub fn write_record(env_dir: &Path, root: &Path, declared: &Declared) -> Result<(), Error> {
    let mut text = format!("{HEADER}\nsource {}\n", declared.kind.name()).into_bytes();
    let up = relative_root(env_dir, root);
    for file in declared.files() {
        text.extend_from_slice(files::fingerprint_path(&root.join(&file)).as_bytes());
        text.push(b' ');
        text.extend_from_slice(up.join(&file).as_os_str().as_bytes());
        text.push(b'\n');
    }
    let path = env_dir.join(NAME);
    files::replace(&path, &text, 0o644)
        .map_err(|e| user(format!("cannot write {}: {e}", shown(&path))))
}

/// `root` as seen from `env_dir`: `..` for `.venv`, `../../..` for
/// `.pyve/envs/prod`.
fn relative_root(env_dir: &Path, root: &Path) -> PathBuf {
    let env: Vec<_> = env_dir.components().collect();
    let root_parts: Vec<_> = root.components().collect();
    let common = env
        .iter()
        .zip(&root_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..env.len() {
        out.push("..");
    }
    for part in &root_parts[common..] {
        out.push(part);
    }
    out
}

/// Declaration files changed since the environment was last installed.
#[derive(Debug, PartialEq, Eq)]
pub struct Stale {
    pub files: Vec<PathBuf>,
    /// Identifies this change (the files' fingerprints), so it is told once.
    pub token: String,
}

/// A sync record as read: the declaration files, each with its
/// fingerprint at the last sync.
pub struct Record {
    env_dir: PathBuf,
    files: Vec<(String, PathBuf)>,
}

impl Record {
    /// The record of `env_dir`; None when pyve never synced it (or the
    /// record is not one).
    pub fn read(env_dir: &Path) -> Option<Record> {
        let bytes = files::read_bounded(&env_dir.join(NAME), MAX_BYTES).ok()?;
        let mut lines = bytes.split(|&b| b == b'\n');
        if lines.next()? != HEADER.as_bytes() {
            return None;
        }
        let mut listed = Vec::new();
        for line in lines.skip(1).filter(|l| !l.is_empty()) {
            let at = line.iter().position(|&b| b == b' ')?;
            let fingerprint = std::str::from_utf8(&line[..at]).ok()?.to_owned();
            let path = PathBuf::from(std::ffi::OsStr::from_bytes(&line[at + 1..]));
            listed.push((fingerprint, paths::lexical(&env_dir.join(path))));
        }
        Some(Record {
            env_dir: env_dir.to_owned(),
            files: listed,
        })
    }

    /// The declaration files the hook watches: their change may make the
    /// environment stale. Not `uv.lock`: only uv writes it, always as a new
    /// file renamed into place (as `git pull` writes files), which changes
    /// the project directory, which the hook watches already; a bare Enter
    /// pays for each path (`pyproject.toml` and requirements files are
    /// edited in place, by editors and `>>`).
    pub fn watched(&self) -> impl Iterator<Item = &Path> {
        self.files
            .iter()
            .map(|(_, path)| path.as_path())
            .filter(|path| path.file_name().is_none_or(|name| name != "uv.lock"))
    }

    /// Whether the environment is behind its declaration files; None when
    /// in step. One stat per file; the environment's own times are read
    /// only when a file changed.
    pub fn stale(&self) -> Option<Stale> {
        let mut installed = None;
        let mut files = Vec::new();
        let mut token = String::new();
        for (recorded, path) in &self.files {
            let metadata = std::fs::metadata(path).ok();
            let now = metadata
                .as_ref()
                .map_or_else(|| files::MISSING.to_owned(), files::fingerprint);
            if now == *recorded {
                continue;
            }
            let installed = *installed.get_or_insert_with(|| last_install(&self.env_dir));
            let newer = metadata.is_none_or(|m| m.modified().is_ok_and(|t| t > installed));
            if newer {
                token.push_str(&now);
                files.push(path.clone());
            }
        }
        (!files.is_empty()).then_some(Stale { files, token })
    }
}

/// Whether `env_dir` is behind its declaration files; None when in step,
/// or when pyve never synced it (no record: nothing to compare).
pub fn stale(env_dir: &Path) -> Option<Stale> {
    Record::read(env_dir)?.stale()
}

/// When the environment last changed its packages: the record's time, or
/// a later change of a site-packages directory (an installer ran since).
fn last_install(env_dir: &Path) -> SystemTime {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let mut latest = modified(&env_dir.join(NAME)).unwrap_or(SystemTime::UNIX_EPOCH);
    if let Ok(entries) = std::fs::read_dir(env_dir.join("lib")) {
        for entry in entries.flatten().take(8) {
            if let Some(time) = modified(&entry.path().join("site-packages")) {
                latest = latest.max(time);
            }
        }
    }
    latest
}
#[cfg(test)]
mod tests {
    use super::super::Kind;
    use super::*;
    use std::time::Duration;

    fn set_mtime(path: &Path, when: SystemTime) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }

    #[test]
    fn a_record_notices_a_newer_declaration_once_per_change() {
        let dir = tempfile::tempdir().unwrap();
        let (root, env) = (dir.path().join("p"), dir.path().join("p/.venv"));
        std::fs::create_dir_all(env.join("lib/python3.11/site-packages")).unwrap();
        std::fs::write(root.join("uv.lock"), "a").unwrap();
        let declared = Declared {
            kind: Kind::UvLock,
            groups: vec![],
            requirements: vec![],
        };
        assert_eq!(stale(&env), None, "never synced: nothing to say");
        write_record(&env, &root, &declared).unwrap();
        assert_eq!(stale(&env), None);
        let record = Record::read(&env).unwrap();
        let watched: Vec<&Path> = record.watched().collect();
        assert_eq!(
            watched,
            [root.join("pyproject.toml")],
            "uv.lock: by the root"
        );
        assert!(std::fs::read_to_string(env.join(NAME))
            .unwrap()
            .contains(" ../uv.lock\n"));
        assert_eq!(
            relative_root(Path::new("/p/.pyve/envs/x"), Path::new("/p")),
            Path::new("../../..")
        );

        let later = SystemTime::now() + Duration::from_secs(5);
        std::fs::write(root.join("uv.lock"), "bb").unwrap();
        set_mtime(&root.join("uv.lock"), later);
        let found = stale(&env).unwrap();
        assert_eq!(found.files, [root.join("uv.lock")]);
        // An installer that ran after the lock was written (uv add) counts.
        let site = env.join("lib/python3.11/site-packages/x");
        std::fs::write(&site, "").unwrap();
        let dir_time = std::fs::File::open(env.join("lib/python3.11/site-packages")).unwrap();
        dir_time
            .set_modified(later + Duration::from_secs(2))
            .unwrap();
        assert_eq!(stale(&env), None);
        // A new pyproject.toml later than that is stale again.
        std::fs::write(root.join("pyproject.toml"), "[project]").unwrap();
        set_mtime(
            &root.join("pyproject.toml"),
            later + Duration::from_secs(10),
        );
        assert_eq!(stale(&env).unwrap().files, [root.join("pyproject.toml")]);
        std::fs::write(env.join(NAME), "garbage").unwrap();
        assert_eq!(stale(&env), None);
    }
}
