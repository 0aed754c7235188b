//! Running helper programs (uv, venv, pip) so that an interruption is
//! noticed, the child is stopped, and the caller's cleanup runs before pyve
//! exits: Ctrl-C, `kill` and a closed terminal never leave a half-built
//! environment behind.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsFd;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use nix::sys::signal::{self, SigHandler, Signal};

use crate::error::{user, Error};
use crate::{paths, ui, vars};

static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn note_signal(signal: nix::libc::c_int) {
    CAUGHT.store(signal, Ordering::SeqCst);
}

const HANDLED: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// From here on, SIGINT, SIGTERM and SIGHUP are recorded instead of killing
/// pyve; `check` turns a recorded one into `Error::Interrupted`.
pub fn catch_interrupts() {
    let action = signal::SigAction::new(
        SigHandler::Handler(note_signal),
        signal::SaFlags::empty(),
        signal::SigSet::empty(),
    );
    for sig in HANDLED {
        // SAFETY: the handler only stores to an atomic.
        unsafe {
            let _ = signal::sigaction(sig, &action);
        }
    }
}

/// Fails with `Interrupted` once a handled signal has arrived.
pub fn check() -> Result<(), Error> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => Ok(()),
        signal => Err(Error::interrupted(signal)),
    }
}

/// Ends pyve the way the signal would have, after the caller cleaned up, so
/// a shell loop around pyve sees the interruption and stops too.
pub fn die_by(signal_number: i32) {
    if let Ok(sig) = Signal::try_from(signal_number) {
        // SAFETY: restoring the default disposition.
        unsafe {
            let _ = signal::signal(sig, SigHandler::SigDfl);
        }
        let _ = signal::raise(sig);
    }
}

/// An unlinked temporary file: the child's output, shown only on failure.
fn capture_file() -> Result<File, Error> {
    let dir = paths::temp_dir(vars::process());
    for attempt in 0..100u32 {
        let path = dir.join(format!(".pyve-output-{}-{attempt}", std::process::id()));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => {
                let _ = std::fs::remove_file(&path);
                return Ok(file);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(user(format!(
                    "cannot create a temporary file in {}: {e}",
                    dir.display()
                )))
            }
        }
    }
    Err(user(format!(
        "cannot create a temporary file in {}",
        dir.display()
    )))
}

/// Stops a child after pyve was interrupted. The terminal's Ctrl-C reached
/// the child too; `kill` did not. A child that ignores SIGTERM gets SIGKILL
/// after a grace period.
fn stop(child: &mut std::process::Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = signal::kill(pid, Signal::SIGTERM);
    for _ in 0..600 {
        if matches!(child.try_wait(), Ok(Some(_)) | Err(_)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `command` to completion with its output captured; on failure the
/// error carries `what` and the output's tail. An interruption stops the
/// child and returns `Interrupted`.
pub fn run(command: &mut Command, what: &str) -> Result<(), Error> {
    check()?;
    let mut output = capture_file()?;
    let verbose = ui::verbose();
    // On --verbose the child's output goes straight to pyve's stderr (its
    // stdout too: pyve's stdout is for data), so nothing is hidden.
    let sink = || -> Result<Stdio, Error> {
        let file = if verbose {
            std::io::stderr()
                .as_fd()
                .try_clone_to_owned()
                .map(File::from)
        } else {
            output.try_clone()
        };
        file.map(Stdio::from)
            .map_err(|e| user(format!("cannot set up output capture: {e}")))
    };
    command.stdin(Stdio::null()).stdout(sink()?).stderr(sink()?);
    let program = command.get_program().to_string_lossy().into_owned();
    debug!("running {}", shown_command(command));
    dies_with_pyve(command);
    let mut step = ui::Step::start(what);
    let mut child = command
        .spawn()
        .map_err(|e| user(format!("{what}: cannot run {program}: {e}")))?;
    // Polled, so a signal to pyve is noticed: every millisecond at first
    // (uv builds a venv in about 10 ms, and a 5 ms poll made `pyve init` a
    // third slower than uv), then every 10 ms for long builds.
    let started = std::time::Instant::now();
    let status = loop {
        step.tick();
        if let Some(status) = child
            .try_wait()
            .map_err(|e| user(format!("{what}: waiting for {program}: {e}")))?
        {
            break status;
        }
        if CAUGHT.load(Ordering::SeqCst) != 0 {
            stop(&mut child);
            return check();
        }
        std::thread::sleep(if started.elapsed() < Duration::from_millis(200) {
            Duration::from_millis(1)
        } else {
            Duration::from_millis(10)
        });
    };
    // The spinner's line goes before anything else is printed.
    drop(step);
    check()?;
    if status.success() {
        return Ok(());
    }
    Err(failure(what, &program, status, &mut output))
}

/// The child is killed when pyve dies, whatever kills it: a `kill -9` of
/// `pyve init` (which no handler sees) must not leave uv or micromamba
/// writing into the build directory the next init removes and rebuilds.
/// Linux's parent-death signal, set in the child between fork and exec;
/// pyve spawns from its main thread, whose exit is pyve's.
#[cfg(target_os = "linux")]
fn dies_with_pyve(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = nix::unistd::getpid();
    // SAFETY: prctl, getppid and _exit are async-signal-safe, and nothing
    // is allocated between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if nix::libc::prctl(nix::libc::PR_SET_PDEATHSIG, nix::libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // pyve died before the signal was armed: nothing would send it.
            if nix::unistd::getppid() != parent {
                nix::libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// macOS has no parent-death signal: a child of a pyve killed by SIGKILL
/// runs on until it finishes (the next init removes the build directory
/// before it builds). Ctrl-C, SIGTERM and SIGHUP are handled as on Linux
/// (`stop`).
#[cfg(not(target_os = "linux"))]
fn dies_with_pyve(_command: &mut Command) {}

/// What a failed step says: its exit, the tail of its output, and where
/// the whole output is kept when it is long. The output may be huge (a
/// verbose build): only its end is read into memory, and it is copied to
/// the log file as it is.
fn failure(what: &str, program: &str, status: ExitStatus, output: &mut File) -> Error {
    let lines = count_lines(output);
    let mut tail = Vec::new();
    let size = output.seek(SeekFrom::End(0)).unwrap_or(0);
    let _ = output.seek(SeekFrom::Start(size.saturating_sub(TAIL_BYTES)));
    let _ = output.take(TAIL_BYTES).read_to_end(&mut tail);
    let text = String::from_utf8_lossy(&tail);
    let tail: Vec<&str> = text.lines().collect();
    let tail = &tail[tail.len().saturating_sub(TAIL_LINES)..];
    let code = status
        .code()
        .map(|c| format!("exit code {c}"))
        .unwrap_or_else(|| "a signal".to_owned());
    let mut message = format!("{what}: `{program}` failed with {code}");
    if !tail.is_empty() {
        message.push_str(":\n  ");
        message.push_str(&tail.join("\n  "));
    }
    if lines > TAIL_LINES {
        // The head of a long build log is often where the cause is.
        message.push_str(&match keep_log(output) {
            Ok(path) => format!(
                "\n  (the last {TAIL_LINES} of {lines} lines; all of them are in {})",
                path.display()
            ),
            Err(e) => {
                format!("\n  (the last {TAIL_LINES} of {lines} lines; the rest is lost: {e})")
            }
        });
    }
    user(message)
}

const TAIL_LINES: usize = 20;
/// Twenty lines fit in this, unless they are very long ones.
const TAIL_BYTES: u64 = 64 << 10;

/// The lines of the whole output, counted as it streams by.
fn count_lines(output: &mut File) -> usize {
    let _ = output.seek(SeekFrom::Start(0));
    let mut buffer = [0u8; 64 << 10];
    let (mut lines, mut last) = (0, b'\n');
    while let Ok(read) = output.read(&mut buffer) {
        if read == 0 {
            break;
        }
        lines += buffer[..read].iter().filter(|&&b| b == b'\n').count();
        last = buffer[read - 1];
    }
    // A last line without its newline is a line too.
    lines + usize::from(last != b'\n')
}

/// Keeps a failed step's whole output in
/// `$XDG_STATE_HOME/pyve/logs/<seconds since 1970>-<pid>.log`.
fn keep_log(output: &mut File) -> std::io::Result<std::path::PathBuf> {
    let dir = paths::log_dir(vars::process())
        .ok_or_else(|| std::io::Error::other("neither XDG_STATE_HOME nor HOME is set"))?;
    std::fs::create_dir_all(&dir)?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let path = dir.join(format!("{stamp}-{}.log", std::process::id()));
    output.seek(SeekFrom::Start(0))?;
    std::io::copy(output, &mut std::fs::File::create(&path)?)?;
    Ok(path)
}

/// The command as a person would type it, for --verbose.
fn shown_command(command: &Command) -> String {
    use std::os::unix::ffi::OsStrExt;
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|word| crate::shell::posix_word(word.as_bytes()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether process `pid` is gone (so what it left behind is stale).
pub fn is_gone(pid: i32) -> bool {
    pid > 0
        && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
            == Err(nix::errno::Errno::ESRCH)
}
