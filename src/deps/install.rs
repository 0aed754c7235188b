//! Installing declared dependencies into a virtual environment: with uv
//! when it is on PATH (fast), else with the environment's own pip; a lock
//! only uv, Poetry or PDM can read says so and names the command.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Declared, Kind};
use crate::error::{user, Error};
use crate::process;
use crate::pyproject;
use crate::text::shown;

/// How strictly a lock is followed, as uv's flags say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The lock as it is, not checked against pyproject.toml (`--frozen`):
    /// what `init` installs.
    Frozen,
    /// Fail if the lock is out of date (`--locked`), for CI.
    Locked,
    /// Update the lock first if needed, as `uv sync` does.
    Update,
}

/// The installers found on PATH.
pub struct Tools {
    pub uv: Option<PathBuf>,
    pub poetry: Option<PathBuf>,
    pub pdm: Option<PathBuf>,
}

/// Installs `declared` from `root` into the virtual environment `env_dir`.
pub fn install(
    declared: &Declared,
    root: &Path,
    env_dir: &Path,
    tools: &Tools,
    mode: Mode,
) -> Result<(), Error> {
    if mode == Mode::Locked && !declared.kind.is_lock() {
        return Err(user(format!(
            "--locked: {} is not a lock, so there is nothing to check it against",
            declared.kind.name()
        ))
        .with_hint(
            "lock the project (uv lock) and set `dependencies: uv.lock`, or drop --locked",
        ));
    }
    let python = env_dir.join("bin/python");
    let mut commands = match (declared.kind, &tools.uv) {
        (Kind::UvLock, Some(uv)) => vec![uv_sync(uv, declared, env_dir, &python, mode)],
        (Kind::Pylock, Some(uv)) => {
            let mut command = uv_pip(uv, "sync", &python);
            command.arg("pylock.toml");
            vec![command]
        }
        (Kind::UvLock | Kind::Pylock, None) => return Err(needs_uv(declared.kind)),
        (Kind::Poetry, _) => vec![tool_sync(
            tools.poetry.as_deref(),
            declared.kind,
            &["sync", "--no-interaction"],
            env_dir,
        )?],
        (Kind::Pdm, _) => vec![tool_sync(
            tools.pdm.as_deref(),
            declared.kind,
            &["sync"],
            env_dir,
        )?],
        (Kind::Pyproject, uv) => from_pyproject(root, declared, &python, uv.as_deref())?,
        (Kind::Requirements, uv) => {
            let mut command = match uv {
                Some(uv) => uv_pip(uv, "install", &python),
                None => pip(&python),
            };
            for file in &declared.requirements {
                command.arg("-r").arg(file);
            }
            vec![command]
        }
    };
    for command in &mut commands {
        command
            .current_dir(root)
            .env_remove("PYTHONHOME")
            .env("UV_PYTHON_DOWNLOADS", "never");
        process::run(
            command,
            &format!("installing from {}", declared.kind.name()),
        )?;
    }
    Ok(())
}

/// Creates the virtual environment `env_dir` from `interpreter` and
/// installs `uv.lock` into it, in one `uv sync --frozen`: uv then queries
/// no new interpreter and starts once, which is most of what a build costs.
pub fn create_from_lock(
    declared: &Declared,
    root: &Path,
    env_dir: &Path,
    uv: &Path,
    interpreter: &Path,
) -> Result<(), Error> {
    let mut command = uv_sync(uv, declared, env_dir, interpreter, Mode::Frozen);
    command
        .current_dir(root)
        .env_remove("PYTHONHOME")
        .env("UV_PYTHON_DOWNLOADS", "never");
    process::run(&mut command, "creating the environment from uv.lock")
}

/// `uv sync` into `env_dir`: the project environment is wherever
/// `UV_PROJECT_ENVIRONMENT` says; `python` is its interpreter (or, while
/// it does not exist, the one to create it from).
fn uv_sync(uv: &Path, declared: &Declared, env_dir: &Path, python: &Path, mode: Mode) -> Command {
    let mut command = Command::new(uv);
    command.arg("sync");
    match mode {
        Mode::Frozen => command.arg("--frozen"),
        Mode::Locked => command.arg("--locked"),
        Mode::Update => &mut command,
    };
    if !crate::ui::verbose() {
        command.arg("--quiet");
    }
    command
        .arg("--python")
        .arg(python)
        .env("UV_PROJECT_ENVIRONMENT", env_dir)
        .env_remove("VIRTUAL_ENV");
    for group in &declared.groups {
        command.arg("--group").arg(group);
    }
    command
}

fn uv_pip(uv: &Path, verb: &str, python: &Path) -> Command {
    let mut command = Command::new(uv);
    command.args(["pip", verb]);
    if !crate::ui::verbose() {
        command.arg("--quiet");
    }
    command
        .arg("--python")
        .arg(python)
        .env_remove("VIRTUAL_ENV");
    command
}

fn pip(python: &Path) -> Command {
    let mut command = Command::new(python);
    command
        .args(["-m", "pip", "install", "--no-input"])
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env_remove("VIRTUAL_ENV");
    command
}

/// `[project].dependencies`, the groups (`dev` by default, when defined)
/// and, for a package, the project itself, editable.
fn from_pyproject(
    root: &Path,
    declared: &Declared,
    python: &Path,
    uv: Option<&Path>,
) -> Result<Vec<Command>, Error> {
    let project = pyproject::read(root)?
        .ok_or_else(|| user(format!("no pyproject.toml in {}", shown(root))))?;
    let groups: Vec<String> = if declared.groups.is_empty() {
        project
            .groups
            .contains_key("dev")
            .then(|| "dev".to_owned())
            .into_iter()
            .collect()
    } else {
        declared.groups.clone()
    };
    let mut requirements = project.dependencies.clone();
    for group in &groups {
        requirements.extend(project.group_requirements(group)?);
    }
    let mut command = match uv {
        Some(uv) => uv_pip(uv, "install", python),
        None => pip(python),
    };
    if project.has_build_system {
        command.args(["-e", "."]);
    }
    if requirements.is_empty() && !project.has_build_system {
        return Ok(Vec::new());
    }
    // `--` keeps a requirement from being read as an option.
    command.arg("--").args(&requirements);
    Ok(vec![command])
}

fn tool_sync(
    tool: Option<&Path>,
    kind: Kind,
    args: &[&str],
    env_dir: &Path,
) -> Result<Command, Error> {
    let name = match kind {
        Kind::Poetry => "poetry",
        _ => "pdm",
    };
    let program = tool.ok_or_else(|| {
        user(format!(
            "{} needs {name} to install, and {name} is not on PATH",
            kind.name()
        ))
        .with_hint(format!(
            "install it (`uv tool install {name}`) and run the command again, or set \
             `dependencies: pyproject.toml` in .pyve/config to install the declared ranges"
        ))
    })?;
    let mut command = Command::new(program);
    command
        .args(args)
        // Poetry installs into the active virtual environment, and must
        // not make one of its own; PDM into the interpreter PDM_PYTHON
        // names, ahead of one it saved in `.pdm-python` (without it, PDM
        // makes and selects a `.venv` of its own).
        .env("VIRTUAL_ENV", env_dir)
        .env("POETRY_VIRTUALENVS_CREATE", "false")
        .env("PDM_PYTHON", env_dir.join("bin/python"));
    Ok(command)
}

fn needs_uv(kind: Kind) -> Error {
    user(format!(
        "installing from {} needs uv, which is not on PATH",
        kind.name()
    ))
    .with_hint(
        "install uv (https://docs.astral.sh/uv/), or set `dependencies: pyproject.toml` (or \
         `requirements`) in .pyve/config to install with pip",
    )
}
