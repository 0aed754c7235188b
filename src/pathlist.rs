//! `PATH`-style lists (`a:b:c`) as bytes: a directory name need not be
//! UTF-8. The hook, `pyve run`, `pyve export` and interpreter discovery
//! all change or read PATH through these.

/// The entries, in order; an empty PATH has none.
pub fn entries(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b':').filter(move |_| !path.is_empty())
}

pub fn contains(path: &[u8], entry: &[u8]) -> bool {
    entries(path).any(|e| e == entry)
}

/// PATH with `entry` in front, or None when it is on PATH already (direnv
/// loaded the same values, or the user activated this very environment):
/// then nothing is added, and nothing needs undoing later.
pub fn prepend(path: &[u8], entry: &[u8]) -> Option<Vec<u8>> {
    if contains(path, entry) {
        return None;
    }
    let mut out = entry.to_vec();
    if !path.is_empty() {
        out.push(b':');
        out.extend_from_slice(path);
    }
    Some(out)
}

/// PATH with `front` first, in order, and nowhere else: `pyve run` inside
/// an activated shell, or nested, must not grow PATH.
pub fn prepend_moving(front: &[Vec<u8>], path: &[u8]) -> Vec<u8> {
    let mut out: Vec<&[u8]> = front.iter().map(Vec::as_slice).collect();
    out.extend(entries(path).filter(|element| !front.iter().any(|e| e == element)));
    out.join(&b':')
}

/// PATH without the first entry equal to `entry`, or None if absent.
pub fn remove_first(path: &[u8], entry: &[u8]) -> Option<Vec<u8>> {
    let mut elements: Vec<&[u8]> = path.split(|&b| b == b':').collect();
    let index = elements.iter().position(|e| *e == entry)?;
    elements.remove(index);
    Some(elements.join(&b':'))
}

/// Whether a PATH entry is a version manager's shim directory (pyenv's,
/// asdf's, mise's: its last component is `shims`). Shims re-dispatch on
/// every call, per directory and per pin.
pub fn is_shims(entry: &[u8]) -> bool {
    let mut trimmed = entry;
    while let Some(rest) = trimmed.strip_suffix(b"/") {
        trimmed = rest;
    }
    let name = trimmed.rsplit(|&b| b == b'/').next().unwrap_or(trimmed);
    name == b"shims"
}

/// PATH with `front` (entries of one environment, in order) moved in front
/// of the first shim directory that precedes any of them, or None when
/// none is behind a shim. Entries the user put in front by hand stay in
/// front; nothing else moves.
pub fn ahead_of_shims(path: &[u8], front: &[&[u8]]) -> Option<Vec<u8>> {
    let mut elements: Vec<&[u8]> = path.split(|&b| b == b':').collect();
    let shim = elements.iter().position(|e| is_shims(e))?;
    let behind: Vec<&[u8]> = front
        .iter()
        .copied()
        .filter(|entry| {
            elements
                .iter()
                .position(|e| e == entry)
                .is_some_and(|i| i > shim)
        })
        .collect();
    if behind.is_empty() {
        return None;
    }
    for entry in &behind {
        if let Some(index) = elements.iter().position(|e| e == entry) {
            elements.remove(index);
        }
    }
    for (offset, entry) in behind.iter().enumerate() {
        elements.insert(shim + offset, entry);
    }
    Some(elements.join(&b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Option<Vec<u8>>) -> Option<String> {
        bytes.map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn prepend_adds_once() {
        assert_eq!(
            text(prepend(b"/usr/bin", b"/e/bin")).unwrap(),
            "/e/bin:/usr/bin"
        );
        assert_eq!(text(prepend(b"", b"/e/bin")).unwrap(), "/e/bin");
        assert_eq!(prepend(b"/u:/e/bin", b"/e/bin"), None);
    }

    #[test]
    fn prepend_moving_puts_entries_in_front_once() {
        let e = vec![b"/p/.venv/bin".to_vec()];
        let cases: [(&str, &str); 5] = [
            ("/usr/bin:/bin", "/p/.venv/bin:/usr/bin:/bin"),
            ("/p/.venv/bin:/usr/bin", "/p/.venv/bin:/usr/bin"),
            ("/usr/bin:/p/.venv/bin", "/p/.venv/bin:/usr/bin"),
            ("", "/p/.venv/bin"),
            ("/usr/bin::/bin", "/p/.venv/bin:/usr/bin::/bin"),
        ];
        for (path, want) in cases {
            let got = prepend_moving(&e, path.as_bytes());
            assert_eq!(String::from_utf8(got).unwrap(), want, "{path}");
        }
    }

    #[test]
    fn removes_one_occurrence_in_place() {
        let cases: [(&str, &str, Option<&str>); 7] = [
            ("/e/bin:/usr/bin", "/e/bin", Some("/usr/bin")),
            ("/u:/e/bin:/usr/bin", "/e/bin", Some("/u:/usr/bin")),
            ("/e/bin:/u:/e/bin", "/e/bin", Some("/u:/e/bin")),
            ("/e/bin", "/e/bin", Some("")),
            ("/e/bin::/usr/bin", "/e/bin", Some(":/usr/bin")),
            ("/a:/usr/bin:/e/bin", "/e/bin", Some("/a:/usr/bin")),
            ("/usr/bin", "/e/bin", None),
        ];
        for (path, entry, want) in cases {
            let got = text(remove_first(path.as_bytes(), entry.as_bytes()));
            assert_eq!(got.as_deref(), want, "{path} - {entry}");
        }
    }

    /// The one rule for shims, used by the hook, `pyve run` and interpreter
    /// discovery alike (they had three that disagreed).
    #[test]
    fn a_shim_directory_is_one_whose_last_component_is_shims() {
        for shims in ["/h/.pyenv/shims", "/h/.asdf/shims/", "/m/shims//", "shims"] {
            assert!(is_shims(shims.as_bytes()), "{shims}");
        }
        for not in ["/h/.pyenv/shims/bin", "/h/myshims", "/shimsx", "", "/"] {
            assert!(!is_shims(not.as_bytes()), "{not}");
        }
    }

    #[test]
    fn the_environment_goes_ahead_of_shims_and_nothing_else_moves() {
        let cases: [(&str, Option<&str>); 5] = [
            (
                "/h/.pyenv/shims:/e/bin:/usr/bin",
                Some("/e/bin:/h/.pyenv/shims:/usr/bin"),
            ),
            (
                "/mine:/h/.asdf/shims:/x:/e/bin",
                Some("/mine:/e/bin:/h/.asdf/shims:/x"),
            ),
            ("/e/bin:/h/.pyenv/shims:/usr/bin", None),
            ("/usr/bin:/e/bin", None),
            ("/m/shims/:/e/bin", Some("/e/bin:/m/shims/")),
        ];
        for (before, after) in cases {
            let got = text(ahead_of_shims(before.as_bytes(), &[b"/e/bin"]));
            assert_eq!(got.as_deref(), after, "{before}");
        }
        // Two entries keep their order.
        let got = ahead_of_shims(b"/s/shims:/e/bin:/e/condabin", &[b"/e/bin", b"/e/condabin"]);
        assert_eq!(text(got).unwrap(), "/e/bin:/e/condabin:/s/shims");
    }
}
