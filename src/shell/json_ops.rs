//! The engine's output as data, for the shells whose hook applies it
//! with its own code rather than evaluating shell text: nushell, which
//! cannot evaluate a string at all, and xonsh, whose hook is Python. Each
//! line after the engine's mark is one JSON array, an operation and its
//! words:
//!
//! ```text
//! ["export","NAME","VALUE"]   set and export a variable (PATH: ':'-joined)
//! ["unset","NAME"]            remove an exported variable
//! ["set","NAME","VALUE"]      one of the hook's own variables (protocol)
//! ["list","NAME",["V",…]]     one of the hook's own lists
//! ["call","FUNCTION",["A",…]] one of the hook's functions
//! ["source","PATH"]           an activation script, after the rest
//! ["run"]                     run the engine again once this is applied
//! ```
//!
//! How a byte string becomes a JSON string is the shell's own decision
//! (`Encode`): xonsh keeps every byte, nushell's strings are UTF-8 only.

use super::protocol;

/// Appends `bytes` as one JSON string literal.
pub(super) type Encode = fn(&mut Vec<u8>, &[u8]);

/// The operations, each string written by one shell's `Encode`: what the
/// `Shell` impls of nushell and xonsh write.
pub(super) struct Ops(pub Encode);

impl Ops {
    pub fn export(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        line(out, self.0, "export", &[name.as_bytes(), value], None);
    }

    pub fn unset(&self, out: &mut Vec<u8>, name: &str) {
        line(out, self.0, "unset", &[name.as_bytes()], None);
    }

    pub fn set_global(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        line(out, self.0, "set", &[name.as_bytes(), value], None);
    }

    pub fn set_list(&self, out: &mut Vec<u8>, name: &str, values: &[Vec<u8>]) {
        line(out, self.0, "list", &[name.as_bytes()], Some(values));
    }

    /// The watched paths as a list the hook compares with the stamp;
    /// none without a stamp (every path would be newer).
    pub fn watch(&self, out: &mut Vec<u8>, paths: &[Vec<u8>], stamp: &[u8]) {
        let paths = if stamp.is_empty() { &[][..] } else { paths };
        self.set_list(out, protocol::NEWER, paths);
    }

    pub fn call(&self, out: &mut Vec<u8>, function: &str, arguments: &[&[u8]]) {
        let arguments: Vec<Vec<u8>> = arguments.iter().map(|a| a.to_vec()).collect();
        line(
            out,
            self.0,
            "call",
            &[function.as_bytes()],
            Some(&arguments),
        );
    }

    pub fn source(&self, out: &mut Vec<u8>, script: &[u8]) {
        line(out, self.0, "source", &[script], None);
    }

    pub fn rerun(&self, out: &mut Vec<u8>) {
        line(out, self.0, "run", &[], None);
    }
}

/// Appends one operation line: `["op","word",…]`, then the list, if any,
/// as a last element.
pub(super) fn line(
    out: &mut Vec<u8>,
    encode: Encode,
    op: &str,
    words: &[&[u8]],
    list: Option<&[Vec<u8>]>,
) {
    out.extend_from_slice(b"[\"");
    out.extend_from_slice(op.as_bytes());
    out.push(b'"');
    for word in words {
        out.push(b',');
        encode(out, word);
    }
    if let Some(list) = list {
        out.extend_from_slice(b",[");
        for (i, item) in list.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            encode(out, item);
        }
        out.push(b']');
    }
    out.extend_from_slice(b"]\n");
}

/// A JSON string of `bytes`, where each byte that is not part of valid
/// UTF-8 is written by `invalid`. Every control character, and each
/// character some reader takes for a line break (U+0085, U+2028,
/// U+2029: Python's `splitlines`), is escaped, so a line is one
/// operation however it is split.
pub(super) fn string(out: &mut Vec<u8>, bytes: &[u8], invalid: fn(&mut Vec<u8>, u8)) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\r' => out.extend_from_slice(b"\\r"),
                c if (c as u32) < 0x20
                    || c == '\u{7f}'
                    || c == '\u{85}'
                    || c == '\u{2028}'
                    || c == '\u{2029}' =>
                {
                    out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
                }
                c => {
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        for &b in chunk.invalid() {
            invalid(out, b);
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(out: &mut Vec<u8>, _b: u8) {
        out.extend_from_slice(b"\\ufffd");
    }

    fn encode(out: &mut Vec<u8>, bytes: &[u8]) {
        string(out, bytes, replace);
    }

    #[test]
    fn one_operation_per_line_whatever_the_words_hold() {
        let mut out = Vec::new();
        line(
            &mut out,
            encode,
            "export",
            &[b"X", b"a\"b\\c\nd\xe2\x80\xa8e\xff"],
            None,
        );
        line(
            &mut out,
            encode,
            "list",
            &[b"L"],
            Some(&[b"/a".to_vec(), b"b".to_vec()]),
        );
        line(&mut out, encode, "run", &[], None);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[\"export\",\"X\",\"a\\\"b\\\\c\\nd\\u2028e\\ufffd\"]\n\
             [\"list\",\"L\",[\"/a\",\"b\"]]\n[\"run\"]\n"
        );
    }
}
