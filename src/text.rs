//! Text for people: values from a repository or an environment made safe
//! to print in a one-line message.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// `text` with control characters escaped (`\n`, `\u{1b}`), so one message
/// never becomes several lines and a name cannot drive the terminal.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Text for a terminal: control characters other than newline and tab (C0,
/// DEL, C1) escaped, so nothing a repository or an environment names can
/// move the cursor, clear the screen or set a title. Newlines stay:
/// messages span lines on purpose.
pub fn terminal(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.contains(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A prompt prefix made safe to show at every prompt: every control
/// character escaped (a prompt is one line), bytes that are not UTF-8 kept
/// as they are (a directory name need not be UTF-8) except 0x80–0x9F,
/// which 8-bit terminals take as control characters. Printable ASCII, the
/// common case (the engine's nothing-to-do call escapes the state's prefix
/// again), is borrowed, not copied.
pub fn prompt_bytes(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.extend_from_slice(one_line(chunk.valid()).as_bytes());
        for &b in chunk.invalid() {
            if (0x80..0xa0).contains(&b) {
                out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
            } else {
                out.push(b);
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Warnings capped at `max` lines: past it, the last line says how many
/// more there were, so a file with 60,000 faults prints a screenful, not
/// 60,000 lines.
pub fn at_most(mut lines: Vec<String>, max: usize) -> Vec<String> {
    if lines.len() > max {
        let more = lines.len() - (max - 1);
        lines.truncate(max - 1);
        lines.push(format!("… and {more} more like these"));
    }
    lines
}

/// A path for a one-line message: lossy, control characters escaped.
pub fn shown(path: &Path) -> String {
    one_line(&path.to_string_lossy())
}

/// `2026-01-05 10:30:00 UTC`, without a date library.
pub fn timestamp(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn warnings_are_capped_with_a_count_of_the_rest() {
        let lines = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
        assert_eq!(at_most(lines(3), 3), lines(3));
        let capped = at_most(lines(60_000), 10);
        assert_eq!(capped.len(), 10);
        assert_eq!(capped[8], "8");
        assert_eq!(capped[9], "… and 59991 more like these");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(one_line("a\nb\u{1b}[2J"), "a\\nb\\u{1b}[2J");
        assert_eq!(shown(Path::new("/p/a\nb")), "/p/a\\nb");
        assert_eq!(one_line("plain ü"), "plain ü");
    }

    #[test]
    fn terminal_text_keeps_lines_and_escapes_the_rest() {
        assert_eq!(terminal("plain\nlines\ttab"), "plain\nlines\ttab");
        assert_eq!(
            terminal("n\u{1b}]0;TITLE\u{7}\u{1b}[2J \u{9b}x"),
            "n\\u{1b}]0;TITLE\\u{7}\\u{1b}[2J \\u{9b}x"
        );
        assert_eq!(
            prompt_bytes(b"a\nb\x1b[2J\xff\x9bc"),
            b"a\\nb\\u{1b}[2J\xff\\x9bc".to_vec()
        );
        assert_eq!(prompt_bytes("caf\u{e9}".as_bytes()), "caf\u{e9}".as_bytes());
    }

    #[test]
    fn timestamps_are_civil_utc() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01 00:00:00 UTC");
        let t = UNIX_EPOCH + Duration::from_secs(1_767_609_000);
        assert_eq!(timestamp(t), "2026-01-05 10:30:00 UTC");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(timestamp(leap), "2000-02-29 00:00:00 UTC");
    }
}
