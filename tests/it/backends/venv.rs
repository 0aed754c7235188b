//! `init`, `run`, `purge` and `doctor` for the venv backend, end to end with
//! real interpreters, real uv and the standard library's venv.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

/// A plain directory (not yet a project) under the sandbox.
fn dir(sb: &Sandbox, rel: &str) -> PathBuf {
    let path = sb.path(rel);
    std::fs::create_dir_all(&path).unwrap();
    path
}

/// What the environment's own python says about itself.
fn env_python(root: &Path, code: &str) -> String {
    let out = std::process::Command::new(root.join(".venv/bin/python"))
        .args(["-c", code])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_owned()
}

fn env_version(root: &Path) -> String {
    env_python(root, "import sys; print('%d.%d.%d' % sys.version_info[:3])")
}

#[test]
fn init_with_uv_makes_a_working_venv_and_writes_the_project_files() {
    let sb = Sandbox::new();
    let root = dir(&sb, "demo");
    let err = sb.pyve_ok(&root, &["init"]);
    assert!(err.contains("with uv"), "{err}");
    assert!(err.contains("pyve run python"), "says how to use it: {err}");
    assert!(err.contains("direnv allow"), "{err}");
    assert!(err.contains("pyve hook"), "{err}");
    assert_eq!(
        env_python(&root, "import sys; print(sys.prefix)"),
        root.join(".venv").display().to_string()
    );
    assert_eq!(env_version(&root), system_python_version());
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(config.contains("backend: venv\n"), "{config}");
    assert!(std::fs::read_to_string(root.join(".envrc"))
        .unwrap()
        .contains("pyve export direnv"));
    assert_eq!(
        std::fs::read_to_string(root.join(".gitignore")).unwrap(),
        "# >>> pyve >>>\n# Managed by `pyve init`; `pyve purge` removes this block.\n/.venv/\n/.pyve/envs/\n# <<< pyve <<<\n"
    );
    // Nothing in the environment names the directory it was built in.
    let tmp_name = ".venv.pyve-tmp-";
    for entry in std::fs::read_dir(root.join(".venv/bin")).unwrap().flatten() {
        if entry.file_type().unwrap().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(tmp_name),
                "{} names the build directory",
                entry.path().display()
            );
        }
    }
    assert!(!std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains("pyve-tmp")));

    // uv pip targets the environment through pyve run.
    let wheel = make_wheel(&sb.path("tmp"), "demo_pkg");
    let out = sb.pyve(
        &root,
        &["run", "uv", "pip", "install", wheel.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sb.pyve(
        &root,
        &[
            "run",
            "python",
            "-c",
            "import demo_pkg; print(demo_pkg.VALUE)",
        ],
    );
    assert_eq!(stdout(&out).trim(), "42", "{}", stderr(&out));
}

#[test]
fn init_with_the_standard_library_gives_the_environment_its_own_pip() {
    let sb = Sandbox::new();
    let root = sb.project("std", "venv:\n  creator: stdlib\n");
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(err.contains("standard library"), "{err}");
    assert!(!root.join(".envrc").exists(), "--no-direnv");
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(
        config.starts_with("venv:\n  creator: stdlib\n"),
        "user lines kept: {config}"
    );
    assert!(
        !config.contains("direnv"),
        "--no-direnv records nothing: {config}"
    );
    // pip runs through its own shebang and installs into the final place.
    let out = sb.pyve(&root, &["run", "pip", "--version"]);
    assert!(
        stdout(&out).contains(&format!("{}/.venv/lib/", root.display())),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let wheel = make_wheel(&sb.path("tmp"), "std_pkg");
    let out = sb.pyve(
        &root,
        &[
            "run",
            "pip",
            "install",
            "--no-index",
            wheel.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        env_python(&root, "import std_pkg; print(std_pkg.__file__)"),
        format!(
            "{}/.venv/lib/python{}/site-packages/std_pkg.py",
            root.display(),
            system_python_version().rsplit_once('.').unwrap().0
        )
    );
    let out = sb.pyve(&root, &["doctor"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn install_deps_installs_requirements_with_the_environments_installer() {
    let sb = Sandbox::new();
    let root = dir(&sb, "deps");
    let wheel = make_wheel(&root, "dep_pkg");
    std::fs::write(
        root.join("requirements.txt"),
        format!("./{}\n", wheel.file_name().unwrap().to_string_lossy()),
    )
    .unwrap();
    sb.pyve_ok(&root, &["init", "--install-deps"]);
    assert_eq!(
        env_python(&root, "import dep_pkg; print(dep_pkg.VALUE)"),
        "42"
    );

    // The config's list, and a missing file named.
    let other = dir(&sb, "deps2");
    std::fs::create_dir_all(other.join(".pyve")).unwrap();
    std::fs::write(
        other.join(".pyve/config"),
        "install_deps: true\nrequirements: [dev.txt]\n",
    )
    .unwrap();
    let out = sb.pyve(&other, &["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("dev.txt"), "{}", stderr(&out));
    assert!(!other.join(".venv").exists());
}

#[test]
fn pins_choose_the_interpreter_and_a_changed_pin_rebuilds() {
    let sb = Sandbox::new();
    let (other, prefix) = other_python();
    sb.pyenv_version(&other, &prefix);
    let root = dir(&sb, "pinned");
    std::fs::write(root.join(".python-version"), format!("{other}\n")).unwrap();
    let err = sb.pyve_ok(&root, &["init"]);
    assert!(err.contains("pyenv"), "found in the pyenv layout: {err}");
    assert_eq!(env_version(&root), other);

    // .tool-versions wins over .python-version in the same directory, as in asdf.
    let system = system_python_version();
    std::fs::write(root.join(".tool-versions"), format!("python {system}\n")).unwrap();
    let err = sb.pyve_ok(&root, &["init"]);
    assert!(
        err.contains(&format!("asks for {system}")),
        "says why it rebuilds: {err}"
    );
    assert_eq!(env_version(&root), system);
    let out = sb.pyve(&root, &["doctor"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // The flag beats the pin, and is recorded in the config.
    sb.pyve_ok(&root, &["init", "--python-version", &other]);
    assert_eq!(env_version(&root), other);
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(
        config.contains(&format!("python:\n  version: \"{other}\"\n")),
        "{config}"
    );
    // The flag was this run's choice, recorded; the pin now disagrees with
    // the config, and uv would follow the pin: doctor says so, with the fix.
    let out = sb.pyve(&root, &["doctor"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("error    pins"), "{}", stderr(&out));
    assert!(stderr(&out).contains("uv python pin"), "{}", stderr(&out));
}

#[test]
fn an_unavailable_version_fails_before_writing_anything() {
    let sb = Sandbox::new();
    let root = dir(&sb, "nothing");
    std::fs::write(root.join("keep.txt"), "x").unwrap();
    let out = sb.pyve(&root, &["init", "--python-version", "3.99"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for expected in [
        "Python 3.99 (requested by --python-version)",
        "pyenv: nothing installed in",
        "asdf: nothing installed in",
        "uv: nothing installed in",
        "PATH: no python3.99",
        // Not `uv python install 3.99`: uv's own list has no such release.
        "and there is no Python 3.99 release that uv knows of",
        "ask for a version that exists",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    let names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["keep.txt"], "nothing written");
}

#[test]
fn a_healthy_environment_is_kept_and_force_rebuilds_it() {
    let sb = Sandbox::new();
    let root = dir(&sb, "reuse");
    sb.pyve_ok(&root, &["init"]);
    let gitignore = std::fs::read(root.join(".gitignore")).unwrap();
    let envrc = std::fs::read(root.join(".envrc")).unwrap();
    let config = std::fs::read(root.join(".pyve/config")).unwrap();
    std::fs::write(root.join(".venv/mine"), "x").unwrap();
    let inode = std::fs::metadata(root.join(".venv")).unwrap().ino();
    let err = sb.pyve_ok(&root, &["init"]);
    assert!(err.contains("keeping the healthy environment"), "{err}");
    assert!(
        !err.contains("updated") && !err.contains("wrote"),
        "re-running changes nothing: {err}"
    );
    assert_eq!(std::fs::metadata(root.join(".venv")).unwrap().ino(), inode);
    assert_eq!(std::fs::read(root.join(".gitignore")).unwrap(), gitignore);
    assert_eq!(std::fs::read(root.join(".envrc")).unwrap(), envrc);
    assert_eq!(std::fs::read(root.join(".pyve/config")).unwrap(), config);

    let err = sb.pyve_ok(&root, &["init", "--force"]);
    assert!(
        err.contains("rebuilding") && err.contains("--force"),
        "{err}"
    );
    assert!(!root.join(".venv/mine").exists(), "rebuilt from scratch");
    assert!(root.join(".venv/pyvenv.cfg").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".pyve-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn shared_files_keep_user_lines_byte_for_byte() {
    let sb = Sandbox::new();
    let root = dir(&sb, "blocks");
    let gitignore_before = "# mine\r\n*.pyc\n\n!keep.pyc";
    let envrc_before = "export MINE='a b'\n";
    std::fs::write(root.join(".gitignore"), gitignore_before).unwrap();
    std::fs::write(root.join(".envrc"), envrc_before).unwrap();
    sb.pyve_ok(&root, &["init"]);
    let gitignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(
        gitignore.starts_with("# mine\r\n*.pyc\n\n!keep.pyc\n# >>> pyve >>>\n"),
        "{gitignore:?}"
    );
    // The user adds lines after pyve's block; re-running keeps them in place.
    std::fs::write(root.join(".gitignore"), format!("{gitignore}after\n")).unwrap();
    std::fs::write(
        root.join(".envrc"),
        format!(
            "{}export AFTER=1\n",
            std::fs::read_to_string(root.join(".envrc")).unwrap()
        ),
    )
    .unwrap();
    let gitignore = std::fs::read(root.join(".gitignore")).unwrap();
    let envrc = std::fs::read(root.join(".envrc")).unwrap();
    sb.pyve_ok(&root, &["init"]);
    assert_eq!(std::fs::read(root.join(".gitignore")).unwrap(), gitignore);
    assert_eq!(std::fs::read(root.join(".envrc")).unwrap(), envrc);
    assert_eq!(
        String::from_utf8_lossy(&envrc)
            .matches("# >>> pyve >>>")
            .count(),
        1
    );

    sb.pyve_ok(&root, &["purge", "--yes"]);
    assert_eq!(
        std::fs::read_to_string(root.join(".gitignore")).unwrap(),
        "# mine\r\n*.pyc\n\n!keep.pyc\nafter\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".envrc")).unwrap(),
        "export MINE='a b'\nexport AFTER=1\n"
    );
}

#[test]
fn an_unterminated_block_is_reported_and_nothing_is_guessed() {
    let sb = Sandbox::new();
    let root = dir(&sb, "broken-block");
    std::fs::write(root.join(".gitignore"), "# >>> pyve >>>\n/.venv/\n").unwrap();
    let out = sb.pyve(&root, &["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(".gitignore: the line `# >>> pyve >>>` has no matching"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".gitignore")).unwrap(),
        "# >>> pyve >>>\n/.venv/\n"
    );
    // Found before anything was built or written.
    assert!(!root.join(".venv").exists() && !root.join(".pyve").exists());
}

/// Starts `pyve init` with the slow standard-library creator and waits
/// until its build directory exists.
#[allow(clippy::zombie_processes)] // every caller waits for the child
fn start_slow_init(sb: &Sandbox, root: &Path, extra: &[&str]) -> std::process::Child {
    let mut args = vec!["init", "--no-direnv"];
    args.extend_from_slice(extra);
    let child = sb
        .pyve_command(root, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let building = std::fs::read_dir(root).unwrap().flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".venv.pyve-tmp-")
        });
        if building {
            // Let the child get into ensurepip.
            std::thread::sleep(Duration::from_millis(300));
            return child;
        }
        assert!(Instant::now() < deadline, "init never started building");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn kill(child: &std::process::Child, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
}

#[test]
fn an_interrupted_init_leaves_no_environment_and_no_trace() {
    for signal in [
        nix::sys::signal::Signal::SIGINT,
        nix::sys::signal::Signal::SIGTERM,
    ] {
        let sb = Sandbox::new();
        let root = dir(&sb, "interrupted");
        std::fs::write(root.join("keep.txt"), "x").unwrap();
        std::fs::create_dir_all(root.join(".pyve")).unwrap();
        std::fs::write(root.join(".pyve/config"), "venv:\n  creator: stdlib\n").unwrap();
        let child = start_slow_init(&sb, &root, &[]);
        kill(&child, signal);
        let out = child.wait_with_output().unwrap();
        // pyve dies by the signal after cleaning up, as the shell expects.
        assert_eq!(out.status.signal(), Some(signal as i32), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("interrupted by {}", signal.as_str())),
            "{}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
        let mut names: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".pyve", "keep.txt"], "{signal:?}");
        let out = sb.pyve(&root, &["run", "python", "-V"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("does not exist yet"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn a_killed_init_is_cleaned_up_by_the_next_one() {
    let sb = Sandbox::new();
    let root = sb.project("killed", "venv:\n  creator: stdlib\n");
    let mut child = start_slow_init(&sb, &root, &[]);
    child.kill().unwrap();
    child.wait().unwrap();
    // SIGKILL leaves the build directory, but never a `.venv` that looks ready.
    assert!(!root.join(".venv").exists());
    let hook = sb.script_ok(
        Sh::Bash,
        &format!("cd {} && __pyve_hook && __dump in", Sh::Bash.q(&root)),
    );
    let seen = dumps(&hook.stdout);
    assert_eq!(var(&seen["in"], "VIRTUAL_ENV"), "<unset>");
    std::fs::write(root.join(".pyve/config"), "").unwrap();
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(err.contains("left by an interrupted init"), "{err}");
    assert!(root.join(".venv/pyvenv.cfg").exists());
    assert!(!std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains("pyve-tmp")));
}

#[test]
fn concurrent_inits_take_turns() {
    let sb = Sandbox::new();
    let root = sb.project("concurrent", "venv:\n  creator: stdlib\n");
    let first = start_slow_init(&sb, &root, &["--env-name", "first"]);
    let second = sb
        .pyve_command(&root, &["init", "--no-direnv"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    let second = second.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("waiting for another `pyve init`"),
        "{}",
        stderr(&second)
    );
    // The second read the config before the first wrote it: it decides
    // again and keeps what the first recorded.
    assert!(
        stderr(&second).contains("changed while waiting; deciding again"),
        "{}",
        stderr(&second)
    );
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(config.contains("env_name: \"first\""), "{config}");
    assert!(
        stderr(&second).contains("keeping the healthy environment"),
        "{}",
        stderr(&second)
    );
}

#[test]
fn backend_selection_never_ignores_a_conda_spec_silently() {
    let sb = Sandbox::new();
    let root = dir(&sb, "conda");
    std::fs::write(
        root.join("environment.yml"),
        "name: x\nchannels: [conda-forge]\ndependencies: [python=3.11]\n",
    )
    .unwrap();
    // The spec selects micromamba, which is not installed: an error, never
    // a venv instead.
    let out = sb.pyve(&root, &["init"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("micromamba was not found"), "{err}");
    assert!(err.contains("never falls back to venv"), "{err}");
    assert!(!root.join(".pyve").exists());

    let err = sb.pyve_ok(&root, &["init", "--backend", "venv", "--no-direnv"]);
    assert!(err.contains("environment.yml is not used"), "{err}");
    // Recorded: the next init follows the config, and still says so.
    let err = sb.pyve_ok(&root, &["init"]);
    assert!(err.contains("`backend: venv` in .pyve/config"), "{err}");

    let out = sb.pyve(&dir(&sb, "mm"), &["init", "--backend", "micromamba"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("needs conda-lock.yml or environment.yml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn seed_spellings_work() {
    let sb = Sandbox::new();
    let root = dir(&sb, "seed");
    sb.pyve_ok(&root, &["--init", "--no-direnv", "--env-name", "seedy"]);
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(config.contains("env_name: \"seedy\""), "{config}");
    let out = sb.pyve(&root, &["run", "printenv", "PYVE_PROMPT"]);
    assert_eq!(stdout(&out), "(venv:seedy)\n");
    sb.pyve_ok(&root, &["--purge", "--yes"]);
    assert!(!root.join(".venv").exists() && !root.join(".pyve").exists());
}

#[test]
fn bad_input_is_refused_with_the_fix() {
    let sb = Sandbox::new();
    let root = dir(&sb, "bad");
    let cases: [(&[&str], i32, &str); 4] = [
        (
            &["init", "--python-version", "three"],
            2,
            "--python-version: `three` is not a Python version",
        ),
        (
            &["init", "--env-name", "a\nb"],
            2,
            "--env-name: must not contain control characters",
        ),
        (&["init", "--backend", "conda"], 2, "invalid value 'conda'"),
        (&["run"], 2, "CMD"),
    ];
    for (args, code, message) in cases {
        let out = sb.pyve(&root, args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    // A directory at the environment's path that is not an environment.
    std::fs::create_dir_all(root.join(".venv")).unwrap();
    std::fs::write(root.join(".venv/data.csv"), "1,2").unwrap();
    let out = sb.pyve(&root, &["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not an environment (no pyvenv.cfg)"),
        "{}",
        stderr(&out)
    );
    assert!(root.join(".venv/data.csv").exists());
    assert!(!root.join(".pyve").exists());

    // A broken config names file, line and key; nothing is touched.
    let broken = sb.unapproved_project("broken", "prompt:\n  show: maybe\n");
    let out = sb.pyve(&broken, &["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(".pyve/config:2:"), "{}", stderr(&out));
    assert!(stderr(&out).contains("show"), "{}", stderr(&out));

    // venv.creator: uv without uv.
    let no_uv = sb.project("no-uv", "venv:\n  creator: uv\n");
    let out = sb
        .pyve_command(&no_uv, &["init"])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("uv is not on PATH"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn run_passes_exit_codes_signals_stdin_and_argv_through() {
    let sb = Sandbox::new();
    let root = dir(&sb, "runner");
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    let sub = dir(&sb, "runner/src/deep");

    let out = sb.pyve(&sub, &["run", "python", "-c", "import sys; sys.exit(7)"]);
    assert_eq!(out.status.code(), Some(7));
    let out = sb.pyve(
        &sub,
        &[
            "run",
            "--",
            "python",
            "-c",
            "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
        ],
    );
    assert_eq!(
        out.status.signal(),
        Some(15),
        "exec: the signal is the child's own"
    );

    let mut child = sb
        .pyve_command(
            &sub,
            &[
                "run",
                "python",
                "-c",
                "import sys; print(sys.stdin.read().upper())",
            ],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"piped in").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "PIPED IN\n");

    // The same variables as the hook, PATH with the environment first once,
    // PYTHONHOME removed, argv[0] as typed.
    let venv = root.join(".venv");
    let out = sb
        .pyve_command(&sub, &[
            "run", "python", "-c",
            "import os, sys; print(sys.prefix); print(os.environ['VIRTUAL_ENV']); print(os.environ['PATH']); \
             print(os.environ.get('PYTHONHOME')); print(os.environ['PYVE_PROJECT'], os.environ['PYVE_ENV_NAME'], os.environ['PYVE_BACKEND'], os.environ['PYVE_PROMPT']); print(sys.argv[0])",
            "arg",
        ])
        .env("PATH", format!("{}:/usr/bin:/bin", venv.join("bin").display()))
        .env("PYTHONHOME", "/nonexistent")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines[0], venv.display().to_string());
    assert_eq!(lines[1], venv.display().to_string());
    assert_eq!(
        lines[2],
        format!("{}:/usr/bin:/bin", venv.join("bin").display())
    );
    assert_eq!(lines[3], "None");
    assert_eq!(
        lines[4],
        format!("{} runner venv (venv:runner)", root.display())
    );
    assert_eq!(lines[5], "-c");

    let out = sb.pyve(&sub, &["run", "no-such-command", "x"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(
        stderr(&out).contains("command not found: no-such-command"),
        "{}",
        stderr(&out)
    );
    std::fs::write(root.join("script.sh"), "#!/bin/sh\n").unwrap();
    let out = sb.pyve(&root, &["run", "./script.sh"]);
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));

    let out = sb.pyve(&dir(&sb, "elsewhere"), &["run", "python"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no pyve project") && stderr(&out).contains("pyve init"));
    let empty = sb.project("empty", "");
    let out = sb.pyve(&empty, &["run", "python"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("does not exist yet; create it with `pyve init`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn purge_removes_what_pyve_made_and_only_that() {
    let sb = Sandbox::new();
    let root = dir(&sb, "purged");
    let user_files = [
        ("requirements.txt", "requests\n"),
        ("environment.yml", "name: x\n"),
        ("conda-lock.yml", "version: 1\n"),
        (".python-version", "3.11\n"),
        (".tool-versions", "python system\n"),
        (".env", "SECRET=1\n"),
    ];
    for (name, content) in user_files {
        std::fs::write(root.join(name), content).unwrap();
    }
    sb.pyve_ok(&root, &["init", "--backend", "venv", "--no-deps"]);
    let out = sb.pyve(&root, &["purge"]);
    assert_eq!(out.status.code(), Some(2), "no terminal, no --yes");
    assert!(stderr(&out).contains("pass --yes"), "{}", stderr(&out));
    assert!(root.join(".venv").exists());

    let err = sb.pyve_ok(&root, &["purge", "--yes"]);
    for removed in [".venv", ".pyve", ".envrc", ".gitignore"] {
        assert!(err.contains(removed), "lists {removed}: {err}");
        assert!(!root.join(removed).exists(), "{removed} removed");
    }
    for (name, content) in user_files {
        assert_eq!(
            std::fs::read_to_string(root.join(name)).unwrap(),
            content,
            "{name} kept"
        );
    }
    let out = sb.pyve(&root, &["purge", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing to purge"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn purge_never_follows_a_symlink_out_of_the_project() {
    let sb = Sandbox::new();
    let outside = dir(&sb, "outside");
    for sub in ["envs", "venv", "shared"] {
        std::fs::create_dir_all(outside.join(sub)).unwrap();
        std::fs::write(outside.join(sub).join("precious"), "x").unwrap();
    }
    std::fs::write(outside.join("venv/pyvenv.cfg"), "home = /usr/bin\n").unwrap();
    std::fs::write(
        outside.join("shared/.envrc"),
        "# >>> pyve >>>\n# <<< pyve <<<\n",
    )
    .unwrap();

    let root = sb.project("links", "venv:\n  directory: env\n");
    std::os::unix::fs::symlink(outside.join("envs"), root.join(".pyve/envs")).unwrap();
    std::os::unix::fs::symlink(outside.join("venv"), root.join("env")).unwrap();
    std::os::unix::fs::symlink(outside.join("shared/.envrc"), root.join(".envrc")).unwrap();
    let err = sb.pyve_ok(&root, &["purge", "--yes"]);
    assert!(err.contains("symlink out of the project"), "{err}");
    for sub in ["envs", "venv", "shared"] {
        assert!(
            outside.join(sub).join("precious").exists(),
            "{sub} untouched: {err}"
        );
    }
    assert!(outside.join("venv/pyvenv.cfg").exists());
    assert!(
        std::fs::symlink_metadata(root.join("env")).is_err(),
        "the link itself is removed"
    );
    assert!(!root.join(".pyve").exists());

    // An environment configured outside the project is left alone.
    let far = sb.project(
        "far",
        &format!("venv:\n  directory: {}\n", outside.join("venv").display()),
    );
    let err = sb.pyve_ok(&far, &["purge", "--yes"]);
    assert!(err.contains("is not inside the project"), "{err}");
    assert!(outside.join("venv/precious").exists());

    // `venv.directory: ..` in a project inside a venv: the venv around the
    // project is not the project's to delete.
    let around = dir(&sb, "around-env");
    make_venv(&around);
    std::fs::write(around.join("precious"), "x").unwrap();
    let inner = sb.project("around-env/src", "venv:\n  directory: ..\n");
    let err = sb.pyve_ok(&inner, &["purge", "--yes"]);
    assert!(err.contains("is not inside the project"), "{err}");
    assert!(around.join("precious").exists() && around.join("pyvenv.cfg").exists());
    assert!(!inner.join(".pyve").exists());
}

fn doctor_json(sb: &Sandbox, root: &Path) -> (Option<i32>, String) {
    let out = sb.pyve(root, &["doctor", "--json"]);
    // Checked with Python's json module: the output is one valid object.
    let mut check = std::process::Command::new(python())
        .args([
            "-c",
            "import json, sys; d = json.load(sys.stdin); assert set(d) == {'project', 'ok', 'checks'}; \
             print(' '.join(c['check'] + '=' + c['status'] for c in d['checks']))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    check.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    let parsed = check.wait_with_output().unwrap();
    assert!(parsed.status.success(), "not JSON: {}", stdout(&out));
    (out.status.code(), stdout(&parsed).trim().to_owned())
}

#[test]
fn doctor_reports_healthy_broken_and_relocated_environments() {
    let sb = Sandbox::new();
    // An interpreter the test can delete: a copy of the system one.
    let interp = sb.path("interp/bin");
    std::fs::create_dir_all(&interp).unwrap();
    let real = std::fs::canonicalize(python()).unwrap();
    std::fs::copy(&real, interp.join("python3")).unwrap();
    let path = format!("{}:{}", interp.display(), sb.base_path);

    let root = dir(&sb, "doc");
    let out = sb
        .pyve_command(&root, &["init"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, checks) = doctor_json(&sb, &root);
    assert_eq!(code, Some(0), "{checks}");
    assert!(
        checks.starts_with("config=ok trust=ok environment=ok interpreter=ok python=ok location=ok version=ok hook=warning direnv="),
        "{checks}"
    );

    // Relocated: the project copied elsewhere keeps a working python.
    let copy = sb.path("doc-copy");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(&root)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    // A copy is another project, which the user has not approved: doctor
    // runs nothing of it until then.
    let (_, checks) = doctor_json(&sb, &copy);
    assert!(
        checks.contains("trust=error environment=warning") && !checks.contains("python="),
        "{checks}"
    );
    let out = sb.pyve(&copy, &["doctor"]);
    assert!(
        stderr(&out).contains("you have not approved this project"),
        "{}",
        stderr(&out)
    );
    sb.allow(&copy);
    let (code, checks) = doctor_json(&sb, &copy);
    assert_eq!(code, Some(1), "{checks}");
    assert!(
        checks.contains("python=ok") && checks.contains("location=error"),
        "{checks}"
    );
    let out = sb.pyve(&copy, &["doctor"]);
    assert!(stderr(&out).contains("moved or copied"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("fix: pyve init --force"),
        "{}",
        stderr(&out)
    );
    // init notices it too, and rebuilds.
    let out = sb
        .pyve_command(&copy, &["init"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(stderr(&out).contains("rebuilding"), "{}", stderr(&out));
    assert_eq!(doctor_json(&sb, &copy).0, Some(0));

    // Broken: the base interpreter deleted.
    std::fs::remove_dir_all(sb.path("interp")).unwrap();
    let (code, checks) = doctor_json(&sb, &root);
    assert_eq!(code, Some(1));
    assert!(
        checks.contains("interpreter=error") && checks.contains("python=error"),
        "{checks}"
    );
    let out = sb.pyve(&root, &["doctor"]);
    assert!(
        stderr(&out).contains("the base interpreter is gone"),
        "{}",
        stderr(&out)
    );

    // No project at all.
    let (code, checks) = doctor_json(&sb, &dir(&sb, "none"));
    assert_eq!((code, checks.as_str()), (Some(1), "config=error"));
}

#[test]
fn doctor_sees_the_hook_of_the_calling_shell() {
    let sb = Sandbox::new();
    let root = dir(&sb, "hooked");
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    let out = sb.script_ok(
        Sh::Bash,
        &format!(
            "cd {} && __pyve_hook && {} doctor --json",
            Sh::Bash.q(&root),
            Sh::Bash.q(&pyve_bin())
        ),
    );
    let text = stdout(&out);
    assert!(
        text.contains("\"check\":\"hook\",\"status\":\"ok\""),
        "{text}{}",
        stderr(&out)
    );
    assert!(
        text.contains("\"check\":\"direnv\",\"status\":\"ok\""),
        "direnv: false: {text}"
    );
}

#[test]
fn the_hook_activates_what_init_built() {
    let sb = Sandbox::new();
    let root = dir(&sb, "hook-after-init");
    for sh in SHELLS {
        if !root.join(".venv").exists() {
            sb.pyve_ok(&root, &["init"]);
        }
        let out = sb.script_ok(
            sh,
            &format!(
                "cd {}; {}; {}; cd /; {}; {}",
                sh.q(&root),
                sh.prompt(),
                dump("in"),
                sh.prompt(),
                dump("out")
            ),
        );
        let seen = dumps(&out.stdout);
        assert_eq!(
            var(&seen["in"], "VIRTUAL_ENV"),
            root.join(".venv").display().to_string(),
            "{sh:?}"
        );
        assert!(
            var(&seen["in"], "SHOWN").starts_with("(venv:hook-after-init) "),
            "{sh:?}"
        );
        assert_eq!(var(&seen["out"], "VIRTUAL_ENV"), "<unset>", "{sh:?}");
    }
}

#[test]
fn on_a_terminal_init_offers_to_install_a_missing_python() {
    use nix::sys::wait::WaitStatus;
    let sb = Sandbox::new();
    let root = dir(&sb, "offer");
    let mut session = rexpect::session::spawn_with_options(
        // A release uv can install (by its own list), not on this machine.
        sb.pyve_command(&root, &["init", "--python-version", "3.13"]),
        rexpect::reader::Options::new().timeout_ms(Some(20_000)),
    )
    .unwrap();
    session.exp_string("uv python install 3.13").unwrap();
    session
        .exp_string("Run `uv python install 3.13` now? [y/N] ")
        .unwrap();
    session.send_line("n").unwrap();
    session.exp_string("nothing was changed").unwrap();
    session.exp_eof().unwrap();
    match session.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => assert_eq!(code, 1),
        other => panic!("{other:?}"),
    }
    assert!(!root.join(".pyve").exists());
}

#[test]
fn init_inside_an_active_environment_builds_from_the_base_interpreter() {
    let sb = Sandbox::new();
    // An activated environment whose python is a copy, not a link: its
    // real path is inside the environment.
    let active = sb.path("active-env");
    let status = std::process::Command::new(python())
        .args(["-m", "venv", "--copies", "--without-pip"])
        .arg(&active)
        .status()
        .unwrap();
    assert!(status.success());
    let root = dir(&sb, "nested");
    let out = sb
        .pyve_command(&root, &["init", "--no-direnv"])
        .env("PATH", format!("{}/bin:{}", active.display(), sb.base_path))
        .env("VIRTUAL_ENV", &active)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.contains("active-env"),
        "built from another environment: {err}"
    );
    let cfg = std::fs::read_to_string(root.join(".venv/pyvenv.cfg")).unwrap();
    assert!(!cfg.contains("active-env"), "{cfg}");
}

#[test]
fn purge_with_a_broken_config_removes_nothing() {
    let sb = Sandbox::new();
    let root = sb.unapproved_project("typo", "venv:\n  directroy: env\n");
    make_venv(&root.join(".venv"));
    make_venv(&root.join("env"));
    let out = sb.pyve(&root, &["purge", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("directroy"), "{}", stderr(&out));
    assert!(stderr(&out).contains("fix it first"), "{}", stderr(&out));
    for kept in [".venv/pyvenv.cfg", "env/pyvenv.cfg", ".pyve/config"] {
        assert!(root.join(kept).exists(), "{kept}");
    }
}

#[test]
fn purge_asks_on_a_terminal() {
    let sb = Sandbox::new();
    let root = dir(&sb, "ask");
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    for (answer, removed) in [("n", false), ("y", true)] {
        let mut session = rexpect::session::spawn_with_options(
            sb.pyve_command(&root, &["purge"]),
            rexpect::reader::Options::new().timeout_ms(Some(20_000)),
        )
        .unwrap();
        session.exp_string("Remove these? [y/N] ").unwrap();
        session.send_line(answer).unwrap();
        session.exp_eof().unwrap();
        assert_eq!(!root.join(".venv").exists(), removed, "answer {answer}");
    }
}

#[test]
fn init_never_replaces_the_project_or_a_directory_above_it() {
    let sb = Sandbox::new();
    // A project that is itself a venv, with `venv.directory: .`.
    for directory in [".", "sub/..", ".."] {
        let root = sb.project(
            format!("selfish/p{}", directory.len()),
            &format!("venv:\n  directory: {directory}\n"),
        );
        make_venv(&root);
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("work.py"), "precious").unwrap();
        let out = sb.pyve(&root, &["init", "--force"]);
        assert_eq!(out.status.code(), Some(1), "{directory}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("is the project directory or above it"),
            "{}",
            stderr(&out)
        );
        assert_eq!(
            std::fs::read_to_string(root.join("work.py")).unwrap(),
            "precious"
        );
    }
}

/// `pyve init` remembers what each interpreter is (as uv does), so a
/// second init starts no Python of its own; a cache others could write is
/// never believed.
#[test]
fn interpreter_answers_are_cached_and_a_shared_cache_is_ignored() {
    let sb = Sandbox::new();
    let root = dir(&sb, "cached");
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    let cache = sb.path("home/.cache/pyve/interpreters");
    let entries: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let text = std::fs::read_to_string(&entries[0]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[2], system_python_version(), "{text}");

    // A lie in the cache: believed only while it is private.
    let lie = format!("{}\n{}\n3.99.0\n/bin/false\n", lines[0], lines[1]);
    std::fs::write(&entries[0], lie).unwrap();
    let out = sb.pyve(&root, &["init", "--force", "--no-direnv"]);
    assert!(
        !out.status.success(),
        "the private cache is the user's own word"
    );
    std::fs::set_permissions(
        &entries[0],
        std::os::unix::fs::PermissionsExt::from_mode(0o666),
    )
    .unwrap();
    let err = sb.pyve_ok(&root, &["init", "--force", "--no-direnv"]);
    assert!(err.contains(&system_python_version()), "{err}");
}
