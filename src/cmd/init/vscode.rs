//! `pyve init --vscode`: VS Code's `.vscode/settings.json` learns the
//! environment (`python.defaultInterpreterPath`) and, when the prompt hook
//! is installed, that the Python extension must not activate it a second
//! time in its terminal (`python.terminal.activateEnvironment`). The file
//! is JSON with comments and trailing commas, and it is the user's: pyve
//! adds its members after the opening brace and leaves every other byte as
//! it was; a member the user set is kept.

use std::path::Path;

use crate::error::Error;
use crate::files;

pub const KEY: &str = "python.defaultInterpreterPath";
/// Whether the Python extension activates the environment in each new
/// terminal; with the hook installed, the hook already has.
pub const ACTIVATE_KEY: &str = "python.terminal.activateEnvironment";
pub const RELATIVE: &str = ".vscode/settings.json";

/// A setting's value: the two kinds pyve writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Flag(bool),
    /// Something else the user wrote (a number, an object, …).
    Other(String),
}

impl Value {
    fn json(&self) -> String {
        match self {
            Value::Text(text) => {
                let mut out = String::new();
                crate::json::string(&mut out, text);
                out
            }
            Value::Flag(flag) => flag.to_string(),
            Value::Other(raw) => raw.clone(),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.json())
    }
}

/// What the settings file needs.
#[derive(Debug, PartialEq, Eq)]
pub enum Edit {
    /// The key holds this value already.
    Unchanged,
    /// The key holds another value; the user's choice is kept.
    Conflict(Value),
    /// The new text of the file.
    Write(String),
}

/// The file's text with `key` set to `value`, as far as that can be done
/// without touching anything the user wrote.
pub fn edit(current: Option<&str>, key: &str, value: &Value) -> Result<Edit, String> {
    let mut member = String::new();
    crate::json::string(&mut member, key);
    member.push_str(": ");
    member.push_str(&value.json());
    let Some(text) = current.filter(|t| !t.trim().is_empty()) else {
        return Ok(Edit::Write(format!("{{\n  {member}\n}}\n")));
    };
    let scan = scan(text, key)?;
    if let Some(existing) = scan.existing {
        return Ok(if existing == *value {
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
    /// The key's value, when the object sets it.
    existing: Option<Value>,
}

/// Where the comment starting at `i` ends, if one does.
fn after_comment(text: &str, i: usize) -> Result<Option<usize>, String> {
    // Bytes: `i` may be inside a character the scan stepped over.
    let rest = &text.as_bytes()[i..];
    if rest.starts_with(b"//") {
        let end = rest.iter().position(|&b| b == b'\n');
        return Ok(Some(end.map_or(text.len(), |end| i + end)));
    }
    if let Some(body) = rest.strip_prefix(b"/*") {
        let end = body
            .windows(2)
            .position(|w| w == b"*/")
            .ok_or("a /* comment is not closed")?;
        return Ok(Some(i + 2 + end + 2));
    }
    Ok(None)
}

/// Reads just enough of JSON with comments: strings, comments, nesting.
fn scan(text: &str, key: &str) -> Result<Scan, String> {
    let bytes = text.as_bytes();
    let (mut i, mut depth, mut open, mut empty, mut existing) = (0, 0usize, None, true, None);
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
                        let value = Value::Text(value);
                        existing =
                            settle(&mut pending_key, &mut after_colon, key, value).or(existing);
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
                    if after_colon && pending_key.as_deref() == Some(key) {
                        existing = Some(Value::Other(text[i..i + 1].to_owned()));
                    }
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
                    if after_colon {
                        let (value, end) = literal_at(text, i);
                        existing =
                            settle(&mut pending_key, &mut after_colon, key, value).or(existing);
                        i = end;
                        continue;
                    }
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

/// A top-level member's value was read: it is `key`'s when the pending key is.
fn settle(
    pending: &mut Option<String>,
    after_colon: &mut bool,
    key: &str,
    value: Value,
) -> Option<Value> {
    *after_colon = false;
    (pending.take().as_deref() == Some(key)).then_some(value)
}

/// The literal (true, false, a number) starting at `start`, and the offset
/// after it.
fn literal_at(text: &str, start: usize) -> (Value, usize) {
    // At least one byte, so the scan always moves on (`/x` is no comment).
    let bytes = text.as_bytes();
    let end = bytes[start + 1..]
        .iter()
        .position(|b| b",}]/ \t\r\n".contains(b))
        .map_or(bytes.len(), |end| start + 1 + end);
    let value = match &*String::from_utf8_lossy(&bytes[start..end]) {
        "true" => Value::Flag(true),
        "false" => Value::Flag(false),
        raw => Value::Other(raw.to_owned()),
    };
    (value, end)
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

/// Sets each of `members` in the project's settings file (one write),
/// saying what happened; a member the user set otherwise is kept.
pub fn write(root: &Path, members: &[(&str, Value)]) -> Result<(), Error> {
    let path = root.join(RELATIVE);
    let by_hand = |key: &str, value: &Value| format!("add `\"{key}\": {value}` by hand");
    let current = files::read_optional(&path)?;
    let mut text = match current.map(String::from_utf8) {
        Some(Ok(text)) => Some(text),
        Some(Err(_)) => {
            for (key, value) in members {
                warn!("{} is not UTF-8; {}", path.display(), by_hand(key, value));
            }
            return Ok(());
        }
        None => None,
    };
    let mut set = Vec::new();
    for (key, value) in members {
        match edit(text.as_deref(), key, value) {
            Ok(Edit::Unchanged) => {}
            Ok(Edit::Conflict(existing)) => warn!(
                "{} sets {key} to {existing}, kept; pyve's would be {value}: change it by \
                 hand, or remove the key and run `pyve init --vscode` again",
                path.display()
            ),
            Ok(Edit::Write(new)) => {
                text = Some(new);
                set.push(*key);
            }
            Err(why) => warn!(
                "{} was left alone: {why}; {}",
                path.display(),
                by_hand(key, value)
            ),
        }
    }
    let Some(text) = text.filter(|_| !set.is_empty()) else {
        return Ok(());
    };
    let target = files::landing(root, &path)?;
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| crate::error::user(format!("cannot create {}: {e}", dir.display())))?;
    }
    files::write_inside(root, &path, text.as_bytes())?;
    for key in set {
        done!("set {key} in {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUE: &str = "${workspaceFolder}/.venv/bin/python";

    fn value() -> Value {
        Value::Text(VALUE.into())
    }

    fn written(current: Option<&str>) -> String {
        match edit(current, KEY, &value()).unwrap() {
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
        assert_eq!(edit(Some(&same), KEY, &value()).unwrap(), Edit::Unchanged);
        let other = format!("{{\"a\": {{\"{KEY}\": 1}}, \"{KEY}\": \"/usr/bin/python3\"}}");
        assert_eq!(
            edit(Some(&other), KEY, &value()).unwrap(),
            Edit::Conflict(Value::Text("/usr/bin/python3".into()))
        );
        // The same key nested deeper, or as a value, is not the setting.
        let nested = format!("{{\"a\": {{\"{KEY}\": \"x\"}}, \"b\": \"{KEY}\"}}");
        assert!(matches!(
            edit(Some(&nested), KEY, &value()).unwrap(),
            Edit::Write(_)
        ));
    }

    #[test]
    fn odd_values_and_characters_outside_strings_end_the_scan() {
        // A lone `/` after a colon, a non-breaking space, characters past
        // ASCII outside any string: each scanned through, none hangs or
        // panics.
        for text in [
            "{\"a\": /x}",
            "{\"a\": \u{a0}1}",
            "{\"a\": é}",
            "{é: 1}",
            "{\"python.terminal.activateEnvironment\": ü}",
            "{/* é */ \"a\": 1 // ü\n}",
        ] {
            let _ = edit(Some(text), ACTIVATE_KEY, &Value::Flag(false));
        }
    }

    #[test]
    fn what_is_not_one_object_is_refused() {
        for text in ["[1]", "{", "{} {}", "x", "{\"a\": \"b}", "/* {"] {
            assert!(edit(Some(text), KEY, &value()).is_err(), "{text}");
        }
    }

    #[test]
    fn a_flag_is_added_once_and_the_users_choice_kept() {
        let off = Value::Flag(false);
        let text = "{\n  \"a\": 1\n}\n";
        let Edit::Write(out) = edit(Some(text), ACTIVATE_KEY, &off).unwrap() else {
            panic!()
        };
        assert_eq!(
            out,
            "{\n  \"python.terminal.activateEnvironment\": false,\n  \"a\": 1\n}\n"
        );
        assert_eq!(
            edit(Some(&out), ACTIVATE_KEY, &off).unwrap(),
            Edit::Unchanged
        );
        let on = "{\"python.terminal.activateEnvironment\": true /* mine */, \"b\": 2}";
        assert_eq!(
            edit(Some(on), ACTIVATE_KEY, &off).unwrap(),
            Edit::Conflict(Value::Flag(true))
        );
        let odd = "{\"python.terminal.activateEnvironment\": {\"x\": 1}}";
        assert_eq!(
            edit(Some(odd), ACTIVATE_KEY, &off).unwrap(),
            Edit::Conflict(Value::Other("{".into()))
        );
        // Another key's literal is not this one's.
        let other = "{\"b\": false, \"c\": 10}";
        assert!(matches!(
            edit(Some(other), ACTIVATE_KEY, &off).unwrap(),
            Edit::Write(_)
        ));
    }
}
