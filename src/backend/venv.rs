//! The `venv` backend: a standard virtual environment (stdlib `venv`, uv,
//! virtualenv), activated the way CPython's `bin/activate` does, built with
//! `uv venv` or `python -m venv`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Activation, Backend, Before, BuildRequest, Builder, InitName, Inspection, Sources};
use crate::config::{names, BackendKind, Config, Creator};
use crate::error::{user, Error};
use crate::files;
use crate::health::Finding;
use crate::python::{self, Interpreter, Source, Version, VersionRequest};
use crate::text::shown;
use crate::{ask, process};

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

    fn activation(&self, env_dir: &Path, _env_name: &[u8], _before: Before) -> Activation {
        Activation {
            path_prepend: vec![env_dir.join("bin").as_os_str().as_bytes().to_vec()],
            set: vec![(
                "VIRTUAL_ENV".to_owned(),
                env_dir.as_os_str().as_bytes().to_vec(),
            )],
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
        Ok(Box::new(VenvBuilder {
            interpreter,
            uv,
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
        sources
            .requirements
            .clone()
            .unwrap_or_else(|| vec![PathBuf::from("requirements.txt")])
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
    let not_found = match python::find(vars, version) {
        Ok(interpreter) => return Ok(interpreter),
        Err(not_found) => not_found,
    };
    let wanted = match &request.python {
        Some((version, source)) => format!("Python {version} (requested by {source})"),
        None => "a default `python3`".to_owned(),
    };
    let commands = not_found.install_commands(vars);
    let mut message = format!("no interpreter found for {wanted}. Tried:\n");
    for line in &not_found.tried {
        message.push_str(&format!("  {line}\n"));
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
        Ok(status) if status.success() => python::find(vars, version).map_err(|_| {
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
    prompt: String,
    requested: Option<(VersionRequest, Source)>,
}

impl Builder for VenvBuilder {
    fn describe(&self) -> String {
        format!(
            "Python {} ({}, {}) with {}",
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
        match &self.requested {
            Some((request, source)) if !request.matches(&version) => Err(format!(
                "it has Python {version}, but {source} asks for {request}"
            )),
            _ => Ok(()),
        }
    }

    fn build(&self, dir: &Path) -> Result<(), Error> {
        // Joined to its option, so a name starting with `-` stays a value.
        let prompt = format!("--prompt={}", self.prompt);
        let mut command = match &self.uv {
            Some(uv) => {
                let mut command = Command::new(uv);
                command.args(["venv", "--no-config"]);
                if !crate::ui::verbose() {
                    command.arg("--quiet");
                }
                command
                    .arg("--python")
                    .arg(&self.interpreter.executable)
                    .arg(&prompt)
                    .arg(dir)
                    // The interpreter was chosen; uv must not fetch another.
                    .env("UV_PYTHON_DOWNLOADS", "never");
                command
            }
            None => {
                let mut command = Command::new(&self.interpreter.executable);
                command
                    .args(["-m", "venv"])
                    .arg(&prompt)
                    .arg(dir)
                    // Bytecode compiled here would name the temporary path in
                    // tracebacks; Python compiles it at first import instead.
                    .env("PIP_NO_COMPILE", "1")
                    .env("PYTHONDONTWRITEBYTECODE", "1")
                    .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
                command
            }
        };
        command.env_remove("VIRTUAL_ENV").env_remove("PYTHONHOME");
        process::run(&mut command, "creating the environment")?;
        if !dir.join("pyvenv.cfg").is_file() {
            return Err(user(format!(
                "creating the environment: {} has no pyvenv.cfg afterwards",
                dir.display()
            )));
        }
        Ok(())
    }

    fn install(&self, dir: &Path, root: &Path, requirements: &[PathBuf]) -> Result<(), Error> {
        let python = dir.join("bin/python");
        let mut command = match &self.uv {
            Some(uv) => {
                let mut command = Command::new(uv);
                command
                    .args(["pip", "install", "--no-config", "--python"])
                    .arg(&python)
                    .env("UV_PYTHON_DOWNLOADS", "never");
                command
            }
            None => {
                let mut command = Command::new(&python);
                command
                    .args(["-m", "pip", "install", "--no-input"])
                    .env("PIP_NO_COMPILE", "1")
                    .env("PYTHONDONTWRITEBYTECODE", "1")
                    .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
                command
            }
        };
        for file in requirements {
            command.arg("-r").arg(file);
        }
        command
            .current_dir(root)
            .env_remove("VIRTUAL_ENV")
            .env_remove("PYTHONHOME");
        process::run(&mut command, "installing the requirements")
    }

    fn finish(&self, dir: &Path, final_dir: &Path) -> Result<(), Error> {
        relocate(dir, final_dir)
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

fn inspect(env_dir: &Path) -> Inspection {
    let mut inspection = Inspection::default();
    let fix = "pyve init --force";
    let cfg_path = env_dir.join("pyvenv.cfg");
    let Some(cfg) = read_pyvenv_cfg(&cfg_path) else {
        inspection.findings.push(Finding::error(
            "environment",
            format!("no environment at {} (no pyvenv.cfg)", env_dir.display()),
            "pyve init",
        ));
        return inspection;
    };
    inspection.exists = true;
    inspection.findings.push(Finding::ok(
        "environment",
        format!("{} exists", env_dir.display()),
    ));

    // The base interpreter the environment's `python` links to.
    match cfg_get(&cfg, "home") {
        Some(home) if has_python(Path::new(home)) => inspection.findings.push(Finding::ok(
            "interpreter",
            format!("base interpreter in {home}"),
        )),
        Some(home) => inspection.findings.push(Finding::error(
            "interpreter",
            format!("the base interpreter is gone: pyvenv.cfg says `home = {home}`, which holds no python"),
            fix,
        )),
        None => inspection.findings.push(Finding::error(
            "interpreter",
            format!("{} has no `home` line", cfg_path.display()),
            fix,
        )),
    }

    let recorded = cfg_get(&cfg, "version")
        .or_else(|| cfg_get(&cfg, "version_info"))
        .and_then(Version::parse);
    match run_python(env_dir) {
        Ok((version, prefix)) => {
            inspection.runs = Some(version);
            inspection.findings.push(Finding::ok(
                "python",
                format!("bin/python runs Python {version}"),
            ));
            if let Some(recorded) = recorded.filter(|r| *r != version) {
                inspection.findings.push(Finding::warning(
                    "python",
                    format!(
                        "pyvenv.cfg records Python {recorded}, but the interpreter is now {version} \
                         (the base install was upgraded in place)"
                    ),
                    fix,
                ));
            }
            if !same_dir(&prefix, env_dir) {
                inspection.findings.push(Finding::error(
                    "python",
                    format!(
                        "bin/python runs with sys.prefix {}, not this environment",
                        prefix.display()
                    ),
                    fix,
                ));
            }
        }
        Err(why) => inspection.findings.push(Finding::error(
            "python",
            format!("bin/python does not run: {why}"),
            fix,
        )),
    }
    inspection.findings.push(check_location(env_dir));
    inspection
}

fn has_python(dir: &Path) -> bool {
    ["python3", "python"]
        .iter()
        .any(|name| dir.join(name).is_file())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn run_python(env_dir: &Path) -> Result<(Version, PathBuf), String> {
    let output = Command::new(env_dir.join("bin/python"))
        .args([
            "-c",
            "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.prefix)",
        ])
        .env_remove("PYTHONHOME")
        .env_remove("PYTHONPATH")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(stderr
            .lines()
            .last()
            .unwrap_or("it exited with an error")
            .to_owned());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let version = lines
        .next()
        .and_then(Version::parse)
        .ok_or("it printed no version")?;
    let prefix = PathBuf::from(lines.next().ok_or("it printed no prefix")?);
    Ok((version, prefix))
}

/// A moved or copied venv keeps a working `python`, but its scripts still
/// start the interpreter at the old path and `activate` still names it.
fn check_location(env_dir: &Path) -> Finding {
    let real_env = std::fs::canonicalize(env_dir).unwrap_or_else(|_| env_dir.to_owned());
    let bin = env_dir.join("bin");
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&bin)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for path in entries {
        let Some(named) = named_environment(&path) else {
            continue;
        };
        checked += 1;
        let real_named = std::fs::canonicalize(&named).unwrap_or_else(|_| named.clone());
        if real_named != real_env {
            let script = path.file_name().unwrap_or_default().to_string_lossy();
            let state = if named.exists() {
                "another environment"
            } else {
                "which no longer exists"
            };
            return Finding::error(
                "location",
                format!(
                    "bin/{script} refers to {} ({state}): this environment was moved or copied from there",
                    named.display()
                ),
                "pyve init --force",
            );
        }
    }
    Finding::ok(
        "location",
        format!("the files in bin/ that name an environment name this one ({checked} checked)"),
    )
}

/// The environment a script in `bin/` belongs to: from its shebang
/// (`#!/env/bin/python`, or pip's `/bin/sh` wrapper for long paths), or
/// from `VIRTUAL_ENV=` in an activate script.
fn named_environment(script: &Path) -> Option<PathBuf> {
    if !std::fs::symlink_metadata(script).ok()?.is_file() {
        return None;
    }
    let bytes = files::read_bounded(script, MAX_CFG_BYTES).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.lines();
    let first = lines.next()?;
    let interpreter = if let Some(shebang) = first.strip_prefix("#!") {
        let shebang = shebang.trim();
        if shebang == "/bin/sh" {
            // '''exec' "/env/bin/python" "$0" "$@"
            let second = lines.next()?;
            let rest = second.strip_prefix("'''exec' ")?;
            let quoted = rest.strip_prefix('"')?;
            Some(quoted[..quoted.find('"')?].to_owned())
        } else {
            shebang.split_whitespace().next().map(str::to_owned)
        }
    } else {
        None
    };
    if let Some(interpreter) = interpreter {
        let interpreter = PathBuf::from(interpreter);
        let is_python = interpreter
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("python"));
        if is_python && interpreter.parent()?.file_name()? == "bin" {
            return Some(interpreter.parent()?.parent()?.to_owned());
        }
        return None;
    }
    if script.file_name()? != "activate" {
        return None;
    }
    for line in text.lines() {
        let Some(at) = line.find("VIRTUAL_ENV=") else {
            continue;
        };
        let value = &line[at + "VIRTUAL_ENV=".len()..];
        let quote = value.chars().next()?;
        if quote != '"' && quote != '\'' {
            continue;
        }
        let inner = &value[1..];
        let end = inner.find(quote)?;
        if inner.starts_with('/') {
            return Some(PathBuf::from(&inner[..end]));
        }
    }
    None
}
