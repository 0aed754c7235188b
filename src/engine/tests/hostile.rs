//! States and directories another party left: an inherited state that no
//! longer holds, one pyve did not seal, no private place for the stamp.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{bin, world, Said, PATH};
use crate::engine::seal::Seal;
use crate::engine::state::{Op, State};
use crate::vars;

/// A child shell (another pid, no stamp yet) whose rc file set PATH
/// outright: the state it inherited says the environment is first on PATH,
/// and it is not; its first run puts it back, once.
#[test]
fn an_inherited_state_that_no_longer_holds_is_applied_again() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    w.enter(&root);
    w.pid = 1;
    w.stamp = None;
    w.set("PATH", PATH);
    let child = w.enter(&root);
    assert_eq!(child.diagnostics, "");
    assert_eq!(child.var("PATH").unwrap(), format!("{}:{PATH}", bin(&root)));
    assert!(child.said.contains(&Said::Rehash));
    let again = w.enter(&root);
    assert_eq!(again.changes(), 0, "{:?}", again.said);
}

/// In the shell that applied it, a PATH the user set by hand inside the
/// project is theirs: the engine does not put the environment back.
#[test]
fn the_users_own_path_edit_in_the_applying_shell_is_kept() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    w.enter(&root);
    assert!(w.stamp.is_some());
    w.set("PATH", "/only/mine");
    let again = w.enter(&root);
    assert_eq!(again.changes(), 0, "{:?}", again.said);
    assert_eq!(again.var("PATH").as_deref(), Some("/only/mine"));
}

/// A well-formed state this pyve did not seal (edited, or another user's
/// key): nothing it names is reverted, and the shell is told once.
#[test]
fn a_state_not_sealed_for_this_user_changes_nothing() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    w.enter(&root);
    let raw = w.vars.0[vars::STATE].clone();
    let mut state = State::decode(raw.as_bytes()).unwrap().state;
    state.ops.push(Op::Set {
        name: "BASH_ENV".into(),
        value: b"x".to_vec(),
        prior: Some(b"/evil".to_vec()),
    });
    state.ops.push(Op::Prepend {
        entry: b"/usr/bin".to_vec(),
    });
    w.set("BASH_ENV", "x");
    let forged = state.encode(&Seal::with_key(&[7; 32]));
    w.set(vars::STATE, forged);
    let outside = w.enter(&w.base.join("elsewhere"));
    assert_eq!(outside.changes(), 0, "{:?}", outside.said);
    assert_eq!(outside.var("BASH_ENV").as_deref(), Some("x"));
    assert!(outside.var("PATH").unwrap().contains("/usr/bin"));
    assert!(
        outside
            .diagnostics
            .contains("PYVE_STATE was not written by this pyve for you"),
        "{}",
        outside.diagnostics
    );
}

/// No directory for the stamp is private: the shell is told once what was
/// refused and what that costs, and the project is still applied.
#[test]
fn without_a_private_stamp_directory_the_shell_is_told_once() {
    use std::os::unix::fs::PermissionsExt;
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    let cache = w.base.join("cache");
    w.set("XDG_CACHE_HOME", &cache);
    for dir in [w.base.join("run/pyve"), cache.join("pyve/run")] {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let out = w.enter(&root);
    assert!(
        out.diagnostics
            .contains("no private directory for this shell's stamp")
            && out.diagnostics.contains("run/pyve: is writable by others")
            && out.diagnostics.contains("pyve/run: is writable by others"),
        "{}",
        out.diagnostics
    );
    assert_eq!(out.diagnostics.lines().count(), 1);
    assert!(out.var("VIRTUAL_ENV").is_some());
    assert!(w.stamp.is_none() || w.stamp.as_deref() == Some(Path::new("")));
}
