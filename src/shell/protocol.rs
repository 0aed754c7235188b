//! The contract between the binary and the hook scripts under `shell/`:
//! how a script calls the engine, the line that starts the engine's
//! output, and the names of the script's variables and functions that the
//! engine's output sets and calls. Both sides are written against these
//! names; the tests below check every script still uses them.

use std::ffi::OsString;
use std::path::PathBuf;

/// The hidden subcommand the scripts run: `pyve _engine SHELL PWD STAMP
/// DIAGNOSED PID`, in that order.
pub const ENGINE: &str = "_engine";

/// The first line of the engine's output in bash (see `Shell::begin`):
/// the bash hook splits what its command substitution printed before it
/// (the caller's INT trap) from the code after it.
pub const ENGINE_MARK: &str = "#pyve-engine\n";

/// The absolute path of the binary, set by `pyve hook` above the script.
pub const EXE: &str = "__pyve_exe";
/// The directory the engine last handled; the fast path compares `$PWD`.
pub const PWD: &str = "__pyve_pwd";
/// This shell's stamp file; a watched path newer than it runs the engine.
pub const STAMP: &str = "__pyve_stamp";
/// The fast path's check (see `Shell::watch`): whether a watched path is
/// newer than the stamp, so the engine must run again. A function in bash
/// and zsh, the arguments of one `test` in fish. (Named anew when the check
/// changed from a list the scripts looped over: a shell that loaded the
/// old script ignores it instead of misreading it.)
pub const NEWER: &str = "__pyve_newer";
/// The list of watched paths that scripts before `NEWER` looped over,
/// still written so that a shell which loaded such a script before pyve
/// was upgraded keeps noticing changes at a bare Enter. The scripts of
/// this version never read it.
pub const LEGACY_WATCH: &str = "__pyve_watch";
/// The project root the engine found (empty: none): another directory
/// under it with no project in between needs no engine run.
pub const ROOT: &str = "__pyve_root";
/// Tokens of what this shell was already told.
pub const DIAGNOSED: &str = "__pyve_diagnosed";
/// Activation scripts to source once the output is applied (bash, zsh).
pub const SCRIPTS: &str = "__pyve_scripts";
/// The script's function that sets or clears the prompt prefix.
pub const PROMPT: &str = "__pyve_prompt";
/// The script's function that runs the engine.
pub const RUN: &str = "__pyve_run";

/// What the hook passes on every call, as the script passes it.
#[derive(Debug, PartialEq, Eq)]
pub struct EngineArgs {
    pub shell: String,
    /// The shell's logical `$PWD`.
    pub pwd: PathBuf,
    /// The stamp file from the previous call in this shell; empty: none.
    pub stamp: OsString,
    pub diagnosed: OsString,
    pub shell_pid: u32,
}

impl EngineArgs {
    /// Reads the arguments after `_engine`; None when they are not what a
    /// script passes (someone typed the internal command).
    pub fn parse(mut args: impl Iterator<Item = OsString>) -> Option<EngineArgs> {
        let shell = args.next()?.into_string().ok()?;
        let pwd = PathBuf::from(args.next()?);
        let stamp = args.next()?;
        let diagnosed = args.next()?;
        let shell_pid = args.next()?.to_str()?.parse().ok()?;
        Some(EngineArgs {
            shell,
            pwd,
            stamp,
            diagnosed,
            shell_pid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPTS_BY_SHELL: [(&str, &str); 3] = [
        ("bash", include_str!("../../shell/pyve.bash")),
        ("zsh", include_str!("../../shell/pyve.zsh")),
        ("fish", include_str!("../../shell/pyve.fish")),
    ];

    /// The hooks that apply the engine's output with their own code:
    /// the shell, its script, how it writes the engine call's first
    /// words, its current directory and its process id, and how it checks
    /// the mark.
    const OTHER_SCRIPTS: [(&str, &str, &str, &str, &str, &str); 4] = [
        (
            "nu",
            include_str!("../../shell/pyve.nu"),
            "_engine nu ",
            "$env.PWD",
            "$nu.pid",
            "str starts-with \"#pyve-engine\\n\"",
        ),
        (
            "xonsh",
            include_str!("../../shell/pyve.xsh"),
            "'_engine', 'xonsh', ",
            "pwd",
            "os.getpid()",
            "startswith('#pyve-engine\\n')",
        ),
        (
            "elvish",
            include_str!("../../shell/pyve.elv"),
            "_engine elvish ",
            "$pwd",
            "$pid",
            "str:has-prefix $out \"#pyve-engine\\n\"",
        ),
        (
            "tcsh",
            include_str!("../../shell/pyve.tcsh"),
            "_engine tcsh ",
            "$cwd",
            "$$",
            "\"$__pyve_out\" =~ \"#pyve-engine /*\"",
        ),
    ];

    /// The other hooks call the engine as the binary reads it, use the
    /// protocol's names for what the engine sets, and check the mark.
    #[test]
    fn every_other_script_keeps_the_protocol() {
        for (shell, script, call, pwd, pid, mark) in OTHER_SCRIPTS {
            let start = script
                .find(call)
                .unwrap_or_else(|| panic!("{shell}: no `{call}`"));
            let after = &script[start..(start + 240).min(script.len())];
            let mut at = 0;
            for name in [pwd, STAMP, DIAGNOSED, pid] {
                let found = after[at..]
                    .find(name)
                    .unwrap_or_else(|| panic!("{shell}: {name} missing or out of order: {after}"));
                at += found + name.len();
            }
            for name in [EXE, PWD, STAMP, NEWER, ROOT, DIAGNOSED, PROMPT] {
                assert!(script.contains(name), "{shell} does not use {name}");
            }
            assert!(script.contains(mark), "{shell} does not check {mark}");
            assert!(
                crate::shell::by_name(shell).is_some(),
                "{shell} is not a hook shell"
            );
        }
    }

    /// Each script calls the engine with the arguments in the order
    /// `EngineArgs::parse` reads them.
    #[test]
    fn every_script_calls_the_engine_as_the_binary_reads_it() {
        for (shell, script) in SCRIPTS_BY_SHELL {
            let call = script
                .lines()
                .find(|l| l.contains(&format!(" {ENGINE} {shell} ")))
                .unwrap_or_else(|| panic!("{shell}: no `{ENGINE} {shell}` call"));
            let after = &call[call.find(ENGINE).unwrap()..];
            let order = ["PWD", STAMP, DIAGNOSED];
            let mut at = 0;
            for name in order {
                let found = after[at..]
                    .find(name)
                    .unwrap_or_else(|| panic!("{shell}: {name} missing or out of order: {after}"));
                at += found + name.len();
            }
            let pid = if shell == "fish" {
                "$fish_pid"
            } else {
                "\"$$\""
            };
            assert!(
                after[at..].contains(pid),
                "{shell}: the pid comes last: {after}"
            );
        }
    }

    /// The names the engine's output sets and calls are the script's own.
    #[test]
    fn every_script_uses_the_protocol_names() {
        for (shell, script) in SCRIPTS_BY_SHELL {
            for name in [EXE, PWD, STAMP, NEWER, ROOT, DIAGNOSED, PROMPT, RUN] {
                assert!(script.contains(name), "{shell} does not use {name}");
            }
            assert!(
                script.contains(&format!("function {PROMPT}"))
                    || script.contains(&format!("{PROMPT}()")),
                "{shell} does not define {PROMPT}"
            );
            if shell != "fish" {
                assert!(
                    script.contains(SCRIPTS),
                    "{shell} does not source {SCRIPTS}"
                );
            }
        }
        // Each script checks the mark before it evaluates anything.
        let (mark, _) = ENGINE_MARK.split_once('\n').unwrap();
        let checks = [
            format!("\"{mark}\"$'\\n'*"),
            format!("\"{mark}\"$'\\n'*"),
            format!("'{mark}'\\n'*'"),
        ];
        for ((shell, script), check) in SCRIPTS_BY_SHELL.iter().zip(checks) {
            assert!(script.contains(&check), "{shell} does not check {check}");
        }
    }

    #[test]
    fn arguments_parse_in_order() {
        let args = ["zsh", "/p", "/run/stamp-1", "", "42"].map(OsString::from);
        let parsed = EngineArgs::parse(args.into_iter()).unwrap();
        assert_eq!(parsed.shell, "zsh");
        assert_eq!(parsed.pwd, PathBuf::from("/p"));
        assert_eq!(parsed.shell_pid, 42);
        let short = ["zsh", "/p"].map(OsString::from);
        assert!(EngineArgs::parse(short.into_iter()).is_none());
    }
}
