//! The prompt-theme recipes of docs/prompt-themes.md, taken from the doc
//! itself and run: starship's module commands through `sh` as starship
//! runs them, powerlevel9k (Debian's package) and an oh-my-zsh style theme
//! in an interactive zsh, and fish's bundled themes. Every project here
//! has a hostile `prompt.format`: it must show as written and run nothing.

use std::path::{Path, PathBuf};

use rexpect::reader::Options;
use rexpect::session::spawn_with_options;

use crate::support::*;

const HOSTILE_FORMAT: &str = "%B%n$(touch pwned)`touch pwned`[{env_name}]";
const HOSTILE_SHOWN: &str = "%B%n$(touch pwned)`touch pwned`[themed]";

fn doc() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/prompt-themes.md"))
        .unwrap()
}

/// The first ```lang block after the `## heading` line.
fn block(heading: &str, lang: &str) -> String {
    let doc = doc();
    let section = doc
        .split(&format!("\n## {heading}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no section {heading}"));
    let fence = format!("```{lang}\n");
    let start = section
        .find(&fence)
        .unwrap_or_else(|| panic!("no {lang} block in {heading}"));
    let rest = &section[start + fence.len()..];
    rest[..rest.find("```").unwrap()].to_owned()
}

/// A project whose prompt prefix is hostile and left to the theme.
fn themed_project(sb: &Sandbox) -> PathBuf {
    sb.venv_project(
        "themed",
        &format!("prompt:\n  show: false\n  format: '{HOSTILE_FORMAT}'\n"),
    )
}

fn nothing_ran(sb: &Sandbox, dirs: &[&Path]) {
    for dir in dirs {
        assert!(
            !dir.join("pwned").exists(),
            "something ran in {}",
            dir.display()
        );
    }
    assert!(!sb.home.join("pwned").exists());
}

#[test]
fn starship_custom_module_commands_through_sh() {
    let sb = Sandbox::new();
    let root = themed_project(&sb);
    let toml = block("starship", "toml");
    let literal = |key: &str| -> String {
        let line = toml
            .lines()
            .find(|l| l.starts_with(&format!("{key} = '")))
            .unwrap_or_else(|| panic!("no {key} in {toml}"));
        line.split_once(" = '")
            .unwrap()
            .1
            .strip_suffix('\'')
            .unwrap()
            .to_owned()
    };
    let (when, command) = (literal("when"), literal("command"));
    assert!(toml.contains("shell = [\"sh\"]"));
    let run = |sh_input: &str| {
        let quoted = String::from_utf8(Sh::Bash.quote(sh_input.as_bytes())).unwrap();
        format!("printf '%s' {quoted} | sh; echo \"=$?\"")
    };
    let script = [
        cd(Sh::Bash, &root),
        "__pyve_hook".to_owned(),
        run(&when),
        run(&command),
        cd(Sh::Bash, &sb.path("tmp")),
        "__pyve_hook".to_owned(),
        run(&when),
    ]
    .join("\n");
    let out = sb.script_ok(Sh::Bash, &script);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, format!("=0\n{HOSTILE_SHOWN}=0\n=1\n"));
    nothing_ran(&sb, &[&root, &sb.path("tmp")]);

    // The built-in python module reads VIRTUAL_ENV and pyvenv.cfg's prompt.
    let named = sb.path("named");
    std::fs::create_dir_all(&named).unwrap();
    sb.pyve_ok(&named, &["init", "--no-direnv", "--env-name", "web-api"]);
    let cfg = std::fs::read_to_string(named.join(".venv/pyvenv.cfg")).unwrap();
    assert!(
        cfg.lines()
            .any(|l| l.starts_with("prompt = ") && l.contains("web-api")),
        "{cfg}"
    );
}

/// An interactive zsh (TERM set so the theme draws), `setup` typed first.
fn zsh_prompt_after_cd(sb: &Sandbox, setup: &str, into: &Path, expect: &str) {
    let mut command = sb.command("zsh");
    command.args(["-f", "-i"]).env("TERM", "xterm-256color");
    let mut session = spawn_with_options(
        command,
        Options::new()
            .timeout_ms(Some(20_000))
            .strip_ansi_escape_codes(true),
    )
    .unwrap();
    for line in setup.lines().filter(|l| !l.trim().is_empty()) {
        session.send_line(line).unwrap();
    }
    session.send_line(&hook_line(Sh::Zsh)).unwrap();
    session
        .send_line(&format!("cd {}", Sh::Zsh.q(into)))
        .unwrap();
    session.send_line("print -r -- DONE-$((6*7))").unwrap();
    session.exp_string("DONE-42").unwrap();
    // The prompt drawn after that command shows the project's text.
    session.exp_string(expect).unwrap();
    session.send_line("exit").unwrap();
    let _ = session.exp_eof();
}

#[test]
fn powerlevel9k_custom_segment() {
    let sb = Sandbox::new();
    let root = themed_project(&sb);
    let recipe = block("powerlevel9k", "zsh");
    assert!(recipe.contains("source /usr/share/powerlevel9k/powerlevel9k.zsh-theme"));
    assert!(
        Path::new("/usr/share/powerlevel9k/powerlevel9k.zsh-theme").exists(),
        "scripts/test.sh installs zsh-theme-powerlevel9k"
    );
    zsh_prompt_after_cd(&sb, &recipe, &root, HOSTILE_SHOWN);
    nothing_ran(&sb, &[&root]);
}

#[test]
fn oh_my_zsh_style_theme_with_prompt_subst() {
    let sb = Sandbox::new();
    let root = themed_project(&sb);
    // What an oh-my-zsh theme leaves behind, then the recipe.
    let setup = format!(
        "setopt prompt_subst\nPROMPT='THEME> '\n{}",
        block("oh-my-zsh", "zsh")
    );
    zsh_prompt_after_cd(&sb, &setup, &root, &format!("{HOSTILE_SHOWN} THEME> "));
    nothing_ran(&sb, &[&root]);
}

const SAMPLES: &str = "/usr/share/fish/tools/web_config/sample_prompts";

/// `fish_prompt` (and `fish_right_prompt` when defined) inside the
/// project, after `setup`, as fish prints them.
fn fish_prompts(sb: &Sandbox, root: &Path, setup: &str) -> String {
    let script = format!(
        "{setup}\n{}\nemit fish_prompt\nprintf 'LEFT<%s>\\n' (fish_prompt | string collect)\n\
         functions -q fish_right_prompt; and printf 'RIGHT<%s>\\n' (fish_right_prompt | string collect)\ntrue",
        cd(Sh::Fish, root)
    );
    let out = sb.script_ok(Sh::Fish, &script);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn fish_bundled_themes_and_a_right_prompt() {
    let sb = Sandbox::new();
    // The hook's own prefix in front of a bundled theme (loaded after the
    // hook, as `fish_config prompt choose` does in a running shell).
    let plain = sb.venv_project("plainfish", "env_name: plain\n");
    let shown = fish_prompts(&sb, &plain, &format!("source {SAMPLES}/arrow.fish"));
    assert!(shown.starts_with("LEFT<(venv:plain) "), "{shown}");
    assert_eq!(shown.matches("(venv:plain)").count(), 1, "{shown}");

    // A theme that draws VIRTUAL_ENV itself and sets
    // VIRTUAL_ENV_DISABLE_PROMPT: no second prefix.
    let shown = fish_prompts(&sb, &plain, &format!("source {SAMPLES}/pythonista.fish"));
    // (Under TERM=dumb its set_color prints nothing, so its `(.venv)` is `()`.)
    assert!(shown.contains("↪"), "the theme drew: {shown}");
    assert!(!shown.contains("(venv:plain)"), "{shown}");

    // prompt.show: false and the recipe's right prompt: the text as data.
    let root = themed_project(&sb);
    let shown = fish_prompts(&sb, &root, &block("fish", "fish"));
    assert!(
        shown.contains(&format!("RIGHT<{HOSTILE_SHOWN}>")),
        "{shown}"
    );
    assert!(!shown.contains(&format!("LEFT<{HOSTILE_SHOWN}")), "{shown}");
    nothing_ran(&sb, &[&root]);
}
