//! xonsh: its hook is Python, and the engine's output is data
//! (`json_ops`) that the hook applies. Every byte survives: a byte that is
//! not part of valid UTF-8 is written as the lone surrogate U+DC80–U+DCFF
//! that Python's `surrogateescape` (how it decodes file names and the
//! environment) reads back as that byte.

use std::path::Path;

use super::{json_ops, protocol, Shell};

pub struct Xonsh;

const OPS: json_ops::Ops = json_ops::Ops(encode);

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
        OPS.export(out, name, value);
    }

    fn unset(&self, out: &mut Vec<u8>, name: &str) {
        OPS.unset(out, name);
    }

    fn set_global(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        OPS.set_global(out, name, value);
    }

    fn set_list(&self, out: &mut Vec<u8>, name: &str, values: &[Vec<u8>]) {
        OPS.set_list(out, name, values);
    }

    /// The watched paths as a list the hook checks, path by path, without
    /// a process (`json_ops::Ops::watch`).
    fn watch(&self, out: &mut Vec<u8>, paths: &[Vec<u8>], stamp: &[u8]) {
        OPS.watch(out, paths, stamp);
    }

    fn rehash(&self, _out: &mut Vec<u8>) {
        // xonsh's command cache notices PATH changes itself.
    }

    fn call(&self, out: &mut Vec<u8>, function: &str, arguments: &[&[u8]]) {
        OPS.call(out, function, arguments);
    }

    fn source(&self, out: &mut Vec<u8>, script: &[u8]) {
        OPS.source(out, script);
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
        OPS.rerun(out);
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
