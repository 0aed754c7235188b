//! `pyve completions SHELL`: tab completion generated from the same clap
//! definitions as `--help` and the man page, so the three cannot drift.

use clap_complete::Shell;

use super::CompletionShell;

/// The completion script for `name`.
pub fn script(name: CompletionShell, mut command: clap::Command) -> Vec<u8> {
    let shell = match name {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Elvish => Shell::Elvish,
        CompletionShell::Nu => {
            let mut out = Vec::new();
            clap_complete::generate(
                clap_complete_nushell::Nushell,
                &mut command,
                "pyve",
                &mut out,
            );
            return out;
        }
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "pyve", &mut out);
    if shell == Shell::Fish {
        fish_positional_values(&mut out, &command);
    }
    out
}

/// clap_complete's fish generator completes options only; a command's
/// positional argument with fixed values (`pyve hook bash|zsh|fish`) is
/// added here, with the condition function the generated code defines.
fn fish_positional_values(out: &mut Vec<u8>, command: &clap::Command) {
    for sub in command.get_subcommands() {
        for arg in sub.get_positionals() {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_owned())
                .collect();
            if values.is_empty() {
                continue;
            }
            out.extend_from_slice(
                format!(
                    "complete -c pyve -n \"__fish_pyve_using_subcommand {}\" -f -a \"{}\"\n",
                    sub.get_name(),
                    values.join(" ")
                )
                .as_bytes(),
            );
        }
    }
}
