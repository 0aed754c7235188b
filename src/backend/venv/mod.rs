//! The `venv` backend: a standard virtual environment (stdlib `venv`, uv,
//! virtualenv), activated the way CPython's `bin/activate` does, built with
//! `uv venv` or `python -m venv`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Activation, Backend, Before, BuildRequest, Builder, InitName, Inspection, Sources};
use crate::config::{names, BackendKind, Config, Creator};
use crate::deps::Declared;
use crate::error::{user, Error};
use crate::files;
use crate::python::{self, Interpreter, Source, Version, VersionRequest};
use crate::text::shown;
use crate::{ask, deps, process};

mod inspect;

use inspect::inspect;

pub struct Venv;

/// `pyvenv.cfg` is a few lines; anything larger is not read.
const MAX_CFG_BYTES: u64 = 1 << 20;

/// The project directory's name: a venv's name when the config gives none.
fn directory_name(root: &Path) -> Vec<u8> {
    root.file_name()
        .unwrap_or_else(|| OsStr::new("root"))
        .as_bytes()
        .to_vec()
}

impl Backend for Venv {
    fn kind(&self) -> BackendKind {
        BackendKind::Venv
    }

    fn single_env(&self, root: &Path, config: &Config) -> Result<(Vec<u8>, PathBuf), Error> {
        let env_name = match &config.env_name {
            Some(name) => name.as_bytes().to_vec(),
            None => directory_name(root),
        };
        let env_dir = match &config.venv.directory {
            Some(dir) => root.join(dir),
            None => root.join(".venv"),
        };
        Ok((env_name, env_dir))
    }

    fn init_name(
        &self,
        root: &Path,
        config: &Config,
        requested: Option<&str>,
    ) -> Result<InitName, Error> {
        let name = match (requested, config.env_name.as_deref()) {
            (Some(name), _) | (None, Some(name)) => name.to_owned(),
            (None, None) => String::from_utf8_lossy(&directory_name(root)).into_owned(),
        };
        names::check_display(&name).map_err(|e| {
            user(format!("the environment name {name:?}: {}", e.message()))
                .with_hint("choose one with --env-name")
        })?;
        let recorded = requested.is_none() || config.env_name.as_deref() == requested;
        Ok(InitName {
            name,
            derived_from: None,
            record: (!recorded).then_some((None, "env_name")),
        })
    }

    fn marker(&self, env_dir: &Path) -> PathBuf {
        env_dir.join("pyvenv.cfg")
    }

    fn active_variable(&self) -> &'static str {
        "VIRTUAL_ENV"
    }

    fn activation(&self, env_dir: &Path, _env_name: &[u8], _before: Before) -> Activation {
        Activation {
            path_prepend: vec![env_dir.join("bin").as_os_str().as_bytes().to_vec()],
            set: vec![
                (
                    "VIRTUAL_ENV".to_owned(),
                    env_dir.as_os_str().as_bytes().to_vec(),
                ),
                // uv's project commands (`uv add`, `uv sync`, `uv run`) act on
                // the environment this variable names, named ones included.
                (
                    "UV_PROJECT_ENVIRONMENT".to_owned(),
                    env_dir.as_os_str().as_bytes().to_vec(),
                ),
            ],
            // `activate` unsets PYTHONHOME: a leftover one points the venv's
            // interpreter at another installation's standard library.
            unset: vec!["PYTHONHOME"],
            ..Activation::default()
        }
    }

    fn prepare(&self, request: &BuildRequest) -> Result<Box<dyn Builder>, Error> {
        let which_uv = || python::which(request.vars, "uv");
        let creator = match request.config.venv.creator {
            Some(creator) => creator,
            None if which_uv().is_some() => Creator::Uv,
            None => Creator::Stdlib,
        };
        let uv = match creator {
            Creator::Uv => Some(which_uv().ok_or_else(|| {
                user("venv.creator is `uv` in .pyve/config, but uv is not on PATH").with_hint(
                    "install uv (https://docs.astral.sh/uv/) or set `venv.creator: stdlib`",
                )
            })?),
            Creator::Stdlib => None,
        };
        let interpreter = find_interpreter(request)?;
        if creator == Creator::Stdlib {
            check_stdlib_venv(&interpreter)?;
        }
        let tools = deps::Tools {
            uv: which_uv(),
            poetry: python::which(request.vars, "poetry"),
            pdm: python::which(request.vars, "pdm"),
        };
        Ok(Box::new(VenvBuilder {
            interpreter,
            uv,
            tools,
            requires: request.requires.clone(),
            pip: request.config.venv.pip != Some(false),
            prompt: request.env_name.to_owned(),
            requested: request.python.clone(),
        }))
    }

    fn inspect(&self, env_dir: &Path) -> Inspection {
        inspect(env_dir)
    }

    fn installed_python(&self, env_dir: &Path) -> Option<String> {
        let cfg = read_pyvenv_cfg(&self.marker(env_dir))?;
        let version = cfg_get(&cfg, "version").or_else(|| cfg_get(&cfg, "version_info"))?;
        Some(version.splitn(4, '.').take(3).collect::<Vec<_>>().join("."))
    }

    fn spec_files(&self, root: &Path, sources: &Sources) -> Vec<String> {
        let declared = self.declared(root, sources).ok().flatten();
        declared
            .map(|d| d.files())
            .unwrap_or_default()
            .into_iter()
            .filter(|f| root.join(f).is_file())
            .map(|f| f.to_string_lossy().into_owned())
            .collect()
    }
}

/// Finds the interpreter, offering on a terminal to install a missing one.
fn find_interpreter(request: &BuildRequest) -> Result<Interpreter, Error> {
    let version = request.python.as_ref().map(|(v, _)| *v);
    let vars = request.vars;
    let requires = request.requires.as_ref();
    let not_found = match python::find(vars, version, requires) {
        Ok(interpreter) => return Ok(interpreter),
        Err(not_found) => not_found,
    };
    let mut wanted = match &request.python {
        Some((version, source)) => format!("Python {version} (requested by {source})"),
        None if requires.is_some() => "Python".to_owned(),
        None => "a default `python3`".to_owned(),
    };
    if let Some(requires) = requires {
        wanted.push_str(&format!(
            " allowed by requires-python `{requires}` in pyproject.toml"
        ));
    }
    let commands = not_found.install_commands(vars);
    let mut message = format!("no interpreter found for {wanted}. Tried:\n");
    for line in &not_found.tried {
        message.push_str(&format!("  {line}\n"));
    }
    if let Some((note, _)) = not_found.unknown_version(vars) {
        message.push_str(&format!("and {note}\n"));
    }
    if commands.is_empty() {
        message.push_str("ask for a version that exists, for example `--python-version 3.12`");
        return Err(user(message));
    }
    message.push_str("Install it with one of:\n");
    for (_, command) in &commands {
        message.push_str(&format!("  {}\n", command.join(" ")));
    }
    message.push_str("then run `pyve init` again");
    let present = commands
        .iter()
        .find(|(tool, _)| python::which(vars, tool).is_some());
    let Some((_, command)) = present.filter(|_| request.interactive || request.yes) else {
        return Err(user(message));
    };
    info!("{message}");
    let line = command.join(" ");
    if !ask::confirm(&format!("Run `{line}` now?"), request.yes) {
        return Err(user("no interpreter; nothing was changed"));
    }
    match Command::new(&command[0]).args(&command[1..]).status() {
        Ok(status) if status.success() => python::find(vars, version, requires).map_err(|_| {
            user(format!(
                "`{line}` succeeded, but pyve still finds no {wanted}"
            ))
        }),
        _ => Err(user(format!("`{line}` failed; nothing was changed"))),
    }
}

/// The standard library's venv needs `ensurepip` to give the environment its
/// own pip, which Debian ships separately.
fn check_stdlib_venv(interpreter: &Interpreter) -> Result<(), Error> {
    let ok = Command::new(&interpreter.executable)
        .args(["-I", "-c", "import venv, ensurepip"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Ok(());
    }
    let Version(major, minor, _) = interpreter.version;
    Err(user(format!(
        "{} cannot create virtual environments with pip (its `venv` or `ensurepip` module is missing)",
        interpreter.executable.display()
    ))
    .with_hint(format!(
        "install it (on Debian and Ubuntu: `apt install python{major}.{minor}-venv`) or install uv"
    )))
}

struct VenvBuilder {
    interpreter: Interpreter,
    /// `uv venv` when set, the standard library's `venv` otherwise.
    uv: Option<PathBuf>,
    /// The installers for the project's dependencies (uv even when the
    /// environment is built by the standard library).
    tools: deps::Tools,
    requires: Option<python::Requires>,
    /// pip in an environment uv builds (`venv.pip`).
    pip: bool,
    prompt: String,
    requested: Option<(VersionRequest, Source)>,
}

impl Builder for VenvBuilder {
    fn describe(&self) -> String {
        let why = match (&self.requested, &self.requires) {
            (Some((request, source)), _) => format!("; {source} asks for {request}"),
            (None, Some(requires)) => {
                format!("; the newest installed that requires-python `{requires}` allows")
            }
            (None, None) => String::new(),
        };
        format!(
            "Python {} ({}, {}) with {}{why}",
            self.interpreter.version,
            self.interpreter.found_in,
            self.interpreter.executable.display(),
            if self.uv.is_some() {
                "uv"
            } else {
                "the standard library's venv"
            }
        )
    }

    fn accepts(&self, existing: &Inspection) -> Result<(), String> {
        let Some(version) = existing.runs else {
            return Err("its Python does not run".to_owned());
        };
        if let Some(bad) = existing.findings.iter().find(|f| f.is_error()) {
            return Err(bad.message.clone());
        }
        match (&self.requested, &self.requires) {
            (Some((request, source)), _) if !request.matches(&version) => Err(format!(
                "it has Python {version}, but {source} asks for {request}"
            )),
            (_, Some(requires)) if !requires.matches(&version) => Err(format!(
                "it has Python {version}, but pyproject.toml's requires-python is `{requires}`"
            )),
            _ => Ok(()),
        }
    }

    fn build(&self, dir: &Path) -> Result<(), Error> {
        if self.uv.is_some() {
            self.with_pip(dir, |dir, seed| self.uv_venv(dir, seed))?;
        } else {
            // Joined to its option, so a name starting with `-` stays a value.
            let mut command = Command::new(&self.interpreter.executable);
            command
                .args(["-m", "venv"])
                .arg(format!("--prompt={}", self.prompt))
                .arg(dir)
                // Bytecode compiled here would name the temporary path in
                // tracebacks; Python compiles it at first import instead.
                .env("PIP_NO_COMPILE", "1")
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
                .env_remove("VIRTUAL_ENV")
                .env_remove("PYTHONHOME");
            process::run(&mut command, "creating the environment")?;
        }
        if !dir.join("pyvenv.cfg").is_file() {
            return Err(user(format!(
                "creating the environment: {} has no pyvenv.cfg afterwards",
                dir.display()
            )));
        }
        Ok(())
    }

    fn build_with(
        &self,
        dir: &Path,
        root: &Path,
        declared: Option<&Declared>,
    ) -> Result<(), Error> {
        let (Some(declared), Some(uv)) = (declared, &self.uv) else {
            self.build(dir)?;
            return match declared {
                Some(declared) => self.install(dir, root, declared),
                None => Ok(()),
            };
        };
        if declared.kind != deps::Kind::UvLock {
            self.build(dir)?;
            return self.install(dir, root, declared);
        }
        // One `uv sync` makes the environment and installs the lock: uv
        // starts once and runs no new interpreter to learn what it is, which
        // is most of what a build costs. For pip, `uv venv --seed` over it
        // adds pip (marked `seed = true`, which `uv sync` keeps) and pyve's
        // prompt; without pip that second uv is not worth its time, and
        // `bin/activate` shows uv's prompt, the project's name.
        let create = |dir: &Path, seed: bool| {
            deps::create_from_lock(declared, root, dir, uv, &self.interpreter.executable)?;
            if seed {
                self.uv_venv(dir, true)
            } else {
                Ok(())
            }
        };
        self.with_pip(dir, create)?;
        if !dir.join("pyvenv.cfg").is_file() {
            return Err(user(format!(
                "creating the environment: {} has no pyvenv.cfg afterwards",
                dir.display()
            )));
        }
        deps::write_record(dir, root, declared)
    }

    fn install(&self, dir: &Path, root: &Path, declared: &Declared) -> Result<(), Error> {
        deps::install(declared, root, dir, &self.tools, deps::Mode::Frozen)?;
        deps::write_record(dir, root, declared)
    }

    fn finish(&self, dir: &Path, final_dir: &Path) -> Result<(), Error> {
        relocate(dir, final_dir)
    }
}

impl VenvBuilder {
    /// Creates the environment at `dir` with `create`, with pip (`seed`)
    /// unless `venv.pip: false`. Seeding fetches pip: offline without it
    /// in uv's cache, an environment without pip beats none, so a failed
    /// build starts again from nothing (it may have stopped half-way)
    /// without pip, and init says why.
    fn with_pip(
        &self,
        dir: &Path,
        create: impl Fn(&Path, bool) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let Err(why) = create(dir, self.pip) else {
            return Ok(());
        };
        if !self.pip {
            return Err(why);
        }
        let _ = std::fs::remove_dir_all(dir);
        create(dir, false)?;
        warn!(
            "the environment has no pip: uv could not add it ({}); `uv pip install pip` adds it \
             later",
            why.message().lines().last().unwrap_or("").trim()
        );
        Ok(())
    }

    /// `uv venv` at `dir`, over what is there (`--allow-existing`): the
    /// interpreter, pyve's prompt, and with `seed`, pip.
    fn uv_venv(&self, dir: &Path, seed: bool) -> Result<(), Error> {
        let Some(uv) = &self.uv else {
            return Ok(());
        };
        let mut command = Command::new(uv);
        command.args(["venv", "--no-config", "--allow-existing"]);
        if !crate::ui::verbose() {
            command.arg("--quiet");
        }
        if seed {
            // pip in the environment, so `pip install` at its prompt
            // installs into it, as in a stdlib venv.
            command.arg("--seed");
        }
        command
            .arg("--python")
            .arg(&self.interpreter.executable)
            // Joined to its option, so a name starting with `-` stays a value.
            .arg(format!("--prompt={}", self.prompt))
            .arg(dir)
            // The interpreter was chosen; uv must not fetch another.
            .env("UV_PYTHON_DOWNLOADS", "never")
            .env_remove("VIRTUAL_ENV")
            .env_remove("PYTHONHOME");
        process::run(&mut command, "creating the environment")
    }
}

/// Files that name the environment's own path: scripts' shebangs, the
/// activate scripts, the `command` line of `pyvenv.cfg`. Everything else in
/// a venv is path-independent, so rewriting these makes the build valid at
/// its final place before it moves there.
fn relocate(dir: &Path, final_dir: &Path) -> Result<(), Error> {
    let from = dir.as_os_str().as_bytes();
    let to = final_dir.as_os_str().as_bytes();
    let mut candidates = vec![dir.join("pyvenv.cfg")];
    if let Ok(entries) = std::fs::read_dir(dir.join("bin")) {
        candidates.extend(entries.flatten().map(|e| e.path()));
    }
    for path in candidates {
        // Scripts and the config only: a link is not followed.
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let Ok(bytes) = files::read_bounded(&path, MAX_CFG_BYTES) else {
            continue;
        };
        if !bytes.windows(from.len()).any(|w| w == from) {
            continue;
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut rest = bytes.as_slice();
        while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(to);
            rest = &rest[at + from.len()..];
        }
        out.extend_from_slice(rest);
        // Rewritten in place: the file keeps its inode and permissions.
        std::fs::write(&path, out)
            .map_err(|e| user(format!("cannot update {}: {e}", shown(&path))))?;
    }
    Ok(())
}

/// `key = value` lines of `pyvenv.cfg`, keys lowercased.
fn read_pyvenv_cfg(path: &Path) -> Option<Vec<(String, String)>> {
    let bytes = files::read_bounded(path, MAX_CFG_BYTES).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    Some(
        text.lines()
            .filter_map(|line| {
                let (key, value) = line.split_once('=')?;
                Some((key.trim().to_lowercase(), value.trim().to_owned()))
            })
            .collect(),
    )
}

fn cfg_get<'a>(cfg: &'a [(String, String)], key: &str) -> Option<&'a str> {
    cfg.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}
