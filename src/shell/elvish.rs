//! elvish: double-quoted strings, in which nothing expands; every byte
//! that is not printable ASCII is written as `\xHH`, which elvish turns
//! back into that raw byte (its strings are bytes), so a value or a path
//! that is not UTF-8 survives exactly. The hook evaluates the output in a
//! namespace holding only its own functions (`__pyve_set`, the prompt, the
//! rerun), beside elvish's builtins.

use std::path::Path;

use super::{protocol, Shell};

pub struct Elvish;

const SCRIPT: &str = include_str!("../../shell/pyve.elv");

fn quote(out: &mut Vec<u8>, value: &[u8]) {
    out.push(b'"');
    for &b in value {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

impl Shell for Elvish {
    fn hook_line(&self) -> &'static str {
        "eval (pyve hook elvish | slurp)"
    }

    fn rc_file(&self) -> &'static str {
        "~/.config/elvish/rc.elv"
    }

    fn unset_command(&self, name: &str) -> String {
        format!("unset-env {name}")
    }

    fn init(&self, exe: &Path) -> Vec<u8> {
        use std::os::unix::ffi::OsStrExt;
        let mut out = format!("var {} = ", protocol::EXE).into_bytes();
        quote(&mut out, exe.as_os_str().as_bytes());
        out.push(b'\n');
        out.extend_from_slice(SCRIPT.as_bytes());
        out
    }

    fn export(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        out.extend_from_slice(b"set-env ");
        out.extend_from_slice(name.as_bytes());
        out.push(b' ');
        quote(out, value);
        out.push(b'\n');
    }

    fn unset(&self, out: &mut Vec<u8>, name: &str) {
        out.extend_from_slice(b"unset-env ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }

    fn set_global(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        out.extend_from_slice(b"__pyve_set ");
        out.extend_from_slice(name.as_bytes());
        out.push(b' ');
        quote(out, value);
        out.push(b'\n');
    }

    fn set_list(&self, out: &mut Vec<u8>, name: &str, values: &[Vec<u8>]) {
        out.extend_from_slice(b"__pyve_set ");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b" [");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            quote(out, value);
        }
        out.extend_from_slice(b"]\n");
    }

    /// The paths the one `test` at a bare Enter compares with the stamp
    /// (`test_operands`).
    fn watch(&self, out: &mut Vec<u8>, paths: &[Vec<u8>], stamp: &[u8]) {
        out.extend_from_slice(b"__pyve_set ");
        out.extend_from_slice(protocol::NEWER.as_bytes());
        out.extend_from_slice(b" [");
        for (i, path) in super::test_operands(paths, stamp).enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            quote(out, path);
        }
        out.extend_from_slice(b"]\n");
    }

    fn rehash(&self, _out: &mut Vec<u8>) {
        // elvish looks commands up in PATH each time.
    }

    fn call(&self, out: &mut Vec<u8>, function: &str, arguments: &[&[u8]]) {
        out.extend_from_slice(function.as_bytes());
        for argument in arguments {
            out.push(b' ');
            quote(out, argument);
        }
        out.push(b'\n');
    }

    /// conda has no activation scripts for elvish (`script_extension`
    /// finds none), and the hook sources nothing.
    fn source(&self, _out: &mut Vec<u8>, _script: &[u8]) {}

    fn script_extension(&self) -> &'static str {
        "elv"
    }

    fn activation_scripts(&self, _out: &mut Vec<u8>, _scripts: &[Vec<u8>]) {}
}
