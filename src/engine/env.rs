//! The environment as the engine changes it: reads fall through to the real
//! environment, writes are recorded, and `emit` prints only real differences.

use std::os::unix::ffi::OsStringExt;

use super::state::Op;
use crate::shell::Shell;

#[derive(Default)]
pub struct Env {
    changes: Vec<(String, Option<Vec<u8>>)>,
}

fn original(name: &str) -> Option<Vec<u8>> {
    std::env::var_os(name).map(|v| v.into_vec())
}

impl Env {
    fn get(&self, name: &str) -> Option<Vec<u8>> {
        match self.changes.iter().find(|(n, _)| n == name) {
            Some((_, value)) => value.clone(),
            None => original(name),
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
                if let Some(path) = self.get("PATH") {
                    if let Some(path) = remove_first(&path, entry) {
                        self.put("PATH", Some(path));
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
                let current = self.get("PATH");
                // Already on PATH (direnv loaded the same `.envrc` values, or
                // the user activated this very environment): nothing to do,
                // and nothing to undo later.
                if let Some(current) = &current {
                    if current.split(|&b| b == b':').any(|e| e == entry.as_slice()) {
                        return None;
                    }
                }
                let mut path = entry.clone();
                if let Some(old) = current.filter(|p| !p.is_empty()) {
                    path.push(b':');
                    path.extend_from_slice(&old);
                }
                self.put("PATH", Some(path));
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
    /// manager shim directory (pyenv's, asdf's, mise's: an entry named
    /// `shims`) that precedes them, so a shim never answers for the
    /// environment's `python`. A shell started inside a project whose rc
    /// runs `pyenv init -` puts the shims first again; this undoes that.
    /// Entries the user put in front by hand stay in front.
    pub fn ahead_of_shims(&mut self, entries: &[&[u8]]) {
        let Some(path) = self.get("PATH") else {
            return;
        };
        let mut elements: Vec<&[u8]> = path.split(|&b| b == b':').collect();
        let Some(shim) = elements.iter().position(|e| is_shims(e)) else {
            return;
        };
        let behind: Vec<&[u8]> = entries
            .iter()
            .copied()
            .filter(|entry| {
                elements
                    .iter()
                    .position(|e| e == entry)
                    .is_some_and(|i| i > shim)
            })
            .collect();
        if behind.is_empty() {
            return;
        }
        for entry in &behind {
            if let Some(index) = elements.iter().position(|e| e == entry) {
                elements.remove(index);
            }
        }
        for (offset, entry) in behind.iter().enumerate() {
            elements.insert(shim + offset, entry);
        }
        let moved = elements.join(&b':');
        self.put("PATH", Some(moved));
    }

    /// Prints the exports and unsets that differ from the real environment.
    /// Returns whether PATH changed.
    pub fn emit(&self, shell: &dyn Shell, out: &mut Vec<u8>) -> bool {
        let mut path_changed = false;
        for (name, value) in &self.changes {
            if original(name) == *value {
                continue;
            }
            path_changed |= name == "PATH";
            match value {
                Some(value) => shell.export(out, name, value),
                None => shell.unset(out, name),
            }
        }
        path_changed
    }
}

fn is_shims(entry: &[u8]) -> bool {
    entry
        .strip_suffix(b"/")
        .unwrap_or(entry)
        .ends_with(b"/shims")
}

/// PATH without the first element equal to `entry`, or None if absent.
fn remove_first(path: &[u8], entry: &[u8]) -> Option<Vec<u8>> {
    let mut elements: Vec<&[u8]> = path.split(|&b| b == b':').collect();
    let index = elements.iter().position(|e| *e == entry)?;
    elements.remove(index);
    Some(elements.join(&b':'))
}

#[cfg(test)]
mod tests {
    use super::{remove_first, Env};

    #[test]
    fn the_environment_goes_ahead_of_shims_and_nothing_else_moves() {
        let cases: [(&str, &str); 5] = [
            (
                "/h/.pyenv/shims:/e/bin:/usr/bin",
                "/e/bin:/h/.pyenv/shims:/usr/bin",
            ),
            (
                "/mine:/h/.asdf/shims:/x:/e/bin",
                "/mine:/e/bin:/h/.asdf/shims:/x",
            ),
            (
                "/e/bin:/h/.pyenv/shims:/usr/bin",
                "/e/bin:/h/.pyenv/shims:/usr/bin",
            ),
            ("/usr/bin:/e/bin", "/usr/bin:/e/bin"),
            ("/m/shims/:/e/bin", "/e/bin:/m/shims/"),
        ];
        for (before, after) in cases {
            let mut env = Env::default();
            env.put("PATH", Some(before.as_bytes().to_vec()));
            env.ahead_of_shims(&[b"/e/bin"]);
            assert_eq!(env.get("PATH").unwrap(), after.as_bytes(), "{before}");
        }
        // Two entries keep their order.
        let mut env = Env::default();
        env.put("PATH", Some(b"/s/shims:/e/bin:/e/condabin".to_vec()));
        env.ahead_of_shims(&[b"/e/bin", b"/e/condabin"]);
        assert_eq!(env.get("PATH").unwrap(), b"/e/bin:/e/condabin:/s/shims");
    }

    #[test]
    fn removes_one_occurrence_in_place() {
        let cases: [(&str, &str, Option<&str>); 7] = [
            ("/e/bin:/usr/bin", "/e/bin", Some("/usr/bin")),
            ("/u:/e/bin:/usr/bin", "/e/bin", Some("/u:/usr/bin")),
            ("/e/bin:/u:/e/bin", "/e/bin", Some("/u:/e/bin")),
            ("/e/bin", "/e/bin", Some("")),
            ("/e/bin::/usr/bin", "/e/bin", Some(":/usr/bin")),
            ("/a:/usr/bin:/e/bin", "/e/bin", Some("/a:/usr/bin")),
            ("/usr/bin", "/e/bin", None),
        ];
        for (path, entry, want) in cases {
            let got = remove_first(path.as_bytes(), entry.as_bytes())
                .map(|v| String::from_utf8(v).unwrap());
            assert_eq!(got.as_deref(), want, "{path} - {entry}");
        }
    }
}
