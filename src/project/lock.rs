//! The project's lock: `init`, `purge` and `activate` take turns. An
//! exclusive `flock` on the `.pyve` directory itself, so no lock file is
//! left in the project.

use std::fs::File;
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

use crate::error::{user, Error};
use crate::process;
use crate::text::shown;

/// Held until dropped.
pub type Lock = Flock<File>;

/// Takes the lock on `pyve_dir`, saying so when it has to wait; Ctrl-C
/// while waiting stops the command.
pub fn take(pyve_dir: &Path) -> Result<Lock, Error> {
    let file = File::open(pyve_dir)
        .map_err(|e| user(format!("cannot open {} to lock it: {e}", shown(pyve_dir))))?;
    let fail = |e: nix::errno::Errno| user(format!("cannot lock {}: {e}", shown(pyve_dir)));
    let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => return Ok(lock),
        Err((file, nix::errno::Errno::EWOULDBLOCK)) => file,
        Err((_, e)) => return Err(fail(e)),
    };
    info!(
        "waiting for another `pyve init` or `pyve purge` in {} to finish",
        pyve_dir.parent().unwrap_or(pyve_dir).display()
    );
    // Blocking in flock would not notice Ctrl-C; poll instead.
    loop {
        process::check()?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => return Ok(lock),
            Err((f, nix::errno::Errno::EWOULDBLOCK)) => file = f,
            Err((_, e)) => return Err(fail(e)),
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
