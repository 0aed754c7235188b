//! Where pyve keeps its own files, by the XDG base directory rules, and
//! path arithmetic that must not touch the filesystem.

use std::path::{Component, Path, PathBuf};

use crate::vars::Vars;

/// `$HOME`, when set and not empty.
pub fn home(vars: &dyn Vars) -> Option<PathBuf> {
    vars.non_empty("HOME").map(PathBuf::from)
}

/// An XDG base directory: the variable when it holds an absolute path
/// (the specification says to ignore a relative one), else `$HOME/<rest>`.
fn xdg(vars: &dyn Vars, var: &str, under_home: &str) -> Option<PathBuf> {
    vars.non_empty(var)
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| home(vars).map(|home| home.join(under_home)))
}

/// `$XDG_DATA_HOME`, default `~/.local/share`.
pub fn data_home(vars: &dyn Vars) -> Option<PathBuf> {
    xdg(vars, "XDG_DATA_HOME", ".local/share")
}

/// `$XDG_CONFIG_HOME`, default `~/.config`.
pub fn config_home(vars: &dyn Vars) -> Option<PathBuf> {
    xdg(vars, "XDG_CONFIG_HOME", ".config")
}

/// `$XDG_CACHE_HOME`, default `~/.cache`.
pub fn cache_home(vars: &dyn Vars) -> Option<PathBuf> {
    xdg(vars, "XDG_CACHE_HOME", ".cache")
}

/// `$XDG_STATE_HOME`, default `~/.local/state`.
pub fn state_home(vars: &dyn Vars) -> Option<PathBuf> {
    xdg(vars, "XDG_STATE_HOME", ".local/state")
}

/// Approvals: `$XDG_DATA_HOME/pyve/trust`.
pub fn trust_store(vars: &dyn Vars) -> Option<PathBuf> {
    data_home(vars).map(|dir| dir.join("pyve/trust"))
}

/// Interpreters' answers, remembered: `$XDG_CACHE_HOME/pyve/interpreters`.
pub fn interpreter_cache(vars: &dyn Vars) -> Option<PathBuf> {
    cache_home(vars).map(|dir| dir.join("pyve/interpreters"))
}

/// Whole logs of failed steps: `$XDG_STATE_HOME/pyve/logs`.
pub fn log_dir(vars: &dyn Vars) -> Option<PathBuf> {
    state_home(vars).map(|dir| dir.join("pyve/logs"))
}

/// Where `--bootstrap-to user` puts downloaded tools:
/// `$XDG_DATA_HOME/pyve/bin` (`~/.local/share/pyve/bin`).
pub fn user_tool_dir(vars: &dyn Vars) -> Option<PathBuf> {
    data_home(vars).map(|data| data.join("pyve/bin"))
}

/// Where earlier versions put them, still looked at: `~/.pyve/bin`.
pub fn legacy_user_tool_dir(vars: &dyn Vars) -> Option<PathBuf> {
    home(vars).map(|home| home.join(".pyve/bin"))
}

/// The temporary directory: `$TMPDIR`, else `/tmp`.
pub fn temp_dir(vars: &dyn Vars) -> PathBuf {
    vars.non_empty("TMPDIR")
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
}

/// Where this user's per-session files (the hook's stamps) may go, best
/// first: `$XDG_RUNTIME_DIR/pyve`; without it `$TMPDIR/pyve-<uid>`, which
/// another user can make first in a shared `/tmp`; and last
/// `$XDG_CACHE_HOME/pyve/run`, under the home directory. The first that
/// `files::owner` finds private is used.
pub fn runtime_dirs(vars: &dyn Vars) -> Vec<PathBuf> {
    let runtime = vars
        .non_empty("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute());
    let first = match runtime {
        Some(runtime) => runtime.join("pyve"),
        None => temp_dir(vars).join(format!("pyve-{}", nix::unistd::geteuid().as_raw())),
    };
    let mut dirs = vec![first];
    dirs.extend(cache_home(vars).map(|cache| cache.join("pyve/run")));
    dirs
}

/// `a/./b/../c` as `a/c`, without touching the filesystem (the path may
/// not exist yet).
pub fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vars::Map;

    #[test]
    fn xdg_variables_win_only_when_absolute() {
        let home = Map::default().with("HOME", "/h");
        assert_eq!(data_home(&home), Some(PathBuf::from("/h/.local/share")));
        let set = home.clone().with("XDG_DATA_HOME", "/d");
        assert_eq!(trust_store(&set), Some(PathBuf::from("/d/pyve/trust")));
        let relative = home.clone().with("XDG_CACHE_HOME", "cache");
        assert_eq!(cache_home(&relative), Some(PathBuf::from("/h/.cache")));
        let empty = home.clone().with("XDG_STATE_HOME", "");
        assert_eq!(
            log_dir(&empty),
            Some(PathBuf::from("/h/.local/state/pyve/logs"))
        );
        assert_eq!(data_home(&Map::default().with("HOME", "")), None);
        let runtime = home.clone().with("XDG_RUNTIME_DIR", "/run/u");
        assert_eq!(
            runtime_dirs(&runtime),
            [
                PathBuf::from("/run/u/pyve"),
                PathBuf::from("/h/.cache/pyve/run")
            ]
        );
        let tmp = Map::default().with("TMPDIR", "/t");
        let uid = nix::unistd::geteuid();
        assert_eq!(
            runtime_dirs(&tmp),
            [PathBuf::from(format!("/t/pyve-{uid}"))]
        );
    }

    #[test]
    fn lexical_resolves_dots_only() {
        assert_eq!(lexical(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(lexical(Path::new("a/b/..")), PathBuf::from("a"));
    }
}
