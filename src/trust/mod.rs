//! Which projects may be activated, run or executed, and why not.
//!
//! Putting a project's `bin` first on PATH is running its code, so the hook
//! activates a project only with an approval in the store (`store`): the
//! config approved, byte for byte, and the identity of each environment at
//! that time, so a new config, or an environment replaced by other means
//! than `pyve init`, needs a new approval; a project moved or copied is
//! another path, and unapproved. `pyve init` and `pyve allow` approve;
//! `pyve deny` revokes.
//!
//! Apart from approvals, files another user owns, or others may write, are
//! never used: the config, the project and `.pyve` directories, the
//! environment and what it puts on PATH (`files::owner` says whose a file
//! is). `decide` is the one place where both make a verdict: the hook,
//! `run`, `export` and `doctor` all ask it.

mod changes;
mod store;
mod vcs;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::backend::{Activation, Scripts};
use crate::config::Source;
use crate::files::owner::{self, Unsafe};
use crate::text::shown;
use crate::{digest, layout, paths, vars};

pub use store::Store;

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
    /// Which environment this is: the directory's device and inode (a
    /// rebuilt or replaced one is another) and the marker's content; `-`
    /// when there is none yet. A marker that exists and cannot be read as
    /// a small regular file (a directory, a link to a device or to a file
    /// not readable) is an error, never "none": the hook counts it present.
    fn identity(&self) -> Result<String, String> {
        store::identity(self)
    }

    /// The record's key for this environment: its directory relative to
    /// the project (so the key survives nothing but the same layout).
    fn key(&self, project: &Path) -> String {
        let dir = paths::lexical(&self.dir);
        let relative = dir.strip_prefix(project).unwrap_or(&dir);
        digest::short(relative.as_os_str().as_bytes())
    }
}

/// What the user's approvals and the files' owners say about a project.
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
    /// The environment, or a directory it puts on PATH or runs scripts
    /// from, is another user's or writable by others.
    NotYours(Unsafe),
}

impl Verdict {
    pub fn is_trusted(&self) -> bool {
        *self == Verdict::Trusted
    }

    /// Why the project is held back, and what fixes it.
    pub fn reason(&self) -> (String, String) {
        let (reason, fix): (String, &str) = match self {
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
            Verdict::NotYours(refused) => (refused.message(), refused.fix.as_str()),
        };
        (reason, fix.to_owned())
    }

    /// `reason`, naming where the project's settings are (`source`).
    pub fn reason_for(&self, source: Source) -> (String, String) {
        let (reason, fix) = self.reason();
        let named = match source {
            Source::Pyve => return (reason, fix),
            Source::Pyproject => "[tool.pyve] in pyproject.toml",
            Source::Implicit => "the project",
        };
        let rename = |text: String| text.replace(".pyve/config", named);
        (rename(reason), rename(fix))
    }

    /// The hook's one line about a project it does not activate.
    pub fn blocked(&self, project: &Path, source: Source) -> String {
        let (reason, fix) = self.reason_for(source);
        format!("{}: not activated: {reason}; {fix}", shown(project))
    }

    /// What `pyve run` and `pyve export` say when refusing.
    pub fn refused(&self, project: &Path, source: Source) -> crate::error::Error {
        let (reason, fix) = self.reason_for(source);
        crate::error::user(format!("{}: {reason}", shown(project))).with_hint(format!(
            "{fix}, or pass --trust (or set {}=1, meant for CI)",
            vars::TRUST_ALL
        ))
    }

    /// A short phrase for doctor, status and `allow`.
    pub fn summary(&self) -> String {
        self.summary_for(Source::Pyve)
    }

    /// `summary`, naming where the project's settings are.
    pub fn summary_for(&self, source: Source) -> String {
        match self {
            Verdict::Trusted => "approved by you".to_owned(),
            other => other.reason_for(source).0,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Trusted => "trusted",
            Verdict::Unknown => "not approved",
            Verdict::Denied => "denied",
            Verdict::ConfigChanged(_) => "config changed",
            Verdict::EnvChanged(_) => "environment changed",
            Verdict::EnvUnusable(_) => "environment unusable",
            Verdict::StoreUnsafe(_) => "trust store unsafe",
            Verdict::NotYours(_) => "not yours",
        })
    }
}

/// May this environment of this project be activated (by the hook) or
/// run (by `run`, `export`)? `activation` is what applying it would do
/// (None while the environment does not exist): every directory it puts on
/// PATH or runs scripts from must be the user's, and the user must have
/// approved the project as it is now. The one decision every caller asks:
/// the hook, `run`, `export`, `doctor`, `status` and the listings.
pub fn decide(store: &Store, subject: &Subject, activation: Option<&Activation>) -> Verdict {
    if let Some(activation) = activation {
        for env in subject.envs {
            if let Err(refused) = check_environment(&env.dir, activation) {
                return Verdict::NotYours(refused);
            }
        }
    }
    match store.verdict(subject) {
        Verdict::EnvChanged(dir)
            if subject
                .envs
                .iter()
                .filter(|env| env.dir == dir)
                .all(|env| rebuilt_here(subject.project, env)) =>
        {
            Verdict::Trusted
        }
        // Under a directory the user trusts (and owns alone), what was
        // never approved, or changed since, needs no approval; a denial
        // still stands, an environment must still be usable, and made on
        // this machine (git tracks none of its files): a clone into a
        // trusted directory must not bring its own `.venv/bin`.
        verdict @ (Verdict::Unknown | Verdict::ConfigChanged(_) | Verdict::EnvChanged(_))
            if store.under_trusted_path(subject.project) =>
        {
            for env in subject.envs {
                if let Err(why) = env.identity() {
                    return Verdict::EnvUnusable(why);
                }
                if env.identity().is_ok_and(|id| id != crate::files::MISSING)
                    && !rebuilt_here(subject.project, env)
                {
                    return verdict;
                }
            }
            Verdict::Trusted
        }
        verdict => verdict,
    }
}

/// Whether `prefix`, from the user's `trusted_paths`, may vouch for the
/// projects under it: a directory (links resolved) this user owns and
/// nobody else can write, as direnv and mise require. Returns its real
/// path.
pub fn honoured_prefix(prefix: &Path) -> Result<PathBuf, Unsafe> {
    let refuse = |why: String, fix: &str| Unsafe {
        path: prefix.to_owned(),
        why,
        fix: fix.to_owned(),
    };
    let remove = "remove it from trusted_paths in your pyve config";
    let real = std::fs::canonicalize(prefix)
        .map_err(|e| refuse(format!("cannot be resolved ({e})"), remove))?;
    let metadata =
        std::fs::metadata(&real).map_err(|e| refuse(format!("cannot be read ({e})"), remove))?;
    use std::os::unix::fs::MetadataExt;
    if !metadata.is_dir() {
        return Err(refuse("is not a directory".to_owned(), remove));
    }
    if metadata.uid() != nix::unistd::geteuid().as_raw() {
        return Err(refuse(
            "belongs to another user, so it cannot vouch for what is in it".to_owned(),
            remove,
        ));
    }
    if metadata.mode() & 0o022 != 0 {
        let fix = format!(
            "`chmod go-w {}`, or {remove}",
            crate::shell::posix_word(real.as_os_str().as_encoded_bytes())
        );
        return Err(refuse(
            "others can write to it, so they could put a project there".to_owned(),
            &fix,
        ));
    }
    Ok(real)
}

/// Whether an environment that changed since the approval was rebuilt on
/// this machine (by uv, `python -m venv`, virtualenv) rather than brought
/// by the repository: a pull or checkout writes only files the version
/// control tracks, so an environment none of whose files git tracks was
/// made here. Without git (or with another version control system, which
/// pyve cannot ask) nothing vouches for it.
pub fn rebuilt_here(project: &Path, env: &EnvRef) -> bool {
    if env
        .identity()
        .map_or(true, |id| id == crate::files::MISSING)
    {
        return false;
    }
    let Ok(relative) = env.dir.strip_prefix(project) else {
        // Outside the project: no pull of this repository writes there.
        return true;
    };
    for dir in project.ancestors() {
        if dir.join(".git").exists() {
            return vcs::untracked(project, relative);
        }
        if [".hg", ".svn", ".jj", ".bzr", ".fslckout", "_FOSSIL_"]
            .iter()
            .any(|other| dir.join(other).exists())
        {
            return false;
        }
    }
    true
}

/// The project's directory, its `.pyve` and the file its settings come
/// from (`.pyve/config`, `pyproject.toml`): checked before they are read.
pub fn check_project_files(root: &Path, source: Source) -> Result<(), Unsafe> {
    owner::check(root)?;
    owner::check(&layout::pyve_dir(root))?;
    owner::check(&source.file(root))
}

/// The environment and every directory activation puts on PATH or runs
/// scripts from.
pub fn check_environment(env_dir: &Path, activation: &Activation) -> Result<(), Unsafe> {
    owner::check(env_dir)?;
    for entry in &activation.path_prepend {
        owner::check(Path::new(OsStr::from_bytes(entry)))?;
    }
    if let Some(scripts) = &activation.scripts {
        check_scripts(scripts)?;
    }
    Ok(())
}

/// The environment's `etc/conda`, its script and variable directories and
/// every file in them: a shell sources these, so none may be another
/// user's or writable by others. Checked on entering (with the rest of the
/// environment) and again before deactivation scripts run on leaving, when
/// the state that names them may be old.
pub fn check_scripts(scripts: &Scripts) -> Result<(), Unsafe> {
    owner::check(&scripts.dir)?;
    for sub in Scripts::SUBDIRS {
        let dir = scripts.dir.join(sub);
        owner::check(&dir)?;
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            owner::check(&entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
