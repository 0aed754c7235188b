//! Inspecting a venv for `doctor` and `init`: it exists, its base
//! interpreter is there, its Python runs as this environment, and its
//! scripts name this place (a moved or copied venv does not).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{cfg_get, read_pyvenv_cfg, MAX_CFG_BYTES};
use crate::backend::Inspection;
use crate::files;
use crate::health::Finding;
use crate::python::Version;

pub fn inspect(env_dir: &Path) -> Inspection {
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
