//! Filesystem and process edge cases: a read-only project, a full disk,
//! permission denied, links out of the project, symlinked ancestors, and
//! shells racing in one project. Mounts need root; without it those
//! tests say they were skipped.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// A mount that is undone when dropped, even when the test fails.
struct Mount(PathBuf);

impl Mount {
    fn new(args: &[&str], target: &Path) -> Option<Mount> {
        let ok = Command::new("mount")
            .args(args)
            .arg(target)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!(
                "skipped: cannot mount {args:?} on {} (needs root)",
                target.display()
            );
        }
        ok.then(|| Mount(target.to_owned()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Everything under `dir`, as sorted relative paths.
fn tree(dir: &Path) -> Vec<String> {
    let out = Command::new("find")
        .arg(".")
        .current_dir(dir)
        .output()
        .unwrap();
    let mut lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn a_read_only_project_is_refused_cleanly_and_still_activates() {
    let sb = Sandbox::new();
    let fresh = sb.path("ro/fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let built = sb.path("ro/built");
    std::fs::create_dir_all(&built).unwrap();
    sb.pyve_ok(&built, &["init", "--no-direnv"]);
    let ro = sb.path("ro");
    let Some(_bind) = Mount::new(&["--bind", ro.to_str().unwrap()], &ro) else {
        return;
    };
    let remounted = Command::new("mount")
        .args(["-o", "remount,bind,ro"])
        .arg(&ro)
        .status()
        .is_ok_and(|s| s.success());
    if !remounted {
        eprintln!("skipped: cannot make {} read-only", ro.display());
        return;
    }
    let before = tree(&ro);
    let out = sb.pyve(&fresh, &["init"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Read-only file system"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let out = sb.pyve(&built, &["purge", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Read-only file system"),
        "{}",
        stderr(&out)
    );
    assert_eq!(tree(&ro), before, "nothing changed");
    // Reading is all activation needs.
    let out = sb.pyve(
        &built,
        &["run", "python", "-c", "import sys; print(sys.prefix)"],
    );
    assert_eq!(
        stdout(&out).trim(),
        built.join(".venv").display().to_string()
    );
}

#[test]
fn a_full_disk_during_init_leaves_no_half_environment() {
    let sb = Sandbox::new();
    let disk = sb.path("disk");
    std::fs::create_dir_all(&disk).unwrap();
    let Some(_tmpfs) = Mount::new(&["-t", "tmpfs", "-o", "size=2m", "tmpfs"], &disk) else {
        return;
    };
    let kept = disk.join("kept");
    std::fs::create_dir_all(&kept).unwrap();
    sb.pyve_ok(&kept, &["init", "--no-direnv"]);
    let fresh = disk.join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    // Fill what is left.
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=4k"])
        .arg(format!("of={}", disk.join("filler").display()))
        .output();
    let before = tree(&disk);

    let out = sb.pyve(&fresh, &["init", "--no-direnv"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("No space left on device"),
        "{}",
        stderr(&out)
    );
    let out = sb.pyve(&kept, &["init", "--no-direnv", "--force"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(tree(&disk), before, "no half environment, no leftovers");
    let out = sb.pyve(&kept, &["run", "python", "-c", "print('still here')"]);
    assert_eq!(stdout(&out).trim(), "still here");
}

#[test]
fn permission_denied_on_the_environment_is_named() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: running as another user needs root");
        return;
    }
    let sb = Sandbox::new();
    // A project of user 65534 whose environment root made and locked.
    let root = sb.venv_project("mine", "");
    std::fs::set_permissions(sb.path("."), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(root.join(".venv"), std::fs::Permissions::from_mode(0o700)).unwrap();
    let status = Command::new("chown")
        .args(["65534:65534"])
        .arg(&root)
        .arg(root.join(".pyve"))
        .arg(root.join(".pyve/config"))
        .status()
        .unwrap();
    assert!(status.success());
    let as_user = |args: &[&str]| {
        let mut cmd = sb.command("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(pyve_bin())
            .args(args)
            .current_dir(&root)
            .env("PWD", &root)
            .env("XDG_DATA_HOME", "/nonexistent");
        cmd.output().unwrap()
    };
    for args in [&["run", "--trust", "true"][..], &["init"]] {
        let out = as_user(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!(
                "{}: Permission denied",
                root.join(".venv").display()
            )),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert!(root.join(".venv/pyvenv.cfg").exists(), "nothing deleted");
}

#[test]
fn purge_never_deletes_a_conda_environment_reached_through_a_link() {
    let sb = Sandbox::new();
    let outside = sb.path("outside/envs/ml");
    std::fs::create_dir_all(outside.join("conda-meta")).unwrap();
    std::fs::write(outside.join("conda-meta/pyve-built"), "spec: x\n").unwrap();
    let root = sb.project(
        "linked",
        "backend: micromamba\nmicromamba:\n  env_name: ml\n",
    );
    std::os::unix::fs::symlink(sb.path("outside/envs"), root.join(".pyve/envs")).unwrap();
    let err = sb.pyve_ok(&root, &["purge", "--yes"]);
    assert!(
        err.contains("envs/ml: it is not inside the project"),
        "{err}"
    );
    assert!(outside.join("conda-meta/pyve-built").exists(), "{err}");
}

#[test]
fn a_project_under_symlinked_ancestors_is_one_project() {
    let sb = Sandbox::new();
    let real = sb.path("real/deep/proj");
    std::fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(sb.path("real"), sb.path("link")).unwrap();
    let via_link = sb.path("link/deep/proj");
    sb.pyve_ok(&via_link, &["init", "--no-direnv"]);
    let (d, err) = run(
        &sb,
        Sh::Bash,
        &[
            cd(Sh::Bash, &via_link),
            "__pyve_hook".into(),
            dump("link"),
            cd(Sh::Bash, &real),
            "__pyve_hook".into(),
            dump("real"),
        ],
    );
    assert_eq!(err, "");
    // Approved and named by its real path, whichever way it is reached.
    for label in ["link", "real"] {
        assert_eq!(
            var(&d[label], "VIRTUAL_ENV"),
            real.join(".venv").display().to_string()
        );
        assert_eq!(var(&d[label], "PYVE_PROJECT"), real.display().to_string());
    }
}

#[test]
fn shells_entering_and_leaving_one_project_at_once_keep_their_own_state() {
    let sb = Sandbox::new();
    let root = sb.venv_project("shared", "");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let outside = sb.path("tmp");
    let body = |n: usize| {
        let mut steps = vec![dump("before")];
        for i in 0..15 {
            steps.extend([
                cd(Sh::Bash, &root),
                "__pyve_hook".into(),
                format!(
                    "[[ $VIRTUAL_ENV == {} ]] || echo BAD-in-{n}-{i} >&2",
                    Sh::Bash.q(&root.join(".venv"))
                ),
                cd(Sh::Bash, &root.join("sub")),
                "__pyve_hook".into(),
                cd(Sh::Bash, &outside),
                "__pyve_hook".into(),
                format!("[[ -z ${{VIRTUAL_ENV-}} ]] || echo BAD-out-{n}-{i} >&2"),
            ]);
        }
        steps.push(dump("after"));
        steps.join("\n")
    };
    // All four run at once: each starts its engine runs while the others
    // do, in the same project, with the same stamp directory.
    let children: Vec<_> = (0..4)
        .map(|n| {
            sb.script_command(Sh::Bash, &body(n))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (n, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
        let err = stderr(&output);
        assert!(
            output.status.success() && err.is_empty(),
            "shell {n}: {err}"
        );
        let d = dumps(&output.stdout);
        assert_eq!(d["after"], d["before"], "shell {n}");
    }
}
