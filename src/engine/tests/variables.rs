//! The project's own variables (`env:`, dotenv files): applied with the
//! environment, reverted by compare-and-swap, read again when a dotenv
//! file changes, refused when a dotenv file sets what it may not.

use std::path::Path;

use super::{world, World, PATH};

fn configure(w: &World, root: &Path, config: &str) {
    std::fs::write(root.join(".pyve/config"), config).unwrap();
    w.approve(root);
}

#[test]
fn env_and_dotenv_values_are_applied_and_reverted() {
    let mut w = world();
    let root = w.project("p");
    configure(
        &w,
        &root,
        "env:\n  A: \"$PROJECT_ROOT/a\"\n  LIST: \"x:$LIST\"\n  PATH: \"$PROJECT_ROOT/bin:$PATH\"\ndotenv: true\n",
    );
    std::fs::write(root.join(".env"), "B='one\ntwo'\nA=overridden\n").unwrap();
    w.set("LIST", "mine");
    let inside = w.enter(&root);
    assert_eq!(inside.diagnostics, "");
    let root_text = root.display().to_string();
    assert_eq!(inside.var("A"), Some(format!("{root_text}/a")));
    assert_eq!(inside.var("B").as_deref(), Some("one\ntwo"));
    assert_eq!(inside.var("LIST").as_deref(), Some("x:mine"));
    assert_eq!(
        inside.var("PATH"),
        Some(format!("{root_text}/bin:{root_text}/.venv/bin:{PATH}"))
    );
    let outside = w.enter(&w.base.join("elsewhere"));
    assert_eq!(outside.var("A"), None);
    assert_eq!(outside.var("B"), None);
    assert_eq!(outside.var("LIST").as_deref(), Some("mine"));
    assert_eq!(outside.var("PATH").as_deref(), Some(PATH));
}

#[test]
fn an_edited_dotenv_file_is_read_again_without_a_new_approval() {
    let mut w = world();
    let root = w.project("p");
    configure(&w, &root, "dotenv: [.env, .env.local]\n");
    std::fs::write(root.join(".env"), "A=1\n").unwrap();
    assert_eq!(w.enter(&root).var("A").as_deref(), Some("1"));
    assert_eq!(w.enter(&root).changes(), 0);
    std::fs::write(root.join(".env"), "A=22\n").unwrap();
    let edited = w.enter(&root);
    assert_eq!(edited.diagnostics, "");
    assert_eq!(edited.var("A").as_deref(), Some("22"));
    // Only A changed (and the state that records it).
    assert_eq!(edited.changes(), 2, "{:?}", edited.said);
    // A file listed but missing sets nothing until it is made.
    std::fs::write(root.join(".env.local"), "A=3\nB=4\n").unwrap();
    let made = w.enter(&root);
    assert_eq!(made.var("A").as_deref(), Some("3"));
    assert_eq!(made.var("B").as_deref(), Some("4"));
    std::fs::remove_file(root.join(".env.local")).unwrap();
    let removed = w.enter(&root);
    assert_eq!(removed.var("A").as_deref(), Some("22"));
    assert_eq!(removed.var("B"), None);
}

#[test]
fn a_value_changed_inside_survives_leaving() {
    let mut w = world();
    let root = w.project("p");
    configure(&w, &root, "env:\n  A: pyve\n");
    w.enter(&root);
    w.set("A", "mine");
    let outside = w.enter(&w.base.join("elsewhere"));
    assert_eq!(outside.var("A").as_deref(), Some("mine"));
}

#[test]
fn a_dotenv_file_that_sets_bash_env_keeps_the_project_inactive() {
    let mut w = world();
    let root = w.project("p");
    configure(&w, &root, "dotenv: true\n");
    std::fs::write(root.join(".env"), "OK=1\nBASH_ENV=/tmp/evil\n").unwrap();
    let inside = w.enter(&root);
    assert_eq!(inside.var("VIRTUAL_ENV"), None);
    assert_eq!(inside.var("OK"), None);
    assert_eq!(inside.var("BASH_ENV"), None);
    let env_file = root.join(".env").display().to_string();
    assert!(
        inside.diagnostics.contains(&format!(
            "pyve: {env_file}:2: BASH_ENV: a dotenv file may not set BASH_ENV"
        )),
        "{}",
        inside.diagnostics
    );
    assert!(inside.diagnostics.contains("environment not activated"));
    // Fixed, it activates without a new approval.
    std::fs::write(root.join(".env"), "OK=1\n").unwrap();
    let fixed = w.enter(&root);
    assert_eq!(fixed.var("OK").as_deref(), Some("1"));
    assert!(fixed.var("VIRTUAL_ENV").is_some());
}

#[test]
fn a_dotenv_file_another_user_could_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let mut w = world();
    let root = w.project("p");
    configure(&w, &root, "dotenv: true\n");
    std::fs::write(root.join(".env"), "A=1\n").unwrap();
    std::fs::set_permissions(root.join(".env"), std::fs::Permissions::from_mode(0o666)).unwrap();
    let inside = w.enter(&root);
    assert_eq!(inside.var("A"), None);
    assert!(
        inside.diagnostics.contains("environment not activated"),
        "{}",
        inside.diagnostics
    );
}

#[test]
fn changing_env_in_the_config_needs_a_new_approval() {
    let mut w = world();
    let root = w.project("p");
    configure(&w, &root, "env:\n  A: \"1\"\n");
    assert_eq!(w.enter(&root).var("A").as_deref(), Some("1"));
    std::fs::write(root.join(".pyve/config"), "env:\n  A: \"2\"\n").unwrap();
    let changed = w.enter(&root);
    assert_eq!(changed.var("A"), None);
    assert!(
        changed.diagnostics.contains("changed"),
        "{}",
        changed.diagnostics
    );
}

#[test]
fn a_refused_dotenv_file_is_watched_and_each_new_problem_told() {
    let mut w = world();
    w.keep_told = true;
    let root = w.project("p");
    configure(&w, &root, "dotenv: true\n");
    std::fs::write(root.join(".env"), "BASH_ENV=/tmp/evil\n").unwrap();
    let first = w.enter(&root);
    assert!(
        first.diagnostics.contains("BASH_ENV"),
        "{}",
        first.diagnostics
    );
    let watched = first.said.iter().any(|s| match s {
        super::Said::List(name, paths) if name == crate::shell::protocol::NEWER => paths
            .iter()
            .any(|p| p.as_slice() == root.join(".env").as_os_str().as_encoded_bytes()),
        _ => false,
    });
    assert!(watched, "{:?}", first.said);
    // Told once per version of the file.
    assert_eq!(w.enter(&root).diagnostics, "");
    std::fs::write(root.join(".env"), "OK=1\nLD_PRELOAD=/tmp/x.so\n").unwrap();
    let second = w.enter(&root);
    assert!(
        second.diagnostics.contains("LD_PRELOAD"),
        "{}",
        second.diagnostics
    );
}
