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

/// The first line of an `.envrc` (outside pyve's block) that builds or
/// activates a Python environment of its own: `layout python`, `layout
/// uv`, `layout anaconda`, `source .venv/bin/activate`, …. With pyve's
/// block beside it, two environments would end up on PATH. Returns the
/// line number and the line.
pub fn python_layout(envrc: &str) -> Option<(usize, String)> {
    const LAYOUTS: [&str; 7] = [
        "python", "python3", "uv", "pyenv", "anaconda", "pipenv", "poetry",
    ];
    envrc.lines().enumerate().find_map(|(at, line)| {
        let code = line.split('#').next().unwrap_or("").trim();
        let mut words = code.split_whitespace();
        let found = match (words.next(), words.next()) {
            (Some("layout" | "layout_python"), Some(kind)) => LAYOUTS.contains(&kind),
            (Some("layout_python" | "layout_uv" | "layout_anaconda"), None) => true,
            (Some("use"), Some("conda" | "mamba" | "micromamba" | "venv" | "uv")) => true,
            (Some("source" | "."), Some(file)) => {
                file.trim_matches(['"', '\'']).ends_with("bin/activate")
            }
            _ => false,
        };
        found.then(|| (at + 1, code.to_owned()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envrc_lines_that_activate_python_are_found() {
        assert_eq!(
            python_layout("export A=1\n  layout python3 # venv\n"),
            Some((2, "layout python3".to_owned()))
        );
        for line in [
            "layout uv",
            "layout anaconda myenv",
            "source .venv/bin/activate",
            ". \"$PWD/venv/bin/activate\"",
            "use conda",
        ] {
            assert!(python_layout(line).is_some(), "{line}");
        }
        for line in [
            "# layout python",
            "watch_file .pyve/config",
            "eval \"$(pyve export direnv)\"",
            "layout node",
            "source_env ..",
        ] {
            assert!(python_layout(line).is_none(), "{line}");
        }
    }

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
