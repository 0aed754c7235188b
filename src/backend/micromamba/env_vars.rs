//! An environment's own variables, by conda's rules: the JSON objects in
//! `etc/conda/env_vars.d/*` in sorted order, then `env_vars` of
//! `conda-meta/state`, which wins. Names are uppercased, `***unset***`
//! values are skipped and PATH is never taken from them. A value that is
//! not a string ends its file, as in micromamba 2.8.

use std::path::Path;

use serde_yaml_ng::Value;

use crate::files;
use crate::text::shown;

const UNSET: &str = "***unset***";
/// These files are a few lines; a larger one is not read at prompt time.
const MAX_BYTES: u64 = 64 << 10;
/// PYVE_STATE holds each value twice (value and prior), escaped, and Linux
/// refuses a single variable over 128 KiB: a longer value is skipped.
const MAX_VALUE: usize = 8 << 10;

/// Names activation itself sets, which an environment cannot override.
fn owned_by_activation(name: &str) -> bool {
    matches!(
        name,
        "PATH" | "CONDA_PREFIX" | "CONDA_SHLVL" | "CONDA_DEFAULT_ENV" | "CONDA_PROMPT_MODIFIER"
    ) || name.starts_with("PYVE_")
        || name.starts_with("CONDA_PREFIX_")
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// The variables in order of first appearance, later files winning, and
/// what was skipped and why.
pub fn read(prefix: &Path) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
    let mut vars: Vec<(String, Vec<u8>)> = Vec::new();
    let mut warnings = Vec::new();
    let mut sources: Vec<(std::path::PathBuf, bool)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(prefix.join("etc/conda/env_vars.d")) {
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        sources.extend(files.into_iter().map(|f| (f, false)));
    }
    let state = prefix.join("conda-meta/state");
    if state.is_file() {
        sources.push((state, true));
    }
    for (file, is_state) in sources {
        let object = match read_object(&file, is_state) {
            Ok(Some(object)) => object,
            Ok(None) => continue,
            Err(message) => {
                warnings.push(message);
                continue;
            }
        };
        for (key, value) in object {
            let Some(key) = key.as_str() else { continue };
            let name = key.to_uppercase();
            // micromamba reads the values in file order as strings and
            // gives up on the rest of the file at the first that is not
            // one (a number too): activation here does the same.
            let Value::String(value) = value else {
                warnings.push(format!(
                    "{}: `{}` is not a string, so micromamba ignores it and the rest of the file; skipped",
                    shown(&file),
                    key.escape_default()
                ));
                break;
            };
            if !valid_name(&name) {
                warnings.push(format!(
                    "{}: `{}` is not a valid variable name; skipped",
                    shown(&file),
                    key.escape_default()
                ));
                continue;
            }
            if owned_by_activation(&name) {
                if name != "PATH" {
                    warnings.push(format!(
                        "{}: `{name}` is set by activation itself; skipped",
                        shown(&file)
                    ));
                }
                continue;
            }
            if value.len() > MAX_VALUE {
                warnings.push(format!(
                    "{}: `{name}` is longer than {MAX_VALUE} bytes; skipped",
                    shown(&file)
                ));
                continue;
            }
            let slot = vars.iter().position(|(n, _)| *n == name);
            if value == UNSET {
                // A later `***unset***` withdraws an earlier file's value.
                if let Some(i) = slot {
                    vars.remove(i);
                }
                continue;
            }
            match slot {
                Some(i) => vars[i].1 = value.into_bytes(),
                None => vars.push((name, value.into_bytes())),
            }
        }
    }
    (vars, crate::text::at_most(warnings, 10))
}

/// The mapping in an env_vars.d file, or the `env_vars` of the state file.
fn read_object(file: &Path, is_state: bool) -> Result<Option<serde_yaml_ng::Mapping>, String> {
    let bytes = match files::read_bounded(file, MAX_BYTES) {
        Ok(bytes) => bytes,
        // A directory (or a device) among the files is not one of them.
        Err(files::ReadError::NotRegular) => return Ok(None),
        Err(files::ReadError::TooLarge(_)) => {
            return Err(format!("{}: larger than 64 KiB; skipped", shown(file)))
        }
        Err(e) => return Err(format!("{}: {e}", shown(file))),
    };
    let text =
        String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8; skipped", shown(file)))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    // JSON is YAML: the one parser pyve already has reads both.
    let value: Value = crate::yaml::from_str(&text)
        .map_err(|e| format!("{}: not a JSON object ({e}); skipped", shown(file)))?;
    let value = if is_state {
        match value.get("env_vars") {
            Some(v) => v.clone(),
            None => return Ok(None),
        }
    } else {
        value
    };
    match value {
        Value::Mapping(m) => Ok(Some(m)),
        Value::Null => Ok(None),
        _ => Err(format!("{}: not a JSON object; skipped", shown(file))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conda_rules() {
        let prefix = tempfile::tempdir().unwrap();
        let d = prefix.path().join("etc/conda/env_vars.d");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::create_dir_all(prefix.path().join("conda-meta")).unwrap();
        std::fs::write(
            d.join("b.json"),
            r#"{"shared": "b", "gone": "x", "PATH": "/evil"}"#,
        )
        .unwrap();
        std::fs::write(
            d.join("a.json"),
            r#"{"shared": "a", "only_a": "1", "bad-name": "x"}"#,
        )
        .unwrap();
        std::fs::write(
            d.join("c.json"),
            r#"{"GONE": "***unset***", "kept": "k", "n": 5, "after": "lost"}"#,
        )
        .unwrap();
        std::fs::write(
            prefix.path().join("conda-meta/state"),
            r#"{"env_vars": {"shared": "state", "CONDA_PREFIX": "/x"}}"#,
        )
        .unwrap();
        let (vars, warnings) = read(prefix.path());
        let got: Vec<(&str, &str)> = vars
            .iter()
            .map(|(n, v)| (n.as_str(), std::str::from_utf8(v).unwrap()))
            .collect();
        // `n: 5` is not a string: micromamba stops reading c.json there.
        assert_eq!(got, [("SHARED", "state"), ("ONLY_A", "1"), ("KEPT", "k")]);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings.iter().any(|w| w.contains("`n` is not a string")),
            "{warnings:?}"
        );
    }
}
