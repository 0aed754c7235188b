//! `requires-python` (PEP 440 version specifiers, as pyproject.toml writes
//! them): which Python versions a project supports. Releases only: a
//! pre-release tag in a specifier is read as its release.

use std::cmp::Ordering;
use std::fmt;

use std::path::PathBuf;

use super::{Source, Version, VersionRequest};
use crate::error::{user, Error};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Ge,
    Le,
    Gt,
    Lt,
    Compatible,
}

#[derive(Debug, Clone)]
struct Clause {
    op: Op,
    release: Vec<u32>,
    /// `==3.12.*`: a prefix.
    wildcard: bool,
}

/// A parsed `requires-python`.
#[derive(Debug, Clone)]
pub struct Requires {
    text: String,
    clauses: Vec<Clause>,
}

impl Requires {
    /// Parses `>=3.10,<3.14`; the error says what is wrong with which part.
    pub fn parse(text: &str) -> Result<Requires, String> {
        let mut clauses = Vec::new();
        for part in text.split(',').map(str::trim) {
            if part.is_empty() {
                return Err(format!("`{text}` has an empty specifier"));
            }
            let (op, rest) = [
                ("===", Op::Eq),
                ("~=", Op::Compatible),
                ("==", Op::Eq),
                ("!=", Op::Ne),
                (">=", Op::Ge),
                ("<=", Op::Le),
                (">", Op::Gt),
                ("<", Op::Lt),
            ]
            .into_iter()
            .find_map(|(sym, op)| part.strip_prefix(sym).map(|rest| (op, rest.trim())))
            .ok_or_else(|| format!("`{part}` has no operator (such as >=)"))?;
            let (digits, wildcard) = match rest.strip_suffix(".*") {
                Some(prefix) if matches!(op, Op::Eq | Op::Ne) => (prefix, true),
                Some(_) => return Err(format!("`{part}`: `.*` goes only with == or !=")),
                None => (rest, false),
            };
            let digits = digits.strip_prefix('v').unwrap_or(digits);
            let mut release = Vec::new();
            for piece in digits.split('.') {
                let number: String = piece.chars().take_while(char::is_ascii_digit).collect();
                release.push(
                    number
                        .parse::<u32>()
                        .map_err(|_| format!("`{part}` is not a version specifier"))?,
                );
                if number.len() != piece.len() {
                    break; // `3.13.0rc1`: read as 3.13.0
                }
            }
            if op == Op::Compatible && release.len() < 2 {
                return Err(format!("`{part}`: ~= needs at least X.Y"));
            }
            clauses.push(Clause {
                op,
                release,
                wildcard,
            });
        }
        Ok(Requires {
            text: text.trim().to_owned(),
            clauses,
        })
    }

    pub fn matches(&self, version: &Version) -> bool {
        let v = [version.0, version.1, version.2];
        self.clauses.iter().all(|c| c.matches(&v))
    }
}

fn compare(v: &[u32], release: &[u32]) -> Ordering {
    let len = v.len().max(release.len());
    let at = |s: &[u32], i: usize| s.get(i).copied().unwrap_or(0);
    (0..len)
        .map(|i| at(v, i).cmp(&at(release, i)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

fn prefix_matches(v: &[u32], prefix: &[u32]) -> bool {
    prefix
        .iter()
        .enumerate()
        .all(|(i, p)| v.get(i).copied().unwrap_or(0) == *p)
}

impl Clause {
    fn matches(&self, v: &[u32]) -> bool {
        let r = &self.release;
        match self.op {
            Op::Eq if self.wildcard => prefix_matches(v, r),
            Op::Ne if self.wildcard => !prefix_matches(v, r),
            Op::Eq => compare(v, r).is_eq(),
            Op::Ne => compare(v, r).is_ne(),
            Op::Ge => compare(v, r).is_ge(),
            Op::Le => compare(v, r).is_le(),
            Op::Gt => compare(v, r).is_gt(),
            Op::Lt => compare(v, r).is_lt(),
            Op::Compatible => compare(v, r).is_ge() && prefix_matches(v, &r[..r.len() - 1]),
        }
    }
}

impl fmt::Display for Requires {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Whether the version asked for (`request`, from `source`) and the pin
/// file's agree with each other and with the project's `requires-python`;
/// the error names both sides and the fix. uv reads the pin and
/// `requires-python` too, so an environment that disagrees with them is
/// one `uv sync` replaces.
pub fn agree(
    request: Option<&(VersionRequest, Source)>,
    pin: Option<&(VersionRequest, PathBuf)>,
    requires: Option<&Requires>,
) -> Result<(), Error> {
    if let (Some((asked, source)), Some((pinned, file))) = (request, pin) {
        let same_release = asked.major == pinned.major && asked.minor == pinned.minor;
        let patches_agree = match (asked.patch, pinned.patch) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        let agreed = same_release && patches_agree;
        if !agreed && !matches!(source, Source::Pin(_)) {
            return Err(user(format!(
                "{source} asks for Python {asked}, but {} pins {pinned}: uv and pyenv use the \
                 pin here, and `uv sync` would replace the environment with {pinned}",
                file.display()
            ))
            .with_hint(format!(
                "make them agree: `uv python pin {asked}` rewrites the pin, or ask for {pinned}"
            )));
        }
    }
    let Some(requires) = requires else {
        return Ok(());
    };
    let asked = request
        .map(|(r, s)| (*r, s.to_string()))
        .or_else(|| pin.map(|(r, f)| (*r, format!("the pin in {}", f.display()))));
    if let Some((asked, source)) = asked {
        let patches = asked.patch.map_or(0..=99, |p| p..=p);
        let allowed = patches
            .into_iter()
            .any(|patch| requires.matches(&Version(asked.major, asked.minor, patch)));
        if !allowed {
            return Err(user(format!(
                "{source} asks for Python {asked}, but pyproject.toml's requires-python is \
                 `{requires}`"
            ))
            .with_hint("ask for a version requires-python allows, or change requires-python"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifiers_follow_pep_440_for_releases() {
        let ok = |spec: &str, v: (u32, u32, u32)| {
            Requires::parse(spec)
                .unwrap()
                .matches(&Version(v.0, v.1, v.2))
        };
        assert!(ok(">=3.10", (3, 11, 2)));
        assert!(!ok(">=3.12", (3, 11, 9)));
        assert!(ok(">=3.9, <3.13", (3, 12, 7)));
        assert!(!ok(">=3.9,<3.13", (3, 13, 0)));
        assert!(ok("==3.12.*", (3, 12, 4)) && !ok("==3.12.*", (3, 13, 0)));
        assert!(!ok("!=3.11.*", (3, 11, 1)) && ok("!=3.11.*", (3, 12, 0)));
        assert!(ok("~=3.11", (3, 14, 0)) && !ok("~=3.11", (4, 0, 0)));
        assert!(ok("~=3.11.2", (3, 11, 5)) && !ok("~=3.11.2", (3, 12, 0)));
        assert!(ok(">3.11", (3, 11, 1)) && !ok(">3.11", (3, 11, 0)));
        assert!(ok("==3.11", (3, 11, 0)) && !ok("==3.11", (3, 11, 4)));
        assert!(ok(">=3.13.0rc1", (3, 13, 0)));
        for bad in ["", "3.11", ">=", ">=x", "~=3", ">=3.*", ">=3.10,"] {
            assert!(Requires::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pins_and_requires_python_must_agree() {
        let r = |t: &str| VersionRequest::parse(t).unwrap();
        let config = (r("3.12"), Source::Config(".pyve/config".into()));
        let pin = (r("3.13"), PathBuf::from("/p/.python-version"));
        let e = agree(Some(&config), Some(&pin), None).unwrap_err();
        assert!(e
            .message()
            .contains("asks for Python 3.12, but /p/.python-version pins 3.13"));
        let same = (r("3.12.4"), PathBuf::from("/p/.python-version"));
        assert!(agree(Some(&config), Some(&same), None).is_ok());
        let requires = Requires::parse(">=3.12").unwrap();
        assert!(agree(Some(&config), None, Some(&requires)).is_ok());
        let old = (r("3.11"), Source::Flag);
        let e = agree(Some(&old), None, Some(&requires)).unwrap_err();
        assert!(e.message().contains("--python-version asks for Python 3.11, but pyproject.toml's requires-python is `>=3.12`"), "{}", e.message());
        let e = agree(
            None,
            Some(&(r("3.11"), "/p/.python-version".into())),
            Some(&requires),
        );
        assert!(e.is_err());
    }
}
