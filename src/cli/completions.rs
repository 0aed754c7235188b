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
            return without_nushell_extern(&out, "pyve use");
        }
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "pyve", &mut out);
    if shell == Shell::Fish {
        fish_positional_values(&mut out, &command);
    }
    out
}

/// The nushell completions without the `export extern` of `name` (and
/// the comment above it): the hook defines that command itself (`pyve
/// use` must change this shell), and an extern loaded after it would take
/// its place.
fn without_nushell_extern(generated: &[u8], name: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(generated);
    let opening = format!("  export extern \"{name}\" [");
    let mut out: Vec<&str> = Vec::new();
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        if skipping {
            skipping = line.trim_end() != "  ]";
            continue;
        }
        if line.trim_end() == opening {
            while out.last().is_some_and(|l| l.starts_with("  #")) {
                out.pop();
            }
            skipping = true;
            continue;
        }
        out.push(line);
    }
    out.concat().into_bytes()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nushell_extern_the_hook_defines_is_left_out() {
        let generated = "  # Other\n  export extern \"pyve a\" [\n    --x\n  ]\n\n  # Use\n  # more\n  export extern \"pyve use\" [\n    --reset\n  ]\n\n  export extern \"pyve b\" [\n  ]\n";
        let kept = without_nushell_extern(generated.as_bytes(), "pyve use");
        assert_eq!(
            String::from_utf8(kept).unwrap(),
            "  # Other\n  export extern \"pyve a\" [\n    --x\n  ]\n\n\n  export extern \"pyve b\" [\n  ]\n"
        );
    }
}
