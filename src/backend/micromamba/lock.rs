//! The lock file policy: a stale or missing `conda-lock.yml` is said (and
//! asked about, on a terminal), refused under `strict`, or ignored.

use super::spec::{self, LockStatus, SpecFiles};
use crate::ask;
use crate::config::LockPolicy;
use crate::error::{user, Error};

/// Applies the lock file policy: warns (and asks, on a terminal), refuses
/// under `strict`, or says nothing under `ignore`.
pub(super) fn check_lock(
    files: &SpecFiles,
    policy: LockPolicy,
    interactive: bool,
    yes: bool,
) -> Result<(), Error> {
    if policy == LockPolicy::Ignore {
        return Ok(());
    }
    let status = spec::lock_status(files)?;
    let strict = policy == LockPolicy::Strict;
    let (environment_file, lock_file) = (files.environment_name(), files.lock_name());
    match status {
        LockStatus::LockOnly | LockStatus::Fresh => Ok(()),
        LockStatus::Missing => {
            let advice = format!(
                "for reproducible builds, generate a lock file: {}{}",
                spec::lock_command(files),
                if files.lock.is_none() {
                    format!(" and set `lock_file: {lock_file}` in the environment's entry")
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
        LockStatus::Stale {
            environment_modified,
            lock_modified,
            older,
            not_locked,
        } => {
            let mut message = format!("{lock_file} may be stale:\n");
            message.push_str(&format!(
                "  {environment_file}:  modified {}\n  {lock_file}:   modified {}\n",
                crate::text::timestamp(environment_modified),
                crate::text::timestamp(lock_modified)
            ));
            if older {
                message.push_str(&format!(
                    "  {environment_file} was changed after the lock was made\n"
                ));
            }
            if !not_locked.is_empty() {
                message.push_str(&format!("  not in the lock: {}\n", not_locked.join(", ")));
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
