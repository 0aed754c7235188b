//! Where a project's settings come from, through the commands: none (a
//! Python project with its `.venv`, zero-config), `[tool.pyve]` in
//! pyproject.toml, and the user's config at `~/.config/pyve/config`.

use std::path::PathBuf;

use crate::support::*;

/// A zero-config project: pyproject.toml and a venv made here.
fn zero_config(sb: &Sandbox, rel: &str) -> PathBuf {
    let root = sb.path(rel);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"zed\"\nversion = \"0.1\"\n",
    )
    .unwrap();
    make_venv(&root.join(".venv"));
    root
}

fn user_config(sb: &Sandbox, text: &str) -> PathBuf {
    let dir = sb.home.join(".config/pyve");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config"), text).unwrap();
    dir.join("config")
}

#[test]
fn a_zero_config_project_is_explained_approved_without_a_write_and_run() {
    let sb = Sandbox::new();
    let root = zero_config(&sb, "z");
    let text = stdout(&sb.pyve(&root, &["status"]));
    assert!(text.contains("settings     no pyve config"), "{text}");
    assert!(text.contains("environment  zed at"), "{text}");
    assert!(
        text.contains("`pyve allow` here (nothing is written into the project)"),
        "{text}"
    );
    let json = stdout(&sb.pyve(&root, &["status", "--json"]));
    assert!(json.contains("\"settings\":\"none\""), "{json}");
    let refused = sb.pyve(&root, &["run", "true"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("review the project and run `pyve allow`"),
        "{}",
        stderr(&refused)
    );
    let before: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    sb.pyve_ok(&root, &["allow"]);
    let after: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        before.len(),
        after.len(),
        "allow wrote nothing into the project"
    );
    let out = sb.pyve(&root, &["run", "sh", "-c", "printf %s \"$PYVE_ENV_NAME\""]);
    assert_eq!(stdout(&out), "zed");
    // purge has nothing of pyve's to remove there.
    let purge = sb.pyve(&root, &["purge", "--yes"]);
    assert_eq!(purge.status.code(), Some(1));
    assert!(
        stderr(&purge).contains("nothing to purge"),
        "{}",
        stderr(&purge)
    );
    assert!(root.join(".venv/pyvenv.cfg").exists());
    // Turned off in the user's config, it is no project at all.
    user_config(&sb, "zero_config: false\n");
    let off = sb.pyve(&root, &["status"]);
    assert!(stdout(&off).contains("no pyve project"), "{}", stdout(&off));
}

#[test]
fn tool_pyve_errors_name_pyproject_the_table_the_key_and_the_line() {
    let sb = Sandbox::new();
    let root = sb.path("t");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"t\"\n\n[tool.pyve]\nbackend = \"venv\"\nprompt.show = \"maybe\"\n",
    )
    .unwrap();
    let out = sb.pyve(&root, &["status"]);
    let file = std::fs::canonicalize(&root).unwrap().join("pyproject.toml");
    assert!(
        stdout(&out).contains(&format!(
            "{}:6: [tool.pyve] prompt.show: invalid type: string \"maybe\", expected a boolean",
            file.display()
        )),
        "{}",
        stdout(&out)
    );
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"t\"\n\n[tool.pyve]\nbackend = \n",
    )
    .unwrap();
    let out = sb.pyve(&root, &["status"]);
    assert!(
        stdout(&out).contains(&format!("{}:5:", file.display())),
        "{}",
        stdout(&out)
    );
}

#[test]
fn init_builds_from_tool_pyve_and_never_edits_it() {
    let sb = Sandbox::new();
    let root = sb.path("t");
    std::fs::create_dir_all(&root).unwrap();
    let text = "[project]\nname = \"t\"\nversion = \"0.1\"\n\n[tool.pyve]\nenv_name = \"tee\"\n";
    std::fs::write(root.join("pyproject.toml"), text).unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert_eq!(
        std::fs::read_to_string(root.join("pyproject.toml")).unwrap(),
        text
    );
    assert!(!root.join(".pyve/config").exists());
    let out = sb.pyve(&root, &["run", "sh", "-c", "printf %s \"$PYVE_ENV_NAME\""]);
    assert_eq!(stdout(&out), "tee", "{}", stderr(&out));
    // direnv reloads when the table is edited.
    let direnv = stdout(&sb.pyve(&root, &["export", "direnv"]));
    let watched = format!("watch_file '{}'", root.join("pyproject.toml").display());
    assert!(direnv.contains(&watched), "{direnv}");
    // A flag that would record something: the key to set by hand.
    let out = sb.pyve(&root, &["init", "--no-direnv", "--env-name", "other"]);
    assert_eq!(out.status.code(), Some(1));
    let said = stderr(&out);
    assert!(
        said.contains("which pyve does not edit") && said.contains("env_name = \"other\""),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("pyproject.toml")).unwrap(),
        text
    );
    // Both there: .pyve/config wins, and doctor says so.
    std::fs::write(root.join(".pyve/config"), "env_name: pyve-config\n").unwrap();
    sb.allow(&root);
    let out = sb.pyve(&root, &["run", "sh", "-c", "printf %s \"$PYVE_ENV_NAME\""]);
    assert_eq!(stdout(&out), "pyve-config");
    let doctor = stderr(&sb.pyve(&root, &["doctor"]));
    assert!(
        doctor.contains("has a [tool.pyve] table too, which is not used"),
        "{doctor}"
    );
}

#[test]
fn the_users_config_is_checked_shown_and_applied() {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", "");
    let shared = sb.path("shared");
    std::fs::create_dir_all(&shared).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let path = user_config(
        &sb,
        &format!(
            "prompt:\n  format: \"[{{env_name}}]\"\ntrusted_paths: [\"{}\"]\n",
            shared.display()
        ),
    );
    let out = stdout(&sb.pyve(&root, &["status", "--json"]));
    assert!(out.contains("\"prompt\":\"[p]\""), "{out}");
    assert!(
        out.contains(&format!("\"user_config\":\"{}\"", path.display())),
        "{out}"
    );
    let doctor = stderr(&sb.pyve(&root, &["doctor"]));
    assert!(
        doctor.contains(&format!("{} not trusted", shared.display()))
            && doctor.contains("others can write to it"),
        "{doctor}"
    );
    // Broken: said, and not used.
    user_config(&sb, "prompt:\n  format: 3\ninit:\n  backend: conda\n");
    let out = sb.pyve(&root, &["status"]);
    let said = stderr(&out);
    assert!(
        said.contains(&format!("{}:4", path.display())) && said.contains("not used"),
        "{said}"
    );
    assert!(
        stdout(&out).contains("(venv:p)") || stdout(&out).contains("environment  p at"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_users_init_defaults_apply_where_nothing_else_says() {
    let sb = Sandbox::new();
    user_config(&sb, "init:\n  dependencies: false\n");
    let root = sb.path("app");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("requirements.txt"), "alpha\n").unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(
        !config.contains("dependencies"),
        "nothing recorded: {config}"
    );
    let site = std::fs::read_dir(root.join(".venv/lib"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    assert!(
        !site.join("site-packages/alpha").exists(),
        "nothing installed"
    );
}
