//! xonsh: its hook is Python, and the engine's output is data
//! (`json_ops`) that the hook applies. Every byte survives: a byte that is
//! not part of valid UTF-8 is written as the lone surrogate U+DC80–U+DCFF
//! that Python's `surrogateescape` (how it decodes file names and the
//! environment) reads back as that byte.

use std::path::Path;

use super::{json_ops, protocol, Shell};

pub struct Xonsh;

const SCRIPT: &str = include_str!("../../shell/pyve.xsh");

fn encode(out: &mut Vec<u8>, bytes: &[u8]) {
    json_ops::string(out, bytes, |out, b| {
        out.extend_from_slice(format!("\\udc{b:02x}").as_bytes())
    });
}

/// A Python bytes literal: printable ASCII as is (but `\` and `'`), every
/// other byte as `\xHH`.
fn bytes_literal(out: &mut Vec<u8>, value: &[u8]) {
    out.extend_from_slice(b"b'");
    for &b in value {
        if (0x20..0x7f).contains(&b) && b != b'\\' && b != b'\'' {
            out.push(b);
        } else {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
    out.push(b'\'');
}

impl Shell for Xonsh {
    fn hook_line(&self) -> &'static str {
        "execx($(pyve hook xonsh))"
    }

    fn rc_file(&self) -> &'static str {
        "~/.xonshrc"
    }

    fn unset_command(&self, name: &str) -> String {
        format!("del ${name}")
    }

    /// `__pyve_exe = b'…'` above the script, which decodes it as Python
    /// decodes file names.
    fn init(&self, exe: &Path) -> Vec<u8> {
        use std::os::unix::ffi::OsStrExt;
        let mut out = format!("{} = ", protocol::EXE).into_bytes();
        bytes_literal(&mut out, exe.as_os_str().as_bytes());
        out.push(b'\n');
        out.extend_from_slice(SCRIPT.as_bytes());
        out
    }

    fn export(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        json_ops::line(out, encode, "export", &[name.as_bytes(), value], None);
    }

    fn unset(&self, out: &mut Vec<u8>, name: &str) {
        json_ops::line(out, encode, "unset", &[name.as_bytes()], None);
    }

    fn set_global(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        json_ops::line(out, encode, "set", &[name.as_bytes(), value], None);
    }

    fn set_list(&self, out: &mut Vec<u8>, name: &str, values: &[Vec<u8>]) {
        json_ops::line(out, encode, "list", &[name.as_bytes()], Some(values));
    }

    /// The watched paths as a list the hook `stat`s against the stamp;
    /// none without a stamp (every path would be newer).
    fn watch(&self, out: &mut Vec<u8>, paths: &[Vec<u8>], stamp: &[u8]) {
        let paths = if stamp.is_empty() { &[][..] } else { paths };
        self.set_list(out, protocol::NEWER, paths);
    }

    fn rehash(&self, _out: &mut Vec<u8>) {
        // xonsh's command cache notices PATH changes itself.
    }

    fn call(&self, out: &mut Vec<u8>, function: &str, arguments: &[&[u8]]) {
        let arguments: Vec<Vec<u8>> = arguments.iter().map(|a| a.to_vec()).collect();
        json_ops::line(
            out,
            encode,
            "call",
            &[function.as_bytes()],
            Some(&arguments),
        );
    }

    fn source(&self, out: &mut Vec<u8>, script: &[u8]) {
        json_ops::line(out, encode, "source", &[script], None);
    }

    /// conda's activation scripts for xonsh end in `.xsh`.
    fn script_extension(&self) -> &'static str {
        "xsh"
    }

    /// Sourced by the hook after the rest is applied.
    fn activation_scripts(&self, out: &mut Vec<u8>, scripts: &[Vec<u8>]) {
        for script in scripts {
            self.source(out, script);
        }
    }

    fn rerun(&self, out: &mut Vec<u8>) {
        json_ops::line(out, encode, "run", &[], None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_bytes_literals_keep_every_byte() {
        let mut out = Vec::new();
        bytes_literal(&mut out, b"/a b'\\\n\xff");
        assert_eq!(out, b"b'/a b\\x27\\x5c\\x0a\\xff'");
    }

    #[test]
    fn bytes_that_are_not_utf8_become_python_surrogates() {
        let mut out = Vec::new();
        encode(&mut out, b"a\xffb\xc3\xa9");
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\udcffb\u{e9}\"");
    }
}
