//! The hook's behaviour, scripted in real bash, zsh and fish: each test
//! installs the hook with `eval "$(pyve hook SHELL)"` (fish: `| source`),
//! changes directory, runs the prompt hook and dumps the environment.

use crate::per_shell;
use crate::support::*;

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
    assert_eq!(
        path_entries(at_root)[0],
        venv.join("bin").display().to_string()
    );
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
    assert_eq!(
        d["sub"], d["root"],
        "a subdirectory keeps the same environment"
    );
    assert_eq!(
        d["after"], d["before"],
        "leaving restores every variable and the prompt"
    );
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

per_shell!(
    nested_projects_innermost_wins_and_outer_returns_exactly,
    |sh: Sh| {
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
        assert_eq!(
            var(&d["inner"], "VIRTUAL_ENV"),
            inner.join(".venv").display().to_string()
        );
        assert_eq!(var(&d["inner"], "PYVE_ENV_NAME"), "inner");
        let inner_path = path_entries(&d["inner"]);
        assert!(!inner_path.contains(&outer.join(".venv/bin").display().to_string()));
        assert_eq!(
            d["back"], d["outer"],
            "returning to the outer project restores it exactly"
        );
        assert_eq!(d["after"], d["before"]);
    }
);

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
    assert_eq!(
        var(at_b, "SHOWN"),
        "(venv:b) PROMPT$ ",
        "one prefix, the new one"
    );
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
    assert_eq!(
        var(inside, "PYVE_ENV_NAME"),
        "proj",
        "named after the real directory"
    );
    let real_root = std::fs::canonicalize(&root).unwrap();
    assert_eq!(var(inside, "PYVE_PROJECT"), real_root.display().to_string());
    assert!(
        std::path::Path::new(&var(inside, "VIRTUAL_ENV"))
            .join("bin/python")
            .exists(),
        "VIRTUAL_ENV points at a working venv: {}",
        var(inside, "VIRTUAL_ENV")
    );
    assert_eq!(d["after"], d["before"]);
});

per_shell!(
    deleting_and_creating_the_environment_while_inside,
    |sh: Sh| {
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
                // Made by hand, not by `pyve init`: the user approves it.
                "pyve allow 2>/dev/null".into(),
                sh.prompt().into(),
                dump("venv-created"),
                format!("rm -rf {}", sh.q(&root)),
                sh.prompt().into(),
                dump("project-deleted"),
            ],
        );
        assert_eq!(stderr, "", "deactivation is silent");
        assert_eq!(
            d["venv-deleted"], d["before"],
            "a deleted venv deactivates at the next prompt"
        );
        assert_eq!(
            visible(&d["venv-created"]),
            visible(&d["active"]),
            "a created venv activates at the next prompt"
        );
        assert_eq!(
            d["project-deleted"], d["before"],
            "a deleted project deactivates"
        );
    }
);

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
    assert_eq!(
        child_path, parent_path,
        "no duplicate PATH entries in the child"
    );
    assert_eq!(
        var(&d["child-inside"], "VIRTUAL_ENV"),
        var(&d["parent"], "VIRTUAL_ENV")
    );
    assert_eq!(var(&d["child-inside"], "SHOWN"), "(venv:p) PROMPT$ ");
    assert_eq!(
        var(&d["child-left"], "PATH"),
        var(&d["before"], "PATH"),
        "leaving works in the child"
    );
    assert_eq!(var(&d["child-left"], "VIRTUAL_ENV"), "<unset>");
    assert_eq!(var(&d["child-left"], "SHOWN"), "PROMPT$ ");
});

per_shell!(sourcing_the_hook_twice_registers_once, |sh: Sh| {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    let (wrapper, log) = counting_wrapper(&sandbox);
    // Files changed within the stamp's back-dating window count as newer
    // once (see watch.rs); let the fixture's fall outside it.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let registrations = match sh {
        Sh::Bash => r#"printf '%s\n' "$PROMPT_COMMAND""#,
        Sh::Zsh => r#"printf '%s\n' $precmd_functions $chpwd_functions"#,
        Sh::Fish => r#"functions --handlers | string match -r '.*__pyve_hook.*'"#,
    };
    let output = sandbox.script_ok(
        sh,
        &[
            hook_line(sh),
            set_exe(sh, &wrapper),
            format!("cd {}", sh.q(&root)),
            sh.prompt().into(),
            registrations.into(),
        ]
        .join("\n"),
    );
    let stdout = stdout(&output);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains("__pyve_")).collect();
    let expected = match sh {
        Sh::Bash => 1,
        // precmd, and chpwd through __pyve_chpwd.
        Sh::Zsh => 2,
        // fish_prompt event and PWD variable.
        Sh::Fish => 2,
    };
    assert_eq!(lines.len(), expected, "registrations: {stdout}");
    assert_eq!(count_lines(&log), 1, "one cd, one engine run");
});

per_shell!(exit_status_survives_the_hook, |sh: Sh| {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    // Both an engine run (new directory) and the fast path keep the status.
    // In fish the prompt event cannot be emitted with a status (`emit`
    // resets it), so the wrapped fish_prompt is checked for it instead; the
    // event itself is covered by the pty tests.
    let body = match sh {
        Sh::Fish => format!(
            "function fish_prompt; printf 'st=%s ps=%s' $status \"$pipestatus\"; end\n\
             cd {}\nemit fish_prompt\n\
             false | true | false; fish_prompt; echo",
            sh.q(&root)
        ),
        _ => format!(
            "cd {}\n(exit 7); __pyve_hook; echo \"run=$?\"\n(exit 9); __pyve_hook; echo \"fast=$?\"",
            sh.q(&root)
        ),
    };
    let output = sandbox.script_ok(sh, &body);
    let stdout = stdout(&output);
    match sh {
        Sh::Fish => assert!(stdout.contains("(venv:p) st=1 ps=1 0 1"), "{stdout}"),
        _ => assert!(
            stdout.contains("run=7") && stdout.contains("fast=9"),
            "{stdout}"
        ),
    }
});

per_shell!(missing_binary_warns_once_and_changes_nothing, |sh: Sh| {
    let sandbox = Sandbox::new();
    let a = sandbox.venv_project("a", "");
    let b = sandbox.venv_project("b", "");
    let (d, stderr) = run(
        &sandbox,
        sh,
        &[
            set_exe(sh, &sandbox.path("moved-away/pyve")),
            dump("before"),
            cd(sh, &a),
            sh.prompt().into(),
            sh.prompt().into(),
            cd(sh, &b),
            sh.prompt().into(),
            dump("after"),
        ],
    );
    assert_eq!(d["after"], d["before"], "nothing applied");
    assert_eq!(stderr.lines().count(), 1, "one line per session: {stderr}");
    assert!(
        stderr.starts_with("pyve: ") && stderr.contains("moved-away/pyve"),
        "{stderr}"
    );
});

per_shell!(failing_binary_warns_once_and_applies_nothing, |sh: Sh| {
    let sandbox = Sandbox::new();
    let a = sandbox.venv_project("a", "");
    let b = sandbox.venv_project("b", "");
    // Prints half an activation, then fails: none of it may be applied.
    let broken = sandbox.path("broken-pyve");
    std::fs::write(
        &broken,
        "#!/bin/sh\necho 'export VIRTUAL_ENV=/half'\necho 'set -gx VIRTUAL_ENV /half'\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&broken, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (d, stderr) = run(
        &sandbox,
        sh,
        &[
            set_exe(sh, &broken),
            dump("before"),
            cd(sh, &a),
            sh.prompt().into(),
            cd(sh, &b),
            sh.prompt().into(),
            dump("after"),
        ],
    );
    assert_eq!(d["after"], d["before"]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("exit 3"), "{stderr}");
});

// A program that is not pyve's engine (a wrong `__pyve_exe`, a file put in
// its place) prints shell code and exits 0: without the engine's mark,
// nothing of it is evaluated, in any shell.
per_shell!(
    output_without_the_engine_mark_is_never_evaluated,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let a = sandbox.venv_project("a", "");
        let mark = sandbox.path("tmp/evaluated");
        let impostor = sandbox.path("impostor");
        std::fs::write(
            &impostor,
            format!(
                "#!/bin/sh\necho 'export VIRTUAL_ENV=/x; set -gx VIRTUAL_ENV /x; touch {m}'\n",
                m = mark.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(
            &impostor,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let (d, stderr) = run(
            &sandbox,
            sh,
            &[
                set_exe(sh, &impostor),
                dump("before"),
                cd(sh, &a),
                sh.prompt().into(),
                dump("after"),
            ],
        );
        assert_eq!(d["after"], d["before"]);
        assert!(!mark.exists(), "evaluated");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("is not the pyve engine"), "{stderr}");
    }
);

per_shell!(
    malformed_config_is_reported_once_and_fixing_it_activates,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = sandbox.unapproved_project("p", "env_name: ok\nprompt:\n  show: maybe\n");
        make_venv(&root.join(".venv"));
        std::fs::create_dir_all(root.join("sub")).unwrap();
        let config = root.join(".pyve/config");
        let (d, stderr) = run(
            &sandbox,
            sh,
            &[
                dump("before"),
                cd(sh, &root),
                sh.prompt().into(),
                sh.prompt().into(),
                cd(sh, &root.join("sub")),
                sh.prompt().into(),
                cd(sh, &root),
                sh.prompt().into(),
                dump("broken"),
                format!("printf 'env_name: fixed\\n' > {}", sh.q(&config)),
                "pyve allow 2>/dev/null".into(),
                sh.prompt().into(),
                dump("fixed"),
            ],
        );
        assert_eq!(d["broken"], d["before"], "nothing applied");
        assert_eq!(stderr.lines().count(), 1, "reported once: {stderr}");
        assert!(
            stderr.starts_with(&format!("pyve: {}:3:", config.display())),
            "names file and line: {stderr}"
        );
        assert!(
            stderr.contains("prompt.show") || stderr.contains("show"),
            "names the key: {stderr}"
        );
        assert_eq!(var(&d["fixed"], "PYVE_ENV_NAME"), "fixed");
    }
);

per_shell!(
    editing_the_config_inside_updates_name_and_prompt_in_place,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = sandbox.venv_project("p", "env_name: one\n");
        let config = root.join(".pyve/config");
        let (d, stderr) = run(
            &sandbox,
            sh,
            &[
                cd(sh, &root),
                sh.prompt().into(),
                sh.prepend_path("/user/first"),
                format!("printf 'env_name: two\\n' > {}", sh.q(&config)),
                "pyve allow 2>/dev/null".into(),
                sh.prompt().into(),
                dump("edited"),
                format!(
                    "printf 'env_name: two\\nprompt:\\n  format: \"<{{env_name}}>\"\\n' > {}",
                    sh.q(&config)
                ),
                "pyve allow 2>/dev/null".into(),
                sh.prompt().into(),
                dump("format"),
            ],
        );
        assert_eq!(stderr, "");
        let edited = &d["edited"];
        assert_eq!(var(edited, "PYVE_ENV_NAME"), "two");
        assert_eq!(var(edited, "SHOWN"), "(venv:two) PROMPT$ ");
        assert_eq!(
            path_entries(edited)[..2],
            [
                "/user/first".to_owned(),
                root.join(".venv/bin").display().to_string()
            ],
            "an unchanged PATH entry is not moved"
        );
        assert_eq!(var(&d["format"], "SHOWN"), "<two> PROMPT$ ");
        assert_eq!(var(&d["format"], "PYVE_PROMPT"), "<two>");
    }
);

per_shell!(prompt_can_be_turned_off, |sh: Sh| {
    let sandbox = Sandbox::new();
    let quiet = sandbox.venv_project("quiet", "prompt:\n  show: false\n");
    let loud = sandbox.venv_project("loud", "");
    let (d, _) = run(
        &sandbox,
        sh,
        &[
            cd(sh, &quiet),
            sh.prompt().into(),
            dump("show-false"),
            sh.export("VIRTUAL_ENV_DISABLE_PROMPT", "1"),
            cd(sh, &loud),
            sh.prompt().into(),
            dump("disabled"),
        ],
    );
    assert_eq!(var(&d["show-false"], "SHOWN"), "PROMPT$ ");
    assert_eq!(
        var(&d["show-false"], "PYVE_PROMPT"),
        "(venv:quiet)",
        "themes still get it"
    );
    assert_eq!(var(&d["disabled"], "SHOWN"), "PROMPT$ ");
    assert_eq!(
        var(&d["disabled"], "VIRTUAL_ENV"),
        loud.join(".venv").display().to_string()
    );
});

per_shell!(
    a_prompt_changed_by_the_user_inside_is_not_touched,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = sandbox.venv_project("p", "");
        let replace = match sh {
            Sh::Fish => "function fish_prompt; printf 'MINE> '; end",
            _ => "PS1='MINE> '",
        };
        let (d, _) = run(
            &sandbox,
            sh,
            &[
                cd(sh, &root),
                sh.prompt().into(),
                replace.into(),
                cd(sh, &sandbox.path("")),
                sh.prompt().into(),
                dump("after"),
            ],
        );
        assert_eq!(var(&d["after"], "SHOWN"), "MINE> ");
    }
);

#[test]
fn bash_prompt_command_as_array_and_string() {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    for setup in [
        "PROMPT_COMMAND=(first_hook)",
        "PROMPT_COMMAND='first_hook;'",
        "PROMPT_COMMAND=$'first_hook\\n'",
        // Written by hand into the string form, after a blank.
        "PROMPT_COMMAND='first_hook; __pyve_hook'",
        "unset PROMPT_COMMAND",
    ] {
        let body = format!(
            r#"first_hook() {{ :; }}
{setup}
{hook}
{hook}
declare -p PROMPT_COMMAND
cd {root}
for pc in "${{PROMPT_COMMAND[@]}}"; do eval "$pc"; done
echo "VE=$VIRTUAL_ENV""#,
            hook = hook_line(Sh::Bash),
            root = Sh::Bash.q(&root),
        );
        let output = sandbox.script_ok(Sh::Bash, &body);
        let stdout = stdout(&output);
        assert_eq!(
            stdout.matches("__pyve_hook").count(),
            1,
            "{setup}: {stdout}"
        );
        assert!(
            stdout.contains(&format!("VE={}", root.join(".venv").display())),
            "{setup}: {stdout}"
        );
    }
}

/// bash-preexec and starship cannot be installed here (no registry carries
/// them); these stand-ins reproduce how each registers its prompt hook.
#[test]
fn bash_alongside_bash_preexec_and_starship_registration() {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    let preexec = format!(
        r#"bash_preexec_imported=defined
precmd_functions=()
__bp_precmd_invoke_cmd() {{ local s=$?; for f in "${{precmd_functions[@]}}"; do (exit $s); "$f"; done; }}
PROMPT_COMMAND='__bp_precmd_invoke_cmd'
{hook}
{hook}
echo "pc=$PROMPT_COMMAND fns=${{precmd_functions[*]}}"
cd {root}
(exit 4); eval "$PROMPT_COMMAND"; echo "status=$? VE=$VIRTUAL_ENV""#,
        hook = hook_line(Sh::Bash),
        root = Sh::Bash.q(&root)
    );
    let stdout = String::from_utf8(sandbox.script_ok(Sh::Bash, &preexec).stdout).unwrap();
    assert!(
        stdout.contains("pc=__bp_precmd_invoke_cmd fns=__pyve_hook\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("VE={}", root.join(".venv").display())),
        "{stdout}"
    );

    // starship's bash init without bash-preexec: it captures $? first.
    let starship = format!(
        r#"starship_precmd() {{ STARSHIP_CMD_STATUS=$?; }}
PROMPT_COMMAND="starship_precmd"
{hook}
cd {root}
(exit 5); for pc in "${{PROMPT_COMMAND[@]}}"; do eval "$pc"; done
echo "starship=$STARSHIP_CMD_STATUS pc=${{PROMPT_COMMAND//$'\n'/;}} VE=$VIRTUAL_ENV""#,
        hook = hook_line(Sh::Bash),
        root = Sh::Bash.q(&root)
    );
    let stdout = String::from_utf8(sandbox.script_ok(Sh::Bash, &starship).stdout).unwrap();
    assert!(
        stdout.contains("starship=5 pc=starship_precmd;__pyve_hook VE="),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("VE={}", root.join(".venv").display())),
        "{stdout}"
    );
}

#[test]
fn ps1_is_never_exported() {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    for sh in [Sh::Bash, Sh::Zsh] {
        let body = format!(
            "cd {}\n__pyve_hook\nprintf 'shown=%s\\n' \"$PS1\" | grep -c PROMPT\nenv | grep -c '^PS1=' || true",
            sh.q(&root)
        );
        let stdout = String::from_utf8(sandbox.script_ok(sh, &body).stdout).unwrap();
        assert_eq!(
            stdout,
            "1\n0\n",
            "{}: PS1 must stay a shell variable",
            sh.name()
        );
    }
}

/// zsh runs chpwd in the options of whatever ran `cd`: a function under
/// `emulate -LR zsh` sees PROMPT_SUBST off while the user's is on. A prefix
/// that PROMPT_SUBST would expand is not inserted there; the next prompt
/// makes it for the user's options, so a redraw in between (a widget's
/// `zle reset-prompt`, a `TRAPALRM` clock) runs nothing.
#[test]
fn zsh_a_cd_in_a_function_with_its_own_options_inserts_nothing_that_would_run() {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("$(touch PWNED)", "");
    let output = sandbox.script_ok(
        Sh::Zsh,
        &[
            "setopt promptsubst".into(),
            "PS1='P> '".into(),
            format!(
                "goto() {{ emulate -LR zsh; builtin cd -- {} }}",
                Sh::Zsh.q(&root)
            ),
            "goto".into(),
            // A redraw before the next prompt, in the user's options.
            r#"print -rP -- "$PS1" >/dev/null"#.into(),
            Sh::Zsh.prompt().into(),
            r#"print -rP -- "$PS1""#.into(),
        ]
        .join("\n"),
    );
    assert!(!root.join("PWNED").exists(), "the name ran");
    let stdout = stdout(&output);
    assert!(
        stdout.ends_with("(venv:$(touch PWNED)) P> \n"),
        "made at the next prompt: {stdout}"
    );
}

/// `setopt warn_nested_var` makes zsh warn about every function that sets
/// a variable of an enclosing scope by assignment: the hook, which runs at
/// every prompt, sets none that way.
#[test]
fn zsh_the_hook_is_quiet_under_warn_nested_var() {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    let named = sandbox.venv_project("$(x)", "");
    let output = sandbox.script_ok(
        Sh::Zsh,
        &[
            "setopt warn_nested_var".into(),
            format!("cd {}", Sh::Zsh.q(&root)),
            "__pyve_hook".into(),
            "__pyve_hook".into(),
            // Rebuilt by a theme: the check puts the prefix back.
            "PS1='> '".into(),
            "__pyve_hook".into(),
            format!("cd {}", Sh::Zsh.q(&named)),
            "__pyve_hook".into(),
            "setopt promptsubst".into(),
            "__pyve_hook".into(),
            "cd /".into(),
            "__pyve_hook".into(),
            r#"print -r -- "PS1=$PS1""#.into(),
        ]
        .join("\n"),
    );
    assert_eq!(stderr(&output), "");
    assert!(stdout(&output).ends_with("PS1=> \n"), "{}", stdout(&output));
}

/// In POSIX mode bash expands PS1 even with `promptvars` off: a name that
/// would run there goes in as a reference, and follows `set -o posix`
/// being turned on and off.
#[test]
fn bash_posix_mode_counts_as_expanding_the_prompt() {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("$(touch PWNED)", "");
    let show = r#"printf '%s\n' "${PS1@P}""#;
    let output = sandbox.script_ok(
        Sh::Bash,
        &[
            "shopt -u promptvars".into(),
            "PS1='P> '".into(),
            "set -o posix".into(),
            format!("cd {}", Sh::Bash.q(&root)),
            "__pyve_hook".into(),
            show.into(),
            "set +o posix".into(),
            "__pyve_hook".into(),
            show.into(),
            "set -o posix".into(),
            "__pyve_hook".into(),
            show.into(),
        ]
        .join("\n"),
    );
    assert!(!root.join("PWNED").exists(), "the name ran");
    assert_eq!(
        stdout(&output)
            .matches("(venv:$(touch PWNED)) P> \n")
            .count(),
        3,
        "{}",
        stdout(&output)
    );
}
