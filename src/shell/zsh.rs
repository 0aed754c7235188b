//! zsh: bash's byte-exact single quotes and assignment syntax (the init
//! script declares the globals, so plain `name=…` and `name=(…)` assign
//! them); only the builtins for unsetting and rehashing differ.

use std::path::Path;

use super::{Bash, Shell};

pub struct Zsh;

const SCRIPT: &str = include_str!("../../shell/pyve.zsh");

impl Shell for Zsh {
    fn hook_line(&self) -> &'static str {
        "eval \"$(pyve hook zsh)\""
    }

    fn rc_file(&self) -> &'static str {
        "~/.zshrc"
    }

    fn init(&self, exe: &Path) -> Vec<u8> {
        super::with_exe(self, exe, SCRIPT)
    }

    fn export(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        Bash.export(out, name, value);
    }

    fn unset(&self, out: &mut Vec<u8>, name: &str) {
        out.extend_from_slice(b"\\builtin unset ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }

    fn set_global(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        Bash.set_global(out, name, value);
    }

    fn set_list(&self, out: &mut Vec<u8>, name: &str, values: &[Vec<u8>]) {
        Bash.set_list(out, name, values);
    }

    fn watch(&self, out: &mut Vec<u8>, paths: &[Vec<u8>], stamp: &[u8]) {
        Bash.watch(out, paths, stamp);
    }

    fn rehash(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\\builtin rehash\n");
    }

    fn call(&self, out: &mut Vec<u8>, function: &str, arguments: &[&[u8]]) {
        Bash.call(out, function, arguments);
    }

    fn source(&self, out: &mut Vec<u8>, script: &[u8]) {
        Bash.source(out, script);
    }
}
