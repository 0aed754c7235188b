//! zsh: the same byte-exact single quotes as bash; its own builtins.

use std::path::Path;

use super::Shell;

pub struct Zsh;

const SCRIPT: &str = include_str!("../../shell/pyve.zsh");

impl Shell for Zsh {
    fn init(&self, exe: &Path) -> Vec<u8> {
        super::with_exe(self, exe, SCRIPT)
    }

    fn export(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        out.extend_from_slice(b"\\builtin export ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        super::bash::quote(out, value);
        out.push(b'\n');
    }

    fn unset(&self, out: &mut Vec<u8>, name: &str) {
        out.extend_from_slice(b"\\builtin unset ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }

    // Plain assignments: the init script declares these globals, and
    // `\builtin typeset` would lose zsh's parsing of `name=(…)`.
    fn set_global(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        super::bash::quote(out, value);
        out.push(b'\n');
    }

    fn set_list(&self, out: &mut Vec<u8>, name: &str, values: &[Vec<u8>]) {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=(");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            super::bash::quote(out, value);
        }
        out.extend_from_slice(b")\n");
    }

    fn rehash(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\\builtin rehash\n");
    }

    fn call(&self, out: &mut Vec<u8>, function: &str, argument: &[u8]) {
        out.extend_from_slice(function.as_bytes());
        out.push(b' ');
        super::bash::quote(out, argument);
        out.push(b'\n');
    }
}
