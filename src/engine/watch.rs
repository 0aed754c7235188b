//! The shell's fast path: a stamp file renewed at every engine run, and the
//! list of paths whose change (`-nt` the stamp, tested with shell builtins)
//! means the engine must run again. A bare Enter with nothing newer starts
//! no process.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::stat::{utimensat, UtimensatFlags};
use nix::sys::time::TimeSpec;

use crate::backend::Backend;
use crate::config::Source;
use crate::files::owner::{self, Unsafe};
use crate::vars::Vars;
use crate::{layout, paths, process};

/// How far the stamp is set back. File times come from a coarse kernel
/// clock (a tick is at most 10 ms, at HZ=100), so a write right after the
/// engine ran could carry a time up to a tick earlier than "now" and escape
/// `-nt`. Back-dating by more than a tick makes any later write strictly
/// newer; the price is one extra engine run when a watched file changed in
/// the 20 ms before the last one.
const BACKDATE: Duration = Duration::from_millis(20);

fn touch(path: &Path) -> nix::Result<()> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_sub(BACKDATE);
    let time = TimeSpec::from_duration(now);
    utimensat(
        nix::fcntl::AT_FDCWD,
        path,
        &time,
        &time,
        UtimensatFlags::NoFollowSymlink,
    )
}

/// Renews this shell's stamp, creating it on a shell's first run (or after
/// the temporary directory was cleaned). Without a safe place (each
/// refusal is returned) the hook runs only on directory changes.
pub fn renew_stamp(
    previous: Option<&Path>,
    shell_pid: u32,
    vars: &dyn Vars,
) -> Result<PathBuf, Vec<Unsafe>> {
    if let Some(path) = previous {
        if touch(path).is_ok() {
            return Ok(path.to_owned());
        }
    }
    // Used only if this user owns it and nobody else can write to it: a
    // directory someone else made first is passed over for the next.
    let mut refused = Vec::new();
    for dir in paths::runtime_dirs(vars) {
        match owner::private_dir(&dir) {
            Ok(()) => return make_stamp(&dir, shell_pid).ok_or(refused),
            Err(unsafe_dir) => refused.push(unsafe_dir),
        }
    }
    Err(refused)
}

/// What the shell is told once when no directory was safe for its stamp.
pub fn no_stamp_line(refused: &[Unsafe]) -> Option<String> {
    let last = refused.last()?;
    let why: Vec<String> = refused.iter().map(Unsafe::message).collect();
    Some(format!(
        "no private directory for this shell's stamp ({}), so the hook notices a changed \
         config, an approval or `pyve deny` only when you change directory; {}",
        why.join("; "),
        last.fix
    ))
}

fn make_stamp(dir: &Path, shell_pid: u32) -> Option<PathBuf> {
    let path = dir.join(format!("stamp-{shell_pid}"));
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(&path)
        .ok()?;
    touch(&path).ok()?;
    prune_dead_stamps(dir, shell_pid);
    Some(path)
}

/// Where the engine's output goes for a shell that sources it from a file
/// (`Shell::output_in_file`): beside the shell's stamp, once its directory
/// is checked again to be private (the stamp's path came from the shell),
/// else nowhere.
pub fn output_file(stamp: &Path, shell_pid: u32) -> Option<PathBuf> {
    let dir = stamp.parent()?;
    owner::check_private_dir(dir).ok()?;
    Some(dir.join(format!("out-{shell_pid}")))
}

/// Removes the stamps (and output files) of shells that have exited; run
/// only when a shell makes its first stamp, so the directory stays small
/// without a logout hook.
fn prune_dead_stamps(dir: &Path, own_pid: u32) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("stamp-").or_else(|| n.strip_prefix("out-")))
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if pid as u32 != own_pid && process::is_gone(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The environment part of the watch list.
pub struct EnvWatch<'a> {
    pub env_dir: &'a Path,
    pub backend: &'static dyn Backend,
    /// Whether the marker exists (already known to the caller: no stat).
    pub ready: bool,
    /// The declaration files of its dependencies (`uv.lock`, …), when it
    /// is active and pyve synced it: their change may make it stale.
    pub declared: Vec<&'a Path>,
}

/// The paths whose change can alter the outcome for `pwd`:
/// - each directory from `pwd` up to the project root (or `/`), and its
///   `.pyve` where there is one: a project appearing or disappearing
///   changes one of them;
/// - the root's parent (the project deleted) and its config (edited in place);
/// - the trust store, where `pyve allow` and `pyve deny` write;
/// - the environment directory and its marker, or, while the environment is
///   missing, its nearest existing ancestor (created later);
/// - the files that declare its dependencies and are edited in place,
///   once pyve synced it (`deps::Record::watched`);
/// - `files` edited in place (the project's dotenv files, the user's
///   config), or, for one not there, the nearest directory above it that
///   is (where it will be made).
///
/// Paths that do not exist cost the shell one failed stat and are harmless.
pub fn watch_list(
    pwd: &Path,
    found: Option<(&Path, Source)>,
    store: Option<&Path>,
    files: &[&Path],
    env: Option<EnvWatch>,
) -> Vec<Vec<u8>> {
    let mut list: Vec<Vec<u8>> = Vec::with_capacity(24);
    let mut add = |path: &Path| {
        let bytes = path.as_os_str().as_bytes();
        if !list.iter().any(|p| p == bytes) {
            list.push(bytes.to_vec());
        }
    };
    let root = found.map(|(root, _)| root);
    for dir in pwd.ancestors() {
        add(dir);
        let at_root = Some(dir) == root;
        // A `.pyve` made later changes `dir` itself, watched above; one
        // that exists (the root's always) is watched for a config made or
        // replaced in it. One lstat here saves every prompt a stat pair.
        let pyve_dir = layout::pyve_dir(dir);
        if at_root || pyve_dir.symlink_metadata().is_ok() {
            add(&pyve_dir);
        }
        if at_root {
            break;
        }
    }
    if let Some(root) = root {
        if let Some(parent) = root.parent() {
            add(parent);
        }
        // Where the settings are, edited in place: `.pyve/config`, or
        // `pyproject.toml` (a zero-config project may have none).
        let settings = found.map_or(Source::Pyve, |(_, s)| s).file(root);
        if settings.symlink_metadata().is_ok() {
            add(&settings);
        }
        if let Some(store) = store {
            add(store);
        }
    }
    for file in files {
        match file.ancestors().find(|p| p.symlink_metadata().is_ok()) {
            Some(existing) => add(existing),
            None => add(file),
        }
    }
    if let Some(EnvWatch {
        env_dir,
        backend,
        ready,
        declared,
    }) = env
    {
        for file in declared {
            add(file);
        }
        add(&backend.marker(env_dir));
        add(env_dir);
        for extra in backend.watched(env_dir) {
            add(&extra);
        }
        if let Some(parent) = env_dir.parent() {
            add(parent);
        }
        if !ready {
            for ancestor in env_dir.ancestors().skip(1) {
                add(ancestor);
                if ancestor.exists() {
                    break;
                }
            }
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new shell's first stamp removes the stamps and output files of
    /// shells that have exited, and nothing else.
    #[test]
    fn pruning_removes_what_exited_shells_left() {
        let dir = std::env::temp_dir().join(format!("pyve-prune-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A process that has exited: its pid is gone once it is reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let alive = std::process::id();
        let names = [
            format!("stamp-{dead}"),
            format!("out-{dead}"),
            format!("stamp-{alive}"),
            format!("out-{alive}"),
            "key".to_owned(),
        ];
        for name in &names {
            std::fs::write(dir.join(name), "").unwrap();
        }
        prune_dead_stamps(&dir, 1);
        let left: Vec<bool> = names.iter().map(|n| dir.join(n).exists()).collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(left, [false, false, true, true, true]);
        // Beside the stamp only in a private directory: not in /tmp.
        assert_eq!(output_file(Path::new("/tmp/stamp-7"), 7), None);
    }
}
