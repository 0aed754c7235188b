//! Which projects this user approved, and which files pyve may rely on.
//!
//! Putting a project's `bin` first on PATH is running its code, so the hook
//! activates a project only with an approval: a record under
//! `$XDG_DATA_HOME/pyve/trust/` (default `~/.local/share/pyve/trust/`),
//! one file per project named by sha256 of the project's real path. It holds
//! the sha256 of the config approved (and the config itself, to say what
//! changed) and the identity of the environment at that time, so a new
//! config, or an environment replaced by other means than `pyve init`,
//! needs a new approval; a project moved or copied is another path, and
//! unapproved. `pyve init` and `pyve allow` approve; `pyve deny` revokes.
//!
//! Apart from approvals, files another user owns, or others may write, are
//! never used (as ssh treats its own files): the config, the project and
//! `.pyve` directories, the environment and what it puts on PATH.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::backend::micromamba::spec::hex;
use crate::config::shown;

/// Set to `1` (CI), it makes `pyve run` and `pyve export` treat every
/// project as approved. The hook ignores it.
pub const TRUST_ALL_VAR: &str = "PYVE_TRUST_ALL";

pub fn trust_all() -> bool {
    std::env::var_os(TRUST_ALL_VAR).is_some_and(|v| {
        let v = v.to_string_lossy().to_ascii_lowercase();
        matches!(v.as_str(), "1" | "true" | "yes")
    })
}

/// Where approvals live; None when neither XDG_DATA_HOME nor HOME is set.
pub fn store_dir() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .or_else(|| crate::python::home().map(|h| h.join(".local/share")))?;
    Some(data.join("pyve/trust"))
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A short digest, for tokens that only need to tell values apart.
pub fn short_digest(bytes: &[u8]) -> String {
    sha256(bytes)[..16].to_owned()
}

/// The record of the project at real path `project`.
pub fn record_path(project: &Path) -> Option<PathBuf> {
    Some(store_dir()?.join(sha256(project.as_os_str().as_bytes())))
}

/// What an approval covers, as the project is now.
pub struct Subject<'a> {
    /// The project's real path.
    pub project: &'a Path,
    pub config: &'a [u8],
    /// The environments concerned: the one to activate, or, approving, all
    /// of the project's.
    pub envs: &'a [EnvRef],
}

/// One environment: its directory and the backend's marker inside it
/// (`pyvenv.cfg`, conda's build record).
#[derive(Debug, Clone)]
pub struct EnvRef {
    pub dir: PathBuf,
    pub marker: PathBuf,
}

impl EnvRef {
    pub fn of(resolved: &crate::project::Resolved) -> EnvRef {
        EnvRef {
            dir: resolved.env_dir.clone(),
            marker: resolved.backend.marker(&resolved.env_dir),
        }
    }

    /// Which environment this is: the directory's device and inode (a
    /// rebuilt or replaced one is another) and the marker's content; `-`
    /// when there is none yet. A marker that exists and cannot be read as
    /// a small regular file (a directory, a link to a device or to a file
    /// not readable) is an error, never "none": the hook counts it present.
    fn identity(&self) -> Result<String, String> {
        const MAX_MARKER_BYTES: u64 = 1 << 20;
        let marker = match crate::files::read_bounded(&self.marker, MAX_MARKER_BYTES) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok("-".to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(format!(
                    "{} is not a small regular file, as an environment's marker is",
                    shown(&self.marker)
                ))
            }
            Err(e) => return Err(format!("cannot read {}: {e}", shown(&self.marker))),
        };
        let dir = std::fs::metadata(&self.dir)
            .map_err(|e| format!("cannot read {}: {e}", shown(&self.dir)))?;
        Ok(format!(
            "{:x}.{:x}.{}",
            dir.dev(),
            dir.ino(),
            sha256(&marker)
        ))
    }

    /// The record's key for this environment: its directory relative to
    /// the project (so the key survives nothing but the same layout).
    fn key(&self, project: &Path) -> String {
        let dir = crate::project::lexical(&self.dir);
        let relative = dir.strip_prefix(project).unwrap_or(&dir);
        short_digest(relative.as_os_str().as_bytes())
    }
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

fn read_record(project: &Path) -> Option<Record> {
    let path = record_path(project)?;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_RECORD_BYTES), &mut bytes)
        .ok()?;
    Record::decode(&bytes)
}

/// What the store says about a project as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Trusted,
    /// Never approved at this path.
    Unknown,
    Denied,
    /// Approved with another config; says which keys differ.
    ConfigChanged(String),
    /// Approved, but this environment appeared or was replaced since, and
    /// not by `pyve init`.
    EnvChanged(PathBuf),
    /// The environment's marker is there and cannot be what pyve makes.
    EnvUnusable(String),
    /// The store itself cannot be relied on; says why.
    StoreUnsafe(String),
}

impl Verdict {
    pub fn is_trusted(&self) -> bool {
        *self == Verdict::Trusted
    }

    /// Why the project is held back, and what approves it.
    fn reason(&self) -> (String, &'static str) {
        match self {
            Verdict::Trusted => (String::new(), ""),
            Verdict::Unknown => (
                "you have not approved this project (its environment would go first on PATH)"
                    .into(),
                "review .pyve/config and run `pyve allow`",
            ),
            Verdict::Denied => (
                "you denied it with `pyve deny`".into(),
                "`pyve allow` approves it again",
            ),
            Verdict::ConfigChanged(what) => (
                format!(".pyve/config changed since you approved it ({what})"),
                "review the change and run `pyve allow`",
            ),
            Verdict::EnvChanged(env_dir) => (
                format!(
                    "the environment {} was created or replaced since you approved the project, \
                     and not by `pyve init`",
                    shown(env_dir)
                ),
                "review it and run `pyve allow`, or rebuild it with `pyve init --force`",
            ),
            Verdict::StoreUnsafe(why) => (why.clone(), "fix that, then run `pyve allow`"),
            Verdict::EnvUnusable(why) => (
                format!("the environment is not one pyve can vouch for: {why}"),
                "rebuild it with `pyve init --force`",
            ),
        }
    }

    /// The hook's one line about a project it does not activate.
    pub fn blocked(&self, project: &Path) -> String {
        let (reason, fix) = self.reason();
        format!("{}: not activated: {reason}; {fix}", shown(project))
    }

    /// What `pyve run` and `pyve export` say when refusing.
    pub fn refused(&self, project: &Path) -> String {
        let (reason, fix) = self.reason();
        format!(
            "{}: {reason}; {fix}, or pass --trust (or set {TRUST_ALL_VAR}=1, meant for CI)",
            shown(project)
        )
    }

    /// A short phrase for doctor and `allow`.
    pub fn summary(&self) -> String {
        match self {
            Verdict::Trusted => "approved by you".to_owned(),
            other => other.reason().0,
        }
    }
}

/// Whether the store's directory is this user's alone: an approval anyone
/// else could write is no approval.
fn check_store(dir: &Path) -> Result<(), String> {
    check_owner(dir).map_err(|u| format!("the trust store {u}"))
}

pub fn verdict(subject: &Subject) -> Verdict {
    let Some(dir) = store_dir() else {
        return Verdict::Unknown;
    };
    if let Err(why) = check_store(&dir) {
        return Verdict::StoreUnsafe(why);
    }
    let Some(record) = read_record(subject.project) else {
        return Verdict::Unknown;
    };
    if record.status == Status::Deny {
        return Verdict::Denied;
    }
    if record.config_sha256 != sha256(subject.config) {
        return Verdict::ConfigChanged(changed_keys(&record.config, subject.config));
    }
    for env in subject.envs {
        let approved = record
            .envs
            .get(&env.key(subject.project))
            .map_or("-", String::as_str);
        match env.identity() {
            Err(why) => return Verdict::EnvUnusable(why),
            Ok(identity) if identity != approved => return Verdict::EnvChanged(env.dir.clone()),
            Ok(_) => {}
        }
    }
    Verdict::Trusted
}

/// Whether the user approved the project at this path at some point (and
/// did not deny it since), whatever its config is now.
pub fn approved_once(project: &Path) -> bool {
    store_dir().is_some_and(|dir| check_store(&dir).is_ok())
        && read_record(project).is_some_and(|r| r.status == Status::Allow)
}

/// The record file's fingerprint: the engine compares it with the one it
/// recorded to learn, with one stat, that an approval may have changed.
pub fn record_fingerprint(project: &Path) -> String {
    record_path(project)
        .and_then(|p| std::fs::metadata(p).ok())
        .map_or_else(
            || "-".to_owned(),
            |m| {
                format!(
                    "{:x}.{:x}.{:x}.{:x}",
                    m.ino(),
                    m.len(),
                    m.mtime(),
                    m.mtime_nsec()
                )
            },
        )
}

/// Approves the project as it is now, with the environments in
/// `subject.envs`; an environment approved before and not listed keeps its
/// approval. `built` is the one pyve has just built (init), so later
/// approvals can tell it from a foreign one. Returns the environments that
/// exist and that pyve did not build: what they put on PATH is whatever the
/// repository or someone else put there.
pub fn grant(subject: &Subject, built: Option<&EnvRef>) -> Result<Vec<PathBuf>, String> {
    let previous = read_record(subject.project);
    let mut built_map = previous
        .as_ref()
        .map(|r| r.built.clone())
        .unwrap_or_default();
    let mut envs = previous
        .filter(|r| r.status == Status::Allow)
        .map(|r| r.envs)
        .unwrap_or_default();
    if let Some(env) = built {
        built_map.insert(env.key(subject.project), env.identity()?);
    }
    let mut foreign = Vec::new();
    for env in subject.envs {
        let key = env.key(subject.project);
        let identity = env.identity()?;
        if identity != "-" && built_map.get(&key) != Some(&identity) {
            foreign.push(env.dir.clone());
        }
        envs.insert(key, identity);
    }
    write_record(
        subject.project,
        &Record {
            status: Status::Allow,
            config_sha256: sha256(subject.config),
            envs,
            built: built_map,
            config: subject.config.to_vec(),
        },
    )?;
    Ok(foreign)
}

/// Revokes the approval of the project at real path `project`, keeping a
/// record that the user said no.
pub fn deny(project: &Path) -> Result<(), String> {
    write_record(
        project,
        &Record {
            status: Status::Deny,
            config_sha256: String::new(),
            envs: BTreeMap::new(),
            built: read_record(project).map(|r| r.built).unwrap_or_default(),
            config: Vec::new(),
        },
    )
}

/// Drops the project's record (after `pyve purge`).
pub fn forget(project: &Path) {
    if let Some(path) = record_path(project) {
        let _ = std::fs::remove_file(path);
    }
}

fn write_record(project: &Path, record: &Record) -> Result<(), String> {
    let dir = store_dir().ok_or("neither XDG_DATA_HOME nor HOME is set")?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("cannot create {}: {e}", shown(&dir)))?;
    check_store(&dir)?;
    let file = dir.join(sha256(project.as_os_str().as_bytes()));
    let temporary = dir.join(format!(".tmp-{}", std::process::id()));
    let result = (|| {
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&temporary)?;
        out.write_all(&record.encode(project))?;
        out.sync_all()?;
        std::fs::rename(&temporary, &file)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.map_err(|e| format!("cannot write {}: {e}", shown(&file)))
}

/// Which keys differ between two configs, as `a, b.c`; falls back to a
/// plain description when either does not parse.
fn changed_keys(approved: &[u8], now: &[u8]) -> String {
    fn flatten(prefix: &str, value: &serde_yaml_ng::Value, out: &mut BTreeMap<String, String>) {
        match value {
            serde_yaml_ng::Value::Mapping(map) => {
                for (key, value) in map {
                    let key = match key {
                        serde_yaml_ng::Value::String(s) => s.clone(),
                        other => serde_yaml_ng::to_string(other).unwrap_or_default(),
                    };
                    let key = crate::config::one_line(key.trim());
                    let path = if prefix.is_empty() {
                        key
                    } else {
                        format!("{prefix}.{key}")
                    };
                    flatten(&path, value, out);
                }
            }
            other => {
                out.insert(
                    prefix.to_owned(),
                    serde_yaml_ng::to_string(other).unwrap_or_default(),
                );
            }
        }
    }
    let parse = |bytes: &[u8]| {
        let text = std::str::from_utf8(bytes).ok()?;
        let value: serde_yaml_ng::Value = if text.trim().is_empty() {
            serde_yaml_ng::Value::Null
        } else {
            serde_yaml_ng::from_str(text).ok()?
        };
        let mut flat = BTreeMap::new();
        if !value.is_null() {
            flatten("", &value, &mut flat);
        }
        Some(flat)
    };
    let (Some(old), Some(new)) = (parse(approved), parse(now)) else {
        return "its content differs".to_owned();
    };
    let keys: Vec<&String> = old
        .keys()
        .chain(new.keys().filter(|k| !old.contains_key(*k)))
        .filter(|k| old.get(*k) != new.get(*k))
        .collect();
    match keys.len() {
        0 => "comments or layout only".to_owned(),
        1 => format!("key {}", keys[0]),
        n if n <= 6 => format!(
            "keys {}",
            keys.iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        n => format!(
            "keys {} and {} more",
            keys[..5]
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            n - 5
        ),
    }
}

/// Why `path` (with this metadata) must not be used: owned by someone
/// other than this user or root, or writable by others. Group write is
/// accepted for a user-private group (the group named after the user, as
/// with a `umask 002` setup).
pub fn unsafe_owner(path: &Path, metadata: &std::fs::Metadata) -> Option<String> {
    let me = nix::unistd::geteuid().as_raw();
    let owner = metadata.uid();
    if owner != me && owner != 0 {
        let name = nix::unistd::User::from_uid(owner.into())
            .ok()
            .flatten()
            .map_or_else(
                || format!("uid {owner}"),
                |u| format!("{} (uid {owner})", u.name),
            );
        return Some(format!(
            "belongs to {name}, not to you; pyve uses only files you or root own \
             (take it over with `chown`, or work in your own copy)"
        ));
    }
    let mode = metadata.mode() & 0o7777;
    let sticky_dir = metadata.is_dir() && mode & 0o1000 != 0;
    if mode & 0o002 != 0 && !sticky_dir {
        return Some(format!(
            "writable by every user (mode {mode:04o}); pyve does not use what others can change \
             (fix: `chmod o-w {}`)",
            crate::shell::posix_word(path.as_os_str().as_bytes())
        ));
    }
    if mode & 0o020 != 0 && !private_group(owner, metadata.gid()) {
        let group = nix::unistd::Group::from_gid(metadata.gid().into())
            .ok()
            .flatten()
            .map_or_else(|| format!("gid {}", metadata.gid()), |g| g.name);
        return Some(format!(
            "writable by group {group} (mode {mode:04o}); pyve does not use what others can change \
             (fix: `chmod g-w {}`)",
            crate::shell::posix_word(path.as_os_str().as_bytes())
        ));
    }
    None
}

fn private_group(uid: u32, gid: u32) -> bool {
    let user = nix::unistd::User::from_uid(uid.into()).ok().flatten();
    let group = nix::unistd::Group::from_gid(gid.into()).ok().flatten();
    match (user, group) {
        (Some(user), Some(group)) => {
            user.gid.as_raw() == gid
                && group.name == user.name
                && group.mem.iter().all(|m| *m == user.name)
        }
        _ => false,
    }
}

/// A file or directory pyve refuses to use, and why.
#[derive(Debug)]
pub struct Unsafe {
    pub path: PathBuf,
    pub why: String,
}

impl fmt::Display for Unsafe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", shown(&self.path), self.why)
    }
}

/// Checks `path` (following symlinks) if it exists.
pub fn check_owner(path: &Path) -> Result<(), Unsafe> {
    match std::fs::metadata(path) {
        Ok(metadata) => unsafe_owner(path, &metadata).map_or(Ok(()), |why| {
            Err(Unsafe {
                path: path.to_owned(),
                why,
            })
        }),
        Err(_) => Ok(()),
    }
}

/// The project's directory, its `.pyve` and its config: checked before the
/// config is read.
pub fn check_project_files(root: &Path) -> Result<(), Unsafe> {
    check_owner(root)?;
    check_owner(&root.join(".pyve"))?;
    check_owner(&crate::project::config_path(root))
}

/// The environment and every directory activation puts on PATH or runs
/// scripts from: checked before it is activated.
pub fn check_environment(
    env_dir: &Path,
    activation: &crate::backend::Activation,
) -> Result<(), Unsafe> {
    check_owner(env_dir)?;
    for entry in &activation.path_prepend {
        check_owner(Path::new(OsStr::from_bytes(entry)))?;
    }
    if let Some(scripts) = &activation.scripts {
        for sub in ["activate.d", "deactivate.d", "env_vars.d"] {
            check_owner(&scripts.dir.join(sub))?;
        }
    }
    Ok(())
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Trusted => "trusted",
            Verdict::Unknown => "not approved",
            Verdict::Denied => "denied",
            Verdict::ConfigChanged(_) => "config changed",
            Verdict::EnvChanged(_) => "environment changed",
            Verdict::EnvUnusable(_) => "environment unusable",
            Verdict::StoreUnsafe(_) => "trust store unsafe",
        })
    }
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

    #[test]
    fn changed_keys_names_what_differs() {
        assert_eq!(changed_keys(b"a: 1\n", b"a: 2\n"), "key a");
        assert_eq!(
            changed_keys(b"a: 1\n", b"a: 1 # c\n"),
            "comments or layout only"
        );
        assert_eq!(
            changed_keys(b"venv:\n  directory: x\n", b"venv:\n  directory: y\nb: 1\n"),
            "keys venv.directory, b"
        );
        assert_eq!(changed_keys(b"", b"env_name: x\n"), "key env_name");
        assert_eq!(changed_keys(b"a: [", b"a: 1"), "its content differs");
    }
}
