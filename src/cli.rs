//! Command-line definitions (clap) and dispatch to `cmd`.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::cmd;
use crate::error::Error;

#[derive(Parser)]
#[command(
    name = "pyve",
    version,
    about = "Project-local Python environments, applied and reverted by your shell's prompt hook"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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

#[derive(Clone, Copy, ValueEnum)]
pub enum ShellName {
    Bash,
    Zsh,
    Fish,
}

impl ShellName {
    pub fn as_str(self) -> &'static str {
        match self {
            ShellName::Bash => "bash",
            ShellName::Zsh => "zsh",
            ShellName::Fish => "fish",
        }
    }
}

pub fn run() -> Result<ExitCode, Error> {
    let cli = Cli::parse();
    match cli.command {
        Command::Hook { shell } => cmd::hook::run(shell),
    }
}
