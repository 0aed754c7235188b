//! Errors that end a command: a message for stderr and an exit code.

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// Something the user can fix: exit 1.
    User(String),
    /// The command line itself is wrong: exit 2.
    Usage(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::User(_) => 1,
            Error::Usage(_) => 2,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::User(message) | Error::Usage(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}
