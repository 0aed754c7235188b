//! Files pyve shares with the user (`.gitignore`, `.envrc`): pyve owns only
//! the lines between its two marker lines and leaves every other byte as it
//! found it.

use std::ops::Range;
use std::path::Path;

use crate::error::{user, Error};
use crate::text::shown;

pub const BEGIN: &str = "# >>> pyve >>>";
pub const END: &str = "# <<< pyve <<<";

/// Where pyve's block sits in a file: the byte range of its lines.
fn find(path: &Path, text: &[u8]) -> Result<Option<Range<usize>>, Error> {
    let mut offset = 0;
    let mut start = None;
    for line in text.split_inclusive(|&b| b == b'\n') {
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content == BEGIN.as_bytes() && start.is_none() {
            start = Some(offset);
        } else if content == END.as_bytes() {
            if let Some(start) = start {
                return Ok(Some(start..offset + line.len()));
            }
        }
        offset += line.len();
    }
    match start {
        Some(_) => Err(user(format!(
            "{}: the line `{BEGIN}` has no matching `{END}` after it",
            shown(path)
        ))
        .with_hint("restore the end marker or delete pyve's block, then run again")),
        None => Ok(None),
    }
}

/// `text` with pyve's block set to `body` (lines, each ending in '\n'):
/// replaced in place when present, appended otherwise.
pub fn with_block(path: &Path, text: &[u8], body: &str) -> Result<Vec<u8>, Error> {
    let block = format!("{BEGIN}\n{body}{END}\n");
    let mut out = Vec::with_capacity(text.len() + block.len() + 1);
    match find(path, text)? {
        Some(range) => {
            out.extend_from_slice(&text[..range.start]);
            out.extend_from_slice(block.as_bytes());
            out.extend_from_slice(&text[range.end..]);
        }
        None => {
            out.extend_from_slice(text);
            if !text.is_empty() && !text.ends_with(b"\n") {
                out.push(b'\n');
            }
            out.extend_from_slice(block.as_bytes());
        }
    }
    Ok(out)
}

/// `text` without pyve's block, or None when it has none.
pub fn without_block(path: &Path, text: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    Ok(find(path, text)?.map(|range| {
        let mut out = text[..range.start].to_vec();
        out.extend_from_slice(&text[range.end..]);
        out
    }))
}

/// Whether the file at `path` has pyve's block (a file that cannot be
/// read, or whose block is broken, has none to keep).
pub fn file_has_block(path: &Path) -> bool {
    super::read_optional(path)
        .ok()
        .flatten()
        .is_some_and(|bytes| matches!(without_block(path, &bytes), Ok(Some(_))))
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = ".gitignore";

    #[test]
    fn appends_then_replaces_in_place_and_removes_exactly() {
        let user_text = b"node_modules/\n# mine".to_vec();
        let once = with_block(Path::new(P), &user_text, "/.venv/\n").unwrap();
        assert_eq!(
            once,
            b"node_modules/\n# mine\n# >>> pyve >>>\n/.venv/\n# <<< pyve <<<\n".to_vec()
        );
        let mut edited = once.clone();
        edited.extend_from_slice(b"after\n");
        let twice = with_block(Path::new(P), &edited, "/env/\n").unwrap();
        assert_eq!(
            twice,
            b"node_modules/\n# mine\n# >>> pyve >>>\n/env/\n# <<< pyve <<<\nafter\n".to_vec()
        );
        assert_eq!(with_block(Path::new(P), &twice, "/env/\n").unwrap(), twice);
        let removed = without_block(Path::new(P), &twice).unwrap().unwrap();
        assert_eq!(removed, b"node_modules/\n# mine\nafter\n".to_vec());
        assert!(without_block(Path::new(P), &removed).unwrap().is_none());
    }

    #[test]
    fn an_unterminated_block_is_an_error_not_a_guess() {
        let text = b"a\n# >>> pyve >>>\n/.venv/\nb\n";
        let error = with_block(Path::new(P), text, "x\n").unwrap_err();
        assert!(error.hint().unwrap().contains("restore the end marker"));
        assert!(without_block(Path::new(P), text).is_err());
    }
}
