//! Errors that end a command: a message for stderr and an exit code.

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// Something the user can fix, or a check that failed: exit 1.
    User(String),
    /// The command line itself is wrong: exit 2.
    Usage(String),
    /// A failure with its own conventional code, like 127 for a command
    /// that was not found.
    Code(u8, String),
    /// A signal (SIGINT, SIGTERM, SIGHUP) stopped the command after it
    /// cleaned up: exit 128 + the signal number, as shells report it.
    Interrupted(i32),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::User(_) => 1,
            Error::Usage(_) => 2,
            Error::Code(code, _) => *code,
            Error::Interrupted(signal) => 128u8.saturating_add(*signal as u8),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::User(message) | Error::Usage(message) | Error::Code(_, message) => {
                f.write_str(message)
            }
            Error::Interrupted(signal) => {
                let name = nix::sys::signal::Signal::try_from(*signal)
                    .map(|s| s.as_str())
                    .unwrap_or("a signal");
                write!(f, "interrupted by {name}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for the common case.
pub fn user(message: impl Into<String>) -> Error {
    Error::User(message.into())
}
