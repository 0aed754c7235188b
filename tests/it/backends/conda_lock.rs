//! `pyve lock` with the real conda-lock and micromamba, `--check` by
//! conda-lock's own content hash, and channels chosen per run or recorded.

use std::path::{Path, PathBuf};

use crate::support::*;

fn project(sb: &Sandbox, rel: &str, environment: &str) -> PathBuf {
    sb.micromamba_on_path();
    sb.conda_dir(rel, environment)
}

fn lock_text(root: &Path) -> String {
    std::fs::read_to_string(root.join("conda-lock.yml")).unwrap()
}

#[test]
fn lock_writes_checks_and_says_what_changed() {
    let sb = Sandbox::new();
    let root = project(
        &sb,
        "locking",
        "channels: [conda-forge]\ndependencies: [python=3.11, hello=1.0]\n",
    );
    let out = sb.pyve(&root, &["lock", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("there is no conda-lock.yml; make it with `pyve lock`"));
    // conda-lock is the user's to install; pyve says how.
    let out = sb.pyve(&root, &["lock"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("pyve lock runs conda-lock, which is not on PATH"),
        "{err}"
    );
    assert!(err.contains("uv tool install conda-lock"), "{err}");
    assert!(!root.join("conda-lock.yml").exists());

    sb.conda_lock_on_path();
    let err = sb.pyve_ok(&root, &["lock"]);
    assert!(
        err.contains("locking for this machine's linux-64 only"),
        "{err}"
    );
    assert!(err.contains("linux-64: + hello 1.0"), "{err}");
    assert!(err.contains("linux-64: + python 3.11.9"), "{err}");
    assert!(lock_text(&root).contains("version: 1"));
    let err = sb.pyve_ok(&root, &["lock", "--check"]);
    assert!(
        err.contains("conda-lock.yml matches environment.yml"),
        "{err}"
    );

    std::fs::write(
        root.join("environment.yml"),
        "channels: [conda-forge]\ndependencies: [python=3.11, hello, tool]\n",
    )
    .unwrap();
    let out = sb.pyve(&root, &["lock", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("content hash for linux-64 differs"), "{err}");
    assert!(err.contains("update it with `pyve lock`"), "{err}");
    let err = sb.pyve_ok(&root, &["lock"]);
    assert!(err.contains("linux-64: hello 1.0 → 2.0"), "{err}");
    assert!(err.contains("linux-64: + tool 2.0"), "{err}");
    sb.pyve_ok(&root, &["lock", "--check"]);
    // Nothing of pyve's is left beside the lock.
    let names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("pyve-")), "{names:?}");

    // The lock is what init installs, fresh under --strict.
    sb.pyve_ok(&root, &["init", "--no-direnv", "--strict"]);
    let out = sb.pyve(&root, &["run", "tool"]);
    assert_eq!(stdout(&out), "tool 2.0\n", "{}", stderr(&out));
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(config.contains("backend: micromamba"), "{config}");
    // Locking again changes no package, and says so.
    let err = sb.pyve_ok(&root, &["lock"]);
    assert!(err.contains("no package changed"), "{err}");
    // A lock that does not parse is replaced, not a reason to stop.
    std::fs::write(root.join("conda-lock.yml"), "{ not: [yaml").unwrap();
    let err = sb.pyve_ok(&root, &["lock"]);
    assert!(
        err.contains("invalid YAML") && err.contains("replacing it"),
        "{err}"
    );
    assert!(err.contains("linux-64: + tool 2.0"), "{err}");
    sb.pyve_ok(&root, &["lock", "--check"]);
}

#[test]
fn lock_files_outside_the_project_are_not_written() {
    let sb = Sandbox::new();
    sb.conda_lock_on_path();
    let root = project(
        &sb,
        "outside",
        "channels: [conda-forge]\ndependencies: [python]\n",
    );
    std::fs::create_dir_all(root.join(".pyve")).unwrap();
    std::fs::write(
        root.join(".pyve/config"),
        "environments:\n  gpu:\n    backend: micromamba\n    env_file: gpu.yml\n    lock_file: ../elsewhere-lock.yml\n",
    )
    .unwrap();
    std::fs::write(
        root.join("gpu.yml"),
        "channels: [conda-forge]\ndependencies: [python]\n",
    )
    .unwrap();
    let out = sb.pyve(&root, &["lock", "--env", "gpu"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not inside"), "{}", stderr(&out));
    assert!(!sb.path("elsewhere-lock.yml").exists());
    let leftovers: Vec<_> = std::fs::read_dir(sb.path("."))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("pyve-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A named environment without a lock file: --check says what to add.
    std::fs::write(
        root.join(".pyve/config"),
        "environments:\n  gpu:\n    backend: micromamba\n    env_file: gpu.yml\n",
    )
    .unwrap();
    let out = sb.pyve(&root, &["lock", "--check", "--env", "gpu"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("add `lock_file: gpu.conda-lock.yml` to its entry"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_files_platforms_are_locked_and_a_missing_one_is_stale() {
    let sb = Sandbox::new();
    sb.conda_lock_on_path();
    let root = project(
        &sb,
        "platforms",
        "channels: [conda-forge]\nplatforms: [linux-64, osx-arm64]\ndependencies: [python=3.12]\n",
    );
    let err = sb.pyve_ok(&root, &["lock"]);
    assert!(err.contains("osx-arm64: + python 3.12.4"), "{err}");
    assert!(lock_text(&root).contains("- osx-arm64"));
    sb.pyve_ok(&root, &["lock", "--check"]);
    // --platform chooses for this run; the lock holds exactly that, and the
    // file's other platform makes it stale.
    let err = sb.pyve_ok(&root, &["lock", "--platform", "linux-64"]);
    assert!(err.contains("osx-arm64: - python 3.12.4"), "{err}");
    let out = sb.pyve(&root, &["lock", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("environment.yml lists platforms the lock lacks: osx-arm64"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn channels_for_one_run_or_recorded() {
    let sb = Sandbox::new();
    let root = project(
        &sb,
        "chan",
        "channels: [nosuch]\ndependencies: [python=3.11, hello]\n",
    );
    let out = sb.pyve(&root, &["init", "--no-direnv", "--channel", "a b"]);
    assert_eq!(out.status.code(), Some(2));
    sb.pyve_ok(&root, &["init", "--no-direnv", "--channel", "other"]);
    let prefix = root.join(".pyve/envs/chan");
    let record = std::fs::read_dir(prefix.join("conda-meta"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("hello-"))
        .unwrap();
    let record = std::fs::read_to_string(record.path()).unwrap();
    assert!(record.contains("/other"), "{record}");
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(!config.contains("channels"), "one run only:\n{config}");
    // The file itself is untouched, and no copy is left beside it.
    assert_eq!(
        std::fs::read_to_string(root.join("environment.yml")).unwrap(),
        "channels: [nosuch]\ndependencies: [python=3.11, hello]\n"
    );

    // Recorded, they are the environment's from then on, for init and lock.
    sb.pyve_ok(
        &root,
        &[
            "init",
            "--no-direnv",
            "--channel",
            "other",
            "--record-channels",
        ],
    );
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(
        config.contains("micromamba:\n  channels: [\"other\"]\n"),
        "{config}"
    );
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(err.contains("keeping the healthy environment"), "{err}");
    sb.conda_lock_on_path();
    sb.pyve_ok(&root, &["lock"]);
    assert!(lock_text(&root).contains("/other/noarch/hello-2.0-0.tar.bz2"));
    sb.pyve_ok(&root, &["lock", "--check"]);
    // With a lock, --channel has nothing to change.
    let out = sb.pyve(&root, &["init", "--no-direnv", "--channel", "conda-forge"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--channel applies to environment.yml, but conda-lock.yml is used"),
        "{}",
        stderr(&out)
    );

    // A venv project has neither.
    let venv = sb.path("plain");
    std::fs::create_dir_all(&venv).unwrap();
    sb.pyve_ok(&venv, &["init", "--no-direnv", "--no-deps"]);
    let out = sb.pyve(&venv, &["init", "--no-direnv", "--channel", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--channel applies to conda environments"));
    let out = sb.pyve(&venv, &["lock"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("pyve lock locks conda environments"));
}
