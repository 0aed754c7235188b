//! Changing single lines of a config in place for `pyve init`, so the
//! user's comments and layout survive. Each edit returns None when the
//! layout is beyond this simple editor; the caller re-parses the result.

use super::lines::{is_key_line, value_is_below};

/// A YAML double-quoted scalar holding `text` exactly.
pub fn yaml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` with `key` (inside `section` when given) set to `value`, a YAML
/// scalar, changing only that line (or adding one), so comments and the
/// user's layout survive. None when the layout is beyond this simple editor
/// (flow mappings, multi-line values); the caller re-parses the result too.
pub fn set_value(text: &str, section: Option<&str>, key: &str, value: &str) -> Option<String> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    if let Some(last) = lines.last_mut() {
        if !last.ends_with('\n') {
            last.push('\n');
        }
    }
    let top = |line: &str| !line.starts_with([' ', '\t', '#', '\n', '\r']);
    match section {
        None => match lines.iter().position(|l| is_key_line(l, key)) {
            Some(i) => {
                if value_is_below(&lines[i], key) {
                    return None;
                }
                lines[i] = format!("{key}: {value}\n");
            }
            None => lines.push(format!("{key}: {value}\n")),
        },
        Some(section) => match lines.iter().position(|l| is_key_line(l, section)) {
            Some(i) => {
                if !value_is_below(&lines[i], section) {
                    return None;
                }
                let end = (i + 1..lines.len())
                    .find(|&j| top(&lines[j]))
                    .unwrap_or(lines.len());
                let child = (i + 1..end).find(|&j| {
                    let trimmed = lines[j].trim_start();
                    is_key_line(trimmed, key)
                });
                match child {
                    Some(j) => {
                        let indent = &lines[j][..lines[j].len() - lines[j].trim_start().len()];
                        if value_is_below(&lines[j], key) {
                            return None;
                        }
                        lines[j] = format!("{indent}{key}: {value}\n");
                    }
                    None => {
                        let indent = (i + 1..end)
                            .map(|j| &lines[j])
                            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                            .map(|l| l[..l.len() - l.trim_start().len()].to_owned())
                            .unwrap_or_else(|| "  ".to_owned());
                        lines.insert(i + 1, format!("{indent}{key}: {value}\n"));
                    }
                }
            }
            None => {
                lines.push(format!("{section}:\n"));
                lines.push(format!("  {key}: {value}\n"));
            }
        },
    }
    Some(lines.concat())
}

/// `text` with an entry for environment `name` added under `environments:`
/// (created at the end when missing), holding `fields` as `key: value`
/// lines. None when the layout is beyond this simple editor.
pub fn add_environment(text: &str, name: &str, fields: &[(&str, String)]) -> Option<String> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    if let Some(last) = lines.last_mut() {
        if !last.ends_with('\n') {
            last.push('\n');
        }
    }
    let entry = |indent: &str| {
        let mut block = if fields.is_empty() {
            format!("{indent}{name}: {{}}\n")
        } else {
            format!("{indent}{name}:\n")
        };
        for (key, value) in fields {
            block.push_str(&format!("{indent}{indent}{key}: {value}\n"));
        }
        block
    };
    let top = |line: &str| !line.starts_with([' ', '\t', '#', '\n', '\r']);
    match lines.iter().position(|l| is_key_line(l, "environments")) {
        None => {
            lines.push("environments:\n".to_owned());
            lines.push(entry("  "));
        }
        Some(i) => {
            if !value_is_below(&lines[i], "environments") {
                let value = lines[i]["environments:".len()..].trim();
                if value.split('#').next().unwrap_or_default().trim() != "{}" {
                    return None;
                }
                lines[i] = "environments:\n".to_owned();
            }
            let end = (i + 1..lines.len())
                .find(|&j| top(&lines[j]))
                .unwrap_or(lines.len());
            let children: Vec<usize> = (i + 1..end)
                .filter(|&j| !lines[j].trim().is_empty() && !lines[j].trim_start().starts_with('#'))
                .collect();
            let indent = children
                .first()
                .map(|&j| lines[j][..lines[j].len() - lines[j].trim_start().len()].to_owned())
                .unwrap_or_else(|| "  ".to_owned());
            let after = children.last().map_or(i + 1, |&j| j + 1);
            lines.insert(after, entry(&indent));
        }
    }
    Some(lines.concat())
}

/// `text` without the scalar `key` (inside `section` when given); a section
/// left empty goes too. Unchanged when the key is absent; None when its
/// value spans lines.
pub fn remove_value(text: &str, section: Option<&str>, key: &str) -> Option<String> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    let top = |line: &str| !line.starts_with([' ', '\t', '#', '\n', '\r']);
    match section {
        None => {
            if let Some(i) = lines.iter().position(|l| is_key_line(l, key)) {
                if value_is_below(&lines[i], key) {
                    return None;
                }
                lines.remove(i);
            }
        }
        Some(section) => {
            let Some(i) = lines.iter().position(|l| is_key_line(l, section)) else {
                return Some(text.to_owned());
            };
            if !value_is_below(&lines[i], section) {
                return None;
            }
            let end = (i + 1..lines.len())
                .find(|&j| top(&lines[j]))
                .unwrap_or(lines.len());
            let Some(j) = (i + 1..end).find(|&j| is_key_line(lines[j].trim_start(), key)) else {
                return Some(text.to_owned());
            };
            if value_is_below(&lines[j], key) {
                return None;
            }
            lines.remove(j);
            let left = (i + 1..end - 1)
                .any(|j| !lines[j].trim().is_empty() && !lines[j].trim_start().starts_with('#'));
            if !left {
                lines.remove(i);
            }
        }
    }
    Some(lines.concat())
}

/// `text` with `key` set to `value` in the entry of environment `name`
/// under `environments:`, changing only that line (or adding one; an empty
/// `name: {}` entry opens up). None when the entry is missing or its layout
/// is beyond this simple editor.
pub fn set_entry_value(text: &str, name: &str, key: &str, value: &str) -> Option<String> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    if let Some(last) = lines.last_mut() {
        if !last.ends_with('\n') {
            last.push('\n');
        }
    }
    let indent_of = |line: &str| line.len() - line.trim_start().len();
    let content = |line: &str| !line.trim().is_empty() && !line.trim_start().starts_with('#');
    let section = lines.iter().position(|l| is_key_line(l, "environments"))?;
    let end = (section + 1..lines.len())
        .find(|&j| content(&lines[j]) && indent_of(&lines[j]) == 0)
        .unwrap_or(lines.len());
    // The entries are the lines at the first one's indent: a key of that
    // name deeper down (a `groups:` inside another entry) is not one.
    let entry_indent = (section + 1..end)
        .find(|&j| content(&lines[j]))
        .map(|j| indent_of(&lines[j]))?;
    let at = (section + 1..end).find(|&j| {
        indent_of(&lines[j]) == entry_indent && is_key_line(lines[j].trim_start(), name)
    })?;
    let depth = indent_of(&lines[at]);
    let pad = lines[at][..depth].to_owned();
    let rest = lines[at].trim_start()[name.len() + 1..].trim().to_owned();
    if !value_is_below(&lines[at], name) {
        if rest.split('#').next().unwrap_or_default().trim() != "{}" {
            return None;
        }
        lines[at] = format!("{pad}{name}:\n");
        lines.insert(at + 1, format!("{pad}{pad}{key}: {value}\n"));
        return Some(lines.concat());
    }
    let entry_end = (at + 1..end)
        .find(|&j| content(&lines[j]) && indent_of(&lines[j]) <= depth)
        .unwrap_or(end);
    let children: Vec<usize> = (at + 1..entry_end)
        .filter(|&j| content(&lines[j]))
        .collect();
    let child_pad = children.first().map_or_else(
        || format!("{pad}{pad}"),
        |&j| lines[j][..indent_of(&lines[j])].to_owned(),
    );
    let existing = children.iter().copied().find(|&j| {
        indent_of(&lines[j]) == child_pad.len() && is_key_line(lines[j].trim_start(), key)
    });
    match existing {
        Some(j) => {
            if value_is_below(&lines[j], key) {
                return None;
            }
            lines[j] = format!("{child_pad}{key}: {value}\n");
        }
        None => {
            let after = children.last().map_or(at + 1, |&j| j + 1);
            lines.insert(after, format!("{child_pad}{key}: {value}\n"));
        }
    }
    Some(lines.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_value_is_set_in_that_entry_only() {
        let text =
            "environments:\n  dev:\n    backend: venv  # mine\n  prod: {}\n\ndefault_env: dev\n";
        let dev = set_entry_value(text, "dev", "groups", "[docs]").unwrap();
        assert_eq!(
            dev,
            "environments:\n  dev:\n    backend: venv  # mine\n    groups: [docs]\n  prod: {}\n\ndefault_env: dev\n"
        );
        let prod = set_entry_value(&dev, "prod", "dependencies", "requirements").unwrap();
        assert!(
            prod.contains("  prod:\n    dependencies: requirements\n\ndefault_env"),
            "{prod}"
        );
        let again = set_entry_value(&prod, "dev", "groups", "[test]").unwrap();
        assert!(
            again.contains("    groups: [test]\n") && !again.contains("docs"),
            "{again}"
        );
        assert_eq!(set_entry_value(text, "gpu", "groups", "[x]"), None);
        // An environment named like a key inside another entry.
        let nested = "environments:\n  dev:\n    groups:\n      - docs\n  groups: {}\n";
        assert_eq!(
            set_entry_value(nested, "groups", "dependencies", "none").unwrap(),
            "environments:\n  dev:\n    groups:\n      - docs\n  groups:\n    dependencies: none\n"
        );
        assert_eq!(
            set_entry_value(
                "environments:\n  dev: {backend: venv}\n",
                "dev",
                "groups",
                "[x]"
            ),
            None
        );
    }
}
