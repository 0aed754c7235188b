//! conda-lock's `metadata.content_hash`, recomputed from an environment
//! file: how `pyve lock --check`, `lock_file_policy` and doctor tell a
//! stale lock from a fresh one by content, as conda-lock itself does.
//!
//! conda-lock 4 hashes, for each platform, `json.dumps(D, sort_keys=True)`
//! of D = {channels, specs, virtual_package_hash} (Python's separators,
//! non-ASCII escaped). The specs are the file's dependencies for that
//! platform as conda-lock parses them (conda MatchSpecs, pip PEP 508
//! requirements). What this port does not cover (pip environment markers,
//! URL or path requirements, `pip-repositories`, credentials in channels,
//! `virtual-packages.yml`) is reported as `Unsupported`, and callers fall
//! back to comparing file times.

use std::collections::BTreeMap;

use serde_yaml_ng::Value;

mod specs;
use specs::{conda_dep, pip_dep};

/// Why the hash cannot be recomputed for this file.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsupported(pub String);

fn unsupported<T>(what: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(what.into()))
}

/// `platforms:` of the environment file, if it names any.
pub fn file_platforms(text: &str) -> Vec<String> {
    let Ok(value) = crate::yaml::from_str::<Value>(text) else {
        return Vec::new();
    };
    value
        .get("platforms")
        .and_then(Value::as_sequence)
        .map(|list| {
            list.iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The content hash of `text` (an environment file) for `platform`, with
/// `channels` replacing the file's when not empty (conda-lock's `-c`).
pub fn content_hash(
    text: &str,
    platform: &str,
    channels: &[String],
) -> Result<String, Unsupported> {
    let filtered = filter_selectors(text, platform)?;
    let data: Value = crate::yaml::from_str(&filtered)
        .map_err(|e| Unsupported(format!("the file does not parse: {e}")))?;
    if data.get("pip-repositories").is_some() {
        return unsupported("`pip-repositories`");
    }
    let category = match data.get("category") {
        None | Some(Value::Null) => "main".to_owned(),
        Some(Value::String(c)) if c.is_empty() => "main".to_owned(),
        Some(Value::String(c)) => c.clone(),
        Some(_) => return unsupported("a `category` that is not text"),
    };
    let channels = if channels.is_empty() {
        file_channels(&data)?
    } else {
        channels.to_vec()
    };
    let mut channel_list = Vec::new();
    for url in &channels {
        if url.contains('@') || url.contains("/t/") {
            return unsupported("credentials in a channel URL");
        }
        let mut compact = String::from("{\"url\":");
        json_string(&mut compact, url, false);
        compact.push_str(",\"used_env_vars\":[]}");
        channel_list.push(J::Str(compact));
    }
    let specs = specs(&data, &category)?;
    let mut virtual_packages = BTreeMap::new();
    virtual_packages.insert("noarch".to_owned(), virtual_subdir("noarch"));
    virtual_packages.insert(platform.to_owned(), virtual_subdir(platform));
    let mut top = BTreeMap::new();
    top.insert("channels".to_owned(), J::List(channel_list));
    top.insert("specs".to_owned(), J::List(specs));
    top.insert("virtual_package_hash".to_owned(), J::Obj(virtual_packages));
    let mut out = String::new();
    J::Obj(top).dump(&mut out);
    Ok(crate::digest::sha256(out.as_bytes()))
}

/// `channels:` with the first `nodefaults` left out.
fn file_channels(data: &Value) -> Result<Vec<String>, Unsupported> {
    let mut channels = Vec::new();
    for channel in data
        .get("channels")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        match channel.as_str() {
            Some(c) => channels.push(c.to_owned()),
            None => return unsupported("a channel that is not text"),
        }
    }
    if let Some(i) = channels.iter().position(|c| c == "nodefaults") {
        channels.remove(i);
    }
    Ok(channels)
}

/// The dependencies as conda-lock records them: conda specs, then each
/// pip section's requirements and the `pip` package it implies; the last
/// of a (manager, name) wins, sorted by (manager, name).
fn specs(data: &Value, category: &str) -> Result<Vec<J>, Unsupported> {
    let items = match data.get("dependencies") {
        Some(Value::Sequence(items)) => items.as_slice(),
        _ => return unsupported("no `dependencies` list"),
    };
    let mut deps: Vec<Dep> = Vec::new();
    for item in items {
        match item {
            Value::String(spec) => deps.push(conda_dep(spec, category)?),
            Value::Mapping(_) => {}
            _ => return unsupported("a dependency that is not text"),
        }
    }
    for item in items {
        let Some(pip) = item.as_mapping().and_then(|m| m.get("pip")) else {
            continue;
        };
        for requirement in pip.as_sequence().into_iter().flatten() {
            let Some(requirement) = requirement.as_str() else {
                return unsupported("a pip requirement that is not text");
            };
            if requirement.starts_with("-e ") {
                continue;
            }
            deps.push(pip_dep(requirement, category)?);
        }
        deps.push(Dep {
            manager: "conda",
            name: "pip".to_owned(),
            version: "*".to_owned(),
            build: None,
            channel: None,
            extras: Vec::new(),
            hash: None,
            category: "main".to_owned(),
        });
    }
    let mut unique: BTreeMap<(&str, String), Dep> = BTreeMap::new();
    for dep in deps {
        unique.insert((dep.manager, dep.name.clone()), dep);
    }
    Ok(unique.into_values().map(Dep::json).collect())
}

struct Dep {
    manager: &'static str,
    name: String,
    version: String,
    build: Option<String>,
    channel: Option<String>,
    extras: Vec<String>,
    hash: Option<String>,
    category: String,
}

impl Dep {
    fn json(self) -> J {
        let text = |v: Option<String>| v.map_or(J::Null, J::Str);
        let mut fields = BTreeMap::new();
        fields.insert("build".to_owned(), text(self.build));
        fields.insert("category".to_owned(), J::Str(self.category));
        fields.insert("conda_channel".to_owned(), text(self.channel));
        fields.insert(
            "extras".to_owned(),
            J::List(self.extras.into_iter().map(J::Str).collect()),
        );
        fields.insert("hash".to_owned(), text(self.hash));
        fields.insert("manager".to_owned(), J::Str(self.manager.to_owned()));
        fields.insert("name".to_owned(), J::Str(self.name));
        fields.insert("version".to_owned(), J::Str(self.version));
        J::Obj(fields)
    }
}

// --- Selectors: `- numpy  # [linux]` ---

fn selectors_of(platform: &str) -> Option<&'static [&'static str]> {
    Some(match platform {
        "linux-64" => &["linux64", "unix", "linux"],
        "linux-aarch64" => &["aarch64", "unix", "linux"],
        "linux-ppc64le" => &["ppc64le", "unix", "linux"],
        "osx-64" => &["osx64", "osx", "unix"],
        "osx-arm64" => &["arm64", "osx", "unix"],
        "win-64" => &["win", "win64"],
        _ => return None,
    })
}

/// The file without comment lines and without lines whose `# [selector]`
/// does not apply to `platform`.
fn filter_selectors(text: &str, platform: &str) -> Result<String, Unsupported> {
    let mut kept = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        match selector(line) {
            Some(sel) => {
                let Some(applies) = selectors_of(platform) else {
                    return unsupported(format!("selectors on platform {platform}"));
                };
                if applies.contains(&sel) {
                    kept.push(line);
                }
            }
            None => kept.push(line),
        }
    }
    Ok(kept.join("\n"))
}

/// The selector of a line, as conda-lock's
/// `(.+?)\s*(#.*)\[([^\[\]]+)\][^()]*$` finds it: the last `[…]` after a
/// `#` (not at the line's start) with no parenthesis after it.
fn selector(line: &str) -> Option<&str> {
    let hash = line.char_indices().skip(1).find(|(_, c)| *c == '#')?.0;
    let bytes = line.as_bytes();
    for close in (hash..line.len()).rev() {
        if bytes[close] != b']' {
            continue;
        }
        if line[close + 1..].contains(['(', ')']) {
            return None;
        }
        let open = line[..close].rfind(['[', ']'])?;
        if bytes[open] == b'[' && open > hash && open + 1 < close {
            return Some(&line[open + 1..close]);
        }
    }
    None
}

// --- Virtual packages (conda-lock's default-virtual-packages.yaml) ---

fn virtual_subdir(subdir: &str) -> J {
    let packages: &[(&str, &str, &str)] = match subdir {
        "noarch" => &[],
        "linux-64" | "linux-aarch64" | "linux-ppc64le" => &[
            ("__unix", "0", ""),
            ("__linux", "5.10", ""),
            ("__archspec", "1", arch(subdir)),
            ("__glibc", "2.28", ""),
            ("__cuda", "11.4", ""),
        ],
        "osx-64" => &[
            ("__unix", "0", ""),
            ("__archspec", "1", "x86_64"),
            ("__osx", "11.0", ""),
            ("__osx", "10.15", ""),
        ],
        "osx-arm64" => &[
            ("__unix", "0", ""),
            ("__archspec", "1", "arm64"),
            ("__osx", "11.0", ""),
        ],
        "win-64" => &[
            ("__win", "0", ""),
            ("__archspec", "1", "x86_64"),
            ("__cuda", "11.4", ""),
        ],
        _ => return J::Obj(BTreeMap::new()),
    };
    let mut records = BTreeMap::new();
    for (name, version, build_string) in packages {
        let build = if build_string.is_empty() {
            "0".to_owned()
        } else {
            format!("{build_string}_0")
        };
        let mut record = BTreeMap::new();
        let text = |s: &str| J::Str(s.to_owned());
        record.insert("build".to_owned(), text(&build));
        record.insert("build_number".to_owned(), J::Int(0));
        record.insert("build_string".to_owned(), text(build_string));
        record.insert("depends".to_owned(), J::List(Vec::new()));
        record.insert("name".to_owned(), text(name));
        record.insert("noarch".to_owned(), text(""));
        record.insert("package_type".to_owned(), text("virtual_system"));
        record.insert("subdir".to_owned(), text(subdir));
        record.insert("timestamp".to_owned(), J::Int(1_577_854_800_000));
        record.insert("version".to_owned(), text(version));
        records.insert(format!("{name}-{version}-{build}.tar.bz2"), J::Obj(record));
    }
    let mut info = BTreeMap::new();
    info.insert("subdir".to_owned(), J::Str(subdir.to_owned()));
    let mut repodata = BTreeMap::new();
    repodata.insert("info".to_owned(), J::Obj(info));
    repodata.insert("packages".to_owned(), J::Obj(records));
    J::Obj(repodata)
}

fn arch(subdir: &str) -> &'static str {
    match subdir {
        "linux-aarch64" => "aarch64",
        "linux-ppc64le" => "ppc64le",
        _ => "x86_64",
    }
}

// --- Python's json.dumps(sort_keys=True) ---

enum J {
    Null,
    Str(String),
    Int(i64),
    List(Vec<J>),
    Obj(BTreeMap<String, J>),
}

impl J {
    /// Separators `, ` and `: `, keys sorted (a BTreeMap of UTF-8 sorts
    /// as Python sorts code points), non-ASCII escaped.
    fn dump(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Str(s) => json_string(out, s, true),
            J::Int(n) => out.push_str(&n.to_string()),
            J::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.dump(out);
                }
                out.push(']');
            }
            J::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    json_string(out, key, true);
                    out.push_str(": ");
                    value.dump(out);
                }
                out.push('}');
            }
        }
    }
}

/// A JSON string as Python writes it; `ascii`: non-ASCII as `\uXXXX`
/// (`ensure_ascii`), else as is (pydantic).
fn json_string(out: &mut String, s: &str, ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ascii && (c as u32) > 0x7f) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests;
