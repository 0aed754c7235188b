//! Where things are in a config's text, for messages that name a line and
//! for edits that change one line: a simple scan of block-style YAML, which
//! is how people write configs (flow mappings are not followed).

/// The line (1-based) where `key` is written, at the top level or inside
/// `section`: for values YAML accepted and pyve does not. None for layouts
/// this simple scan does not follow (flow mappings).
pub(super) fn key_line(text: &str, section: Option<&str>, key: &str) -> Option<usize> {
    let mut in_section = false;
    for (index, line) in text.lines().enumerate() {
        let blank = line.trim().is_empty() || line.trim_start().starts_with('#');
        let top = !blank && !line.starts_with([' ', '\t']);
        match section {
            None if top && is_key_line(line, key) => return Some(index + 1),
            None => {}
            Some(section) => {
                if top {
                    in_section = is_key_line(line, section);
                } else if in_section && !blank && is_key_line(line.trim_start(), key) {
                    return Some(index + 1);
                }
            }
        }
    }
    None
}

/// Whether `line` starts with `key:` (followed by a blank or nothing).
pub(super) fn is_key_line(line: &str, key: &str) -> bool {
    line.strip_prefix(key).is_some_and(|rest| {
        rest.starts_with(':') && (rest.len() == 1 || rest[1..].starts_with([' ', '\t', '\n', '\r']))
    })
}

/// Whether a line's value continues on the lines below (`key:` alone).
pub(super) fn value_is_below(line: &str, key: &str) -> bool {
    let rest = line.trim_start()[key.len() + 1..].trim();
    rest.is_empty() || rest.starts_with('#')
}
