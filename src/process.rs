//! Running helper programs (uv, venv, pip) so that an interruption is
//! noticed, the child is stopped, and the caller's cleanup runs before pyve
//! exits: Ctrl-C, `kill` and a closed terminal never leave a half-built
//! environment behind.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use nix::sys::signal::{self, SigHandler, Signal};

use crate::error::{user, Error};

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
        signal => Err(Error::Interrupted(signal)),
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
    let dir = std::env::temp_dir();
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

/// Runs `command` to completion with its output captured; on failure the
/// error carries `what` and the output's tail. An interruption stops the
/// child and returns `Interrupted`.
pub fn run(command: &mut Command, what: &str) -> Result<(), Error> {
    check()?;
    let mut output = capture_file()?;
    let clone = || {
        output
            .try_clone()
            .map_err(|e| user(format!("cannot set up output capture: {e}")))
    };
    command
        .stdin(Stdio::null())
        .stdout(clone()?)
        .stderr(clone()?);
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .spawn()
        .map_err(|e| user(format!("{what}: cannot run {program}: {e}")))?;
    // Polled, so a signal to pyve is noticed: every millisecond at first
    // (uv builds a venv in about 10 ms, and a 5 ms poll made `pyve init` a
    // third slower than uv), then every 10 ms for long builds.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| user(format!("{what}: waiting for {program}: {e}")))?
        {
            break status;
        }
        if CAUGHT.load(Ordering::SeqCst) != 0 {
            // The terminal's Ctrl-C reached the child too; `kill` did not.
            // A child that ignores SIGTERM gets SIGKILL after a grace period.
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = signal::kill(pid, Signal::SIGTERM);
            for _ in 0..600 {
                if matches!(child.try_wait(), Ok(Some(_)) | Err(_)) {
                    return check();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = child.kill();
            let _ = child.wait();
            return check();
        }
        std::thread::sleep(if started.elapsed() < Duration::from_millis(200) {
            Duration::from_millis(1)
        } else {
            Duration::from_millis(10)
        });
    };
    check()?;
    if status.success() {
        return Ok(());
    }
    let mut text = String::new();
    let _ = output.seek(SeekFrom::Start(0));
    let _ = output.read_to_string(&mut text);
    let tail: Vec<&str> = text.lines().rev().take(20).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    let code = status
        .code()
        .map(|c| format!("exit code {c}"))
        .unwrap_or_else(|| "a signal".to_owned());
    let mut message = format!("{what}: `{program}` failed with {code}");
    if !tail.is_empty() {
        message.push_str(":\n  ");
        message.push_str(&tail.join("\n  "));
    }
    Err(user(message))
}
