//! The command line: clap's definitions, and nothing else. Arguments are
//! turned into each command's own options here, so no layer below knows
//! clap or this module; completions and the man page are generated from
//! the same definitions.

mod completions;
mod init;
mod man;
mod run_fast;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use init::InitArgs;

use crate::cmd;
use crate::error::Error;
use crate::shell::{self, Shell};
use crate::ui;

#[derive(Parser)]
#[command(
    name = "pyve",
    version,
    about = "Project-local Python environments, applied and reverted by your shell's prompt hook",
    after_help = "Examples:\n  \
        eval \"$(pyve hook bash)\"    # in ~/.bashrc (zsh: ~/.zshrc; fish: pyve hook fish | source)\n  \
        pyve init                   # in a project: build .venv, approve it; cd in and out\n  \
        pyve status                 # the project here, its environment, and what is active\n  \
        pyve run pytest             # in CI and Makefiles, no shell setup\n\n\
        The manual: `pyve man | man -l -`; each command's: `pyve COMMAND --help`"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colours and symbols: `auto` uses them on a terminal unless NO_COLOR is set
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        global = true
    )]
    color: ColorArg,
    /// Print only warnings and errors
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more: the commands pyve runs and their output; for `envs`, each environment's details
    #[arg(long, short = 'v', global = true)]
    verbose: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Create the project's environment and write .pyve/config, .gitignore and .envrc
    #[command(after_help = "Examples:\n  \
        pyve init                          # venv from the pinned or default Python\n  \
        pyve init --python-version 3.12    # a specific interpreter\n  \
        pyve init --no-deps                # an empty environment, not the project's dependencies\n  \
        pyve init --vscode                 # and tell VS Code which interpreter to use\n  \
        pyve init --dotenv                 # and keep the project's variables in .env\n  \
        pyve init --force --yes            # rebuild, no questions (CI)\n  \
        pyve init --backend micromamba     # conda environment from conda-lock.yml or environment.yml\n  \
        pyve init --auto-bootstrap --strict  # CI: fetch micromamba, require a fresh lock file\n  \
        pyve init --here                   # in mono/pkg-a: a project nested in mono")]
    Init(InitArgs),
    /// Run a command inside the project's environment, without any shell setup
    #[command(after_help = "Examples:\n  \
        pyve run python -m pytest\n  \
        pyve run --trust make test        # CI, in a fresh checkout (or PYVE_TRUST_ALL=1)\n  \
        pyve run -- python -c 'import sys; print(sys.prefix)'")]
    Run(RunArgs),
    /// Install the project's declared dependencies into its environment, as uv sync does
    #[command(after_help = "Examples:\n  \
        pyve sync                 # after a pull: uv.lock, pyproject.toml or requirements changed\n  \
        pyve sync --locked        # CI: fail if uv.lock is out of date with pyproject.toml\n  \
        pyve sync --env prod      # a named environment")]
    Sync(SyncArgs),
    /// Write conda-lock.yml from environment.yml with conda-lock, solved by micromamba
    #[command(after_help = "Examples:\n  \
        pyve lock                          # the platforms under `platforms:` in environment.yml\n  \
        pyve lock -p linux-64 -p osx-arm64 # these platforms\n  \
        pyve lock --check                  # CI: exit 1 when conda-lock.yml is stale\n  \
        pyve lock --env gpu                # a named environment's own files\n\n\
        conda-lock must be installed (`uv tool install conda-lock`); --check needs\n\
        neither it nor micromamba: it recomputes conda-lock's content hash.")]
    Lock(LockArgs),
    /// Approve a project, so the hook activates it (after you reviewed its .pyve/config)
    #[command(after_help = "Examples:\n  \
        pyve allow              # the project around the current directory\n  \
        pyve allow ~/src/app    # another one\n\n\
        `pyve init` approves the project it builds. Editing .pyve/config, or an\n\
        environment made or replaced by other means, needs a new approval.")]
    Allow(TrustArgs),
    /// Revoke a project's approval: the hook leaves it alone from the next prompt
    #[command(after_help = "Examples:\n  \
        pyve deny               # the project around the current directory\n  \
        pyve deny ~/src/app")]
    Deny(TrustArgs),
    /// Remove the environment and everything pyve wrote to the project
    #[command(after_help = "Examples:\n  \
        pyve purge                 # asks first\n  \
        pyve purge --yes           # no question (scripts, CI)\n  \
        pyve purge --env gpu --yes # one named environment; the others stay")]
    Purge(PurgeArgs),
    /// List the project's environments (the same as `pyve env list`)
    #[command(after_help = "Examples:\n  \
        pyve envs\n  \
        pyve envs --verbose     # path, size, spec files and whether they changed\n  \
        pyve envs --json | jq -r '.environments[].name'")]
    Envs(EnvListArgs),
    /// The project's named environments: list them, or show one
    #[command(
        subcommand,
        after_help = "Examples:\n  \
        pyve env list           # the same as `pyve envs`\n  \
        pyve env info gpu --json"
    )]
    Env(EnvCommand),
    /// Switch the project's active environment; shells inside follow at their next prompt
    #[command(after_help = "Examples:\n  \
        pyve activate prod      # .pyve/current now points at prod\n  \
        pyve run --env gpu python train.py   # once, without switching")]
    Activate(ActivateArgs),
    /// Use a named environment in this shell only, until it leaves the project (through the hook)
    #[command(after_help = "Examples:\n  \
        pyve use staging        # this shell only; other shells keep theirs\n  \
        pyve use --reset        # follow the project's active environment again\n  \
        pyve use                # which one this shell uses")]
    Use(UseArgs),
    /// Check the project's configuration, environment and shell integration
    #[command(after_help = "Examples:\n  \
        pyve doctor\n  \
        pyve doctor --json | jq '.checks[] | select(.status != \"ok\")'")]
    Doctor(DoctorArgs),
    /// Print the project's activation as shell code (what .envrc evaluates)
    #[command(after_help = "Examples:\n  \
        eval \"$(pyve export bash)\"     # activate in this shell by hand\n  \
        eval \"$(pyve export direnv)\"   # in .envrc (pyve init writes this)\n  \
        pyve export json | jq .set        # for tools and shells without a hook")]
    Export {
        /// The dialect: a shell, `direnv` (bash plus direnv's watch_file), or
        /// `json` (one object: set, unset, path, prompt)
        dialect: ExportDialect,
    },
    /// Show the project here, its environment and Python, and whether it is approved and active
    #[command(after_help = "Examples:\n  \
        pyve status\n  \
        pyve status --json | jq -r .python\n  \
        pyve status --json | jq -e .hook_active   # exit 1 unless this shell's hook applied it")]
    Status(StatusArgs),
    /// Print tab completions for a shell, generated from these definitions
    #[command(after_help = "Examples:\n  \
        pyve completions bash > ~/.local/share/bash-completion/completions/pyve\n  \
        pyve completions zsh > \"${fpath[1]}/_pyve\"   # a directory on your $fpath, before compinit\n  \
        pyve completions fish > ~/.config/fish/completions/pyve.fish")]
    Completions {
        /// The shell to complete for
        shell: CompletionShell,
    },
    /// Print the man page (roff), generated from these definitions
    #[command(after_help = "Examples:\n  \
        pyve man | man -l -\n  \
        pyve man > ~/.local/share/man/man1/pyve.1")]
    Man,
    /// Print the shell code that installs the prompt hook
    #[command(after_help = "Examples:\n  \
        eval \"$(pyve hook bash)\"      # in ~/.bashrc\n  \
        eval \"$(pyve hook zsh)\"       # in ~/.zshrc\n  \
        pyve hook fish | source       # in ~/.config/fish/config.fish")]
    Hook {
        /// The shell to print the hook for
        shell: ShellName,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Run even if you have not approved the project (`pyve allow`) or
    /// another user owns its files; PYVE_TRUST_ALL=1 does the same (for CI)
    #[arg(long)]
    trust: bool,
    /// Run in this named environment, without changing the active one
    /// (default: the active one; in CI, where CI is set, `default_env`)
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    /// Do not sync the environment first when its declared dependencies
    /// changed since the last sync (config: sync_on_run: false)
    #[arg(long)]
    no_sync: bool,
    /// The command and its arguments
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    command: Vec<OsString>,
}

#[derive(Args)]
struct SyncArgs {
    /// Install the lock as it is, without checking it against pyproject.toml
    #[arg(long, conflicts_with = "locked")]
    frozen: bool,
    /// Fail if the lock is out of date with pyproject.toml (for CI)
    #[arg(long)]
    locked: bool,
    /// Sync this named environment (default: the active one)
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    /// Sync even if you have not approved the project; PYVE_TRUST_ALL=1 does the same (for CI)
    #[arg(long)]
    trust: bool,
}

#[derive(Args)]
struct LockArgs {
    /// Say whether the lock file matches the environment file; exit 1 when it
    /// does not (or is missing). Changes nothing
    #[arg(long, conflicts_with_all = ["platform", "channel"])]
    check: bool,
    /// A platform to lock for, such as linux-64 or osx-arm64; repeatable
    /// (default: `platforms:` in the environment file, else the lock's own)
    #[arg(long, short = 'p', value_name = "PLATFORM")]
    platform: Vec<String>,
    /// A channel used instead of the environment file's; repeatable
    /// (default: micromamba.channels in .pyve/config, else the file's)
    #[arg(long, short = 'c', value_name = "NAME")]
    channel: Vec<String>,
    /// Lock this named environment's files (default: the active one)
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
}

#[derive(Args)]
struct TrustArgs {
    /// The project, or a directory inside it; default: the current directory
    #[arg(value_name = "DIR")]
    dir: Option<std::path::PathBuf>,
}

#[derive(Args)]
struct PurgeArgs {
    /// Do not ask; required when not on a terminal
    #[arg(long, short = 'y')]
    yes: bool,
    /// Remove only this named environment (its entry in .pyve/config stays)
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
}

#[derive(Subcommand)]
enum EnvCommand {
    /// List the project's environments, the active one marked with `*`
    #[command(after_help = "Examples:\n  \
        pyve env list\n  \
        pyve env list --verbose --json")]
    List(EnvListArgs),
    /// Show one environment in full
    #[command(after_help = "Examples:\n  \
        pyve env info dev\n  \
        pyve env info gpu --json")]
    Info(EnvInfoArgs),
}

#[derive(Args)]
struct EnvListArgs {
    /// Print one JSON object on stdout
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct EnvInfoArgs {
    /// The environment's name
    name: String,
    /// Print one JSON object on stdout
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct UseArgs {
    /// The named environment this shell uses
    #[arg(conflicts_with = "reset")]
    name: Option<String>,
    /// Follow the project's active environment again
    #[arg(long)]
    reset: bool,
    /// Print the value of PYVE_USE, for the hook's `pyve` function
    #[arg(long, hide = true)]
    for_hook: bool,
}

#[derive(Args)]
struct ActivateArgs {
    /// The named environment to make active
    name: String,
}

#[derive(Args)]
struct StatusArgs {
    /// Print one JSON object on stdout
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct DoctorArgs {
    /// Print one JSON object on stdout instead of the report
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ShellName {
    Bash,
    Zsh,
    Fish,
    Nu,
    Xonsh,
    Elvish,
    Tcsh,
}

impl ShellName {
    fn shell(self) -> &'static dyn Shell {
        match self {
            ShellName::Bash => &shell::Bash,
            ShellName::Zsh => &shell::Zsh,
            ShellName::Fish => &shell::Fish,
            ShellName::Nu => &shell::Nu,
            ShellName::Xonsh => &shell::Xonsh,
            ShellName::Elvish => &shell::Elvish,
            ShellName::Tcsh => &shell::Tcsh,
        }
    }
}

/// The shells completions are generated for: those clap_complete (and
/// clap_complete_nushell) write. xonsh and tcsh have no generator.
#[derive(Clone, Copy, ValueEnum)]
enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Nu,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExportDialect {
    Bash,
    Zsh,
    Fish,
    Direnv,
    Json,
}

/// The original pyve's spellings, `pyve --init …` and `pyve --purge …`,
/// become the subcommands.
fn seed_spelling(mut args: Vec<OsString>) -> Vec<OsString> {
    if let Some(first) = args.get_mut(1) {
        if first == "--init" {
            *first = "init".into();
        } else if first == "--purge" {
            *first = "purge".into();
        }
    }
    args
}

/// A mistyped option or command, said the way pyve says things: what was
/// not understood, and what to type instead. (clap's own message for
/// `--versoin` shows the usage line `pyve --version <COMMAND>`, and for
/// `deactivate` suggests `activate`.) Help, version and the other usage
/// errors are clap's.
fn unknown(error: clap::Error) -> Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let text = |kind| match error.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        Some(ContextValue::StyledStr(s)) => Some(s.to_string()),
        _ => None,
    };
    // The command the option was given to: the usage line's words before
    // the first option or placeholder.
    let command = text(ContextKind::Usage)
        .and_then(|usage| {
            let usage = usage.strip_prefix("Usage: ")?.to_owned();
            let words: Vec<&str> = usage
                .split_whitespace()
                .take_while(|w| !w.starts_with(['-', '[', '<']))
                .collect();
            Some(words.join(" "))
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "pyve".to_owned());
    match error.kind() {
        ErrorKind::UnknownArgument => {
            let arg = text(ContextKind::InvalidArg).unwrap_or_default();
            if !arg.starts_with('-') {
                return Error::usage(format!("unexpected argument `{arg}` for `{command}`"))
                    .with_hint(format!("`{command} --help` shows what it takes"));
            }
            let hint = match text(ContextKind::SuggestedArg) {
                Some(s) => format!("did you mean `{s}`? `{command} --help` lists the options"),
                None => format!("`{command} --help` lists the options"),
            };
            Error::usage(format!("unknown option `{arg}` for `{command}`")).with_hint(hint)
        }
        ErrorKind::InvalidSubcommand => {
            let name = text(ContextKind::InvalidSubcommand).unwrap_or_default();
            if name == "deactivate" {
                return Error::usage("pyve has no `deactivate`: leaving the project's directory reverts its environment")
                    .with_hint("`pyve deny` stops the hook from activating this project; `pyve activate NAME` switches between named environments");
            }
            let hint = match text(ContextKind::SuggestedSubcommand) {
                Some(s) => format!("did you mean `pyve {s}`? `pyve --help` lists the commands"),
                None => "`pyve --help` lists the commands".to_owned(),
            };
            Error::usage(format!("unknown command `{name}`")).with_hint(hint)
        }
        _ => error.exit(),
    }
}

pub fn run() -> Result<ExitCode, Error> {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(options) = run_fast::parse(&args) {
        ui::configure(ui::ColorWhen::Auto, false, false);
        return cmd::run::run(options);
    }
    let cli = Cli::try_parse_from(seed_spelling(args)).map_err(unknown)?;
    let color = match cli.color {
        ColorArg::Auto => ui::ColorWhen::Auto,
        ColorArg::Always => ui::ColorWhen::Always,
        ColorArg::Never => ui::ColorWhen::Never,
    };
    ui::configure(color, cli.quiet, cli.verbose);
    match cli.command {
        Command::Init(args) => cmd::init::run(args.into()),
        Command::Run(args) => cmd::run::run(cmd::run::Options {
            trust: args.trust,
            env: args.env,
            command: args.command,
            no_sync: args.no_sync,
        }),
        Command::Sync(args) => cmd::sync::run(cmd::sync::Options {
            env: args.env,
            trust: args.trust,
            mode: match (args.frozen, args.locked) {
                (true, _) => cmd::sync::Mode::Frozen,
                (_, true) => cmd::sync::Mode::Locked,
                _ => cmd::sync::Mode::Update,
            },
        }),
        Command::Lock(args) => cmd::lock::run(cmd::lock::Options {
            check: args.check,
            platforms: args.platform,
            channels: args.channel,
            env: args.env,
        }),
        Command::Allow(args) => cmd::allow::run(args.dir.as_deref()),
        Command::Deny(args) => cmd::deny::run(args.dir.as_deref()),
        Command::Purge(args) => cmd::purge::run(cmd::purge::Options {
            yes: args.yes,
            env: args.env,
        }),
        Command::Envs(args) | Command::Env(EnvCommand::List(args)) => cmd::envs::list(args.json),
        Command::Env(EnvCommand::Info(args)) => cmd::envs::info(&args.name, args.json),
        Command::Activate(args) => cmd::activate::run(&args.name),
        Command::Use(args) => cmd::use_env::run(&cmd::use_env::Options {
            name: args.name.as_deref(),
            reset: args.reset,
            for_hook: args.for_hook,
        }),
        Command::Doctor(args) => cmd::doctor::run(args.json),
        Command::Export { dialect } => cmd::export::run(match dialect {
            ExportDialect::Bash => cmd::export::Dialect::Shell(&shell::Bash),
            ExportDialect::Zsh => cmd::export::Dialect::Shell(&shell::Zsh),
            ExportDialect::Fish => cmd::export::Dialect::Shell(&shell::Fish),
            ExportDialect::Direnv => cmd::export::Dialect::Direnv,
            ExportDialect::Json => cmd::export::Dialect::Json,
        }),
        Command::Hook { shell } => cmd::hook::run(shell.shell()),
        Command::Status(args) => cmd::status::run(args.json),
        Command::Completions { shell } => cmd::write_stdout(
            &completions::script(shell, Cli::command()),
            "the completions",
        ),
        Command::Man => cmd::write_stdout(&man::page(Cli::command())?, "the man page"),
    }
}
