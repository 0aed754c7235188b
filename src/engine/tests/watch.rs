//! The fast path's watch list: what the engine tells the shell to check at
//! a bare Enter.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use super::{world, Outcome, Said};
use crate::shell::protocol;

/// The paths of the check the engine set up for the shell.
fn watched(out: &Outcome) -> Vec<PathBuf> {
    out.said
        .iter()
        .find_map(|s| match s {
            Said::List(n, v) if n == protocol::NEWER => Some(v.clone()),
            _ => None,
        })
        .expect("no watch list")
        .into_iter()
        .map(|p| PathBuf::from(OsString::from_vec(p)))
        .collect()
}

#[test]
fn a_project_without_its_environment_is_watched_not_applied() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    std::fs::remove_dir_all(root.join(".venv")).unwrap();
    let out = w.enter(&root);
    assert_eq!(out.changes(), 0);
    let watched = watched(&out);
    assert!(watched.contains(&root.join(".venv/pyvenv.cfg")));
    assert!(watched.contains(&root));
}

/// Each directory up to the root is watched, and its `.pyve` only where
/// one exists: a `.pyve` made later shows as a change of its directory, so
/// watching one that is not there would cost every prompt for nothing.
#[test]
fn a_pyve_directory_is_watched_only_where_it_exists() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    let deep = root.join("src/deep");
    std::fs::create_dir_all(deep.join(".pyve")).unwrap();
    let out = w.enter(&deep);
    let watched = watched(&out);
    for path in [
        &deep,
        &deep.join(".pyve"),
        &root.join("src"),
        &root,
        &root.join(".pyve"),
    ] {
        assert!(
            watched.contains(path),
            "{} not watched: {watched:?}",
            path.display()
        );
    }
    assert!(!watched.contains(&root.join("src/.pyve")), "{watched:?}");
    assert!(watched.iter().all(|p| p.is_absolute()), "{watched:?}");
}

#[test]
fn dotenv_files_are_watched_or_where_they_will_be_made() {
    let mut w = world();
    let root = w.project("p");
    std::fs::create_dir_all(root.join("conf")).unwrap();
    std::fs::write(
        root.join(".pyve/config"),
        "dotenv: [.env, conf/.env, gone/.env]\n",
    )
    .unwrap();
    w.approve(&root);
    std::fs::write(root.join(".env"), "A=1\n").unwrap();
    let list = watched(&w.enter(&root));
    assert!(list.contains(&root.join(".env")), "{list:?}");
    assert!(list.contains(&root.join("conf")), "{list:?}");
    assert!(!list.contains(&root.join("conf/.env")), "{list:?}");
    assert!(
        !list.iter().any(|p| p.starts_with(root.join("gone"))),
        "{list:?}"
    );
}
