//! Every command in docs/getting-started.md, run as written (issue 24): the
//! hook lines, the first `pyve init` and what it prints, the session after
//! it, a cloned project approved and built, a pulled lock, `uv add`, and
//! CI. Where the guide reaches the network, the sandbox answers locally:
//! git's `url.<base>.insteadOf` turns https://example.com/app into a local
//! repository, and uv installs the real pytest and httpx from a local
//! wheel directory (scripts/test.sh fetched them from PyPI).

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::hook::more_shells::OTHERS;
use crate::support::*;

const GUIDE: &str = include_str!("../../../docs/getting-started.md");

/// The guide's fenced blocks in order: (language, lines).
fn blocks() -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut open: Option<(String, Vec<String>)> = None;
    for line in GUIDE.lines() {
        match (line.strip_prefix("```"), open.take()) {
            (Some(lang), None) => open = Some((lang.to_owned(), Vec::new())),
            (Some(_), Some(block)) => out.push(block),
            (None, Some((lang, mut lines))) => {
                lines.push(line.to_owned());
                open = Some((lang, lines));
            }
            (None, None) => {}
        }
    }
    out
}

/// The one block whose first line starts with `first`.
fn block(first: &str) -> Vec<String> {
    let found: Vec<_> = blocks()
        .into_iter()
        .filter(|(_, lines)| lines.first().is_some_and(|l| l.starts_with(first)))
        .collect();
    assert_eq!(found.len(), 1, "one block starting {first:?} in the guide");
    found.into_iter().next().unwrap().1
}

/// The guide's paths and the run's, made comparable: the sandbox's home
/// for `/home/me`, and every run of digits as `N` (timings, versions).
fn normal(text: &str, home: &Path) -> String {
    let text = text.replace(&home.display().to_string(), "/home/me");
    let mut out = String::with_capacity(text.len());
    let mut in_digits = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    out
}

/// Runs `body` in bash after the guide's own hook line, with the sandbox's
/// PATH (pyve on it as `pyve`), the wheel directory `wheels` for uv, and
/// https://example.com/app answered by the repository `upstream`.
fn bash(sb: &Sandbox, body: &str, wheels: &Path, upstream: &Path, ci: bool) -> Output {
    let hook = hook_rows()[0].1.clone();
    let mut command = sb.command("bash");
    command
        .args([
            "--norc",
            "--noprofile",
            "-c",
            &format!("PS1='$ '\n{hook}\n{body}"),
        ])
        .current_dir(&sb.home)
        .env("UV_FIND_LINKS", wheels)
        .env("GIT_CONFIG_COUNT", "1")
        .env(
            "GIT_CONFIG_KEY_0",
            format!("url.file://{}.insteadOf", upstream.display()),
        )
        .env("GIT_CONFIG_VALUE_0", "https://example.com/app");
    if ci {
        command.env("CI", "true");
    }
    command.output().unwrap()
}

/// Each line of `lines` as typed at a prompt: the line, then the prompt
/// (the hook), and a note on stdout when the line failed.
fn typed(lines: &[String]) -> String {
    lines
        .iter()
        .map(|line| {
            let command = line.split(" #").next().unwrap().trim_end();
            if command.trim_start().starts_with('#') || command.is_empty() {
                return String::new();
            }
            let quoted = command.replace('\'', "'\\''");
            format!("{command} || printf 'FAILED: %s\\n' '{quoted}'\n__pyve_hook\n")
        })
        .collect()
}

/// The table of hook lines: (shell, line).
fn hook_rows() -> Vec<(String, String)> {
    GUIDE
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            let shell = cells.first()?.strip_prefix("| ")?;
            let line = cells.get(2)?.strip_suffix(" |")?;
            // A line holding a backquote is in a double-backquote span.
            let line = (line.strip_prefix("``").and_then(|l| l.strip_suffix("``")))
                .or_else(|| line.strip_prefix('`')?.strip_suffix('`'))?;
            Some((shell.to_owned(), line.replace("\\|", "|")))
        })
        .collect()
}

#[test]
fn the_hook_lines_are_the_ones_that_work() {
    let rows = hook_rows();
    let shells: Vec<&str> = rows.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        shells,
        ["bash", "zsh", "fish", "nushell", "xonsh", "elvish", "tcsh"]
    );
    let bin = pyve_bin().display().to_string();
    for ((_, line), sh) in rows.iter().zip(SHELLS) {
        // What every hook test installs, with the binary found on PATH.
        let installed = hook_line(sh).replace(&format!("'{bin}'"), "pyve");
        let installed = installed.replace(&bin, "pyve");
        assert_eq!(line, &installed, "{sh:?}");
    }
    // The other shells' lines are the ones their tests type.
    for ((_, line), sh) in rows.iter().skip(SHELLS.len()).zip(OTHERS) {
        assert_eq!(line, sh.install_line(), "{sh:?}");
    }
}

/// The wheel directory uv installs from in these runs: the suite's, and
/// the real pytest and httpx with their dependencies, but the newer pluggy
/// held back for the "git pull" step.
fn wheel_dir(sb: &Sandbox) -> PathBuf {
    let dir = sb.path("wheels");
    std::fs::create_dir_all(&dir).unwrap();
    for source in [wheels().to_owned(), doc_wheels()] {
        for entry in std::fs::read_dir(source).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".whl") && !name.starts_with("pluggy-1.6.0") {
                std::fs::copy(entry.path(), dir.join(&name)).unwrap();
            }
        }
    }
    dir
}

/// The project "https://example.com/app" a teammate set up: a uv project
/// that depends on pytest, with a test, locked and initialised, committed.
fn upstream(sb: &Sandbox, wheels: &Path) -> PathBuf {
    let dir = sb.path("upstream/app");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\n\
         dependencies = [\"pytest\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("test_app.py"),
        "def test_app():\n    assert True\n",
    )
    .unwrap();
    let setup = "set -e\nuv lock -q\npyve init --no-direnv 2>/dev/null\n\
                 git init -q && git add -A && git commit -qm app";
    in_upstream(sb, &dir, wheels, setup);
    dir
}

fn in_upstream(sb: &Sandbox, dir: &Path, wheels: &Path, body: &str) {
    let out = sb
        .command("bash")
        .args(["-c", body])
        .current_dir(dir)
        .env("UV_FIND_LINKS", wheels)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_first_project_shows_what_the_guide_shows() {
    let sb = Sandbox::new();
    let wheels = wheel_dir(&sb);
    std::fs::create_dir_all(sb.home.join("myproject")).unwrap();
    // `cd myproject`, `pyve init`: the output is the guide's, line for line.
    let first = block("cd myproject");
    let shown = block("pyve: creating");
    let out = bash(&sb, &typed(&first), &wheels, Path::new("/none"), false);
    assert!(!stdout(&out).contains("FAILED"), "{}", stdout(&out));
    assert_eq!(
        normal(&stderr(&out), &sb.home).lines().collect::<Vec<_>>(),
        shown
            .iter()
            .map(|l| normal(l, Path::new("/-")))
            .collect::<Vec<_>>()
    );
    // The session: each command after the prompt the guide shows, with its
    // output (`…` is the init output above), in a new project again.
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home.join("myproject")).unwrap();
    let session = block("$ pyve init");
    let mut script = String::from("__pyve_hook\n");
    for line in &session {
        // A prompt, then what is typed after it (a bare prompt types nothing).
        let command = match line.trim_end().strip_suffix(" $") {
            Some(_) => "",
            None => match line.split_once("$ ") {
                Some((_, command)) => command,
                None => continue,
            },
        };
        let quoted = command.replace('\'', "'\\''");
        script.push_str(&format!("printf '%s%s\\n' \"$PS1\" '{quoted}'\n"));
        if command == "pyve init" {
            script.push_str("pyve init 2>/dev/null && printf '…\\n'\n");
        } else {
            script.push_str(&format!("{command}\n"));
        }
        script.push_str("__pyve_hook\n");
    }
    let out = bash(
        &sb,
        &format!("cd myproject\n{script}"),
        &wheels,
        Path::new("/none"),
        false,
    );
    let want: Vec<String> = session.iter().map(|l| l.trim_end().to_owned()).collect();
    let got: Vec<String> = stdout(&out)
        .replace(&sb.home.display().to_string(), "/home/me")
        .lines()
        .map(|l| l.trim_end().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(got, want, "{}", stderr(&out));
}

#[test]
fn a_cloned_project_a_pull_and_ci_as_the_guide_says() {
    let sb = Sandbox::new();
    let wheels = wheel_dir(&sb);
    let upstream = upstream(&sb, &wheels);
    let clone = block("git clone https://example.com/app");
    let app = sb.home.join("app");
    let out = bash(&sb, &typed(&clone), &wheels, &upstream, false);
    let said = stdout(&out);
    assert!(!said.contains("FAILED"), "{said}\n{}", stderr(&out));
    // `cat .pyve/config` showed the config, and pytest ran at the prompt.
    assert!(said.contains("dependencies: uv.lock"), "{said}");
    assert!(said.contains("1 passed"), "{said}");
    // Entering the clone said what the guide says, once.
    let entered = GUIDE
        .lines()
        .find(|l| l.contains("a pyve project, not approved"))
        .unwrap();
    let err = stderr(&out).replace(&sb.home.display().to_string(), "/home/me");
    assert_eq!(err.matches(entered).count(), 1, "{err}");

    // Upstream moves pluggy on; the guide's day-to-day block pulls it.
    let newer = doc_wheels().join("pluggy-1.6.0-py3-none-any.whl");
    std::fs::copy(&newer, wheels.join(newer.file_name().unwrap())).unwrap();
    in_upstream(
        &sb,
        &upstream,
        &wheels,
        "set -e\nuv lock -q --upgrade-package pluggy\ngit commit -qam 'pluggy 1.6'",
    );
    let day = block("git pull");
    let check = "python -c 'import httpx, pluggy, sys; print(sys.prefix, pluggy.__version__)'";
    let body = format!("cd app\n__pyve_hook\n{}{check}\n", typed(&day));
    let out = bash(&sb, &body, &wheels, &upstream, false);
    let said = stdout(&out);
    assert!(!said.contains("FAILED"), "{said}\n{}", stderr(&out));
    let pulled = day
        .iter()
        .find_map(|l| l.split("#   ").nth(1))
        .unwrap()
        .trim();
    assert_eq!(stderr(&out).matches(pulled).count(), 1, "{}", stderr(&out));
    assert!(
        said.contains(&format!("{} 1.6.0", app.join(".venv").display())),
        "{said}"
    );

    // CI: the guide's two lines in the checkout, with CI set.
    let ci = block("pyve init ");
    let out = bash(
        &sb,
        &format!("cd app\n{}", typed(&ci)),
        &wheels,
        &upstream,
        true,
    );
    let said = stdout(&out);
    assert!(!said.contains("FAILED"), "{said}\n{}", stderr(&out));
    assert!(said.contains("1 passed"), "{said}");
}
