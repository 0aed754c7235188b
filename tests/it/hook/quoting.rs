//! Exact escaping: arbitrary bytes (anything but NUL; `/` too, except in
//! directory names) go through pyve's emitted code in real bash, zsh and
//! fish and come back unchanged, and nothing in them executes.
//!
//! Project directories with arbitrary names carry the bytes into
//! `PYVE_ENV_NAME`, `VIRTUAL_ENV` and `PATH`, and, with control characters
//! escaped so the terminal shows them, into `PYVE_PROMPT` and the prompt; an
//! arbitrary `PYTHONHOME` goes into `PYVE_STATE` on entering and back into
//! the shell on leaving; the same bytes go through the project's `.env`
//! (any bytes) and its config's `env:` (as text) into variables that
//! leaving removes, and `$PROJECT_ROOT` expands to the hostile path. The
//! test hands values to the shell through the process environment and
//! those files, never through its own shell quoting.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use proptest::prelude::*;

use super::more_shells::{hook_file, Other, Session};
use crate::support::*;

/// Names that have broken real tools, always tried, plus random bytes.
const HOSTILE: &[&[u8]] = &[
    b"$(touch pwned)",
    b"`touch pwned`",
    b"a b'c\"d",
    b"trailing\\",
    b"100% %d %s %~",
    b"semi;colon && ls",
    b"new\nline\ttab",
    b"-leading-dash",
    b"\\[\\e[31m\\]red",
    b"!! !$ ${HOME}",
    b"caf\xc3\xa9 \xe2\x9c\x93",
    b"\xff\xfe invalid utf-8 \x80",
    b"''\\'\\''",
    b"{backend}{env_name}",
    b"colon:in:name",
];

fn dir_name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0..HOSTILE.len()).prop_map(|i| HOSTILE[i].to_vec()),
        proptest::collection::vec(
            any::<u8>().prop_filter("no NUL or /", |b| *b != 0 && *b != b'/'),
            1..20
        )
        .prop_filter("not . or ..", |n| n != b"." && n != b".."),
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>().prop_filter("no NUL", |b| *b != 0), 0..40)
}

/// How a name shows in the prompt: every control character escaped the way
/// Rust's `escape_default` writes it (`\n`, `\u{1b}`), bytes that are not
/// UTF-8 as they are, except 0x80–0x9F (8-bit control characters), as
/// `\xHH`. Written here independently of pyve.
fn shown_in_prompt(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in name.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                out.extend(c.escape_default().to_string().bytes());
            } else {
                out.extend(c.to_string().bytes());
            }
        }
        for &b in chunk.invalid() {
            if (0x80..0xa0).contains(&b) {
                out.extend(format!("\\x{b:02x}").bytes());
            } else {
                out.push(b);
            }
        }
    }
    out
}

/// Per project: write these variables to files named after them.
fn probe(sh: Sh) -> &'static str {
    match sh {
        Sh::Fish => {
            r#"function __probe
  for n in $argv[2..-1]
    if set -q $n
      if test $n = PATH
        begin; printf '%s' $PATH[1]; printf ':%s' $PATH[2..-1]; end > "$OUT/$argv[1].$n"
      else
        printf '%s' "$$n" > "$OUT/$argv[1].$n"
      end
    end
  end
  fish_prompt > "$OUT/$argv[1].SHOWN"
end"#
        }
        Sh::Bash => {
            r#"__probe() {
  local tag=$1 n; shift
  for n in "$@"; do [[ -v $n ]] && printf '%s' "${!n}" > "$OUT/$tag.$n"; done
  printf '%s' "${PS1@P}" > "$OUT/$tag.SHOWN"
}"#
        }
        Sh::Zsh => {
            r#"__probe() {
  local tag=$1 n; shift
  for n in "$@"; do (( ${+parameters[$n]} )) && printf '%s' "${(P)n}" > "$OUT/$tag.$n"; done
  print -rnP -- "$PS1" > "$OUT/$tag.SHOWN"
}"#
        }
    }
}

/// The projects the round trip visits, one per name, under `projects/`;
/// the probes write to `tmp/out`.
pub struct Fixture {
    pub sandbox: Sandbox,
    pub roots: Vec<PathBuf>,
    pub parent: PathBuf,
    pub out: PathBuf,
}

pub fn fixture(names: &[Vec<u8>], home: &[u8]) -> Fixture {
    let sandbox = Sandbox::new();
    let shared = sandbox.path("shared-venv");
    make_venv(&shared);
    let out = sandbox.path("tmp/out");
    std::fs::create_dir_all(&out).unwrap();
    let parent = sandbox.path("projects");
    let mut roots = Vec::new();
    for (i, name) in names.iter().enumerate() {
        // Distinct directories even when the strategy repeats a name.
        let root = parent.join(format!("{i}")).join(OsStr::from_bytes(name));
        std::fs::create_dir_all(root.join(".pyve")).unwrap();
        std::fs::write(root.join(".pyve/config"), variables_config(home)).unwrap();
        std::fs::write(root.join(".env"), dotenv_line(home)).unwrap();
        std::os::unix::fs::symlink(&shared, root.join(".venv")).unwrap();
        // A subdirectory of the same name, reached from the root without
        // the engine (the hook's walk up to the root).
        std::fs::create_dir_all(root.join(OsStr::from_bytes(name))).unwrap();
        sandbox.allow(&root);
        roots.push(root);
    }
    // The fixture's writes are older than the stamp (set 20 ms back) by
    // the time the shell starts, so they do not count as changes.
    std::thread::sleep(std::time::Duration::from_millis(50));
    Fixture {
        sandbox,
        roots,
        parent,
        out,
    }
}

fn round_trip(sh: Sh, names: Vec<Vec<u8>>, home: Vec<u8>) -> Result<(), TestCaseError> {
    let fixture = fixture(&names, &home);
    let Fixture {
        sandbox,
        roots,
        parent,
        out,
    } = &fixture;
    let mut body = vec![probe(sh).to_owned()];
    let vars = "PYVE_ENV_NAME VIRTUAL_ENV PYVE_PROMPT PYTHONHOME PATH PV_DOTENV PV_ENV PV_ROOT";
    for i in 0..roots.len() {
        let dir = if sh == Sh::Fish {
            format!("$DIR{i}")
        } else {
            format!("\"$DIR{i}\"")
        };
        body.push(format!("cd {dir}\n{}\n__probe in{i} {vars}", sh.prompt()));
        // Into the subdirectory with the engine made unusable: were it run
        // (the walk refusing the name), it would say so on stderr, which
        // holds only the expected lines (below). That line is what catches
        // a walk that refuses a name; the variables compared after only
        // show the environment stayed whole in the subdirectory.
        let (sub, save, restore) = if sh == Sh::Fish {
            (
                format!("$DIR{i}/$NAME{i}"),
                "set -g __real $__pyve_exe; set -g __pyve_exe /nonexistent",
                "set -g __pyve_exe $__real",
            )
        } else {
            (
                format!("\"$DIR{i}/$NAME{i}\""),
                "__real=$__pyve_exe; __pyve_exe=/nonexistent",
                "__pyve_exe=$__real",
            )
        };
        body.push(format!(
            "{save}\ncd {sub}\n{}\n{}\n__probe sub{i} {vars}\n{restore}",
            sh.prompt(),
            sh.prompt()
        ));
        body.push(format!(
            "cd {}\n{}\n__probe out{i} {vars}",
            sh.q(parent),
            sh.prompt()
        ));
    }
    let script = format!("{}\n{}", hook_line_for_probe(sh), body.join("\n"));
    let mut cmd = sandbox.command(sh.name());
    match sh {
        Sh::Bash => cmd.args(["--norc", "--noprofile", "-c"]),
        Sh::Zsh => cmd.args(["-f", "-c"]),
        Sh::Fish => cmd.args(["--no-config", "-c"]),
    };
    cmd.arg(script)
        .env("OUT", out)
        .env("PYTHONHOME", OsStr::from_bytes(&home));
    for (i, (root, name)) in roots.iter().zip(&names).enumerate() {
        cmd.env(format!("DIR{i}"), root);
        cmd.env(format!("NAME{i}"), OsStr::from_bytes(name));
    }
    let output = cmd.output().unwrap();
    let stderr = stderr(&output);
    prop_assert!(output.status.success(), "{} failed: {}", sh.name(), stderr);
    check(sh.name(), &fixture, &names, &home, &stderr, b"PROMPT$ ")
}

/// A config whose `env:` sets `value` (as text: YAML holds no other
/// bytes, written with YAML's own escapes) and the project's path, and
/// which reads `.env`.
fn variables_config(value: &[u8]) -> String {
    let mut quoted = String::from("\"");
    for c in String::from_utf8_lossy(value).chars() {
        match c {
            '"' | '\\' => quoted.extend(['\\', c]),
            c if c.is_control() => quoted.push_str(&format!("\\U{:08x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    format!("env:\n  PV_ENV: {quoted}\n  PV_ROOT: \"$PROJECT_ROOT/x\"\ndotenv: true\n")
}

/// `.env` setting `PV_DOTENV` to `value`, any bytes: double-quoted, with
/// `\`, `"` and `$` escaped and everything else (newlines too) as it is.
fn dotenv_line(value: &[u8]) -> Vec<u8> {
    let mut line = b"PV_DOTENV=\"".to_vec();
    for &b in value {
        if matches!(b, b'\\' | b'"' | b'$') {
            line.push(b'\\');
        }
        line.push(b);
    }
    line.extend_from_slice(b"\"\n");
    line
}

fn hook_line_for_probe(sh: Sh) -> String {
    let prompt = match sh {
        Sh::Fish => "function fish_prompt; printf 'PROMPT$ '; end",
        _ => "PS1='PROMPT$ '",
    };
    format!("{prompt}\n{}", hook_line(sh))
}

fn walk(dir: PathBuf) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(path.clone());
            }
            found.push(path);
        }
    }
    found
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_round_trip_in_bash(names in proptest::collection::vec(dir_name(), 1..6), home in value()) {
        round_trip(Sh::Bash, names, home)?;
    }

    #[test]
    fn arbitrary_bytes_round_trip_in_zsh(names in proptest::collection::vec(dir_name(), 1..6), home in value()) {
        round_trip(Sh::Zsh, names, home)?;
    }

    #[test]
    fn arbitrary_bytes_round_trip_in_fish(names in proptest::collection::vec(dir_name(), 1..6), home in value()) {
        round_trip(Sh::Fish, names, home)?;
    }
}

/// Names and values nushell can hold: its strings are UTF-8, and its `cd`
/// refuses a directory whose name has a control character (but a tab or a
/// newline inside it).
fn text_dir_name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0..HOSTILE.len())
            .prop_filter("UTF-8", |&i| std::str::from_utf8(HOSTILE[i]).is_ok())
            .prop_map(|i| HOSTILE[i].to_vec()),
        "[^\\x00-\\x1f\\x7f/]{1,12}"
            .prop_map(String::into_bytes)
            .prop_filter("not . or ..", |n| n != b"." && n != b".."),
    ]
}

fn text_value() -> impl Strategy<Value = Vec<u8>> {
    "[^\\x00]{0,30}".prop_map(String::into_bytes)
}

const VARS: &str = "PYVE_ENV_NAME VIRTUAL_ENV PYVE_PROMPT PYTHONHOME PATH PV_DOTENV PV_ENV PV_ROOT";

/// The environment every shell gets: the projects, their names, where
/// they are and where to write.
fn with_projects(
    cmd: &mut std::process::Command,
    fixture: &Fixture,
    names: &[Vec<u8>],
    home: &[u8],
) {
    cmd.env("OUT", &fixture.out)
        .env("PARENT", &fixture.parent)
        .env("PYTHONHOME", OsStr::from_bytes(home));
    for (i, (root, name)) in fixture.roots.iter().zip(names).enumerate() {
        cmd.env(format!("DIR{i}"), root);
        cmd.env(format!("NAME{i}"), OsStr::from_bytes(name));
    }
}

/// nushell, as a script that calls the hook's command where a prompt
/// would; the subdirectory with the engine made unusable.
fn round_trip_nu(names: Vec<Vec<u8>>, home: Vec<u8>) -> Result<(), TestCaseError> {
    let fixture = fixture(&names, &home);
    let hook = hook_file(&fixture.sandbox, Other::Nu, None);
    let mut body = vec![
        format!("source {}", Other::Nu.lit(hook.as_os_str().as_bytes())),
        "$env.PROMPT_COMMAND = {|| 'PROMPT$ ' }".to_owned(),
        r#"def probe [tag: string, ...names: string] {
  for n in $names {
    let v = ($env | get -o $n)
    if $v != null {
      let text = if $n == 'PATH' { $v | str join (char esep) } else { $v }
      $text | save -f ($env.OUT | path join $'($tag).($n)')
    }
  }
  do $env.PROMPT_COMMAND | save -f ($env.OUT | path join $'($tag).SHOWN')
}"#
        .to_owned(),
    ];
    for i in 0..names.len() {
        body.push(format!(
            "cd $env.DIR{i}\n\
             __pyve_hook\n\
             probe in{i} {VARS}\n\
             let real{i} = $env.__pyve.__pyve_exe\n\
             $env.__pyve.__pyve_exe = '/nonexistent'\n\
             cd ($env.DIR{i} | path join $env.NAME{i})\n\
             __pyve_hook\n\
             __pyve_hook\n\
             probe sub{i} {VARS}\n\
             $env.__pyve.__pyve_exe = $real{i}\n\
             cd $env.PARENT\n\
             __pyve_hook\n\
             probe out{i} {VARS}"
        ));
    }
    let mut cmd = fixture.sandbox.command(Other::Nu.program());
    cmd.args(["-n", "-c", &body.join("\n")]);
    with_projects(&mut cmd, &fixture, &names, &home);
    let output = cmd.output().unwrap();
    let stderr = stderr(&output);
    prop_assert!(output.status.success(), "nu failed: {}", stderr);
    check("nu", &fixture, &names, &home, &stderr, b"PROMPT$ ")
}

/// xonsh, as a script that calls the hook where a prompt would; the
/// prompt `{env_name}PROMPT$ ` is made as xonsh makes it (fields, then
/// colours).
fn round_trip_xonsh(names: Vec<Vec<u8>>, home: Vec<u8>) -> Result<(), TestCaseError> {
    let fixture = fixture(&names, &home);
    let hook = hook_file(&fixture.sandbox, Other::Xonsh, None);
    let mut body = vec![
        format!(
            "source @({})",
            Other::Xonsh.lit(hook.as_os_str().as_bytes())
        ),
        r#"import os
from xonsh.built_ins import XSH
from xonsh.events import events
from xonsh.ansi_colors import ansi_partial_color_format
from xonsh.prompt.base import PromptFormatter
__hook = [h for h in events.on_pre_prompt_format if h.__name__ == '__pyve_hook'][0]
$PYTHONHOME = $PV_HOME
del $PV_HOME
def __probe(tag, *names):
    values = XSH.env.detype()
    for name in names:
        if name in values:
            with open(os.path.join($OUT, tag + '.' + name), 'wb') as f:
                f.write(os.fsencode(values[name]))
    # The prompt as xonsh makes it at each prompt: its fields' values
    # forgotten, filled in again, then colours.
    XSH.env['PROMPT_FIELDS'].reset()
    shown = ansi_partial_color_format(PromptFormatter()('{env_name}PROMPT$ '), style='default')
    with open(os.path.join($OUT, tag + '.SHOWN'), 'wb') as f:
        f.write(os.fsencode(shown))
"#
        .to_owned(),
    ];
    let vars: Vec<String> = VARS.split(' ').map(|v| format!("'{v}'")).collect();
    let vars = vars.join(", ");
    for i in 0..names.len() {
        body.push(format!(
            "cd @($DIR{i})\n\
             __hook()\n\
             __probe('in{i}', {vars})\n\
             __real = __hook.state['__pyve_exe']\n\
             __hook.state['__pyve_exe'] = '/nonexistent'\n\
             cd @(os.path.join($DIR{i}, $NAME{i}))\n\
             __hook()\n\
             __hook()\n\
             __probe('sub{i}', {vars})\n\
             __hook.state['__pyve_exe'] = __real\n\
             cd @($PARENT)\n\
             __hook()\n\
             __probe('out{i}', {vars})"
        ));
    }
    let script = fixture.sandbox.path("tmp/round-trip.xsh");
    std::fs::write(&script, body.join("\n") + "\n").unwrap();
    let mut cmd = fixture.sandbox.command(Other::Xonsh.program());
    cmd.args(["--no-rc"]).arg(&script);
    with_projects(&mut cmd, &fixture, &names, &home);
    // xonsh is Python, which PYTHONHOME would break: the script sets it.
    cmd.env_remove("PYTHONHOME")
        .env("PV_HOME", OsStr::from_bytes(&home));
    let output = cmd.output().unwrap();
    let stderr = stderr(&output);
    prop_assert!(output.status.success(), "xonsh failed: {}", stderr);
    check("xonsh", &fixture, &names, &home, &stderr, b"PROMPT$ ")
}

/// elvish, interactively (its hook needs the line editor), each prompt
/// running the hook; what the terminal showed stands for stderr.
fn round_trip_elvish(names: Vec<Vec<u8>>, home: Vec<u8>) -> Result<(), TestCaseError> {
    let fixture = fixture(&names, &home);
    let hook = hook_file(&fixture.sandbox, Other::Elvish, None);
    let mut shell = Session::start_with(
        &fixture.sandbox,
        Other::Elvish,
        &Other::Elvish.source(&hook),
        |cmd| with_projects(cmd, &fixture, &names, &home),
    );
    shell.output_of("use str; fn probe {|tag @names| for n $names { if (has-env $n) { print (get-env $n) > $E:OUT/$tag.$n } }; print (str:join '' [($edit:prompt)]) > $E:OUT/$tag.SHOWN }");
    for i in 0..names.len() {
        shell.output_of(&format!("cd $E:DIR{i}"));
        shell.output_of(&format!("probe in{i} {VARS}"));
        shell.output_of(&format!("cd $E:DIR{i}/$E:NAME{i}"));
        shell.output_of(&format!("probe sub{i} {VARS}"));
        shell.output_of("cd $E:PARENT");
        shell.output_of(&format!("probe out{i} {VARS}"));
    }
    shell.sync();
    let said: Vec<&str> = shell
        .transcript
        .lines()
        .filter(|l| l.contains("pyve:"))
        .collect();
    let said = said.join("\n");
    check("elvish", &fixture, &names, &home, &said, b"[-] P> ")
}

/// tcsh, as a script that runs the hook's alias where a prompt would.
/// Its `prompt` holds the prefix escaped for tcsh (`%%`, `\!`): the probe
/// reads it back as tcsh would show it.
fn round_trip_tcsh(names: Vec<Vec<u8>>, home: Vec<u8>) -> Result<(), TestCaseError> {
    let fixture = fixture(&names, &home);
    let hook = hook_file(&fixture.sandbox, Other::Tcsh, None);
    let mut body = vec![
        format!("source {}", Other::Tcsh.lit(hook.as_os_str().as_bytes())),
        "set prompt = 'PROMPT$ '".to_owned(),
    ];
    let probe = |tag: &str| -> String {
        let mut lines: Vec<String> = VARS
            .split(' ')
            .map(|v| format!("if ( $?{v} ) eval '/usr/bin/printf %s ${v}:q > $OUT:q/{tag}.{v}'"))
            .collect();
        lines.push(format!("/usr/bin/printf %s $prompt:q > $OUT:q/{tag}.SHOWN"));
        lines.join("\n")
    };
    for i in 0..names.len() {
        body.push(format!(
            "cd $DIR{i}:q\n__pyve_hook\n{}",
            probe(&format!("in{i}"))
        ));
        body.push(format!(
            "cd $DIR{i}:q/$NAME{i}:q\n__pyve_hook\n{}",
            probe(&format!("sub{i}"))
        ));
        body.push(format!(
            "cd $PARENT:q\n__pyve_hook\n{}",
            probe(&format!("out{i}"))
        ));
    }
    let script = fixture.sandbox.path("tmp/round-trip.tcsh");
    std::fs::write(&script, body.join("\n") + "\n").unwrap();
    let mut cmd = fixture.sandbox.command(Other::Tcsh.program());
    cmd.arg("-f").arg(&script);
    with_projects(&mut cmd, &fixture, &names, &home);
    let output = cmd.output().unwrap();
    let stderr = stderr(&output);
    prop_assert!(output.status.success(), "tcsh failed: {}", stderr);
    for entry in std::fs::read_dir(&fixture.out).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "SHOWN") {
            let raw = std::fs::read(&path).unwrap();
            std::fs::write(&path, shown_by_tcsh(&raw)).unwrap();
        }
    }
    check("tcsh", &fixture, &names, &home, &stderr, b"PROMPT$ ")
}

/// A tcsh `prompt` as tcsh shows it, for the escapes pyve writes: `%%` is
/// `%`, and `\` before `!`, `\` or `^` keeps that character. (That tcsh
/// shows them so is checked in more_shells.rs, on a drawn prompt.)
fn shown_by_tcsh(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let escaped = raw[i] == b'\\' && matches!(raw.get(i + 1), Some(b'!' | b'\\' | b'^'));
        if raw[i..].starts_with(b"%%") || escaped {
            out.push(raw[i + 1]);
            i += 2;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn text_round_trips_in_nu(names in proptest::collection::vec(text_dir_name(), 1..5), home in text_value()) {
        round_trip_nu(names, home)?;
    }

    #[test]
    fn arbitrary_bytes_round_trip_in_xonsh(names in proptest::collection::vec(dir_name(), 1..5), home in value()) {
        round_trip_xonsh(names, home)?;
    }

    #[test]
    fn arbitrary_bytes_round_trip_in_tcsh(names in proptest::collection::vec(dir_name(), 1..5), home in value()) {
        round_trip_tcsh(names, home)?;
    }

    #[test]
    fn arbitrary_bytes_round_trip_in_elvish(names in proptest::collection::vec(dir_name(), 1..4), home in value()) {
        round_trip_elvish(names, home)?;
    }
}

/// Every hostile name at once in the other shells (nushell: those that
/// are UTF-8).
#[test]
fn every_hostile_name_in_the_other_shells() {
    let home = b"/opt/py home'$(x)\\".to_vec();
    let all: Vec<Vec<u8>> = HOSTILE.iter().map(|n| n.to_vec()).collect();
    let text: Vec<Vec<u8>> = all
        .iter()
        .filter(|n| std::str::from_utf8(n).is_ok())
        .cloned()
        .collect();
    round_trip_nu(text, home.clone()).unwrap();
    round_trip_xonsh(all.clone(), home.clone()).unwrap();
    round_trip_tcsh(all.clone(), home.clone()).unwrap();
    round_trip_elvish(all, home).unwrap();
}

/// Every hostile name at once, in every shell, as a plain regression test.
#[test]
fn every_hostile_name_in_every_shell() {
    for sh in SHELLS {
        let names = HOSTILE.iter().map(|n| n.to_vec()).collect();
        round_trip(sh, names, b"/opt/py home'$(x)\\".to_vec()).unwrap();
    }
}

/// Found by the property test: bytes Rust reads as four invalid ones and
/// fish as one character (F4 92 BF AE). The engine wrote them as four
/// separate escapes, which fish decoded unlike `$PWD`, so the root never
/// compared equal and every `cd` below it ran the engine.
#[test]
fn bytes_fish_joins_into_one_character_round_trip() {
    round_trip(
        Sh::Fish,
        vec![vec![244, 146, 191, 174]],
        vec![198, 172, 211, 92, 159, 112, 64, 165, 150],
    )
    .unwrap();
}

/// What every shell must have done: each project's values exactly, the
/// subdirectory the same, everything restored on leaving, `:` refused
/// once per project, nothing executed. `stderr` is what the shell said;
/// `prompt`, the shell's own prompt, which pyve's prefix goes before.
pub fn check(
    shell: &str,
    fixture: &Fixture,
    names: &[Vec<u8>],
    home: &[u8],
    stderr: &str,
    prompt: &[u8],
) -> Result<(), TestCaseError> {
    let Fixture {
        sandbox,
        roots,
        out,
        ..
    } = fixture;
    // PATH cannot hold ':' inside an entry: such projects are refused, once.
    let refused = names.iter().filter(|n| n.contains(&b':')).count();
    prop_assert_eq!(
        stderr
            .matches("contains ':', which PATH cannot hold")
            .count(),
        refused,
        "{}: {}",
        shell,
        stderr
    );
    prop_assert_eq!(stderr.lines().count(), refused, "{}: {}", shell, stderr);
    let read = |tag: &str| -> Option<Vec<u8>> { std::fs::read(out.join(tag)).ok() };
    let base_path = sandbox.base_path.as_bytes().to_vec();
    for (i, (name, root)) in names.iter().zip(roots).enumerate() {
        let shown_name = String::from_utf8_lossy(name);
        let real_root = std::fs::canonicalize(root).unwrap();
        let venv: PathBuf = real_root.join(".venv");
        if name.contains(&b':') {
            prop_assert_eq!(
                read(&format!("in{i}.VIRTUAL_ENV")),
                None,
                "refused {:?}",
                shown_name
            );
            prop_assert_eq!(read(&format!("in{i}.PATH")), Some(base_path.clone()));
            continue;
        }
        prop_assert_eq!(
            read(&format!("in{i}.PYVE_ENV_NAME")),
            Some(name.clone()),
            "name {:?}",
            shown_name
        );
        prop_assert_eq!(
            read(&format!("in{i}.VIRTUAL_ENV")),
            Some(venv.as_os_str().as_bytes().to_vec())
        );
        let mut path = venv.join("bin").as_os_str().as_bytes().to_vec();
        path.push(b':');
        path.extend_from_slice(&base_path);
        prop_assert_eq!(read(&format!("in{i}.PATH")), Some(path));
        prop_assert_eq!(read(&format!("in{i}.PYTHONHOME")), None, "unset inside");
        // The project's own variables: a dotenv value of any bytes, an
        // `env:` value (YAML holds text), the project's path expanded.
        prop_assert_eq!(read(&format!("in{i}.PV_DOTENV")), Some(home.to_vec()));
        let text = String::from_utf8_lossy(home).into_owned().into_bytes();
        prop_assert_eq!(read(&format!("in{i}.PV_ENV")), Some(text));
        let mut in_root = real_root.as_os_str().as_bytes().to_vec();
        in_root.extend_from_slice(b"/x");
        prop_assert_eq!(read(&format!("in{i}.PV_ROOT")), Some(in_root));
        for var in ["VIRTUAL_ENV", "PATH", "PYVE_PROMPT"] {
            prop_assert_eq!(
                read(&format!("sub{i}.{var}")),
                read(&format!("in{i}.{var}")),
                "{} in the subdirectory of {:?}",
                var,
                shown_name
            );
        }
        let mut prefix = b"(venv:".to_vec();
        prefix.extend_from_slice(&shown_in_prompt(name));
        prefix.push(b')');
        prop_assert_eq!(read(&format!("in{i}.PYVE_PROMPT")), Some(prefix.clone()));
        let mut shown = prefix;
        shown.push(b' ');
        shown.extend_from_slice(prompt);
        prop_assert_eq!(
            read(&format!("in{i}.SHOWN")),
            Some(shown),
            "prompt for {:?}",
            shown_name
        );

        prop_assert_eq!(
            read(&format!("out{i}.PYTHONHOME")),
            Some(home.to_vec()),
            "restored"
        );
        prop_assert_eq!(read(&format!("out{i}.PATH")), Some(base_path.clone()));
        prop_assert_eq!(read(&format!("out{i}.SHOWN")), Some(prompt.to_vec()));
        prop_assert_eq!(read(&format!("out{i}.VIRTUAL_ENV")), None);
        for var in ["PV_DOTENV", "PV_ENV", "PV_ROOT"] {
            prop_assert_eq!(
                read(&format!("out{i}.{var}")),
                None,
                "{} after leaving",
                var
            );
        }
    }
    let executed = walk(sandbox.path(""))
        .into_iter()
        .any(|p| p.ends_with("pwned"));
    prop_assert!(!executed, "a project name was executed");
    Ok(())
}
