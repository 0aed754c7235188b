//! Files pyve shares with the user (`.gitignore`, `.envrc`): pyve owns only
//! the lines between its two marker lines and leaves every other byte as it
//! found it. Writes replace the file atomically.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{user, Error};

pub const BEGIN: &str = "# >>> pyve >>>";
pub const END: &str = "# <<< pyve <<<";

/// Where pyve's block sits in a file: the byte range of its lines.
fn find_block(path: &Path, text: &[u8]) -> Result<Option<std::ops::Range<usize>>, Error> {
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
            "{}: the line `{BEGIN}` has no matching `{END}` after it; \
             restore the end marker or delete pyve's block, then run again",
            path.display()
        ))),
        None => Ok(None),
    }
}

/// `text` with pyve's block set to `body` (lines, each ending in '\n'):
/// replaced in place when present, appended otherwise.
pub fn with_block(path: &Path, text: &[u8], body: &str) -> Result<Vec<u8>, Error> {
    let block = format!("{BEGIN}\n{body}{END}\n");
    let mut out = Vec::with_capacity(text.len() + block.len() + 1);
    match find_block(path, text)? {
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
    Ok(find_block(path, text)?.map(|range| {
        let mut out = text[..range.start].to_vec();
        out.extend_from_slice(&text[range.end..]);
        out
    }))
}

/// Reads a regular file of at most `max` bytes: a repository can make any
/// name a link to `/dev/zero` or a FIFO, and reading one must not hang.
pub fn read_bounded(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Error as IoError, ErrorKind, Read};
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(IoError::new(ErrorKind::InvalidData, "not a regular file"));
    }
    if metadata.len() > max {
        return Err(IoError::new(
            ErrorKind::InvalidData,
            format!("{} bytes, more than {max}", metadata.len()),
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads a file that may not exist yet.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(user(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Replaces `path`'s content atomically (a sibling temporary file renamed
/// over it), keeping its permissions. A symlink is written through, so the
/// file it points to changes and the link stays.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let target: PathBuf = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).map_err(|e| {
            user(format!(
                "{}: cannot follow the symlink: {e}",
                path.display()
            ))
        })?,
        _ => path.to_owned(),
    };
    let mode = std::fs::metadata(&target)
        .map(|m| m.permissions().mode())
        .unwrap_or(0o644);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = target.with_file_name(format!(".{name}.pyve-{}", std::process::id()));
    let fail = |e: std::io::Error| user(format!("cannot write {}: {e}", path.display()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))?;
        file.sync_all()?;
        std::fs::rename(&temporary, &target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.map_err(fail)
}

/// Whether a file holds nothing but whitespace.
/// Removes a directory tree when dropped, unless disarmed (`.0 = None`):
/// a build or download that fails or is interrupted leaves nothing.
pub struct RemoveOnDrop(pub Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
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
        assert!(with_block(Path::new(P), text, "x\n").is_err());
        assert!(without_block(Path::new(P), text).is_err());
    }
}
