//! `[tool.pyve]`: pyve's settings kept in `pyproject.toml` instead of
//! `.pyve/config`. The table is written out as the YAML a `.pyve/config`
//! would hold (keys in the order written, one line each), so the same
//! reader and checks apply to both, and each of those lines remembers the
//! line of `pyproject.toml` it came from, so errors name that one. The
//! YAML is also what an approval covers: the rest of the file (the
//! project's dependencies, other tools' tables, comments) may change
//! without a new approval.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The table, as YAML.
#[derive(Debug, PartialEq, Eq)]
pub struct PyveTable {
    pub yaml: String,
    /// For each line of `yaml` (from 0), the 1-based line of
    /// `pyproject.toml` it came from.
    pub lines: Vec<usize>,
}

impl PyveTable {
    /// The line of `pyproject.toml` behind line `yaml_line` (1-based) of the
    /// YAML; the table's first line for anything past it.
    pub fn toml_line(&self, yaml_line: usize) -> Option<usize> {
        self.lines
            .get(yaml_line.saturating_sub(1))
            .or(self.lines.first())
            .copied()
    }
}

/// Whether `text` looks like it has a `[tool.pyve]` table (a header, or
/// dotted keys under `[tool]` or at the top), by a scan of its lines that
/// parses nothing: the hook asks this of every `pyproject.toml` it meets.
pub fn mentions_pyve(text: &[u8]) -> bool {
    let mut in_tool = false;
    for line in text.split(|&b| b == b'\n') {
        let line = line.trim_ascii_start();
        let compact: Vec<u8> = line
            .iter()
            .copied()
            .take_while(|&b| b != b'#' && b != b'=')
            .filter(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'"' | b'\''))
            .collect();
        if line.first() == Some(&b'[') {
            in_tool = compact == b"[tool]";
            if compact.starts_with(b"[tool.pyve]") || compact.starts_with(b"[tool.pyve.") {
                return true;
            }
            continue;
        }
        let key = compact.as_slice();
        let under_tool = in_tool && (key == b"pyve" || key.starts_with(b"pyve."));
        let at_top = key == b"tool.pyve" || key.starts_with(b"tool.pyve.");
        if under_tool || at_top {
            return true;
        }
    }
    false
}

/// A problem in `pyproject.toml` itself: the line, and what.
#[derive(Debug, PartialEq, Eq)]
pub struct TomlError {
    pub line: Option<usize>,
    pub message: String,
}

/// `[tool.pyve]` of the pyproject.toml `text`, as YAML; None when the file
/// has no such table.
pub fn pyve_table(text: &str) -> Result<Option<PyveTable>, TomlError> {
    let document = DeTable::parse(text).map_err(|e| TomlError {
        line: e.span().map(|span| line_at(text, span.start)),
        message: e.message().to_owned(),
    })?;
    let document = document.get_ref();
    let Some(tool) = document.get("tool").and_then(|t| t.get_ref().as_table()) else {
        return Ok(None);
    };
    let Some(pyve) = tool.get("pyve") else {
        return Ok(None);
    };
    let Some(table) = pyve.get_ref().as_table() else {
        return Err(TomlError {
            line: Some(line_at(text, pyve.span().start)),
            message: "tool.pyve: must be a table ([tool.pyve])".to_owned(),
        });
    };
    let mut out = PyveTable {
        yaml: String::new(),
        lines: Vec::new(),
    };
    write_table(text, table, 0, &mut out);
    Ok(Some(out))
}

/// The 1-based line of byte `offset` in `text`.
pub(super) fn line_at(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// The table's entries in the order they are written.
fn in_order<'t, 'i>(
    table: &'t DeTable<'i>,
) -> Vec<(
    &'t Spanned<std::borrow::Cow<'i, str>>,
    &'t Spanned<DeValue<'i>>,
)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

fn write_table(text: &str, table: &DeTable, indent: usize, out: &mut PyveTable) {
    for (key, value) in in_order(table) {
        out.lines.push(line_at(text, key.span().start));
        out.yaml.push_str(&" ".repeat(indent));
        out.yaml.push_str(&yaml_key(key.get_ref()));
        out.yaml.push(':');
        match value.get_ref() {
            DeValue::Table(inner) if !inner.is_empty() => {
                out.yaml.push('\n');
                write_table(text, inner, indent + 2, out);
            }
            other => {
                out.yaml.push(' ');
                write_flow(other, &mut out.yaml);
                out.yaml.push('\n');
            }
        }
    }
}

/// A key as YAML: plain when that reads back as the same string (what
/// people write: `backend`, `DJANGO_SETTINGS_MODULE`), else quoted.
fn yaml_key(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !key.starts_with('-')
        && !matches!(
            key.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
        && key.parse::<f64>().is_err();
    if plain {
        key.to_owned()
    } else {
        let mut quoted = String::new();
        yaml_string(&mut quoted, key);
        quoted
    }
}

/// `text` as a YAML double-quoted string with everything outside printable
/// ASCII escaped: YAML takes U+0085, U+2028 and U+2029 for line breaks,
/// and refuses other control characters, written as they are.
fn yaml_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
}

/// A value as YAML's flow style (JSON, which YAML reads).
fn write_flow(value: &DeValue, out: &mut String) {
    match value {
        DeValue::String(text) => yaml_string(out, text),
        DeValue::Integer(integer) => {
            let digits: String = integer.as_str().chars().filter(|&c| c != '_').collect();
            match i128::from_str_radix(&digits, integer.radix()) {
                Ok(n) => out.push_str(&n.to_string()),
                Err(_) => yaml_string(out, integer.as_str()),
            }
        }
        DeValue::Float(float) => {
            let digits: String = float.as_str().chars().filter(|&c| c != '_').collect();
            match digits.parse::<f64>() {
                Ok(n) if n.is_finite() => out.push_str(&digits),
                _ => yaml_string(out, float.as_str()),
            }
        }
        DeValue::Boolean(flag) => out.push_str(if *flag { "true" } else { "false" }),
        DeValue::Datetime(when) => yaml_string(out, &when.to_string()),
        DeValue::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_flow(item.get_ref(), out);
            }
            out.push(']');
        }
        DeValue::Table(table) => {
            out.push('{');
            for (index, (key, item)) in in_order(table).into_iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                yaml_string(out, key.get_ref());
                out.push_str(": ");
                write_flow(item.get_ref(), out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_becomes_yaml_in_written_order_with_its_lines() {
        let text = "[project]\nname = \"x\"\n\n[tool.pyve]\nenv_name = \"ml\"\nbackend = \"venv\"\nvenv.pip = false\n\n[tool.pyve.env]\nZED = 1\nALPHA = \"$PROJECT_ROOT/a\"\n\"odd key\" = 0x1F\n\n[tool.pyve.environments.dev]\npython_version = \"3.12\"\n\n[tool.ruff]\nline-length = 100\n";
        let table = pyve_table(text).unwrap().unwrap();
        assert_eq!(
            table.yaml,
            "env_name: \"ml\"\nbackend: \"venv\"\nvenv:\n  pip: false\nenv:\n  ZED: 1\n  ALPHA: \"$PROJECT_ROOT/a\"\n  \"odd key\": 31\nenvironments:\n  dev:\n    python_version: \"3.12\"\n"
        );
        assert_eq!(table.lines, [5, 6, 7, 7, 9, 10, 11, 12, 14, 14, 15]);
        assert_eq!(table.toml_line(8), Some(12));
        assert_eq!(pyve_table("[project]\nname = \"x\"\n").unwrap(), None);
        // What YAML would take for a line break stays inside the value.
        let table = pyve_table("[tool.pyve]\nenv_name = \"a\\u2028b\\u0085c\\u0001é😀\"\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            table.yaml,
            "env_name: \"a\\u2028b\\u0085c\\u0001\\u00E9\\U0001F600\"\n"
        );
        assert_eq!(pyve_table("[tool.ruff]\n").unwrap(), None);
        let bad = pyve_table("[tool.pyve]\nbackend = \n").unwrap_err();
        assert_eq!(bad.line, Some(2));
        let not_table = pyve_table("[tool]\npyve = 1\n").unwrap_err();
        assert_eq!(not_table.line, Some(2));
        // Arrays in flow style, inline tables as blocks, floats as written.
        let table = pyve_table("[tool.pyve]\ngroups = [\"a\", 'b']\npython = { version = 3.10 }\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            table.yaml,
            "groups: [\"a\", \"b\"]\npython:\n  version: 3.10\n"
        );
    }

    #[test]
    fn mentions_are_found_without_parsing() {
        for yes in [
            "[tool.pyve]\n",
            "  [ tool . pyve . env ]\n",
            "[\"tool\".\"pyve\"]\n",
            "[tool]\npyve.backend = \"venv\"\n",
            "[tool]\npyve = { backend = \"venv\" }\n",
            "tool.pyve.backend = \"venv\"\n",
            "[tool]\r\npyve.backend = \"venv\"\r\n",
        ] {
            assert!(mentions_pyve(yes.as_bytes()), "{yes}");
        }
        for no in [
            "[project]\nname = \"pyve\"\n",
            "[tool.pyvenv]\n",
            "[tool.ruff]\npyve = 1\n",
            "# [tool.pyve]\n",
            "",
        ] {
            assert!(!mentions_pyve(no.as_bytes()), "{no}");
        }
    }
}
