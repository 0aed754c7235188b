//! direnv's own commands (`watch_file`, `log_error`), for what `.envrc`
//! evaluates (`pyve export direnv`): bash, as `Bash` writes it, plus these.

use std::path::Path;

use super::Bash;

pub struct Direnv;

impl Direnv {
    /// Reload when `path` changes.
    pub fn watch_file(&self, out: &mut Vec<u8>, path: &Path) {
        use std::os::unix::ffi::OsStrExt;
        out.extend_from_slice(b"watch_file ");
        Bash.quote_into(out, path.as_os_str().as_bytes());
        out.push(b'\n');
    }

    /// A message direnv shows as an error.
    pub fn log_error(&self, out: &mut Vec<u8>, message: &str) {
        out.extend_from_slice(b"log_error ");
        Bash.quote_into(out, message.as_bytes());
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direnv_lines_quote_their_argument() {
        let mut out = Vec::new();
        Direnv.watch_file(&mut out, Path::new("/p/it's/.pyve"));
        Direnv.log_error(&mut out, "pyve: no $(env)");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "watch_file '/p/it'\\''s/.pyve'\nlog_error 'pyve: no $(env)'\n"
        );
    }
}
