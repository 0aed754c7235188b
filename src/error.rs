//! The error every layer returns: what went wrong, and apart from it the
//! fix (`hint`), so a caller can show either, replace the fix with a
//! better one for its context, or put them in separate JSON fields.
//! Only `main` turns an error into an exit code.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Something the user can fix, or a check that failed.
    User,
    /// The command line itself is wrong.
    Usage,
    /// A failure with its own conventional exit code, like 127 for a
    /// command that was not found.
    Code(u8),
    /// A signal (SIGINT, SIGTERM, SIGHUP) stopped the command after it
    /// cleaned up.
    Interrupted(i32),
}

#[derive(Debug)]
pub struct Error {
    kind: Kind,
    message: String,
    hint: Option<String>,
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub fn user(message: impl Into<String>) -> Error {
        Error::new(Kind::User, message)
    }

    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(Kind::Usage, message)
    }

    pub fn code(code: u8, message: impl Into<String>) -> Error {
        Error::new(Kind::Code(code), message)
    }

    pub fn interrupted(signal: i32) -> Error {
        let name = nix::sys::signal::Signal::try_from(signal)
            .map(|s| s.as_str())
            .unwrap_or("a signal");
        Error::new(Kind::Interrupted(signal), format!("interrupted by {name}"))
    }

    /// The same error with `hint` as its fix.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// The same error with `context` in front of its message.
    pub fn context(mut self, context: impl fmt::Display) -> Error {
        self.message = format!("{context}: {}", self.message);
        self
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

/// The message, then the fix after `; `: one line for the terminal.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Shorthand for the common case.
pub fn user(message: impl Into<String>) -> Error {
    Error::user(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fix_is_kept_apart_and_shown_after_the_message() {
        let error = user("no environment").with_hint("run `pyve init`");
        assert_eq!(error.message(), "no environment");
        assert_eq!(error.hint(), Some("run `pyve init`"));
        assert_eq!(error.to_string(), "no environment; run `pyve init`");
        assert_eq!(user("x").context("/p").to_string(), "/p: x");
        assert_eq!(Error::interrupted(2).to_string(), "interrupted by SIGINT");
    }
}
