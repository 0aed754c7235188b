//! `pyve status`: the project here, its environment and Python, the
//! approval, and whether this shell's hook or direnv has it active, read
//! from a real shell with the hook and from real direnv.

use std::path::Path;

use crate::per_shell;
use crate::support::*;

/// A JSON object's top-level `"key":value` as text (strings keep quotes);
/// the suite has no JSON parser and the output is one flat object.
fn field(json: &str, key: &str) -> String {
    let start = json
        .find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("no {key} in {json}"))
        + key.len()
        + 3;
    let rest = &json[start..];
    let end = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"').unwrap() + 2
    } else {
        rest.find([',', '}']).unwrap()
    };
    rest[..end].to_owned()
}

fn status_json(sb: &Sandbox, dir: &Path) -> (i32, String) {
    let out = sb.pyve(dir, &["status", "--json"]);
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn outside_a_project_status_says_so_and_succeeds() {
    let sb = Sandbox::new();
    let dir = sb.path("tmp");
    let (code, json) = status_json(&sb, &dir);
    assert_eq!(code, 0);
    assert_eq!(field(&json, "project"), "null");
    assert_eq!(field(&json, "hook_active"), "false");
    let out = sb.pyve(&dir, &["status"]);
    assert!(stdout(&out).starts_with("no pyve project in "));
}

#[test]
fn status_reports_the_environment_python_and_approval() {
    let sb = Sandbox::new();
    let root = sb.venv_project("proj", "env_name: web\n");
    let sub = root.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let (code, json) = status_json(&sb, &sub);
    assert_eq!(code, 0, "{json}");
    assert_eq!(field(&json, "project"), format!("\"{}\"", root.display()));
    assert_eq!(field(&json, "backend"), "\"venv\"");
    assert_eq!(field(&json, "environment"), "\"web\"");
    assert_eq!(field(&json, "named"), "null");
    assert_eq!(
        field(&json, "environment_path"),
        format!("\"{}\"", root.join(".venv").display())
    );
    assert_eq!(field(&json, "environment_exists"), "true");
    assert_eq!(
        field(&json, "python"),
        format!("\"{}\"", system_python_version())
    );
    assert_eq!(field(&json, "prompt"), "\"(venv:web)\"");
    assert_eq!(field(&json, "trusted"), "true");
    assert_eq!(field(&json, "trust"), "\"approved by you\"");
    assert_eq!(field(&json, "hook_active"), "false");
    assert_eq!(field(&json, "direnv_active"), "false");
    assert_eq!(field(&json, "problem"), "null");

    // An edit not approved yet: reported, nothing run, still exit 0.
    std::fs::write(root.join(".pyve/config"), "env_name: api\n").unwrap();
    let (code, json) = status_json(&sb, &root);
    assert_eq!(code, 0);
    assert_eq!(field(&json, "trusted"), "false");
    assert!(
        field(&json, "trust").contains("changed since you approved it"),
        "{json}"
    );
    let human = String::from_utf8(sb.pyve(&root, &["status"]).stdout).unwrap();
    assert!(
        human.contains("\napproved     no: .pyve/config changed"),
        "{human}"
    );

    // A broken config: the problem, and exit 1.
    std::fs::write(root.join(".pyve/config"), "prompt: [\n").unwrap();
    let (code, json) = status_json(&sb, &root);
    assert_eq!(code, 1);
    assert!(field(&json, "problem").contains(".pyve/config"), "{json}");

    // Not created yet.
    let empty = sb.project("empty", "");
    let (_, json) = status_json(&sb, &empty);
    assert_eq!(field(&json, "environment_exists"), "false");
    assert_eq!(field(&json, "python"), "null");
}

per_shell!(status_sees_the_hook_that_applied_the_project, |sh: Sh| {
    let sb = Sandbox::new();
    let root = sb.venv_project("hooked", "");
    let other = sb.venv_project("other", "");
    let status = |dir: &Path| {
        format!(
            "{}\n{}\n{} status --json\n",
            cd(sh, dir),
            sh.prompt(),
            sh.q(&pyve_bin())
        )
    };
    let out = sb.script_ok(
        sh,
        &(status(&root) + &status(&other) + &status(&sb.path("tmp"))),
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(field(&lines[0], "hook_active"), "true", "{}", lines[0]);
    // Moving on: the other project is the one the hook applied now.
    assert_eq!(field(&lines[1], "hook_active"), "true");
    assert_eq!(
        field(&lines[1], "project"),
        format!("\"{}\"", other.display())
    );
    assert_eq!(field(&lines[2], "hook_active"), "false");
});

#[test]
fn status_sees_direnv_that_loaded_the_project() {
    let sb = Sandbox::new();
    let root = sb.path("viadirenv");
    std::fs::create_dir_all(&root).unwrap();
    sb.pyve_ok(&root, &["init"]);
    let allowed = sb
        .command("direnv")
        .current_dir(&root)
        .args(["allow", "."])
        .output()
        .unwrap();
    assert!(allowed.status.success());
    let out = sb.script_ok(
        Sh::Bash,
        &format!(
            "eval \"$(direnv hook bash)\"\n{}\n_direnv_hook 2>/dev/null\npyve status --json",
            cd(Sh::Bash, &root)
        ),
    );
    let json = String::from_utf8(out.stdout).unwrap();
    assert_eq!(field(&json, "direnv_active"), "true", "{json}");
    assert_eq!(field(&json, "hook_active"), "false", "{json}");
}
