//! The micromamba backend end to end: the real pyve binary and the real
//! micromamba (behind a spy that logs its calls), offline against the
//! suite's own channel (tests/conda: packages `python`, `pip`, `hello`,
//! `tool`, with activation scripts and env_vars.d files).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::per_shell;
use crate::support::*;

const ENVIRONMENT_YML: &str = "\
name: ML Dev
channels:
  - conda-forge
dependencies:
  - python=3.11
  - tool
variables:
  MY_VAR: from-variables
  shared: from-state
";

/// A project initialised from ENVIRONMENT_YML, with micromamba on PATH.
fn conda_project(sb: &Sandbox, rel: &str) -> PathBuf {
    sb.micromamba_on_path();
    let root = sb.conda_dir(rel, ENVIRONMENT_YML);
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    root
}

fn creates(sb: &Sandbox) -> Vec<Vec<String>> {
    sb.micromamba_creates()
}

#[test]
fn init_from_environment_yml_builds_records_and_runs() {
    let sb = Sandbox::new();
    let root = conda_project(&sb, "ML Pipeline");
    let prefix = root.join(".pyve/envs/ml-dev");
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(config.contains("backend: micromamba\n"), "{config}");
    assert!(
        config.contains("micromamba:\n  env_name: \"ml-dev\"\n"),
        "{config}"
    );
    // Exactly one command line, by prefix, with the file untouched, the
    // user's root prefix (never the project's .pyve) and the file's
    // channels only.
    assert_eq!(
        creates(&sb),
        [vec![
            "create".to_owned(),
            "-y".into(),
            "-p".into(),
            prefix.display().to_string(),
            "-r".into(),
            sb.path("data/mamba").display().to_string(),
            "-f".into(),
            root.join("environment.yml").display().to_string(),
            "--override-channels".into(),
        ]]
    );
    assert!(prefix.join("conda-meta/pyve-built").is_file());
    let gitignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(gitignore.contains("/.pyve/envs/\n"), "{gitignore}");

    // `run`: the prefix's programs first, conda's variables, the
    // environment's own variables (state wins over env_vars.d), and the
    // activation scripts (the project was approved by init).
    let out = sb.pyve(
        &root,
        &[
            "run",
            "sh",
            "-c",
            "hello; printf '%s|' \"$CONDA_PREFIX\" \"$CONDA_DEFAULT_ENV\" \"$CONDA_SHLVL\" \"$MY_VAR\" \"$SHARED\" \"$HELLO_HOME\" \"${DROPPED-unset}\" \"$ACTIVATE_ORDER\" \"$PYVE_BACKEND\"",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let p = prefix.display().to_string();
    assert_eq!(
        stdout(&out),
        format!(
            "hello 2.0 from {p}\n{p}|ml-dev|1|from-variables|from-state|{p}/share/hello|unset|hello;tool;|micromamba|"
        )
    );
    let out = sb.pyve(&root, &["run", "python", "-c", "print(6 * 7)"]);
    assert_eq!(stdout(&out), "42\n", "{}", stderr(&out));
    let out = sb.pyve(&root, &["run", "sh", "-c", "exit 7"]);
    assert_eq!(
        out.status.code(),
        Some(7),
        "run passes the child's code through"
    );
    // Inside a shell where this environment is already active (the hook,
    // direnv), `run` does not stack it on itself.
    let out = sb
        .pyve_command(
            &root,
            &[
                "run",
                "sh",
                "-c",
                "echo \"$CONDA_SHLVL ${CONDA_PREFIX_1-none}\"",
            ],
        )
        .env("CONDA_PREFIX", &prefix)
        .env("CONDA_SHLVL", "1")
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "1 none\n");

    // A healthy environment built from this very spec is kept.
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(err.contains("keeping the healthy environment"), "{err}");
    assert_eq!(creates(&sb).len(), 1);
    // --force rebuilds; so does a changed spec, saying why.
    sb.pyve_ok(&root, &["init", "--no-direnv", "--force"]);
    assert_eq!(creates(&sb).len(), 2);
    std::fs::write(
        root.join("environment.yml"),
        ENVIRONMENT_YML.replace("  - tool\n", "  - tool\n  - hello=1.0\n"),
    )
    .unwrap();
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(
        err.contains("environment.yml changed since it was built"),
        "{err}"
    );
    let out = sb.pyve(&root, &["run", "hello"]);
    assert_eq!(stdout(&out), format!("hello from {p}\n"));
}

#[test]
fn init_from_a_lock_file_installs_exactly_the_lock() {
    let sb = Sandbox::new();
    sb.micromamba_on_path();
    let root = sb.conda_dir(
        "locked",
        "name: locked\nchannels: [conda-forge]\ndependencies: [python=3.12, hello=1.0]\n",
    );
    conda_lock(&root.join("environment.yml"), &root.join("conda-lock.yml"));
    // Staleness is by content, as conda-lock's: an environment file only
    // touched (newer than the lock, the same text) leaves the lock fresh.
    set_mtime(&root.join("conda-lock.yml"), 1_000_000);
    let err = stderr(&sb.pyve(&root, &["lock", "--check"]));
    assert!(
        err.contains("conda-lock.yml matches environment.yml"),
        "{err}"
    );
    // The environment file moves on; the lock is what gets installed.
    std::fs::write(
        root.join("environment.yml"),
        "name: locked\nchannels: [conda-forge]\ndependencies: [python, hello]\n",
    )
    .unwrap();
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(
        !err.contains("stale"),
        "no terminal: no warning, no question\n{err}"
    );
    let prefix = root.join(".pyve/envs/locked");
    let call = &creates(&sb)[0];
    let file = call.iter().position(|a| a == "-f").unwrap() + 1;
    assert_eq!(
        call[file],
        root.join("conda-lock.yml").display().to_string()
    );
    assert!(
        !call.contains(&"--override-channels".to_owned()),
        "{call:?}"
    );
    let out = sb.pyve(&root, &["run", "hello"]);
    assert_eq!(stdout(&out), format!("hello from {}\n", prefix.display()));
    let out = sb.pyve(&root, &["run", "python", "-c", "import sys"]);
    assert!(out.status.success());
    let stale = "environment.yml changed since conda-lock.yml was made (its content hash for linux-64 differs)";
    let err = stderr(&sb.pyve(&root, &["doctor"]));
    assert!(
        err.contains(&format!("conda-lock.yml is stale: {stale}")),
        "{err}"
    );

    // --strict turns the stale lock into an error saying why and the
    // command; the config's policy does the same; `ignore` is silent.
    let out = sb.pyve(&root, &["init", "--no-direnv", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(stale), "{err}");
    assert!(err.contains("To update it:\n  pyve lock\n"), "{err}");
    let config = root.join(".pyve/config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}lock_file_policy: strict\n")).unwrap();
    assert_eq!(
        sb.pyve(&root, &["init", "--no-direnv"]).status.code(),
        Some(1)
    );
    std::fs::write(&config, format!("{text}lock_file_policy: ignore\n")).unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
}

#[test]
fn a_dependency_missing_from_the_lock_makes_it_stale() {
    let sb = Sandbox::new();
    sb.micromamba_on_path();
    let root = sb.conda_dir(
        "drift",
        "channels: [conda-forge]\ndependencies: [python=3.11]\n",
    );
    conda_lock(&root.join("environment.yml"), &root.join("conda-lock.yml"));
    std::fs::write(
        root.join("environment.yml"),
        "channels: [conda-forge]\ndependencies: [python=3.11, tool]\n",
    )
    .unwrap();
    let out = sb.pyve(&root, &["init", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("content hash for linux-64 differs"),
        "{}",
        stderr(&out)
    );
    // A file pyve cannot hash as conda-lock does (a pip marker): file
    // times and package names decide, and the message says so.
    std::fs::write(
        root.join("environment.yml"),
        "channels: [conda-forge]\ndependencies:\n  - python=3.11\n  - tool\n  - pip:\n    - alpha; python_version < '4'\n",
    )
    .unwrap();
    set_mtime(&root.join("environment.yml"), 1_000_000);
    let out = sb.pyve(&root, &["init", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("not in the lock: tool"), "{err}");
    assert!(
        err.contains("compared by file times: pyve cannot recompute conda-lock's hash for the environment marker"),
        "{err}"
    );
    assert!(
        !root.join(".pyve").exists(),
        "a refused init writes nothing"
    );
    // Only environment.yml and --strict: the missing lock is the error.
    std::fs::remove_file(root.join("conda-lock.yml")).unwrap();
    let out = sb.pyve(&root, &["init", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no conda-lock.yml"),
        "{}",
        stderr(&out)
    );
}

fn set_mtime(path: &Path, secs: i64) {
    let status = std::process::Command::new("touch")
        .arg("-d")
        .arg(format!("@{secs}"))
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn naming_precedence_and_sanitization() {
    let sb = Sandbox::new();
    sb.micromamba_on_path();
    let env = "channels: [conda-forge]\ndependencies: [python]\n";
    // The directory's name, sanitized.
    let root = sb.conda_dir("My Project", env);
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(
        err.contains("environment name `my-project`, from the project directory's name"),
        "{err}"
    );
    assert!(root
        .join(".pyve/envs/my-project/conda-meta/pyve-built")
        .is_file());
    // environment.yml's name beats the directory's.
    let root = sb.conda_dir("second", &format!("name: Team Env\n{env}"));
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(root.join(".pyve/envs/team-env").is_dir());
    // The config's beats environment.yml's; the flag beats the config's.
    let config = root.join(".pyve/config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("\"team-env\"", "from-config")).unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(root
        .join(".pyve/envs/from-config/conda-meta/pyve-built")
        .is_file());
    sb.pyve_ok(&root, &["init", "--no-direnv", "--env-name", "from-flag"]);
    assert!(root
        .join(".pyve/envs/from-flag/conda-meta/pyve-built")
        .is_file());
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("env_name: \"from-flag\""), "{text}");

    // Names the user types must follow the rules: which rule, and what
    // to use instead.
    let root = sb.conda_dir("2024 study", env);
    let out = sb.pyve(&root, &["init", "--env-name", "My Env"]);
    assert_eq!(out.status.code(), Some(2), "a bad flag is a usage error");
    assert!(stderr(&out).contains("use `my-env`"), "{}", stderr(&out));
    let out = sb.pyve(&root, &["init", "--env-name", "micromamba"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!root.join(".pyve").exists());
    // Derived names are made to fit, as micromamba takes them as they are.
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(
        err.contains("environment name `env-2024-study`, from the project directory's name"),
        "{err}"
    );
    let root = sb.conda_dir("reserved", &format!("name: base\n{env}"));
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(
        err.contains("environment name `base-env`, from name in environment.yml"),
        "{err}"
    );
}

#[test]
fn missing_spec_missing_micromamba_and_guardrails() {
    let sb = Sandbox::new();
    // No spec: the error shows the minimal environment.yml.
    let root = sb.path("nospec");
    std::fs::create_dir_all(&root).unwrap();
    let out = sb.pyve(&root, &["init", "--backend", "micromamba"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("needs conda-lock.yml or environment.yml"),
        "{err}"
    );
    assert!(
        err.contains("channels:\n    - conda-forge\n  dependencies:\n    - python="),
        "{err}"
    );
    assert!(!root.join(".pyve").exists());

    // No micromamba anywhere: all three places and the bootstrap flags,
    // and never a venv instead.
    let root = sb.conda_dir("nomamba", ENVIRONMENT_YML);
    let out = sb.pyve(&root, &["init"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&root.join(".pyve/bin/micromamba").display().to_string()),
        "{err}"
    );
    assert!(
        err.contains(&sb.path("data/pyve/bin/micromamba").display().to_string())
            && err.contains(&sb.home.join(".pyve/bin/micromamba").display().to_string()),
        "{err}"
    );
    assert!(err.contains("`micromamba` on PATH"), "{err}");
    assert!(
        err.contains("--auto-bootstrap") && err.contains("--bootstrap-to project"),
        "{err}"
    );
    assert!(!root.join(".pyve").exists() && !root.join(".venv").exists());

    // A copy the project brought along is not run before the user
    // approved the project; then it is preferred over PATH's, and doctor
    // says so.
    sb.micromamba_on_path();
    let own = sb.install_micromamba(&root.join(".pyve/bin"));
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(
        err.contains("micromamba is not used: you have not approved this project"),
        "{err}"
    );
    assert!(err.contains("from PATH"), "{err}");
    let err = sb.pyve_ok(&root, &["init", "--no-direnv", "--force"]);
    assert!(err.contains("from the project's .pyve/bin"), "{err}");
    let err = stderr(&sb.pyve(&root, &["doctor"]));
    assert!(
        err.contains(&format!("micromamba 2.8.1 at {}", own.display())),
        "{err}"
    );

    // pip packages never go into a conda environment by pyve.
    let out = sb.pyve(&root, &["init", "--install-deps"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("- pip:"), "{}", stderr(&out));
}

#[test]
fn a_failed_create_is_never_a_ready_environment() {
    let sb = Sandbox::new();
    let root = conda_project(&sb, "failing");
    let prefix = root.join(".pyve/envs/ml-dev");
    let built = std::fs::metadata(prefix.join("conda-meta/pyve-built")).unwrap();
    // A rebuild that fails half-way puts the old environment back.
    let out = sb
        .pyve_command(&root, &["init", "--no-direnv", "--force"])
        .env("PYVE_TEST_MICROMAMBA_FAIL", "after-install")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("creating the conda environment"),
        "{}",
        stderr(&out)
    );
    let again = std::fs::metadata(prefix.join("conda-meta/pyve-built")).unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&built),
        std::os::unix::fs::MetadataExt::ino(&again),
        "the old environment is back"
    );
    let leftovers: Vec<_> = std::fs::read_dir(root.join(".pyve/envs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers, ["ml-dev"]);
    // A rebuild killed outright (SIGKILL) left the old environment aside
    // and an unfinished one in place: the next init puts the old one back.
    let envs = root.join(".pyve/envs");
    std::fs::rename(envs.join("ml-dev"), envs.join(".ml-dev.pyve-old-999999")).unwrap();
    std::fs::create_dir_all(envs.join("ml-dev/conda-meta")).unwrap();
    let calls = creates(&sb).len();
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(
        err.contains("restored") && err.contains("keeping the healthy environment"),
        "{err}"
    );
    assert_eq!(creates(&sb).len(), calls);

    // A first create that fails leaves no prefix that looks ready...
    let root = sb.conda_dir("first", ENVIRONMENT_YML);
    let out = sb
        .pyve_command(&root, &["init", "--no-direnv"])
        .env("PYVE_TEST_MICROMAMBA_FAIL", "after-install")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!root
        .join(".pyve/envs/ml-dev/conda-meta/pyve-built")
        .exists());
    // ...and a prefix left by a killed create (no marker) is replaced.
    let half = root.join(".pyve/envs/ml-dev/conda-meta");
    std::fs::create_dir_all(&half).unwrap();
    std::fs::write(half.join("history"), "").unwrap();
    std::fs::write(root.join(".pyve/config"), "backend: micromamba\n").unwrap();
    assert!(stderr(&sb.pyve(&root, &["doctor"])).contains("unfinished"));
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(root
        .join(".pyve/envs/ml-dev/conda-meta/pyve-built")
        .is_file());
}

#[test]
fn doctor_reports_tool_spec_lock_python_and_pip() {
    let sb = Sandbox::new();
    let root = conda_project(&sb, "doc");
    let out = sb.pyve(&root, &["doctor"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    for wanted in [
        "micromamba 2.8.1 at",
        "(from PATH)",
        "environment.yml is used",
        "no conda-lock.yml",
        "Python 3.",
        "built from the current environment.yml",
    ] {
        assert!(err.contains(wanted), "{wanted}: {err}");
    }
    // A package pip put there behind conda's back is a warning.
    let site =
        root.join(".pyve/envs/ml-dev/lib/python3.11/site-packages/requests-2.32.3.dist-info");
    std::fs::create_dir_all(&site).unwrap();
    let out = sb.pyve(&root, &["doctor", "--json"]);
    let json = stdout(&out);
    assert!(
        json.contains(r#""check":"pip","status":"warning""#),
        "{json}"
    );
    assert!(json.contains("requests-2.32.3"), "{json}");
}

#[test]
fn purge_removes_the_prefix_directly_and_keeps_the_specs() {
    let sb = Sandbox::new();
    let root = conda_project(&sb, "purged");
    let calls = sb.micromamba_calls().len();
    sb.pyve_ok(&root, &["purge", "--yes"]);
    assert!(!root.join(".pyve").exists());
    assert!(root.join("environment.yml").is_file());
    assert_eq!(
        sb.micromamba_calls().len(),
        calls,
        "purge never asks micromamba"
    );
}

fn sha256(bytes: &[u8]) -> String {
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

#[test]
fn bootstrap_downloads_checks_and_installs_or_leaves_nothing() {
    let sb = Sandbox::new();
    let body = tarball(&sb);
    let digest = sha256(&body);
    let user_bin = sb.path("data/pyve/bin");
    let root = sb.conda_dir("boot", ENVIRONMENT_YML);
    let init = |url: &str, sha: &str, extra: &[&str]| {
        let mut args = vec!["init", "--no-direnv", "--auto-bootstrap"];
        args.extend_from_slice(extra);
        sb.pyve_command(&root, &args)
            .env("PYVE_MICROMAMBA_URL", url)
            .env("PYVE_MICROMAMBA_SHA256", sha)
            .output()
            .unwrap()
    };
    let empty = |dir: &Path| std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none());

    // `--yes` without a terminal never downloads: only --auto-bootstrap does.
    let out = sb
        .pyve_command(&root, &["init", "--no-direnv", "--yes"])
        .env("PYVE_MICROMAMBA_URL", serve(body.clone(), None))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(empty(&user_bin));

    // A wrong digest: refused, nothing installed, nothing built.
    let out = init(&serve(body.clone(), None), &"0".repeat(64), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("has sha256 {digest}")) && err.contains("nothing was installed"),
        "{err}"
    );
    assert!(
        empty(&user_bin),
        "{:?}",
        std::fs::read_dir(&user_bin).map(|d| d.count())
    );
    assert!(!root.join(".pyve").exists());

    // A download cut short: the same.
    let out = init(&serve(body.clone(), Some(body.len() / 2)), "", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(empty(&user_bin));
    // Not a tarball at all.
    let out = init(&serve(b"<html>not found</html>".to_vec(), None), "", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("bin/micromamba"), "{}", stderr(&out));
    assert!(empty(&user_bin));

    // The good tarball with its digest: installed in $XDG_DATA_HOME/pyve/bin, used.
    let out = init(&serve(body.clone(), None), &digest, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("installed micromamba 2.8.1"),
        "{}",
        stderr(&out)
    );
    assert!(user_bin.join("micromamba").is_file());
    assert!(root
        .join(".pyve/envs/ml-dev/conda-meta/pyve-built")
        .is_file());
    // Found there next time, without downloading.
    let err = sb.pyve_ok(&root, &["init", "--no-direnv", "--force"]);
    assert!(err.contains("from your pyve/bin"), "{err}");
    // A copy where earlier versions put it (~/.pyve/bin) is still used.
    let legacy = sb.home.join(".pyve/bin");
    std::fs::create_dir_all(&legacy).unwrap();
    std::fs::rename(user_bin.join("micromamba"), legacy.join("micromamba")).unwrap();
    let err = sb.pyve_ok(&root, &["init", "--no-direnv", "--force"]);
    assert!(
        err.contains(&format!(
            "micromamba {}",
            legacy.join("micromamba").display()
        )),
        "{err}"
    );

    // --bootstrap-to project: the project's own copy.
    let other = sb.conda_dir("boot2", ENVIRONMENT_YML);
    let out = sb
        .pyve_command(
            &other,
            &[
                "init",
                "--no-direnv",
                "--auto-bootstrap",
                "--bootstrap-to",
                "project",
            ],
        )
        .env("PYVE_MICROMAMBA_URL", serve(body, None))
        .env("HOME", sb.path("otherhome"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(other.join(".pyve/bin/micromamba").is_file());
    assert!(
        stderr(&out).contains("is not verified: there is no checksum at"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bootstrap_verifies_against_the_checksum_file_next_to_the_download() {
    let sb = Sandbox::new();
    let body = tarball(&sb);
    let digest = sha256(&body);
    let root = sb.conda_dir("checked", ENVIRONMENT_YML);
    let user_bin = sb.path("data/pyve/bin");
    let init = |url: String| {
        sb.pyve_command(&root, &["init", "--no-direnv", "--auto-bootstrap"])
            .env("PYVE_MICROMAMBA_URL", url)
            .output()
            .unwrap()
    };
    // A checksum file that disagrees: refused, nothing installed.
    let url = serve_with_checksum(
        body.clone(),
        None,
        Some(format!("{}  micromamba.tar.bz2\n", "1".repeat(64))),
    );
    let out = init(url.clone());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "has sha256 {digest}, but {url}.sha256 expects {}",
            "1".repeat(64)
        )),
        "{err}"
    );
    assert!(!user_bin.join("micromamba").exists());
    // Not a checksum at all: refused too.
    let out = init(serve_with_checksum(
        body.clone(),
        None,
        Some("<html>".into()),
    ));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("holds no sha256"), "{}", stderr(&out));
    assert!(!user_bin.join("micromamba").exists());
    // The published digest (upper case, digest only): verified, installed.
    let out = init(serve_with_checksum(
        body.clone(),
        None,
        Some(digest.to_uppercase()),
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("verified micromamba's sha256 against http://127.0.0.1:"),
        "{}",
        stderr(&out)
    );
    assert!(user_bin.join("micromamba").is_file());
    // A pinned digest (PYVE_MICROMAMBA_SHA) wins over the file.
    std::fs::remove_file(user_bin.join("micromamba")).unwrap();
    let out = sb
        .pyve_command(
            &root,
            &["init", "--no-direnv", "--auto-bootstrap", "--force"],
        )
        .env(
            "PYVE_MICROMAMBA_URL",
            serve_with_checksum(body, None, Some("2".repeat(64))),
        )
        .env("PYVE_MICROMAMBA_SHA", &digest)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("against PYVE_MICROMAMBA_SHA\n"),
        "{}",
        stderr(&out)
    );
}

/// Entering, a subdirectory and leaving, in a shell with the hook.
fn hook_steps(sh: Sh, root: &Path, outside: &Path) -> Vec<String> {
    vec![
        sh.prompt().into(),
        dump("before"),
        format!("cd {}", sh.q(root)),
        sh.prompt().into(),
        dump("inside"),
        format!("cd {}", sh.q(&root.join("sub"))),
        sh.prompt().into(),
        dump("sub"),
        format!("cd {}", sh.q(outside)),
        sh.prompt().into(),
        dump("after"),
    ]
}

per_shell!(hook_activates_conda_natively_with_scripts, |sh: Sh| {
    let sb = Sandbox::new();
    let root = conda_project(&sb, "proj");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let calls = sb.micromamba_calls().len();
    let output = sb.script_ok(sh, &hook_steps(sh, &root, &sb.path("tmp")).join("\n"));
    let d = dumps(&output.stdout);
    assert_eq!(stderr(&output), "");
    let prefix = root.join(".pyve/envs/ml-dev");
    let p = prefix.display().to_string();
    let inside = &d["inside"];
    assert_eq!(path_entries(inside)[0], format!("{p}/bin"));
    assert_eq!(
        path_entries(inside)[1..].join(":"),
        var(&d["before"], "PATH")
    );
    assert_eq!(var(inside, "CONDA_PREFIX"), p);
    assert_eq!(var(inside, "CONDA_SHLVL"), "1");
    assert_eq!(var(inside, "CONDA_DEFAULT_ENV"), "ml-dev");
    assert_eq!(var(inside, "CONDA_PROMPT_MODIFIER"), "(ml-dev) ");
    assert_eq!(var(inside, "MY_VAR"), "from-variables");
    assert_eq!(var(inside, "SHARED"), "from-state", "the state file wins");
    assert_eq!(var(inside, "HELLO_HOME"), format!("{p}/share/hello"));
    assert_eq!(inside["DROPPED"], None, "***unset*** is skipped");
    assert_eq!(var(inside, "HELLO_ACTIVATED"), "1");
    assert_eq!(
        var(inside, "HELLO_SHLVL_SEEN"),
        "1",
        "scripts run on the active environment"
    );
    assert_eq!(var(inside, "ACTIVATE_ORDER"), "hello;tool;");
    assert_eq!(inside["DEACTIVATE_ORDER"], None);
    assert_eq!(var(inside, "SHOWN"), "(micromamba:ml-dev) PROMPT$ ");
    assert_eq!(d["sub"], d["inside"], "a subdirectory re-runs nothing");
    let after = &d["after"];
    assert_eq!(
        var(after, "DEACTIVATE_ORDER"),
        "tool;hello;",
        "reverse order"
    );
    assert_eq!(var(after, "HELLO_DEACTIVATED"), "1");
    assert_eq!(after["HELLO_ACTIVATED"], None);
    for name in [
        "PATH",
        "CONDA_PREFIX",
        "CONDA_SHLVL",
        "CONDA_DEFAULT_ENV",
        "MY_VAR",
        "SHARED",
        "HELLO_HOME",
        "PYVE_STATE",
        "SHOWN",
        "PS1",
    ] {
        assert_eq!(after[name], d["before"][name], "{name} restored");
    }
    assert_eq!(
        sb.micromamba_calls().len(),
        calls,
        "no micromamba process at prompt time"
    );
});

per_shell!(hook_stacks_on_a_conda_env_activated_by_hand, |sh: Sh| {
    let sb = Sandbox::new();
    let root = conda_project(&sb, "stacked");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let outer = sb.path("opt/outer");
    std::fs::create_dir_all(outer.join("bin")).unwrap();
    let mut steps = vec![
        sh.export("CONDA_PREFIX", &sh.q(&outer)),
        sh.export("CONDA_SHLVL", "1"),
        sh.export("CONDA_DEFAULT_ENV", "outer"),
        sh.export("SHARED", "mine"),
        sh.prepend_path(&outer.join("bin").display().to_string()),
    ];
    steps.extend(hook_steps(sh, &root, &sb.path("tmp")));
    let output = sb.script_ok(sh, &steps.join("\n"));
    let d = dumps(&output.stdout);
    let inside = &d["inside"];
    assert_eq!(var(inside, "CONDA_SHLVL"), "2");
    assert_eq!(var(inside, "CONDA_PREFIX_1"), outer.display().to_string());
    assert_eq!(var(inside, "SHARED"), "from-state");
    assert_eq!(
        path_entries(inside)[1],
        outer.join("bin").display().to_string()
    );
    for name in [
        "PATH",
        "CONDA_PREFIX",
        "CONDA_SHLVL",
        "CONDA_DEFAULT_ENV",
        "CONDA_PREFIX_1",
        "SHARED",
    ] {
        assert_eq!(d["after"][name], d["before"][name], "{name} restored");
    }
});

per_shell!(
    an_unapproved_config_runs_no_scripts_and_sets_nothing,
    |sh: Sh| {
        let sb = Sandbox::new();
        let root = conda_project(&sb, "edited");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        // An edit the user did not approve (as a `git pull` would bring).
        let config = root.join(".pyve/config");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, format!("{text}# changed upstream\n")).unwrap();
        let output = sb.script_ok(sh, &hook_steps(sh, &root, &sb.path("tmp")).join("\n"));
        let d = dumps(&output.stdout);
        let err = stderr(&output);
        assert_eq!(
            err.matches(".pyve/config changed since you approved it (comments or layout only)")
                .count(),
            1,
            "once: {err}"
        );
        assert_eq!(
            visible(&d["inside"]),
            visible(&d["before"]),
            "nothing applied"
        );
        assert_eq!(visible(&d["sub"]), visible(&d["before"]));
        assert_eq!(
            d["after"]["DEACTIVATE_ORDER"], None,
            "no deactivation without activation"
        );
        // `pyve init` approves the project again; the hook notices.
        sb.pyve_ok(&root, &["init", "--no-direnv"]);
        let output = sb.script_ok(
            sh,
            &[format!("cd {}", sh.q(&root)), sh.prompt().into(), dump("x")].join("\n"),
        );
        assert_eq!(var(&dumps(&output.stdout)["x"], "HELLO_ACTIVATED"), "1");
    }
);

fn exit_code(session: &mut rexpect::session::PtySession) -> i32 {
    match session.process().wait().unwrap() {
        nix::sys::wait::WaitStatus::Exited(_, code) => code,
        other => panic!("{other:?}"),
    }
}

fn pty(sb: &Sandbox, root: &Path, args: &[&str]) -> rexpect::session::PtySession {
    rexpect::session::spawn_with_options(
        sb.pyve_command(root, args),
        rexpect::reader::Options::new().timeout_ms(Some(20_000)),
    )
    .unwrap()
}

#[test]
fn on_a_terminal_a_stale_lock_asks_and_a_missing_one_is_noted() {
    let sb = Sandbox::new();
    sb.micromamba_on_path();
    let root = sb.conda_dir(
        "asked",
        "channels: [conda-forge]\ndependencies: [python=3.11]\n",
    );
    conda_lock(&root.join("environment.yml"), &root.join("conda-lock.yml"));
    std::fs::write(
        root.join("environment.yml"),
        "channels: [conda-forge]\ndependencies: [python=3.11, hello]\n",
    )
    .unwrap();
    // No: nothing is built or written.
    let mut session = pty(&sb, &root, &["init", "--no-direnv"]);
    session.exp_string("conda-lock.yml is stale").unwrap();
    session
        .exp_string("its content hash for linux-64 differs")
        .unwrap();
    session.exp_string("pyve lock").unwrap();
    session.exp_string("Continue anyway? [Y/n] ").unwrap();
    session.send_line("n").unwrap();
    session.exp_string("nothing was changed").unwrap();
    session.exp_eof().unwrap();
    assert_eq!(exit_code(&mut session), 1);
    assert!(!root.join(".pyve").exists());
    assert!(creates(&sb).is_empty());
    // Enter takes the default, yes.
    let mut session = pty(&sb, &root, &["init", "--no-direnv"]);
    session.exp_string("Continue anyway? [Y/n] ").unwrap();
    session.send_line("").unwrap();
    session.exp_string("ready").unwrap();
    session.exp_eof().unwrap();
    assert_eq!(exit_code(&mut session), 0);
    assert!(root
        .join(".pyve/envs/asked/conda-meta/pyve-built")
        .is_file());
    // --yes never asks.
    let mut session = pty(&sb, &root, &["init", "--no-direnv", "--yes", "--force"]);
    session.exp_string("ready").unwrap();
    session.exp_eof().unwrap();
    assert_eq!(exit_code(&mut session), 0);

    // Only environment.yml: a note on a terminal, no question.
    std::fs::remove_file(root.join("conda-lock.yml")).unwrap();
    let mut session = pty(&sb, &root, &["init", "--no-direnv"]);
    session
        .exp_string("pyve: using environment.yml without a lock file")
        .unwrap();
    session.exp_string("ready").unwrap();
    session.exp_eof().unwrap();
    assert_eq!(exit_code(&mut session), 0);
}

#[test]
fn on_a_terminal_a_missing_micromamba_is_offered() {
    let sb = Sandbox::new();
    let body = tarball(&sb);
    let root = sb.conda_dir("offered", ENVIRONMENT_YML);
    let url = serve(body, None);
    for (answer, installed) in [("n", false), ("y", true)] {
        let mut command = sb.pyve_command(&root, &["init", "--no-direnv"]);
        command.env("PYVE_MICROMAMBA_URL", &url);
        let mut session = rexpect::session::spawn_with_options(
            command,
            rexpect::reader::Options::new().timeout_ms(Some(20_000)),
        )
        .unwrap();
        session.exp_string("micromamba was not found").unwrap();
        session
            .exp_string(&format!(
                "Download micromamba from {url} to ~/.local/share/pyve/bin now? [y/N] "
            ))
            .unwrap();
        session.send_line(answer).unwrap();
        session.exp_eof().unwrap();
        assert_eq!(exit_code(&mut session), if installed { 0 } else { 1 });
        assert_eq!(sb.path("data/pyve/bin/micromamba").is_file(), installed);
        assert_eq!(
            root.join(".pyve/envs/ml-dev/conda-meta/pyve-built")
                .is_file(),
            installed
        );
    }
}

#[test]
fn an_interrupted_create_leaves_no_environment() {
    let sb = Sandbox::new();
    sb.micromamba_on_path();
    let root = sb.conda_dir("stopped", ENVIRONMENT_YML);
    let child = sb
        .pyve_command(&root, &["init", "--no-direnv"])
        .env("PYVE_TEST_MICROMAMBA_SLEEP", "30")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until micromamba has written the prefix (the spy then sleeps).
    let history = root.join(".pyve/envs/ml-dev/conda-meta/history");
    let started = std::time::Instant::now();
    while !history.exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "create never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(15), "{}", stderr(&out));
    assert!(
        !root.join(".pyve").exists(),
        "a first init that was stopped leaves nothing"
    );
}

#[test]
fn direnv_loads_the_conda_environment_with_its_scripts() {
    let sb = Sandbox::new();
    sb.micromamba_on_path();
    let root = sb.conda_dir("viadirenv", ENVIRONMENT_YML);
    sb.pyve_ok(&root, &["init"]);
    let allow = sb
        .command("direnv")
        .current_dir(&root)
        .env("PWD", &root)
        .args(["allow", "."])
        .output()
        .unwrap();
    assert!(allow.status.success());
    let out = sb
        .command("direnv")
        .env("PWD", sb.path("."))
        .arg("exec")
        .arg(&root)
        .args([
            "sh",
            "-c",
            "printf '%s|' \"$CONDA_PREFIX\" \"$MY_VAR\" \"$ACTIVATE_ORDER\"; hello",
        ])
        .output()
        .unwrap();
    let prefix = root.join(".pyve/envs/ml-dev").display().to_string();
    assert_eq!(
        stdout(&out),
        format!("{prefix}|from-variables|hello;tool;|hello 2.0 from {prefix}\n"),
        "{}",
        stderr(&out)
    );
}

per_shell!(
    a_conda_env_activated_inside_is_not_counted_again,
    |sh: Sh| {
        let sb = Sandbox::new();
        let root = conda_project(&sb, "inner");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        let other = sb.path("opt/other");
        let steps = [
            format!("cd {}", sh.q(&root)),
            sh.prompt().into(),
            // What `conda activate other` does on top of pyve's environment.
            sh.export("CONDA_PREFIX_1", "\"$CONDA_PREFIX\""),
            sh.export("CONDA_PREFIX", &sh.q(&other)),
            sh.export("CONDA_SHLVL", "2"),
            format!("cd {}", sh.q(&root.join("sub"))),
            sh.prompt().into(),
            dump("sub"),
        ];
        let output = sb.script_ok(sh, &steps.join("\n"));
        let d = dumps(&output.stdout);
        assert_eq!(var(&d["sub"], "CONDA_SHLVL"), "2");
        assert_eq!(var(&d["sub"], "CONDA_PREFIX"), other.display().to_string());
    }
);
