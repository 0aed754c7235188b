//! When a directory was made (its birth time), for telling a directory
//! from another made later under the same inode number. The `statx`
//! system call itself on Linux: Rust's standard library asks for the birth
//! time only on glibc, and pyve's release build is musl. Elsewhere the
//! standard library's (macOS has it).

use std::path::Path;

/// Seconds and nanoseconds since the epoch; None where the filesystem or
/// the system keeps no birth time.
#[cfg(target_os = "linux")]
pub fn birth_time(path: &Path) -> Option<(i64, u32)> {
    use nix::libc;
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero statx is a valid value of the plain C struct.
    let mut buffer: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a buffer of the kernel's struct,
    // both alive for the call.
    let result = unsafe {
        libc::syscall(
            libc::SYS_statx,
            libc::AT_FDCWD,
            path.as_ptr(),
            0,
            libc::STATX_BTIME,
            &mut buffer as *mut libc::statx,
        )
    };
    if result != 0 || buffer.stx_mask & libc::STATX_BTIME == 0 {
        return None;
    }
    Some((buffer.stx_btime.tv_sec, buffer.stx_btime.tv_nsec))
}

#[cfg(not(target_os = "linux"))]
pub fn birth_time(path: &Path) -> Option<(i64, u32)> {
    let born = std::fs::metadata(path).ok()?.created().ok()?;
    let since = born.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some((since.as_secs() as i64, since.subsec_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The system call gives what the standard library gives where it
    /// asks (glibc), and tells two directories made one after the other
    /// in the same inode apart.
    #[test]
    fn a_directory_made_again_is_born_again() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("env");
        std::fs::create_dir(&sub).unwrap();
        let Some(first) = birth_time(&sub) else {
            assert!(
                std::fs::metadata(&sub).unwrap().created().is_err(),
                "the standard library sees a birth time the system call missed"
            );
            eprintln!("SKIPPED: this filesystem keeps no birth time");
            return;
        };
        if let Ok(std_time) = std::fs::metadata(&sub).unwrap().created() {
            let since = std_time.duration_since(std::time::UNIX_EPOCH).unwrap();
            assert_eq!(first, (since.as_secs() as i64, since.subsec_nanos()));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::remove_dir(&sub).unwrap();
        std::fs::create_dir(&sub).unwrap();
        assert_ne!(birth_time(&sub), Some(first));
        assert_eq!(birth_time(&dir.path().join("missing")), None);
    }
}
