//! Whose files these are. pyve never relies on a file another user owns or
//! others may write (as ssh treats its own files): a project's config, its
//! environment, the trust store, the hook's private directory.

use std::fmt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{user, Error};
use crate::shell::posix_word;
use crate::text::shown;

/// A file or directory pyve refuses to use: why, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsafe {
    pub path: PathBuf,
    pub why: String,
    pub fix: String,
}

impl Unsafe {
    /// `path: why`, without the fix.
    pub fn message(&self) -> String {
        format!("{}: {}", shown(&self.path), self.why)
    }
}

impl fmt::Display for Unsafe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.message(), self.fix)
    }
}

impl From<Unsafe> for Error {
    fn from(refused: Unsafe) -> Error {
        user(refused.message()).with_hint(refused.fix)
    }
}

/// Why `path` (with this metadata) must not be used: owned by someone
/// other than this user or root, or writable by others. Group write is
/// accepted for a user-private group (the group named after the user, as
/// with a `umask 002` setup).
pub fn unsafe_owner(path: &Path, metadata: &std::fs::Metadata) -> Option<Unsafe> {
    let refuse = |why: String, fix: String| {
        Some(Unsafe {
            path: path.to_owned(),
            why,
            fix,
        })
    };
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
        return refuse(
            format!("belongs to {name}, not to you, and pyve uses only files you or root own"),
            "take it over with `chown`, or work in your own copy".to_owned(),
        );
    }
    let word = || posix_word(path.as_os_str().as_encoded_bytes());
    let mode = metadata.mode() & 0o7777;
    let sticky_dir = metadata.is_dir() && mode & 0o1000 != 0;
    if mode & 0o002 != 0 && !sticky_dir {
        return refuse(
            format!(
                "writable by every user (mode {mode:04o}), and pyve does not use what others can change"
            ),
            format!("fix it with `chmod o-w {}`", word()),
        );
    }
    if mode & 0o020 != 0 && !private_group(owner, metadata.gid()) {
        let group = nix::unistd::Group::from_gid(metadata.gid().into())
            .ok()
            .flatten()
            .map_or_else(|| format!("gid {}", metadata.gid()), |g| g.name);
        return refuse(
            format!(
                "writable by group {group} (mode {mode:04o}), and pyve does not use what others can change"
            ),
            format!("fix it with `chmod g-w {}`", word()),
        );
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

/// Checks `path` (following symlinks) if it exists.
pub fn check(path: &Path) -> Result<(), Unsafe> {
    match std::fs::metadata(path) {
        Ok(metadata) => unsafe_owner(path, &metadata).map_or(Ok(()), Err),
        Err(_) => Ok(()),
    }
}

/// Whether `dir` is a directory of this user's alone: not a link, owned by
/// this user, writable by nobody else. pyve's own directories (the trust
/// store, the hook's stamps, the interpreter cache) must be; one that is
/// not is never used, whoever made it.
pub fn check_private_dir(dir: &Path) -> Result<(), Unsafe> {
    let refuse = |why: &str| Unsafe {
        path: dir.to_owned(),
        why: why.to_owned(),
        fix: "remove it; pyve makes it again, private".to_owned(),
    };
    let metadata = std::fs::symlink_metadata(dir).map_err(|e| refuse(&e.to_string()))?;
    if !metadata.is_dir() {
        return Err(refuse("is not a directory"));
    }
    if metadata.uid() != nix::unistd::geteuid().as_raw() {
        return Err(refuse("belongs to another user"));
    }
    if metadata.mode() & 0o022 != 0 {
        return Err(Unsafe {
            fix: format!(
                "fix it with `chmod go-w {}`",
                posix_word(dir.as_os_str().as_encoded_bytes())
            ),
            ..refuse("is writable by others")
        });
    }
    Ok(())
}

/// Whether `file` is a regular file (not a link) of this user's that
/// nobody else can write: one pyve wrote into a private directory.
pub fn is_private_file(file: &Path) -> bool {
    std::fs::symlink_metadata(file).is_ok_and(|m| {
        m.is_file() && m.uid() == nix::unistd::geteuid().as_raw() && m.mode() & 0o022 == 0
    })
}

/// Creates `dir` (and its parents) with mode 0700 where missing, then
/// checks that it is private.
pub fn private_dir(dir: &Path) -> Result<(), Unsafe> {
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir);
    check_private_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_directories_are_this_users_alone() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
        let refused = check_private_dir(&dir).unwrap_err();
        assert!(refused.why.contains("writable by others"), "{refused}");
        assert!(refused.fix.contains("chmod go-w"), "{refused}");
        let link = base.path().join("link");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(check_private_dir(&link).is_err(), "a link is not followed");
        let file = base.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(check_private_dir(&file).is_err());
    }

    #[test]
    fn world_writable_files_are_refused_with_the_command_that_fixes_them() {
        let base = tempfile::tempdir().unwrap();
        let file = base.path().join("it's");
        std::fs::write(&file, "").unwrap();
        assert_eq!(check(&file), Ok(()));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        let refused = check(&file).unwrap_err();
        assert!(refused
            .why
            .starts_with("writable by every user (mode 0666)"));
        assert!(refused.fix.ends_with("'\\''s'`"), "{}", refused.fix);
        assert_eq!(check(&base.path().join("absent")), Ok(()));
    }
}
