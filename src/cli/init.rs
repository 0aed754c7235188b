//! `pyve init`'s arguments, turned into `cmd::init::Options`.

use clap::{Args, ValueEnum};

use crate::backend::BootstrapTo as BootstrapPlace;
use crate::cmd;
use crate::config::BackendKind;

#[derive(Args)]
pub(super) struct InitArgs {
    /// The environment backend; `auto` decides from the project's files
    #[arg(long, value_enum)]
    backend: Option<BackendChoice>,
    /// The environment's name (prompt, PYVE_ENV_NAME); default: the directory's name
    #[arg(long, value_name = "NAME")]
    env_name: Option<String>,
    /// Create (or rebuild) the named environment NAME, adding it to .pyve/config
    /// (default: the active one, in a project that names its environments)
    #[arg(long, value_name = "NAME")]
    env: Option<String>,
    /// The Python version, X.Y or X.Y.Z; default: the config, then .tool-versions or .python-version
    #[arg(long, value_name = "X.Y[.Z]")]
    python_version: Option<String>,
    /// Write .envrc for direnv (default: only where direnv is installed and this shell runs no pyve hook, or .envrc has pyve's block)
    #[arg(long, conflicts_with = "no_direnv")]
    direnv: bool,
    /// Do not write .envrc this time
    #[arg(long)]
    no_direnv: bool,
    /// Point VS Code at the environment: python.defaultInterpreterPath in .vscode/settings.json (and, with the hook installed, python.terminal.activateEnvironment: false)
    #[arg(long)]
    vscode: bool,
    /// Create .env (mode 600, gitignored) for the project's variables and record `dotenv: true`
    #[arg(long)]
    dotenv: bool,
    /// Rebuild the environment even when the existing one is healthy
    #[arg(long)]
    force: bool,
    /// Answer yes to every question
    #[arg(long, short = 'y')]
    yes: bool,
    /// Install nothing: not the project's dependencies (recorded: dependencies: none; with --env, in its entry)
    #[arg(long, conflicts_with = "deps")]
    no_deps: bool,
    /// Where the dependencies are declared, when the project has several
    /// (recorded: dependencies: SOURCE; with --env, in its entry)
    #[arg(long, value_name = "SOURCE", value_parser = ["uv.lock", "pylock.toml", "poetry.lock", "pdm.lock", "pyproject.toml", "requirements"])]
    deps: Option<String>,
    /// A dependency group (PEP 735) to install besides the defaults; repeatable
    /// (recorded: groups; with --env, in its entry)
    #[arg(long, value_name = "NAME")]
    group: Vec<String>,
    /// A requirements file to install from; repeatable (recorded: requirements,
    /// dependencies: requirements; with --env, in that environment's entry)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["deps", "no_deps"])]
    requirements: Vec<String>,
    /// Dependencies are installed by default now; kept for older scripts
    #[arg(long, hide = true)]
    install_deps: bool,
    /// micromamba: a stale or missing conda-lock.yml is an error (config: lock_file_policy: strict)
    #[arg(long)]
    strict: bool,
    /// micromamba: a channel used instead of the environment file's, for this
    /// run; repeatable, in order of priority
    #[arg(long, short = 'c', value_name = "NAME")]
    channel: Vec<String>,
    /// micromamba: keep the --channel list in .pyve/config (micromamba.channels)
    #[arg(long, requires = "channel")]
    record_channels: bool,
    /// micromamba: download micromamba without asking when it is not found
    #[arg(long)]
    auto_bootstrap: bool,
    /// micromamba: where a downloaded micromamba goes: the project's .pyve/bin or
    /// $XDG_DATA_HOME/pyve/bin (~/.local/share/pyve/bin)
    #[arg(long, value_enum, value_name = "WHERE", default_value = "user")]
    bootstrap_to: BootstrapTo,
    /// Make the current directory a project of its own, even inside another
    /// project (without it, init in a project's subdirectory refuses)
    #[arg(long)]
    here: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BootstrapTo {
    Project,
    User,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendChoice {
    Venv,
    Micromamba,
    Auto,
}

impl From<InitArgs> for cmd::init::Options {
    fn from(args: InitArgs) -> Self {
        cmd::init::Options {
            backend: match args.backend {
                Some(BackendChoice::Venv) => Some(BackendKind::Venv),
                Some(BackendChoice::Micromamba) => Some(BackendKind::Micromamba),
                Some(BackendChoice::Auto) | None => None,
            },
            env_name: args.env_name,
            env: args.env,
            python_version: args.python_version,
            direnv: match (args.direnv, args.no_direnv) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            vscode: args.vscode,
            dotenv: args.dotenv,
            force: args.force,
            yes: args.yes,
            install_deps: args.install_deps,
            no_deps: args.no_deps,
            deps: args.deps,
            groups: args.group,
            requirements: args.requirements,
            strict: args.strict,
            channels: args.channel,
            record_channels: args.record_channels,
            auto_bootstrap: args.auto_bootstrap,
            bootstrap_to: match args.bootstrap_to {
                BootstrapTo::Project => BootstrapPlace::Project,
                BootstrapTo::User => BootstrapPlace::User,
            },
            here: args.here,
        }
    }
}
