//! The hooks for nushell, xonsh and elvish, interactively under a
//! pseudo-terminal, so the real prompt hooks fire: nushell's pre_prompt
//! hook, xonsh's on_pre_prompt event, elvish's before-readline. The same
//! contract as bash, zsh and fish (tests/it/hook/interactive.rs): an exact
//! apply and revert, the prompt prefix, the exit status kept, nothing run
//! at a bare Enter (elvish: one `test`), one line for a missing binary.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rexpect::reader::{Options, ReadUntil};
use rexpect::session::{spawn_with_options, PtySession};

use crate::support::*;

const TIMEOUT_MS: u64 = 30_000;

/// Prints `SYNC-done`, in nu, xonsh, elvish and tcsh: built by the shell, so
/// the echo of the command cannot match it.
const SYNC: [&str; 4] = [
    "print ('SYNC-' + 'done')",
    "print('SYNC-' + 'done')",
    "echo SYNC-(put done)",
    "echo SYNC-\"done\"",
];

const NU_PROMPT: &str = "$env.PROMPT_COMMAND = {|| $\"[($env.LAST_EXIT_CODE)] \" }; \
    $env.PROMPT_INDICATOR = 'P> '; $env.PROMPT_COMMAND_RIGHT = ''; \
    $env.config.show_banner = false";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Other {
    Nu,
    Xonsh,
    Elvish,
    Tcsh,
}

/// Every shell this module drives, in the docs' order.
pub const OTHERS: [Other; 4] = [Other::Nu, Other::Xonsh, Other::Elvish, Other::Tcsh];

impl Other {
    /// The line docs/getting-started.md gives for the rc file.
    pub fn install_line(self) -> &'static str {
        match self {
            Other::Nu => "mkdir ($nu.user-autoload-dirs | first); pyve hook nu | save -f ($nu.user-autoload-dirs | first | path join pyve.nu)",
            Other::Xonsh => "execx($(pyve hook xonsh))",
            Other::Elvish => "eval (pyve hook elvish | slurp)",
            Other::Tcsh => "eval \"`pyve hook tcsh`\"",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Other::Nu => "nu",
            Other::Xonsh => "xonsh",
            Other::Elvish => "elvish",
            Other::Tcsh => "tcsh",
        }
    }

    /// The real shell scripts/test.sh installed.
    pub fn program(self) -> PathBuf {
        match self {
            Other::Nu => std::env::var_os("PYVE_TEST_NU").map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/nu-0.115.1/nu"),
                PathBuf::from,
            ),
            Other::Xonsh => std::env::var_os("PYVE_TEST_XONSH").map_or_else(
                || {
                    Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("target/tools/xonsh-0.25.0/bin/xonsh")
                },
                PathBuf::from,
            ),
            Other::Elvish => which("elvish").expect("elvish: run `bash scripts/test.sh`"),
            Other::Tcsh => which("tcsh").expect("tcsh: run `bash scripts/test.sh`"),
        }
    }

    /// A string literal of `value` in this shell (test-side, independent
    /// of pyve's own quoting).
    pub fn lit(self, value: &[u8]) -> String {
        match self {
            Other::Nu => {
                let text = std::str::from_utf8(value).expect("nushell strings are UTF-8");
                let mut out = String::from("\"");
                for c in text.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
                        c => out.push(c),
                    }
                }
                out + "\""
            }
            Other::Xonsh => {
                let mut out = String::from("__import__('os').fsdecode(b'");
                for &b in value {
                    out.push_str(&format!("\\x{b:02x}"));
                }
                out + "')"
            }
            Other::Elvish => {
                let text = std::str::from_utf8(value).expect("test literal");
                format!("'{}'", text.replace('\'', "''"))
            }
            Other::Tcsh => {
                let text = std::str::from_utf8(value).expect("test literal");
                format!("'{}'", text.replace('\'', "'\\''").replace('!', "\\!"))
            }
        }
    }

    /// Whether a change of directory inside a project is decided without
    /// the engine (elvish and tcsh cannot loop up to the root with
    /// builtins: they run the engine).
    pub fn walks_to_the_root(self) -> bool {
        matches!(self, Other::Nu | Other::Xonsh)
    }

    pub fn cd(self, dir: &Path) -> String {
        let lit = self.lit(dir.as_os_str().as_bytes());
        match self {
            Other::Xonsh => format!("cd @({lit})"),
            _ => format!("cd {lit}"),
        }
    }

    /// Prints `VALUE-NAME=[value]`, or `[UNSET]`; PATH `:`-joined.
    fn print_value(self, name: &str) -> String {
        match self {
            Other::Nu if name == "PATH" => {
                "print $\"VALUE-PATH=[($env.PATH | str join (char esep))]\"".to_owned()
            }
            Other::Nu => format!("print $\"VALUE-{name}=[($env.{name}? | default UNSET)]\""),
            Other::Xonsh => format!(
                "print('VALUE-{name}=[' + ${{...}}.detype().get('{name}', 'UNSET') + ']')"
            ),
            Other::Elvish => format!(
                "echo 'VALUE-{name}=['(if (has-env {name}) {{ get-env {name} }} else {{ put UNSET }})']'"
            ),
            Other::Tcsh => format!(
                "if ( $?{name} ) eval 'echo \"VALUE-{name}=[${name}]\"'; if ( ! $?{name} ) echo \"VALUE-{name}=[UNSET]\""
            ),
        }
    }

    pub fn prepend_path(self, dir: &str) -> String {
        match self {
            Other::Nu => format!(
                "$env.PATH = ($env.PATH | prepend {})",
                self.lit(dir.as_bytes())
            ),
            Other::Xonsh => format!("$PATH.insert(0, {})", self.lit(dir.as_bytes())),
            Other::Elvish => format!("set paths = [{} $@paths]", self.lit(dir.as_bytes())),
            Other::Tcsh => format!("setenv PATH {}:$PATH", self.lit(dir.as_bytes())),
        }
    }

    /// Installs the hook from a file holding `pyve hook NAME`'s output.
    pub fn source(self, file: &Path) -> String {
        let lit = self.lit(file.as_os_str().as_bytes());
        match self {
            Other::Nu => format!("source {lit}"),
            Other::Xonsh => format!("source @({lit})"),
            Other::Elvish => format!("eval (slurp < {lit})"),
            Other::Tcsh => format!("source {lit}"),
        }
    }
}

/// `pyve hook NAME`'s output, with the binary it runs replaced by `exe`
/// (a counting wrapper, a missing file) when given, in a file.
pub fn hook_file(sandbox: &Sandbox, sh: Other, exe: Option<&Path>) -> PathBuf {
    let out = sandbox
        .pyve_command(&sandbox.path(""), &["hook", sh.name()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut text = out.stdout;
    if let Some(exe) = exe {
        // The first line; in tcsh's one line, its first command.
        let first = match sh {
            Other::Tcsh => text.windows(2).position(|w| w == b"; ").unwrap(),
            _ => text.iter().position(|&b| b == b'\n').unwrap(),
        };
        let line = match sh {
            Other::Nu => format!("let __pyve_exe = {}", sh.lit(exe.as_os_str().as_bytes())),
            Other::Xonsh => format!("__pyve_exe = {}", sh.lit(exe.as_os_str().as_bytes()))
                .replace("__import__('os').fsdecode(", "(")
                .to_owned(),
            Other::Elvish => format!("var __pyve_exe = {}", sh.lit(exe.as_os_str().as_bytes())),
            Other::Tcsh => format!("set __pyve_exe = {}", sh.lit(exe.as_os_str().as_bytes())),
        };
        text.splice(..first, line.into_bytes());
    }
    let extension = match sh {
        Other::Nu => "nu",
        Other::Xonsh => "xsh",
        Other::Elvish => "elv",
        Other::Tcsh => "tcsh",
    };
    let file = sandbox.path(format!("tmp/hook.{extension}"));
    std::fs::write(&file, text).unwrap();
    file
}

pub struct Session {
    session: PtySession,
    pub sh: Other,
    /// Everything read so far, without terminal escapes.
    pub transcript: String,
}

impl Session {
    /// Starts the shell with a prompt `[STATUS] P> ` (elvish has no status:
    /// `[-] P> `), then runs `install` (which installs the hook).
    pub fn start(sandbox: &Sandbox, sh: Other, install: &str) -> Session {
        Session::start_with(sandbox, sh, install, |_| {})
    }

    /// `start`, with the command changed first (its environment).
    pub fn start_with(
        sandbox: &Sandbox,
        sh: Other,
        install: &str,
        change: impl FnOnce(&mut std::process::Command),
    ) -> Session {
        let mut cmd = sandbox.command(sh.program());
        change(&mut cmd);
        match sh {
            // The prompt is set before the line editor starts: it drops
            // what is typed while it waits for the terminal's answers.
            Other::Nu => cmd.args(["-n", "--no-history", "-e", NU_PROMPT]),
            // xonsh too drops a line typed before its first prompt.
            Other::Xonsh => cmd.args([
                "--no-rc",
                "-i",
                "--shell-type",
                "readline",
                "-DPROMPT={env_name}[{last_return_code}] P> ",
                "-DRIGHT_PROMPT=",
                "-DXONSH_SHOW_TRACEBACK=1",
            ]),
            Other::Elvish => cmd.args(["-norc"]),
            Other::Tcsh => cmd.args(["-f", "-i"]),
        };
        let session = spawn_with_options(
            cmd,
            Options::new()
                .timeout_ms(Some(TIMEOUT_MS))
                .strip_ansi_escape_codes(false),
        )
        .expect("spawn shell under a pty");
        let mut shell = Session {
            session,
            sh,
            transcript: String::new(),
        };
        let setup = match sh {
            Other::Nu => {
                shell.expect("P> ");
                String::new()
            }
            Other::Xonsh => {
                shell.expect("P> ");
                String::new()
            }
            Other::Elvish => {
                "set edit:prompt = { put '[-] P> ' }; set edit:rprompt = { }".to_owned()
            }
            // Without line editing tcsh leaves the terminal's modes alone,
            // which otherwise drops a line typed before the prompt.
            Other::Tcsh => "unset edit; set prompt = '[%?] P> '".to_owned(),
        };
        if !setup.is_empty() {
            shell.line(&setup);
        }
        shell.sync();
        // Each line waits for the prompt before the next is typed: xonsh
        // drops what was typed while a command of its own ran a program.
        shell.output_of(install);
        shell
    }

    /// Reads up to `needle` and returns what came before it, without
    /// terminal escapes. nushell's line editor asks the terminal where the
    /// cursor is (`ESC [ 6 n`) and waits for the answer: it is answered.
    pub fn expect(&mut self, needle: &str) -> String {
        let mut before = String::new();
        loop {
            let (text, found) = self
                .session
                .exp_any(vec![
                    ReadUntil::String(needle.to_owned()),
                    ReadUntil::String("\x1b[6n".to_owned()),
                ])
                .unwrap_or_else(|e| panic!("{:?}: waiting for {needle:?}: {e}", self.sh));
            before.push_str(&text);
            if found == needle {
                self.transcript.push_str(&strip_escapes(&before));
                self.transcript.push_str(needle);
                if self.sh == Other::Nu && needle == "P> " {
                    // Ready for input once the cursor is shown again; a
                    // line typed before is lost.
                    let _ = self.session.exp_string("\x1b[?25h");
                }
                return strip_escapes(&before);
            }
            self.session.send("\x1b[1;1R").unwrap();
            self.session.flush().unwrap();
        }
    }

    /// nushell started as people run it, with its config and autoload
    /// directories under the sandbox's home, and the test's prompt.
    pub fn start_autoloading(sandbox: &Sandbox) -> Session {
        let config = sandbox.path("home/.config/nushell");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(config.join("config.nu"), format!("{NU_PROMPT}\n")).unwrap();
        let mut cmd = sandbox.command(Other::Nu.program());
        cmd.args(["--no-history"])
            .env("XDG_CONFIG_HOME", sandbox.path("home/.config"));
        let session = spawn_with_options(
            cmd,
            Options::new()
                .timeout_ms(Some(TIMEOUT_MS))
                .strip_ansi_escape_codes(false),
        )
        .expect("spawn nu under a pty");
        let mut shell = Session {
            session,
            sh: Other::Nu,
            transcript: String::new(),
        };
        shell.expect("P> ");
        shell
    }

    pub fn line(&mut self, text: &str) {
        self.session.send_line(text).unwrap();
    }

    /// Waits until everything sent so far has run and its prompt is drawn.
    /// The needle is built by the shell, so the echo of the typed command
    /// cannot match it.
    pub fn sync(&mut self) {
        let command = match self.sh {
            Other::Nu => SYNC[0],
            Other::Xonsh => SYNC[1],
            Other::Elvish => SYNC[2],
            Other::Tcsh => SYNC[3],
        };
        self.line(command);
        self.expect("SYNC-done\r\n");
        self.expect("P> ");
    }

    /// Runs `command` and returns the prompt drawn after it: the text
    /// before `P> ` on its line, plus `P> `.
    pub fn prompt_after(&mut self, command: &str) -> String {
        self.sync();
        self.line(command);
        // The command's echo, then its output and the next prompt.
        self.echoed();
        let before = self.expect("P> ");
        let evaluated = match self.sh {
            // elvish draws the prompt's last text first, then redraws only
            // what changed once the prompt function returns; nushell's line
            // editor may paint the prompt's parts with cursor moves between
            // them. There the prompt is read from what the shell calls to
            // draw it, as the shell calls it.
            Other::Elvish => "use str; echo PROMPT=(str:join '' [($edit:prompt)])=(put EN)D",
            Other::Nu => {
                "print $\"PROMPT=(do $env.PROMPT_COMMAND)($env.PROMPT_INDICATOR)=(['E' 'ND'] | str join)\""
            }
            _ => "",
        };
        if !evaluated.is_empty() {
            self.line(evaluated);
            let text = self.expect("=END\r\n");
            self.expect("P> ");
            let start = text.rfind("PROMPT=").expect("the prompt printed");
            return text[start + "PROMPT=".len()..].to_owned();
        }
        before
            .rsplit(['\n', '\r'])
            .next()
            .unwrap_or_default()
            .to_owned()
            + "P> "
    }

    /// The value of a variable as the shell prints it: the output line
    /// that starts with `VALUE-NAME=[` (the echo of the command holds that
    /// text too, but not at its start).
    pub fn value(&mut self, name: &str) -> String {
        let command = self.sh.print_value(name);
        let output = self.output_of(&command);
        let start = format!("VALUE-{name}=[");
        output
            .split(['\r', '\n'])
            .filter_map(|line| line.strip_prefix(&start)?.strip_suffix(']'))
            .next_back()
            .unwrap_or_else(|| panic!("{:?}: no {start} in {output:?}", self.sh))
            .to_owned()
    }

    pub fn cd(&mut self, dir: &Path) -> String {
        let command = self.sh.cd(dir);
        self.prompt_after(&command)
    }

    /// The output of `command` up to the next prompt.
    pub fn output_of(&mut self, command: &str) -> String {
        self.sync();
        self.line(command);
        self.echoed();
        self.expect("P> ")
    }

    /// Reads the echo of the line just sent. tcsh without line editing
    /// echoes nothing (the pseudo-terminal does not echo either).
    fn echoed(&mut self) {
        if self.sh != Other::Tcsh {
            self.expect("\r\n");
        }
    }
}

/// `text` without terminal escapes (CSI and OSC sequences, and the
/// two-byte ones) or the bell.
pub fn strip_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\x07' {
                            break;
                        }
                        if c == '\x1b' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\x07' => {}
            c => out.push(c),
        }
    }
    out
}

impl Drop for Session {
    fn drop(&mut self) {
        self.session.process_mut().set_kill_timeout(Some(2_000));
        let _ = self.session.send_line("exit");
        let _ = self.session.exp_eof();
    }
}

fn installed(sandbox: &Sandbox, sh: Other, exe: Option<&Path>) -> Session {
    let file = hook_file(sandbox, sh, exe);
    Session::start(sandbox, sh, &sh.source(&file))
}

/// Enter, a subdirectory, leave, switch, a nested project, and a PATH
/// edit made inside that survives leaving, in one session.
fn lifecycle(sh: Other) {
    let sandbox = Sandbox::new();
    let a = sandbox.venv_project("a", "env_name: alpha\n");
    let b = sandbox.venv_project("b", "");
    let nested = sandbox.venv_project("a/inner", "env_name: inner\n");
    std::fs::create_dir_all(a.join("src/deep")).unwrap();
    let (wrapper, log) = counting_wrapper(&sandbox);
    let mut shell = installed(&sandbox, sh, Some(&wrapper));
    let original_path = shell.value("PATH");

    let prompt = shell.cd(&a);
    assert!(prompt.starts_with("(venv:alpha) ["), "{sh:?}: {prompt:?}");
    assert_eq!(
        shell.value("VIRTUAL_ENV"),
        a.join(".venv").display().to_string()
    );
    let path = shell.value("PATH");
    assert_eq!(
        path,
        format!("{}:{original_path}", a.join(".venv/bin").display()),
        "{sh:?}"
    );
    assert_eq!(shell.value("PYVE_ENV_NAME"), "alpha");

    // A subdirectory: no engine run, still active.
    let calls = count_lines(&log);
    let prompt = shell.cd(&a.join("src/deep"));
    assert!(prompt.starts_with("(venv:alpha) ["), "{sh:?}: {prompt:?}");
    assert_eq!(
        shell.value("VIRTUAL_ENV"),
        a.join(".venv").display().to_string()
    );
    if sh.walks_to_the_root() {
        assert_eq!(
            count_lines(&log),
            calls,
            "{sh:?}: a subdirectory ran the engine"
        );
    }

    // Nested: the inner project takes over, and gives back.
    let prompt = shell.cd(&nested);
    assert!(prompt.starts_with("(venv:inner) ["), "{sh:?}: {prompt:?}");
    assert_eq!(
        shell.value("VIRTUAL_ENV"),
        nested.join(".venv").display().to_string()
    );
    let prompt = shell.cd(&a);
    assert!(prompt.starts_with("(venv:alpha) ["), "{sh:?}: {prompt:?}");

    // Switch to b.
    let prompt = shell.cd(&b);
    assert!(prompt.starts_with("(venv:b) ["), "{sh:?}: {prompt:?}");
    assert_eq!(
        shell.value("VIRTUAL_ENV"),
        b.join(".venv").display().to_string()
    );
    assert_eq!(
        shell.value("PATH"),
        format!("{}:{original_path}", b.join(".venv/bin").display())
    );

    // A PATH edit made inside survives leaving; the rest is reverted.
    shell.output_of(&sh.prepend_path("/opt/mine/bin"));
    let prompt = shell.cd(&sandbox.path(""));
    assert!(prompt.starts_with("["), "{sh:?}: {prompt:?}");
    assert_eq!(shell.value("VIRTUAL_ENV"), "UNSET");
    assert_eq!(shell.value("PYVE_ENV_NAME"), "UNSET");
    assert_eq!(
        shell.value("PATH"),
        format!("/opt/mine/bin:{original_path}"),
        "{sh:?}"
    );
}

#[test]
fn lifecycle_in_nu() {
    lifecycle(Other::Nu);
}

#[test]
fn lifecycle_in_xonsh() {
    lifecycle(Other::Xonsh);
}

#[test]
fn lifecycle_in_elvish() {
    lifecycle(Other::Elvish);
}

/// The last command's exit status survives the hook, entering a project
/// and at a bare Enter inside it (elvish has no exit status).
fn status_is_kept(sh: Other) {
    let sandbox = Sandbox::new();
    let a = sandbox.venv_project("a", "");
    let mut shell = installed(&sandbox, sh, None);
    let command = match sh {
        Other::Nu => format!("{}; ^sh -c 'exit 3'", sh.cd(&a)),
        Other::Xonsh => format!("{} && sh -c 'exit 3'", sh.cd(&a)),
        Other::Tcsh => format!("{} && sh -c 'exit 3'", sh.cd(&a)),
        Other::Elvish => unreachable!("elvish has no exit status"),
    };
    let prompt = shell.prompt_after(&command);
    assert!(prompt.starts_with("(venv:a) [3] P> "), "{sh:?}: {prompt:?}");
    let prompt = shell.prompt_after(if sh == Other::Nu {
        "^sh -c 'exit 4'"
    } else {
        "sh -c 'exit 4'"
    });
    assert_eq!(prompt, "(venv:a) [4] P> ", "{sh:?}");
}

#[test]
fn status_is_kept_in_nu() {
    status_is_kept(Other::Nu);
}

#[test]
fn status_is_kept_in_xonsh() {
    status_is_kept(Other::Xonsh);
}

/// At a bare Enter nothing runs: many prompts in a project, and none
/// starts the engine. elvish, which has no builtin to read a file's
/// modification time, runs one `test` per prompt, and nothing else.
fn steady_state(sh: Other) {
    let sandbox = Sandbox::new();
    let a = sandbox.venv_project("a", "");
    let (wrapper, log) = counting_wrapper(&sandbox);
    // A `test` that counts its calls, first on PATH before the hook
    // looks it up.
    let tests = sandbox.path("tmp/test-calls.log");
    let counting_test = sandbox.path("tools/test");
    std::fs::write(
        &counting_test,
        format!(
            "#!/bin/sh\necho x >> '{}'\nexec /usr/bin/test \"$@\"\n",
            tests.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &counting_test,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let mut shell = installed(&sandbox, sh, Some(&wrapper));
    shell.cd(&a);
    shell.sync();
    if sh == Other::Tcsh {
        // tcsh reads modification times in seconds: a path changed in
        // the stamp's own second runs the engine at each prompt until that
        // second is over; then one prompt renews the stamp.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        shell.sync();
    }
    let engine_runs = count_lines(&log);
    let test_runs = count_lines(&tests);
    assert!(engine_runs >= 1, "{sh:?}: the engine ran on entering");
    const PROMPTS: usize = 30;
    for _ in 0..PROMPTS {
        shell.line("");
        shell.expect("P> ");
    }
    shell.sync();
    assert_eq!(
        count_lines(&log),
        engine_runs,
        "{sh:?}: a bare Enter ran the engine"
    );
    let tests_now = count_lines(&tests) - test_runs;
    if sh == Other::Elvish {
        // One per prompt: the bare Enters and the sync's.
        assert!(
            (PROMPTS..=PROMPTS + 2).contains(&tests_now),
            "{sh:?}: {tests_now} runs of test for {PROMPTS} prompts"
        );
    } else {
        assert_eq!(tests_now, 0, "{sh:?}: test ran");
    }
    // A watched file changed: the next prompt runs the engine.
    std::fs::write(a.join(".pyve/config"), "env_name: renamed\n").unwrap();
    sandbox.allow(&a);
    // (`cd` to the directory the shell is in: a bare Enter's check.)
    let prompt = shell.cd(&a);
    assert!(prompt.starts_with("(venv:renamed) ["), "{sh:?}: {prompt:?}");
}

#[test]
fn steady_state_in_nu() {
    steady_state(Other::Nu);
}

#[test]
fn steady_state_in_xonsh() {
    steady_state(Other::Xonsh);
}

#[test]
fn steady_state_in_elvish() {
    steady_state(Other::Elvish);
}

/// A missing binary: one line, once, and the shell goes on; an
/// unapproved project: the engine's one line, and nothing applied.
fn missing_binary_and_unapproved(sh: Other) {
    let sandbox = Sandbox::new();
    let a = sandbox.venv_project("a", "");
    let b = sandbox.venv_project("b", "");
    let missing = sandbox.path("tmp/no-such-pyve");
    let mut shell = installed(&sandbox, sh, Some(&missing));
    shell.cd(&a);
    shell.cd(&b);
    assert_eq!(shell.value("VIRTUAL_ENV"), "UNSET");
    // Said at the first prompt, and never again.
    let said = &shell.transcript;
    assert_eq!(
        said.matches("pyve: hook disabled").count(),
        1,
        "{sh:?}: {said:?}"
    );
    assert!(said.contains("no-such-pyve is missing"), "{sh:?}: {said:?}");
    drop(shell);

    // A binary that fails, and one that is not pyve's: one line each, and
    // the shell goes on.
    for (program, said) in [
        (
            "exit 3",
            "pyve: hook engine failed (exit 3); environment left unchanged",
        ),
        (
            "echo export PATH=/x",
            "is not the pyve engine); environment left unchanged",
        ),
    ] {
        let fake = sandbox.path("tmp/fake-pyve");
        std::fs::write(&fake, format!("#!/bin/sh\n{program}\n")).unwrap();
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut shell = installed(&sandbox, sh, Some(&fake));
        shell.cd(&a);
        shell.cd(&b);
        assert_eq!(shell.value("VIRTUAL_ENV"), "UNSET", "{sh:?}");
        let transcript = &shell.transcript;
        assert_eq!(
            transcript.matches(said).count(),
            1,
            "{sh:?}: {transcript:?}"
        );
    }

    let c = sandbox.unapproved_project("c", "");
    make_venv(&c.join(".venv"));
    let mut shell = installed(&sandbox, sh, None);
    let out = shell.output_of(&sh.cd(&c));
    assert!(
        out.contains("you have not approved this project"),
        "{sh:?}: {out:?}"
    );
    assert_eq!(shell.value("VIRTUAL_ENV"), "UNSET");
    let out = shell.output_of(&sh.cd(&c.join(".pyve")));
    assert!(!out.contains("pyve:"), "{sh:?}: said again: {out:?}");
}

#[test]
fn missing_binary_and_unapproved_in_nu() {
    missing_binary_and_unapproved(Other::Nu);
}

#[test]
fn missing_binary_and_unapproved_in_xonsh() {
    missing_binary_and_unapproved(Other::Xonsh);
}

#[test]
fn missing_binary_and_unapproved_in_elvish() {
    missing_binary_and_unapproved(Other::Elvish);
}

/// The install line as the docs give it, run twice: the hook is
/// registered once (one engine run per directory change).
fn installed_as_documented_once(sh: Other) {
    let sandbox = Sandbox::new();
    let a = sandbox.venv_project("a", "");
    let (wrapper, log) = counting_wrapper(&sandbox);
    let install = match sh {
        // nushell cannot source a file named at run time: the docs' line
        // saves the hook where nushell loads it at startup, so the test
        // starts a second nushell that loads it.
        Other::Nu => {
            let mut shell = Session::start(&sandbox, sh, "nop");
            let out = shell.output_of(sh.install_line());
            assert!(!out.contains("rror"), "{out}");
            drop(shell);
            let file = sandbox.path("home/.config/nushell/autoload/pyve.nu");
            assert!(file.is_file(), "{} not written", file.display());
            String::from("nop")
        }
        _ => sh.install_line().to_owned(),
    };
    let mut shell = if sh == Other::Nu {
        Session::start_autoloading(&sandbox)
    } else {
        let mut shell = Session::start(&sandbox, sh, &install);
        shell.output_of(&install);
        shell
    };
    shell.sync();
    // Point the installed hook at the counting wrapper.
    let point = match sh {
        Other::Nu => format!("$env.__pyve.__pyve_exe = {}", sh.lit(wrapper.as_os_str().as_bytes())),
        Other::Xonsh => format!(
            "[h for h in __import__('xonsh.events', fromlist=['events']).events.on_pre_prompt_format if h.__name__ == '__pyve_hook'][0].state['__pyve_exe'] = {}",
            sh.lit(wrapper.as_os_str().as_bytes())
        ),
        Other::Tcsh => format!("set __pyve_exe = {}", sh.lit(wrapper.as_os_str().as_bytes())),
        Other::Elvish => String::new(),
    };
    if sh == Other::Elvish {
        return installed_once_elvish(shell, &sandbox, &a);
    }
    // One registration, counted where each shell keeps it (a second one
    // would find nothing to do after the first, so runs cannot show it).
    let count = match sh {
        Other::Nu => {
            // Loaded at startup; sourced again by hand, still one hook.
            let file = sandbox.path("home/.config/nushell/autoload/pyve.nu");
            shell.output_of(&format!("source {}", sh.lit(file.as_os_str().as_bytes())));
            "print $'HOOKS=($env.config.hooks.pre_prompt | length)='"
        }
        Other::Xonsh => {
            "print('HOOKS=' + str(len([h for h in __import__('xonsh.events', fromlist=['events']).events.on_pre_prompt_format if h.__name__ == '__pyve_hook'])) + '=')"
        }
        Other::Tcsh => "echo HOOKS=`alias precmd | grep -o __pyve_hook | wc -l`=",
        Other::Elvish => unreachable!("counted in installed_once_elvish"),
    };
    let out = shell.output_of(count);
    assert!(out.contains("HOOKS=1="), "{sh:?}: {out:?}");
    if sh == Other::Tcsh {
        // Past the second of the last run (tcsh's `-M` is in seconds), so
        // that no bare Enter before the `cd` runs the engine again.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        shell.sync();
    }
    shell.output_of(&point);
    let prompt = shell.cd(&a);
    assert!(prompt.starts_with("(venv:a) ["), "{sh:?}: {prompt:?}");
    // Leaving and entering again: the engine runs once in `a`. (Runs
    // outside the project are not counted: there the walk up watches
    // /tmp, which the suite's other sandboxes keep changing.)
    let runs_in_a = || {
        let needle = format!("_engine {} {} ", sh.name(), a.display());
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with(&needle))
            .count()
    };
    shell.sync();
    shell.cd(&sandbox.path(""));
    let before = runs_in_a();
    shell.cd(&a);
    shell.sync();
    assert_eq!(
        runs_in_a() - before,
        1,
        "{sh:?}: one engine run for one directory change: {}",
        std::fs::read_to_string(&log).unwrap()
    );
}

/// elvish keeps the hook's variables in the namespace `eval` made: the
/// hook's one registration is counted in `edit:before-readline`.
fn installed_once_elvish(mut shell: Session, _sandbox: &Sandbox, a: &Path) {
    let out = shell.output_of("echo HOOKS=(count $edit:before-readline)=");
    assert!(out.contains("HOOKS=1="), "{out:?}");
    let prompt = shell.cd(a);
    assert!(prompt.starts_with("(venv:a) ["), "{prompt:?}");
}

#[test]
fn installed_as_documented_once_in_nu() {
    installed_as_documented_once(Other::Nu);
}

#[test]
fn installed_as_documented_once_in_xonsh() {
    installed_as_documented_once(Other::Xonsh);
}

#[test]
fn installed_as_documented_once_in_elvish() {
    installed_as_documented_once(Other::Elvish);
}

/// `pyve use NAME` switches this shell's environment, `--reset` goes back,
/// an unknown name changes nothing.
fn pyve_use(sh: Other) {
    let sandbox = Sandbox::new();
    let root = super::interactive::dev_and_prod(&sandbox);
    let prod = root.join(".pyve/envs/prod").display().to_string();
    let mut shell = installed(&sandbox, sh, None);
    let prompt = shell.cd(&root);
    assert!(prompt.starts_with("(venv:dev) ["), "{sh:?}: {prompt:?}");
    let prompt = shell.prompt_after("pyve use prod");
    assert!(prompt.starts_with("(venv:prod) ["), "{sh:?}: {prompt:?}");
    assert_eq!(shell.value("VIRTUAL_ENV"), prod);
    let said = shell.output_of("pyve use nosuch");
    assert!(
        said.contains("pyve: no environment `nosuch` in .pyve/config"),
        "{sh:?}: {said}"
    );
    assert_eq!(shell.value("VIRTUAL_ENV"), prod);
    let prompt = shell.prompt_after("pyve use --reset");
    assert!(prompt.starts_with("(venv:dev) ["), "{sh:?}: {prompt:?}");
    // Any other command is the binary's.
    let said = shell.output_of("pyve status");
    assert!(said.contains("dev"), "{sh:?}: {said}");
}

#[test]
fn pyve_use_in_nu() {
    pyve_use(Other::Nu);
}

#[test]
fn pyve_use_in_xonsh() {
    pyve_use(Other::Xonsh);
}

#[test]
fn pyve_use_in_elvish() {
    pyve_use(Other::Elvish);
}

#[test]
fn lifecycle_in_tcsh() {
    lifecycle(Other::Tcsh);
}

#[test]
fn status_is_kept_in_tcsh() {
    status_is_kept(Other::Tcsh);
}

#[test]
fn steady_state_in_tcsh() {
    steady_state(Other::Tcsh);
}

#[test]
fn missing_binary_and_unapproved_in_tcsh() {
    missing_binary_and_unapproved(Other::Tcsh);
}

#[test]
fn installed_as_documented_once_in_tcsh() {
    installed_as_documented_once(Other::Tcsh);
}

#[test]
fn pyve_use_in_tcsh() {
    pyve_use(Other::Tcsh);
}

/// A project whose name holds what each prompt would read as markup
/// (xonsh's `{RED}`, tcsh's `%~`, `!`, `\e` and `^[`, a command
/// substitution) shows it as text in the drawn prompt.
fn prompt_prefix_is_inert(sh: Other) {
    let sandbox = Sandbox::new();
    let name = r"{RED}x%~!\e^[$(id)";
    let root = sandbox.venv_project(format!("p/{name}"), "");
    let mut shell = installed(&sandbox, sh, None);
    let prompt = shell.cd(&root);
    assert!(
        prompt.starts_with(&format!("(venv:{name}) [")),
        "{sh:?}: {prompt:?}"
    );
}

#[test]
fn prompt_prefix_is_inert_in_nu() {
    prompt_prefix_is_inert(Other::Nu);
}

#[test]
fn prompt_prefix_is_inert_in_xonsh() {
    prompt_prefix_is_inert(Other::Xonsh);
}

#[test]
fn prompt_prefix_is_inert_in_elvish() {
    prompt_prefix_is_inert(Other::Elvish);
}

#[test]
fn prompt_prefix_is_inert_in_tcsh() {
    prompt_prefix_is_inert(Other::Tcsh);
}

/// conda's activation scripts for the shell (`*.xsh` in xonsh, `*.csh`
/// in tcsh) run on entering and the deactivation ones on leaving; a
/// script for another shell is not run.
fn runs_conda_activation_scripts(sh: Other, activate: &str, deactivate: &str) {
    let extension = match sh {
        Other::Xonsh => "xsh",
        Other::Tcsh => "csh",
        _ => unreachable!("conda has activation scripts for xonsh and tcsh"),
    };
    let sandbox = Sandbox::new();
    let (root, prefix) = sandbox.built_conda_project("sci");
    let scripts = prefix.join("etc/conda");
    std::fs::write(
        scripts.join(format!("activate.d/mark.{extension}")),
        activate,
    )
    .unwrap();
    std::fs::write(
        scripts.join(format!("deactivate.d/mark.{extension}")),
        deactivate,
    )
    .unwrap();
    std::fs::write(scripts.join("activate.d/other.sh"), "exit 1\n").unwrap();
    sandbox.allow(&root);
    let mut shell = installed(&sandbox, sh, None);
    let prompt = shell.cd(&root);
    assert!(
        prompt.starts_with("(micromamba:sci) ["),
        "{sh:?}: {prompt:?}"
    );
    assert_eq!(
        shell.value("PV_ACTIVATED"),
        format!("yes:{}", prefix.display())
    );
    shell.cd(&sandbox.path(""));
    assert_eq!(shell.value("PV_ACTIVATED"), "UNSET");
    assert_eq!(shell.value("PV_DEACTIVATED"), "yes");
    assert_eq!(shell.value("CONDA_PREFIX"), "UNSET");
}

#[test]
fn xonsh_runs_conda_activation_scripts() {
    runs_conda_activation_scripts(
        Other::Xonsh,
        "$PV_ACTIVATED = 'yes:' + $CONDA_PREFIX\n",
        "del $PV_ACTIVATED\n$PV_DEACTIVATED = 'yes'\n",
    );
}

#[test]
fn tcsh_runs_conda_activation_scripts() {
    runs_conda_activation_scripts(
        Other::Tcsh,
        "setenv PV_ACTIVATED \"yes:$CONDA_PREFIX\"\n",
        "unsetenv PV_ACTIVATED\nsetenv PV_DEACTIVATED yes\n",
    );
}
