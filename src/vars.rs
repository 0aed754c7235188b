//! Environment variables: the one module that reads them. Everything else
//! is handed a `&dyn Vars`, so what depends on the environment (the
//! engine's decisions above all) is decided on values a test can choose.

use std::ffi::OsString;

/// `PATH`, read and written by activation.
pub const PATH: &str = "PATH";
/// What the hook applied in this shell (see `engine::state`).
pub const STATE: &str = "PYVE_STATE";
/// Exported by the hook script: the process id of the shell that runs
/// the hook, so advice to install it would be wrong there.
pub const HOOK: &str = "PYVE_HOOK";
/// One shell's choice of environment, `NAME:PROJECT` (`pyve use`, kept by
/// the hook's `pyve` function; see `project::shell_choice`).
pub const USE: &str = "PYVE_USE";
/// Set to `1` (CI), `run` and `export` treat every project as approved.
pub const TRUST_ALL: &str = "PYVE_TRUST_ALL";

/// Where variable values come from.
pub trait Vars {
    /// The value of `name`; None when it is not set.
    fn get(&self, name: &str) -> Option<OsString>;

    /// The value as bytes.
    fn bytes(&self, name: &str) -> Option<Vec<u8>> {
        use std::os::unix::ffi::OsStringExt;
        self.get(name).map(OsStringExt::into_vec)
    }

    /// The value, with an empty one counted as unset (`export X=` is how
    /// people clear a variable).
    fn non_empty(&self, name: &str) -> Option<OsString> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// This process's environment.
pub struct Process;

impl Vars for Process {
    fn get(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }
}

/// This process's environment, for the commands that start from it.
pub fn process() -> &'static dyn Vars {
    &Process
}

/// `PYVE_TRUST_ALL=1` (or `true`, `yes`): the user vouches for every
/// project, for `run` and `export` (CI). The hook never reads it.
pub fn trust_all(vars: &dyn Vars) -> bool {
    vars.get(TRUST_ALL).is_some_and(|v| {
        let v = v.to_string_lossy().to_ascii_lowercase();
        matches!(v.as_str(), "1" | "true" | "yes")
    })
}

/// Whether the calling shell runs pyve's hook: `PYVE_HOOK` names this
/// process's parent (the shell that started it: bash and zsh exec a
/// command in place, in a pipeline or `$(…)` too), or a project is
/// applied. A shell without the hook started from one with it inherits
/// the variable, but has another process id.
pub fn hook_installed(vars: &dyn Vars) -> bool {
    let parent = std::os::unix::process::parent_id().to_string();
    vars.get(HOOK).is_some_and(|pid| pid == parent.as_str()) || vars.non_empty(STATE).is_some()
}

/// Whether this runs in CI (`CI` set, as every CI service does, and not
/// `false` or `0`): then nothing local is guessed from.
pub fn in_ci(vars: &dyn Vars) -> bool {
    vars.get("CI")
        .is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A fixed set of variables, for tests.
#[cfg(test)]
#[derive(Default, Clone)]
pub struct Map(pub std::collections::BTreeMap<String, OsString>);

#[cfg(test)]
impl Map {
    pub fn with(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Map {
        self.0.insert(name.to_owned(), value.as_ref().to_owned());
        self
    }
}

#[cfg(test)]
impl Vars for Map {
    fn get(&self, name: &str) -> Option<OsString> {
        self.0.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_read_the_way_users_write_them() {
        for (value, trusted) in [("1", true), ("TRUE", true), ("yes", true), ("0", false)] {
            assert_eq!(trust_all(&Map::default().with(TRUST_ALL, value)), trusted);
        }
        assert!(!trust_all(&Map::default()));
        for (value, ci) in [("true", true), ("1", true), ("", false), ("false", false)] {
            assert_eq!(in_ci(&Map::default().with("CI", value)), ci, "{value:?}");
        }
        assert_eq!(Map::default().with("X", "").non_empty("X"), None);
    }
}
