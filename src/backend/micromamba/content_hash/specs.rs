//! conda-lock's parsing of one dependency: a conda MatchSpec (its port of
//! conda's `_parse_spec_str` and `VersionSpec`) or a pip requirement.

use std::collections::BTreeMap;

use super::{unsupported, Dep, Unsupported};

/// A conda dependency as conda-lock parses it (its port of conda's
/// `_parse_spec_str`) and stores it.
pub(super) fn conda_dep(spec: &str, category: &str) -> Result<Dep, Unsupported> {
    let mut s = spec.split('#').next().unwrap_or_default();
    s = s.split(" if ").next().unwrap_or_default();
    if s.ends_with(".tar.bz2") || s.ends_with(".conda") {
        return unsupported(format!("the package file `{spec}`"));
    }
    let mut s = s.to_owned();
    let mut brackets: BTreeMap<String, String> = BTreeMap::new();
    if let Some(part) = last_group(&s, '[', ']') {
        s = s.replace(&part, "");
        brackets = bracket_pairs(&part[1..part.len() - 1]);
    }
    if let Some(part) = last_group(&s, '(', ')') {
        s = s.replace(&part, "");
    }
    let parts: Vec<&str> = s.rsplitn(3, ':').collect();
    let (mut channel, rest) = match parts.as_slice() {
        [rest, _, channel] => (Some((*channel).to_owned()), (*rest).to_owned()),
        [rest, _] => (None, (*rest).to_owned()),
        _ => (None, s.clone()),
    };
    if let Some(c) = brackets.remove("channel") {
        channel = Some(c);
    }
    let channel = channel.filter(|c| !c.is_empty());
    if channel.as_deref().is_some_and(|c| c.contains(['/', ':'])) {
        return unsupported(format!("a channel URL in `{spec}`"));
    }
    let name_end = rest
        .find([' ', '=', '<', '>', '!', '~'])
        .unwrap_or(rest.len());
    let name = &rest[..name_end];
    if name.is_empty() {
        return unsupported(format!("no package name in `{spec}`"));
    }
    let tail = &rest[name_end..];
    let tail = if tail.chars().count() >= 2 {
        tail.trim()
    } else {
        ""
    };
    let (mut version, mut build) = (None, None);
    if !tail.is_empty() {
        let (v, b) = version_and_build(tail);
        version = Some(equals_version(v, b.is_some()));
        build = b;
    }
    if let Some(v) = brackets.remove("version") {
        version = Some(v);
    }
    if let Some(b) = brackets.remove("build") {
        build = Some(b);
    }
    let version = match version {
        Some(v) if !v.is_empty() => version_spec(&v)?,
        _ => String::new(),
    };
    Ok(Dep {
        manager: "conda",
        name: name.to_lowercase(),
        version,
        build,
        channel,
        extras: Vec::new(),
        hash: None,
        category: category.to_owned(),
    })
}

/// The part `.*(\[.*\])` captures: from the last opening character that
/// has a closing one after it, to the last closing character.
fn last_group(s: &str, open: char, close: char) -> Option<String> {
    let end = s.rfind(close)?;
    let start = s[..end].rfind(open)?;
    Some(s[start..=end].to_owned())
}

/// `key=value` pairs inside `[...]`, quotes removed.
fn bracket_pairs(inner: &str) -> BTreeMap<String, String> {
    let mut pairs = BTreeMap::new();
    let bytes = inner.as_bytes();
    let key_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut i = 0;
    while i < bytes.len() {
        if !key_char(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && key_char(bytes[i]) {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            continue;
        }
        let key = &inner[start..i];
        i += 1;
        let quote = bytes.get(i).copied().filter(|b| *b == b'"' || *b == b'\'');
        if quote.is_some() {
            i += 1;
        }
        let value_start = i;
        let end = loop {
            if i > bytes.len() {
                break None;
            }
            let at_end = match quote {
                Some(q) => bytes.get(i) == Some(&q),
                None => true,
            };
            let after = if quote.is_some() { i + 1 } else { i };
            let boundary = after >= bytes.len() || bytes[after] == b',' || bytes[after] == b' ';
            if at_end && boundary {
                break Some((i, after));
            }
            if bytes.get(i).is_some_and(|b| *b == b'"' || *b == b'\'') {
                break None;
            }
            i += 1;
        };
        if let Some((value_end, after)) = end {
            pairs.insert(key.to_owned(), inner[value_start..value_end].to_owned());
            i = after + 1;
        }
    }
    pairs
}

/// conda's split of `>=1.0,<2`, `=1.0=0`, `1.0 py*` into version and build:
/// the first ` ` or `=` not after an operator that is followed by a build
/// without operators.
fn version_and_build(s: &str) -> (String, Option<String>) {
    let bytes = s.as_bytes();
    for p in 1..bytes.len().saturating_sub(1) {
        if bytes[p] != b' ' && bytes[p] != b'=' {
            continue;
        }
        if b"=!|,<>~".contains(&bytes[p - 1]) {
            continue;
        }
        let build = &s[p + 1..];
        if !build.is_empty() && !build.contains(['-', '=', ',', '|', '<', '>', '~']) {
            return (s[..p].replace(' ', ""), Some(build.trim().to_owned()));
        }
    }
    (s.replace(' ', ""), None)
}

/// `=1.0` means `1.0*`, `==1.0` means `1.0`.
fn equals_version(version: String, has_build: bool) -> String {
    if version == "==" || version == "=" || !version.starts_with('=') {
        return version;
    }
    let rest = &version[1..];
    if version.starts_with("==") && !has_build {
        return version[2..].to_owned();
    }
    if rest.contains(['=', ',', '|']) {
        return version;
    }
    if !has_build && !rest.ends_with('*') {
        return format!("{rest}*");
    }
    rest.to_owned()
}

/// `str(VersionSpec(v))`: each part normalized (`1.2*` → `1.2.*`), joined
/// by its `,` and `|`, parentheses dropped.
fn version_spec(v: &str) -> Result<String, Unsupported> {
    if v.contains(['^', '$']) {
        return unsupported(format!("the regex version `{v}`"));
    }
    let mut out = String::new();
    let mut leaf = String::new();
    let flush = |leaf: &mut String, out: &mut String| -> Result<(), Unsupported> {
        if !leaf.trim().is_empty() {
            out.push_str(&normalize_leaf(leaf.trim()));
        }
        leaf.clear();
        Ok(())
    };
    for c in v.chars() {
        match c {
            '(' | ')' => flush(&mut leaf, &mut out)?,
            ',' | '|' => {
                flush(&mut leaf, &mut out)?;
                out.push(c);
            }
            _ => leaf.push(c),
        }
    }
    flush(&mut leaf, &mut out)?;
    if out.is_empty()
        || out.starts_with([',', '|'])
        || out.ends_with([',', '|'])
        || out.contains(",,")
        || out.contains("||")
        || out.contains(",|")
        || out.contains("|,")
    {
        return unsupported(format!("the version `{v}`"));
    }
    Ok(out)
}

fn normalize_leaf(s: &str) -> String {
    if s.starts_with(['=', '<', '>', '!', '~']) {
        return s.to_owned();
    }
    if s == "*" || s.trim_end_matches('*').contains('*') {
        return s.to_owned();
    }
    if s.ends_with('*') && !s.ends_with(".*") {
        return format!("{}.*", &s[..s.len() - 1]);
    }
    s.to_owned()
}

// --- pip requirements ---

/// A pip requirement as conda-lock stores it: canonical name, sorted
/// extras, specifiers without spaces sorted and joined by `,` (`*` when
/// none), and a `--hash=`.
pub(super) fn pip_dep(requirement: &str, category: &str) -> Result<Dep, Unsupported> {
    if requirement.contains(';') {
        return unsupported(format!("the environment marker in `{requirement}`"));
    }
    let (requirement, hash) = match requirement.split(" --hash=").collect::<Vec<_>>()[..] {
        [req, hash] => (req, Some(hash.to_owned())),
        _ => (requirement, None),
    };
    let s = requirement.trim();
    let name_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
        .unwrap_or(s.len());
    let name = &s[..name_end];
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return unsupported(format!("the pip requirement `{requirement}`"));
    }
    let mut rest = s[name_end..].trim_start();
    let mut extras: Vec<String> = Vec::new();
    if let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return unsupported(format!("the pip requirement `{requirement}`"));
        };
        extras = inner[..close]
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect();
        extras.sort();
        extras.dedup();
        rest = inner[close + 1..].trim_start();
    }
    let mut spec = rest.trim();
    if spec.contains('@') {
        return unsupported(format!("the direct reference `{requirement}`"));
    }
    if spec.starts_with('(') && spec.ends_with(')') {
        spec = &spec[1..spec.len() - 1];
    }
    let mut clauses: Vec<String> = spec
        .split(',')
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            c.split_whitespace()
                .collect::<String>()
                .replace("===", "==")
        })
        .collect();
    clauses.sort();
    let version = clauses.join(",");
    Ok(Dep {
        manager: "pip",
        name: super::super::spec::normalize_pip(name),
        version: if version.is_empty() {
            "*".to_owned()
        } else {
            version
        },
        build: None,
        channel: None,
        extras,
        hash,
        category: category.to_owned(),
    })
}
