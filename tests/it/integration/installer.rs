//! install.sh end to end, against a local "release": the archive
//! scripts/release.sh built from this checkout (scripts/test.sh runs it),
//! in a clean HOME. A fresh install, a second run that changes nothing, a
//! damaged download and a wrong pinned checksum refused with nothing
//! installed, the checksum pinned, a file:// URL, and the script read from
//! stdin as `curl … | sh` runs it.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::*;

/// The archive name install.sh looks for on this machine.
fn archive() -> String {
    release_archive().1
}

/// A copy of the release directory scripts/test.sh built, to damage freely.
fn release(sb: &Sandbox, name: &str) -> PathBuf {
    let (built, _) = release_archive();
    let dir = sb.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    for file in [archive(), format!("{}.sha256", archive())] {
        std::fs::copy(built.join(&file), dir.join(&file)).unwrap();
    }
    dir
}

/// The sha256 of a file, as sha256sum prints it.
fn sha256_hex(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    stdout(&out).split_whitespace().next().unwrap().to_owned()
}

fn installer() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh")
}

/// Runs install.sh with `args` in the sandbox (HOME its own, bash as the
/// user's shell, ~/.local/bin not on PATH).
fn install(sb: &Sandbox, args: &[&str]) -> Output {
    sb.command("sh")
        .arg(installer())
        .args(args)
        .env("SHELL", "/bin/bash")
        .output()
        .unwrap()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn installs_once_and_a_second_run_changes_nothing() {
    let sb = Sandbox::new();
    let dir = release(&sb, "release");
    let url = dir.display().to_string();
    let out = install(&sb, &["--url", &url]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let installed = sb.home.join(".local/bin/pyve");
    let version = format!("pyve {}", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        err,
        format!(
            "pyve-install: installed {version} at {0}\n\
             pyve-install: {1} is not on PATH: add it in your shell's startup file\n\
             pyve-install: add this line to ~/.bashrc, then open a new shell:\n  \
             eval \"$(pyve hook bash)\"\n",
            installed.display(),
            sb.home.join(".local/bin").display()
        )
    );
    assert_eq!(stdout(&out), "", "messages go to stderr");
    // Only the binary was written in the home, and it runs.
    assert_eq!(files_under(&sb.home), std::slice::from_ref(&installed));
    let ran = sb.command(&installed).arg("--version").output().unwrap();
    assert_eq!(stdout(&ran).trim(), version);

    let before = std::fs::metadata(&installed).unwrap();
    let out = install(&sb, &["--url", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{version} is already installed at {}; nothing changed",
            installed.display()
        )),
        "{}",
        stderr(&out)
    );
    let after = std::fs::metadata(&installed).unwrap();
    assert_eq!(
        (before.ino(), before.mtime_nsec(), before.mtime()),
        (after.ino(), after.mtime_nsec(), after.mtime())
    );
}

#[test]
fn a_damaged_download_or_a_wrong_checksum_installs_nothing() {
    let sb = Sandbox::new();
    let dir = release(&sb, "damaged");
    let tarball = dir.join(archive());
    let mut bytes = std::fs::read(&tarball).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&tarball, &bytes).unwrap();
    let to = sb.path("bin dir");
    let url = dir.display().to_string();
    let to_arg = to.display().to_string();
    let out = install(&sb, &["--url", &url, "--to", &to_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("pyve-install: error: {}: sha256 is ", archive()))
            && stderr(&out)
                .contains("the download is damaged or not that release; nothing was installed"),
        "{}",
        stderr(&out)
    );
    assert!(!to.join("pyve").exists());

    // A pinned checksum is checked instead of the published one.
    let good = release(&sb, "good");
    let published = std::fs::read_to_string(good.join(format!("{}.sha256", archive()))).unwrap();
    let pinned = published.split_whitespace().next().unwrap().to_owned();
    // The last digit changed, whatever it was.
    let last = if pinned.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &pinned[..63]);
    let url = good.display().to_string();
    let out = install(&sb, &["--url", &url, "--to", &to_arg, "--sha256", &wrong]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!to.join("pyve").exists());
    std::fs::remove_file(good.join(format!("{}.sha256", archive()))).unwrap();
    let file_url = format!("file://{}", good.display());
    let out = install(
        &sb,
        &["--url", &file_url, "--to", &to_arg, "--sha256", &pinned],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(to.join("pyve").is_file());
}

#[test]
fn read_from_stdin_as_curl_pipes_it() {
    let sb = Sandbox::new();
    let dir = release(&sb, "release");
    let script = std::fs::read(installer()).unwrap();
    let to = sb.path("tools-bin");
    let mut child = sb
        .command("sh")
        .args(["-s", "--", "--url", &dir.display().to_string()])
        .args(["--to", &to.display().to_string()])
        .env("SHELL", "/usr/bin/fish")
        .env("PATH", format!("{}:/usr/bin:/bin", to.display()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&script).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(to.join("pyve").is_file());
    assert!(!err.contains("not on PATH"), "{err}");
    assert!(
        err.ends_with(
            "pyve-install: add this line to ~/.config/fish/config.fish, then open a new shell:\n  \
             pyve hook fish | source\n"
        ),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let sb = Sandbox::new();
    let out = install(&sb, &["--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "pyve-install: error: unknown option --frobnicate (see --help)\n"
    );
    let out = install(&sb, &["--sha256", "xyz"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = install(&sb, &["--help"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("--sha256 HEX"), "{}", stdout(&out));
}

/// docs/ci.md's install steps, run as written with the release's address
/// pointed at the local one: the pinned version (this one) and checksum,
/// and `~/.local/bin` put on PATH the way each service does it.
#[test]
fn the_ci_recipes_install_step_installs_the_pinned_release() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md")).unwrap();
    let github = "https://github.com/pointmatic/pyve/releases/download/v$PYVE_VERSION";
    let mut steps = Vec::new();
    let mut gitlab = Vec::new();
    for block in doc.split("```yaml\n").skip(1) {
        let yaml: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(block.split("```").next().unwrap()).unwrap();
        if let Some(jobs) = yaml["jobs"].as_mapping() {
            for (_, job) in jobs {
                for step in job["steps"].as_sequence().into_iter().flatten() {
                    if step["name"].as_str() == Some("Install pyve") {
                        steps.push(step.clone());
                    }
                }
            }
        } else if let Some(version) = yaml["variables"]["PYVE_VERSION"].as_str() {
            assert_eq!(
                version,
                env!("CARGO_PKG_VERSION"),
                "GitLab pins this release"
            );
            for (_, job) in yaml.as_mapping().unwrap() {
                if let Some(lines) = job["before_script"].as_sequence() {
                    gitlab.push(lines.clone());
                }
            }
        }
    }
    assert_eq!(steps.len(), 3, "one per GitHub job");
    assert!(
        steps.iter().all(|s| *s == steps[0]),
        "the same step in each job"
    );
    assert_eq!(gitlab.len(), 2);
    let step = &steps[0];
    assert_eq!(
        step["env"]["PYVE_VERSION"].as_str(),
        Some(env!("CARGO_PKG_VERSION")),
        "the recipes pin this release"
    );
    assert_eq!(
        step["env"]["PYVE_INSTALL_SHA256"].as_str(),
        Some("${{ vars.PYVE_SHA256 }}")
    );
    assert_eq!(
        step["env"]["PYVE_INSTALLER_SHA256"].as_str(),
        Some("${{ vars.PYVE_INSTALLER_SHA256 }}")
    );

    let sb = Sandbox::new();
    let dir = release(&sb, "release");
    std::fs::copy(installer(), dir.join("install.sh")).unwrap();
    let published = std::fs::read_to_string(dir.join(format!("{}.sha256", archive()))).unwrap();
    let checksum = published.split_whitespace().next().unwrap();
    let installer_sum = sha256_hex(&dir.join("install.sh"));
    let local = format!("file://{}", dir.display());
    let run = step["run"].as_str().unwrap();
    assert!(run.contains(github), "{run}");
    let github_path = sb.path("github-path");
    let run_github = |installer: &str| {
        sb.command("bash")
            .args(["-e", "-c", &run.replace(github, &local)])
            .env("PYVE_VERSION", env!("CARGO_PKG_VERSION"))
            .env("PYVE_INSTALLER_SHA256", installer)
            .env("PYVE_INSTALL_SHA256", checksum)
            .env("PYVE_INSTALL_URL", &dir)
            .env("GITHUB_PATH", &github_path)
            .output()
            .unwrap()
    };
    // An installer that is not the pinned one, or no pin, never runs.
    for pin in ["", &"0".repeat(64)] {
        let out = run_github(pin);
        assert!(!out.status.success(), "ran with installer pin {pin:?}");
        assert!(!sb.home.join(".local/bin/pyve").exists());
    }
    let out = run_github(&installer_sum);
    assert!(out.status.success(), "{}", stderr(&out));
    let bin = sb.home.join(".local/bin");
    assert!(bin.join("pyve").is_file());
    assert_eq!(
        std::fs::read_to_string(&github_path).unwrap(),
        format!("{}\n", bin.display())
    );

    // GitLab's lines, in a home of their own, with a wrong checksum
    // pinned: refused.
    let lines: Vec<String> = gitlab[0]
        .iter()
        .map(|l| l.as_str().unwrap().replace(github, &local))
        .collect();
    assert!(lines.iter().any(|l| l.contains(&local)), "{lines:?}");
    let script = format!("{}\npyve --version", lines.join("\n"));
    let other = Sandbox::new();
    let run_gitlab = |sha: &str| {
        other
            .command("bash")
            .args(["-e", "-c", &script])
            .env("PYVE_VERSION", env!("CARGO_PKG_VERSION"))
            .env("PYVE_INSTALLER_SHA256", &installer_sum)
            .env("PYVE_INSTALL_SHA256", sha)
            .env("PYVE_INSTALL_URL", &dir)
            .output()
            .unwrap()
    };
    for pin in ["", &"0".repeat(64)] {
        let out = run_gitlab(pin);
        assert!(!out.status.success(), "installed with archive pin {pin:?}");
        assert!(!other.home.join(".local/bin/pyve").exists());
    }
    let out = run_gitlab(checksum);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        format!("pyve {}", env!("CARGO_PKG_VERSION"))
    );
}
