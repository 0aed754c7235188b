//! tcsh: single quotes, which keep every byte but two: `!` (history
//! substitution, even there) is written `\!`, and a newline `\` + newline.
//! A `'` ends the quote as in bash (`'\''`). The hook's own code is one
//! line of aliases (`init`); the engine's output is a file the hook
//! sources (`output_in_file`), since tcsh's command substitution would
//! join its lines.

use std::path::Path;

use super::{protocol, Shell};

pub struct Tcsh;

const SCRIPT: &str = include_str!("../../shell/pyve.tcsh");

fn quote(out: &mut Vec<u8>, value: &[u8]) {
    out.push(b'\'');
    for &b in value {
        match b {
            b'\'' => out.extend_from_slice(b"'\\''"),
            b'!' => out.extend_from_slice(b"\\!"),
            b'\n' => out.extend_from_slice(b"\\\n"),
            b => out.push(b),
        }
    }
    out.push(b'\'');
}

/// The prompt prefix as text for tcsh's `prompt`, where `%` starts a
/// sequence, `!` is the history number, and `\` and `^` start escapes
/// (`\e`, `^[`) that would write control bytes.
fn prompt_text(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for &b in text {
        match b {
            b'%' => out.extend_from_slice(b"%%"),
            b'!' | b'\\' | b'^' => {
                out.push(b'\\');
                out.push(b);
            }
            b => out.push(b),
        }
    }
    out
}

impl Shell for Tcsh {
    fn hook_line(&self) -> &'static str {
        "eval \"`pyve hook tcsh`\""
    }

    fn rc_file(&self) -> &'static str {
        "~/.tcshrc"
    }

    fn unset_command(&self, name: &str) -> String {
        format!("unsetenv {name}")
    }

    /// One line: `set __pyve_exe = '…'`, then the script's commands
    /// without its comments, joined by `;`, for `eval "`…`"` (which
    /// would join lines, and a comment would swallow the rest). A binary
    /// whose path holds a newline cannot be named on one line: then the
    /// line says so instead.
    fn init(&self, exe: &Path) -> Vec<u8> {
        use std::os::unix::ffi::OsStrExt;
        let exe = exe.as_os_str().as_bytes();
        if exe.contains(&b'\n') {
            return b"echo 'pyve: the path of the pyve binary holds a newline, which tcsh cannot take; \
                     move pyve' > /dev/stderr\n"
                .to_vec();
        }
        let mut out = format!("set {} = ", protocol::EXE).into_bytes();
        quote(&mut out, exe);
        for line in SCRIPT.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            out.extend_from_slice(b"; ");
            out.extend_from_slice(line.as_bytes());
        }
        out.push(b'\n');
        out
    }

    fn export(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        out.extend_from_slice(b"setenv ");
        out.extend_from_slice(name.as_bytes());
        out.push(b' ');
        quote(out, value);
        out.push(b'\n');
    }

    fn unset(&self, out: &mut Vec<u8>, name: &str) {
        out.extend_from_slice(b"unsetenv ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }

    fn set_global(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        out.extend_from_slice(b"set ");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b" = ");
        quote(out, value);
        out.push(b'\n');
    }

    fn set_list(&self, out: &mut Vec<u8>, name: &str, values: &[Vec<u8>]) {
        out.extend_from_slice(b"set ");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b" = (");
        for value in values {
            out.push(b' ');
            quote(out, value);
        }
        out.extend_from_slice(b" )\n");
    }

    /// `alias __pyve_newer 'if ( -M P >= -M S || … ) eval __pyve_run'`: one
    /// expression over every path, made once here. `-M` is in seconds, so
    /// a path changed in the stamp's own second counts as newer (the next
    /// prompts run the engine until that second is over). Over
    /// `test_operands`.
    fn watch(&self, out: &mut Vec<u8>, paths: &[Vec<u8>], stamp: &[u8]) {
        let paths: Vec<&[u8]> = super::test_operands(paths, stamp).collect();
        out.extend_from_slice(b"alias ");
        out.extend_from_slice(protocol::NEWER.as_bytes());
        if paths.is_empty() {
            out.extend_from_slice(b" :\n");
            return;
        }
        let mut body = b"if ( ".to_vec();
        for (i, path) in paths.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(b" || ");
            }
            body.extend_from_slice(b"-M ");
            quote(&mut body, path);
            body.extend_from_slice(b" >= -M ");
            quote(&mut body, stamp);
        }
        body.extend_from_slice(b" ) eval ");
        body.extend_from_slice(protocol::RUN.as_bytes());
        out.push(b' ');
        quote(out, &body);
        out.push(b'\n');
    }

    fn rehash(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"rehash\n");
    }

    /// The arguments go into `__pyve_args`, which the alias reads (an
    /// alias takes its arguments only as history words). The prompt's
    /// prefix is escaped for `prompt` here.
    fn call(&self, out: &mut Vec<u8>, function: &str, arguments: &[&[u8]]) {
        let values: Vec<Vec<u8>> = arguments
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if function == protocol::PROMPT && i == 0 {
                    prompt_text(a)
                } else {
                    a.to_vec()
                }
            })
            .collect();
        self.set_list(out, "__pyve_args", &values);
        out.extend_from_slice(function.as_bytes());
        out.push(b'\n');
    }

    fn source(&self, out: &mut Vec<u8>, script: &[u8]) {
        out.extend_from_slice(b"source ");
        quote(out, script);
        out.push(b'\n');
    }

    /// conda's activation scripts for tcsh end in `.csh`.
    fn script_extension(&self) -> &'static str {
        "csh"
    }

    /// Sourced at the end of the output, which is itself sourced.
    fn activation_scripts(&self, out: &mut Vec<u8>, scripts: &[Vec<u8>]) {
        for script in scripts {
            self.source(out, script);
        }
    }

    /// One more run once this is sourced (not from inside it: the run
    /// writes the file being sourced).
    fn rerun(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"set __pyve_again\n");
    }

    fn output_in_file(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcsh_quotes_keep_bytes_and_escape_bang_and_newline() {
        let mut out = Vec::new();
        quote(&mut out, b"a'b!c\nd\xff$`");
        assert_eq!(out, b"'a'\\''b\\!c\\\nd\xff$`'");
        assert_eq!(
            prompt_text(b"(venv:100%!\\e^[)"),
            b"(venv:100%%\\!\\\\e\\^[)"
        );
    }

    #[test]
    fn the_hook_is_one_line_without_comments() {
        let init = Tcsh.init(Path::new("/opt/py ve/pyve"));
        assert!(init.starts_with(b"set __pyve_exe = '/opt/py ve/pyve'; "));
        assert_eq!(init.iter().filter(|&&b| b == b'\n').count(), 1);
        assert!(!init.windows(2).any(|w| w == b"# "));
    }
}
