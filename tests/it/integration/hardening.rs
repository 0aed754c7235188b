//! A hostile repository, a hostile environment and odd shells: each case an
//! adversarial review found, driven through the real binary (and a real
//! shell where the shell is involved). docs/security.md lists them.

use std::path::Path;
use std::process::Output;

use crate::per_shell;
use crate::support::*;

/// A file that reports size 0 and holds far more: a read bounded by the
/// size a file reports has no bound here.
const PROC_FILE: &str = "/proc/self/pagemap";

/// Enters `root` in bash, runs the hook and then `then`: asserts that no
/// variable a user sees changed, and returns what the shell printed on
/// stderr.
fn bash_enters_and_applies_nothing(sb: &Sandbox, root: &Path, then: &[&str]) -> String {
    let mut lines = vec![dump("before"), cd(Sh::Bash, root), "__pyve_hook".into()];
    lines.extend(then.iter().map(|line| line.to_string()));
    lines.push(dump("inside"));
    let (d, err) = run(sb, Sh::Bash, &lines);
    assert_eq!(visible(&d["inside"]), visible(&d["before"]), "{err}");
    err
}

/// `pyve ARGS` in `dir` with its address space capped at 512 MiB, so an
/// unbounded read fails loudly instead of filling the machine.
fn pyve_capped(sb: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    let mut line = format!("ulimit -v 524288; exec {}", Sh::Bash.q(&pyve_bin()));
    for arg in args {
        line.push(' ');
        line.push_str(arg);
    }
    sb.command("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("PWD", dir)
        .output()
        .unwrap()
}

/// The config, environment.yml, or a file the environment holds, is a link
/// to a /proc file: every command and the hook say so in one line and
/// read at most the bound.
#[test]
fn a_config_that_is_a_proc_file_is_refused_by_every_command() {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", "");
    std::fs::remove_file(root.join(".pyve/config")).unwrap();
    std::os::unix::fs::symlink(PROC_FILE, root.join(".pyve/config")).unwrap();
    for args in [
        &["status"][..],
        &["allow"],
        &["doctor"],
        &["run", "true"],
        &["export", "bash"],
        &["envs"],
        &["init"],
        &["purge", "--yes"],
    ] {
        let out = pyve_capped(&sb, &root, args);
        let said = format!("{}{}", stderr(&out), stdout(&out));
        assert_eq!(out.status.code(), Some(1), "{args:?}: {said}");
        assert!(
            said.contains("has more than 1048576 bytes; a pyve config is at most 1048576 bytes"),
            "{args:?}: {said}"
        );
    }
    assert!(
        root.join(".venv/pyvenv.cfg").exists(),
        "purge removed nothing"
    );
    let err = bash_enters_and_applies_nothing(&sb, &root, &[]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("has more than 1048576 bytes"), "{err}");
}

#[test]
fn a_conda_spec_or_environment_file_that_is_a_proc_file_is_bounded() {
    let sb = Sandbox::new();
    sb.micromamba_on_path();
    let root = sb.path("condaproj");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("environment.yml"),
        "channels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - tool\n",
    )
    .unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    let prefix = std::fs::read_dir(root.join(".pyve/envs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .unwrap();
    // The environment's own variable files: skipped with one warning each.
    let vars = prefix.join("etc/conda/env_vars.d");
    std::fs::create_dir_all(&vars).unwrap();
    std::os::unix::fs::symlink(PROC_FILE, vars.join("zz.json")).unwrap();
    std::fs::remove_file(prefix.join("conda-meta/state")).ok();
    std::os::unix::fs::symlink(PROC_FILE, prefix.join("conda-meta/state")).unwrap();
    let out = pyve_capped(&sb, &root, &["run", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("zz.json: larger than 64 KiB; skipped"),
        "{err}"
    );
    assert!(err.contains("state: larger than 64 KiB; skipped"), "{err}");
    // The spec: refused with its bound.
    std::fs::remove_file(root.join("environment.yml")).unwrap();
    std::os::unix::fs::symlink(PROC_FILE, root.join("environment.yml")).unwrap();
    for args in [&["init", "--force"][..], &["doctor"]] {
        let out = pyve_capped(&sb, &root, args);
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {said}");
        assert!(
            said.contains("environment.yml: is larger than 16777216 bytes"),
            "{args:?}: {said}"
        );
    }
}

/// A FIFO where pyve reads a file the user shares with it, or a pin, is
/// refused at once: opening one for reading would wait for a writer.
#[test]
fn a_fifo_in_place_of_a_file_is_refused_without_waiting() {
    let sb = Sandbox::new();
    for name in [".envrc", ".gitignore", ".python-version"] {
        let root = sb.path(format!("fifo{name}"));
        std::fs::create_dir_all(&root).unwrap();
        nix::unistd::mkfifo(&root.join(name), nix::sys::stat::Mode::S_IRWXU).unwrap();
        // `timeout`: a hang is a failure here, not a stuck suite.
        let out = sb
            .command("timeout")
            .arg("60")
            .arg(pyve_bin())
            .arg("init")
            .current_dir(&root)
            .env("PWD", &root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("{name}: is not a regular file")),
            "{name}: {}",
            stderr(&out)
        );
    }
    // In a project: purge and doctor.
    let root = sb.venv_project("p", "");
    nix::unistd::mkfifo(&root.join(".envrc"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    for args in [&["doctor"][..], &["purge", "--yes"]] {
        let out = sb
            .command("timeout")
            .arg("60")
            .arg(pyve_bin())
            .args(args)
            .current_dir(&root)
            .env("PWD", &root)
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(124), "{args:?} hung");
    }
}

/// Deeply nested YAML made the parser take minutes (its time grows with
/// the square of the depth): refused before parsing, with the line.
#[test]
fn deeply_nested_yaml_is_refused_before_it_is_parsed() {
    let sb = Sandbox::new();
    let deep = format!("{}{}", "[".repeat(128 << 10), "]".repeat(128 << 10));
    let root = sb.venv_project("p", "");
    std::fs::write(
        root.join(".pyve/config"),
        format!("# 256 KB\nenv_name: {deep}\n"),
    )
    .unwrap();
    for args in [&["status"][..], &["run", "true"], &["doctor"]] {
        let out = sb.pyve(&root, args);
        let said = format!("{}{}", stderr(&out), stdout(&out));
        assert_eq!(out.status.code(), Some(1), "{args:?}: {said}");
        assert!(
            said.contains(".pyve/config:2: is nested more than 64 levels deep"),
            "{args:?}: {said}"
        );
    }
    let err = bash_enters_and_applies_nothing(&sb, &root, &[]);
    assert!(err.contains("nested more than 64 levels deep"), "{err}");
    // A quote or `#` inside a plain scalar opens no string or comment that
    // could hide the nesting after it from the check (the parser reads
    // them as text).
    for before in [
        "env_name: x '",
        "env_name: x \"",
        "other: [a-#, [",
        "a: b#c",
    ] {
        let config = format!("{before}\nother: {deep}\n");
        std::fs::write(root.join(".pyve/config"), &config).unwrap();
        let out = sb.pyve(&root, &["status"]);
        let said = format!("{}{}", stderr(&out), stdout(&out));
        assert_eq!(out.status.code(), Some(1), "{before}: {said}");
        assert!(
            said.contains("nested more than 64 levels deep"),
            "{before}: {said}"
        );
    }
    // A conda spec likewise.
    sb.micromamba_on_path();
    let conda = sb.path("condaproj");
    std::fs::create_dir_all(&conda).unwrap();
    std::fs::write(
        conda.join("environment.yml"),
        format!("channels: [conda-forge]\ndependencies: {deep}\n"),
    )
    .unwrap();
    let out = sb.pyve(&conda, &["init"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("environment.yml:2: nested more than 64 levels deep"),
        "{}",
        stderr(&out)
    );
}

/// A clone that ships `.venv`, with a `bin/python` that answers like the
/// real one and notes that it ran, and a `bin/ls`.
fn clone_with_a_shipped_venv(sb: &Sandbox, rel: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let root = sb.path(rel);
    let bin = root.join(".venv/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(root.join(".pyve")).unwrap();
    std::fs::write(root.join(".pyve/config"), "").unwrap();
    let ran = sb.path("tmp/shipped-ran");
    let version = system_python_version();
    std::fs::write(
        root.join(".venv/pyvenv.cfg"),
        format!("home = /usr/bin\nversion = {version}\n"),
    )
    .unwrap();
    for (name, body) in [
        (
            "python",
            format!(
                "#!/bin/sh\necho python >> '{ran}'\necho {version}\necho '{prefix}'\n",
                ran = ran.display(),
                prefix = root.join(".venv").display()
            ),
        ),
        ("ls", format!("#!/bin/sh\necho ls >> '{}'\n", ran.display())),
    ] {
        let path = bin.join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    (root, ran)
}

/// `pyve init` never runs a program of an environment it did not build on
/// this machine: without a terminal it refuses to adopt one, `--force`
/// rebuilds it without running it (even in a denied project), and on a
/// terminal it asks.
#[test]
fn init_never_runs_or_adopts_an_environment_that_came_with_the_project() {
    let sb = Sandbox::new();
    let (root, ran) = clone_with_a_shipped_venv(&sb, "clone");
    let python = root.join(".venv/bin/python");
    let out = sb.pyve(&root, &["init"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("was not built by pyve on this machine")
            && stderr(&out).contains("rebuild it with `pyve init --force`"),
        "{}",
        stderr(&out)
    );
    assert!(!ran.exists(), "a shipped program ran");
    assert!(
        std::fs::symlink_metadata(&python).unwrap().is_file(),
        "kept as it was"
    );
    // Not approved either: entering it runs nothing.
    bash_enters_and_applies_nothing(&sb, &root, &["ls >/dev/null 2>&1; true"]);
    assert!(!ran.exists(), "a shipped program ran");

    sb.pyve_ok(&root, &["deny"]);
    let err = sb.pyve_ok(&root, &["init", "--force"]);
    assert!(err.contains("creating"), "{err}");
    assert!(!ran.exists(), "--force ran the shipped python: {err}");
    assert!(
        std::fs::symlink_metadata(&python)
            .unwrap()
            .file_type()
            .is_symlink(),
        "rebuilt: bin/python is the venv's link now"
    );
}

#[test]
fn on_a_terminal_init_asks_before_rebuilding_a_shipped_environment() {
    use rexpect::session::spawn_command;
    let sb = Sandbox::new();
    let (root, ran) = clone_with_a_shipped_venv(&sb, "clone");
    let mut cmd = sb.pyve_command(&root, &["init"]);
    cmd.env("TERM", "dumb");
    let mut session = spawn_command(cmd, Some(20_000)).unwrap();
    session.exp_string("Rebuild it now? [y/N]").unwrap();
    session.send_line("n").unwrap();
    session.exp_string("nothing was changed").unwrap();
    session.exp_eof().unwrap();
    assert!(!root.join(".pyve/envs").exists() && !ran.exists());
    let mut cmd = sb.pyve_command(&root, &["init"]);
    cmd.env("TERM", "dumb");
    let mut session = spawn_command(cmd, Some(60_000)).unwrap();
    session.exp_string("Rebuild it now? [y/N]").unwrap();
    session.send_line("y").unwrap();
    session.exp_string("ready:").unwrap();
    session.exp_eof().unwrap();
    assert!(!ran.exists(), "a shipped program ran");
    assert!(std::fs::symlink_metadata(root.join(".venv/bin/python"))
        .unwrap()
        .file_type()
        .is_symlink());
}

/// init writes nothing through a link that leads out of the project:
/// `.envrc -> ~/.bashrc`, `.gitignore -> ~/.ssh/config`, a config linked
/// out, `.vscode` linked out. Each is refused before anything is built,
/// naming the link; the outside file keeps its bytes and its inode.
#[test]
fn init_writes_nothing_through_a_link_out_of_the_project() {
    use std::os::unix::fs::MetadataExt;
    let sb = Sandbox::new();
    let home = sb.home.clone();
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".bashrc"), "# mine\n").unwrap();
    std::fs::write(home.join(".ssh/config"), "Host *\n").unwrap();
    std::fs::write(home.join("notes.yml"), "# a comment, valid YAML\n").unwrap();
    std::fs::create_dir_all(home.join("vscode")).unwrap();
    let cases: [(&str, &Path, &[&str]); 4] = [
        (".envrc", &home.join(".bashrc"), &["init"]),
        (".gitignore", &home.join(".ssh/config"), &["init"]),
        (".pyve/config", &home.join("notes.yml"), &["init"]),
        (".vscode", &home.join("vscode"), &["init", "--vscode"]),
    ];
    for (name, target, args) in cases {
        let root = sb.path(format!("p{}", name.replace('/', "-")));
        std::fs::create_dir_all(root.join(".pyve")).unwrap();
        std::os::unix::fs::symlink(target, root.join(name)).unwrap();
        let before = std::fs::symlink_metadata(target).map(|m| m.ino()).unwrap();
        let bytes = std::fs::read(target).ok();
        let out = sb.pyve(&root, args);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!(
                "{} is a symbolic link out of the project",
                root.join(name).display()
            )),
            "{name}: {}",
            stderr(&out)
        );
        assert!(!root.join(".venv").exists(), "{name}: nothing built");
        assert_eq!(
            std::fs::symlink_metadata(target).unwrap().ino(),
            before,
            "{name}"
        );
        assert_eq!(std::fs::read(target).ok(), bytes, "{name}");
        assert!(!home.join("vscode/settings.json").exists());
    }
}

/// A conda environment whose own variables (each under its cap) would make
/// the state larger than Linux lets one variable be: not applied, said
/// once, and every command in the shell still starts.
fn oversized_conda_project(sb: &Sandbox) -> std::path::PathBuf {
    let (root, prefix) = sb.built_conda_project("big");
    for i in 0..18 {
        std::fs::write(
            prefix.join(format!("etc/conda/env_vars.d/{i:02}.json")),
            format!("{{\"V{i}\": \"{}\"}}", "x".repeat(8000)),
        )
        .unwrap();
    }
    sb.allow(&root);
    root
}

per_shell!(
    a_state_too_large_to_export_is_refused_and_the_shell_keeps_working,
    |sh: Sh| {
        let sb = Sandbox::new();
        let root = oversized_conda_project(&sb);
        let (d, err) = run(
            &sb,
            sh,
            &[
                dump("before"),
                cd(sh, &root),
                sh.prompt().into(),
                "/bin/true".into(),
                dump("inside"),
                cd(sh, Path::new("/")),
                sh.prompt().into(),
                "/bin/true".into(),
                dump("after"),
            ],
        );
        assert_eq!(visible(&d["inside"]), visible(&d["before"]));
        assert_eq!(visible(&d["after"]), visible(&d["before"]));
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("not activated: its variables would make PYVE_STATE"),
            "{err}"
        );
    }
);

#[test]
fn a_name_longer_than_255_characters_is_refused() {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", "");
    std::fs::write(
        root.join(".pyve/config"),
        format!("env_name: {}\n", "n".repeat(45_000)),
    )
    .unwrap();
    let out = sb.pyve(&root, &["status"]);
    assert!(
        stdout(&out).contains("env_name: is 45000 characters long, more than 255"),
        "{}",
        stdout(&out)
    );
    let out = sb.pyve(&root, &["init", "--env-name", &"n".repeat(300)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is 300 characters long, more than 255"),
        "{}",
        stderr(&out)
    );
}

/// Between purge's question and the removal, the directory holding the
/// environment is swapped for a link out of the project: nothing outside
/// is deleted (the removal is checked again, and never follows a link).
#[test]
fn purge_deletes_nothing_outside_when_a_directory_becomes_a_link() {
    use rexpect::session::spawn_command;
    let sb = Sandbox::new();
    let root = sb.path("p");
    std::fs::create_dir_all(root.join(".pyve")).unwrap();
    std::fs::write(root.join(".pyve/config"), "venv:\n  directory: sub/venv\n").unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(root.join("sub/venv/pyvenv.cfg").exists());
    let outside = sb.path("outside");
    std::fs::create_dir_all(outside.join("venv")).unwrap();
    std::fs::write(outside.join("venv/keep"), "mine").unwrap();
    let mut cmd = sb.pyve_command(&root, &["purge"]);
    cmd.env("TERM", "dumb");
    let mut session = spawn_command(cmd, Some(20_000)).unwrap();
    session.exp_string("Remove these? [y/N]").unwrap();
    std::fs::rename(root.join("sub"), root.join("sub.moved")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("sub")).unwrap();
    session.send_line("y").unwrap();
    session.exp_string("now leads out of the project").unwrap();
    session.exp_eof().unwrap();
    assert_eq!(std::fs::read(outside.join("venv/keep")).unwrap(), b"mine");
}

/// No byte that drives a terminal (ESC, BEL, other controls but newline
/// and tab) in what a command prints for people.
fn assert_terminal_safe(label: &str, bytes: &[u8]) {
    let bad: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f)
        .collect();
    assert!(
        bad.is_empty(),
        "{label}: {bad:?} in {}",
        String::from_utf8_lossy(bytes)
    );
}

/// Terminal escapes a repository (the config's env_name) or an environment
/// (pyvenv.cfg's version) holds are shown escaped by every command, the
/// hook's lines and the prompt.
#[test]
fn escapes_from_a_repository_never_reach_the_terminal_raw() {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", "");
    std::fs::write(
        root.join(".pyve/config"),
        "env_name: \"n\\e]0;TITLE\\a\\e[2J\"\n",
    )
    .unwrap();
    let cfg = root.join(".venv/pyvenv.cfg");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{text}version = 3.11\u{1b}[31m\n")).unwrap();
    sb.allow(&root);
    for args in [
        &["status"][..],
        &["envs"],
        &["doctor"],
        &["init"],
        &["allow"],
    ] {
        let out = sb.pyve(&root, args);
        assert_terminal_safe(&format!("{args:?} stdout"), &out.stdout);
        assert_terminal_safe(&format!("{args:?} stderr"), &out.stderr);
    }
    let out = sb.pyve(&root, &["status"]);
    assert!(
        stdout(&out).contains("n\\u{1b}]0;TITLE\\u{7}\\u{1b}[2J"),
        "{}",
        stdout(&out)
    );
    // The hook: the prompt and PYVE_PROMPT hold the escaped name.
    let (d, err) = run(
        &sb,
        Sh::Bash,
        &[cd(Sh::Bash, &root), "__pyve_hook".into(), dump("inside")],
    );
    assert_terminal_safe("hook", err.as_bytes());
    let prompt = var(&d["inside"], "PYVE_PROMPT");
    assert_eq!(prompt, "(venv:n\\u{1b}]0;TITLE\\u{7}\\u{1b}[2J)");
    assert_terminal_safe("PYVE_PROMPT", prompt.as_bytes());
}

// Without `XDG_RUNTIME_DIR`, another user made `$TMPDIR/pyve-<uid>` first
// (here uid 4242, which needs root to arrange): the hook keeps its stamp
// under the home directory instead, so `pyve deny` still takes effect at
// the very next prompt.
per_shell!(
    a_stamp_directory_another_user_made_first_is_passed_over,
    |sh: Sh| {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: needs root to make a directory for uid 4242");
            return;
        }
        let sb = Sandbox::new();
        let root = sb.venv_project("p", "");
        let squatted = sb.path(format!("tmp/pyve-{}", nix::unistd::geteuid()));
        std::fs::create_dir(&squatted).unwrap();
        std::os::unix::fs::chown(&squatted, Some(4242), Some(4242)).unwrap();
        let script = [
            cd(sh, &root),
            sh.prompt().into(),
            dump("inside"),
            "pyve deny 2>/dev/null".into(),
            sh.prompt().into(),
            dump("denied"),
        ]
        .join("\n");
        let out = sb
            .script_command(sh, &script)
            .env_remove("XDG_RUNTIME_DIR")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let d = dumps(&out.stdout);
        assert_eq!(
            var(&d["inside"], "VIRTUAL_ENV"),
            root.join(".venv").display().to_string()
        );
        assert_eq!(
            var(&d["denied"], "VIRTUAL_ENV"),
            "<unset>",
            "deny took effect"
        );
        assert!(sb.home.join(".cache/pyve/run").is_dir());
        assert_eq!(std::fs::read_dir(&squatted).unwrap().count(), 0);
    }
);

/// `pyve init` in `mono/pkg-a` neither rewrites `mono/.pyve/config` nor
/// rebuilds `mono/.venv`: it refuses with both commands, and `--here`
/// makes a project nested in the other, with its own environment.
#[test]
fn init_in_a_subdirectory_leaves_the_enclosing_project_alone() {
    use std::os::unix::fs::MetadataExt;
    let sb = Sandbox::new();
    let mono = sb.venv_project("mono", "");
    let pkg = mono.join("pkg-a");
    std::fs::create_dir(&pkg).unwrap();
    let config = std::fs::read(mono.join(".pyve/config")).unwrap();
    let venv = std::fs::metadata(mono.join(".venv/pyvenv.cfg"))
        .unwrap()
        .ino();
    for args in [
        &["init", "--python-version", "3.11"][..],
        &["init", "--force", "--yes"],
    ] {
        let out = sb.pyve(&pkg, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "{} is inside the project {}",
                pkg.display(),
                mono.display()
            )) && err.contains(&format!("`cd {} && pyve init`", mono.display()))
                && err.contains("`pyve init --here`"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(mono.join(".pyve/config")).unwrap(), config);
    assert_eq!(
        std::fs::metadata(mono.join(".venv/pyvenv.cfg"))
            .unwrap()
            .ino(),
        venv
    );
    assert!(!pkg.join(".pyve").exists());

    sb.pyve_ok(&pkg, &["init", "--here", "--no-direnv"]);
    assert!(pkg.join(".pyve/config").is_file());
    assert_eq!(std::fs::read(mono.join(".pyve/config")).unwrap(), config);
    let out = sb.pyve(
        &pkg,
        &["run", "python", "-c", "import sys; print(sys.prefix)"],
    );
    assert_eq!(stdout(&out).trim(), pkg.join(".venv").display().to_string());
}

/// A config with 60,000 unknown keys: ten lines of warnings, the last
/// counting the rest, from a command and from the hook alike.
#[test]
fn sixty_thousand_unknown_keys_print_ten_lines() {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", "");
    let config: String = (0..60_000).map(|i| format!("k{i}: 1\n")).collect();
    std::fs::write(root.join(".pyve/config"), config).unwrap();
    let out = sb.pyve(&root, &["allow"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.contains("warning")).count(),
        10,
        "{err}"
    );
    assert!(err.contains("unknown key `k0` ignored"), "{err}");
    assert!(
        err.contains("pyve: warning: … and 59991 more like these\n"),
        "{err}"
    );
    let (_, err) = run(
        &sb,
        Sh::Bash,
        &[cd(Sh::Bash, &root), Sh::Bash.prompt().into()],
    );
    assert_eq!(err.lines().count(), 10, "{err}");
}

/// `kill -9` of `pyve init` while uv runs: uv goes with it, instead of
/// writing on into the build directory after pyve is gone.
#[test]
fn a_killed_init_takes_its_builder_with_it() {
    use std::time::{Duration, Instant};
    let sb = Sandbox::new();
    let root = sb.path("p");
    std::fs::create_dir(&root).unwrap();
    let started = sb.path("tmp/uv-started");
    let wrote = sb.path("tmp/uv-wrote-after");
    let uv = sb.path("tools/uv");
    std::fs::remove_file(&uv).unwrap();
    std::fs::write(
        &uv,
        format!(
            "#!/bin/sh\n[ \"$1\" = venv ] && {{ touch '{}'; sleep 2; touch '{}'; }}\nexec '{}' \"$@\"\n",
            started.display(),
            wrote.display(),
            crate::support::uv().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&uv, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut init = sb
        .pyve_command(&root, &["init", "--no-direnv"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !started.exists() {
        assert!(Instant::now() < deadline, "uv venv never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    init.kill().unwrap();
    init.wait().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(!wrote.exists(), "uv went on after pyve was killed");
    // The next init finds what the killed one left and builds afresh.
    std::fs::remove_file(&uv).unwrap();
    std::os::unix::fs::symlink(crate::support::uv(), &uv).unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(root.join(".venv/pyvenv.cfg").is_file());
    // Builds happen beside the environment, as `.venv.pyve-<kind>-<pid>`.
    let leftovers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().contains(".pyve-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
