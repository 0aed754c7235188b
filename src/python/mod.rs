//! Python versions, and the interpreter a new environment is built from:
//! the version asked for (flag, config, or a pin, in `pin`), found among
//! the installed interpreters (`discover`) and confirmed by running it
//! (`probe`).

mod discover;
mod pin;
mod probe;
mod requires;

use std::fmt;
use std::path::PathBuf;

use crate::error::{user, Error};

pub use discover::{find, which};
pub use pin::find_pin;
pub use probe::probe;
pub use requires::{agree, Requires};

/// `X.Y` (any patch release) or `X.Y.Z` (exactly that one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionRequest {
    pub major: u32,
    pub minor: u32,
    pub patch: Option<u32>,
}

impl VersionRequest {
    pub fn parse(text: &str) -> Result<VersionRequest, Error> {
        let bad = || {
            user(format!("`{text}` is not a Python version"))
                .with_hint("write X.Y or X.Y.Z, for example `3.12` or `3.12.4`")
        };
        let trimmed = text.trim();
        let trimmed = trimmed.strip_prefix("python").unwrap_or(trimmed);
        let parts: Vec<&str> = trimmed.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let number = |s: &str| -> Result<u32, Error> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        let major = number(parts[0])?;
        if major < 3 {
            return Err(user(format!(
                "`{text}`: pyve builds Python 3 environments; Python {major} is not supported"
            ))
            .with_hint("ask for a Python 3 version, for example `3.12`"));
        }
        Ok(VersionRequest {
            major,
            minor: number(parts[1])?,
            patch: parts.get(2).map(|p| number(p)).transpose()?,
        })
    }

    pub fn matches(&self, version: &Version) -> bool {
        self.major == version.0
            && self.minor == version.1
            && self.patch.is_none_or(|p| p == version.2)
    }
}

impl fmt::Display for VersionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if let Some(patch) = self.patch {
            write!(f, ".{patch}")?;
        }
        Ok(())
    }
}

/// A full interpreter version, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// `3.12.4`, also the leading part of `3.12.4+` or `3.13.0rc1`.
    pub fn parse(text: &str) -> Option<Version> {
        let mut numbers = text.trim().split('.').map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        let major = numbers.next()??;
        let minor = numbers.next()??;
        let patch = numbers.next().flatten().unwrap_or(0);
        Some(Version(major, minor, patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// An interpreter that ran and told us what it is.
#[derive(Debug, Clone)]
pub struct Interpreter {
    /// The real executable (`sys.executable`, symlinks resolved): what the
    /// environment is built from, never a shim.
    pub executable: PathBuf,
    pub version: Version,
    /// Which manager it belongs to, for messages.
    pub found_in: &'static str,
}

/// Where the request came from, for messages.
#[derive(Debug, Clone)]
pub enum Source {
    Flag,
    Config(PathBuf),
    Pin(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("--python-version"),
            Source::Config(path) => write!(f, "python.version in {}", path.display()),
            Source::Pin(path) => write!(f, "the pin in {}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_match() {
        let r = VersionRequest::parse("3.11").unwrap();
        assert!(r.matches(&Version(3, 11, 7)));
        assert!(!r.matches(&Version(3, 12, 0)));
        let r = VersionRequest::parse("3.11.2").unwrap();
        assert!(r.matches(&Version(3, 11, 2)));
        assert!(!r.matches(&Version(3, 11, 7)));
        assert_eq!(
            VersionRequest::parse("python3.10").unwrap().to_string(),
            "3.10"
        );
        for bad in [
            "3",
            "3.x",
            "",
            "3.11.2.1",
            "pypy3.10-7.3",
            "3..1",
            "2.7",
            "2.7.18",
        ] {
            assert!(VersionRequest::parse(bad).is_err(), "{bad}");
        }
        assert!(VersionRequest::parse("3").unwrap_err().hint().is_some());
        assert!(VersionRequest::parse("2.7")
            .unwrap_err()
            .message()
            .contains("Python 2 is not supported"));
    }
}
