//! Project variables: what a project sets besides its environment, from
//! `env:` in its config and from the dotenv files it names (`dotenv`).
//!
//! A value stays a template until activation, where `$PROJECT_ROOT` becomes
//! the project's path and the variable's own `$NAME` what it held before
//! pyve: nothing else is expanded and nothing is executed. Also here: the
//! rule for names, the form `PATH` takes, and the variables a dotenv file
//! may never set (`forbidden`).

pub mod dotenv;

/// A template's marks: NUL, which no variable's value can hold, then what
/// it stands for. Nothing written in a config or a dotenv file can be
/// mistaken for one (both refuse NUL).
const MARK: u8 = 0;
const ROOT: u8 = b'R';
const PRIOR: u8 = b'P';

/// The word that stands for the project's directory.
pub const PROJECT_ROOT: &str = "PROJECT_ROOT";

/// A variable, as activation wants it: its name and its value's template.
pub type Variable = (String, Vec<u8>);

/// Whether `name` can be a variable's name in every shell: ASCII letters,
/// digits and `_`, not starting with a digit.
pub fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A reference at the start of `text` (just after a `$`): `PROJECT_ROOT`,
/// `{PROJECT_ROOT}`, `NAME` or `{NAME}` for the variable `name` itself.
/// Returns the mark and how many bytes it spans; None for anything else,
/// which stays as written.
fn reference(text: &[u8], name: &str) -> Option<(u8, usize)> {
    let (word, len) = match text.first() {
        Some(b'{') => {
            let end = text.iter().position(|&b| b == b'}')?;
            (&text[1..end], end + 1)
        }
        _ => {
            let end = text
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
                .unwrap_or(text.len());
            (&text[..end], end)
        }
    };
    if word == PROJECT_ROOT.as_bytes() {
        Some((ROOT, len))
    } else if word == name.as_bytes() {
        Some((PRIOR, len))
    } else {
        None
    }
}

/// Appends `text` to the template `out`, its references to the project's
/// directory and to `name`'s value before pyve made marks.
pub fn push_expandable(out: &mut Vec<u8>, text: &[u8], name: &str) {
    let mut at = 0;
    while at < text.len() {
        if text[at] == b'$' {
            if let Some((mark, len)) = reference(&text[at + 1..], name) {
                out.extend_from_slice(&[MARK, mark]);
                at += 1 + len;
                continue;
            }
        }
        out.push(text[at]);
        at += 1;
    }
}

/// `text` as a template for variable `name`.
pub fn template(text: &[u8], name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    push_expandable(&mut out, text, name);
    out
}

/// The value of a template: the project's directory (`root`) and the
/// value before pyve (`prior`) in place of the marks. A prior that is
/// unset or empty takes a `:` next to it along (the one after it, else the
/// one before): in a list like `PYTHONPATH`, an empty entry means the
/// current directory, which `src:$PYTHONPATH` never meant.
pub fn expand(template: &[u8], root: &[u8], prior: Option<&[u8]>) -> Vec<u8> {
    let prior = prior.unwrap_or_default();
    let mut out = Vec::with_capacity(template.len());
    let mut parts = template.split(|&b| b == MARK);
    if let Some(first) = parts.next() {
        out.extend_from_slice(first);
    }
    for part in parts {
        let mut rest = part.get(1..).unwrap_or_default();
        match part.first() {
            Some(&ROOT) => out.extend_from_slice(root),
            Some(&PRIOR) if !prior.is_empty() => out.extend_from_slice(prior),
            Some(&PRIOR) => match rest.strip_prefix(b":") {
                Some(after) => rest = after,
                None if out.last() == Some(&b':') => {
                    out.pop();
                }
                None => {}
            },
            _ => {}
        }
        out.extend_from_slice(rest);
    }
    out
}

/// A template as people write it: the marks back as `${PROJECT_ROOT}` and
/// `${NAME}`.
pub fn written(template: &[u8], name: &str) -> Vec<u8> {
    let root = format!("${{{PROJECT_ROOT}}}");
    let prior = format!("${{{name}}}");
    expand(template, root.as_bytes(), Some(prior.as_bytes()))
}

/// The directories a `PATH` template puts in front: `PATH` must be written
/// `DIR[:DIR…]:$PATH`, so pyve can prepend them and remove each on leaving
/// (None for any other form). Entries are templates themselves.
pub fn path_entries(template: &[u8]) -> Option<Vec<&[u8]>> {
    let dirs = template.strip_suffix(&[b':', MARK, PRIOR])?;
    let entries: Vec<&[u8]> = dirs.split(|&b| b == b':').collect();
    let bad = |e: &&[u8]| e.is_empty() || e.windows(2).any(|w| w == [MARK, PRIOR]);
    (!entries.iter().any(bad)).then_some(entries)
}

/// Variables a dotenv file may never set: each can run code or change
/// what is loaded (a shell's start-up and prompt, the dynamic loader,
/// Python's start-up and import path, the tools that run a command from
/// a variable, where packages come from) or where pyve keeps its own files
/// and approvals. `env:` in the config, which the user approves, may set
/// them. Families by prefix are in `FORBIDDEN_PREFIXES`.
pub const FORBIDDEN: &[&str] = &[
    "PATH",
    "HOME",
    "SHELL",
    "ENV",
    "BASH_ENV",
    "ZDOTDIR",
    "FPATH",
    "CDPATH",
    "IFS",
    "INPUTRC",
    "SHELLOPTS",
    "BASHOPTS",
    "PROMPT_COMMAND",
    "PS0",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "PROMPT",
    "PROMPT2",
    "PROMPT3",
    "PROMPT4",
    "RPROMPT",
    "RPROMPT2",
    "RPS1",
    "RPS2",
    "SPROMPT",
    "PROMPT_EOL_MARK",
    "PWD",
    "OLDPWD",
    // nushell's own: its configuration, prompts and the values it keeps
    // in the environment (a string there breaks it).
    "config",
    "ENV_CONVERSIONS",
    "PROMPT_COMMAND_RIGHT",
    "PROMPT_INDICATOR",
    "PROMPT_INDICATOR_VI_INSERT",
    "PROMPT_INDICATOR_VI_NORMAL",
    "PROMPT_MULTILINE_INDICATOR",
    "TRANSIENT_PROMPT_COMMAND",
    "TRANSIENT_PROMPT_COMMAND_RIGHT",
    "TRANSIENT_PROMPT_INDICATOR",
    "LAST_EXIT_CODE",
    "CMD_DURATION_MS",
    "FILE_PWD",
    "CURRENT_FILE",
    // xonsh's prompts and start-up files (its `XONSH_` family below).
    "XONSHRC",
    "RIGHT_PROMPT",
    "BOTTOM_TOOLBAR",
    "MULTILINE_PROMPT",
    "PROMPT_FIELDS",
    "MAIL",
    "MAILPATH",
    "MAILCHECK",
    "HISTFILE",
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "PYTHONPLATLIBDIR",
    "PYTHONEXECUTABLE",
    "PYTHONBREAKPOINT",
    "PYTHONWARNINGS",
    "PYTHONSAFEPATH",
    "PYTHONPYCACHEPREFIX",
    "VIRTUAL_ENV",
    "IPYTHONDIR",
    "EDITOR",
    "VISUAL",
    "SUDO_EDITOR",
    "FCEDIT",
    "PAGER",
    "MANPAGER",
    "LESS",
    "BROWSER",
    "LESSOPEN",
    "LESSCLOSE",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "NODE_OPTIONS",
    "NODE_PATH",
    "PERL5LIB",
    "PERL5OPT",
    "PERLLIB",
    "RUBYOPT",
    "RUBYLIB",
    "JAVA_TOOL_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "_JAVA_OPTIONS",
    "CLASSPATH",
    "DOTNET_STARTUP_HOOKS",
    "GCONV_PATH",
    "LOCPATH",
    "KUBECONFIG",
    "AWS_CONFIG_FILE",
    "TMPDIR",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
];

/// Families a dotenv file may never set: the dynamic loader's (`LD_`,
/// `DYLD_`), pyve's own (and its hooks' state, `__pyve…`, which tcsh reads
/// from the environment when no shell variable of that name is set), where pyve and other tools keep their files and
/// approvals (`XDG_`), git's (which run commands), fish's, nushell's and
/// xonsh's own (their PATH, library and start-up paths), Lua's start-up, Jupyter's configuration, and where
/// pip, uv, conda and micromamba get packages.
pub const FORBIDDEN_PREFIXES: &[&str] = &[
    "LD_", "DYLD_", "PYVE_", "__pyve", "XDG_", "GIT_", "fish_", "NU_", "XONSH_", "LUA_INIT",
    "JUPYTER_", "PIP_", "UV_", "CONDA_", "MAMBA_",
];

/// Whether a dotenv file may not set `name`.
pub fn forbidden(name: &str) -> bool {
    FORBIDDEN.contains(&name) || FORBIDDEN_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Sets `name` in `into`: a name set again keeps its first place and takes
/// the later value.
pub fn merge(into: &mut Vec<Variable>, name: String, template: Vec<u8>) {
    match into.iter_mut().find(|(n, _)| *n == name) {
        Some(entry) => entry.1 = template,
        None => into.push((name, template)),
    }
}

#[cfg(test)]
mod tests;
