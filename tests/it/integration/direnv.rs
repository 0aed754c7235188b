//! The `.envrc` that `pyve init` writes, loaded by real direnv, alone and
//! beside the pyve hook.

use std::path::{Path, PathBuf};

use crate::per_shell;
use crate::support::*;

/// A project made by `pyve init`, with its `.envrc` allowed.
fn allowed_project(sb: &Sandbox, rel: &str) -> PathBuf {
    let root = sb.path(rel);
    std::fs::create_dir_all(&root).unwrap();
    sb.pyve_ok(&root, &["init"]);
    direnv(sb, &root, &["allow", "."]);
    root
}

fn direnv(sb: &Sandbox, dir: &Path, args: &[&str]) -> std::process::Output {
    let out = sb
        .command("direnv")
        .current_dir(dir)
        .env("PWD", dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "direnv {args:?}: {}", stderr(&out));
    out
}

#[test]
fn direnv_exec_runs_in_the_environment() {
    let sb = Sandbox::new();
    let root = allowed_project(&sb, "envrc");
    let out = direnv(
        &sb,
        &sb.path("."),
        &[
            "exec",
            root.to_str().unwrap(),
            "python",
            "-c",
            "import sys; print(sys.prefix)",
        ],
    );
    assert_eq!(
        stdout(&out).trim(),
        root.join(".venv").display().to_string()
    );
}

/// The variables the hook sets, as a bash script sees them after `body`.
fn dump_after(sb: &Sandbox, root: &Path, body: &str) -> Dump {
    let out = sb.script_ok(
        Sh::Bash,
        &format!("cd {} && {body} && __dump d", Sh::Bash.q(root)),
    );
    dumps(&out.stdout).remove("d").unwrap()
}

#[test]
fn direnv_export_sets_what_the_hook_sets_and_follows_config_edits() {
    let sb = Sandbox::new();
    let root = allowed_project(&sb, "same");
    let hook = dump_after(&sb, &root, "__pyve_hook");
    let direnv_env = dump_after(&sb, &root, "eval \"$(direnv export bash)\"");
    // Everything the hook sets but its own state.
    for name in DUMPED.iter().filter(|n| **n != "PYVE_STATE") {
        assert_eq!(var(&hook, name), var(&direnv_env, name), "{name}");
    }
    assert_eq!(var(&direnv_env, "PYVE_PROMPT"), "(venv:same)");

    // .envrc watches .pyve/config: an edit reloads, and without pyve's
    // approval of the new config direnv loads nothing of it; the approval
    // (a watched file too) loads it, with no new `direnv allow`.
    std::fs::write(
        root.join(".pyve/config"),
        "backend: venv\nenv_name: renamed\n",
    )
    .unwrap();
    let direnv_env = dump_after(&sb, &root, "eval \"$(direnv export bash)\"");
    assert_eq!(var(&direnv_env, "PYVE_PROMPT"), "<unset>");
    assert_eq!(var(&direnv_env, "VIRTUAL_ENV"), "<unset>");
    sb.allow(&root);
    let direnv_env = dump_after(&sb, &root, "eval \"$(direnv export bash)\"");
    assert_eq!(var(&direnv_env, "PYVE_PROMPT"), "(venv:renamed)");
}

#[test]
fn a_missing_environment_is_reported_and_watched() {
    let sb = Sandbox::new();
    let root = allowed_project(&sb, "later");
    std::fs::remove_dir_all(root.join(".venv")).unwrap();
    let out = sb
        .command("direnv")
        .current_dir(&root)
        .env("PWD", &root)
        .args(["export", "bash"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("does not exist yet; create it with `pyve init`"),
        "{err}"
    );
    assert!(!stdout(&out).contains("VIRTUAL_ENV"));
    // Recreated: direnv sees the watched marker and loads it.
    sb.pyve_ok(&root, &["init"]);
    let env = dump_after(&sb, &root, "eval \"$(direnv export bash)\"");
    assert_eq!(
        var(&env, "VIRTUAL_ENV"),
        root.join(".venv").display().to_string()
    );
}

/// How each shell installs direnv's hook and runs both hooks at a prompt.
fn direnv_hook(sh: Sh) -> &'static str {
    match sh {
        Sh::Bash => "eval \"$(direnv hook bash)\"",
        Sh::Zsh => "eval \"$(direnv hook zsh)\"",
        Sh::Fish => "direnv hook fish | source",
    }
}

fn prompt_both(sh: Sh, direnv_first: bool) -> String {
    match sh {
        // fish runs both handlers of the fish_prompt event.
        Sh::Fish => "emit fish_prompt".to_owned(),
        _ if direnv_first => "_direnv_hook; __pyve_hook".to_owned(),
        _ => "__pyve_hook; _direnv_hook".to_owned(),
    }
}

per_shell!(direnv_and_the_hook_together_apply_once, |sh: Sh| {
    let sb = Sandbox::new();
    let root = allowed_project(&sb, "both");
    let sub = root.join("src");
    std::fs::create_dir_all(&sub).unwrap();
    for direnv_first in [true, false] {
        // fish: the handler defined first runs first.
        let setup = match (sh, direnv_first) {
            (Sh::Fish, true) => format!(
                "functions -e __pyve_hook; {}; {}",
                direnv_hook(sh),
                hook_line(sh)
            ),
            _ => direnv_hook(sh).to_owned(),
        };
        let prompt = prompt_both(sh, direnv_first);
        let out = sb.script_ok(
            sh,
            &format!(
                "{setup}; {prompt}; {}; cd {}; {prompt}; {}; cd {}; {prompt}; {}; cd /; {prompt}; {}",
                dump("before"),
                sh.q(&root),
                dump("in"),
                sh.q(&sub),
                dump("sub"),
                dump("after"),
            ),
        );
        let seen = dumps(&out.stdout);
        let bin = root.join(".venv/bin").display().to_string();
        for label in ["in", "sub"] {
            let entries = path_entries(&seen[label]);
            assert_eq!(
                entries.iter().filter(|e| **e == bin).count(),
                1,
                "{sh:?} direnv_first={direnv_first} {label}: {entries:?}\n{}",
                stderr(&out)
            );
            assert_eq!(entries[0], bin);
            assert_eq!(
                var(&seen[label], "VIRTUAL_ENV"),
                root.join(".venv").display().to_string()
            );
        }
        assert_eq!(
            visible(&seen["after"]),
            visible(&seen["before"]),
            "{sh:?} direnv_first={direnv_first}: leaving restores everything\n{}",
            stderr(&out)
        );
    }
});

#[test]
fn doctor_reports_whether_direnv_allowed_the_envrc() {
    let sb = Sandbox::new();
    let root = sb.path("doctored");
    std::fs::create_dir_all(&root).unwrap();
    sb.pyve_ok(&root, &["init"]);
    let out = sb.pyve(&root, &["doctor"]);
    let err = stderr(&out);
    assert!(out.status.success(), "a warning is not an error: {err}");
    assert!(err.contains("is not allowed"), "{err}");
    assert!(
        err.contains(&format!("fix: direnv allow {}", root.display())),
        "{err}"
    );
    direnv(&sb, &root, &["allow", "."]);
    let out = sb.pyve(&root, &["doctor"]);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "ok       direnv       {}/.envrc is allowed",
            root.display()
        )),
        "{err}"
    );
}
