//! fish: single quotes where only `\` and `'` need a backslash; bytes that
//! are not valid UTF-8 go outside the quotes as `\xHH`, which fish turns back
//! into the same raw byte. PATH is a list in fish, so it is set item by item.

use std::path::Path;

use super::{protocol, Shell};

pub struct Fish;

const SCRIPT: &str = include_str!("../../shell/pyve.fish");

fn quote(out: &mut Vec<u8>, value: &[u8]) {
    out.push(b'\'');
    let mut quoted = true;
    for chunk in value.utf8_chunks() {
        if !chunk.valid().is_empty() && !quoted {
            out.push(b'\'');
            quoted = true;
        }
        for &b in chunk.valid().as_bytes() {
            if b == b'\\' || b == b'\'' {
                out.push(b'\\');
            }
            out.push(b);
        }
        if !chunk.invalid().is_empty() {
            if quoted {
                out.push(b'\'');
                quoted = false;
            }
            // One run of escapes for consecutive bytes that are not UTF-8,
            // with no quotes between them: fish decodes such a run as it
            // decodes the same bytes from the kernel ($PWD), which may
            // join bytes Rust takes one by one (F4 92 BF AE is one
            // character to fish), so the values compare equal.
            for &b in chunk.invalid() {
                out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
            }
        }
    }
    if quoted {
        out.push(b'\'');
    }
}

impl Shell for Fish {
    fn hook_line(&self) -> &'static str {
        "pyve hook fish | source"
    }

    fn rc_file(&self) -> &'static str {
        "~/.config/fish/config.fish"
    }

    fn unset_command(&self, name: &str) -> String {
        format!("set -e {name}")
    }

    fn init(&self, exe: &Path) -> Vec<u8> {
        super::with_exe(self, exe, SCRIPT)
    }

    fn export(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        out.extend_from_slice(b"builtin set -gx ");
        out.extend_from_slice(name.as_bytes());
        if name == "PATH" {
            // An empty PATH is the empty list, not one empty directory.
            if !value.is_empty() {
                for entry in value.split(|&b| b == b':') {
                    out.push(b' ');
                    quote(out, entry);
                }
            }
        } else {
            out.push(b' ');
            quote(out, value);
        }
        out.push(b'\n');
    }

    fn unset(&self, out: &mut Vec<u8>, name: &str) {
        out.extend_from_slice(b"builtin set -e -g ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }

    fn set_global(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        out.extend_from_slice(b"builtin set -g ");
        out.extend_from_slice(name.as_bytes());
        out.push(b' ');
        quote(out, value);
        out.push(b'\n');
    }

    fn set_list(&self, out: &mut Vec<u8>, name: &str, values: &[Vec<u8>]) {
        out.extend_from_slice(b"builtin set -g ");
        out.extend_from_slice(name.as_bytes());
        for value in values {
            out.push(b' ');
            quote(out, value);
        }
        out.push(b'\n');
    }

    /// `set -g __pyve_newer -o P -nt S …`: the arguments of the one
    /// `test` the hook runs over all paths (a loop step costs fish more
    /// than the stat pair), over `test_operands`.
    fn watch(&self, out: &mut Vec<u8>, paths: &[Vec<u8>], stamp: &[u8]) {
        out.extend_from_slice(b"builtin set -g ");
        out.extend_from_slice(protocol::NEWER.as_bytes());
        for path in super::test_operands(paths, stamp) {
            out.extend_from_slice(b" -o ");
            quote(out, path);
            out.extend_from_slice(b" -nt ");
            quote(out, stamp);
        }
        out.push(b'\n');
    }

    fn rehash(&self, _out: &mut Vec<u8>) {
        // fish looks commands up afresh each time; nothing is cached.
    }

    fn call(&self, out: &mut Vec<u8>, function: &str, arguments: &[&[u8]]) {
        out.extend_from_slice(function.as_bytes());
        for argument in arguments {
            out.push(b' ');
            quote(out, argument);
        }
        out.push(b'\n');
    }

    fn source(&self, out: &mut Vec<u8>, script: &[u8]) {
        out.extend_from_slice(b"builtin source ");
        quote(out, script);
        out.push(b'\n');
    }

    fn script_extension(&self) -> &'static str {
        "fish"
    }

    /// fish cannot hold SIGINT off while applying, so there is no reason
    /// to defer them.
    fn activation_scripts(&self, out: &mut Vec<u8>, scripts: &[Vec<u8>]) {
        for script in scripts {
            self.source(out, script);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    fn quoted(value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        quote(&mut out, value);
        out
    }

    #[test]
    fn bytes_that_are_not_utf8_are_one_run_of_escapes() {
        // Rust reads F4 92 BF AE as four invalid bytes, fish as one
        // character: one run, so fish joins them as it joins $PWD's.
        assert_eq!(quoted(b"/p/\xf4\x92\xbf\xae"), b"'/p/'\\xf4\\x92\\xbf\\xae");
        assert_eq!(quoted(b"\xffa'b\xfe"), b"''\\xff'a\\'b'\\xfe");
        assert_eq!(quoted(b"plain"), b"'plain'");
        assert_eq!(quoted(b""), b"''");
    }
}
