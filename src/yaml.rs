//! YAML (and JSON, which is YAML) from files a repository or an
//! environment controls. The parser's time grows with the square of the
//! flow nesting depth (`[[[[…]]]]` of 64 KB took seconds, of 256 KB more
//! than a minute, at every prompt), so nesting is measured first, in one
//! pass, and text nested deeper than any real config is refused before the
//! parser sees it.

use serde::de::DeserializeOwned;

/// Deeper than any config, spec or lock file written by a person or a
/// tool; far below where parsing time shows.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug)]
pub enum Error {
    /// Nested more than `MAX_DEPTH` levels; the 1-based line where it does.
    TooDeep {
        line: usize,
    },
    Yaml(serde_yaml_ng::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::TooDeep { line } => write!(
                f,
                "line {line}: nested more than {MAX_DEPTH} levels deep, which no pyve file needs"
            ),
            Error::Yaml(e) => write!(f, "{e}"),
        }
    }
}

/// Parses `text` after checking its nesting.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    check_depth(text)?;
    serde_yaml_ng::from_str(text).map_err(Error::Yaml)
}

/// The deepest flow nesting (`[`, `{`) of `text` must not pass
/// `MAX_DEPTH`. Text with no more opening brackets than that cannot nest
/// deeper (a config never has more). Other text is read with the parser's
/// own scanner, so no rule for quotes, comments or plain scalars can differ
/// from the parser's; each token costs it at most `MAX_DEPTH` steps,
/// as it stops at the first level too deep. Block nesting costs the
/// parser only linear time.
pub fn check_depth(text: &str) -> Result<(), Error> {
    let openers = text.bytes().filter(|b| matches!(b, b'[' | b'{')).count();
    if openers <= MAX_DEPTH {
        return Ok(());
    }
    scan_depth(text.as_bytes())
}

/// The flow nesting of `text` as libyaml's scanner (the one the parser
/// uses) tokenizes it, up to the first error, which the parser reports.
fn scan_depth(text: &[u8]) -> Result<(), Error> {
    use std::mem::MaybeUninit;
    use unsafe_libyaml as unsafe_yaml;
    // Boxed: the scanner keeps pointers into its parser, which must not
    // move. SAFETY: the parser is initialized before use and deleted
    // once; `text` outlives it; each token is deleted after its fields
    // are read, and read only after a scan that succeeded.
    let mut parser = Box::new(MaybeUninit::<unsafe_yaml::yaml_parser_t>::uninit());
    let parser = parser.as_mut_ptr();
    unsafe {
        if unsafe_yaml::yaml_parser_initialize(parser).fail {
            return Ok(());
        }
        unsafe_yaml::yaml_parser_set_encoding(parser, unsafe_yaml::YAML_UTF8_ENCODING);
        unsafe_yaml::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
        let mut depth = 0usize;
        let mut verdict = Ok(());
        loop {
            let mut token = MaybeUninit::<unsafe_yaml::yaml_token_t>::uninit();
            let token = token.as_mut_ptr();
            if unsafe_yaml::yaml_parser_scan(parser, token).fail {
                break;
            }
            let kind = (*token).type_;
            let line = (*token).start_mark.line as usize + 1;
            unsafe_yaml::yaml_token_delete(token);
            match kind {
                unsafe_yaml::YAML_FLOW_SEQUENCE_START_TOKEN
                | unsafe_yaml::YAML_FLOW_MAPPING_START_TOKEN => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        verdict = Err(Error::TooDeep { line });
                        break;
                    }
                }
                unsafe_yaml::YAML_FLOW_SEQUENCE_END_TOKEN
                | unsafe_yaml::YAML_FLOW_MAPPING_END_TOKEN => {
                    depth = depth.saturating_sub(1);
                }
                unsafe_yaml::YAML_STREAM_END_TOKEN | unsafe_yaml::YAML_NO_TOKEN => break,
                _ => {}
            }
        }
        unsafe_yaml::yaml_parser_delete(parser);
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn nesting_past_the_limit_is_refused_before_parsing() {
        assert!(check_depth(&nested(MAX_DEPTH)).is_ok());
        let deep = format!("# c\nb: 1\n{}", nested(MAX_DEPTH + 1));
        assert!(matches!(
            check_depth(&deep),
            Err(Error::TooDeep { line: 3 })
        ));
        // 256 KB of it took more than a minute to parse.
        let huge = nested(128 << 10);
        assert!(from_str::<serde_yaml_ng::Value>(&huge).is_err());
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let text = format!(
            "a: \"{0}\"\nb: '{0}'\nc: 'it''s {0}'\n# {0}\nd: [\"]\", '}}']\n",
            "[".repeat(100)
        );
        assert!(check_depth(&text).is_ok(), "{text}");
        // A closing bracket in a string cannot hide real nesting.
        let hidden = format!("a: {}\n", "[\"]\", ".repeat(MAX_DEPTH + 1));
        assert!(check_depth(&hidden).is_err());
        // Many flow mappings one after the other are not nesting.
        let flat = "- {md5: a, sha256: b}\n".repeat(10_000);
        assert!(check_depth(&flat).is_ok());
    }

    /// Quotes and `#` inside a plain scalar are part of it: they open no
    /// string and no comment that could hide the nesting after them.
    #[test]
    fn quotes_and_hashes_in_plain_scalars_hide_no_nesting() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        for text in [
            format!("env_name: x '\nother: {deep}\n"),
            format!("env_name: x \"\nother: {deep}\n"),
            format!("other: [a-#, {deep}]\n"),
            format!("other: [a'b, {deep}]\n"),
            format!("a: b#c\nother: {deep}\n"),
            format!("a: |\n  '\nother: {deep}\n"),
        ] {
            assert!(
                matches!(check_depth(&text), Err(Error::TooDeep { .. })),
                "{text}"
            );
        }
        // A real string or comment with brackets in it still does not count.
        let text = format!("a: 'x {0}'\n# {0}\nb: \"{0}\"\n", "[".repeat(100));
        assert!(check_depth(&text).is_ok());
    }
}
