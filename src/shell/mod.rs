//! Shell dialects. Each file owns one shell's quoting and syntax; the engine
//! says what to change and a `Shell` says it in that shell's words.

use std::path::Path;

mod bash;
mod fish;
mod zsh;

pub use bash::Bash;
pub use fish::Fish;
pub use zsh::Zsh;

pub trait Shell {
    /// Written before any engine output.
    fn begin(&self, _out: &mut Vec<u8>) {}
    /// The init script for the rc file; `exe` is the absolute path the hook
    /// will run, so neither PATH nor a project's `bin` can substitute it.
    fn init(&self, exe: &Path) -> Vec<u8>;
    fn export(&self, out: &mut Vec<u8>, name: &str, value: &[u8]);
    fn unset(&self, out: &mut Vec<u8>, name: &str);
    /// A global, unexported shell variable.
    fn set_global(&self, out: &mut Vec<u8>, name: &str, value: &[u8]);
    fn set_list(&self, out: &mut Vec<u8>, name: &str, values: &[Vec<u8>]);
    /// Forget cached command locations after PATH changed.
    fn rehash(&self, out: &mut Vec<u8>);
    /// Calls one of the init script's functions with a single argument.
    fn call(&self, out: &mut Vec<u8>, function: &str, argument: &[u8]);
    /// Sources a script file in the current shell.
    fn source(&self, out: &mut Vec<u8>, script: &[u8]);
    /// The extension of the activation scripts this shell sources.
    fn script_extension(&self) -> &'static str {
        "sh"
    }
    /// Has the hook source these activation scripts once the output is
    /// applied. bash and zsh apply it with SIGINT ignored, so the scripts
    /// (the user's code, which may hang) are handed over as a list and
    /// sourced after, where Ctrl-C stops them; no text marker, which a
    /// quoted path could contain.
    fn activation_scripts(&self, out: &mut Vec<u8>, scripts: &[Vec<u8>]) {
        self.set_list(out, "__pyve_scripts", scripts);
    }
    /// Runs the engine again right away, once this output is applied.
    fn rerun(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"__pyve_run\n");
    }
}

pub fn by_name(name: &str) -> Option<&'static dyn Shell> {
    match name {
        "bash" => Some(&Bash),
        "zsh" => Some(&Zsh),
        "fish" => Some(&Fish),
        _ => None,
    }
}

/// The first line of bash's engine output (see `Shell::begin`): the bash
/// hook splits what its command substitution printed before it (the
/// caller's INT trap) from the code after it.
pub const ENGINE_MARK: &str = "#pyve-engine\n";

/// A path or argument as a POSIX shell word for a message the user may
/// paste: as is when nothing in it is special, single-quoted otherwise,
/// and lossy (a message is text).
pub fn posix_word(value: &[u8]) -> String {
    let plain = !value.is_empty()
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@%".contains(b));
    if plain {
        return String::from_utf8_lossy(value).into_owned();
    }
    let mut out = Vec::with_capacity(value.len() + 2);
    Bash.quote_into(&mut out, value);
    crate::config::one_line(&String::from_utf8_lossy(&out))
}

/// Prepends the `__pyve_exe=…` assignment to an embedded script.
fn with_exe(shell: &dyn Shell, exe: &Path, script: &str) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = Vec::with_capacity(script.len() + 128);
    shell.set_global(&mut out, "__pyve_exe", exe.as_os_str().as_bytes());
    out.extend_from_slice(script.as_bytes());
    out
}
