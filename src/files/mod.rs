//! Filesystem helpers every layer shares: reads bounded by what is actually
//! read, replacing a file in one step, fingerprints of files without
//! reading them, and (in `owner`) whose files pyve may rely on.

pub mod block;
mod born;
mod exchange;
pub mod owner;
pub use born::birth_time;
pub use exchange::exchange;
mod remove;

pub use remove::remove_inside;

use std::fs::Metadata;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{user, Error};
use crate::text::shown;

/// Why a bounded read of a file gave nothing.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing at that path (or a link to nothing).
    NotFound,
    /// A directory, a device, a FIFO: nothing pyve reads as a file.
    NotRegular,
    /// More bytes than the bound, counted as read (a `/proc` file reports
    /// size 0).
    TooLarge(u64),
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("does not exist"),
            ReadError::NotRegular => f.write_str("is not a regular file"),
            ReadError::TooLarge(max) => write!(f, "is larger than {max} bytes"),
            ReadError::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> ReadError {
        match e.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            _ => ReadError::Io(e),
        }
    }
}

/// Opens a regular file for reading, following links. Checked before the
/// open, since opening a device can act (a link to a tape or a watchdog);
/// opened without blocking and checked again on the descriptor: a
/// repository can make any name a FIFO, whose open would wait forever, or
/// swap a file for one between the check and the open. The descriptor's
/// metadata comes with it.
pub fn open_regular(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), ReadError> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(ReadError::NotRegular);
    }
    let flags = nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_NOCTTY;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits())
        .open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(ReadError::NotRegular);
    }
    Ok((file, metadata))
}

/// Reads a regular file of at most `max` bytes, bounded by the bytes
/// actually read: every file a repository or an environment controls is
/// read this way, so a link to `/dev/zero`, a FIFO or a `/proc` file can
/// neither hang pyve nor fill its memory.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    read_bounded_with_metadata(path, max).map(|(bytes, _)| bytes)
}

/// `read_bounded`, with the metadata of the very file read (its owner and
/// mode, checked on what was read rather than on a path that may have
/// changed in between).
pub fn read_bounded_with_metadata(
    path: &Path,
    max: u64,
) -> Result<(Vec<u8>, std::fs::Metadata), ReadError> {
    let (mut file, metadata) = open_regular(path)?;
    // Room for the whole file as its length says (a hint: it may change
    // while read), and a byte more, so a small file takes one read and one
    // that finds its end, not reads of 32, 64, 128… bytes.
    let hint = metadata.len().min(max).saturating_add(1);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    (&mut file).take(max).read_to_end(&mut bytes)?;
    // Fewer than `max` bytes: the file ended. Else one more read says
    // whether there is more. Eight bytes: some files (`/proc/*/pagemap`)
    // refuse reads of a size that is not a multiple.
    let mut probe = [0u8; 8];
    if bytes.len() as u64 == max && file.read(&mut probe)? > 0 {
        return Err(ReadError::TooLarge(max));
    }
    Ok((bytes, metadata))
}

/// The sha256 of a regular file's content, read in blocks, at most `max`
/// bytes of it.
pub fn sha256_of(path: &Path, max: u64) -> Result<String, ReadError> {
    let (mut file, _) = open_regular(path)?;
    let mut hasher = crate::digest::Hasher::default();
    let mut buffer = [0u8; 64 << 10];
    let mut reader = (&mut file).take(max);
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    // As in `read_bounded`: one more read says whether there is more.
    if file.read(&mut buffer[..8])? > 0 {
        return Err(ReadError::TooLarge(max));
    }
    Ok(hasher.finish())
}

/// Files pyve shares with the user (`.gitignore`, `.envrc`, VS Code's
/// settings) are text of a human size; larger is not one of them.
pub const MAX_SHARED_BYTES: u64 = 16 << 20;

/// Reads a file that may not exist yet (a shared file), bounded.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match read_bounded(path, MAX_SHARED_BYTES) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(ReadError::NotFound) => Ok(None),
        Err(e) => Err(user(format!("{}: {e}", shown(path)))),
    }
}

/// Replaces `path` with `bytes` in one step: a new sibling file (never
/// through a link: created exclusively, not following one), written and
/// synced, renamed over `path`. `mode` is the new file's permissions.
/// Readers see the old content or the new, never a part.
pub fn replace(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.pyve-{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&temporary)?;
        file.write_all(bytes)?;
        // The umask may have taken bits the caller asked for.
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Where writing `path` inside the project at `root` (its real path)
/// really lands: each link on the way resolved, every one of them leading
/// to a place inside the project. A link out of it (`.envrc -> ~/.bashrc`,
/// `.vscode -> /etc/x`) or to nothing is refused, naming it: pyve writes
/// nothing outside a project. Parts that do not exist yet are created
/// inside.
pub fn landing(root: &Path, path: &Path) -> Result<PathBuf, Error> {
    let relative = path
        .strip_prefix(root)
        .map_err(|_| user(format!("{} is not inside {}", shown(path), shown(root))))?;
    let mut at = root.to_owned();
    for component in relative.components() {
        at.push(component);
        let Ok(metadata) = std::fs::symlink_metadata(&at) else {
            continue;
        };
        if !metadata.file_type().is_symlink() {
            continue;
        }
        let link = at.clone();
        at = std::fs::canonicalize(&link).map_err(|_| {
            user(format!("{} is a symbolic link to nothing", shown(&link)))
                .with_hint("remove it, or point it at a file inside the project")
        })?;
        if !at.starts_with(root) {
            return Err(user(format!(
                "{} is a symbolic link out of the project (to {}); pyve writes only inside the project",
                shown(&link),
                shown(&at)
            ))
            .with_hint("replace the link with a file of the project's own, or remove it"));
        }
    }
    Ok(at)
}

/// Replaces a file inside the project at `root` in one step, keeping its
/// permissions: the config, and the files the user shares with pyve
/// (`.gitignore`, `.envrc`, VS Code's settings). Links are followed only
/// while they stay inside the project (see `landing`).
pub fn write_inside(root: &Path, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let target = landing(root, path)?;
    let mode = std::fs::metadata(&target)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644);
    replace(&target, bytes, mode).map_err(|e| user(format!("cannot write {}: {e}", shown(path))))
}

/// Replaces a file pyve keeps in its own directories, keeping its
/// permissions.
pub fn write_own(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644);
    replace(path, bytes, mode).map_err(|e| user(format!("cannot write {}: {e}", shown(path))))
}

/// A scratch file of pyve's at `path` (without `..`) inside the project
/// at `root`: where it lands (inside the project, links resolved, or an
/// error), with nothing left there from before (a file or a link of an
/// earlier run killed with the same process id is removed, never followed).
pub fn scratch_inside(root: &Path, path: &Path) -> Result<PathBuf, Error> {
    let at = landing(root, path)?;
    match std::fs::symlink_metadata(&at) {
        Ok(m) if m.is_dir() => Err(user(format!("{} is a directory", shown(&at)))),
        Ok(_) => std::fs::remove_file(&at)
            .map(|()| at.clone())
            .map_err(|e| user(format!("cannot remove {}: {e}", shown(&at)))),
        Err(_) => Ok(at),
    }
}

/// Writes a new file (never through a link, never over one).
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| user(format!("cannot write {}: {e}", shown(path))))
}

/// Removes a directory tree or a file when dropped, unless disarmed (`.0 = None`):
/// a build or download that fails or is interrupted leaves nothing.
pub struct RemoveOnDrop(pub Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.is_dir() => {
                    let _ = std::fs::remove_dir_all(path);
                }
                Ok(_) => {
                    let _ = std::fs::remove_file(path);
                }
                Err(_) => {}
            }
        }
    }
}

/// Whether a file holds nothing but whitespace.
pub fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// A regular file with an execute bit (following links).
pub fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The fingerprint of a path that does not exist.
pub const MISSING: &str = "-";

/// A file's identity and content version, without reading it: device,
/// inode, size and modification time. Another fingerprint means another
/// file, or the same one changed.
pub fn fingerprint(metadata: &Metadata) -> String {
    format!(
        "{:x}.{:x}.{:x}.{:x}.{:x}",
        metadata.dev(),
        metadata.ino(),
        metadata.len(),
        metadata.mtime(),
        metadata.mtime_nsec()
    )
}

/// `fingerprint` of `path` (following links), `MISSING` when absent.
pub fn fingerprint_path(path: &Path) -> String {
    std::fs::metadata(path).map_or_else(|_| MISSING.to_owned(), |m| fingerprint(&m))
}

/// `fingerprint` of `path` itself (a link, not what it points to).
pub fn fingerprint_link(path: &Path) -> String {
    std::fs::symlink_metadata(path).map_or_else(|_| MISSING.to_owned(), |m| fingerprint(&m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded_by_what_is_read_and_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "12345").unwrap();
        assert_eq!(read_bounded(&file, 5).unwrap(), b"12345");
        assert!(matches!(
            read_bounded(&file, 4),
            Err(ReadError::TooLarge(4))
        ));
        assert!(matches!(
            read_bounded(dir.path(), 4),
            Err(ReadError::NotRegular)
        ));
        assert!(matches!(
            read_bounded(Path::new("/dev/zero"), 4),
            Err(ReadError::NotRegular)
        ));
        assert!(matches!(
            read_bounded(&dir.path().join("no"), 4),
            Err(ReadError::NotFound)
        ));
        // A /proc file reports size 0 and has far more to read.
        let proc_file = Path::new("/proc/self/pagemap");
        assert_eq!(std::fs::metadata(proc_file).unwrap().len(), 0);
        assert!(matches!(
            read_bounded(proc_file, 4096),
            Err(ReadError::TooLarge(4096))
        ));
        // A FIFO is refused without waiting for a writer.
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(matches!(read_bounded(&fifo, 4), Err(ReadError::NotRegular)));
        assert_eq!(
            sha256_of(&file, 5).unwrap(),
            crate::digest::sha256(b"12345")
        );
        assert!(sha256_of(&file, 4).is_err());
        assert!(sha256_of(&fifo, 4).is_err());
    }

    #[test]
    fn replace_never_writes_through_a_link_and_sets_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, "keep").unwrap();
        let file = dir.path().join("f");
        std::os::unix::fs::symlink(&outside, &file).unwrap();
        replace(&file, b"new", 0o600).unwrap();
        assert_eq!(std::fs::read(&outside).unwrap(), b"keep");
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        let mode = std::fs::symlink_metadata(&file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temporary left"
        );
    }

    #[test]
    fn writes_inside_a_project_never_leave_it() {
        let base = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(base.path()).unwrap();
        let (root, outside) = (base.join("p"), base.join("home"));
        std::fs::create_dir_all(root.join("conf")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join(".bashrc"), "mine").unwrap();
        std::os::unix::fs::symlink(outside.join(".bashrc"), root.join(".envrc")).unwrap();
        let error = write_inside(&root, &root.join(".envrc"), b"x").unwrap_err();
        assert!(
            error
                .message()
                .contains(".envrc is a symbolic link out of the project"),
            "{error}"
        );
        assert_eq!(std::fs::read(outside.join(".bashrc")).unwrap(), b"mine");
        std::os::unix::fs::symlink(&outside, root.join(".vscode")).unwrap();
        assert!(write_inside(&root, &root.join(".vscode/settings.json"), b"{}").is_err());
        assert!(!outside.join("settings.json").exists());
        std::os::unix::fs::symlink(outside.join("new"), root.join(".idea")).unwrap();
        assert!(
            landing(&root, &root.join(".idea/x")).is_err(),
            "a link to nothing"
        );
        // A link that stays inside is written through.
        std::fs::write(root.join("conf/gitignore"), "a\n").unwrap();
        std::os::unix::fs::symlink("conf/gitignore", root.join(".gitignore")).unwrap();
        write_inside(&root, &root.join(".gitignore"), b"b\n").unwrap();
        assert_eq!(std::fs::read(root.join("conf/gitignore")).unwrap(), b"b\n");
        assert!(std::fs::symlink_metadata(root.join(".gitignore"))
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[test]
    fn fingerprints_change_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        assert_eq!(fingerprint_path(&file), MISSING);
        std::fs::write(&file, "a").unwrap();
        let first = fingerprint_path(&file);
        std::fs::write(&file, "ab").unwrap();
        assert_ne!(fingerprint_path(&file), first);
    }
}
