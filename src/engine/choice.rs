//! One shell's choice of environment (`pyve use NAME`): `PYVE_USE` names
//! an environment of one project. Inside that project the engine resolves
//! it instead of the project's active one; anywhere else the choice has
//! ended, and the engine unsets it, so leaving the project reverts it.

use std::path::Path;

use crate::project;
use crate::shell::Shell;
use crate::vars::{self, Vars};

/// Reads this shell's choice at the start of a run: the environment it
/// chose for the project at `root`, if any; a choice about another
/// project (or none here) is unset in the output.
pub(super) fn begin(
    vars: &dyn Vars,
    root: Option<&Path>,
    shell: &dyn Shell,
    out: &mut Vec<u8>,
) -> Option<String> {
    match Choice::read(vars, root) {
        Choice::Here(name) => Some(name),
        Choice::Ended => {
            shell.unset(out, vars::USE);
            None
        }
        Choice::None => None,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Choice {
    /// This shell made none.
    None,
    /// The environment this shell uses in the project here.
    Here(String),
    /// A choice made in another project: it ends on leaving that one.
    Ended,
}

impl Choice {
    /// What `PYVE_USE` means for the project at `root` (None: no project
    /// here). The value holds the project's real path; the shell's may
    /// pass through a link, which is resolved only then.
    pub fn read(vars: &dyn Vars, root: Option<&Path>) -> Choice {
        let Some(value) = vars.bytes(vars::USE).filter(|v| !v.is_empty()) else {
            return Choice::None;
        };
        let Some(root) = root else {
            return Choice::Ended;
        };
        if let Some(name) = project::shell_choice(&value, root) {
            return Choice::Here(name.to_owned());
        }
        std::fs::canonicalize(root)
            .ok()
            .and_then(|real| project::shell_choice(&value, &real).map(str::to_owned))
            .map_or(Choice::Ended, Choice::Here)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vars::Map;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn a_choice_holds_in_its_project_only() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        let project = real.join("p");
        std::fs::create_dir_all(project.join("sub")).unwrap();
        let link = real.join("link");
        std::os::unix::fs::symlink(&project, &link).unwrap();
        let value = project::shell_choice_value("staging", &project);
        let vars = Map::default().with(vars::USE, std::ffi::OsStr::from_bytes(&value));
        let here = Choice::Here("staging".into());
        assert_eq!(Choice::read(&vars, Some(&project)), here);
        assert_eq!(Choice::read(&vars, Some(&link)), here, "through a link");
        assert_eq!(Choice::read(&vars, Some(&real)), Choice::Ended);
        assert_eq!(Choice::read(&vars, None), Choice::Ended);
        assert_eq!(Choice::read(&Map::default(), Some(&project)), Choice::None);
        let empty = Map::default().with(vars::USE, "");
        assert_eq!(Choice::read(&empty, Some(&project)), Choice::None);
    }

    /// Any path makes one line of text that names it and nothing else.
    #[test]
    fn the_value_is_one_line_for_any_path() {
        let odd = Path::new(std::ffi::OsStr::from_bytes(b"/p/a%41\n\xff:x\n"));
        let value = project::shell_choice_value("prod", odd);
        assert_eq!(value, b"prod:/p/a%2541%0A%FF:x%0A");
        assert_eq!(project::shell_choice(&value, odd), Some("prod"));
        let near = Path::new(std::ffi::OsStr::from_bytes(b"/p/aA\n\xff:x\n"));
        assert_eq!(project::shell_choice(&value, near), None);
        assert_eq!(project::shell_choice(b":/p", Path::new("/p")), None);
    }
}
