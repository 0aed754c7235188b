//! Trust and hardening: a project is activated only once its user approved
//! it, files other users control are never used, and hostile names or
//! broken state never run anything.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::per_shell;
use crate::support::*;

/// A cloned repository: a config and a venv whose `bin` has an `ls` that
/// leaves a mark when it runs. Not approved.
fn cloned(sb: &Sandbox, rel: &str) -> (PathBuf, PathBuf) {
    let root = sb.unapproved_project(rel, "");
    make_venv(&root.join(".venv"));
    let mark = sb.path(format!("tmp/{rel}-ls-ran"));
    let ls = root.join(".venv/bin/ls");
    std::fs::write(&ls, format!("#!/bin/sh\ntouch '{}'\n", mark.display())).unwrap();
    std::fs::set_permissions(&ls, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(root.join("sub")).unwrap();
    (root, mark)
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

per_shell!(
    an_unapproved_project_changes_nothing_until_allowed,
    |sh: Sh| {
        let sb = Sandbox::new();
        let (root, mark) = cloned(&sb, "cloned");
        let (d, err) = run(
            &sb,
            sh,
            &[
                sh.prompt().into(),
                dump("before"),
                cd(sh, &root),
                sh.prompt().into(),
                dump("inside"),
                "ls >/dev/null".into(),
                cd(sh, &root.join("sub")),
                sh.prompt().into(),
                cd(sh, &sb.path("tmp")),
                sh.prompt().into(),
                cd(sh, &root),
                sh.prompt().into(),
                dump("again"),
                // Approved from inside: the next prompt activates, no cd needed.
                "pyve allow 2>/dev/null".into(),
                sh.prompt().into(),
                dump("allowed"),
                "pyve deny 2>/dev/null".into(),
                sh.prompt().into(),
                dump("denied"),
            ],
        );
        assert_eq!(
            visible(&d["inside"]),
            visible(&d["before"]),
            "nothing applied"
        );
        assert_eq!(visible(&d["again"]), visible(&d["before"]));
        assert!(!mark.exists(), "the project's ls did not run");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "once per project, then the denial: {err}");
        assert_eq!(
            lines[0],
            format!(
            "pyve: {}: not activated: you have not approved this project (its environment would go \
             first on PATH); review .pyve/config and run `pyve allow`",
            root.display()
        )
        );
        assert!(lines[1].contains("you denied it with `pyve deny`"), "{err}");
        assert_eq!(
            var(&d["allowed"], "VIRTUAL_ENV"),
            root.join(".venv").display().to_string()
        );
        assert_eq!(var(&d["allowed"], "SHOWN"), "(venv:cloned) PROMPT$ ");
        assert_eq!(visible(&d["denied"]), visible(&d["before"]), "deny reverts");
    }
);

per_shell!(
    an_edit_or_a_replaced_environment_needs_a_new_approval,
    |sh: Sh| {
        let sb = Sandbox::new();
        let root = sb.venv_project("p", "env_name: one\n");
        let config = root.join(".pyve/config");
        let venv = root.join(".venv");
        let (d, err) = run(
            &sb,
            sh,
            &[
                dump("before"),
                cd(sh, &root),
                sh.prompt().into(),
                dump("approved"),
                // As a `git pull` would bring it.
                format!("printf 'env_name: two\\n' > {}", sh.q(&config)),
                sh.prompt().into(),
                dump("edited"),
                "pyve allow 2>/dev/null".into(),
                sh.prompt().into(),
                dump("reapproved"),
                // Rebuilt here by the user's own tools: still approved.
                format!(
                    "{} -m venv --without-pip {}",
                    python(),
                    sh.q(&root.join("other"))
                ),
                format!("rm -rf {}", sh.q(&venv)),
                format!("mv {} {}", sh.q(&root.join("other")), sh.q(&venv)),
                sh.prompt().into(),
                dump("rebuilt"),
                // Replaced by a pull: git tracks files in it.
                "git init -q".into(),
                format!("rm -rf {}", sh.q(&venv)),
                format!("{} -m venv --without-pip .venv", python()),
                "git add -f .venv/pyvenv.cfg".into(),
                sh.prompt().into(),
                dump("replaced"),
            ],
        );
        assert_eq!(var(&d["rebuilt"], "PYVE_ENV_NAME"), "two", "{err}");
        assert_eq!(var(&d["approved"], "PYVE_ENV_NAME"), "one");
        assert_eq!(visible(&d["edited"]), visible(&d["before"]), "held back");
        assert_eq!(var(&d["reapproved"], "PYVE_ENV_NAME"), "two");
        assert_eq!(visible(&d["replaced"]), visible(&d["before"]), "held back");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{err}");
        assert!(
            lines[0].ends_with(
                "not activated: .pyve/config changed since you approved it (key env_name); \
             review the change and run `pyve allow`"
            ),
            "{err}"
        );
        assert!(
            lines[1].contains(&format!(
                "the environment {} was created or replaced since you approved the project",
                venv.display()
            )),
            "{err}"
        );
    }
);

#[test]
fn a_copy_is_another_project_and_run_and_export_refuse_it() {
    let sb = Sandbox::new();
    let root = sb.path("orig");
    std::fs::create_dir_all(&root).unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    let copy = sb.path("copy");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(&root)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let prefix = ["run", "python", "-c", "import sys; print(sys.prefix)"];

    let out = sb.pyve(&root, &prefix);
    assert_eq!(
        stdout(&out).trim(),
        root.join(".venv").display().to_string()
    );
    let out = sb.pyve(&copy, &prefix);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        format!(
            "pyve: {}: you have not approved this project (its environment would go first on PATH); \
             review .pyve/config and run `pyve allow`, or pass --trust (or set PYVE_TRUST_ALL=1, meant for CI)",
            copy.display()
        )
    );
    let out = sb.pyve(&copy, &["run", "--trust", "python", "-c", "print(1)"]);
    assert_eq!(stdout(&out).trim(), "1", "{}", stderr(&out));
    let out = sb
        .pyve_command(&copy, &["run", "python", "-c", "print(2)"])
        .env("PYVE_TRUST_ALL", "1")
        .output()
        .unwrap();
    assert_eq!(stdout(&out).trim(), "2", "{}", stderr(&out));

    let out = sb.pyve(&copy, &["export", "bash"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    let out = sb
        .pyve_command(&copy, &["export", "bash"])
        .env("PYVE_TRUST_ALL", "1")
        .output()
        .unwrap();
    assert!(stdout(&out).contains("VIRTUAL_ENV"), "{}", stderr(&out));

    let out = sb.pyve(&copy, &["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error    trust        you have not approved this project"),
        "{}",
        stderr(&out)
    );
    sb.allow(&copy);
    let out = sb.pyve(&copy, &["doctor"]);
    assert!(
        stderr(&out).contains("ok       trust        approved by you"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn allow_and_deny_name_what_they_do_and_refuse_what_they_cannot() {
    let sb = Sandbox::new();
    let (root, _) = cloned(&sb, "repo");
    // From elsewhere, naming a directory inside the project.
    let out = sb.pyve(
        &sb.path("tmp"),
        &["allow", root.join("sub").to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "pyve: approved {} (venv environment {}/.venv)",
            root.display(),
            root.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("was not built by `pyve init` on this machine"),
        "a foreign environment is pointed out: {err}"
    );
    let out = sb.pyve(&root, &["deny"]);
    assert!(
        stderr(&out).starts_with("pyve: denied "),
        "{}",
        stderr(&out)
    );

    let cases: [(&Path, &[&str], i32, &str); 4] = [
        (&sb.path("tmp"), &["allow"], 1, "no pyve project in"),
        (
            &root,
            &["allow", "nowhere"],
            1,
            "nowhere is not a directory",
        ),
        (
            &root,
            &["allow", "--bogus"],
            2,
            "unknown option `--bogus` for `pyve allow`",
        ),
        (
            &root,
            &["deny", "a", "b"],
            2,
            "unexpected argument `b` for `pyve deny`",
        ),
    ];
    for (dir, args, code, message) in cases {
        let out = sb.pyve(dir, args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }

    // A broken config is not approved; it can still be denied.
    std::fs::write(root.join(".pyve/config"), "prompt:\n  show: maybe\n").unwrap();
    let out = sb.pyve(&root, &["allow"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(".pyve/config:2:"), "{}", stderr(&out));
    assert!(sb.pyve(&root, &["deny"]).status.success());
}

per_shell!(a_corrupt_state_variable_changes_nothing, |sh: Sh| {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", "");
    let (d, err) = run(
        &sb,
        sh,
        &[
            sh.export("PYVE_STATE", "'3;garbage'"),
            dump("before"),
            cd(sh, &root),
            sh.prompt().into(),
            dump("inside"),
            cd(sh, &sb.path("tmp")),
            sh.prompt().into(),
            cd(sh, &root),
            sh.prompt().into(),
            dump("again"),
        ],
    );
    assert_eq!(d["inside"], d["before"], "nothing applied, nothing deleted");
    assert_eq!(d["again"], d["before"]);
    assert_eq!(err.lines().count(), 1, "told once: {err}");
    assert!(
        err.starts_with("pyve: PYVE_STATE is corrupt (missing field)"),
        "{err}"
    );
    let clear = if sh == Sh::Fish {
        "set -e PYVE_STATE"
    } else {
        "unset PYVE_STATE"
    };
    assert!(err.contains(clear), "{err}");
});

/// What the hook, `run` and `doctor` say about a project whose files
/// someone else controls; nothing is applied and nothing runs.
fn refused_everywhere(sb: &Sandbox, root: &Path, expected: &str) {
    let (d, err) = run(
        sb,
        Sh::Bash,
        &[
            dump("before"),
            cd(Sh::Bash, root),
            "__pyve_hook".into(),
            dump("inside"),
        ],
    );
    assert_eq!(visible(&d["inside"]), visible(&d["before"]), "{expected}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(expected), "hook: {err}");
    let out = sb.pyve(root, &["run", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(expected), "run: {}", stderr(&out));
    let out = sb.pyve(root, &["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(expected), "doctor: {}", stderr(&out));
}

#[test]
fn files_other_users_control_are_never_used() {
    let sb = Sandbox::new();
    // Writable by everyone: the config, then the environment.
    let world = sb.venv_project("world", "");
    chmod(&world.join(".pyve/config"), 0o666);
    refused_everywhere(
        &sb,
        &world,
        &format!(
            "{}: writable by every user (mode 0666)",
            world.join(".pyve/config").display()
        ),
    );
    chmod(&world.join(".pyve/config"), 0o644);
    chmod(&world.join(".venv/bin"), 0o777);
    refused_everywhere(
        &sb,
        &world,
        &format!(
            "{}: writable by every user (mode 0777)",
            world.join(".venv/bin").display()
        ),
    );
    // --trust is the user vouching for it.
    let out = sb.pyve(&world, &["run", "--trust", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    chmod(&world.join(".venv/bin"), 0o755);

    // A trust store others can write approves nothing.
    let store = sb.path("data/pyve/trust");
    chmod(&store, 0o777);
    refused_everywhere(&sb, &world, "the trust store");
    chmod(&store, 0o700);

    if !is_root() {
        eprintln!("skipped: files owned by another user need root to make");
        return;
    }
    let theirs = sb.venv_project("theirs", "");
    nix::unistd::chown(
        &theirs.join(".pyve/config"),
        Some(nix::unistd::Uid::from_raw(4242)),
        None,
    )
    .unwrap();
    refused_everywhere(
        &sb,
        &theirs,
        &format!(
            "{}: belongs to uid 4242, not to you",
            theirs.join(".pyve/config").display()
        ),
    );
    let out = sb.pyve(&theirs, &["allow"]);
    assert_eq!(out.status.code(), Some(1), "not approvable either");
    // Group-writable is fine for a private group only; gid 4243 is nobody's.
    let group = sb.venv_project("group", "");
    nix::unistd::chown(
        &group.join(".pyve"),
        None,
        Some(nix::unistd::Gid::from_raw(4243)),
    )
    .unwrap();
    chmod(&group.join(".pyve"), 0o775);
    refused_everywhere(
        &sb,
        &group,
        &format!(
            "{}: writable by group gid 4243 (mode 0775)",
            group.join(".pyve").display()
        ),
    );
}

/// Names a hostile repository could give a project directory. None may run
/// anything, in the hook, `.envrc`, `run` or `purge`.
const HOSTILE_DIRS: &[&[u8]] = &[
    b"sp ace",
    b"quo'te\"d",
    b"$(touch PWNED)",
    b"`touch PWNED`",
    b"semi;touch PWNED",
    b"new\nline",
    b"per%cent%s",
    b"back\\slash",
    b"-leading",
    b"bad\xffutf8",
    b"!bang&amp|pipe>redir",
];

#[test]
fn hostile_directory_names_work_or_are_refused_and_never_run_anything() {
    let sb = Sandbox::new();
    let parent = sb.path("hostile");
    std::fs::create_dir_all(&parent).unwrap();
    for name in HOSTILE_DIRS {
        let root = parent.join(std::ffi::OsStr::from_bytes(name));
        std::fs::create_dir_all(&root).unwrap();
        let label = String::from_utf8_lossy(name);
        // A control character cannot be a prompt's name: refused with the fix.
        if std::str::from_utf8(name).is_err() {
            let out = sb.pyve(&root, &["init"]);
            assert_eq!(out.status.code(), Some(1), "{label}");
            assert!(
                stderr(&out).contains("is not valid UTF-8"),
                "{}",
                stderr(&out)
            );
            assert!(!root.join(".pyve").exists() && !root.join(".venv").exists());
            // The hook handles such a project (see quoting.rs); its
            // environment just has to live at a UTF-8 path.
            continue;
        }
        let env_name = if name.contains(&b'\n') {
            let out = sb.pyve(&root, &["init"]);
            assert_eq!(out.status.code(), Some(1), "{label}");
            assert!(
                stderr(&out).contains("choose one with --env-name"),
                "{}",
                stderr(&out)
            );
            assert!(!root.join(".pyve").exists() && !root.join(".venv").exists());
            sb.pyve_ok(&root, &["init", "--env-name", "newline"]);
            b"newline".to_vec()
        } else {
            sb.pyve_ok(&root, &["init"]);
            name.to_vec()
        };
        let print_prefix = "import os, sys; sys.stdout.buffer.write(os.fsencode(sys.prefix))";
        // The .envrc that init wrote, evaluated by bash with direnv's three
        // functions it uses standing in.
        let out = sb
            .command("bash")
            .current_dir(&root)
            .env("PWD", &root)
            .args([
                "--norc",
                "-c",
                &format!(
                    "watch_file() {{ :; }}; log_error() {{ echo \"$*\" >&2; }}; \
                     has() {{ command -v \"$1\" >/dev/null; }}; source ./.envrc && python -c '{print_prefix}'"
                ),
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.stdout,
            root.join(".venv").as_os_str().as_bytes(),
            "{label}: {}",
            stderr(&out)
        );
        // Real direnv, for the names direnv 2.32 itself can handle: it
        // builds a bash command line from the directory and breaks on
        // (or runs) `"`, `$(…)`, backquotes and backslashes in it.
        if !name.iter().any(|b| b"\"$`\\".contains(b)) {
            let out = sb
                .command("direnv")
                .current_dir(&root)
                .env("PWD", &root)
                .args(["allow", "."])
                .output()
                .unwrap();
            assert!(out.status.success(), "{label}: {}", stderr(&out));
            let out = sb
                .command("direnv")
                .current_dir(&parent)
                .env("PWD", &parent)
                .arg("exec")
                .arg(&root)
                .args(["python", "-c", print_prefix])
                .output()
                .unwrap();
            assert_eq!(
                out.stdout,
                root.join(".venv").as_os_str().as_bytes(),
                "{label}: {}",
                stderr(&out)
            );
        }
        let out = sb.pyve(
            &root,
            &[
                "run",
                "python",
                "-c",
                "import os, sys; sys.stdout.buffer.write(os.fsencode(os.environ['PYVE_PROMPT']))",
            ],
        );
        let mut prompt = b"(venv:".to_vec();
        prompt.extend_from_slice(&env_name);
        prompt.push(b')');
        assert_eq!(out.stdout, prompt, "{label}: {}", stderr(&out));
        sb.pyve_ok(&root, &["purge", "--yes"]);
        assert!(
            !root.join(".venv").exists() && !root.join(".pyve").exists(),
            "{label}"
        );
        assert!(root.exists(), "{label}: purge keeps the project directory");
    }
    // PATH cannot hold a directory with ':'; refused, nothing written.
    let colon = parent.join("co:lon");
    std::fs::create_dir_all(&colon).unwrap();
    let out = sb.pyve(&colon, &["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("contains ':'"), "{}", stderr(&out));
    assert!(!colon.join(".pyve").exists() && !colon.join(".venv").exists());
    // Nothing ran: no PWNED anywhere under the sandbox.
    let found = std::process::Command::new("find")
        .arg(sb.path("."))
        .args(["-name", "PWNED"])
        .output()
        .unwrap();
    assert_eq!(stdout(&found), "", "a name was executed");
}

/// Broken configs: what each says. Every one names the file (and the line
/// where there is one), exits 1 in every command, and nothing is applied,
/// rebuilt or deleted.
const MALFORMED: &[(&[u8], &str)] = &[
    (b"backend: 3\n", "config:1: backend: `3` is not supported"),
    (
        b"env_name: [a, b]\n",
        "config:1:11: env_name: invalid type: sequence",
    ),
    (b"env_name: \"\"\n", "config:1: env_name: must not be empty"),
    (
        b"python: 3\n",
        "config:1:9: python: invalid type: integer `3`, expected a mapping",
    ),
    (
        b"python:\n  version: 3.10\n",
        "config:2: python.version: write the version in quotes, `version: \"3.10\"`",
    ),
    (
        b"python:\n  version: [3]\n",
        "config:2: python.version: must be a version in quotes",
    ),
    (
        b"python:\n  vers: '3.12'\n",
        "config:2:3: python: unknown field `vers`, expected `version`",
    ),
    (
        b"venv:\n  directory: [a]\n",
        "config:2:14: venv.directory: invalid type: sequence",
    ),
    (
        b"venv:\n  creator: conda\n",
        "config:2:12: venv.creator: unknown variant `conda`",
    ),
    (
        b"micromamba:\n  env_name: base\n",
        "config:2: micromamba.env_name: `base` is reserved",
    ),
    (
        b"lock_file_policy: maybe\n",
        "config:1:19: lock_file_policy: unknown variant `maybe`",
    ),
    (
        b"prompt:\n  show: maybe\n",
        "config:2:9: prompt.show: invalid type: string \"maybe\", expected a boolean",
    ),
    (
        b"prompt:\n  format: '{bogus}'\n",
        "config:2: prompt.format: unknown placeholder `{bogus}`",
    ),
    (
        b"install_deps: maybe\n",
        "config:1:15: install_deps: invalid type",
    ),
    (
        b"requirements: 5\n",
        "config:1:15: requirements: invalid type: integer `5`, expected a sequence",
    ),
    (b"direnv: maybe\n", "config:1:9: direnv: invalid type"),
    (b"a: [\n", "config:2:1: did not find expected node content"),
    (b"key: \"unterminated\n", "found unexpected end of stream"),
    (
        b"- just\n- a list\n",
        "config:1: must be a YAML mapping of keys",
    ),
    (b"\x00\x01\x7fELF\xff\xfe", "config:1: is not UTF-8 text"),
];

#[test]
fn malformed_configs_are_one_clear_message_and_change_nothing() {
    let sb = Sandbox::new();
    let shared = sb.path("shared-venv");
    make_venv(&shared);
    let mut roots = Vec::new();
    for (i, (bytes, _)) in MALFORMED.iter().enumerate() {
        let root = sb.unapproved_project(format!("bad/{i}"), "");
        std::os::unix::fs::symlink(&shared, root.join(".venv")).unwrap();
        std::fs::write(root.join(".pyve/config"), bytes).unwrap();
        roots.push(root);
    }
    // The odd files: huge, a directory, a dangling link.
    let huge = sb.unapproved_project("bad/huge", "");
    std::fs::write(huge.join(".pyve/config"), vec![b'#'; 2 << 20]).unwrap();
    let directory = sb.unapproved_project("bad/directory", "");
    std::fs::remove_file(directory.join(".pyve/config")).unwrap();
    std::fs::create_dir(directory.join(".pyve/config")).unwrap();
    let dangling = sb.unapproved_project("bad/dangling", "");
    std::fs::remove_file(dangling.join(".pyve/config")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/config", dangling.join(".pyve/config")).unwrap();
    let odd: [(&Path, &str); 3] = [
        (
            &huge,
            "config: is 2097152 bytes; a pyve config is at most 1048576 bytes",
        ),
        (
            &directory,
            "config: is not a regular file; remove it or replace it with a YAML file",
        ),
        (
            &dangling,
            "config: is a symbolic link to /nonexistent/config, which does not exist",
        ),
    ];
    let cases: Vec<(&Path, &str)> = roots
        .iter()
        .zip(MALFORMED)
        .map(|(root, (_, expected))| (root.as_path(), *expected))
        .chain(odd)
        .collect();

    for (root, expected) in &cases {
        let config = root.join(".pyve/config");
        let before = std::fs::symlink_metadata(&config).unwrap();
        let had_venv = root.join(".venv/bin/python").exists();
        for args in [
            &["run", "true"][..],
            &["init"],
            &["purge", "--yes"],
            &["allow"],
            &["export", "bash"],
        ] {
            let out = sb.pyve(root, args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{args:?} {expected}: {err}");
            assert_eq!(err.lines().count(), 1, "{args:?}: one message: {err}");
            assert!(
                err.starts_with(&format!("pyve: {}", config.display())),
                "{args:?}: names the file: {err}"
            );
            assert!(err.contains(expected), "{args:?}: {expected}: {err}");
            assert!(stdout(&out).is_empty(), "{args:?}");
        }
        let out = sb.pyve(root, &["doctor"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains(expected), "doctor: {}", stderr(&out));
        // Nothing deleted, nothing rewritten.
        assert_eq!(
            root.join(".venv/bin/python").exists(),
            had_venv,
            "{expected}"
        );
        assert!(
            !root.join(".gitignore").exists(),
            "{expected}: nothing written"
        );
        let after = std::fs::symlink_metadata(&config).unwrap();
        assert_eq!(
            (before.len(), before.modified().unwrap()),
            (after.len(), after.modified().unwrap()),
            "{expected}"
        );
    }

    // The hook: told once per config, nothing applied.
    let mut steps = vec![dump("before")];
    for (root, _) in &cases {
        steps.extend([
            cd(Sh::Bash, root),
            "__pyve_hook".into(),
            "__pyve_hook".into(),
        ]);
    }
    steps.push(dump("after"));
    let (d, err) = run(&sb, Sh::Bash, &steps);
    assert_eq!(d["after"], d["before"]);
    assert_eq!(err.lines().count(), cases.len(), "{err}");
    for (root, expected) in &cases {
        assert!(
            err.lines().any(|l| l
                .starts_with(&format!("pyve: {}", root.join(".pyve/config").display()))
                && l.contains(expected)
                && l.ends_with("; environment not activated")),
            "{expected}: {err}"
        );
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unknown_keys_warn_by_name_and_still_work() {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", "colour: red\nvenv:\n  creator: uv\n");
    let out = sb.pyve(&root, &["run", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "pyve: warning: {}: unknown key `colour` ignored\n",
            root.join(".pyve/config").display()
        )
    );
}

#[test]
fn broken_conda_specs_are_named_and_nothing_is_built() {
    let sb = Sandbox::new();
    sb.micromamba_on_path();
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "environment.yml",
            b"name: x\ndependencies: [python\n",
            "environment.yml:3:1",
        ),
        ("environment.yml", b"- a\n- list\n", "environment.yml"),
        (
            "conda-lock.yml",
            b"version: 1\npackage: {\n",
            "conda-lock.yml:3:1",
        ),
        ("conda-lock.yml", b"\xff\xfe binary", "conda-lock.yml"),
    ];
    for (i, (file, bytes, expected)) in cases.iter().enumerate() {
        let root = sb.path(format!("conda/c{i}"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join(file), bytes).unwrap();
        let out = sb.pyve(&root, &["init", "--backend", "micromamba", "--no-direnv"]);
        assert_eq!(out.status.code(), Some(1), "{file}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{file}: {}", stderr(&out));
        assert!(!root.join(".pyve").exists(), "{file}: nothing written");
        assert_eq!(std::fs::read(root.join(file)).unwrap(), *bytes);
    }
    assert!(sb.micromamba_calls().is_empty(), "micromamba never ran");
}

/// Approved before its environment existed, then a pull ships `.venv/bin`
/// and a marker pyve cannot read as one (a directory, a link to a device):
/// not an absent environment, not trusted, and never read without bound.
#[test]
fn a_marker_that_is_not_a_small_file_is_never_trusted() {
    let sb = Sandbox::new();
    let root = sb.project("p", "");
    let venv = root.join(".venv");
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::os::unix::fs::symlink("/bin/true", venv.join("bin/python")).unwrap();
    for marker in ["directory", "device"] {
        let cfg = venv.join("pyvenv.cfg");
        let _ = std::fs::remove_file(&cfg);
        let _ = std::fs::remove_dir(&cfg);
        match marker {
            "directory" => std::fs::create_dir(&cfg).unwrap(),
            _ => std::os::unix::fs::symlink("/dev/zero", &cfg).unwrap(),
        }
        let out = sb.pyve(&root, &["run", "python"]);
        assert_eq!(out.status.code(), Some(1), "{marker}");
        let err = stderr(&out);
        assert!(err.contains("not a small regular file"), "{marker}: {err}");
        let (d, err) = run(
            &sb,
            Sh::Bash,
            &[cd(Sh::Bash, &root), Sh::Bash.prompt().into(), dump("in")],
        );
        assert_eq!(d["in"].get("VIRTUAL_ENV"), Some(&None), "{marker}");
        assert!(err.contains("not activated"), "{marker}: {err}");
        // Listing reads the marker for the version: bounded, so it ends.
        assert!(sb.pyve(&root, &["envs"]).status.success(), "{marker}");
    }
}
