//! Shell dialects. Each file owns one shell's quoting and syntax; the
//! engine says what to change and a `Shell` says it in that shell's words.
//! `protocol` holds the contract with the scripts under `shell/`. This is a
//! leaf: it knows nothing of projects, backends or the command line.

mod bash;
pub mod direnv;
mod elvish;
mod fish;
mod json_ops;
mod nu;
pub mod protocol;
mod tcsh;
mod xonsh;
mod zsh;

use std::path::Path;

pub use bash::Bash;
pub use direnv::Direnv;
pub use elvish::Elvish;
pub use fish::Fish;
pub use nu::Nu;
pub use tcsh::Tcsh;
pub use xonsh::Xonsh;
pub use zsh::Zsh;

pub trait Shell {
    /// The line that installs the hook, for advice.
    fn hook_line(&self) -> &'static str;
    /// The rc file that line belongs in, for advice.
    fn rc_file(&self) -> &'static str;
    /// Written before any engine output: the mark every hook script checks
    /// before it evaluates a byte, so a program that exits 0 without being
    /// pyve's engine (a wrong `__pyve_exe`) has nothing evaluated. A comment
    /// in every shell.
    fn begin(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(protocol::ENGINE_MARK.as_bytes());
    }
    /// The init script for the rc file; `exe` is the absolute path the hook
    /// will run, so neither PATH nor a project's `bin` can substitute it.
    fn init(&self, exe: &Path) -> Vec<u8>;
    fn export(&self, out: &mut Vec<u8>, name: &str, value: &[u8]);
    fn unset(&self, out: &mut Vec<u8>, name: &str);
    /// The command a person types to unset an exported variable.
    fn unset_command(&self, name: &str) -> String {
        format!("unset {name}")
    }
    /// A global, unexported shell variable.
    fn set_global(&self, out: &mut Vec<u8>, name: &str, value: &[u8]);
    fn set_list(&self, out: &mut Vec<u8>, name: &str, values: &[Vec<u8>]);
    /// The fast path's check ([`protocol::NEWER`]): whether any of `paths`
    /// is newer than `stamp`, in one builtin call over all of them, so a
    /// watched path costs a bare Enter its two `stat`s and no step of a
    /// loop in the shell. No paths: never.
    fn watch(&self, out: &mut Vec<u8>, paths: &[Vec<u8>], stamp: &[u8]);
    /// Forget cached command locations after PATH changed.
    fn rehash(&self, out: &mut Vec<u8>);
    /// Calls one of the init script's functions, each argument one word.
    fn call(&self, out: &mut Vec<u8>, function: &str, arguments: &[&[u8]]);
    /// Sources a script file in the current shell.
    fn source(&self, out: &mut Vec<u8>, script: &[u8]);
    /// The extension of the conda activation scripts this shell sources.
    fn script_extension(&self) -> &'static str {
        "sh"
    }
    /// Has the hook source these activation scripts once the output is
    /// applied. bash and zsh apply it with SIGINT ignored, so the scripts
    /// (the user's code, which may hang) are handed over as a list and
    /// sourced after, where Ctrl-C stops them; no text marker, which a
    /// quoted path could contain.
    fn activation_scripts(&self, out: &mut Vec<u8>, scripts: &[Vec<u8>]) {
        self.set_list(out, protocol::SCRIPTS, scripts);
    }
    /// Runs the engine again right away, once this output is applied.
    fn rerun(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(protocol::RUN.as_bytes());
        out.push(b'\n');
    }
    /// The engine's output goes to a file beside the shell's stamp, and
    /// stdout says where (tcsh, whose command substitution joins lines).
    fn output_in_file(&self) -> bool {
        false
    }
}

/// The shells the hook supports, by name.
pub fn by_name(name: &str) -> Option<&'static dyn Shell> {
    match name {
        "bash" => Some(&Bash),
        "zsh" => Some(&Zsh),
        "fish" => Some(&Fish),
        "nu" => Some(&Nu),
        "xonsh" => Some(&Xonsh),
        "elvish" => Some(&Elvish),
        "tcsh" => Some(&Tcsh),
        _ => None,
    }
}

/// A value as a POSIX shell word for a message the user may paste: as is
/// when nothing in it is special, in bash's single quotes otherwise, and
/// lossy and on one line (a message is text).
pub fn posix_word(value: &[u8]) -> String {
    let plain = !value.is_empty()
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@%=".contains(b));
    if plain {
        return String::from_utf8_lossy(value).into_owned();
    }
    let mut out = Vec::with_capacity(value.len() + 2);
    bash::quote(&mut out, value);
    crate::text::one_line(&String::from_utf8_lossy(&out))
}

/// The watched paths a file test may take (fish's and elvish's `test`,
/// tcsh's `-M`): only absolute ones, and none unless the stamp is one, since
/// a word such as `-o` or `(` would read as an operator (the engine
/// watches none such).
fn test_operands<'a>(paths: &'a [Vec<u8>], stamp: &[u8]) -> impl Iterator<Item = &'a [u8]> {
    let stamp_ok = stamp.first() == Some(&b'/');
    paths
        .iter()
        .filter(move |p| stamp_ok && p.first() == Some(&b'/'))
        .map(Vec::as_slice)
}

/// Prepends the `__pyve_exe=…` assignment to an embedded script.
fn with_exe(shell: &dyn Shell, exe: &Path, script: &str) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = Vec::with_capacity(script.len() + 128);
    shell.set_global(&mut out, protocol::EXE, exe.as_os_str().as_bytes());
    out.extend_from_slice(script.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_messages_are_quoted_only_when_needed() {
        assert_eq!(posix_word(b"/p/.venv/bin"), "/p/.venv/bin");
        assert_eq!(posix_word(b"--prompt=x"), "--prompt=x");
        assert_eq!(posix_word(b"it's here"), "'it'\\''s here'");
        assert_eq!(posix_word(b"a\nb"), "'a\\nb'");
        assert_eq!(posix_word(b""), "''");
    }

    /// The exact bytes of each shell's engine output, for one value that
    /// needs every kind of care: quotes, a backslash, a newline, `$`, and a
    /// byte that is not UTF-8.
    #[test]
    fn each_shell_writes_exact_bytes() {
        let value: &[u8] = b"a'b\\c\n$d\xff";
        let cases: [(&str, &dyn Shell, &[u8]); 3] = [
            (
                "bash",
                &Bash,
                b"\\builtin export X='a'\\''b\\c\n$d\xff'\n\\builtin unset -v X\n\
                  __pyve_pwd='a'\\''b\\c\n$d\xff'\n__pyve_scripts=('/a' 'b c')\n\
                  function __pyve_newer { [[ '/a' -nt $__pyve_stamp || '/b'\\''c' -nt $__pyve_stamp ]]; }\n\
                  function __pyve_newer { \\builtin return 1; }\n\
                  __pyve_prompt '(venv:p)' 'VIRTUAL_ENV' '/p/.venv'\n\\builtin . '/e/s.sh'\n\\builtin hash -r\n",
            ),
            (
                "zsh",
                &Zsh,
                b"\\builtin export X='a'\\''b\\c\n$d\xff'\n\\builtin unset X\n\
                  __pyve_pwd='a'\\''b\\c\n$d\xff'\n__pyve_scripts=('/a' 'b c')\n\
                  function __pyve_newer { [[ '/a' -nt $__pyve_stamp || '/b'\\''c' -nt $__pyve_stamp ]]; }\n\
                  function __pyve_newer { \\builtin return 1; }\n\
                  __pyve_prompt '(venv:p)' 'VIRTUAL_ENV' '/p/.venv'\n\\builtin . '/e/s.sh'\n\\builtin rehash\n",
            ),
            (
                "fish",
                &Fish,
                b"builtin set -gx X 'a\\'b\\\\c\n$d'\\xff\nbuiltin set -e -g X\n\
                  builtin set -g __pyve_pwd 'a\\'b\\\\c\n$d'\\xff\n\
                  builtin set -g __pyve_scripts '/a' 'b c'\n\
                  builtin set -g __pyve_newer -o '/a' -nt '/s' -o '/b\\'c' -nt '/s'\n\
                  builtin set -g __pyve_newer\n\
                  __pyve_prompt '(venv:p)' 'VIRTUAL_ENV' '/p/.venv'\nbuiltin source '/e/s.sh'\n",
            ),
        ];
        for (name, shell, want) in cases {
            let mut out = Vec::new();
            shell.export(&mut out, "X", value);
            shell.unset(&mut out, "X");
            shell.set_global(&mut out, protocol::PWD, value);
            shell.set_list(
                &mut out,
                protocol::SCRIPTS,
                &[b"/a".to_vec(), b"b c".to_vec()],
            );
            let watched = [b"/a".to_vec(), b"/b'c".to_vec()];
            shell.watch(&mut out, &watched, b"/s");
            shell.watch(&mut out, &[], b"/s");
            shell.call(
                &mut out,
                protocol::PROMPT,
                &[b"(venv:p)", b"VIRTUAL_ENV", b"/p/.venv"],
            );
            shell.source(&mut out, b"/e/s.sh");
            shell.rehash(&mut out);
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(want),
                "{name}"
            );
            assert_eq!(out, want, "{name}");
        }
    }

    /// The same operations in the hooks that do not evaluate shell text
    /// (nushell, xonsh: one JSON array per line) and in elvish.
    #[test]
    fn the_other_shells_write_exact_bytes() {
        let value: &[u8] = b"a'b\\c\n$d\xff\"";
        let cases: [(&str, &dyn Shell, &str); 4] = [
            (
                "tcsh",
                &Tcsh,
                "setenv X 'a'\\''b\\c\\\n$d\u{fffd}\"'\nunsetenv X\n\
                 set __pyve_pwd = 'a'\\''b\\c\\\n$d\u{fffd}\"'\n\
                 alias __pyve_newer 'if ( -M '\\''/a'\\'' >= -M '\\''/s'\\'' ) eval __pyve_run'\n\
                 alias __pyve_newer :\n\
                 set __pyve_args = ( '(venv:p)' 'VIRTUAL_ENV' '/p/.venv' )\n__pyve_prompt\n\
                 source '/e/s.csh'\nrehash\nset __pyve_again\n",
            ),
            (
                "nu",
                &Nu,
                "[\"export\",\"X\",\"a'b\\\\c\\n$d\\ufffd\\\"\"]\n[\"unset\",\"X\"]\n\
                 [\"set\",\"__pyve_pwd\",\"a'b\\\\c\\n$d\\ufffd\\\"\"]\n\
                 [\"list\",\"__pyve_newer\",[\"/a\",\"-o\"]]\n[\"list\",\"__pyve_newer\",[]]\n\
                 [\"call\",\"__pyve_prompt\",[\"(venv:p)\",\"VIRTUAL_ENV\",\"/p/.venv\"]]\n\
                 [\"source\",\"/e/s.nu\"]\n[\"run\"]\n",
            ),
            (
                "xonsh",
                &Xonsh,
                "[\"export\",\"X\",\"a'b\\\\c\\n$d\\udcff\\\"\"]\n[\"unset\",\"X\"]\n\
                 [\"set\",\"__pyve_pwd\",\"a'b\\\\c\\n$d\\udcff\\\"\"]\n\
                 [\"list\",\"__pyve_newer\",[\"/a\",\"-o\"]]\n[\"list\",\"__pyve_newer\",[]]\n\
                 [\"call\",\"__pyve_prompt\",[\"(venv:p)\",\"VIRTUAL_ENV\",\"/p/.venv\"]]\n\
                 [\"source\",\"/e/s.xsh\"]\n[\"run\"]\n",
            ),
            (
                "elvish",
                &Elvish,
                "set-env X \"a'b\\\\c\\x0a$d\\xff\\\"\"\nunset-env X\n\
                 __pyve_set __pyve_pwd \"a'b\\\\c\\x0a$d\\xff\\\"\"\n\
                 __pyve_set __pyve_newer [\"/a\"]\n__pyve_set __pyve_newer []\n\
                 __pyve_prompt \"(venv:p)\" \"VIRTUAL_ENV\" \"/p/.venv\"\n__pyve_run\n",
            ),
        ];
        for (name, shell, want) in cases {
            let mut out = Vec::new();
            shell.export(&mut out, "X", value);
            shell.unset(&mut out, "X");
            shell.set_global(&mut out, protocol::PWD, value);
            let watched = [b"/a".to_vec(), b"-o".to_vec()];
            shell.watch(&mut out, &watched, b"/s");
            shell.watch(&mut out, &watched, b"");
            shell.call(
                &mut out,
                protocol::PROMPT,
                &[b"(venv:p)", b"VIRTUAL_ENV", b"/p/.venv"],
            );
            let script = format!("/e/s.{}", shell.script_extension());
            shell.source(&mut out, script.as_bytes());
            shell.rehash(&mut out);
            shell.rerun(&mut out);
            assert_eq!(String::from_utf8_lossy(&out), want, "{name}");
        }
    }

    /// fish's `test` would read a word such as `-o` or `(` as an operator:
    /// only absolute paths, and an absolute stamp, go into its check.
    #[test]
    fn fish_checks_only_absolute_paths() {
        let mut out = Vec::new();
        let paths = [b"-o".to_vec(), b"/a".to_vec(), b"(".to_vec()];
        Fish.watch(&mut out, &paths, b"/s");
        Fish.watch(&mut out, &paths, b"-s");
        assert_eq!(
            out,
            b"builtin set -g __pyve_newer -o '/a' -nt '/s'\nbuiltin set -g __pyve_newer\n"
        );
    }

    /// fish's PATH is a list: set item by item, and an empty PATH is the
    /// empty list, not one empty directory.
    #[test]
    fn fish_sets_path_as_a_list() {
        let mut out = Vec::new();
        Fish.export(&mut out, "PATH", b"/e/bin:/usr/bin");
        Fish.export(&mut out, "PATH", b"");
        assert_eq!(
            out,
            b"builtin set -gx PATH '/e/bin' '/usr/bin'\nbuiltin set -gx PATH\n"
        );
    }

    #[test]
    fn every_shell_marks_its_output_and_can_rerun() {
        let shells: [&dyn Shell; 3] = [&Bash, &Zsh, &Fish];
        for shell in shells {
            let mut out = Vec::new();
            shell.begin(&mut out);
            shell.rerun(&mut out);
            assert_eq!(out, b"#pyve-engine\n__pyve_run\n");
        }
        assert_eq!(Fish.unset_command("PYVE_STATE"), "set -e PYVE_STATE");
        assert_eq!(Zsh.unset_command("PYVE_STATE"), "unset PYVE_STATE");
    }

    #[test]
    fn init_scripts_start_with_the_absolute_binary() {
        for name in ["bash", "zsh", "fish"] {
            let shell = by_name(name).unwrap();
            let init = shell.init(Path::new("/opt/py ve/pyve"));
            let first = init.split(|&b| b == b'\n').next().unwrap();
            assert!(
                first.ends_with(b"'/opt/py ve/pyve'"),
                "{name}: {}",
                String::from_utf8_lossy(first)
            );
        }
    }
}
