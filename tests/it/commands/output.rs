//! What the commands print for people: colour and the spinner only on a
//! terminal, NO_COLOR and `--color`, `--quiet`, `--verbose`, and a failed
//! step's whole output kept.

use std::path::{Path, PathBuf};

use rexpect::reader::Options;
use rexpect::session::{spawn_with_options, PtySession};

use crate::support::*;

const ESC: &str = "\x1b[";
const RED_PREFIX: &str = "\x1b[31mpyve:\x1b[0m";

fn empty_dir(sb: &Sandbox, rel: &str) -> PathBuf {
    let dir = sb.path(rel);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `pyve ARGS` on a terminal that can show colour (the sandbox's TERM is
/// `dumb`), with `extra` in its environment; everything it printed.
fn on_terminal(sb: &Sandbox, dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> String {
    let mut command = sb.pyve_command(dir, args);
    command.env("TERM", "xterm-256color");
    for (name, value) in extra {
        command.env(name, value);
    }
    let mut session: PtySession =
        spawn_with_options(command, Options::new().timeout_ms(Some(30_000))).unwrap();
    let all = session.exp_eof().unwrap();
    let _ = session.process().wait();
    all
}

/// Replaces the sandbox's `uv` by a script that runs `venv_body` for
/// `uv venv …` and is the real uv otherwise.
fn uv_doing(sb: &Sandbox, venv_body: &str) {
    let path = sb.path("tools/uv");
    std::fs::remove_file(&path).unwrap();
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nif [ \"$1\" = venv ]; then\n{venv_body}\nfi\nexec '{}' \"$@\"\n",
            uv().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

#[test]
fn colour_only_on_a_terminal_unless_asked_and_never_with_no_color() {
    let sb = Sandbox::new();
    let outside = empty_dir(&sb, "nowhere");
    // Not a terminal: plain.
    let out = sb.pyve(&outside, &["allow"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("pyve: "), "{}", stderr(&out));
    assert!(!stderr(&out).contains(ESC), "{:?}", stderr(&out));
    // --color always wins, even over NO_COLOR (no-color.org: a flag may).
    let out = sb
        .pyve_command(&outside, &["allow", "--color", "always"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(stderr(&out).starts_with(RED_PREFIX), "{:?}", stderr(&out));

    // A terminal: colour, unless NO_COLOR, --color never or TERM=dumb.
    let shown = on_terminal(&sb, &outside, &["allow"], &[]);
    assert!(shown.contains(RED_PREFIX), "{shown:?}");
    for (args, extra) in [
        (&["allow"][..], &[("NO_COLOR", "1")][..]),
        (&["--color", "never", "allow"][..], &[][..]),
        (&["allow"][..], &[("TERM", "dumb")][..]),
    ] {
        let shown = on_terminal(&sb, &outside, args, extra);
        assert!(shown.contains("pyve: "), "{shown:?}");
        assert!(!shown.contains(ESC), "{args:?} {extra:?}: {shown:?}");
    }
    // An empty NO_COLOR does not count.
    let shown = on_terminal(&sb, &outside, &["allow"], &[("NO_COLOR", "")]);
    assert!(shown.contains(RED_PREFIX), "{shown:?}");

    // A bad --color value is a usage error.
    let out = sb.pyve(&outside, &["--color", "sometimes", "doctor"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn quiet_prints_only_warnings_and_errors() {
    let sb = Sandbox::new();
    let dir = empty_dir(&sb, "quiet");
    let out = sb.pyve(&dir, &["init", "--no-direnv", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert!(dir.join(".venv/bin/python").exists());

    // A warning still shows; so does an error.
    let root = sb.venv_project("warned", "colour: red\n");
    let out = sb.pyve(&root, &["run", "-q", "true"]);
    assert!(out.status.success());
    assert!(
        stderr(&out).starts_with("pyve: warning: ")
            && stderr(&out).contains("unknown key `colour`"),
        "{}",
        stderr(&out)
    );
    let out = sb.pyve(&empty_dir(&sb, "elsewhere"), &["-q", "allow"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("pyve: "), "{}", stderr(&out));

    let out = sb.pyve(&dir, &["-q", "-v", "doctor"]);
    assert_eq!(out.status.code(), Some(2), "--quiet and --verbose conflict");
}

#[test]
fn verbose_shows_the_commands_run_and_their_output() {
    let sb = Sandbox::new();
    let plain = empty_dir(&sb, "plain");
    let said = sb.pyve_ok(&plain, &["init", "--no-direnv"]);
    // uv's own words stay hidden without --verbose.
    assert!(!said.contains("Creating virtual environment"), "{said}");
    assert!(!said.contains("running "), "{said}");

    let loud = empty_dir(&sb, "loud");
    let out = sb.pyve(&loud, &["init", "--no-direnv", "--verbose"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains("pyve: running ") && said.contains(" venv "),
        "{said}"
    );
    assert!(said.contains("Creating virtual environment"), "{said}");
    assert!(
        out.stdout.is_empty(),
        "the child's stdout goes to stderr too"
    );
}

#[test]
fn a_spinner_on_a_terminal_and_plain_lines_in_a_log() {
    let sb = Sandbox::new();
    uv_doing(&sb, "sleep 2");
    let dir = empty_dir(&sb, "spun");
    let shown = on_terminal(&sb, &dir, &["init", "--no-direnv"], &[]);
    // (The pty reader gives bytes as chars: look for ASCII only.)
    assert!(shown.contains(" creating the environment"), "{shown:?}");
    assert!(shown.contains("\x1b[2m1."), "elapsed time: {shown:?}");
    assert!(
        shown.contains("\r\x1b[2K"),
        "the spinner erases its line: {shown:?}"
    );
    assert!(shown.contains("\x1b[0m ready: "), "{shown:?}");

    // Not a terminal (a CI log): whole lines, no spinner, no colour.
    let logged = empty_dir(&sb, "logged");
    let said = sb.pyve_ok(&logged, &["init", "--no-direnv"]);
    assert!(
        !said.contains('\r') && !said.contains(ESC) && !said.contains('…'),
        "{said:?}"
    );
    let lines: Vec<&str> = said.lines().collect();
    assert!(lines[0].starts_with("pyve: creating "), "{said}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("pyve: created ") && l.ends_with(" ms")),
        "{said}"
    );
}

#[test]
fn a_failed_step_shows_its_tail_and_keeps_all_of_its_output() {
    let sb = Sandbox::new();
    uv_doing(
        &sb,
        "i=1; while [ $i -le 60 ]; do echo \"uv says $i\"; i=$((i+1)); done; exit 3",
    );
    let dir = empty_dir(&sb, "failing");
    let out = sb.pyve(&dir, &["init", "--no-direnv"]);
    assert_eq!(out.status.code(), Some(1));
    let said = stderr(&out);
    assert!(said.contains("failed with exit code 3"), "{said}");
    assert!(
        said.contains("uv says 60") && !said.contains("uv says 40\n"),
        "{said}"
    );
    let kept = said
        .split("all of them are in ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no log named: {said}"));
    assert!(kept.starts_with(
        &sb.home
            .join(".local/state/pyve/logs/")
            .display()
            .to_string()
    ));
    let log = std::fs::read_to_string(kept).unwrap();
    assert!(
        log.starts_with("uv says 1\n") && log.ends_with("uv says 60\n"),
        "{log}"
    );
    // Nothing of the failed build is left behind.
    assert!(!dir.join(".venv").exists());
}
