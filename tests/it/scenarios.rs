//! The hook's behaviour, scripted in real bash, zsh and fish: each test
//! installs the hook with `eval "$(pyve hook SHELL)"` (fish: `| source`),
//! changes directory, runs the prompt hook and dumps the environment.

use crate::per_shell;
use crate::support::*;

fn run(sandbox: &Sandbox, sh: Sh, steps: &[String]) -> (std::collections::BTreeMap<String, Dump>, String) {
    let output = sandbox.script_ok(sh, &steps.join("\n"));
    (
        dumps(&output.stdout),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn cd(sh: Sh, path: &std::path::Path) -> String {
    format!("cd {}", sh.q(path))
}

per_shell!(enter_subdir_leave_restores_exactly, |sh: Sh| {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("work/demo", "");
    std::fs::create_dir_all(root.join("src/deep")).unwrap();
    let (d, stderr) = run(
        &sandbox,
        sh,
        &[
            sh.prompt().into(),
            dump("before"),
            cd(sh, &root),
            sh.prompt().into(),
            dump("root"),
            cd(sh, &root.join("src/deep")),
            sh.prompt().into(),
            dump("sub"),
            cd(sh, &sandbox.path("work")),
            sh.prompt().into(),
            dump("after"),
        ],
    );
    assert_eq!(stderr, "", "the hook printed on stderr");
    let venv = root.join(".venv");
    let at_root = &d["root"];
    assert_eq!(var(at_root, "VIRTUAL_ENV"), venv.display().to_string());
    assert_eq!(path_entries(at_root)[0], venv.join("bin").display().to_string());
    assert_eq!(
        path_entries(at_root)[1..].join(":"),
        var(&d["before"], "PATH"),
        "only the venv's bin is added"
    );
    assert_eq!(var(at_root, "PYVE_BACKEND"), "venv");
    assert_eq!(var(at_root, "PYVE_ENV_NAME"), "demo");
    assert_eq!(var(at_root, "PYVE_PROJECT"), root.display().to_string());
    assert_eq!(var(at_root, "PYVE_PROMPT"), "(venv:demo)");
    assert!(var(at_root, "PYVE_STATE").len() < 1024);
    assert_eq!(var(at_root, "SHOWN"), "(venv:demo) PROMPT$ ");
    assert_eq!(d["sub"], d["root"], "a subdirectory keeps the same environment");
    assert_eq!(d["after"], d["before"], "leaving restores every variable and the prompt");
});

per_shell!(user_path_edits_inside_survive_leaving, |sh: Sh| {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    let (d, _) = run(
        &sandbox,
        sh,
        &[
            dump("before"),
            cd(sh, &root),
            sh.prompt().into(),
            sh.prepend_path("/mine/front"),
            sh.append_path("/mine/back"),
            cd(sh, &sandbox.path("")),
            sh.prompt().into(),
            dump("after"),
        ],
    );
    let before = var(&d["before"], "PATH");
    assert_eq!(
        var(&d["after"], "PATH"),
        format!("/mine/front:{before}:/mine/back"),
        "only pyve's entry is removed, the user's stay in place"
    );
});

per_shell!(pythonhome_is_unset_inside_and_restored, |sh: Sh| {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    let (d, _) = run(
        &sandbox,
        sh,
        &[
            sh.export("PYTHONHOME", "'/opt/odd home'"),
            cd(sh, &root),
            sh.prompt().into(),
            dump("inside"),
            cd(sh, &sandbox.path("")),
            sh.prompt().into(),
            dump("outside"),
            // Set by the user while inside: pyve leaves it alone on leaving.
            cd(sh, &root),
            sh.prompt().into(),
            sh.export("PYTHONHOME", "/user/set"),
            cd(sh, &sandbox.path("")),
            sh.prompt().into(),
            dump("user"),
        ],
    );
    assert_eq!(var(&d["inside"], "PYTHONHOME"), "<unset>");
    assert_eq!(var(&d["outside"], "PYTHONHOME"), "/opt/odd home");
    assert_eq!(var(&d["user"], "PYTHONHOME"), "/user/set");
});

per_shell!(venv_activated_by_hand_inside_is_left_alone, |sh: Sh| {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    let other = sandbox.path("other-venv");
    make_venv(&other);
    let activate = match sh {
        Sh::Fish => format!("source {}", sh.q(&other.join("bin/activate.fish"))),
        _ => format!(". {}", sh.q(&other.join("bin/activate"))),
    };
    let (d, _) = run(
        &sandbox,
        sh,
        &[
            dump("before"),
            cd(sh, &root),
            sh.prompt().into(),
            activate,
            cd(sh, &sandbox.path("")),
            sh.prompt().into(),
            dump("after"),
        ],
    );
    let after = &d["after"];
    assert_eq!(var(after, "VIRTUAL_ENV"), other.display().to_string());
    let entries = path_entries(after);
    assert_eq!(entries[0], other.join("bin").display().to_string());
    assert!(
        !entries.contains(&root.join(".venv/bin").display().to_string()),
        "pyve's entry is gone: {entries:?}"
    );
    assert_eq!(entries[1..].join(":"), var(&d["before"], "PATH"));
});

per_shell!(nested_projects_innermost_wins_and_outer_returns_exactly, |sh: Sh| {
    let sandbox = Sandbox::new();
    let outer = sandbox.venv_project("outer", "env_name: outer-env\n");
    let inner = sandbox.venv_project("outer/libs/inner", "");
    let (d, _) = run(
        &sandbox,
        sh,
        &[
            dump("before"),
            cd(sh, &outer),
            sh.prompt().into(),
            dump("outer"),
            cd(sh, &inner),
            sh.prompt().into(),
            dump("inner"),
            cd(sh, &outer.join("libs")),
            sh.prompt().into(),
            dump("back"),
            cd(sh, &sandbox.path("")),
            sh.prompt().into(),
            dump("after"),
        ],
    );
    assert_eq!(var(&d["inner"], "VIRTUAL_ENV"), inner.join(".venv").display().to_string());
    assert_eq!(var(&d["inner"], "PYVE_ENV_NAME"), "inner");
    let inner_path = path_entries(&d["inner"]);
    assert!(!inner_path.contains(&outer.join(".venv/bin").display().to_string()));
    assert_eq!(d["back"], d["outer"], "returning to the outer project restores it exactly");
    assert_eq!(d["after"], d["before"]);
});

per_shell!(switching_projects_directly, |sh: Sh| {
    let sandbox = Sandbox::new();
    let a = sandbox.venv_project("a", "");
    let b = sandbox.venv_project("b", "");
    let (d, _) = run(
        &sandbox,
        sh,
        &[
            dump("before"),
            cd(sh, &a),
            sh.prompt().into(),
            cd(sh, &b),
            sh.prompt().into(),
            dump("b"),
            cd(sh, &sandbox.path("")),
            sh.prompt().into(),
            dump("after"),
        ],
    );
    let at_b = &d["b"];
    assert_eq!(var(at_b, "PYVE_ENV_NAME"), "b");
    let entries = path_entries(at_b);
    assert_eq!(entries[0], b.join(".venv/bin").display().to_string());
    assert_eq!(entries[1..].join(":"), var(&d["before"], "PATH"));
    assert_eq!(var(at_b, "SHOWN"), "(venv:b) PROMPT$ ", "one prefix, the new one");
    assert_eq!(d["after"], d["before"]);
});

per_shell!(entering_through_a_symlinked_directory, |sh: Sh| {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("real/proj", "");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let link = sandbox.path("link");
    std::os::unix::fs::symlink(&root, &link).unwrap();
    let (d, stderr) = run(
        &sandbox,
        sh,
        &[
            dump("before"),
            cd(sh, &link.join("sub")),
            sh.prompt().into(),
            dump("inside"),
            cd(sh, &sandbox.path("")),
            sh.prompt().into(),
            dump("after"),
        ],
    );
    assert_eq!(stderr, "");
    let inside = &d["inside"];
    assert_eq!(var(inside, "PYVE_ENV_NAME"), "proj", "named after the real directory");
    let real_root = std::fs::canonicalize(&root).unwrap();
    assert_eq!(var(inside, "PYVE_PROJECT"), real_root.display().to_string());
    assert!(
        std::path::Path::new(&var(inside, "VIRTUAL_ENV")).join("bin/python").exists(),
        "VIRTUAL_ENV points at a working venv: {}",
        var(inside, "VIRTUAL_ENV")
    );
    assert_eq!(d["after"], d["before"]);
});

per_shell!(deleting_and_creating_the_environment_while_inside, |sh: Sh| {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let venv = root.join(".venv");
    let (d, stderr) = run(
        &sandbox,
        sh,
        &[
            dump("before"),
            cd(sh, &root.join("sub")),
            sh.prompt().into(),
            dump("active"),
            format!("rm -rf {}", sh.q(&venv)),
            sh.prompt().into(),
            dump("venv-deleted"),
            format!("{} -m venv --without-pip {}", python(), sh.q(&venv)),
            sh.prompt().into(),
            dump("venv-created"),
            format!("rm -rf {}", sh.q(&root)),
            sh.prompt().into(),
            dump("project-deleted"),
        ],
    );
    assert_eq!(stderr, "", "deactivation is silent");
    assert_eq!(d["venv-deleted"], d["before"], "a deleted venv deactivates at the next prompt");
    assert_eq!(
        visible(&d["venv-created"]),
        visible(&d["active"]),
        "a created venv activates at the next prompt"
    );
    assert_eq!(d["project-deleted"], d["before"], "a deleted project deactivates");
});

per_shell!(child_shell_inherits_a_correct_environment, |sh: Sh| {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    // The child installs the hook, prompts inside, then leaves.
    let child = sandbox.child_script(
        sh,
        "child",
        &[
            sh.prompt().into(),
            dump("child-inside"),
            "cd ..".into(),
            sh.prompt().into(),
            dump("child-left"),
        ]
        .join("\n"),
    );
    let (d, stderr) = run(
        &sandbox,
        sh,
        &[
            dump("before"),
            cd(sh, &root),
            sh.prompt().into(),
            dump("parent"),
            child,
        ],
    );
    assert_eq!(stderr, "");
    let parent_path = path_entries(&d["parent"]);
    let child_path = path_entries(&d["child-inside"]);
    assert_eq!(child_path, parent_path, "no duplicate PATH entries in the child");
    assert_eq!(var(&d["child-inside"], "VIRTUAL_ENV"), var(&d["parent"], "VIRTUAL_ENV"));
    assert_eq!(var(&d["child-inside"], "SHOWN"), "(venv:p) PROMPT$ ");
    assert_eq!(var(&d["child-left"], "PATH"), var(&d["before"], "PATH"), "leaving works in the child");
    assert_eq!(var(&d["child-left"], "VIRTUAL_ENV"), "<unset>");
    assert_eq!(var(&d["child-left"], "SHOWN"), "PROMPT$ ");
});
