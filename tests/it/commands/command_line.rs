//! The command line: `pyve hook`, usage errors, exit codes.

use assert_cmd::Command;

use crate::support::*;

fn pyve() -> Command {
    Command::new(pyve_bin())
}

#[test]
fn hook_prints_only_shell_code_that_parses() {
    for sh in SHELLS {
        let output = pyve().args(["hook", sh.name()]).output().unwrap();
        assert!(output.status.success());
        assert!(output.stderr.is_empty(), "{}: stderr not empty", sh.name());
        let script = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(script.path(), &output.stdout).unwrap();
        let check = match sh {
            Sh::Bash => std::process::Command::new("bash")
                .arg("-n")
                .arg(script.path())
                .output(),
            Sh::Zsh => std::process::Command::new("zsh")
                .arg("-n")
                .arg(script.path())
                .output(),
            Sh::Fish => std::process::Command::new("fish")
                .arg("--no-execute")
                .arg(script.path())
                .output(),
        }
        .unwrap();
        assert!(
            check.status.success(),
            "{} rejects its hook: {}",
            sh.name(),
            stderr(&check)
        );
    }
}

#[test]
fn hook_embeds_the_absolute_binary_path() {
    let output = pyve().args(["hook", "bash"]).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let first = text.lines().next().unwrap();
    let bin = std::fs::canonicalize(pyve_bin()).unwrap();
    assert_eq!(first, format!("__pyve_exe='{}'", bin.display()));
}

#[test]
fn unknown_shell_is_a_usage_error_listing_the_supported_ones() {
    let output = pyve().args(["hook", "powershell"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = stderr(&output);
    for name in ["bash", "zsh", "fish", "nu", "xonsh", "elvish", "tcsh"] {
        assert!(stderr.contains(name), "{stderr}");
    }
}

#[test]
fn engine_entry_point_rejects_bad_arguments_with_usage_exit() {
    let output = pyve().args(["_engine", "tcsh"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(stderr(&output).starts_with("pyve: "));
}

#[test]
fn shellcheck_accepts_the_bash_hook() {
    if which("shellcheck").is_none() {
        eprintln!("SKIPPED: shellcheck not installed");
        return;
    }
    let output = pyve().args(["hook", "bash"]).output().unwrap();
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(script.path(), &output.stdout).unwrap();
    shellcheck("style", &[script.path().to_owned()]);
}

/// Asserts that shellcheck, at `severity`, finds nothing in `files` (bash).
fn shellcheck(severity: &str, files: &[std::path::PathBuf]) {
    let check = std::process::Command::new("shellcheck")
        .args(["--shell=bash", &format!("--severity={severity}")])
        .args(files)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stdout(&check));
}

/// The project's own scripts: the test command, CI's entry, the release's
/// and the benchmarks, which run on fresh machines where a slip costs a
/// whole run.
#[test]
fn shellcheck_accepts_the_project_scripts() {
    if which("shellcheck").is_none() {
        eprintln!("SKIPPED: shellcheck not installed");
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    shellcheck(
        "warning",
        &[
            "scripts/test.sh",
            "scripts/release.sh",
            "scripts/release-notes.sh",
            "scripts/smoke.sh",
            "install.sh",
            ".ci/run",
            "bench/run.sh",
            "bench/watch.sh",
            "bench/deps.sh",
            "bench/conda.sh",
        ]
        .map(|s| root.join(s)),
    );
}
