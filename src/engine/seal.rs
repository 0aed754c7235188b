//! The per-user key that seals `PYVE_STATE`: the engine acts on a state
//! (reverts what it says was applied, sources its deactivation scripts)
//! only when this pyve wrote it for this user. A state made by hand, by
//! another user, or by a program that wants `BASH_ENV` exported or
//! `/usr/bin` removed from PATH carries no valid MAC.
//!
//! The key is 32 random bytes in `$XDG_DATA_HOME/pyve/state-key`, mode
//! 0600 in a directory of this user's alone, made on first use. It is read
//! only when the engine changes something: the nothing-to-do call, and a
//! bare Enter, never touch it.

use std::io::Read;
use std::path::PathBuf;

use std::io::Write;

use super::state::{Signature, State};
use super::Run;
use crate::files::{self, owner};
use crate::vars::{self, Vars};
use crate::{digest, paths};

pub struct Seal {
    key: Vec<u8>,
}

const KEY_BYTES: usize = 32;

impl Seal {
    /// The user's key; made when `create` and there is none yet. None when
    /// there is no safe place for one (no HOME, a directory others can
    /// write, a key file that is not this user's alone).
    pub fn open(vars: &dyn Vars, create: bool) -> Option<Seal> {
        let dir = paths::data_home(vars)?.join("pyve");
        let file = dir.join("state-key");
        if create {
            owner::private_dir(&dir).ok()?;
        } else {
            owner::check_private_dir(&dir).ok()?;
        }
        if let Some(seal) = read(&file) {
            return Some(seal);
        }
        if !create {
            return None;
        }
        make(&dir, &file)?;
        read(&file)
    }

    /// A seal with a known key, for tests.
    #[cfg(test)]
    pub fn with_key(key: &[u8]) -> Seal {
        Seal { key: key.to_vec() }
    }

    /// The MAC of `body`: the first 128 bits of HMAC-SHA256, in hex.
    pub fn mac(&self, body: &[u8]) -> String {
        let mut mac = digest::hmac(&self.key, body);
        mac.truncate(32);
        mac
    }
}

impl Run<'_> {
    /// The user's key, read (or made) once.
    pub(super) fn seal(&mut self) -> Option<&Seal> {
        let vars = self.request.vars;
        self.seal
            .get_or_insert_with(|| Seal::open(vars, true))
            .as_ref()
    }

    /// Whether this pyve sealed the state for this user; if not, it changes
    /// nothing and says so once, as for a corrupt one.
    pub(super) fn sealed(
        &mut self,
        signature: &Signature,
        state: &Option<State>,
        diagnostics: &mut dyn Write,
    ) -> bool {
        if self.seal().is_some_and(|seal| signature.sealed_by(seal)) {
            return true;
        }
        let facts = state.as_ref().map(|s| &s.facts);
        let token = format!("seal:{}", facts.map_or("", |f| f.config_fp.as_str())).into_bytes();
        let clear = self.shell().unset_command(vars::STATE);
        let line = format!(
            "{} was not written by this pyve for you (edited by hand, another user's, or from \
             another machine), so pyve does not act on what it says and changes nothing; open a \
             new terminal, or run `{clear}` and leave and re-enter the project",
            vars::STATE
        );
        self.told.tell(token, &[line], diagnostics);
        false
    }
}

fn read(file: &PathBuf) -> Option<Seal> {
    use std::os::unix::fs::MetadataExt;
    // Nobody else may write it, nor read it (a key others read, they
    // could seal states with).
    let unreadable = std::fs::symlink_metadata(file).is_ok_and(|m| m.mode() & 0o077 == 0);
    if !owner::is_private_file(file) || !unreadable {
        return None;
    }
    let key = files::read_bounded(file, KEY_BYTES as u64).ok()?;
    (key.len() == KEY_BYTES).then_some(Seal { key })
}

/// Makes the key file whole or not at all: written beside it, then linked
/// into place, so two shells starting at once agree on one key.
fn make(dir: &std::path::Path, file: &PathBuf) -> Option<()> {
    let mut key = [0u8; KEY_BYTES];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut key))
        .ok()?;
    let temporary = dir.join(format!(".state-key.{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    files::replace(&temporary, &key, 0o600).ok()?;
    let _ = std::fs::hard_link(&temporary, file);
    let _ = std::fs::remove_file(&temporary);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vars::Map;

    #[test]
    fn the_key_is_made_once_and_kept_private() {
        let home = tempfile::tempdir().unwrap();
        let vars = Map::default().with("XDG_DATA_HOME", home.path());
        assert!(Seal::open(&vars, false).is_none(), "none until made");
        let made = Seal::open(&vars, true).unwrap();
        let again = Seal::open(&vars, false).unwrap();
        assert_eq!(made.mac(b"x"), again.mac(b"x"));
        assert_eq!(made.mac(b"x").len(), 32);
        let file = home.path().join("pyve/state-key");
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        assert!(
            Seal::open(&vars, false).is_none(),
            "a key others may read is no key"
        );
    }
}
