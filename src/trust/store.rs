//! The approval store: one record per project under
//! `$XDG_DATA_HOME/pyve/trust/`, named by sha256 of the project's real
//! path. A record holds whether the user allowed or denied the project,
//! the sha256 of the config approved (and the config itself, to say what
//! changed), and the identity of each environment at that time.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{changes, EnvRef, Subject, Verdict};
use crate::digest;
use crate::error::{user, Error};
use crate::files::{self, owner};
use crate::text::shown;
use crate::vars::Vars;

/// Where approvals live.
pub struct Store {
    /// None when neither XDG_DATA_HOME nor HOME is set.
    dir: Option<PathBuf>,
    /// The user's config, where `trusted_paths` is (read when first asked).
    user_config: Option<PathBuf>,
    home: Option<PathBuf>,
    trusted_paths: std::cell::OnceCell<Vec<PathBuf>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Allow,
    Deny,
}

/// One project's record. Text: a header of `key value` lines, a `---` line,
/// then the approved config's bytes.
#[derive(Debug)]
struct Record {
    status: Status,
    config_sha256: String,
    /// Each environment's identity when approved, by key.
    envs: BTreeMap<String, String>,
    /// The identity of each environment `pyve init` built, by key.
    built: BTreeMap<String, String>,
    config: Vec<u8>,
}

const HEADER: &str = "pyve-approval 2";

static EMPTY: BTreeMap<String, String> = BTreeMap::new();

/// Records are a header and a config, itself at most 1 MiB.
const MAX_RECORD_BYTES: u64 = 2 << 20;

impl Record {
    fn encode(&self, project: &Path) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.config.len() + 512);
        out.extend_from_slice(HEADER.as_bytes());
        out.extend_from_slice(b"\nstatus ");
        out.extend_from_slice(match self.status {
            Status::Allow => b"allow",
            Status::Deny => b"deny",
        });
        // For people reading the store; never read back.
        out.extend_from_slice(b"\npath ");
        out.extend_from_slice(shown(project).as_bytes());
        out.extend_from_slice(format!("\nconfig-sha256 {}", self.config_sha256).as_bytes());
        for (field, map) in [("env", &self.envs), ("built", &self.built)] {
            for (key, identity) in map {
                out.extend_from_slice(format!("\n{field} {key} {identity}").as_bytes());
            }
        }
        out.extend_from_slice(b"\n---\n");
        out.extend_from_slice(&self.config);
        out
    }

    fn decode(bytes: &[u8]) -> Option<Record> {
        let split = bytes.windows(5).position(|w| w == b"\n---\n")?;
        let header = std::str::from_utf8(&bytes[..split]).ok()?;
        let mut lines = header.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
        let mut envs = BTreeMap::new();
        let mut built = BTreeMap::new();
        for (field, value) in lines.filter_map(|l| l.split_once(' ')) {
            let map = match field {
                "env" => &mut envs,
                "built" => &mut built,
                _ => {
                    fields.insert(field, value);
                    continue;
                }
            };
            let (key, identity) = value.split_once(' ')?;
            map.insert(key.to_owned(), identity.to_owned());
        }
        let status = match *fields.get("status")? {
            "allow" => Status::Allow,
            "deny" => Status::Deny,
            _ => return None,
        };
        Some(Record {
            status,
            config_sha256: fields
                .get("config-sha256")
                .map_or(String::new(), |v| (*v).to_owned()),
            envs,
            built,
            config: bytes[split + 5..].to_vec(),
        })
    }
}

impl Store {
    pub fn new(vars: &dyn Vars) -> Store {
        Store {
            dir: crate::paths::trust_store(vars),
            user_config: crate::config::user::path(vars),
            home: crate::paths::home(vars),
            trusted_paths: std::cell::OnceCell::new(),
        }
    }

    /// The store's directory (the hook watches it: `allow` and `deny`
    /// write there).
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The directory, if it is this user's alone: an approval anyone else
    /// could write is no approval.
    fn checked_dir(&self) -> Result<&Path, String> {
        let dir = self.dir().ok_or("neither XDG_DATA_HOME nor HOME is set")?;
        owner::check_private_dir(dir).map_err(|refused| format!("the trust store {refused}"))?;
        Ok(dir)
    }

    /// The record of the project at real path `project`.
    pub fn record_path(&self, project: &Path) -> Option<PathBuf> {
        Some(
            self.dir()?
                .join(digest::sha256(project.as_os_str().as_bytes())),
        )
    }

    /// The record file's fingerprint: the engine compares it with the one
    /// it recorded to learn, with one stat, that an approval may have
    /// changed.
    pub fn record_fingerprint(&self, project: &Path) -> String {
        self.record_path(project).map_or_else(
            || files::MISSING.to_owned(),
            |p| files::fingerprint_path(&p),
        )
    }

    fn read(&self, project: &Path) -> Option<Record> {
        let file = std::fs::File::open(self.record_path(project)?).ok()?;
        let mut bytes = Vec::new();
        file.take(MAX_RECORD_BYTES).read_to_end(&mut bytes).ok()?;
        Record::decode(&bytes)
    }

    fn write(&self, project: &Path, record: &Record) -> Result<(), Error> {
        let dir = self
            .dir()
            .ok_or_else(|| user("neither XDG_DATA_HOME nor HOME is set"))?;
        owner::private_dir(dir).map_err(|refused| user(format!("the trust store {refused}")))?;
        let file = dir.join(digest::sha256(project.as_os_str().as_bytes()));
        files::replace(&file, &record.encode(project), 0o600)
            .map_err(|e| user(format!("cannot write {}: {e}", shown(&file))))
    }

    /// Whether `project` (a real path) lies under one of the user's
    /// `trusted_paths` that may vouch for it (`super::honoured_prefix`).
    /// The user's config is read the first time this is asked.
    pub fn under_trusted_path(&self, project: &Path) -> bool {
        let prefixes = self.trusted_paths.get_or_init(|| {
            let Some(path) = self.user_config.clone() else {
                return Vec::new();
            };
            let user = crate::config::user::load_at(path, self.home.as_deref());
            user.ok()
                .flatten()
                .map(|u| u.config.trusted_paths)
                .unwrap_or_default()
                .iter()
                .filter_map(|prefix| super::honoured_prefix(prefix).ok())
                .collect()
        });
        prefixes.iter().any(|prefix| project.starts_with(prefix))
    }

    /// What the store says about the project as it is now.
    pub(super) fn verdict(&self, subject: &Subject) -> Verdict {
        // No store yet: nothing was ever approved.
        if self
            .dir()
            .is_none_or(|dir| std::fs::symlink_metadata(dir).is_err())
        {
            return Verdict::Unknown;
        }
        if let Err(why) = self.checked_dir() {
            return Verdict::StoreUnsafe(why);
        }
        let Some(record) = self.read(subject.project) else {
            return Verdict::Unknown;
        };
        if record.status == Status::Deny {
            return Verdict::Denied;
        }
        if record.config_sha256 != digest::sha256(subject.config) {
            return Verdict::ConfigChanged(changes::changed_keys(&record.config, subject.config));
        }
        for env in subject.envs {
            let approved = record
                .envs
                .get(&env.key(subject.project))
                .map_or(files::MISSING, String::as_str);
            match env.identity() {
                Err(why) => return Verdict::EnvUnusable(why),
                Ok(identity) if identity != approved => {
                    return Verdict::EnvChanged(env.dir.clone())
                }
                Ok(_) => {}
            }
        }
        Verdict::Trusted
    }

    /// Whether `pyve init` built the environment `env` of the project at
    /// this path on this machine, and it is still that one (the record of
    /// its builds holds its identity). Denying a project keeps the record.
    pub fn built_here(&self, project: &Path, env: &EnvRef) -> bool {
        self.recorded(project, env, |record| &record.built)
    }

    /// Whether the user approved the project with the environment `env` as
    /// it is now (`pyve allow` after reviewing it), and has not denied it
    /// since.
    pub fn approved_env(&self, project: &Path, env: &EnvRef) -> bool {
        self.recorded(project, env, |record| {
            if record.status == Status::Allow {
                &record.envs
            } else {
                &EMPTY
            }
        })
    }

    /// Whether the record's map `which` holds `env` as it is now.
    fn recorded(
        &self,
        project: &Path,
        env: &EnvRef,
        which: impl Fn(&Record) -> &BTreeMap<String, String>,
    ) -> bool {
        if self.checked_dir().is_err() {
            return false;
        }
        let Some(record) = self.read(project) else {
            return false;
        };
        env.identity().is_ok_and(|identity| {
            identity != files::MISSING && which(&record).get(&env.key(project)) == Some(&identity)
        })
    }

    /// Whether the user approved the project at this path at some point
    /// (and did not deny it since), whatever its config is now.
    pub fn approved_once(&self, project: &Path) -> bool {
        self.checked_dir().is_ok()
            && self
                .read(project)
                .is_some_and(|r| r.status == Status::Allow)
    }

    /// Approves the project as it is now, with the environments in
    /// `subject.envs`; an environment approved before and not listed keeps
    /// its approval. `built` is the one pyve has just built (init), so
    /// later approvals can tell it from a foreign one. Returns the
    /// environments that exist and that pyve did not build: what they put
    /// on PATH is whatever the repository or someone else put there.
    pub fn grant(&self, subject: &Subject, built: Option<&EnvRef>) -> Result<Vec<PathBuf>, Error> {
        let previous = self.read(subject.project);
        let mut built_map = previous
            .as_ref()
            .map(|r| r.built.clone())
            .unwrap_or_default();
        let mut envs = previous
            .filter(|r| r.status == Status::Allow)
            .map(|r| r.envs)
            .unwrap_or_default();
        if let Some(env) = built {
            built_map.insert(env.key(subject.project), env.identity().map_err(user)?);
        }
        let mut foreign = Vec::new();
        for env in subject.envs {
            let key = env.key(subject.project);
            let identity = env.identity().map_err(user)?;
            if identity != files::MISSING && built_map.get(&key) != Some(&identity) {
                foreign.push(env.dir.clone());
            }
            envs.insert(key, identity);
        }
        self.write(
            subject.project,
            &Record {
                status: Status::Allow,
                config_sha256: digest::sha256(subject.config),
                envs,
                built: built_map,
                config: subject.config.to_vec(),
            },
        )?;
        Ok(foreign)
    }

    /// Revokes the approval of the project at real path `project`, keeping
    /// a record that the user said no.
    pub fn deny(&self, project: &Path) -> Result<(), Error> {
        let built = self.read(project).map(|r| r.built).unwrap_or_default();
        self.write(
            project,
            &Record {
                status: Status::Deny,
                config_sha256: String::new(),
                envs: BTreeMap::new(),
                built,
                config: Vec::new(),
            },
        )
    }

    /// Drops the project's record (after `pyve purge`).
    pub fn forget(&self, project: &Path) {
        if let Some(path) = self.record_path(project) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// An environment's identity for approvals: see `EnvRef::identity`.
pub(super) fn identity(env: &EnvRef) -> Result<String, String> {
    const MAX_MARKER_BYTES: u64 = 1 << 20;
    let marker = match files::read_bounded(&env.marker, MAX_MARKER_BYTES) {
        Ok(bytes) => bytes,
        Err(files::ReadError::NotFound) => return Ok(files::MISSING.to_owned()),
        Err(files::ReadError::NotRegular | files::ReadError::TooLarge(_)) => {
            return Err(format!(
                "{} is not a small regular file, as an environment's marker is",
                shown(&env.marker)
            ))
        }
        Err(files::ReadError::Io(e)) => {
            return Err(format!("cannot read {}: {e}", shown(&env.marker)))
        }
    };
    let dir =
        std::fs::metadata(&env.dir).map_err(|e| format!("cannot read {}: {e}", shown(&env.dir)))?;
    // The directory's birth time too: a directory made right after another
    // was removed gets the same inode number (ext4 hands the freed one out
    // again), and a rebuilt venv's marker may be byte for byte the old one.
    // `-` where the filesystem keeps no birth time.
    let born = files::birth_time(&env.dir).map_or_else(
        || "-".to_owned(),
        |(secs, nanos)| format!("{secs:x}.{nanos:x}"),
    );
    Ok(format!(
        "{:x}.{:x}.{born}.{}",
        dir.dev(),
        dir.ino(),
        digest::sha256(&marker)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_garbage_is_no_record() {
        let record = Record {
            status: Status::Allow,
            config_sha256: "ab".into(),
            envs: BTreeMap::from([("k1".into(), "1.2.cd".into()), ("k2".into(), "-".into())]),
            built: BTreeMap::from([("k1".into(), "1.2.cd".into())]),
            config: b"env_name: x\n---\nmore\n".to_vec(),
        };
        let bytes = record.encode(Path::new("/p\nq"));
        let back = Record::decode(&bytes).unwrap();
        assert_eq!(back.status, Status::Allow);
        assert_eq!(back.config, record.config);
        assert_eq!(back.envs, record.envs);
        assert_eq!(back.built, record.built);
        for garbage in [
            &b""[..],
            b"/p\n",
            b"pyve-approval 1\nstatus allow\n---\n",
            b"pyve-approval 2\nstatus allow\nenv nokey\n---\n",
            b"\xff\n---\n",
        ] {
            assert!(Record::decode(garbage).is_none());
        }
    }
}
