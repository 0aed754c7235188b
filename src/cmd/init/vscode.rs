//! `pyve init --vscode`: VS Code's `python.defaultInterpreterPath` in
//! `.vscode/settings.json`. The file is JSON with comments and trailing
//! commas, and it is the user's: pyve adds its one key after the opening
//! brace and leaves every other byte as it was.

use std::path::Path;

use crate::error::Error;
use crate::files;

pub const KEY: &str = "python.defaultInterpreterPath";
pub const RELATIVE: &str = ".vscode/settings.json";

/// What the settings file needs.
#[derive(Debug, PartialEq, Eq)]
pub enum Edit {
    /// The key holds this value already.
    Unchanged,
    /// The key holds another value; the user's choice is kept.
    Conflict(String),
    /// The new text of the file.
    Write(String),
}

/// The file's text with `KEY` set to `value`, as far as that can be done
/// without touching anything the user wrote.
pub fn edit(current: Option<&str>, value: &str) -> Result<Edit, String> {
    let mut member = String::new();
    crate::json::string(&mut member, KEY);
    member.push_str(": ");
    crate::json::string(&mut member, value);
    let Some(text) = current.filter(|t| !t.trim().is_empty()) else {
        return Ok(Edit::Write(format!("{{\n  {member}\n}}\n")));
    };
    let scan = scan(text)?;
    if let Some(existing) = scan.existing {
        return Ok(if existing == value {
            Edit::Unchanged
        } else {
            Edit::Conflict(existing)
        });
    }
    // A trailing comma is fine in VS Code's settings; a missing one is not.
    let separator = if scan.empty { "" } else { "," };
    let (before, after) = text.split_at(scan.open + 1);
    Ok(Edit::Write(format!(
        "{before}\n  {member}{separator}{after}"
    )))
}

struct Scan {
    /// Byte offset of the top-level object's `{`.
    open: usize,
    /// Nothing but blanks and comments inside it.
    empty: bool,
    /// `KEY`'s value, when the object sets it to a string.
    existing: Option<String>,
}

/// Where the comment starting at `i` ends, if one does.
fn after_comment(text: &str, i: usize) -> Result<Option<usize>, String> {
    let rest = &text[i..];
    if rest.starts_with("//") {
        return Ok(Some(rest.find('\n').map_or(text.len(), |end| i + end)));
    }
    if let Some(body) = rest.strip_prefix("/*") {
        let end = body.find("*/").ok_or("a /* comment is not closed")?;
        return Ok(Some(i + 2 + end + 2));
    }
    Ok(None)
}

/// Reads just enough of JSON with comments: strings, comments, nesting.
fn scan(text: &str) -> Result<Scan, String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    let mut open = None;
    let mut empty = true;
    let mut existing = None;
    // The last top-level key seen, while its value is still to come.
    let mut pending_key: Option<String> = None;
    let mut after_colon = false;
    while i < bytes.len() {
        if let Some(next) = after_comment(text, i)? {
            i = next;
            continue;
        }
        match bytes[i] {
            b'"' => {
                let (value, next) = string_at(text, i)?;
                if depth == 1 {
                    empty = false;
                    if after_colon {
                        if pending_key.as_deref() == Some(KEY) {
                            existing = Some(value);
                        }
                        pending_key = None;
                        after_colon = false;
                    } else {
                        pending_key = Some(value);
                    }
                }
                i = next;
                continue;
            }
            b'{' | b'[' => {
                if depth == 0 {
                    if open.is_some() || bytes[i] == b'[' {
                        return Err("it does not hold one JSON object".into());
                    }
                    open = Some(i);
                }
                if depth == 1 {
                    pending_key = None;
                    after_colon = false;
                }
                depth += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1).ok_or("a bracket is not opened")?;
            }
            b':' if depth == 1 => after_colon = true,
            b',' if depth == 1 => {
                pending_key = None;
                after_colon = false;
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ if depth == 0 => return Err("it does not hold one JSON object".into()),
            _ => {
                if depth == 1 {
                    empty = false;
                }
            }
        }
        i += 1;
    }
    match (open, depth) {
        (Some(open), 0) => Ok(Scan {
            open,
            empty,
            existing,
        }),
        (None, _) => Err("it does not hold a JSON object".into()),
        _ => Err("a brace is not closed".into()),
    }
}

/// The JSON string starting at `start` (a `"`), unescaped as far as
/// comparing it needs, and the offset after it.
fn string_at(text: &str, start: usize) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut chars = text[start + 1..].char_indices();
    while let Some((offset, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + 1 + offset + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, other)) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("a string is not closed".into())
}

/// The interpreter VS Code should use: through `.pyve/current` when that
/// link chooses the environment, so `pyve activate` switches the editor too.
pub fn interpreter_setting(root: &Path, env_dir: &Path, named: bool) -> String {
    let pointer = crate::layout::pointer(root);
    let python = if named && std::fs::symlink_metadata(&pointer).is_ok() {
        pointer
    } else {
        env_dir.to_owned()
    }
    .join("bin/python");
    match python.strip_prefix(root) {
        Ok(inside) => format!("${{workspaceFolder}}/{}", inside.display()),
        Err(_) => python.display().to_string(),
    }
}

/// Applies `edit` to the project's settings file, saying what happened.
pub fn write(root: &Path, value: &str) -> Result<(), Error> {
    let path = root.join(RELATIVE);
    let current = files::read_optional(&path)?;
    let current = match current.map(String::from_utf8) {
        Some(Ok(text)) => Some(text),
        Some(Err(_)) => {
            warn!(
                "{} is not UTF-8; add `\"{KEY}\": \"{value}\"` by hand",
                path.display()
            );
            return Ok(());
        }
        None => None,
    };
    match edit(current.as_deref(), value) {
        Ok(Edit::Unchanged) => {}
        Ok(Edit::Conflict(existing)) => warn!(
            "{} sets {KEY} to {existing:?}, kept; pyve's environment is {value:?}: \
             change it by hand, or remove the key and run `pyve init --vscode` again",
            path.display()
        ),
        Ok(Edit::Write(text)) => {
            let target = files::landing(root, &path)?;
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    crate::error::user(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            files::write_inside(root, &path, text.as_bytes())?;
            done!("set {KEY} in {}", path.display());
        }
        Err(why) => warn!(
            "{} was left alone: {why}; add `\"{KEY}\": \"{value}\"` by hand",
            path.display()
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUE: &str = "${workspaceFolder}/.venv/bin/python";

    fn written(current: Option<&str>) -> String {
        match edit(current, VALUE).unwrap() {
            Edit::Write(text) => text,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_new_file_holds_only_the_key() {
        assert_eq!(
            written(None),
            "{\n  \"python.defaultInterpreterPath\": \"${workspaceFolder}/.venv/bin/python\"\n}\n"
        );
    }

    #[test]
    fn an_existing_file_keeps_every_byte_and_gains_one_member() {
        let text = "// mine\n{\n  /* tabs */ \"editor.tabSize\": 4, // yes\n  \"x\": {\"y\": [1, \"}\"]},\n}\n";
        let out = written(Some(text));
        assert_eq!(
            out,
            "// mine\n{\n  \"python.defaultInterpreterPath\": \"${workspaceFolder}/.venv/bin/python\",\n  /* tabs */ \"editor.tabSize\": 4, // yes\n  \"x\": {\"y\": [1, \"}\"]},\n}\n"
        );
        // An empty object gets no comma.
        assert_eq!(
            written(Some("{ // nothing yet\n}")),
            "{\n  \"python.defaultInterpreterPath\": \"${workspaceFolder}/.venv/bin/python\" // nothing yet\n}"
        );
    }

    #[test]
    fn a_key_already_set_is_kept() {
        let same = format!("{{\"{KEY}\": \"{VALUE}\"}}");
        assert_eq!(edit(Some(&same), VALUE).unwrap(), Edit::Unchanged);
        let other = format!("{{\"a\": {{\"{KEY}\": 1}}, \"{KEY}\": \"/usr/bin/python3\"}}");
        assert_eq!(
            edit(Some(&other), VALUE).unwrap(),
            Edit::Conflict("/usr/bin/python3".into())
        );
        // The same key nested deeper, or as a value, is not the setting.
        let nested = format!("{{\"a\": {{\"{KEY}\": \"x\"}}, \"b\": \"{KEY}\"}}");
        assert!(matches!(
            edit(Some(&nested), VALUE).unwrap(),
            Edit::Write(_)
        ));
    }

    #[test]
    fn what_is_not_one_object_is_refused() {
        for text in ["[1]", "{", "{} {}", "x", "{\"a\": \"b}", "/* {"] {
            assert!(edit(Some(text), VALUE).is_err(), "{text}");
        }
    }
}
