//! The files init shares with the user: pyve's block in `.gitignore`
//! (the environments, the active-environment pointer) and in `.envrc`
//! (what direnv evaluates).

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::files::{self, block};
use crate::paths::lexical;

pub const ENVRC_BODY: &str = "\
# Managed by `pyve init`; `pyve purge` removes this block. Lines outside it are yours.
watch_file .pyve/config
if has pyve; then
  eval \"$(pyve export direnv)\"
else
  log_error \"pyve is not on PATH: install it to load this project's environment\"
fi
";

/// `.gitignore`'s special characters, escaped so a path matches only itself.
fn gitignore_escape(relative: &[u8]) -> String {
    let mut out = String::new();
    for (i, c) in String::from_utf8_lossy(relative).chars().enumerate() {
        if matches!(c, '*' | '?' | '[' | '\\') || (i == 0 && matches!(c, '#' | '!')) {
            out.push('\\');
        }
        out.push(c);
    }
    if out.ends_with(' ') {
        out.insert(out.len() - 1, '\\');
    }
    out
}

/// pyve's block for `.gitignore`: the environment when it lives outside
/// `.pyve/envs`, `.pyve/envs` itself, and the pointer of a project with
/// named environments (which environment is active is each checkout's
/// own choice).
pub fn gitignore_body(
    root: &Path,
    env_dir: &Path,
    named: bool,
    own_tools: bool,
    dotenv: &[PathBuf],
) -> String {
    let mut body = String::from("# Managed by `pyve init`; `pyve purge` removes this block.\n");
    if let Ok(relative) = lexical(env_dir).strip_prefix(root) {
        if !relative.as_os_str().is_empty() && !relative.starts_with(crate::layout::ENVS) {
            body.push_str(&format!(
                "/{}/\n",
                gitignore_escape(relative.as_os_str().as_bytes())
            ));
        }
    }
    body.push_str(&format!("/{}/\n", crate::layout::ENVS));
    if named {
        body.push_str(&format!("/{}\n", crate::layout::POINTER));
    }
    if own_tools {
        body.push_str(&format!("/{}/\n", crate::layout::BIN));
    }
    // The project's variables are often secrets: its dotenv files stay out
    // of the repository (a file git already tracks stays tracked).
    for file in dotenv {
        if let Ok(relative) = lexical(&root.join(file)).strip_prefix(root) {
            if !relative.as_os_str().is_empty() {
                body.push_str(&format!(
                    "/{}\n",
                    gitignore_escape(relative.as_os_str().as_bytes())
                ));
            }
        }
    }
    body
}

/// The project's first dotenv file (`.env`) for `pyve init --dotenv`,
/// when there is none: readable by its owner alone (it is where secrets
/// go), holding only a comment, and only inside the project.
pub fn create_dotenv(root: &Path, file: &Path) -> Result<(), Error> {
    let path = root.join(file);
    if std::fs::symlink_metadata(&path).is_ok() {
        return Ok(());
    }
    files::landing(root, &path)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| crate::error::user(format!("cannot create {}: {e}", path.display())))?;
    std::io::Write::write_all(&mut file, crate::variables::dotenv::NEW_FILE)
        .map_err(|e| crate::error::user(format!("cannot write {}: {e}", path.display())))?;
    done!("created {} (mode 600)", path.display());
    Ok(())
}

/// Fails now if pyve's block in a shared file could not be written later:
/// an unterminated block, a link to nothing or out of the project.
pub fn check_block(root: &Path, path: &Path, body: &str) -> Result<(), Error> {
    files::landing(root, path)?;
    let current = files::read_optional(path)?.unwrap_or_default();
    block::with_block(path, &current, body).map(|_| ())
}

/// Sets pyve's block in a shared file, writing only when it changes.
pub fn update_block(root: &Path, path: &Path, body: &str) -> Result<(), Error> {
    files::landing(root, path)?;
    let current = files::read_optional(path)?;
    let text = current.clone().unwrap_or_default();
    let updated = block::with_block(path, &text, body)?;
    if current.as_deref() != Some(updated.as_slice()) {
        files::write_inside(root, path, &updated)?;
        done!("updated {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitignore_patterns_match_only_the_path() {
        assert_eq!(gitignore_escape(b".venv"), ".venv");
        assert_eq!(gitignore_escape(b"#env"), "\\#env");
        assert_eq!(gitignore_escape(b"e[1]*?"), "e\\[1]\\*\\?");
        assert_eq!(gitignore_escape(b"env "), "env\\ ");
    }

    #[test]
    fn the_block_ignores_environments_and_the_pointer() {
        let body = gitignore_body(Path::new("/p"), Path::new("/p/.venv"), false, false, &[]);
        assert!(body.ends_with("/.venv/\n/.pyve/envs/\n"), "{body}");
        let body = gitignore_body(
            Path::new("/p"),
            Path::new("/p/.pyve/envs/dev"),
            true,
            false,
            &[],
        );
        assert!(body.ends_with("\n/.pyve/envs/\n/.pyve/current\n"), "{body}");
        let body = gitignore_body(
            Path::new("/p"),
            Path::new("/p/.pyve/envs/dev"),
            false,
            true,
            &[],
        );
        assert!(body.ends_with("\n/.pyve/envs/\n/.pyve/bin/\n"), "{body}");
        // Dotenv files inside the project, as written or reached by `..`.
        let dotenv = [
            ".env".into(),
            "conf/../x#.env".into(),
            "/elsewhere/.env".into(),
        ];
        let body = gitignore_body(
            Path::new("/p"),
            Path::new("/p/.venv"),
            false,
            false,
            &dotenv,
        );
        assert!(body.ends_with("/.pyve/envs/\n/.env\n/x#.env\n"), "{body}");
    }
}
