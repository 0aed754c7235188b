//! Swapping two paths in one step, each then holding what the other held:
//! Linux's `renameat2(RENAME_EXCHANGE)`, macOS's `renamex_np(RENAME_SWAP)`.
//! The system call itself on Linux, so glibc and musl builds both have it
//! (musl has no wrapper). Elsewhere, or where the filesystem refuses, an
//! error, and the caller falls back to two renames.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))
}

#[cfg(target_os = "linux")]
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use nix::libc;
    let (a, b) = (c_path(a)?, c_path(b)?);
    // SAFETY: both are NUL-terminated paths that outlive the call.
    let result = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(target_os = "macos")]
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use nix::libc;
    let (a, b) = (c_path(a)?, c_path(b)?);
    // SAFETY: both are NUL-terminated paths that outlive the call.
    if unsafe { libc::renamex_np(a.as_ptr(), b.as_ptr(), libc::RENAME_SWAP) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    let _ = (c_path(a)?, c_path(b)?);
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no atomic exchange of two paths on this system",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_directories_trade_places() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(a.join("mark"), "was a").unwrap();
        exchange(&a, &b).unwrap();
        assert!(!a.join("mark").exists());
        assert_eq!(std::fs::read_to_string(b.join("mark")).unwrap(), "was a");
        let missing = dir.path().join("missing");
        assert!(exchange(&a, &missing).is_err(), "both must exist");
    }
}
