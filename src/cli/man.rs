//! `pyve man`: one man page (roff) for the whole tool, from the clap
//! definitions: the overview, then a section per command with its
//! synopsis, options and examples, so `pyve man | man -l -` has it all.

use clap_mangen::Man;

use crate::error::{user, Error};

/// The page's roff text.
pub fn page(mut command: clap::Command) -> Result<Vec<u8>, Error> {
    // Gives every subcommand its full name ("pyve env info") and the
    // global options.
    command.build();
    let mut out = Vec::new();
    render(&mut out, &command).map_err(|e| user(format!("cannot render the man page: {e}")))?;
    Ok(out)
}

fn render(out: &mut Vec<u8>, command: &clap::Command) -> std::io::Result<()> {
    let page = Man::new(command.clone());
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    for sub in visible_subcommands(command) {
        commands(out, sub)?;
    }
    examples(out, command, ".SH EXAMPLES");
    out.extend_from_slice(b".SH \"SEE ALSO\"\nThe docs/ directory of the pyve repository: getting started, configuration, the hook, security, troubleshooting.\n");
    page.render_version_section(out)
}

/// A `.SH` section for one command (each of a group's commands in turn),
/// its parts as `.SS` subsections.
fn commands(out: &mut Vec<u8>, command: &clap::Command) -> std::io::Result<()> {
    if command.has_subcommands() {
        for sub in visible_subcommands(command) {
            commands(out, sub)?;
        }
        return Ok(());
    }
    let name = command.get_bin_name().unwrap_or_else(|| command.get_name());
    out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
    // The options every command shares are described once, at the top.
    let own = command.clone().mut_args(|arg| {
        if arg.is_global_set() || arg.get_id() == "help" {
            arg.hide(true)
        } else {
            arg
        }
    });
    let page = Man::new(own.clone());
    let mut parts = Vec::new();
    page.render_description_section(&mut parts)?;
    page.render_synopsis_section(&mut parts)?;
    if own.get_arguments().any(|a| !a.is_hide_set()) {
        page.render_options_section(&mut parts)?;
    }
    for line in String::from_utf8_lossy(&parts).lines() {
        let line = match line {
            ".SH DESCRIPTION" => continue,
            ".SH SYNOPSIS" => ".SS Synopsis",
            ".SH OPTIONS" => ".SS Options",
            other => other,
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    examples(out, command, ".SS Examples");
    Ok(())
}

/// The `Examples:` of a command's help, as written: no filling, so each
/// example keeps its comment on its own line.
fn examples(out: &mut Vec<u8>, command: &clap::Command, heading: &str) {
    let Some(text) = command.get_after_help() else {
        return;
    };
    let text = text.to_string();
    let body = text.strip_prefix("Examples:\n").unwrap_or(&text);
    out.extend_from_slice(format!("{heading}\n.nf\n").as_bytes());
    for line in body.lines() {
        let escaped = line.replace('\\', "\\e").replace('-', "\\-");
        if escaped.starts_with(['.', '\'']) {
            out.extend_from_slice(b"\\&");
        }
        out.extend_from_slice(escaped.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(b".fi\n");
}

fn visible_subcommands(command: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
}
