//! Asking git whether it tracks anything under a path, to tell an
//! environment a pull brought from one made on this machine. The
//! repository's own configuration cannot run anything here: the options
//! that run programs are overridden on the command line, and git refuses
//! a repository another user owns.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// git prints tracked names; the first one is enough.
const MAX_OUTPUT: u64 = 4096;

/// Whether git runs and tracks no file under `relative` in the work tree
/// at `project`. Any doubt (git missing or failing) is "tracked".
pub fn untracked(project: &Path, relative: &Path) -> bool {
    let child = Command::new("git")
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "--no-optional-locks",
            "ls-files",
            "-z",
            "--",
        ])
        .arg(relative)
        .current_dir(project)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    let mut output = Vec::new();
    let read = child
        .stdout
        .take()
        .map(|out| out.take(MAX_OUTPUT).read_to_end(&mut output));
    if !output.is_empty() {
        // A name was printed: tracked; stop git rather than read the rest.
        let _ = child.kill();
        let _ = child.wait();
        return false;
    }
    matches!(read, Some(Ok(_))) && child.wait().is_ok_and(|s| s.success())
}
