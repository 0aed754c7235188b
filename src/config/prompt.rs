//! The prompt prefix: `prompt.format` with its two placeholders.

pub const DEFAULT_FORMAT: &str = "({backend}:{env_name})";

/// A prompt prefix is a few words; it is exported as `PYVE_PROMPT` to
/// every process, so its size is bounded.
pub const MAX_FORMAT_BYTES: usize = 1024;

/// Only `{backend}` and `{env_name}` are placeholders; any other `{word}` is
/// almost certainly a typo, so it is an error rather than literal text.
/// Returns the unknown placeholder.
pub(super) fn unknown_placeholder(format: &str) -> Option<&str> {
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let word = &after[..close];
        let is_word =
            !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if is_word && word != "backend" && word != "env_name" {
            return Some(word);
        }
        rest = &after[close + 1..];
    }
    None
}

/// Renders the prompt prefix. Works on bytes because a project's directory
/// name, and so the environment name, need not be UTF-8.
/// Control characters are escaped (`text::prompt_bytes`): the prefix is
/// shown at every prompt.
pub fn render(format: &str, backend: &str, env_name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(format.len() + env_name.len());
    let mut rest = format.as_bytes();
    while !rest.is_empty() {
        if rest.starts_with(b"{backend}") {
            out.extend_from_slice(backend.as_bytes());
            rest = &rest[b"{backend}".len()..];
        } else if rest.starts_with(b"{env_name}") {
            out.extend_from_slice(env_name);
            rest = &rest[b"{env_name}".len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    crate::text::prompt_bytes(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_bytewise() {
        assert_eq!(
            render("({backend}:{env_name})", "venv", b"a\xffb"),
            b"(venv:a\xffb)".to_vec()
        );
    }

    #[test]
    fn only_two_words_are_placeholders() {
        assert_eq!(unknown_placeholder("({envname})"), Some("envname"));
        assert_eq!(unknown_placeholder("[{env_name}] {} {a-b}"), None);
        assert_eq!(unknown_placeholder("{backend"), None);
    }
}
