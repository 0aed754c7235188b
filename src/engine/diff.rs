//! The environment as the engine changes it: reads fall through to the
//! shell's variables (as the engine was handed them), writes are recorded,
//! and `emit` prints only real differences.

use super::state::Op;
use crate::pathlist;
use crate::shell::Shell;
use crate::vars::{self, Vars};

pub struct Diff<'a> {
    vars: &'a dyn Vars,
    changes: Vec<(String, Option<Vec<u8>>)>,
}

impl<'a> Diff<'a> {
    pub fn new(vars: &'a dyn Vars) -> Diff<'a> {
        Diff {
            vars,
            changes: Vec::new(),
        }
    }

    fn get(&self, name: &str) -> Option<Vec<u8>> {
        match self.changes.iter().find(|(n, _)| n == name) {
            Some((_, value)) => value.clone(),
            None => self.vars.bytes(name),
        }
    }

    fn put(&mut self, name: &str, value: Option<Vec<u8>>) {
        match self.changes.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.changes.push((name.to_owned(), value)),
        }
    }

    /// Undoes `op` only where its effect is still in place.
    pub fn revert(&mut self, op: &Op) {
        match op {
            Op::Prepend { entry } => {
                if let Some(path) = self.get(vars::PATH) {
                    if let Some(path) = pathlist::remove_first(&path, entry) {
                        self.put(vars::PATH, Some(path));
                    }
                }
            }
            Op::Set { name, value, prior } => {
                if self.get(name).as_ref() == Some(value) {
                    self.put(name, prior.clone());
                }
            }
            Op::Unset { name, prior } => {
                if self.get(name).is_none() {
                    self.put(name, Some(prior.clone()));
                }
            }
            // Deactivation scripts are sourced by the shell before this
            // diff is computed (see the engine); nothing to undo here.
            Op::Scripts { .. } => {}
        }
    }

    /// Applies `want`, returning the op to record (with the prior value), or
    /// nothing when there was nothing to do.
    pub fn apply(&mut self, want: &Op) -> Option<Op> {
        match want {
            Op::Prepend { entry } => {
                let current = self.get(vars::PATH).unwrap_or_default();
                let path = pathlist::prepend(&current, entry)?;
                self.put(vars::PATH, Some(path));
                Some(want.clone())
            }
            Op::Set { name, value, .. } => {
                let prior = self.get(name);
                self.put(name, Some(value.clone()));
                Some(Op::Set {
                    name: name.clone(),
                    value: value.clone(),
                    prior,
                })
            }
            Op::Unset { name, .. } => {
                let prior = self.get(name)?;
                self.put(name, None);
                Some(Op::Unset {
                    name: name.clone(),
                    prior,
                })
            }
            Op::Scripts { .. } => Some(want.clone()),
        }
    }

    /// Moves the environment's PATH entries in front of the first version
    /// manager shim directory that precedes them, so a shim never answers
    /// for the environment's `python`. A shell started inside a project
    /// whose rc runs `pyenv init -` puts the shims first again; this undoes
    /// that.
    pub fn ahead_of_shims(&mut self, entries: &[&[u8]]) {
        let Some(path) = self.get(vars::PATH) else {
            return;
        };
        if let Some(moved) = pathlist::ahead_of_shims(&path, entries) {
            self.put(vars::PATH, Some(moved));
        }
    }

    /// Prints the exports and unsets that differ from the shell's
    /// variables. Returns whether PATH changed.
    pub fn emit(&self, shell: &dyn Shell, out: &mut Vec<u8>) -> bool {
        let mut path_changed = false;
        for (name, value) in &self.changes {
            if self.vars.bytes(name) == *value {
                continue;
            }
            path_changed |= name == vars::PATH;
            match value {
                Some(value) => shell.export(out, name, value),
                None => shell.unset(out, name),
            }
        }
        path_changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::Bash;
    use crate::vars::Map;

    fn bash(diff: &Diff) -> String {
        let mut out = Vec::new();
        diff.emit(&Bash, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn revert_is_compare_and_swap() {
        let vars = Map::default()
            .with("PATH", "/mine:/e/bin:/usr/bin")
            .with("VIRTUAL_ENV", "/changed-by-user");
        let mut diff = Diff::new(&vars);
        diff.revert(&Op::Prepend {
            entry: b"/e/bin".to_vec(),
        });
        // The user changed it since: it stays.
        diff.revert(&Op::Set {
            name: "VIRTUAL_ENV".into(),
            value: b"/e".to_vec(),
            prior: None,
        });
        diff.revert(&Op::Unset {
            name: "PYTHONHOME".into(),
            prior: b"/usr".to_vec(),
        });
        assert_eq!(
            bash(&diff),
            "\\builtin export PATH='/mine:/usr/bin'\n\\builtin export PYTHONHOME='/usr'\n"
        );
    }

    #[test]
    fn apply_records_priors_and_emits_only_differences() {
        let vars = Map::default()
            .with("PATH", "/e/bin:/usr/bin")
            .with("X", "same");
        let mut diff = Diff::new(&vars);
        let prepend = Op::Prepend {
            entry: b"/e/bin".to_vec(),
        };
        assert_eq!(diff.apply(&prepend), None, "already on PATH");
        let set = diff.apply(&Op::Set {
            name: "X".into(),
            value: b"same".to_vec(),
            prior: None,
        });
        assert_eq!(
            set,
            Some(Op::Set {
                name: "X".into(),
                value: b"same".to_vec(),
                prior: Some(b"same".to_vec())
            })
        );
        let unset = Op::Unset {
            name: "ABSENT".into(),
            prior: Vec::new(),
        };
        assert_eq!(diff.apply(&unset), None);
        assert_eq!(bash(&diff), "", "nothing differs");
    }
}
