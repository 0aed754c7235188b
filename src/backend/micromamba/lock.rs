//! Whether the lock file still matches the environment file, and the lock
//! file policy: a stale or missing lock is said (and asked about, on a
//! terminal), refused under `strict`, or ignored.
//!
//! Stale means what it means to conda-lock: the lock's `content_hash` for
//! a platform differs from the environment file's, recomputed here; or the
//! file asks for a platform the lock lacks. Only when the hash cannot be
//! recomputed (see `content_hash`) are file times compared instead.

use std::path::Path;
use std::time::SystemTime;

use super::content_hash;
use super::spec::{self, SpecFiles};
use crate::ask;
use crate::config::LockPolicy;
use crate::error::{user, Error};
use crate::text::shown;

/// How the lock file relates to the environment file.
#[derive(Debug)]
pub enum LockStatus {
    /// Only a lock file: nothing to compare.
    LockOnly,
    /// Only the environment file.
    Missing,
    Fresh(Basis),
    /// Why it is stale, one line each.
    Stale(Vec<String>, Basis),
}

/// What the verdict rests on.
#[derive(Debug, PartialEq, Eq)]
pub enum Basis {
    /// conda-lock's content hash, recomputed.
    Content,
    /// File times and package names, because (the reason) the hash could
    /// not be recomputed.
    Times(String),
}

impl Basis {
    /// A note for messages when the verdict is only by file times.
    pub fn note(&self) -> String {
        match self {
            Basis::Content => String::new(),
            Basis::Times(why) => format!(" (compared by file times: {why})"),
        }
    }
}

/// The lock's status, hashing with `channels` when they replace the
/// file's (as `pyve lock` passes them to conda-lock).
pub fn status(files: &SpecFiles, channels: &[String]) -> Result<LockStatus, Error> {
    let Some(lock_path) = files.lock_path() else {
        return Ok(LockStatus::Missing);
    };
    let environment = files.environment_path();
    match (lock_path.is_file(), environment.is_file()) {
        (true, false) => return Ok(LockStatus::LockOnly),
        (false, _) => return Ok(LockStatus::Missing),
        (true, true) => {}
    }
    let lock = spec::read_lock(&lock_path)?;
    let text = String::from_utf8_lossy(&spec::read_bytes(&environment)?).into_owned();
    let (environment_name, lock_name) = (files.environment_name(), files.lock_name());
    let mut reasons = Vec::new();
    let unlocked: Vec<String> = content_hash::file_platforms(&text)
        .into_iter()
        .filter(|p| !lock.platforms.contains(p))
        .collect();
    if !unlocked.is_empty() {
        reasons.push(format!(
            "{environment_name} lists platforms the lock lacks: {}",
            unlocked.join(", ")
        ));
    }
    let basis = match by_content(&text, &lock.content_hash, channels) {
        Ok(changed) => {
            if !changed.is_empty() {
                reasons.push(format!(
                    "{environment_name} changed since {lock_name} was made (its content hash for {} differs)",
                    changed.join(", ")
                ));
            }
            Basis::Content
        }
        Err(why) => {
            reasons.extend(by_times(&environment, &lock_path, &lock, files)?);
            Basis::Times(why)
        }
    };
    Ok(if reasons.is_empty() {
        LockStatus::Fresh(basis)
    } else {
        LockStatus::Stale(reasons, basis)
    })
}

/// The platforms whose recorded hash differs from the file's.
fn by_content(
    text: &str,
    recorded: &[(String, String)],
    channels: &[String],
) -> Result<Vec<String>, String> {
    if recorded.is_empty() {
        return Err("the lock has no metadata.content_hash".to_owned());
    }
    let mut changed = Vec::new();
    for (platform, hash) in recorded {
        let now = content_hash::content_hash(text, platform, channels)
            .map_err(|e| format!("pyve cannot recompute conda-lock's hash for {}", e.0))?;
        if now != *hash {
            changed.push(platform.clone());
        }
    }
    Ok(changed)
}

/// The older test: the environment file is newer than the lock, or names
/// packages the lock does not hold for this platform.
fn by_times(
    environment: &Path,
    lock_path: &Path,
    lock: &spec::LockFile,
    files: &SpecFiles,
) -> Result<Vec<String>, Error> {
    let modified = |p: &Path| -> Result<SystemTime, Error> {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .map_err(|e| user(format!("{}: {e}", shown(p))))
    };
    let (environment_modified, lock_modified) = (modified(environment)?, modified(lock_path)?);
    let mut reasons = Vec::new();
    if environment_modified > lock_modified {
        reasons.push(format!(
            "{} (modified {}) is newer than {} (modified {})",
            files.environment_name(),
            crate::text::timestamp(environment_modified),
            files.lock_name(),
            crate::text::timestamp(lock_modified)
        ));
    }
    let locked = lock.conda_names();
    let not_locked: Vec<String> = spec::read_environment(environment)?
        .packages
        .into_iter()
        .filter(|p| !p.is_empty() && !locked.contains(p))
        .collect();
    if !not_locked.is_empty() {
        reasons.push(format!("not in the lock: {}", not_locked.join(", ")));
    }
    Ok(reasons)
}

/// Applies the lock file policy: warns (and asks, on a terminal), refuses
/// under `strict`, or says nothing under `ignore`.
pub(super) fn check_lock(
    files: &SpecFiles,
    channels: &[String],
    policy: LockPolicy,
    interactive: bool,
    yes: bool,
) -> Result<(), Error> {
    if policy == LockPolicy::Ignore {
        return Ok(());
    }
    let strict = policy == LockPolicy::Strict;
    let (environment_file, lock_file) = (files.environment_name(), files.lock_name());
    match status(files, channels)? {
        LockStatus::LockOnly | LockStatus::Fresh(_) => Ok(()),
        LockStatus::Missing => {
            let advice = format!(
                "for reproducible builds, generate a lock file: {}{}",
                spec::lock_command(files),
                if files.lock.is_none() {
                    format!(" after setting `lock_file: {lock_file}` in the environment's entry")
                } else {
                    String::new()
                }
            );
            if strict {
                return Err(user(format!(
                    "no {lock_file} (lock_file_policy is strict); {advice}"
                )));
            }
            // A note for people; CI logs stay quiet.
            if interactive {
                info!("using {environment_file} without a lock file; {advice}");
            }
            Ok(())
        }
        LockStatus::Stale(reasons, basis) => {
            let mut message = format!("{lock_file} is stale{}:\n", basis.note());
            for reason in &reasons {
                message.push_str(&format!("  {reason}\n"));
            }
            message.push_str(&format!(
                "{lock_file} is used, for reproducibility. To update it:\n  {}",
                spec::lock_command(files)
            ));
            if strict {
                return Err(user(format!("{message}\n(lock_file_policy is strict)")));
            }
            if !interactive {
                // No terminal: never a question, and CI logs stay quiet.
                return Ok(());
            }
            warn!("{message}");
            if yes {
                info!("continuing (--yes)");
                return Ok(());
            }
            if ask::confirm_default_yes("Continue anyway?") {
                Ok(())
            } else {
                Err(user(
                    "stopped; nothing was changed. Update the lock file and run `pyve init` again",
                ))
            }
        }
    }
}
