//! Dotenv files (`.env`): `NAME=value` lines, as python-dotenv, Docker
//! Compose and direnv's `dotenv` read them, with nothing executed.
//!
//! - `#` starts a comment line; blank lines, a byte-order mark and a name
//!   with no `=` (which python-dotenv leaves unset) are skipped; `export `
//!   before a name is allowed (so the file can also be sourced).
//! - An unquoted value ends at the end of the line or at ` #`, trimmed.
//! - `'single quotes'` keep every byte as written, newlines included, but
//!   for `\'` and `\\` (as python-dotenv reads them).
//! - `"double quotes"` may span lines and read `\n`, `\t`, `\r`, `\"`,
//!   `\\`, `\$` and `\'`; another backslash stays as written.
//! - Unquoted and in double quotes, `$PROJECT_ROOT` and the variable's own
//!   `$NAME` (or `${…}`) are references (see the module above); every other
//!   `$` is kept.
//!
//! The file is the repository's: it is read bounded, only if this user owns
//! it and nobody else can write it, and a name in `super::forbidden` is
//! refused with the line.

use std::path::Path;

use super::{forbidden, merge, push_expandable, Variable};
use crate::files::{self, owner, ReadError};

/// What `pyve init --dotenv` writes into a new `.env`; `pyve purge`
/// removes a `.env` holding exactly this (or nothing), and keeps any other.
pub const NEW_FILE: &[u8] =
    b"# The project's variables, one NAME=value per line; pyve applies them\n\
# with its environment. Kept out of git (.gitignore); see `pyve status`.\n";

/// A dotenv file is a few KiB; past this it is refused, not read.
pub const MAX_BYTES: u64 = 256 * 1024;

/// What is wrong with a dotenv file: where, what, and the fix.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based; None for the file as a whole.
    pub line: Option<usize>,
    pub message: String,
    pub hint: String,
}

impl Problem {
    fn at(line: usize, message: impl Into<String>, hint: impl Into<String>) -> Problem {
        Problem {
            line: Some(line),
            message: message.into(),
            hint: hint.into(),
        }
    }

    fn whole(message: impl Into<String>, hint: impl Into<String>) -> Problem {
        Problem {
            line: None,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// The variables of the dotenv file at `path`, in the order first set;
/// None when there is no file (a fresh clone has no `.env`). Its owner and
/// mode are checked on the file read, unless the user vouched for the
/// project (`check_owner` false: `--trust`, as for its config).
pub fn read(path: &Path, check_owner: bool) -> Result<Option<Vec<Variable>>, Problem> {
    let bytes = match files::read_bounded_with_metadata(path, MAX_BYTES) {
        Ok((bytes, metadata)) => {
            if let Some(refused) = owner::unsafe_owner(path, &metadata).filter(|_| check_owner) {
                return Err(Problem::whole(refused.message(), refused.fix));
            }
            bytes
        }
        Err(ReadError::NotFound) => return Ok(None),
        Err(ReadError::TooLarge(max)) => {
            return Err(Problem::whole(
                format!("is larger than {max} bytes, which no dotenv file needs"),
                "keep the project's variables in a small file",
            ))
        }
        Err(error) => {
            return Err(Problem::whole(
                error.to_string(),
                "make it a regular file of NAME=value lines, or remove it",
            ))
        }
    };
    parse(&bytes).map(Some)
}

/// Reads a dotenv file's bytes.
pub fn parse(bytes: &[u8]) -> Result<Vec<Variable>, Problem> {
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(Problem::at(
            line_of(bytes, at),
            "holds a NUL byte, which no variable can hold",
            "remove it",
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut cursor = Cursor {
        bytes,
        at: 0,
        line: 1,
    };
    let mut variables = Vec::new();
    while let Some((name, template)) = cursor.assignment()? {
        merge(&mut variables, name, template);
    }
    Ok(variables)
}

fn line_of(bytes: &[u8], at: usize) -> usize {
    1 + bytes[..at].iter().filter(|&&b| b == b'\n').count()
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        if byte == b'\n' {
            self.line += 1;
        }
        Some(byte)
    }

    fn rest(&self) -> &[u8] {
        &self.bytes[self.at..]
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.bump();
        }
    }

    fn skip_line(&mut self) {
        while let Some(byte) = self.bump() {
            if byte == b'\n' {
                break;
            }
        }
    }

    /// The next `NAME=value`, None at the end of the file.
    fn assignment(&mut self) -> Result<Option<Variable>, Problem> {
        loop {
            match self.peek() {
                None => return Ok(None),
                Some(b' ' | b'\t' | b'\r' | b'\n') => {
                    self.bump();
                }
                Some(b'#') => self.skip_line(),
                Some(_) => match self.one()? {
                    Some(variable) => return Ok(Some(variable)),
                    // A name alone sets nothing.
                    None => self.skip_line(),
                },
            }
        }
    }

    /// The assignment at this line's first word; None for a name alone.
    fn one(&mut self) -> Result<Option<Variable>, Problem> {
        let line = self.line;
        if self.rest().starts_with(b"export") && matches!(self.rest().get(6), Some(b' ' | b'\t')) {
            self.at += 6;
            self.skip_blanks();
        }
        let name = self.name(line)?;
        self.skip_blanks();
        if matches!(self.peek(), None | Some(b'\n' | b'\r' | b'#')) {
            return Ok(None);
        }
        if self.bump() != Some(b'=') {
            return Err(Problem::at(
                line,
                format!("expected `=` after `{name}`"),
                "write NAME=value, one per line",
            ));
        }
        self.skip_blanks();
        let mut template = Vec::new();
        match self.peek() {
            Some(b'\'') => self.single_quoted(line, &mut template)?,
            Some(b'"') => self.double_quoted(line, &name, &mut template)?,
            _ => self.unquoted(&name, &mut template),
        }
        if forbidden(&name) {
            return Err(Problem::at(
                line,
                format!(
                    "{name}: a dotenv file may not set {name}, which can run code or change \
                     what is loaded"
                ),
                format!(
                    "remove the line, or set {name} under `env:` in .pyve/config, which you \
                     approve"
                ),
            ));
        }
        Ok(Some((name, template)))
    }

    fn name(&mut self, line: usize) -> Result<String, Problem> {
        let start = self.at;
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'_') {
            self.bump();
        }
        let name = String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned();
        if !super::is_name(&name) {
            return Err(Problem::at(
                line,
                "expected a variable name: letters, digits and `_`, not starting with a digit",
                "write NAME=value, one per line",
            ));
        }
        Ok(name)
    }

    /// After a closing quote: blanks, then a comment or the line's end.
    fn end_of_value(&mut self, line: usize) -> Result<(), Problem> {
        self.skip_blanks();
        match self.peek() {
            None | Some(b'\n') => Ok(()),
            Some(b'\r') if matches!(self.rest().get(1), None | Some(b'\n')) => Ok(()),
            Some(b'#') => {
                self.skip_line();
                Ok(())
            }
            Some(_) => Err(Problem::at(
                line,
                "unexpected text after the closing quote",
                "quote the whole value, or put a comment after ` #`",
            )),
        }
    }

    fn unterminated(line: usize, quote: char) -> Problem {
        Problem::at(
            line,
            format!("the value's {quote} is never closed"),
            format!("end the value with {quote}"),
        )
    }

    fn single_quoted(&mut self, line: usize, out: &mut Vec<u8>) -> Result<(), Problem> {
        self.bump();
        loop {
            match self.bump() {
                None => return Err(Cursor::unterminated(line, '\'')),
                Some(b'\'') => break,
                Some(b'\\') if matches!(self.peek(), Some(b'\'' | b'\\')) => {
                    out.extend(self.bump());
                }
                Some(byte) => out.push(byte),
            }
        }
        self.end_of_value(line)
    }

    fn double_quoted(&mut self, line: usize, name: &str, out: &mut Vec<u8>) -> Result<(), Problem> {
        self.bump();
        // Expandable text is gathered in runs, so a reference is read whole.
        let mut run = Vec::new();
        loop {
            match self.bump() {
                None => return Err(Cursor::unterminated(line, '"')),
                Some(b'"') => break,
                Some(b'\\') => {
                    let literal = match self.bump() {
                        None => return Err(Cursor::unterminated(line, '"')),
                        Some(b'n') => b'\n',
                        Some(b't') => b'\t',
                        Some(b'r') => b'\r',
                        Some(b @ (b'"' | b'\\' | b'$' | b'\'')) => b,
                        Some(other) => {
                            run.extend_from_slice(&[b'\\', other]);
                            continue;
                        }
                    };
                    push_expandable(out, &run, name);
                    run.clear();
                    out.push(literal);
                }
                Some(byte) => run.push(byte),
            }
        }
        push_expandable(out, &run, name);
        self.end_of_value(line)
    }

    fn unquoted(&mut self, name: &str, out: &mut Vec<u8>) {
        let start = self.at;
        let mut end = self.at;
        while let Some(byte) = self.peek() {
            if byte == b'\n' {
                break;
            }
            let after_blank = self.at > start && matches!(self.bytes[self.at - 1], b' ' | b'\t');
            if byte == b'#' && after_blank {
                self.skip_line();
                break;
            }
            self.bump();
            if !matches!(byte, b' ' | b'\t' | b'\r') {
                end = self.at;
            }
        }
        push_expandable(out, &self.bytes[start..end], name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variables::expand;

    fn values(text: &[u8]) -> Vec<(String, Vec<u8>)> {
        parse(text)
            .unwrap()
            .into_iter()
            .map(|(n, t)| {
                let prior = format!("<{n}>");
                (n, expand(&t, b"/root", Some(prior.as_bytes())))
            })
            .collect()
    }

    fn one(text: &str) -> Vec<u8> {
        let all = values(text.as_bytes());
        assert_eq!(all.len(), 1, "{text:?}: {all:?}");
        all.into_iter().next().unwrap().1
    }

    #[test]
    fn reads_the_forms_people_write() {
        assert_eq!(one("A=b"), b"b");
        assert_eq!(one("export A=b"), b"b");
        assert_eq!(one("  A = b c  \r\n"), b"b c");
        assert_eq!(one("A=b # comment"), b"b");
        assert_eq!(one("A=b#not-a-comment"), b"b#not-a-comment");
        assert_eq!(one("A="), b"");
        assert_eq!(one("A=''"), b"");
        assert_eq!(one("A='$PROJECT_ROOT \\n $A'"), b"$PROJECT_ROOT \\n $A");
        assert_eq!(one("A='it\\'s \\\\ \\x'"), b"it's \\ \\x");
        assert_eq!(one("\u{feff}A=1"), b"1");
        assert_eq!(one("ALONE\nA=1\nexport ALSO # c\n"), b"1");
        assert_eq!(one("A=\"x\\ny\\t\\\"\\\\\\$A\\q\""), b"x\ny\t\"\\$A\\q");
        assert_eq!(one("A=\"two\nlines\" # c"), b"two\nlines");
        assert_eq!(one("A='two\nlines'"), b"two\nlines");
        assert_eq!(one("exporter=1"), b"1");
        assert_eq!(
            values(b"# c\n\nA=1\nB=2\nA=3\n"),
            vec![("A".into(), b"3".to_vec()), ("B".into(), b"2".to_vec())]
        );
    }

    #[test]
    fn expands_only_the_project_root_and_the_variables_own_value() {
        assert_eq!(one("A=$PROJECT_ROOT/src:$A"), b"/root/src:<A>");
        assert_eq!(one("A=\"${PROJECT_ROOT}x${A}\""), b"/rootx<A>");
        assert_eq!(
            one("A=$PROJECT_ROOTS $B ${B} $ $$"),
            b"$PROJECT_ROOTS $B ${B} $ $$"
        );
        assert_eq!(one("A=$HOME"), b"$HOME");
    }

    #[test]
    fn keeps_bytes_that_are_not_utf8() {
        assert_eq!(one_bytes(b"A='\xff\x80'"), b"\xff\x80");
        assert_eq!(one_bytes(b"A=\xfe"), b"\xfe");
    }

    fn one_bytes(text: &[u8]) -> Vec<u8> {
        values(text).remove(0).1
    }

    #[test]
    fn refuses_with_the_line_and_the_fix() {
        let problem = |text: &str| parse(text.as_bytes()).unwrap_err();
        let bad = problem("A=1\nPATH=/tmp/evil:$PATH\n");
        assert_eq!(bad.line, Some(2));
        assert!(bad
            .message
            .starts_with("PATH: a dotenv file may not set PATH"));
        assert!(bad.hint.contains("env:"));
        for name in [
            "BASH_ENV",
            "LD_PRELOAD",
            "PYTHONPATH",
            "PYVE_STATE",
            "XDG_DATA_HOME",
        ] {
            assert!(problem(&format!("{name}=x")).message.starts_with(name));
        }
        assert_eq!(problem("A=1\nB='open\n").line, Some(2));
        assert_eq!(problem("A=\"x\" y").line, Some(1));
        assert_eq!(problem("1A=x").line, Some(1));
        assert_eq!(problem("A x").line, Some(1));
        assert_eq!(problem("B=1\nA x=1").line, Some(2));
        assert_eq!(parse(b"A=1\nB=\0").unwrap_err().line, Some(2));
    }
}
