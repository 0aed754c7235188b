//! Where a project's settings come from: `[tool.pyve]` in pyproject.toml,
//! or none at all (a Python project with its `.venv`, zero-config), and
//! the user's config (trusted paths, zero-config off, the prompt).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{world, World};
use crate::trust::{EnvRef, Store, Subject};

/// A uv project: pyproject.toml and a `.venv` made here, no pyve settings.
fn uv_project(w: &World, name: &str, pyproject: &str) -> PathBuf {
    let root = w.base.join(name);
    std::fs::create_dir_all(root.join(".venv/bin")).unwrap();
    std::fs::write(root.join("pyproject.toml"), pyproject).unwrap();
    std::fs::write(root.join(".venv/pyvenv.cfg"), "home = /usr/bin\n").unwrap();
    root
}

/// Approves the project with `settings` as the approved bytes (what
/// `pyve allow` records for its source).
fn approve_as(w: &World, root: &Path, settings: &[u8]) {
    let env = EnvRef {
        dir: root.join(".venv"),
        marker: root.join(".venv/pyvenv.cfg"),
    };
    Store::new(&w.vars)
        .grant(
            &Subject {
                project: root,
                config: settings,
                envs: std::slice::from_ref(&env),
            },
            None,
        )
        .unwrap();
}

fn user_config(w: &World, text: &str) {
    let dir = w.base.join("home/.config/pyve");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config"), text).unwrap();
}

#[test]
fn a_uv_project_is_silent_until_approved_then_activates_with_its_name() {
    let mut w = world();
    let root = uv_project(&w, "app", "[project]\nname = \"my-app\"\n");
    let before = w.enter(&root);
    assert_eq!(before.diagnostics, "", "silent");
    assert_eq!(before.var("VIRTUAL_ENV"), None);
    approve_as(&w, &root, b"");
    let inside = w.enter(&root);
    assert_eq!(inside.diagnostics, "");
    assert_eq!(
        inside.var("VIRTUAL_ENV"),
        Some(root.join(".venv").display().to_string())
    );
    assert_eq!(inside.var("PYVE_ENV_NAME").as_deref(), Some("my-app"));
    assert_eq!(inside.prompt(), Some(&b"(venv:my-app)"[..]));
    let outside = w.enter(&w.base.join("elsewhere"));
    assert_eq!(outside.var("VIRTUAL_ENV"), None);
    // Nothing was written into the project.
    assert!(!root.join(".pyve").exists());
}

#[test]
fn a_venv_from_another_machine_or_no_python_project_is_not_one() {
    let mut w = world();
    let root = uv_project(&w, "app", "[project]\nname = \"x\"\n");
    std::fs::write(root.join(".venv/pyvenv.cfg"), "home = /nonexistent/bin\n").unwrap();
    approve_as(&w, &root, b"");
    assert_eq!(w.enter(&root).var("VIRTUAL_ENV"), None);
    let bare = w.base.join("bare");
    std::fs::create_dir_all(bare.join(".venv")).unwrap();
    std::fs::write(bare.join(".venv/pyvenv.cfg"), "home = /usr/bin\n").unwrap();
    approve_as(&w, &bare, b"");
    assert_eq!(w.enter(&bare).var("VIRTUAL_ENV"), None);
    // requirements.txt makes it a Python project too.
    std::fs::write(bare.join("requirements.txt"), "").unwrap();
    assert!(w.enter(&bare).var("VIRTUAL_ENV").is_some());
}

#[test]
fn a_trusted_path_approves_what_is_under_it_unless_others_can_write_it() {
    let mut w = world();
    let work = w.base.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let root = uv_project(&w, "work/app", "[project]\nname = \"app\"\n");
    user_config(&w, &format!("trusted_paths: [{}]\n", work.display()));
    assert!(w.enter(&root).var("VIRTUAL_ENV").is_some(), "trusted");
    w.enter(&w.base.join("elsewhere"));
    std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o777)).unwrap();
    // A new config fingerprint, as after any edit of it.
    user_config(&w, &format!("trusted_paths:\n  - {}\n", work.display()));
    let refused = w.enter(&root);
    assert_eq!(
        refused.var("VIRTUAL_ENV"),
        None,
        "a prefix others can write"
    );
    std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A denial stands under a trusted path.
    Store::new(&w.vars).deny(&root).unwrap();
    assert_eq!(w.enter(&root).var("VIRTUAL_ENV"), None);
}

#[test]
fn zero_config_off_in_the_users_config_turns_recognition_off() {
    let mut w = world();
    let root = uv_project(&w, "app", "[project]\nname = \"app\"\n");
    approve_as(&w, &root, b"");
    user_config(
        &w,
        "zero_config: false\nprompt:\n  format: \"<{env_name}>\"\n",
    );
    assert_eq!(w.enter(&root).var("VIRTUAL_ENV"), None);
    // The user's prompt format applies to projects that set none.
    let other = w.project("p");
    w.approve(&other);
    assert_eq!(w.enter(&other).prompt(), Some(&b"<p>"[..]));
}

#[test]
fn a_broken_user_config_is_told_once_and_not_used() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    user_config(&w, "prompt:\n  format: \"{nope}\"\n");
    let inside = w.enter(&root);
    assert!(
        inside.diagnostics.contains("unknown placeholder")
            && inside.diagnostics.contains("not used"),
        "{}",
        inside.diagnostics
    );
    assert_eq!(inside.prompt(), Some(&b"(venv:p)"[..]));
}

#[test]
fn tool_pyve_drives_activation_and_only_its_edits_need_approval() {
    let mut w = world();
    let root = uv_project(
        &w,
        "t",
        "[project]\nname = \"t\"\n\n[tool.pyve]\nenv_name = \"tee\"\n\n[tool.pyve.env]\nA = \"1\"\n",
    );
    let table =
        crate::config::source::approved_bytes(&root, crate::config::Source::Pyproject).unwrap();
    approve_as(&w, &root, &table);
    let inside = w.enter(&root);
    assert_eq!(inside.diagnostics, "");
    assert_eq!(inside.var("PYVE_ENV_NAME").as_deref(), Some("tee"));
    assert_eq!(inside.var("A").as_deref(), Some("1"));
    // Dependencies edited: still approved, nothing said.
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"t\"\ndependencies = [\"requests\"]\n\n[tool.pyve]\nenv_name = \"tee\"\n\n[tool.pyve.env]\nA = \"1\"\n",
    )
    .unwrap();
    let edited = w.enter(&root);
    assert_eq!(edited.diagnostics, "");
    assert_eq!(edited.var("A").as_deref(), Some("1"));
    // [tool.pyve] edited: held back, with the key named.
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"t\"\n\n[tool.pyve]\nenv_name = \"tee\"\n\n[tool.pyve.env]\nA = \"2\"\n",
    )
    .unwrap();
    let changed = w.enter(&root);
    assert_eq!(changed.var("A"), None);
    assert!(
        changed
            .diagnostics
            .contains("[tool.pyve] in pyproject.toml changed since you approved it (key env.A)"),
        "{}",
        changed.diagnostics
    );
}

#[test]
fn pyve_config_wins_over_tool_pyve() {
    let mut w = world();
    let root = w.project("both");
    std::fs::write(
        root.join("pyproject.toml"),
        "[tool.pyve]\nenv_name = \"from-toml\"\n",
    )
    .unwrap();
    w.approve(&root);
    assert_eq!(w.enter(&root).var("PYVE_ENV_NAME").as_deref(), Some("both"));
}

#[test]
fn a_venv_inside_a_project_with_settings_does_not_take_over() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    let docs = root.join("docs");
    std::fs::create_dir_all(docs.join(".venv/bin")).unwrap();
    std::fs::write(docs.join("requirements.txt"), "sphinx\n").unwrap();
    std::fs::write(docs.join(".venv/pyvenv.cfg"), "home = /usr/bin\n").unwrap();
    approve_as(&w, &docs, b"");
    w.enter(&root);
    let inside = w.enter(&docs);
    assert_eq!(
        inside.var("VIRTUAL_ENV"),
        Some(root.join(".venv").display().to_string())
    );
}

#[test]
fn a_trusted_path_does_not_vouch_for_a_venv_the_repository_tracks() {
    let mut w = world();
    let work = w.base.join("work");
    let root = uv_project(&w, "work/cloned", "[project]\nname = \"cloned\"\n");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "-f", ".venv", "pyproject.toml"]);
    git(&["commit", "-qm", "ships its venv"]);
    user_config(&w, &format!("trusted_paths: [{}]\n", work.display()));
    assert_eq!(w.enter(&root).var("VIRTUAL_ENV"), None);
    // Made here instead (git tracks none of it): trusted.
    git(&["rm", "-rq", "--cached", ".venv"]);
    git(&["commit", "-qm", "no venv"]);
    w.enter(&w.base.join("elsewhere"));
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"cloned\"\n\n",
    )
    .unwrap();
    assert!(w.enter(&root).var("VIRTUAL_ENV").is_some());
}
