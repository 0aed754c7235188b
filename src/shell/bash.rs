//! bash: single-quoted words, which bash takes byte for byte (any byte but
//! NUL, newlines included), so no value can expand or execute.

use std::path::Path;

use super::{protocol, Shell};

pub struct Bash;

const SCRIPT: &str = include_str!("../../shell/pyve.bash");

/// `'…'` with each `'` written as `'\''`. Shared with zsh, whose single
/// quotes follow the same rule (our output never holds `''` inside a quoted
/// word, so RC_QUOTES cannot change its meaning).
pub(super) fn quote(out: &mut Vec<u8>, value: &[u8]) {
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

    /// A `bash -c` program that sources `scripts` (their output to stderr,
    /// so the command's stdout stays its own), then replaces itself with
    /// the command in its arguments, keeping `$0` as argv[0]. The command
    /// is saved first: a script may `shift` or `set --`. This is how
    /// `pyve run` gives a command the activation scripts conda runs in the
    /// activating shell.
    pub fn exec_after_sourcing(&self, scripts: &[Vec<u8>]) -> Vec<u8> {
        let mut code = b"__pyve_command=(\"$@\")\n".to_vec();
        for script in scripts {
            code.extend_from_slice(b"\\builtin . ");
            quote(&mut code, script);
            code.extend_from_slice(b" >&2\n");
        }
        code.extend_from_slice(b"\\builtin exec -a \"$0\" \"${__pyve_command[@]}\"\n");
        code
    }
}

impl Shell for Bash {
    fn hook_line(&self) -> &'static str {
        "eval \"$(pyve hook bash)\""
    }

    fn rc_file(&self) -> &'static str {
        "~/.bashrc"
    }

    fn init(&self, exe: &Path) -> Vec<u8> {
        super::with_exe(self, exe, SCRIPT)
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

    /// `function __pyve_newer { [[ P -nt $__pyve_stamp || … ]]; }`: one
    /// conditional command over every path, parsed once here rather than
    /// looped over at every prompt. The stamp is named, not written out
    /// each time (inside `[[ ]]` a variable is neither split nor globbed):
    /// the output stays short. The `function` form keeps an alias of the
    /// name from breaking the definition.
    fn watch(&self, out: &mut Vec<u8>, paths: &[Vec<u8>], _stamp: &[u8]) {
        out.extend_from_slice(b"function ");
        out.extend_from_slice(protocol::NEWER.as_bytes());
        if paths.is_empty() {
            out.extend_from_slice(b" { \\builtin return 1; }\n");
            return;
        }
        out.extend_from_slice(b" { [[ ");
        for (i, path) in paths.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b" || ");
            }
            quote(out, path);
            out.extend_from_slice(b" -nt $");
            out.extend_from_slice(protocol::STAMP.as_bytes());
        }
        out.extend_from_slice(b" ]]; }\n");
    }

    fn rehash(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\\builtin hash -r\n");
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
        out.extend_from_slice(b"\\builtin . ");
        quote(out, script);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_sources_each_script_then_execs_the_saved_command() {
        let code = Bash.exec_after_sourcing(&[b"/e/a.sh".to_vec(), b"/e/it's.sh".to_vec()]);
        assert_eq!(
            String::from_utf8(code).unwrap(),
            "__pyve_command=(\"$@\")\n\\builtin . '/e/a.sh' >&2\n\\builtin . '/e/it'\\''s.sh' >&2\n\
             \\builtin exec -a \"$0\" \"${__pyve_command[@]}\"\n"
        );
    }
}
