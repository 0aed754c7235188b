//! `pyve run CMD …` read without clap. Building clap's command tree for
//! every subcommand costs more than the rest of `pyve run` (a quarter of a
//! millisecond and some eighty allocator calls, measured), and `run` sits
//! in front of every command a Makefile or CI job runs. Only the plain
//! forms are read here: `--trust`, `--no-sync`, `--env NAME`,
//! `--env=NAME` and `--` before the command. Anything else (help, a global
//! option, a repeated or unknown option, no command) goes to clap, which
//! owns every message. The tests check each accepted form against clap.

use std::ffi::{OsStr, OsString};

use crate::cmd::run::Options;

/// The options of `pyve run …` when `args` (as the process got them) is
/// one of the plain forms; None: let clap parse it.
pub fn parse(args: &[OsString]) -> Option<Options> {
    if args.get(1).map(OsString::as_os_str) != Some(OsStr::new("run")) {
        return None;
    }
    let mut options = Options {
        trust: false,
        env: None,
        command: Vec::new(),
        no_sync: false,
    };
    let mut rest = args[2..].iter();
    while let Some(arg) = rest.next() {
        let bytes = arg.as_encoded_bytes();
        if bytes == b"--" {
            options.command = rest.cloned().collect();
            break;
        }
        if bytes.first() != Some(&b'-') {
            options.command = std::iter::once(arg).chain(rest).cloned().collect();
            break;
        }
        match bytes {
            b"--trust" if !options.trust => options.trust = true,
            b"--no-sync" if !options.no_sync => options.no_sync = true,
            b"--env" if options.env.is_none() => {
                let name = rest.next()?.to_str()?;
                if name.is_empty() || name.starts_with('-') {
                    return None;
                }
                options.env = Some(name.to_owned());
            }
            _ => {
                let name = arg.to_str()?.strip_prefix("--env=")?;
                if options.env.is_some() || name.is_empty() {
                    return None;
                }
                options.env = Some(name.to_owned());
            }
        }
    }
    (!options.command.is_empty()).then_some(options)
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStringExt;

    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, ColorArg, Command};

    fn argv(words: &[&[u8]]) -> Vec<OsString> {
        std::iter::once(&b"pyve"[..])
            .chain(words.iter().copied())
            .map(|w| OsString::from_vec(w.to_vec()))
            .collect()
    }

    /// What clap makes of the same words, when it reads them as a plain
    /// `run` (default colour, neither quiet nor verbose).
    fn by_clap(args: &[OsString]) -> Option<(bool, Option<String>, Vec<OsString>, bool)> {
        let cli = Cli::try_parse_from(args).ok()?;
        let plain = matches!(cli.color, ColorArg::Auto) && !cli.quiet && !cli.verbose;
        match cli.command {
            Command::Run(a) if plain => Some((a.trust, a.env, a.command, a.no_sync)),
            _ => None,
        }
    }

    /// Every form read here is read as clap reads it; the forms left to
    /// clap include each that clap refuses or reads otherwise.
    #[test]
    fn the_forms_read_here_are_read_as_clap_reads_them() {
        let cases: &[&[&[u8]]] = &[
            &[b"run", b"pytest"],
            &[b"run", b"python", b"-m", b"pytest", b"--trust", b"-q"],
            &[b"run", b"--trust", b"make", b"test"],
            &[b"run", b"--no-sync", b"--trust", b"x"],
            &[b"run", b"--env", b"prod", b"x", b"--env", b"y"],
            &[b"run", b"--env=prod", b"x"],
            &[b"run", b"--", b"--help"],
            &[b"run", b"--trust", b"--", b"-x"],
            &[b"run", b"\xff\xfe", b"\n"],
            &[b"run", b"x", b"--", b"y"],
            &[b"run", b"--env=-x", b"y"],
            &[b"run", b""],
            &[b"run", b"--env", b"\xff", b"x"],
            &[b"run", b"--env", b"-x", b"y"],
            &[b"run", b"--env="],
            &[b"run", b"--env=", b"x"],
            &[b"run", b"--env"],
            &[b"run", b"--trust", b"--trust", b"x"],
            &[b"run", b"--env", b"a", b"--env", b"b", b"x"],
            &[b"run", b"--help"],
            &[b"run", b"-h", b"x"],
            &[b"run", b"-q", b"x"],
            &[b"run", b"--color", b"never", b"x"],
            &[b"run", b"--bogus", b"x"],
            &[b"run", b"-"],
            &[b"run", b"--"],
            &[b"run"],
            &[b"-q", b"run", b"x"],
            &[b"status"],
        ];
        for words in cases {
            let args = argv(words);
            let fast = parse(&args).map(|o| (o.trust, o.env, o.command, o.no_sync));
            if let Some(fast) = fast {
                assert_eq!(Some(fast), by_clap(&args), "{args:?}");
            }
        }
        // The forms pyve's docs and CI recipes use are read here.
        for words in [
            &cases[0], &cases[2], &cases[4], &cases[5], &cases[6], &cases[9],
        ] {
            assert!(parse(&argv(words)).is_some(), "{words:?}");
        }
        // Left to clap: help, global options, repeats, a missing command.
        for words in &cases[12..] {
            assert!(parse(&argv(words)).is_none(), "{words:?}");
        }
    }
}
