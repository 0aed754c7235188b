//! Version pins: `.tool-versions` (asdf, mise) and `.python-version`
//! (pyenv, uv), read the way those tools read them.

use std::path::{Path, PathBuf};

use super::VersionRequest;
use crate::error::{user, Error};
use crate::text::shown;

/// Pin files are a line or two; a larger one is not read.
const MAX_PIN_BYTES: u64 = 64 << 10;

/// The pin file's text; None when there is none. One that exists and is
/// not a small regular file is an error, never "no pin".
fn read(path: &Path) -> Result<Option<String>, Error> {
    match crate::files::read_bounded(path, MAX_PIN_BYTES) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(crate::files::ReadError::NotFound) => Ok(None),
        Err(e) => Err(user(format!("{}: {e}", shown(path)))),
    }
}

/// The nearest `.tool-versions` or `.python-version` from `start` upward.
/// `system` means no particular version.
pub fn find_pin(start: &Path) -> Result<Option<(VersionRequest, PathBuf)>, Error> {
    for dir in start.ancestors() {
        let tool_versions = dir.join(".tool-versions");
        if let Some(text) = read(&tool_versions)? {
            let versions = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .find_map(|l| {
                    l.strip_prefix("python")
                        .filter(|r| r.starts_with([' ', '\t']))
                });
            if let Some(versions) = versions {
                return pin_from(versions.split_whitespace(), &tool_versions);
            }
        }
        let python_version = dir.join(".python-version");
        if let Some(text) = read(&python_version)? {
            let words = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty());
            return pin_from(words, &python_version);
        }
    }
    Ok(None)
}

fn pin_from<'a>(
    mut words: impl Iterator<Item = &'a str>,
    file: &Path,
) -> Result<Option<(VersionRequest, PathBuf)>, Error> {
    match words.next() {
        None | Some("system") => Ok(None),
        Some(word) => VersionRequest::parse(word)
            .map(|request| Some((request, file.to_owned())))
            .map_err(|e| {
                user(format!("{}: {}", shown(file), e.message()))
                    .with_hint("pyve builds CPython X.Y[.Z] environments, so pass --python-version")
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_read_like_asdf_and_pyenv() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        assert!(find_pin(&sub).unwrap().is_none());
        std::fs::write(dir.path().join("a/.python-version"), "# c\n3.12\n3.11\n").unwrap();
        let (r, file) = find_pin(&sub).unwrap().unwrap();
        assert_eq!(r.to_string(), "3.12");
        assert!(file.ends_with("a/.python-version"));
        std::fs::write(
            sub.join(".tool-versions"),
            "nodejs 20\npython 3.11.7 system\n",
        )
        .unwrap();
        assert_eq!(find_pin(&sub).unwrap().unwrap().0.to_string(), "3.11.7");
        std::fs::write(sub.join(".tool-versions"), "python system\n").unwrap();
        assert!(find_pin(&sub).unwrap().is_none());
        std::fs::write(sub.join(".tool-versions"), "python pypy3.10\n").unwrap();
        let error = find_pin(&sub).unwrap_err();
        assert!(
            error.hint().unwrap().contains("--python-version"),
            "{error}"
        );
    }
}
