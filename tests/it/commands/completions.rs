//! Completions, the man page and `--help`, all generated from the same clap
//! definitions: completions loaded into real bash, zsh and fish (typed TAB
//! under a pseudo-terminal in bash and zsh), the man page rendered by
//! man(1) with its warnings on, and an examples section in every help.

use std::process::Command;

use rexpect::reader::Options;
use rexpect::session::spawn_with_options;

use crate::support::*;

/// Every command, as typed after `pyve`, from the top-level help.
fn commands() -> Vec<String> {
    let out = Command::new(pyve_bin()).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let listed = help
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    let mut names = Vec::new();
    for line in listed.lines() {
        let name = line.split_whitespace().next().unwrap().to_owned();
        if name == "help" {
            continue;
        }
        if name == "env" {
            names.extend(["env list".to_owned(), "env info".to_owned()]);
        }
        names.push(name);
    }
    assert!(names.len() >= 14, "{names:?}");
    names
}

#[test]
fn every_help_has_examples_and_the_man_page_has_every_command() {
    let man = Command::new(pyve_bin()).arg("man").output().unwrap();
    assert!(man.status.success());
    let page = String::from_utf8(man.stdout).unwrap();
    for command in std::iter::once(String::new()).chain(commands()) {
        let mut args: Vec<&str> = command.split_whitespace().collect();
        args.push("--help");
        let out = Command::new(pyve_bin()).args(&args).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            help.contains("\nExamples:\n  "),
            "`pyve {command} --help` has no examples:\n{help}"
        );
        if !command.is_empty() {
            let heading = format!(".SH \"PYVE {}\"", command.to_uppercase());
            assert!(
                page.contains(&heading) || command == "env",
                "the man page has no section {heading}"
            );
            // Each option in the help is in the man page, in roff's spelling.
            for option in help.split_whitespace().filter(|w| w.starts_with("--")) {
                let option = option.trim_end_matches([',', '.', ')', '`']);
                let roff = option.replace('-', "\\-");
                assert!(
                    page.contains(&format!("\\fB{roff}\\fR"))
                        || option == "--help"
                        || option == "--",
                    "{option} of `pyve {command}` is not in the man page"
                );
            }
        }
    }
}

#[test]
fn the_man_page_renders_without_warnings() {
    let sb = Sandbox::new();
    let page = sb.path("tmp/pyve.1");
    let man = Command::new(pyve_bin()).arg("man").output().unwrap();
    std::fs::write(&page, &man.stdout).unwrap();
    let out = sb
        .command("man")
        .args(["--warnings=w", "-l"])
        .arg(&page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .output()
        .unwrap();
    let shown = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "man warns");
    assert!(shown.contains("PYVE STATUS"), "{shown}");
    // Examples keep their lines.
    assert!(
        shown.contains("pyve status --json | jq -r .python\n"),
        "{shown}"
    );
}

#[test]
fn bash_completes_commands_options_and_values() {
    let sb = Sandbox::new();
    let complete = |line: &str| -> Vec<String> {
        let mut words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        if line.ends_with(' ') {
            words.push(String::new());
        }
        let script = format!(
            "source <(pyve completions bash)\n\
             COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}\n\
             complete -p pyve >/dev/null || exit 9\n\
             \"$(complete -p pyve | sed -E 's/.* -F ([^ ]+) .*/\\1/')\" pyve '{cur}' '{prev}'\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            words = words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
            cword = words.len() - 1,
            cur = words[words.len() - 1],
            prev = words[words.len() - 2],
        );
        let out = sb
            .command("bash")
            .args(["--norc", "--noprofile", "-c", &script])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        // Options are offered everywhere; the values are what is checked.
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .filter(|w| !w.starts_with('-') || line.ends_with('-') || line.contains(" --"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(complete("pyve sta"), ["status"]);
    assert!(complete("pyve ").contains(&"completions".to_owned()));
    assert_eq!(
        complete("pyve hook "),
        ["bash", "zsh", "fish", "nu", "xonsh", "elvish", "tcsh"]
    );
    assert_eq!(complete("pyve init --python"), ["--python-version"]);
    assert_eq!(complete("pyve --color "), ["auto", "always", "never"]);
    assert_eq!(complete("pyve env in"), ["info"]);
}

#[test]
fn fish_completes_commands_options_and_values() {
    let sb = Sandbox::new();
    let complete = |line: &str| -> Vec<String> {
        let script = format!("pyve completions fish | source\ncomplete -C '{line}'");
        let out = sb
            .command("fish")
            .args(["--no-config", "-c", &script])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(complete("pyve sta"), ["status"]);
    assert_eq!(
        complete("pyve hook "),
        ["bash", "elvish", "fish", "nu", "tcsh", "xonsh", "zsh"]
    );
    assert!(complete("pyve init --py").contains(&"--python-version".to_owned()));
    assert!(complete("pyve env ").contains(&"info".to_owned()));
    // Completion of a command's own options only after the command.
    assert!(!complete("pyve --").contains(&"--python-version".to_owned()));
}

/// Typing TAB at an interactive prompt, as a person would.
fn typed_tab(sb: &Sandbox, shell: &str, args: &[&str], setup: &str) {
    let mut command = sb.command(shell);
    command.args(args);
    let mut session = spawn_with_options(
        command,
        Options::new()
            .timeout_ms(Some(20_000))
            .strip_ansi_escape_codes(true),
    )
    .unwrap();
    // `PS1='P''> '`: the echo of the typed line is not the prompt.
    session.send_line(&format!("PS1='P''> '; {setup}")).unwrap();
    session.exp_string("P> ").unwrap();
    // What is typed is not matched (bash does not echo under rexpect's
    // pty settings); Enter runs what TAB completed.
    session.send("pyve sta\t").unwrap();
    session.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    session.send_line("").unwrap();
    session.exp_string("no pyve project in").unwrap();
    session.send("pyve hook z\t").unwrap();
    session.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    session
        .send_line(" | grep -c 'add-zsh-hook precmd'")
        .unwrap();
    // The count follows the echoed line (zsh) or the prompt (bash).
    session.exp_regex("[\\n ]1\\r\\n").unwrap();
    session.send_line("exit").unwrap();
    session.exp_eof().unwrap();
}

#[test]
fn tab_completes_in_an_interactive_bash() {
    let sb = Sandbox::new();
    typed_tab(
        &sb,
        "bash",
        &["--norc", "--noprofile", "-i"],
        "source <(pyve completions bash)",
    );
}

#[test]
fn tab_completes_in_an_interactive_zsh() {
    let sb = Sandbox::new();
    // The file goes in a directory on $fpath before compinit, as the docs say.
    let dir = sb.path("home/.zfunc");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(pyve_bin())
        .args(["completions", "zsh"])
        .output()
        .unwrap();
    std::fs::write(dir.join("_pyve"), out.stdout).unwrap();
    typed_tab(
        &sb,
        "zsh",
        &["-f", "-i"],
        "fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit -u",
    );
}

/// elvish: the generated completer, loaded in a real interactive elvish
/// (the completer belongs to its line editor), offers the commands and a
/// command's options.
#[test]
fn elvish_completes_commands_and_options() {
    use super::super::hook::more_shells::{Other, Session};
    let sb = Sandbox::new();
    let mut shell = Session::start(&sb, Other::Elvish, "eval (pyve completions elvish | slurp)");
    let stems = |shell: &mut Session, words: &str| -> Vec<String> {
        let out = shell.output_of(&format!(
            "for c [($edit:completion:arg-completer[pyve] pyve {words})] {{ echo C=$c[stem] }}"
        ));
        out.lines()
            .filter_map(|l| l.trim_end_matches('\r').strip_prefix("C="))
            .map(str::to_owned)
            .collect()
    };
    let commands = stems(&mut shell, "''");
    for name in ["init", "hook", "export", "status", "use"] {
        assert!(commands.iter().any(|c| c == name), "{name} in {commands:?}");
    }
    let init = stems(&mut shell, "init ''");
    assert!(init.iter().any(|c| c == "--python-version"), "{init:?}");
}

/// nushell: the generated externs load, declare every command, and leave
/// `pyve use` to the hook.
#[test]
fn nushell_completions_declare_every_command_but_use() {
    let sb = Sandbox::new();
    let file = sb.path("tmp/pyve-completions.nu");
    let out = sb.pyve(&sb.path(""), &["completions", "nu"]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(&file, &out.stdout).unwrap();
    let script = format!(
        "source '{}'\nuse completions *\nprint (scope externs | where name =~ '^pyve' | get name | str join (char nl))",
        file.display()
    );
    let out = sb
        .command(super::super::hook::more_shells::Other::Nu.program())
        .args(["-n", "-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let declared = stdout(&out);
    for name in commands() {
        if name == "use" {
            continue;
        }
        assert!(
            declared.lines().any(|l| l == format!("pyve {name}")),
            "pyve {name} in {declared}"
        );
    }
    assert!(!declared.lines().any(|l| l == "pyve use"), "{declared}");
}
