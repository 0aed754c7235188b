//! The first five minutes (issue 24): what a newcomer sees when a command is
//! mistyped, when doctor runs in a project the hook leaves alone, and the
//! summary lines, each as the exact text.

use std::path::Path;

use crate::per_shell;
use crate::support::*;

#[test]
fn mistyped_options_and_commands_say_what_to_type() {
    let sb = Sandbox::new();
    let dir = sb.path(".");
    let cases: [(&[&str], &str); 5] = [
        (
            &["--versoin"],
            "pyve: unknown option `--versoin` for `pyve`; did you mean `--version`? `pyve --help` lists the options\n",
        ),
        (
            &["init", "--forse"],
            "pyve: unknown option `--forse` for `pyve init`; did you mean `--force`? `pyve init --help` lists the options\n",
        ),
        (
            &["actvate"],
            "pyve: unknown command `actvate`; did you mean `pyve activate`? `pyve --help` lists the commands\n",
        ),
        (
            &["frobnicate"],
            "pyve: unknown command `frobnicate`; `pyve --help` lists the commands\n",
        ),
        (
            &["deactivate"],
            "pyve: pyve has no `deactivate`: leaving the project's directory reverts its environment; `pyve deny` stops the hook from activating this project; `pyve activate NAME` switches between named environments\n",
        ),
    ];
    for (args, said) in cases {
        let out = sb.pyve(&dir, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&out), said, "{args:?}");
        assert!(out.stdout.is_empty());
    }
    // Each suggestion runs.
    sb.pyve_ok(&dir, &["--version"]);
    let help = sb.pyve(&dir, &["init", "--help"]);
    assert!(stdout(&help).contains("--force"));
    // Help points to what an installed binary has: its man page.
    let help = stdout(&sb.pyve(&dir, &["--help"]));
    assert!(help.contains("`pyve man | man -l -`"), "{help}");
    assert!(!help.contains("docs/"), "{help}");
    let man = sb.pyve(&dir, &["man"]);
    assert!(
        man.status.success() && stdout(&man).starts_with(".ie"),
        "{}",
        stdout(&man).lines().next().unwrap_or_default()
    );
}

/// doctor's last line, as it should read for the findings above it.
fn expected_summary(report: &str) -> String {
    let count = |word: &str| {
        report
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(word))
            .count()
    };
    let words = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "pyve: {}, {}",
        words(count("error"), "error"),
        words(count("warning"), "warning")
    )
}

#[test]
fn doctor_counts_in_words_that_agree() {
    let sb = Sandbox::new();
    // Without direnv: the hook (not in this process) is the one warning.
    let root = sb.venv_project("counted", "direnv: false\n");
    let mut seen = Vec::new();
    for step in 0..2 {
        if step == 1 {
            std::fs::remove_dir_all(root.join(".venv")).unwrap();
        }
        let report = stderr(&sb.pyve(&root, &["doctor"]));
        let last = report.lines().last().unwrap().to_owned();
        assert_eq!(last, expected_summary(&report), "{report}");
        seen.push(last);
    }
    // One of each form was seen: `1 warning` and `… errors`.
    assert!(seen[0].ends_with(", 1 warning"), "{seen:?}");
    assert!(seen[1].contains(" errors, "), "{seen:?}");
}

per_shell!(
    doctor_in_a_project_held_back_names_approval_not_the_hook,
    |sh: Sh| {
        let sb = Sandbox::new();
        let root = sb.venv_project("held", "");
        // A changed config: the hook, installed in this shell, holds it back.
        std::fs::write(root.join(".pyve/config"), "env_name: changed\n").unwrap();
        let steps = [
            format!("cd {}", sh.q(&root)),
            sh.prompt().into(),
            "pyve doctor 2>&1".to_owned(),
        ];
        let out = sb.script(sh, &steps.join("\n"));
        let said = stdout(&out);
        assert!(
        said.contains("not applied in the calling shell: the hook leaves a project alone until you approve it"),
        "{said}"
    );
        assert!(
            said.contains("then `pyve allow`; the next prompt applies it"),
            "{said}"
        );
        assert!(
            !said.contains("pyve hook"),
            "the hook is installed:\n{said}"
        );
        // The fix does what it says: after `pyve allow`, the next prompt applies it.
        let steps = [
            format!("cd {}", sh.q(&root)),
            sh.prompt().into(),
            "pyve allow 2>/dev/null".to_owned(),
            sh.prompt().into(),
            "pyve doctor 2>&1".to_owned(),
        ];
        let said = stdout(&sb.script(sh, &steps.join("\n")));
        assert!(
            said.contains("the shell hook has applied this project in the calling shell"),
            "{said}"
        );
    }
);

#[test]
fn an_unknown_environment_names_the_command_that_adds_it() {
    let sb = Sandbox::new();
    let root = sb.unapproved_project("named", "environments:\n  dev: {}\n");
    let out = sb.pyve(&root, &["activate", "staging"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "pyve: no environment `staging` in .pyve/config; the environments are: dev; \
         `pyve init --env staging` adds and builds it (with --backend micromamba for a conda one)\n"
    );
    // What it says works: init adds and builds it, then activate switches.
    sb.pyve_ok(
        &root,
        &["init", "--env", "staging", "--no-deps", "--no-direnv"],
    );
    sb.pyve_ok(&root, &["activate", "staging"]);
}

#[test]
fn init_ends_with_only_the_steps_that_still_apply() {
    let sb = Sandbox::new();
    let hook_step = "with the shell hook: add `eval \"$(pyve hook bash)\"` to ~/.bashrc";
    // A shell without the hook: every way to use it.
    let first = sb.path("first");
    std::fs::create_dir_all(&first).unwrap();
    let err = sb.pyve_ok(&first, &["init", "--no-deps"]);
    assert!(err.contains(hook_step), "{err}");
    assert!(
        err.contains("with direnv: run `direnv allow` in the project"),
        "{err}"
    );
    assert!(
        err.contains("without any shell setup: `pyve run python`"),
        "{err}"
    );
    // A shell whose hook has applied a project: no advice to install it.
    let second = sb.path("second");
    std::fs::create_dir_all(&second).unwrap();
    let out = sb
        .pyve_command(&second, &["init", "--no-deps", "--no-direnv"])
        .env("PYVE_STATE", "anything")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains(hook_step), "{err}");
    assert!(
        err.contains("this shell's hook applies it at the next prompt inside the project"),
        "{err}"
    );
    assert!(
        !err.contains("direnv allow"),
        "no .envrc, no direnv step:\n{err}"
    );
    // CI: the result and nothing to do by hand.
    let third = sb.path("third");
    std::fs::create_dir_all(&third).unwrap();
    let out = sb
        .pyve_command(&third, &["init", "--no-deps", "--no-direnv"])
        .env("CI", "true")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.trim_end().ends_with(&format!(
            "ready: {} in {}",
            third.join(".venv").display(),
            third.display()
        )),
        "{err}"
    );
}

#[test]
fn a_python_version_that_does_not_exist_gets_one_that_does() {
    let sb = Sandbox::new();
    let dir = sb.path("versions");
    std::fs::create_dir_all(&dir).unwrap();
    let out = sb.pyve(&dir, &["init", "--no-deps", "--python-version", "3.12.99"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "and there is no Python 3.12.99 release (uv's list of CPython releases ends at 3.12."
        ),
        "{err}"
    );
    assert!(
        err.contains("Install it with one of:\n  uv python install 3.12\n"),
        "{err}"
    );
    assert!(!err.contains("3.12.99\n"), "{err}");
    // What it suggests is a version uv can install (from its own list;
    // installing it needs the network).
    let list = sb
        .command(uv())
        .args([
            "python",
            "list",
            "3.12",
            "--all-versions",
            "--only-downloads",
        ])
        .output()
        .unwrap();
    assert!(stdout(&list).contains("cpython-3.12."), "{}", stdout(&list));
    // A minor version that does not exist: no command to run, a version to ask for.
    let err = stderr(&sb.pyve(&dir, &["init", "--no-deps", "--python-version", "3.99"]));
    assert!(
        err.contains("and there is no Python 3.99 release that uv knows of"),
        "{err}"
    );
    assert!(!err.contains("Install it with"), "{err}");
    assert!(
        err.contains("ask for a version that exists, for example `--python-version 3.12`"),
        "{err}"
    );
    // Python 2, plainly.
    let out = sb.pyve(&dir, &["init", "--no-deps", "--python-version", "2.7"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("Python 2 is not supported"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join(".pyve").exists());
}

per_shell!(
    entering_a_fresh_clone_says_once_what_to_run_and_that_works,
    |sh: Sh| {
        let sb = Sandbox::new();
        let root = sb.unapproved_project("clone", "");
        std::fs::create_dir_all(root.join("src")).unwrap();
        let line = format!(
            "pyve: {}: a pyve project, not approved and with no environment yet; review \
             .pyve/config, then `pyve init` approves it and builds the environment",
            root.display()
        );
        let mut steps = Vec::new();
        for dir in [&root, &root.join("src"), &sb.path(""), &root] {
            steps.push(format!("cd {}", sh.q(dir)));
            steps.push(sh.prompt().to_owned());
        }
        steps.push("pyve init >/dev/null 2>&1".to_owned());
        steps.push(sh.prompt().to_owned());
        steps.push("printf 'VIRTUAL_ENV=%s\\n' \"$VIRTUAL_ENV\"".to_owned());
        let out = sb.script(sh, &steps.join("\n"));
        let said = stderr(&out);
        assert_eq!(said.matches(&line).count(), 1, "{sh:?}: {said}");
        assert_eq!(said.lines().count(), 1, "{sh:?}: {said}");
        assert_eq!(
            stdout(&out).trim_end(),
            format!("VIRTUAL_ENV={}", root.join(".venv").display())
        );
    }
);

per_shell!(
    init_in_a_shell_with_the_hook_writes_no_envrc_and_the_next_prompt_applies,
    |sh: Sh| {
        let sb = Sandbox::new();
        let root = sb.path("hooked");
        std::fs::create_dir_all(&root).unwrap();
        let steps = [
            format!("cd {}", sh.q(&root)),
            sh.prompt().to_owned(),
            "pyve init --no-deps".to_owned(),
            sh.prompt().to_owned(),
            "printf 'VIRTUAL_ENV=%s\\n' \"$VIRTUAL_ENV\"".to_owned(),
        ];
        let out = sb.script(sh, &steps.join("\n"));
        let err = stderr(&out);
        assert!(out.status.success(), "{err}");
        assert!(!root.join(".envrc").exists(), "{sh:?}: {err}");
        assert!(
            err.contains("this shell's hook applies it at the next prompt inside the project"),
            "{sh:?}: {err}"
        );
        assert!(
            !err.contains("pyve hook") && !err.contains("direnv"),
            "{sh:?}: {err}"
        );
        assert_eq!(
            stdout(&out).trim_end(),
            format!("VIRTUAL_ENV={}", root.join(".venv").display())
        );
    }
);

/// `.envrc` is written where direnv is what activates the project, or when
/// asked; it is kept current once it has pyve's block; `--no-direnv` is
/// for one run and leaves a committed checkout unmodified.
#[test]
fn envrc_only_where_direnv_activates_or_when_asked() {
    let sb = Sandbox::new();
    let made = |name: &str| {
        let root = sb.path(name);
        std::fs::create_dir_all(&root).unwrap();
        root
    };
    // direnv installed (the sandbox's PATH has it), no hook, not CI.
    let plain = made("plain");
    let err = sb.pyve_ok(&plain, &["init", "--no-deps"]);
    assert!(plain.join(".envrc").exists(), "{err}");
    assert!(err.contains("with direnv: run `direnv allow`"), "{err}");
    // A shell that runs the hook: none, unless asked; once asked, kept.
    let hooked = made("hooked");
    // The hook's mark names the shell that started pyve: here, this test.
    let me = std::process::id().to_string();
    let init = |root: &Path, args: &[&str], var: (&str, &str)| {
        let out = sb
            .pyve_command(root, args)
            .env(var.0, var.1)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    init(&hooked, &["init", "--no-deps"], ("PYVE_HOOK", me.as_str()));
    assert!(!hooked.join(".envrc").exists());
    init(
        &hooked,
        &["init", "--no-deps", "--direnv"],
        ("PYVE_HOOK", me.as_str()),
    );
    let envrc = std::fs::read_to_string(hooked.join(".envrc")).unwrap();
    std::fs::write(hooked.join(".envrc"), envrc.replace("watch_file", "wf")).unwrap();
    init(&hooked, &["init", "--no-deps"], ("PYVE_HOOK", me.as_str()));
    assert_eq!(
        std::fs::read_to_string(hooked.join(".envrc")).unwrap(),
        envrc,
        "the block is kept current"
    );
    // CI: none.
    let ci = made("ci");
    init(&ci, &["init", "--no-deps"], ("CI", "true"));
    assert!(!ci.join(".envrc").exists());
    // direnv not installed: none, and no direnv step.
    let bare = made("bare");
    let no_direnv = sb.path("no-direnv-bin");
    std::fs::create_dir_all(&no_direnv).unwrap();
    std::os::unix::fs::symlink(python(), no_direnv.join("python3")).unwrap();
    let path = format!("{}:{}", sb.path("tools").display(), no_direnv.display());
    let out = sb
        .pyve_command(&bare, &["init", "--no-deps"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!bare.join(".envrc").exists());
    assert!(!stderr(&out).contains("direnv"), "{}", stderr(&out));
    // A hook mark inherited from another shell (another process id) is not
    // this shell's hook.
    let inherited = made("inherited");
    init(&inherited, &["init", "--no-deps"], ("PYVE_HOOK", "1"));
    assert!(inherited.join(".envrc").exists());
    // The project's own `direnv: false` wins over a block already there.
    let envrc = std::fs::read_to_string(inherited.join(".envrc")).unwrap();
    std::fs::write(inherited.join(".pyve/config"), "direnv: false\n").unwrap();
    std::fs::write(inherited.join(".envrc"), envrc.replace("watch_file", "wf")).unwrap();
    init(&inherited, &["init", "--no-deps"], ("CI", "false"));
    assert!(std::fs::read_to_string(inherited.join(".envrc"))
        .unwrap()
        .contains("wf .pyve"));
    // A committed project built again with --no-direnv: nothing modified.
    let git = |args: &[&str]| {
        let out = sb
            .command("git")
            .args(args)
            .current_dir(&plain)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "init",
    ]);
    std::fs::remove_dir_all(plain.join(".venv")).unwrap();
    init(
        &plain,
        &["init", "--no-deps", "--no-direnv"],
        ("CI", "true"),
    );
    assert_eq!(git(&["status", "--porcelain"]), "");
}

/// doctor tells a shell that runs the hook but has applied nothing from
/// one without the hook, and an `.envrc` without pyve's block is not a
/// problem to fix (the hook or `pyve run` may be how the project is used).
#[test]
fn doctor_knows_the_hook_is_installed_and_needs_no_envrc() {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", "");
    std::fs::write(root.join(".envrc"), "export MINE=1\n").unwrap();
    let out = sb
        .pyve_command(&root, &["doctor"])
        .env("PYVE_HOOK", std::process::id().to_string())
        .output()
        .unwrap();
    let report = stderr(&out);
    assert!(
        report.contains(
            "the calling shell runs the hook (PYVE_HOOK names it), but it has applied nothing"
        ),
        "{report}"
    );
    assert!(!report.contains("pyve hook"), "{report}");
    assert!(
        report.contains(
            "not used for this project: .envrc has no pyve block (`pyve init --direnv` adds it)"
        ),
        "{report}"
    );
    assert!(
        report.trim_end().ends_with("0 errors, 1 warning"),
        "{report}"
    );
    // The command it names adds the block, keeping the user's line; then
    // doctor checks that direnv allows it, and its fix does that.
    sb.pyve_ok(&root, &["init", "--direnv"]);
    let envrc = std::fs::read_to_string(root.join(".envrc")).unwrap();
    assert!(envrc.starts_with("export MINE=1\n") && envrc.contains("# >>> pyve >>>"));
    let report = stderr(&sb.pyve(&root, &["doctor"]));
    let not_allowed = format!("{} is not allowed", root.join(".envrc").display());
    assert!(report.contains(&not_allowed), "{report}");
    let allow = sb
        .command("direnv")
        .arg("allow")
        .arg(&root)
        .output()
        .unwrap();
    assert!(allow.status.success(), "{}", stderr(&allow));
    let report = stderr(&sb.pyve(&root, &["doctor"]));
    assert!(
        report.contains(&format!("{} is allowed", root.join(".envrc").display())),
        "{report}"
    );
}
