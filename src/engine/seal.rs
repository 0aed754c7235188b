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
use std::path::{Path, PathBuf};

use std::io::Write;

use super::state::{Signature, State};
use super::Run;
use crate::files::{self, owner, owner::Unsafe};
use crate::vars::{self, Vars};
use crate::{digest, paths};

pub struct Seal {
    key: Vec<u8>,
}

/// Why there is no key to seal with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoKey {
    /// None made yet, and none was to be made.
    Missing,
    /// A key, or a place for one, that pyve will not use: which, why, and
    /// the fix.
    Unusable(Unsafe),
}

const KEY_BYTES: usize = 32;

/// The fix for a key file pyve will not use. A new key only costs the
/// shells open now one reset; a key others could read or replace is worse
/// than none.
const REMOVE_KEY: &str =
    "remove it; pyve makes a new one at the next prompt (shells open now are told once to reset)";

impl Seal {
    /// The user's key; made when `create` and there is none yet.
    pub fn open(vars: &dyn Vars, create: bool) -> Result<Seal, NoKey> {
        let Some(home) = paths::data_home(vars) else {
            return Err(NoKey::Unusable(Unsafe {
                path: PathBuf::from("$XDG_DATA_HOME"),
                why: "is not set, and neither is HOME, so pyve has no place for its key".to_owned(),
                fix: "set HOME".to_owned(),
            }));
        };
        let dir = home.join("pyve");
        let file = dir.join("state-key");
        if create {
            owner::private_dir(&dir).map_err(NoKey::Unusable)?;
        } else if std::fs::symlink_metadata(&dir).is_err() {
            return Err(NoKey::Missing);
        } else {
            owner::check_private_dir(&dir).map_err(NoKey::Unusable)?;
        }
        match read(&file) {
            Err(NoKey::Missing) if create => {}
            read => return read,
        }
        make(&dir, &file).map_err(|e| {
            NoKey::Unusable(Unsafe {
                path: file.clone(),
                why: format!("could not be made: {e}"),
                fix: "make its directory writable for yourself".to_owned(),
            })
        })?;
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
        self.key().as_ref().ok()
    }

    /// What is wrong with the key or its place, when there is no key.
    pub(super) fn no_key(&mut self) -> Option<Unsafe> {
        match self.key() {
            Err(NoKey::Unusable(problem)) => Some(problem.clone()),
            _ => None,
        }
    }

    fn key(&mut self) -> &Result<Seal, NoKey> {
        let vars = self.request.vars;
        self.seal.get_or_insert_with(|| Seal::open(vars, true))
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
        let line = match self.no_key() {
            Some(problem) => format!(
                "{} cannot be checked, so pyve changes nothing: its key {problem}",
                vars::STATE
            ),
            None => format!(
                "{} was not written by this pyve for you (edited by hand, another user's, or \
                 from another machine), so pyve does not act on what it says and changes \
                 nothing; open a new terminal, or run `{}` and leave and re-enter the project",
                vars::STATE,
                self.shell().unset_command(vars::STATE)
            ),
        };
        self.told.tell(token, &[line], diagnostics);
        false
    }
}

/// The key in `file`, if it is a regular file of this user's that nobody
/// else can read or write (a key others read, they could seal states with),
/// and of the right length.
fn read(file: &Path) -> Result<Seal, NoKey> {
    use std::os::unix::fs::MetadataExt;
    let unusable = |why: String| {
        NoKey::Unusable(Unsafe {
            path: file.to_owned(),
            why,
            fix: REMOVE_KEY.to_owned(),
        })
    };
    let metadata = match std::fs::symlink_metadata(file) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(NoKey::Missing),
        Err(e) => return Err(unusable(e.to_string())),
    };
    if !metadata.is_file() {
        return Err(unusable("is not a regular file (a link?)".to_owned()));
    }
    if metadata.uid() != nix::unistd::geteuid().as_raw() {
        return Err(unusable("belongs to another user".to_owned()));
    }
    let mode = metadata.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(unusable(format!(
            "can be read or written by others (mode {mode:04o}), and whoever reads the key can \
             seal states"
        )));
    }
    let key = files::read_bounded(file, KEY_BYTES as u64).map_err(|e| unusable(e.to_string()))?;
    if key.len() != KEY_BYTES {
        return Err(unusable(format!(
            "holds {} bytes, not a key of {KEY_BYTES}",
            key.len()
        )));
    }
    Ok(Seal { key })
}

/// Makes the key file whole or not at all: written beside it, then linked
/// into place, so two shells starting at once agree on one key.
fn make(dir: &Path, file: &Path) -> std::io::Result<()> {
    let mut key = [0u8; KEY_BYTES];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    let temporary = dir.join(format!(".state-key.{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    files::replace(&temporary, &key, 0o600)?;
    let linked = std::fs::hard_link(&temporary, file);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        // Another shell made it first: that key is the one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        linked => linked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vars::Map;

    #[test]
    fn the_key_is_made_once_and_kept_private() {
        let home = tempfile::tempdir().unwrap();
        let vars = Map::default().with("XDG_DATA_HOME", home.path());
        assert_eq!(Seal::open(&vars, false).err(), Some(NoKey::Missing));
        let made = Seal::open(&vars, true).unwrap();
        let again = Seal::open(&vars, false).unwrap();
        assert_eq!(made.mac(b"x"), again.mac(b"x"));
        assert_eq!(made.mac(b"x").len(), 32);
        let file = home.path().join("pyve/state-key");
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        let unusable = |create| match Seal::open(&vars, create) {
            Err(NoKey::Unusable(problem)) => problem.to_string(),
            other => panic!("{:?}", other.map(|_| "a key")),
        };
        // Named, with why and the fix; never replaced behind the user's back.
        for create in [false, true] {
            let said = unusable(create);
            assert!(
                said.contains("pyve/state-key: can be read or written by others (mode 0644)"),
                "{said}"
            );
            assert!(said.contains("remove it; pyve makes a new one"), "{said}");
        }
        std::fs::remove_file(&file).unwrap();
        std::fs::write(&file, "short").unwrap();
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        assert!(unusable(true).contains("holds 5 bytes, not a key of 32"));
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink(home.path().join("elsewhere"), &file).unwrap();
        assert!(unusable(true).contains("is not a regular file"));
        std::fs::remove_file(&file).unwrap();
        let fresh = Seal::open(&vars, true).unwrap();
        assert_ne!(fresh.mac(b"x"), made.mac(b"x"), "a new key once removed");
    }
}
