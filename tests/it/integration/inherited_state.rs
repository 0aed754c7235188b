//! `PYVE_STATE` as another party left it: edited by hand or by a hostile
//! program (acted on only when this pyve sealed it for this user), handed
//! down to a child shell whose rc file reset PATH (repaired at its first
//! prompt), or naming an environment that became writable by others since
//! (its deactivation scripts are not sourced).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::per_shell;
use crate::support::*;

/// Appends ops to the shell's own state: well-formed, but not sealed.
fn tamper(sh: Sh, ops: &str) -> String {
    sh.export("PYVE_STATE", &format!("\"$PYVE_STATE;{ops}\""))
}

per_shell!(a_state_pyve_did_not_seal_is_not_acted_on, |sh: Sh| {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", "");
    // Reverting these would remove /usr/bin from PATH and set PYTHONHOME
    // to a directory of the forger's choosing.
    let (d, err) = run(
        &sb,
        sh,
        &[
            cd(sh, &root),
            sh.prompt().into(),
            sh.export("PYTHONHOME", "x"),
            tamper(sh, "a=/usr/bin;s=PYTHONHOME=x=/evil"),
            dump("forged"),
            cd(sh, Path::new("/")),
            sh.prompt().into(),
            dump("left"),
            sh.prompt().into(),
        ],
    );
    assert_eq!(d["left"], d["forged"], "nothing changed");
    assert!(path_entries(&d["left"]).contains(&"/usr/bin".to_owned()));
    assert_eq!(var(&d["left"], "PYTHONHOME"), "x");
    assert_eq!(err.lines().count(), 1, "said once: {err}");
    assert!(
        err.contains("PYVE_STATE was not written by this pyve for you"),
        "{err}"
    );
});

per_shell!(a_state_sealed_by_another_user_is_not_acted_on, |sh: Sh| {
    // Two sandboxes are two users: each has its own key.
    let (theirs, mine) = (Sandbox::new(), Sandbox::new());
    let root = theirs.venv_project("p", "");
    let (d, _) = run(
        &theirs,
        sh,
        &[cd(sh, &root), sh.prompt().into(), dump("in")],
    );
    let state = var(&d["in"], "PYVE_STATE");
    let quoted = String::from_utf8(sh.quote(state.as_bytes())).unwrap();
    let (d, err) = run(
        &mine,
        sh,
        &[
            sh.export("PYVE_STATE", &quoted),
            dump("handed"),
            cd(sh, &mine.path("tmp")),
            sh.prompt().into(),
            dump("after"),
        ],
    );
    assert_eq!(d["after"], d["handed"]);
    assert!(
        err.contains("PYVE_STATE was not written by this pyve for you"),
        "{err}"
    );
});

/// Enters `root`, then starts a child shell whose rc file sets PATH
/// outright (as tmux panes, `su -` and macOS's path_helper do) and runs
/// `then` there: the dumps of parent and child, and what the child printed.
fn child_resetting_path(
    sb: &Sandbox,
    sh: Sh,
    root: &Path,
    then: &[&str],
) -> (BTreeMap<String, Dump>, String) {
    let mut lines = vec![
        sh.export("PATH", &sb.base_path),
        sh.prompt().into(),
        dump("child"),
    ];
    lines.extend(then.iter().map(|line| line.to_string()));
    lines.extend([
        "pyve status --json".into(),
        sh.prompt().into(),
        dump("child-again"),
    ]);
    let child = sb.child_script(sh, "child", &lines.join("\n"));
    let out = sb.script_ok(
        sh,
        &[cd(sh, root), sh.prompt().into(), dump("parent"), child].join("\n"),
    );
    let d = dumps(&out.stdout);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(stderr(&out), "", "{text}");
    assert_eq!(
        path_entries(&d["child"]),
        path_entries(&d["parent"]),
        "the environment is first on PATH again, once"
    );
    assert_eq!(
        d["child-again"], d["child"],
        "repaired once, then left alone"
    );
    assert!(text.contains("\"hook_active\":true"), "{text}");
    (d, text)
}

per_shell!(
    a_child_shell_whose_rc_resets_path_gets_the_environment_back,
    |sh: Sh| {
        let sb = Sandbox::new();
        let root = sb.venv_project("p", "");
        let python = "python -c 'import sys; print(sys.prefix)'";
        let (d, text) = child_resetting_path(&sb, sh, &root, &[python]);
        let venv = root.join(".venv");
        assert_eq!(var(&d["child"], "VIRTUAL_ENV"), venv.display().to_string());
        assert!(
            text.contains(&format!("\x1e{}\n", venv.display())),
            "python is the environment's: {text}"
        );
    }
);

// A conda environment is recomputed at every engine run (it reads its own
// variables), which took another path that kept the undone PATH entry.
per_shell!(
    a_child_shell_of_a_conda_project_gets_the_environment_back,
    |sh: Sh| {
        let sb = Sandbox::new();
        let (root, prefix) = sb.built_conda_project("c");
        sb.allow(&root);
        let (d, _) = child_resetting_path(&sb, sh, &root, &[]);
        assert_eq!(
            var(&d["child"], "CONDA_PREFIX"),
            prefix.display().to_string()
        );
        assert_eq!(
            path_entries(&d["child"])[0],
            prefix.join("bin").display().to_string()
        );
    }
);

/// A conda-style environment whose deactivation script leaves a line in
/// `log` each time it is sourced.
fn conda_with_deactivation(sb: &Sandbox) -> (PathBuf, PathBuf, PathBuf) {
    let (root, prefix) = sb.built_conda_project("c");
    let log = sb.path("tmp/deactivated.log");
    for ext in ["sh", "fish"] {
        std::fs::write(
            prefix.join(format!("etc/conda/deactivate.d/log.{ext}")),
            format!("echo ran >> '{}'\n", log.display()),
        )
        .unwrap();
    }
    sb.allow(&root);
    (root, prefix.join("etc/conda/deactivate.d"), log)
}

per_shell!(
    deactivation_scripts_others_can_write_are_not_sourced,
    |sh: Sh| {
        let sb = Sandbox::new();
        let (root, scripts, log) = conda_with_deactivation(&sb);
        let visit = |sb: &Sandbox, between: &str| {
            run(
                sb,
                sh,
                &[
                    cd(sh, &root),
                    sh.prompt().into(),
                    between.into(),
                    cd(sh, Path::new("/")),
                    sh.prompt().into(),
                    dump("left"),
                ],
            )
        };
        // Their own: sourced on leaving.
        let (_, err) = visit(&sb, "true");
        assert_eq!(err, "");
        assert_eq!(count_lines(&log), 1);
        // Made writable by everyone while the shell was inside: the state
        // still names it, and it is not sourced.
        let chmod = format!("chmod 0777 {}", sh.q(&scripts));
        let (d, err) = visit(&sb, &chmod);
        assert_eq!(count_lines(&log), 1, "not sourced again");
        assert!(
            err.contains("not running the deactivation scripts of")
                && err.contains("writable by every user"),
            "{err}"
        );
        assert_eq!(var(&d["left"], "CONDA_PREFIX"), "<unset>", "still left");
        std::fs::set_permissions(&scripts, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
);

per_shell!(
    status_and_doctor_do_not_call_an_undone_environment_applied,
    |sh: Sh| {
        let sb = Sandbox::new();
        let root = sb.venv_project("p", "");
        let out = sb.script_ok(
            sh,
            &[
                cd(sh, &root),
                sh.prompt().into(),
                "pyve status --json".into(),
                sh.export("PATH", &sb.base_path),
                "pyve status --json".into(),
                "pyve doctor 2>&1; true".into(),
            ]
            .join("\n"),
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let active: Vec<bool> = text
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| l.contains("\"hook_active\":true"))
            .collect();
        assert_eq!(active, [true, false], "{text}");
        assert!(
            text.contains("is applied, but PATH or its variables changed since"),
            "{text}"
        );
    }
);

/// A key file others can read (or a link, or the wrong length) is never
/// used, and every message about it names the file and the fix instead of
/// blaming the state or the directory.
#[test]
fn a_key_file_pyve_will_not_use_is_named_with_its_fix() {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", "");
    let key = sb.path("data/pyve/state-key");
    let out = sb.script_ok(
        Sh::Bash,
        &[
            cd(Sh::Bash, &root),
            "__pyve_hook".into(),
            format!("chmod 644 {}", Sh::Bash.q(&key)),
            "pyve doctor 2>&1; true".into(),
            cd(Sh::Bash, Path::new("/")),
            "__pyve_hook".into(),
            dump("left"),
        ]
        .join("\n"),
    );
    let (text, err) = (String::from_utf8_lossy(&out.stdout), stderr(&out));
    let problem = format!(
        "{}: can be read or written by others (mode 0644)",
        key.display()
    );
    assert!(
        text.contains(&format!("its key {problem}")),
        "doctor: {text}"
    );
    assert!(
        err.contains(&format!(
            "PYVE_STATE cannot be checked, so pyve changes nothing: its key {problem}"
        )),
        "hook: {err}"
    );
    assert!(err.contains("remove it; pyve makes a new one"), "{err}");
    // Not replaced behind the user's back.
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let d = dumps(&out.stdout);
    assert_eq!(
        var(&d["left"], "VIRTUAL_ENV"),
        root.join(".venv").display().to_string(),
        "nothing reverted on an unchecked state"
    );
}
