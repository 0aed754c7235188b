//! What changed between the config a user approved and the one there now,
//! in keys, for the message that holds a project back.

use std::collections::BTreeMap;

use crate::text::one_line;

/// Which keys differ between two configs, as `a, b.c`; falls back to a
/// plain description when either does not parse.
pub(super) fn changed_keys(approved: &[u8], now: &[u8]) -> String {
    fn flatten(prefix: &str, value: &serde_yaml_ng::Value, out: &mut BTreeMap<String, String>) {
        match value {
            serde_yaml_ng::Value::Mapping(map) => {
                for (key, value) in map {
                    let key = match key {
                        serde_yaml_ng::Value::String(s) => s.clone(),
                        other => serde_yaml_ng::to_string(other).unwrap_or_default(),
                    };
                    let key = one_line(key.trim());
                    let path = if prefix.is_empty() {
                        key
                    } else {
                        format!("{prefix}.{key}")
                    };
                    flatten(&path, value, out);
                }
            }
            other => {
                out.insert(
                    prefix.to_owned(),
                    serde_yaml_ng::to_string(other).unwrap_or_default(),
                );
            }
        }
    }
    let parse = |bytes: &[u8]| {
        let text = std::str::from_utf8(bytes).ok()?;
        let value: serde_yaml_ng::Value = if text.trim().is_empty() {
            serde_yaml_ng::Value::Null
        } else {
            crate::yaml::from_str(text).ok()?
        };
        let mut flat = BTreeMap::new();
        if !value.is_null() {
            flatten("", &value, &mut flat);
        }
        Some(flat)
    };
    let (Some(old), Some(new)) = (parse(approved), parse(now)) else {
        return "its content differs".to_owned();
    };
    let keys: Vec<&String> = old
        .keys()
        .chain(new.keys().filter(|k| !old.contains_key(*k)))
        .filter(|k| old.get(*k) != new.get(*k))
        .collect();
    match keys.len() {
        0 => "comments or layout only".to_owned(),
        1 => format!("key {}", keys[0]),
        n if n <= 6 => format!(
            "keys {}",
            keys.iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        n => format!(
            "keys {} and {} more",
            keys[..5]
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            n - 5
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_keys_names_what_differs() {
        assert_eq!(changed_keys(b"a: 1\n", b"a: 2\n"), "key a");
        assert_eq!(
            changed_keys(b"a: 1\n", b"a: 1 # c\n"),
            "comments or layout only"
        );
        assert_eq!(
            changed_keys(b"venv:\n  directory: x\n", b"venv:\n  directory: y\nb: 1\n"),
            "keys venv.directory, b"
        );
        assert_eq!(changed_keys(b"", b"env_name: x\n"), "key env_name");
        assert_eq!(changed_keys(b"a: [", b"a: 1"), "its content differs");
    }
}
