//! Removing what pyve made inside a project without ever following a
//! link: every directory on the way is opened relative to the one before
//! it, refusing a link, and the tree is deleted through those handles. A
//! directory swapped for a link to somewhere else between the question and
//! the removal (`sub` -> `/elsewhere`) is refused at that moment, and
//! nothing outside the project is deleted.

use std::ffi::{CString, OsStr};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use nix::dir::{Dir, Type};
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

use crate::error::{user, Error};
use crate::text::shown;

/// A directory opened for walking: never through a link.
fn open_dir(at: &impl std::os::fd::AsFd, name: &OsStr) -> nix::Result<OwnedFd> {
    openat(
        at,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// Removes `path`, which must be inside the project at `root` (its real
/// path), and everything below it. A link is removed as a link. Missing is
/// not an error.
pub fn remove_inside(root: &Path, path: &Path) -> Result<(), Error> {
    let fail = |e: Errno| user(format!("cannot remove {}: {}", shown(path), e.desc()));
    let relative = path
        .strip_prefix(root)
        .map_err(|_| user(format!("{} is not inside {}", shown(path), shown(root))))?;
    let names: Vec<&OsStr> = relative
        .components()
        .map(|c| match c {
            Component::Normal(name) => Ok(name),
            _ => Err(user(format!("{} is not a plain path", shown(path)))),
        })
        .collect::<Result<_, _>>()?;
    let Some((last, parents)) = names.split_last() else {
        return Err(user(format!("{} is the project itself", shown(path))));
    };
    let mut dir: OwnedFd = std::fs::File::open(root)
        .map_err(|e| user(format!("cannot open {}: {e}", shown(root))))?
        .into();
    for (depth, name) in parents.iter().enumerate() {
        dir = match open_dir(&dir, name) {
            Ok(next) => next,
            Err(Errno::ENOENT) => return Ok(()),
            Err(Errno::ELOOP | Errno::ENOTDIR) => {
                let on_the_way: std::path::PathBuf = std::iter::once(root)
                    .chain(parents[..=depth].iter().map(Path::new))
                    .collect();
                return Err(user(format!(
                    "{} is not a directory of the project any more (a link now?); nothing under it was removed",
                    shown(&on_the_way)
                )));
            }
            Err(e) => return Err(fail(e)),
        };
    }
    remove_at(&dir, last).map_err(fail)
}

/// Removes the entry `name` of the directory `dir`: a directory with all
/// below it, anything else (a link too) as itself.
fn remove_at(dir: &OwnedFd, name: &OsStr) -> nix::Result<()> {
    let stat = match fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(stat) => stat,
        Err(Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT != SFlag::S_IFDIR {
        return unlinkat(dir, name, UnlinkatFlags::NoRemoveDir);
    }
    let child = open_dir(dir, name)?;
    empty(child)?;
    unlinkat(dir, name, UnlinkatFlags::RemoveDir)
}

/// Removes everything in the directory opened as `fd`.
fn empty(fd: OwnedFd) -> nix::Result<()> {
    let mut listing = Dir::from_fd(fd)?;
    let entries: Vec<(CString, Option<Type>)> = listing
        .iter()
        .filter_map(Result::ok)
        .filter(|e| !matches!(e.file_name().to_bytes(), b"." | b".."))
        .map(|e| (e.file_name().to_owned(), e.file_type()))
        .collect();
    // The listing's own descriptor walks on; a second one is opened for
    // each subdirectory, never through a link.
    let dir: OwnedFd = open_dir(&listing, OsStr::new("."))?;
    drop(listing);
    for (name, kind) in entries {
        let name = OsStr::from_bytes(name.as_bytes());
        match kind {
            Some(Type::Directory) | None => remove_at(&dir, name)?,
            Some(_) => match unlinkat(&dir, name, UnlinkatFlags::NoRemoveDir) {
                Ok(()) | Err(Errno::ENOENT) => {}
                Err(e) => return Err(e),
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_a_tree_and_never_follows_a_link() {
        let base = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(base.path()).unwrap();
        let (root, outside) = (base.join("p"), base.join("outside"));
        std::fs::create_dir_all(root.join("sub/venv/bin")).unwrap();
        std::fs::create_dir_all(outside.join("venv")).unwrap();
        std::fs::write(outside.join("keep"), "x").unwrap();
        std::fs::write(root.join("sub/venv/bin/python"), "").unwrap();
        // Links inside the tree are removed as links.
        std::os::unix::fs::symlink(&outside, root.join("sub/venv/out")).unwrap();
        remove_inside(&root, &root.join("sub/venv")).unwrap();
        assert!(!root.join("sub/venv").exists());
        assert!(outside.join("keep").exists() && outside.join("venv").exists());
        // `sub` swapped for a link out of the project: refused, nothing
        // outside removed.
        std::fs::remove_dir(root.join("sub")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("sub")).unwrap();
        let error = remove_inside(&root, &root.join("sub/venv")).unwrap_err();
        assert!(
            error
                .message()
                .contains("not a directory of the project any more"),
            "{error}"
        );
        assert!(outside.join("venv").exists());
        // The link itself, named, is removed as a link.
        remove_inside(&root, &root.join("sub")).unwrap();
        assert!(std::fs::symlink_metadata(root.join("sub")).is_err());
        assert!(outside.join("keep").exists());
        assert!(remove_inside(&root, &root.join("absent")).is_ok());
    }
}
