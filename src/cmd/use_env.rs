//! `pyve use NAME`: one shell's choice of a named environment, as `conda
//! activate` or `pixi shell -e` make one: this shell only (other shells in
//! the project keep following `.pyve/current`), until it leaves the
//! project. A process cannot change the shell that started it, so the hook
//! script defines a `pyve` function that runs this with `--for-hook` and
//! sets `PYVE_USE` to what it prints; the engine resolves the choice at
//! the next prompt and unsets it on leaving (`engine::choice`).

use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use crate::error::{user, Error};
use crate::project;
use crate::text::shown;
use crate::vars::{self, Vars};

/// What the hook's `pyve` function looks for before it sets anything; help
/// text (`pyve use --help`) lacks it and is printed instead.
const MARK: &[u8] = b"#pyve-use:";

pub struct Options<'a> {
    /// The environment to use; None with `reset` false: say which one.
    pub name: Option<&'a str>,
    /// Follow the project's active environment again.
    pub reset: bool,
    /// Called by the hook's `pyve` function, which reads stdout.
    pub for_hook: bool,
}

pub fn run(options: &Options) -> Result<ExitCode, Error> {
    let vars = vars::process();
    if !options.for_hook {
        let shell = super::user_shell(vars);
        if vars::hook_installed(vars) {
            return Err(user(
                "`pyve use` changes only the shell it is typed in, through the `pyve` function \
                 that the hook defines, which looks for `use` right after `pyve` (options go \
                 after it: `pyve use NAME -q`); `command pyve`, a path to the binary and scripts \
                 bypass it",
            )
            .with_hint("type `pyve use NAME` at the prompt"));
        }
        return Err(user(
            "`pyve use` changes only the shell it is typed in, through the `pyve` function \
             that the hook defines, and this shell has none",
        )
        .with_hint(format!(
            "add `{}` to {} and open a new shell; or `pyve activate NAME` switches every shell \
             in the project, and `pyve run --env NAME CMD` runs one command",
            shell.hook_line(),
            shell.rc_file()
        )));
    }
    let (root, config) = super::load_config(vars)?;
    let value = match (options.name, options.reset) {
        (Some(name), _) => {
            let resolved = super::built_named_env(&root, &config, name, "use it")?;
            info!(
                "this shell uses `{name}` ({}) in {} from the next prompt; other shells keep \
                 theirs, and leaving the project ends it",
                resolved.backend.name(),
                shown(&root)
            );
            super::note_if_held_back(vars, &root, &resolved);
            project::shell_choice_value(name, &root)
        }
        (None, true) => {
            info!(
                "this shell follows {}'s active environment again ({})",
                shown(&root),
                active_name(&root, &config)
            );
            Vec::new()
        }
        (None, false) => {
            describe(vars, &root, &config);
            // Unchanged, whatever it is.
            vars.get(vars::USE)
                .map(|v| v.as_bytes().to_vec())
                .unwrap_or_default()
        }
    };
    // One line of text (see `project::shell_choice_value`).
    let mut out = MARK.to_vec();
    out.extend_from_slice(&value);
    super::write_stdout(&out, "the choice for the hook")
}

/// Which environment this shell uses, and why.
fn describe(vars: &dyn Vars, root: &std::path::Path, config: &crate::config::Config) {
    match super::shell_choice(vars, root) {
        Some(name) if config.environments.get(&name).is_some() => info!(
            "this shell uses `{name}` (`pyve use --reset` follows the project's active \
             environment again)"
        ),
        _ => info!(
            "this shell follows {}'s active environment ({}); `pyve use NAME` chooses one for \
             this shell only",
            shown(root),
            active_name(root, config)
        ),
    }
}

/// The project's active environment, as every shell without a choice has it.
fn active_name(root: &std::path::Path, config: &crate::config::Config) -> String {
    match project::resolve(root, config) {
        Ok(resolved) => format!("`{}`", String::from_utf8_lossy(&resolved.env_name)),
        Err(e) => format!("none: {e}"),
    }
}
