//! `pyve doctor`: every check that can explain why a project's environment
//! is not what the user expects, each with one command that fixes it.
//! Exit 0 with warnings at most, 1 with an error.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use crate::cli::DoctorArgs;
use crate::engine::state::{self, State};
use crate::error::{user, Error};
use crate::health::{Finding, Status};
use crate::json::string as json_string;
use crate::python::{self, VersionRequest};
use crate::{config, files, project, registry, trust};

pub fn run(args: DoctorArgs) -> Result<ExitCode, Error> {
    let cwd = super::current_dir()?;
    let mut findings = Vec::new();
    let root =
        project::find_root(&cwd).map(|(root, _)| std::fs::canonicalize(&root).unwrap_or(root));
    if let Some(root) = &root {
        check_project(root, &mut findings);
    } else {
        findings.push(Finding::error(
            "config",
            format!(
                "no pyve project in {} or above (no .pyve/config)",
                cwd.display()
            ),
            "pyve init",
        ));
    }
    let failed = findings.iter().any(Finding::is_error);
    let mut stdout = std::io::stdout().lock();
    let written = if args.json {
        stdout.write_all(json(root.as_deref(), &findings).as_bytes())
    } else {
        drop(stdout);
        report(&findings);
        Ok(())
    };
    written.map_err(|e| user(format!("cannot write the report: {e}")))?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn check_project(root: &Path, findings: &mut Vec<Finding>) {
    let config_path = project::config_path(root);
    if let Err(why) = trust::check_project_files(root) {
        findings.push(Finding::error(
            "trust",
            format!("{why}; pyve does not read this project's config"),
            "make the files yours and not writable by others (`chown`, `chmod go-w`)",
        ));
        return;
    }
    let loaded = match config::load(&config_path) {
        Ok(loaded) => loaded,
        Err(error) => {
            findings.push(Finding::error(
                "config",
                error.to_string(),
                format!("fix {} (see docs/configuration.md)", config_path.display()),
            ));
            return;
        }
    };
    let resolved = match project::resolve(root, &loaded.config) {
        Ok(resolved) => resolved,
        Err(error) => {
            let fix = if loaded.config.is_named() {
                "pyve activate NAME (pyve envs lists them)"
            } else {
                "set micromamba.env_name in .pyve/config, or run `pyve init --env-name NAME`"
            };
            findings.push(Finding::error("config", error.to_string(), fix));
            if loaded.config.is_named() {
                findings.extend(check_environments(root, &loaded.config));
            }
            return;
        }
    };
    findings.push(Finding::ok(
        "config",
        format!(
            "{} parses; backend {}, environment {}",
            config_path.display(),
            resolved.backend.name(),
            resolved.env_dir.display()
        ),
    ));
    for warning in &loaded.warnings {
        findings.push(Finding::warning(
            "config",
            warning.clone(),
            format!("remove the key from {}", config_path.display()),
        ));
    }
    if let Err(error) = project::check_env_dir(&resolved.env_dir) {
        findings.push(Finding::error(
            "environment",
            error.to_string(),
            "move the project to a path without ':'",
        ));
        return;
    }

    if loaded.config.is_named() {
        findings.extend(check_environments(root, &loaded.config));
    }
    let trust = check_trust(root, &resolved);
    // Inspecting runs the environment's Python: nothing of a project the
    // user has not approved runs, not even to diagnose it.
    let approved = trust.status == Status::Ok;
    findings.push(trust);
    findings.extend(
        resolved
            .backend
            .diagnose(root, &resolved.env_dir, &resolved.conda_spec),
    );
    if !approved && resolved.backend.marker(&resolved.env_dir).exists() {
        findings.push(Finding::warning(
            "environment",
            format!(
                "{} not inspected: pyve runs nothing of a project you have not approved",
                resolved.env_dir.display()
            ),
            "review the project, then `pyve allow` and `pyve doctor` again",
        ));
        findings.push(check_hook(root));
        findings.push(check_direnv(root, loaded.config.direnv));
        return;
    }
    let inspection = resolved.backend.inspect(&resolved.env_dir);
    let runs = inspection
        .runs
        .filter(|_| resolved.backend.name() == "venv");
    findings.extend(inspection.findings);
    if let Some(version) = runs {
        match requested_version(root, &resolved) {
            Ok(Some((request, source))) if !request.matches(&version) => {
                findings.push(Finding::error(
                    "version",
                    format!(
                        "the environment has Python {version}, but {source} asks for {request}"
                    ),
                    "pyve init",
                ))
            }
            Ok(Some((request, source))) => findings.push(Finding::ok(
                "version",
                format!("Python {version} matches {request} from {source}"),
            )),
            Ok(None) => findings.push(Finding::ok(
                "version",
                format!("Python {version}; no version is pinned"),
            )),
            Err(message) => findings.push(Finding::error("version", message, "fix the pin file")),
        }
    }

    findings.push(check_hook(root));
    findings.push(check_direnv(root, loaded.config.direnv));
}

/// Whether the hook may activate the project: the environment is the
/// user's own and the user approved the project as it is now.
fn check_trust(root: &Path, resolved: &project::Resolved) -> Finding {
    let env_dir = &resolved.env_dir;
    if resolved.backend.marker(env_dir).exists() {
        if let Err(why) = trust::check_environment(env_dir, &resolved.activation(root)) {
            return Finding::error(
                "trust",
                format!("{why}; the hook does not activate it"),
                "make the environment yours and not writable by others, or `pyve init --force`",
            );
        }
    }
    let verdict = super::verdict_of(root, resolved);
    let summary = verdict.summary();
    if verdict.is_trusted() {
        Finding::ok(
            "trust",
            format!("{summary}: this config and this environment"),
        )
    } else if trust::trust_all() {
        Finding::warning(
            "trust",
            format!(
                "{summary}; the hook does not activate it, and {}=1 lets `pyve run` and `pyve export` through",
                trust::TRUST_ALL_VAR
            ),
            "pyve allow",
        )
    } else {
        Finding::error(
            "trust",
            format!("{summary}; the hook does not activate it and `pyve run` refuses it"),
            "pyve allow",
        )
    }
}

/// Named environments: the pointer, and whether the registry (what was
/// built) agrees with the config (what should exist).
fn check_environments(root: &Path, config: &config::Config) -> Vec<Finding> {
    let mut findings = Vec::new();
    let registry = match registry::read(root) {
        Ok(registry) => registry,
        Err(why) => {
            findings.push(Finding::error(
                "registry",
                why,
                format!(
                    "remove {} and run `pyve init --env NAME` for each environment",
                    registry::RELATIVE
                ),
            ));
            Default::default()
        }
    };
    let mut disagreements = Vec::new();
    let mut fixes = Vec::new();
    for resolved in project::all_envs(root, config).unwrap_or_default() {
        let Some(name) = resolved.named.clone() else {
            continue;
        };
        let exists = resolved.backend.marker(&resolved.env_dir).exists();
        match registry.get(&name) {
            None if exists => {
                disagreements.push(format!(
                    "`{name}` exists at {} but is not in the registry",
                    resolved.env_dir.display()
                ));
                fixes.push(format!("pyve init --env {name}"));
            }
            Some(entry) if entry.backend != resolved.backend.name() => {
                disagreements.push(format!(
                    "`{name}` is {} in .pyve/config but was built with {}",
                    resolved.backend.name(),
                    entry.backend
                ));
                fixes.push(format!("pyve init --env {name} --force"));
            }
            Some(_) if !exists => {
                disagreements.push(format!(
                    "`{name}` is in the registry but {} is gone (its creation failed, or it was removed by hand)",
                    resolved.env_dir.display()
                ));
                fixes.push(format!("pyve init --env {name}"));
            }
            _ => {}
        }
    }
    for name in registry.keys() {
        if config.environments.get(name).is_none() {
            disagreements.push(format!(
                "the registry lists `{name}`, which .pyve/config does not define"
            ));
            fixes.push(format!("pyve purge --env {name}"));
        }
    }
    if disagreements.is_empty() {
        findings.push(Finding::ok(
            "registry",
            format!(
                "the registry agrees with .pyve/config ({} environments)",
                config.environments.0.len()
            ),
        ));
    } else {
        findings.push(Finding::warning(
            "registry",
            disagreements.join("; "),
            fixes.join("; "),
        ));
    }
    findings
}

fn requested_version(
    root: &Path,
    resolved: &project::Resolved,
) -> Result<Option<(VersionRequest, String)>, String> {
    if let Some(request) = resolved.python {
        return Ok(Some((
            request,
            "the Python version in .pyve/config".to_owned(),
        )));
    }
    Ok(python::find_pin(root)?
        .map(|(request, file)| (request, format!("the pin in {}", file.display()))))
}

/// The hook leaves `PYVE_STATE` in the environment of the shell it runs in;
/// doctor, started from that shell, sees it.
fn check_hook(root: &Path) -> Finding {
    let (hook, rc_file) = super::hook_setup();
    let fix = format!("add `{hook}` to {rc_file}");
    let state = std::env::var_os(state::VAR)
        .filter(|v| !v.is_empty())
        .and_then(|raw| State::decode(raw.as_bytes()).ok());
    match state {
        Some(state) if Path::new(OsStr::from_bytes(&state.facts.project)) == root => {
            Finding::ok("hook", "the shell hook has applied this project in the calling shell")
        }
        Some(state) => Finding::warning(
            "hook",
            format!(
                "the calling shell has {} applied, not this project; the hook applies a project at the next prompt inside it",
                String::from_utf8_lossy(&state.facts.project)
            ),
            "press Enter at a prompt inside the project, then run pyve doctor again",
        ),
        None => Finding::warning(
            "hook",
            "the shell hook is not active in the calling shell (no PYVE_STATE)",
            fix,
        ),
    }
}

fn check_direnv(root: &Path, wanted: Option<bool>) -> Finding {
    let envrc = root.join(".envrc");
    if wanted == Some(false) {
        return Finding::ok("direnv", "not used (`direnv: false` in .pyve/config)");
    }
    let has_block = files::read_optional(&envrc)
        .ok()
        .flatten()
        .is_some_and(|bytes| matches!(files::without_block(&envrc, &bytes), Ok(Some(_))));
    let Some(direnv) = python::which("direnv") else {
        return Finding::ok(
            "direnv",
            if has_block {
                "direnv is not installed; .envrc is ready for it"
            } else {
                "direnv is not installed"
            },
        );
    };
    if !has_block {
        return Finding::warning(
            "direnv",
            format!("{} has no pyve block", envrc.display()),
            "pyve init",
        );
    }
    let output = Command::new(direnv)
        .arg("status")
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let text = output
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let found = format!("Found RC path {}", envrc.display());
    let allowed = text
        .lines()
        .any(|l| l.trim() == "Found RC allowed true" || l.trim() == "Found RC allowed 0");
    if text.lines().any(|l| l.trim() == found) && allowed {
        Finding::ok("direnv", format!("{} is allowed", envrc.display()))
    } else {
        Finding::warning(
            "direnv",
            format!(
                "{} is not allowed, so direnv does not load it",
                envrc.display()
            ),
            format!("direnv allow {}", root.display()),
        )
    }
}

fn report(findings: &[Finding]) {
    let mut stderr = std::io::stderr().lock();
    for finding in findings {
        // Padded before it is painted, so the columns line up either way.
        let word = format!("{:<8}", finding.status.as_str());
        let word = match finding.status {
            Status::Ok => crate::ui::green(&word),
            Status::Warning => crate::ui::yellow(&word),
            Status::Error => crate::ui::red(&word),
        };
        let _ = writeln!(stderr, "{word} {:<12} {}", finding.check, finding.message);
        if let (Some(fix), true) = (&finding.fix, finding.status != Status::Ok) {
            let _ = writeln!(stderr, "{:<21} fix: {fix}", "");
        }
    }
    let errors = findings
        .iter()
        .filter(|f| f.status == Status::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.status == Status::Warning)
        .count();
    let _ = writeln!(stderr, "pyve: {errors} errors, {warnings} warnings");
}

/// One JSON object; written by hand to keep serde_json out of the binary.
fn json(root: Option<&Path>, findings: &[Finding]) -> String {
    let mut out = String::from("{\"project\":");
    match root {
        Some(root) => json_string(&mut out, &root.to_string_lossy()),
        None => out.push_str("null"),
    }
    let ok = !findings.iter().any(Finding::is_error);
    out.push_str(&format!(",\"ok\":{ok},\"checks\":["));
    for (i, finding) in findings.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"check\":");
        json_string(&mut out, finding.check);
        out.push_str(",\"status\":");
        json_string(&mut out, finding.status.as_str());
        out.push_str(",\"message\":");
        json_string(&mut out, &finding.message);
        out.push_str(",\"fix\":");
        match &finding.fix {
            Some(fix) if finding.status != Status::Ok => json_string(&mut out, fix),
            _ => out.push_str("null"),
        }
        out.push('}');
    }
    out.push_str("]}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_and_shapes() {
        let findings = vec![
            Finding::ok("config", "a \"b\"\n"),
            Finding::error("python", "c\\d\u{1}", "pyve init --force"),
        ];
        let text = json(Some(Path::new("/p")), &findings);
        assert_eq!(
            text,
            "{\"project\":\"/p\",\"ok\":false,\"checks\":[\
             {\"check\":\"config\",\"status\":\"ok\",\"message\":\"a \\\"b\\\"\\n\",\"fix\":null},\
             {\"check\":\"python\",\"status\":\"error\",\"message\":\"c\\\\d\\u0001\",\"fix\":\"pyve init --force\"}]}\n"
        );
    }
}
