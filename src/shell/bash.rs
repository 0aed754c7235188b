//! bash: single-quoted words, which bash takes byte for byte (any byte but
//! NUL, newlines included), so no value can expand or execute.

use std::path::Path;

use super::Shell;

pub struct Bash;

const SCRIPT: &str = include_str!("../../shell/pyve.bash");

/// `'…'` with each `'` written as `'\''`. Shared with zsh, whose single
/// quotes follow the same rule (our output never holds `''` inside a quoted
/// word, so RC_QUOTES cannot change its meaning).
fn quote(out: &mut Vec<u8>, value: &[u8]) {
    out.push(b'\'');
    for &b in value {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
}

impl Bash {
    /// Appends `value` as one single-quoted bash word.
    pub fn quote_into(&self, out: &mut Vec<u8>, value: &[u8]) {
        quote(out, value);
    }
}

impl Shell for Bash {
    fn init(&self, exe: &Path) -> Vec<u8> {
        super::with_exe(self, exe, SCRIPT)
    }

    fn begin(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(super::ENGINE_MARK.as_bytes());
    }

    fn export(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        out.extend_from_slice(b"\\builtin export ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        quote(out, value);
        out.push(b'\n');
    }

    fn unset(&self, out: &mut Vec<u8>, name: &str) {
        out.extend_from_slice(b"\\builtin unset -v ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }

    fn set_global(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        quote(out, value);
        out.push(b'\n');
    }

    fn set_list(&self, out: &mut Vec<u8>, name: &str, values: &[Vec<u8>]) {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=(");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            quote(out, value);
        }
        out.extend_from_slice(b")\n");
    }

    fn rehash(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\\builtin hash -r\n");
    }

    fn call(&self, out: &mut Vec<u8>, function: &str, argument: &[u8]) {
        out.extend_from_slice(function.as_bytes());
        out.push(b' ');
        quote(out, argument);
        out.push(b'\n');
    }

    fn source(&self, out: &mut Vec<u8>, script: &[u8]) {
        out.extend_from_slice(b"\\builtin . ");
        quote(out, script);
        out.push(b'\n');
    }
}
