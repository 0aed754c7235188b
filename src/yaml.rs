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
/// `MAX_DEPTH`. Quoted scalars and comments are skipped, so a bracket in a
/// string is not counted; block nesting is bounded by the files' sizes.
pub fn check_depth(text: &str) -> Result<(), Error> {
    let mut depth = 0usize;
    let mut line = 1;
    let mut chars = text.chars().peekable();
    // Whether a scalar may start here (line start, after an indicator or
    // a blank): only there does a quote open a quoted scalar.
    let mut token_start = true;
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                line += 1;
                token_start = true;
                continue;
            }
            '#' if token_start => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
                continue;
            }
            '"' | '\'' if token_start => {
                skip_quoted(c, &mut chars, &mut line);
                token_start = false;
                continue;
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Error::TooDeep { line });
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        token_start = matches!(c, ' ' | '\t' | '[' | '{' | ',' | ':' | '-' | '?');
    }
    Ok(())
}

/// Past the closing quote of a scalar opened by `quote`: `\"` escapes in
/// double quotes, `''` in single ones.
fn skip_quoted(quote: char, chars: &mut std::iter::Peekable<std::str::Chars>, line: &mut usize) {
    while let Some(c) = chars.next() {
        match c {
            '\n' => *line += 1,
            '\\' if quote == '"' => {
                chars.next();
            }
            c if c == quote => {
                if quote == '\'' && chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    return;
                }
            }
            _ => {}
        }
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
}
