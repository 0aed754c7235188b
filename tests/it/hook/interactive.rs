//! Interactive shells under a pseudo-terminal, so the real prompt hooks
//! fire: PROMPT_COMMAND in bash, precmd/chpwd in zsh, fish_prompt and the
//! PWD handler in fish.

use std::path::Path;
use std::time::Duration;

use rexpect::reader::Options;
use rexpect::session::{spawn_with_options, PtySession};

use crate::per_shell;
use crate::support::*;

const TIMEOUT_MS: u64 = 20_000;

struct Interactive {
    session: PtySession,
    sh: Sh,
}

impl Interactive {
    /// Starts the shell, installs the hook and a prompt that shows the
    /// last status: `[STATUS] P> ` (zsh adds `|PIPESTATUS` through
    /// PROMPT_SUBST, which also exercises pyve's prompt reference there).
    fn start(sandbox: &Sandbox, sh: Sh) -> Interactive {
        Interactive::start_after(sandbox, sh, None)
    }

    /// `start`, with `first` run before the hook is installed (options,
    /// the user's own functions).
    fn start_after(sandbox: &Sandbox, sh: Sh, first: Option<&str>) -> Interactive {
        let mut cmd = sandbox.command(sh.name());
        match sh {
            Sh::Bash => cmd.args(["--norc", "--noprofile", "-i"]),
            Sh::Zsh => cmd.args(["-f", "-i"]),
            Sh::Fish => cmd.args(["--no-config", "-i"]),
        };
        let session = spawn_with_options(
            cmd,
            Options::new()
                .timeout_ms(Some(TIMEOUT_MS))
                .strip_ansi_escape_codes(true),
        )
        .expect("spawn shell under a pty");
        let mut shell = Interactive { session, sh };
        let setup = match sh {
            Sh::Bash => "PS1='[$?] P> '".to_owned(),
            Sh::Zsh => "setopt promptsubst; PS1='[%?|${pipestatus[*]}] P> '".to_owned(),
            Sh::Fish => {
                "function fish_prompt; printf '[%s|%s] P> ' $status \"$pipestatus\"; end".to_owned()
            }
        };
        shell.line(&setup);
        shell.session.exp_string("P> ").unwrap();
        if let Some(first) = first {
            shell.line(first);
        }
        shell.line(&hook_line(sh));
        shell.sync();
        shell
    }

    fn line(&mut self, text: &str) {
        self.session.send_line(text).unwrap();
    }

    /// Waits until everything sent so far has run and its prompt is drawn.
    /// The needle is built by printf, so the echo of the typed command
    /// cannot match it.
    fn sync(&mut self) {
        self.line("printf 'SYNC-%s\\n' done");
        self.session.exp_string("SYNC-done").unwrap();
        self.session.exp_string("P> ").unwrap();
    }

    /// Runs `command` (nothing typed ahead) and returns the prompt drawn
    /// after it: the last line before `P> `, plus `P> `. fish redraws the
    /// old prompt with the command line on Enter, so there the command's
    /// tail is awaited first (bash under TERM=dumb scrolls long input lines
    /// horizontally, so its echo cannot be matched whole and is not needed).
    fn prompt_after(&mut self, command: &str) -> String {
        assert!(!command.is_empty());
        self.sync();
        self.line(command);
        if self.sh == Sh::Fish {
            let tail_start = command.char_indices().rev().nth(7).map_or(0, |(i, _)| i);
            self.session.exp_string(&command[tail_start..]).unwrap();
            // It may repaint several times; the command runs after the newline.
            self.session.exp_string("\r\n").unwrap();
        }
        let before = self.session.exp_string("P> ").unwrap();
        before
            .rsplit(['\n', '\r'])
            .next()
            .unwrap_or_default()
            .to_owned()
            + "P> "
    }

    /// The value of a variable, as the shell prints it.
    fn value(&mut self, name: &str) -> String {
        self.sync();
        self.line(&format!("printf 'VALUE-%s=[%s]\\n' {name} \"${name}\""));
        self.session.exp_string(&format!("VALUE-{name}=[")).unwrap();
        self.session.exp_string("]\r\n").unwrap()
    }

    fn cd(&mut self, dir: &Path) -> String {
        let command = format!("cd {}", self.sh.q(dir));
        self.prompt_after(&command)
    }
}

impl Drop for Interactive {
    /// Interactive shells ignore SIGTERM, which is all rexpect sends before
    /// waiting out its timeout: ask the shell to exit instead.
    fn drop(&mut self) {
        self.session.process_mut().set_kill_timeout(Some(2_000));
        let _ = self.session.send_line("exit");
        let _ = self.session.exp_eof();
    }
}

per_shell!(
    enter_subdirectory_leave_and_switch_under_a_real_prompt,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let a = sandbox.venv_project("a", "env_name: alpha\n");
        let b = sandbox.venv_project("b", "");
        std::fs::create_dir_all(a.join("src")).unwrap();
        let mut shell = Interactive::start(&sandbox, sh);
        let original_path = shell.value("PATH");

        let prompt = shell.cd(&a);
        assert!(prompt.starts_with("(venv:alpha) [0"), "{prompt:?}");
        assert_eq!(
            shell.value("VIRTUAL_ENV"),
            a.join(".venv").display().to_string()
        );
        assert!(shell
            .value("PATH")
            .starts_with(&format!("{}:", a.join(".venv/bin").display())));

        let prompt = shell.cd(&a.join("src"));
        assert!(prompt.contains("(venv:alpha) ["), "{prompt:?}");
        assert_eq!(shell.value("PYVE_ENV_NAME"), "alpha");

        let prompt = shell.cd(&b);
        assert!(
            prompt.contains("(venv:b) [") && !prompt.contains("alpha"),
            "{prompt:?}"
        );
        assert_eq!(
            shell.value("VIRTUAL_ENV"),
            b.join(".venv").display().to_string()
        );

        let prompt = shell.cd(&sandbox.path(""));
        assert!(!prompt.contains("(venv:"), "{prompt:?}");
        assert_eq!(shell.value("VIRTUAL_ENV"), "");
        assert_eq!(shell.value("PATH"), original_path);
    }
);

per_shell!(status_reaches_the_prompt_through_the_hook, |sh: Sh| {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    let mut shell = Interactive::start(&sandbox, sh);
    // The directory change makes the engine run at this very prompt.
    let failing = match sh {
        Sh::Fish => format!("cd {}; false | true | sh -c 'exit 3'", sh.q(&root)),
        _ => format!("cd {}; (exit 1) | true | (exit 3)", sh.q(&root)),
    };
    let prompt = shell.prompt_after(&failing);
    match sh {
        Sh::Bash => assert!(prompt.ends_with("(venv:p) [3] P> "), "{prompt:?}"),
        _ => assert!(prompt.ends_with("(venv:p) [3|1 0 3] P> "), "{prompt:?}"),
    }
    // And on the fast path, with nothing to do.
    let failing = match sh {
        Sh::Fish => "sh -c 'exit 4' | true".to_owned(),
        _ => "(exit 5) | (exit 4)".to_owned(),
    };
    let prompt = shell.prompt_after(&failing);
    match sh {
        Sh::Bash => assert!(prompt.ends_with("(venv:p) [4] P> "), "{prompt:?}"),
        Sh::Zsh => assert!(prompt.ends_with("(venv:p) [4|5 4] P> "), "{prompt:?}"),
        Sh::Fish => assert!(prompt.ends_with("(venv:p) [0|4 0] P> "), "{prompt:?}"),
    }
});

per_shell!(bare_enter_starts_no_engine_process, |sh: Sh| {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    std::thread::sleep(Duration::from_millis(100));
    let (wrapper, log) = counting_wrapper(&sandbox);
    let mut shell = Interactive::start(&sandbox, sh);
    shell.line(&set_exe(sh, &wrapper));
    shell.cd(&root);
    shell.sync();
    let after_cd = count_lines(&log);
    // Outside a project every ancestor is watched (a project may appear),
    // and /tmp changes whenever another test makes its sandbox: one more
    // run before the cd is right, not a fault.
    assert!(
        (1..=2).contains(&after_cd),
        "one engine run for the cd: {:?}",
        std::fs::read_to_string(&log)
    );
    for _ in 0..40 {
        shell.line("");
        shell.sync();
    }
    shell.sync();
    assert_eq!(count_lines(&log), after_cd, "80 prompts, no engine run");
    // A watched file changing is noticed at the next prompt (the config,
    // then the approval of the new one).
    sandbox.write_config(&root, "env_name: renamed\n");
    // Past the stamp's back-dating window (see watch.rs), so it runs once.
    std::thread::sleep(Duration::from_millis(100));
    let prompt = shell.prompt_after("true");
    assert!(prompt.contains("(venv:renamed)"), "{prompt:?}");
    assert_eq!(count_lines(&log), after_cd + 1);
});

per_shell!(
    ctrl_c_during_the_engine_leaves_a_whole_environment,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = sandbox.venv_project("p", "");
        // An engine that is slow the first time, so Ctrl-C lands inside it.
        let slow = sandbox.path("tmp/slow-pyve");
        let flag = sandbox.path("tmp/slow-once");
        std::fs::write(&flag, "").unwrap();
        std::fs::write(
        &slow,
        format!(
            "#!/bin/sh\nif [ -e '{flag}' ]; then rm -f '{flag}'; sleep 5; fi\nexec '{bin}' \"$@\"\n",
            flag = flag.display(),
            bin = pyve_bin().display()
        ),
    )
    .unwrap();
        std::fs::set_permissions(&slow, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut shell = Interactive::start(&sandbox, sh);
        let original_path = shell.value("PATH");
        shell.line(&set_exe(sh, &slow));
        shell.sync();
        shell.line(&format!("cd {}", sh.q(&root)));
        // Wait until the slow engine is running, then interrupt it.
        let started = std::time::Instant::now();
        while flag.exists() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200));
        shell.session.send_control('c').unwrap();
        shell.sync();
        let venv = shell.value("VIRTUAL_ENV");
        let path = shell.value("PATH");
        let state = shell.value("PYVE_STATE");
        let applied = !venv.is_empty();
        if applied {
            assert!(
                path.starts_with(&root.join(".venv/bin").display().to_string()),
                "{path}"
            );
            assert!(!state.is_empty());
        } else {
            assert_eq!(path, original_path);
            assert!(state.is_empty());
        }
        // The interrupted directory counts as handled (an engine that
        // hangs must not take every prompt); the next change of directory
        // brings it to the new environment.
        shell.line("cd /");
        shell.sync();
        shell.line(&format!("cd {}", sh.q(&root)));
        let prompt = shell.prompt_after("true");
        assert!(prompt.contains("(venv:p)"), "{prompt:?}");
        assert_eq!(
            shell.value("VIRTUAL_ENV"),
            root.join(".venv").display().to_string()
        );
    }
);

per_shell!(
    an_engine_that_hangs_is_interrupted_once_and_not_started_again,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = sandbox.venv_project("p", "");
        // An engine that never answers, counting its starts.
        let hang = sandbox.path("tmp/hanging-pyve");
        let log = sandbox.path("tmp/hang-calls.log");
        std::fs::write(
            &hang,
            format!(
                "#!/bin/sh\necho started >> '{}'\nexec sleep 1000\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&hang, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut shell = Interactive::start(&sandbox, sh);
        // No sync between the two lines: the hook watches the directories
        // above, /tmp among them, which other tests change at any time, so
        // the hanging engine may start at the prompt after the first line
        // as well as after the `cd`. Either way it starts once.
        shell.line(&set_exe(sh, &hang));
        shell.line(&format!("cd {}", sh.q(&root)));
        let started = std::time::Instant::now();
        while count_lines(&log) == 0 && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(count_lines(&log), 1, "the engine did not start");
        // Until the wrapper has become `sleep`.
        std::thread::sleep(Duration::from_millis(500));
        shell.session.send_control('c').unwrap();
        // The prompt comes back and what is typed runs.
        shell.line("printf 'TYPED-%s%s\\n' 4 2");
        shell.session.exp_string("TYPED-42").unwrap();
        shell.sync();
        shell.line("");
        shell.sync();
        assert_eq!(count_lines(&log), 1, "not started again at a prompt");
        shell.session.send_control('c').ok();
    }
);

per_shell!(ctrl_c_stops_a_hanging_activation_script, |sh: Sh| {
    let sandbox = Sandbox::new();
    // A conda environment whose activation script hangs (a network mount
    // that does not answer, a script waiting for input).
    let (root, prefix) = sandbox.built_conda_project("hang");
    for ext in ["sh", "fish"] {
        std::fs::write(
            prefix.join(format!("etc/conda/activate.d/hang.{ext}")),
            "sleep 60\n",
        )
        .unwrap();
    }
    sandbox.allow(&root);
    let mut shell = Interactive::start(&sandbox, sh);
    shell.line(&format!("cd {}", sh.q(&root)));
    std::thread::sleep(Duration::from_millis(1500));
    shell.session.send_control('c').unwrap();
    // The prompt comes back long before the script's minute is up, with
    // the environment applied.
    shell.sync();
    assert_eq!(shell.value("CONDA_PREFIX"), prefix.display().to_string());
});

per_shell!(
    two_shells_in_one_project_follow_pyve_activate_at_their_next_prompt,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = three_envs(&sandbox, "proj");
        let mut first = Interactive::start(&sandbox, sh);
        let mut second = Interactive::start(&sandbox, sh);
        assert!(first.cd(&root).starts_with("(venv:dev) ["));
        assert!(second.cd(&root).starts_with("(venv:dev) ["));

        let prompt = first.prompt_after("pyve activate prod");
        assert!(prompt.starts_with("(venv:prod) [0"), "{prompt:?}");
        let prompt = second.prompt_after("true");
        assert!(prompt.starts_with("(venv:prod) [0"), "{prompt:?}");
        assert_eq!(
            second.value("VIRTUAL_ENV"),
            root.join(".pyve/envs/prod").display().to_string()
        );

        let prompt = second.prompt_after("pyve activate gpu");
        assert!(prompt.starts_with("(micromamba:gpu) [0"), "{prompt:?}");
        let prompt = first.prompt_after("true");
        assert!(prompt.starts_with("(micromamba:gpu) [0"), "{prompt:?}");
        assert_eq!(
            first.value("CONDA_PREFIX"),
            root.join(".pyve/envs/gpu").display().to_string()
        );
        assert_eq!(first.value("VIRTUAL_ENV"), "");
    }
);

/// `set -eu` in bash's rc file (zsh: `ERR_EXIT` and `NO_UNSET`): the hook
/// installs, works, and neither a failed command nor a failing engine ends
/// the shell.
#[test]
fn strict_shell_options_neither_break_the_hook_nor_end_the_shell() {
    for (sh, options) in [(Sh::Bash, "set -eu"), (Sh::Zsh, "setopt errexit nounset")] {
        let sandbox = Sandbox::new();
        let root = sandbox.venv_project("p", "");
        let mut shell = Interactive::start_after(&sandbox, sh, Some(options));
        let prompt = shell.cd(&root);
        assert!(prompt.contains("(venv:p)"), "{sh:?}: {prompt:?}");
        // A status that does not end the shell by itself (`!` is exempt).
        shell.line("! true");
        shell.sync();
        shell.line(&set_exe(sh, Path::new("/bin/false")));
        shell.line("cd /");
        shell
            .session
            .exp_string("hook engine failed (exit 1)")
            .unwrap();
        shell.sync();
        assert_eq!(shell.value("PWD"), "/", "{sh:?}: alive");
    }
}

// Functions a user named like the builtins the hook uses (`local` and
// `return` in bash, `return` in zsh, `source` and `functions` in fish)
// are never called by it.
per_shell!(
    user_functions_named_like_builtins_are_not_called,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = sandbox.venv_project("p", "");
        let mark = sandbox.path("tmp/hijacked");
        let touch = format!("echo x >> {}", sh.q(&mark));
        let hijack = match sh {
            Sh::Bash => format!("local() {{ {touch}; }}; return() {{ {touch}; }}"),
            Sh::Zsh => format!("function local return {{ {touch} }}"),
            // `cd .` first: fish's own autoloader sources `cd.fish` through
            // whatever `source` is at that moment.
            Sh::Fish => {
                format!("cd .; function source; {touch}; end; function functions; {touch}; end")
            }
        };
        // fish installs the hook with `| source`, which such a function would
        // take over: there it is defined once the hook is in place.
        let mut shell = if sh == Sh::Fish {
            let mut shell = Interactive::start(&sandbox, sh);
            shell.line(&hijack);
            shell
        } else {
            Interactive::start_after(&sandbox, sh, Some(&hijack))
        };
        let prompt = shell.cd(&root);
        assert!(prompt.contains("(venv:p)"), "{prompt:?}");
        let prompt = shell.prompt_after("cd /");
        assert!(!prompt.contains("(venv:p)"), "{prompt:?}");
        shell.sync();
        assert!(!mark.exists(), "the hook called the user's function");
    }
);

/// A project named `$(touch PWNED)` entered with bash's `promptvars` (zsh:
/// `PROMPT_SUBST`) off, which are then turned on and off again: the prefix
/// is made again for the new options before the next prompt expands it, so
/// the name is shown, never run, and never shown as a variable reference.
/// A plain name reads the same under either setting.
#[test]
fn the_prefix_stays_inert_when_prompt_options_change_later() {
    for (sh, off, on) in [
        (Sh::Bash, "shopt -u promptvars", "shopt -s promptvars"),
        (
            Sh::Zsh,
            "unsetopt promptsubst promptbang",
            "setopt promptsubst promptbang",
        ),
    ] {
        for name in ["$(touch PWNED)", "plain-name"] {
            let sandbox = Sandbox::new();
            let root = sandbox.venv_project(name, "");
            let prefix = format!("(venv:{name}) [");
            let mut shell = Interactive::start_after(&sandbox, sh, Some(off));
            let prompt = shell.cd(&root);
            assert!(prompt.starts_with(&prefix), "{sh:?}: {prompt:?}");
            for option in [on, on, off, on, off] {
                let prompt = shell.prompt_after(option);
                assert!(
                    prompt.starts_with(&prefix),
                    "{sh:?} after {option}: {prompt:?}"
                );
            }
            let prompt = shell.prompt_after("cd ..");
            assert!(!prompt.contains("venv:"), "{sh:?}: {prompt:?}");
            shell.sync();
            assert!(!root.join("PWNED").exists(), "{sh:?}: the name ran");
        }
    }
}

/// A prompt rebuilt before the hook at every prompt (git-prompt's
/// PROMPT_COMMAND mode in bash; a `precmd` that sets PS1 in zsh) keeps the
/// prefix at every prompt while the environment is active, once.
#[test]
fn a_prompt_rebuilt_at_every_prompt_keeps_the_prefix() {
    for (sh, rebuild) in [
        (Sh::Bash, r#"PROMPT_COMMAND='PS1="[\$?] P> "'"#),
        (Sh::Zsh, "precmd() { PS1='[%?] P> ' }"),
    ] {
        let sandbox = Sandbox::new();
        let root = sandbox.venv_project("p", "");
        let mut shell = Interactive::start_after(&sandbox, sh, Some(rebuild));
        let prompt = shell.cd(&root);
        assert_eq!(prompt, "(venv:p) [0] P> ", "{sh:?}");
        for command in ["true", "false", "true"] {
            let prompt = shell.prompt_after(command);
            assert!(prompt.starts_with("(venv:p) ["), "{sh:?}: {prompt:?}");
            assert_eq!(prompt.matches("venv:").count(), 1, "{sh:?}: {prompt:?}");
        }
        let prompt = shell.prompt_after("cd ..");
        assert_eq!(prompt, "[0] P> ", "{sh:?}");
    }
}

per_shell!(
    a_manual_deactivate_takes_the_prefix_away_until_the_environment_is_back,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = sandbox.venv_project("p", "");
        std::fs::create_dir_all(root.join("src")).unwrap();
        let mut shell = Interactive::start(&sandbox, sh);
        assert!(shell.cd(&root).starts_with("(venv:p) [0"));
        // venv's own activate and deactivate, as a user types them.
        let activate = match sh {
            Sh::Fish => "source .venv/bin/activate.fish",
            _ => ". .venv/bin/activate",
        };
        let prompt = shell.prompt_after(&format!("{activate}; deactivate"));
        assert!(!prompt.contains("venv:"), "{sh:?}: {prompt:?}");
        assert_eq!(shell.value("VIRTUAL_ENV"), "");
        // The engine runs in a subdirectory; the prefix still follows.
        let prompt = shell.cd(&root.join("src"));
        assert!(!prompt.contains("venv:"), "{sh:?}: {prompt:?}");
        let env = root.join(".venv").display().to_string();
        let prompt = shell.prompt_after(&sh.export("VIRTUAL_ENV", &sh.q(Path::new(&env))));
        assert!(prompt.starts_with("(venv:p) ["), "{sh:?}: {prompt:?}");
        // Another environment's value is not this one.
        let prompt = shell.prompt_after(&sh.export("VIRTUAL_ENV", "/elsewhere"));
        assert!(!prompt.contains("venv:"), "{sh:?}: {prompt:?}");
        // Leaving and coming back applies the environment again.
        shell.cd(&sandbox.path(""));
        let prompt = shell.cd(&root);
        assert!(prompt.starts_with("(venv:p) [0"), "{sh:?}: {prompt:?}");
        assert_eq!(shell.value("VIRTUAL_ENV"), env);
    }
);

/// Another prompt hook after pyve's that also puts its text first (and
/// takes its own out wherever it is): the two settle, one prefix each, at
/// every prompt, instead of PS1 growing.
#[test]
fn two_hooks_that_both_want_to_be_first_do_not_grow_the_prompt() {
    for (sh, other) in [
        (
            Sh::Bash,
            r#"__x() { PS1="[x] ${PS1//"[x] "/}"; }; PROMPT_COMMAND+=$'\n'__x"#,
        ),
        (
            Sh::Zsh,
            r#"__x() { PS1="[x] ${PS1//"[x] "/}" }; precmd_functions+=(__x)"#,
        ),
    ] {
        let sandbox = Sandbox::new();
        let root = sandbox.venv_project("p", "");
        let mut shell = Interactive::start(&sandbox, sh);
        shell.line(other);
        shell.sync();
        shell.cd(&root);
        for command in ["true", "true", "true"] {
            let prompt = shell.prompt_after(command);
            assert!(prompt.starts_with("[x] (venv:p) ["), "{sh:?}: {prompt:?}");
            assert_eq!(prompt.matches("venv:").count(), 1, "{sh:?}: {prompt:?}");
            assert_eq!(prompt.matches("[x]").count(), 1, "{sh:?}: {prompt:?}");
        }
        let prompt = shell.prompt_after("cd ..");
        assert!(prompt.starts_with("[x] [0"), "{sh:?}: {prompt:?}");
        assert!(!prompt.contains("venv:"), "{sh:?}: {prompt:?}");
    }
}

impl Interactive {
    /// Runs `command` and the prompts after it, and returns everything
    /// the terminal showed until the shell was idle again. Nothing is
    /// awaited first, so the first prompt after a change made from outside
    /// (what the hook says there) is part of it.
    fn output_of(&mut self, command: &str) -> String {
        self.line(command);
        self.line("printf 'DONE-%s\\n' here");
        let text = self.session.exp_string("DONE-here").unwrap();
        self.session.exp_string("P> ").unwrap();
        text
    }
}

/// Whether `package` is installed in the venv at `venv`.
fn has_package(venv: &Path, package: &str) -> bool {
    std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .flatten()
        .any(|dir| dir.path().join("site-packages").join(package).exists())
}

per_shell!(dependencies_under_a_real_prompt, |sh: Sh| {
    let sandbox = Sandbox::new();
    let root = sandbox.path("app");
    std::fs::create_dir_all(&root).unwrap();
    let pyproject = "[project]\nname = \"app\"\nversion = \"0.1\"\nrequires-python = \">=3.8\"\n\
                     dependencies = [\"alpha\"]\n";
    std::fs::write(root.join("pyproject.toml"), pyproject).unwrap();
    let out = sandbox
        .command(uv())
        .args(["lock", "-q"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    sandbox.pyve_ok(&root, &["init", "--no-direnv"]);
    let venv = root.join(".venv");
    let mut shell = Interactive::start(&sandbox, sh);
    shell.cd(&root);
    assert_eq!(shell.value("VIRTUAL_ENV"), venv.display().to_string());

    // pip at the prompt installs into the environment.
    let text = shell.output_of(&format!(
        "pip install -q --no-index --find-links {} epsilon",
        sh.q(wheels())
    ));
    assert!(has_package(&venv, "epsilon"), "{sh:?}: {text}");

    // uv replaces the environment (as `uv python pin` makes it): it stays
    // active, and nothing is said.
    let text = shell.output_of("rm -rf .venv; uv sync -q");
    assert!(!text.contains("pyve:"), "{sh:?}: {text}");
    assert_eq!(shell.value("VIRTUAL_ENV"), venv.display().to_string());
    assert!(
        shell
            .value("PATH")
            .starts_with(&format!("{}:", venv.join("bin").display())),
        "{sh:?}"
    );

    // A dependency declared by hand: said once, then gone after the sync.
    sandbox.pyve_ok(&root, &["sync"]);
    let edited = pyproject.replace("[\"alpha\"]", "[\"alpha\", \"delta\"]");
    std::fs::write(root.join("pyproject.toml"), edited).unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(3);
    std::fs::File::options()
        .write(true)
        .open(root.join("pyproject.toml"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    let text = shell.output_of("true");
    assert_eq!(
        text.matches("pyve: dependencies changed (pyproject.toml): pyve sync")
            .count(),
        1,
        "{sh:?}: {text}"
    );
    let text = shell.output_of("true");
    assert!(
        !text.contains("dependencies changed"),
        "{sh:?}: once: {text}"
    );
    let text = shell.output_of("pyve sync -q");
    assert!(has_package(&venv, "delta"), "{sh:?}: {text}");
    let text = shell.output_of("true");
    assert!(!text.contains("pyve:"), "{sh:?}: {text}");
});

/// A project with two venv environments, `dev` (the default) and `prod`,
/// both built.
pub(super) fn dev_and_prod(sandbox: &Sandbox) -> std::path::PathBuf {
    let root = sandbox.project(
        "proj",
        "environments:\n  dev:\n    backend: venv\n  prod:\n    backend: venv\ndefault_env: dev\n",
    );
    std::fs::create_dir_all(root.join("src")).unwrap();
    for name in ["dev", "prod"] {
        sandbox.pyve_ok(&root, &["init", "--env", name, "--no-deps"]);
    }
    root
}

per_shell!(
    pyve_use_switches_this_shell_only_until_it_leaves,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = dev_and_prod(&sandbox);
        let prod = root.join(".pyve/envs/prod").display().to_string();
        let mut first = Interactive::start(&sandbox, sh);
        let mut second = Interactive::start(&sandbox, sh);
        assert!(first.cd(&root).starts_with("(venv:dev) [0"));
        assert!(second.cd(&root).starts_with("(venv:dev) [0"));

        let prompt = first.prompt_after("pyve use prod");
        assert!(prompt.starts_with("(venv:prod) [0"), "{sh:?}: {prompt:?}");
        assert_eq!(first.value("VIRTUAL_ENV"), prod);
        let prompt = second.prompt_after("true");
        assert!(
            prompt.starts_with("(venv:dev) [0"),
            "the other shell: {prompt:?}"
        );
        // What runs from this shell agrees with its prompt.
        let said =
            first.output_of("pyve status; pyve run python -c 'import sys; print(sys.prefix)'");
        assert!(said.contains("this shell's choice"), "{said}");
        assert!(said.contains(&format!("{prod}\r\n")), "{said}");
        let prompt = first.cd(&root.join("src"));
        assert!(prompt.starts_with("(venv:prod) [0"), "{prompt:?}");

        // Leaving the project ends the choice.
        let prompt = first.cd(&sandbox.path(""));
        assert!(!prompt.contains("venv:"), "{prompt:?}");
        assert_eq!(first.value("PYVE_USE"), "");
        assert!(first.cd(&root).starts_with("(venv:dev) [0"));

        // --reset; an unknown name changes nothing; help is only shown.
        assert!(first
            .prompt_after("pyve use prod")
            .starts_with("(venv:prod) [0"));
        let said = first.output_of("pyve use nosuch");
        assert!(
            said.contains(
                "pyve: no environment `nosuch` in .pyve/config; the environments are: dev, prod"
            ),
            "{said}"
        );
        let said = first.output_of("pyve use --help");
        assert!(
            said.contains("Use a named environment in this shell only"),
            "{said}"
        );
        assert!(first.prompt_after("true").starts_with("(venv:prod) [0"));
        let prompt = first.prompt_after("pyve use --reset");
        assert!(prompt.starts_with("(venv:dev) [0"), "{prompt:?}");
        // Bypassing the function says how to use it.
        let said = first.output_of("command pyve use prod");
        assert!(
            said.contains("type `pyve use NAME` at the prompt"),
            "{said}"
        );
        assert!(first.prompt_after("true").starts_with("(venv:dev) [0"));
    }
);

per_shell!(
    project_variables_apply_follow_the_dotenv_file_and_revert,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = sandbox.venv_project(
            "p",
            "env:\n  GREETING: \"hello from $PROJECT_ROOT\"\n  PATH: \"$PROJECT_ROOT/bin:$PATH\"\ndotenv: true\n",
        );
        std::fs::write(root.join(".env"), "SECRET='s 1'\n").unwrap();
        let refusing = sandbox.venv_project("refusing", "dotenv: true\n");
        std::fs::write(refusing.join(".env"), "OK=1\nBASH_ENV=/tmp/evil\n").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let mut shell = Interactive::start(&sandbox, sh);
        let original_path = shell.value("PATH");

        let prompt = shell.cd(&root);
        assert!(prompt.starts_with("(venv:p) [0"), "{prompt:?}");
        let real = std::fs::canonicalize(&root).unwrap();
        assert_eq!(
            shell.value("GREETING"),
            format!("hello from {}", real.display())
        );
        assert_eq!(shell.value("SECRET"), "s 1");
        let bin = real.join("bin").display().to_string();
        let venv_bin = root.join(".venv/bin").display().to_string();
        assert_eq!(
            shell.value("PATH"),
            format!("{bin}:{venv_bin}:{original_path}")
        );

        // A value edited in .env is applied at the next bare Enter.
        std::fs::write(root.join(".env"), "SECRET='s 2'\n").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        shell.prompt_after("true");
        assert_eq!(shell.value("SECRET"), "s 2");

        // What the user changes inside stays theirs on leaving.
        shell.line(&sh.export("GREETING", "mine"));
        shell.line(&sh.prepend_path("/mine"));
        let prompt = shell.cd(&sandbox.path(""));
        assert!(!prompt.contains("(venv:"), "{prompt:?}");
        assert_eq!(shell.value("GREETING"), "mine");
        assert_eq!(shell.value("SECRET"), "");
        assert_eq!(shell.value("PATH"), format!("/mine:{original_path}"));

        // A dotenv file that sets BASH_ENV: one clear line, nothing applied.
        shell.sync();
        shell.line(&format!("cd {}", sh.q(&refusing)));
        let env_file = std::fs::canonicalize(&refusing).unwrap().join(".env");
        shell
            .session
            .exp_string(&format!(
                "pyve: {}:2: BASH_ENV: a dotenv file may not set BASH_ENV",
                env_file.display()
            ))
            .unwrap();
        shell.sync();
        assert_eq!(shell.value("VIRTUAL_ENV"), "");
        assert_eq!(shell.value("OK"), "");
    }
);

/// A project as uv makes it: pyproject.toml and `uv venv`, no pyve settings.
fn uv_project(sandbox: &Sandbox, rel: &str, pyproject: &str) -> std::path::PathBuf {
    let root = sandbox.path(rel);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("pyproject.toml"), pyproject).unwrap();
    let out = sandbox
        .command(uv())
        .args(["venv", "-q", "--python", python()])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "uv venv: {}", stderr(&out));
    root
}

per_shell!(
    a_uv_project_without_settings_is_silent_until_allowed_then_activates,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = uv_project(
            &sandbox,
            "app",
            "[project]\nname = \"zed-app\"\nversion = \"0.1\"\n",
        );
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let mut shell = Interactive::start(&sandbox, sh);
        let original_path = shell.value("PATH");
        let said = shell.output_of(&format!("cd {}", sh.q(&root)));
        assert!(!said.contains("pyve:"), "silent: {said:?}");
        assert_eq!(shell.value("VIRTUAL_ENV"), "");
        // `pyve allow` here: the next prompt activates it, and nothing was
        // written into the project.
        let said = shell.output_of("pyve allow");
        assert!(said.contains("approved"), "{said:?}");
        let prompt = shell.prompt_after("true");
        assert!(prompt.starts_with("(venv:zed-app) [0"), "{prompt:?}");
        assert_eq!(
            shell.value("VIRTUAL_ENV"),
            root.join(".venv").display().to_string()
        );
        let mut entries: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        entries.sort();
        assert_eq!(entries, [".venv", "pyproject.toml", "src"]);
        shell.cd(&root.join("src"));
        assert_eq!(shell.value("PYVE_ENV_NAME"), "zed-app");
        let prompt = shell.cd(&sandbox.path(""));
        assert!(!prompt.contains("(venv:"), "{prompt:?}");
        assert_eq!(shell.value("PATH"), original_path);
    }
);

per_shell!(
    a_trusted_path_activates_what_is_under_it_unless_others_can_write_it,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let work = sandbox.path("work");
        let root = uv_project(&sandbox, "work/app", "[project]\nname = \"app\"\n");
        let config_dir = sandbox.home.join(".config/pyve");
        std::fs::create_dir_all(&config_dir).unwrap();
        std::fs::write(
            config_dir.join("config"),
            format!("trusted_paths: [\"{}\"]\n", work.display()),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let mut shell = Interactive::start(&sandbox, sh);
        let prompt = shell.cd(&root);
        assert!(prompt.starts_with("(venv:app) [0"), "{prompt:?}");
        shell.cd(&sandbox.path(""));
        // Writable by others: not honoured, and the project stays inert.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o777)).unwrap();
        let prompt = shell.cd(&root);
        assert!(!prompt.contains("(venv:"), "{prompt:?}");
        assert_eq!(shell.value("VIRTUAL_ENV"), "");
        let status = shell.output_of("pyve doctor");
        assert!(status.contains("others can write to it"), "{status:?}");
    }
);

per_shell!(
    tool_pyve_drives_activation_and_only_its_edits_revoke_it,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = sandbox.path("t");
        std::fs::create_dir_all(&root).unwrap();
        let pyproject = |deps: &str, greeting: &str| {
            format!(
                "[project]\nname = \"t\"\nversion = \"0.1\"\ndependencies = [{deps}]\n\n\
                 [tool.pyve]\nenv_name = \"tee\"\ndependencies = \"none\"\n\n\
                 [tool.pyve.env]\nGREETING = \"{greeting}\"\n"
            )
        };
        std::fs::write(root.join("pyproject.toml"), pyproject("", "hi")).unwrap();
        sandbox.pyve_ok(&root, &["init", "--no-direnv"]);
        assert!(
            !root.join(".pyve/config").exists(),
            "pyproject.toml stays the settings"
        );
        std::thread::sleep(Duration::from_millis(100));
        let mut shell = Interactive::start(&sandbox, sh);
        let prompt = shell.cd(&root);
        assert!(prompt.starts_with("(venv:tee) [0"), "{prompt:?}");
        assert_eq!(shell.value("GREETING"), "hi");
        // The project's dependencies edited: still approved, nothing said.
        std::fs::write(root.join("pyproject.toml"), pyproject("\"alpha\"", "hi")).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let said = shell.output_of("true");
        assert!(!said.contains("pyve:"), "{said:?}");
        assert_eq!(shell.value("GREETING"), "hi");
        // [tool.pyve] edited: held back at the next prompt, the key named.
        std::fs::write(root.join("pyproject.toml"), pyproject("\"alpha\"", "bye")).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let said = shell.output_of("true");
        assert!(
            said.contains(
                "[tool.pyve] in pyproject.toml changed since you approved it (key env.GREETING)"
            ),
            "{said:?}"
        );
        assert_eq!(shell.value("GREETING"), "");
        assert_eq!(shell.value("VIRTUAL_ENV"), "");
        shell.output_of("pyve allow");
        shell.prompt_after("true");
        assert_eq!(shell.value("GREETING"), "bye");
    }
);
