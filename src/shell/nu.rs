//! nushell: it cannot evaluate a string, so the engine's output is data
//! (`json_ops`) that the hook's own commands apply. nushell's strings are
//! UTF-8 only, and so are its variables and `$env.PWD`: a byte that is not
//! part of valid UTF-8 becomes U+FFFD (there is nothing else it could
//! become). PATH is a list in nushell; the hook splits the value.

use std::path::Path;

use super::{json_ops, Shell};

pub struct Nu;

const OPS: json_ops::Ops = json_ops::Ops(encode);

const SCRIPT: &str = include_str!("../../shell/pyve.nu");

fn encode(out: &mut Vec<u8>, bytes: &[u8]) {
    json_ops::string(out, bytes, |out, _| out.extend_from_slice(b"\\ufffd"));
}

/// A nushell double-quoted string: `"` and `\` escaped, every control
/// character as `\u{…}`, bytes that are not UTF-8 as U+FFFD.
fn quote(out: &mut Vec<u8>, value: &[u8]) {
    out.push(b'"');
    for c in String::from_utf8_lossy(value).chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                out.extend_from_slice(format!("\\u{{{:x}}}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

impl Shell for Nu {
    fn hook_line(&self) -> &'static str {
        "mkdir ($nu.user-autoload-dirs | first); \
         pyve hook nu | save -f ($nu.user-autoload-dirs | first | path join pyve.nu)"
    }

    fn rc_file(&self) -> &'static str {
        "~/.config/nushell/config.nu"
    }

    fn unset_command(&self, name: &str) -> String {
        format!("hide-env {name}")
    }

    /// `let __pyve_exe = "…"` above the script: nushell code, not an
    /// operation line.
    fn init(&self, exe: &Path) -> Vec<u8> {
        use std::os::unix::ffi::OsStrExt;
        let mut out = b"let __pyve_exe = ".to_vec();
        quote(&mut out, exe.as_os_str().as_bytes());
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
        // nushell looks commands up in PATH each time.
    }

    fn call(&self, out: &mut Vec<u8>, function: &str, arguments: &[&[u8]]) {
        OPS.call(out, function, arguments);
    }

    fn source(&self, out: &mut Vec<u8>, script: &[u8]) {
        OPS.source(out, script);
    }

    /// nushell reads a script only when it parses the code that sources
    /// it, so it cannot source one the engine names at a prompt; conda
    /// has no convention for nushell activation scripts either. The
    /// engine finds none (the extension is `nu`) and nothing is sent.
    fn script_extension(&self) -> &'static str {
        "nu"
    }

    fn activation_scripts(&self, _out: &mut Vec<u8>, _scripts: &[Vec<u8>]) {}

    fn rerun(&self, out: &mut Vec<u8>) {
        OPS.rerun(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nushell_strings_escape_quotes_and_controls() {
        let mut out = Vec::new();
        quote(&mut out, b"/a \"b\"\\\n\x1b\xff");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"/a \\\"b\\\"\\\\\\u{a}\\u{1b}\u{fffd}\""
        );
    }
}
