//! doctor's checks of a project, in the order a user would fix them: its
//! files, its config, its environments, the approval, what the backend
//! needs, the environment itself and its Python, then the shell hook and
//! direnv.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::backend::Diagnosis;
use crate::config::{self, Config, Source, UserConfig};
use crate::engine::state::{self, Applied};
use crate::files::block;
use crate::health::Finding;
use crate::project::{self, registry, Resolved};
use crate::python::{self, VersionRequest};
use crate::trust::{self, Store, Verdict};
use crate::vars::{self, Vars};
use crate::{files, layout, text};

/// Everything doctor says about the project at `root`.
pub fn project(vars: &dyn Vars, root: &Path, source: Source) -> Vec<Finding> {
    let mut findings = Vec::new();
    let user = user_config(vars, &mut findings);
    let defaults = user.as_ref().map(|u| &u.config);
    let Some((config, resolved)) = config_and_environment(root, source, defaults, &mut findings)
    else {
        return findings;
    };
    if config.is_named() {
        findings.extend(environments(root, &config));
    }
    let trust = trust(vars, root, &resolved);
    // Inspecting runs the environment's Python: nothing of a project the
    // user has not approved runs, not even to diagnose it.
    let approved = trust.status == crate::health::Status::Ok;
    findings.push(trust);
    findings.extend(resolved.backend.diagnose(&Diagnosis {
        root,
        env_dir: &resolved.env_dir,
        sources: &resolved.sources,
        project_tools: vars::trust_all(vars) || Store::new(vars).approved_once(root),
        vars,
    }));
    if !approved && resolved.marker().exists() {
        findings.push(Finding::warning(
            "environment",
            format!(
                "{} not inspected: pyve runs nothing of a project you have not approved",
                resolved.env_dir.display()
            ),
            "review the project, then `pyve allow` and `pyve doctor` again",
        ));
    } else {
        findings.extend(environment(root, &resolved));
    }
    findings.push(hook(vars, root, approved));
    findings.push(direnv(vars, root, config.direnv));
    findings.extend(python_pins(root, &resolved));
    if approved {
        findings.extend(dependencies(root, &resolved));
    }
    findings
}

/// The version the config asks for, the pin file and `requires-python`
/// agree (uv reads all of them and replaces an environment that does not).
fn python_pins(root: &Path, resolved: &Resolved) -> Option<Finding> {
    if !resolved.backend.follows_python_version() {
        return None;
    }
    let pin = python::find_pin(root);
    let requires = crate::pyproject::read(root).map(|p| {
        p.and_then(|p| p.requires_python)
            .and_then(|t| python::Requires::parse(&t).ok())
    });
    let asked = resolved
        .python
        .map(|v| (v, python::Source::Config(layout::config(root))));
    let checked = match (pin, requires) {
        (Ok(pin), Ok(requires)) => python::agree(asked.as_ref(), pin.as_ref(), requires.as_ref()),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    Some(match checked {
        Ok(()) => Finding::ok(
            "pins",
            "the Python version asked for, the pin and requires-python agree",
        ),
        Err(e) => Finding::error("pins", e.message(), e.hint().unwrap_or("")),
    })
}

/// Whether the environment is in step with the declared dependencies.
fn dependencies(root: &Path, resolved: &Resolved) -> Option<Finding> {
    let declared = match resolved.backend.declared(root, &resolved.sources) {
        Ok(declared) => declared?,
        Err(e) => {
            return Some(Finding::error(
                "dependencies",
                e.message(),
                e.hint().unwrap_or(""),
            ))
        }
    };
    if !resolved.marker().exists() {
        return None;
    }
    Some(match crate::deps::stale(&resolved.env_dir) {
        Some(stale) => Finding::warning(
            "dependencies",
            format!(
                "{} changed since the environment was last synced",
                crate::project::build::list(&stale.files)
            ),
            "pyve sync",
        ),
        None => Finding::ok(
            "dependencies",
            format!("declared in {}", crate::project::build::describe(&declared)),
        ),
    })
}

/// The project's files and config, and the environment it selects; None
/// (with the findings that say why) when doctor can go no further.
fn config_and_environment(
    root: &Path,
    source: Source,
    user: Option<&UserConfig>,
    findings: &mut Vec<Finding>,
) -> Option<(Config, Resolved)> {
    let config_path = source.file(root);
    if let Err(refused) = trust::check_project_files(root, source) {
        findings.push(Finding::error(
            "trust",
            format!(
                "{}; pyve does not read this project's config",
                refused.message()
            ),
            "make the files yours and not writable by others (`chown`, `chmod go-w`)",
        ));
        return None;
    }
    let loaded = match config::source::load_from(root, source) {
        Ok(loaded) => loaded,
        Err(error) => {
            findings.push(Finding::error(
                "config",
                error.to_string(),
                format!("fix {} (see docs/configuration.md)", config_path.display()),
            ));
            return None;
        }
    };
    let config = loaded.config.with_user_defaults(user);
    let mut resolved = match project::resolve(root, &config) {
        Ok(resolved) => resolved,
        Err(error) => {
            let fix = if config.is_named() {
                "pyve activate NAME (pyve envs lists them)"
            } else {
                "set micromamba.env_name in .pyve/config, or run `pyve init --env-name NAME`"
            };
            findings.push(Finding::error("config", error.to_string(), fix));
            if config.is_named() {
                findings.extend(environments(root, &config));
            }
            return None;
        }
    };
    resolved.source = source;
    findings.push(Finding::ok(
        "config",
        format!(
            "{} ({}) parses; backend {}, environment {}",
            config_path.display(),
            source.describe(),
            resolved.backend.name(),
            resolved.env_dir.display()
        ),
    ));
    findings.extend(unused_pyproject_table(root, source));
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
        return None;
    }
    findings.extend(variables(&mut resolved));
    Some((config, resolved))
}

/// `[tool.pyve]` in pyproject.toml beside `.pyve/config`, which wins.
fn unused_pyproject_table(root: &Path, source: Source) -> Option<Finding> {
    let pyproject = root.join(config::source::PYPROJECT);
    let bytes = files::read_bounded(&pyproject, crate::pyproject::MAX_BYTES).ok()?;
    (source == Source::Pyve && config::source::has_pyve_table(&bytes)).then(|| {
        Finding::warning(
            "config",
            format!(
                "{} has a [tool.pyve] table too, which is not used: .pyve/config wins",
                pyproject.display()
            ),
            "keep pyve's settings in one place: remove [tool.pyve], or .pyve/config",
        )
    })
}

/// The user's config: what it changes, and whether it reads.
fn user_config(vars: &dyn Vars, findings: &mut Vec<Finding>) -> Option<config::user::User> {
    let path = config::user::path(vars)?;
    match config::user::load(vars) {
        Ok(None) => None,
        Ok(Some(user)) => {
            for warning in &user.warnings {
                findings.push(Finding::warning(
                    "user config",
                    warning.clone(),
                    format!("remove the key from {}", path.display()),
                ));
            }
            findings.push(user_config_summary(&user));
            Some(user)
        }
        Err(error) => {
            findings.push(Finding::error(
                "user config",
                format!("{error}; none of its settings are used"),
                format!("fix {} (see docs/configuration.md)", path.display()),
            ));
            None
        }
    }
}

fn user_config_summary(user: &config::user::User) -> Finding {
    let config = &user.config;
    let mut said = vec![if config.zero_config() {
        "zero-config projects recognised".to_owned()
    } else {
        "zero-config projects not recognised".to_owned()
    }];
    for prefix in &config.trusted_paths {
        said.push(match trust::honoured_prefix(prefix) {
            Ok(_) => format!("projects under {} trusted", prefix.display()),
            Err(why) => format!("{} not trusted: {}", prefix.display(), why.message()),
        });
    }
    if let Some(format) = &config.prompt.format {
        said.push(format!("prompt format {format:?}"));
    }
    let refused = config
        .trusted_paths
        .iter()
        .find_map(|p| trust::honoured_prefix(p).err());
    let message = format!("{}: {}", user.path.display(), said.join("; "));
    match refused {
        Some(why) => Finding::warning("user config", message, why.fix),
        None => Finding::ok("user config", message),
    }
}

/// The project's own variables: whether its dotenv files read (the hook
/// activates nothing while one does not), and what it sets.
fn variables(resolved: &mut Resolved) -> Option<Finding> {
    if resolved.variables.is_empty() && resolved.dotenv.is_empty() {
        return None;
    }
    if let Err(error) = resolved.read_dotenv(true) {
        let fix = error
            .hint
            .clone()
            .unwrap_or_else(|| "fix the file".to_owned());
        let message = format!(
            "{}; the hook does not activate the project",
            error.located()
        );
        return Some(Finding::error("variables", message, fix));
    }
    let missing: Vec<String> = resolved
        .dotenv
        .iter()
        .filter(|f| !f.exists())
        .map(|f| format!("{} is not there", f.display()))
        .collect();
    let names: Vec<&str> = resolved.variables.iter().map(|(n, _)| n.as_str()).collect();
    let mut message = format!("sets {}", names.join(", "));
    if names.is_empty() {
        message = "sets no variables".to_owned();
    }
    if !missing.is_empty() {
        message.push_str(&format!(" ({}: it sets nothing)", missing.join(", ")));
    }
    Some(Finding::ok("variables", message))
}

/// Whether the hook may activate the project, as `trust::decide` says.
fn trust(vars: &dyn Vars, root: &Path, resolved: &Resolved) -> Finding {
    let verdict = crate::cmd::verdict(vars, root, resolved);
    if let Verdict::NotYours(refused) = &verdict {
        return Finding::error(
            "trust",
            format!("{}; the hook does not activate it", refused.message()),
            format!("{}, or `pyve init --force`", refused.fix),
        );
    }
    let summary = verdict.summary_for(resolved.source);
    if verdict.is_trusted() {
        Finding::ok(
            "trust",
            format!("{summary}: this config and this environment"),
        )
    } else if vars::trust_all(vars) {
        Finding::warning(
            "trust",
            format!(
                "{summary}; the hook does not activate it, and {}=1 lets `pyve run` and `pyve export` through",
                vars::TRUST_ALL
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

/// The environment itself, by running it, and its Python against what
/// the project asks for.
fn environment(root: &Path, resolved: &Resolved) -> Vec<Finding> {
    let inspection = resolved.backend.inspect(&resolved.env_dir);
    let runs = inspection
        .runs
        .filter(|_| resolved.backend.follows_python_version());
    let mut findings = inspection.findings;
    let Some(version) = runs else {
        return findings;
    };
    findings.push(match requested_version(root, resolved) {
        Ok(Some((request, source))) if !request.matches(&version) => Finding::error(
            "version",
            format!("the environment has Python {version}, but {source} asks for {request}"),
            "pyve init",
        ),
        Ok(Some((request, source))) => Finding::ok(
            "version",
            format!("Python {version} matches {request} from {source}"),
        ),
        Ok(None) => Finding::ok("version", format!("Python {version}; no version is pinned")),
        Err(error) => Finding::error("version", error.to_string(), "fix the pin file"),
    });
    findings
}

/// Named environments: whether the registry (what was built) agrees with
/// the config (what should exist).
fn environments(root: &Path, config: &Config) -> Vec<Finding> {
    let mut findings = Vec::new();
    let registry = registry::read(root).unwrap_or_else(|why| {
        findings.push(Finding::error(
            "registry",
            why.to_string(),
            format!(
                "remove {} and run `pyve init --env NAME` for each environment",
                layout::REGISTRY
            ),
        ));
        Default::default()
    });
    let mut disagreements = Vec::new();
    let mut fixes = Vec::new();
    for resolved in project::all_envs(root, config).unwrap_or_default() {
        let Some(name) = resolved.named.clone() else {
            continue;
        };
        let exists = resolved.marker().exists();
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
    findings.push(if disagreements.is_empty() {
        Finding::ok(
            "registry",
            format!(
                "the registry agrees with .pyve/config ({} environments)",
                config.environments.0.len()
            ),
        )
    } else {
        Finding::warning("registry", disagreements.join("; "), fixes.join("; "))
    });
    findings
}

fn requested_version(
    root: &Path,
    resolved: &Resolved,
) -> Result<Option<(VersionRequest, String)>, crate::error::Error> {
    if let Some(request) = resolved.python {
        return Ok(Some((
            request,
            "the Python version in .pyve/config".to_owned(),
        )));
    }
    Ok(python::find_pin(root)?
        .map(|(request, file)| (request, format!("the pin in {}", file.display()))))
}

/// The hook leaves `PYVE_STATE` in the environment of the shell it runs
/// in; doctor, started from that shell, sees it. In a project the hook may
/// not activate, no state is the approval's doing, not a missing hook.
fn hook(vars: &dyn Vars, root: &Path, approved: bool) -> Finding {
    match state::applied(vars) {
        Applied::Nothing if !approved => Finding::warning(
            "hook",
            "not applied in the calling shell: the hook leaves a project alone until you approve it (see `trust` above)",
            "review .pyve/config (and what changed), then `pyve allow`; the next prompt applies it",
        ),
        Applied::Project(project) if project == root => Finding::ok(
            "hook",
            "the shell hook has applied this project in the calling shell",
        ),
        Applied::Project(project) => Finding::warning(
            "hook",
            format!(
                "the calling shell has {} applied, not this project; the hook applies a project at the next prompt inside it",
                text::shown(&project)
            ),
            "press Enter at a prompt inside the project, then run pyve doctor again",
        ),
        Applied::Undone(project) => Finding::warning(
            "hook",
            format!(
                "the calling shell's PYVE_STATE says {} is applied, but PATH or its variables changed since, so its `python` may not be the environment's",
                text::shown(&project)
            ),
            "leave the project and enter it again (`cd .. && cd -`) to apply it again; if a startup file sets PATH, put that line above the hook",
        ),
        Applied::NoKey(problem) => Finding::warning(
            "hook",
            format!(
                "the hook cannot check the calling shell's PYVE_STATE, so it changes nothing: its key {}",
                problem.message()
            ),
            problem.fix,
        ),
        Applied::Unsealed => Finding::warning(
            "hook",
            "the calling shell's PYVE_STATE was not written by this pyve for you, so the hook does not act on it",
            "open a new terminal, or unset PYVE_STATE and leave and re-enter the project",
        ),
        Applied::Nothing if vars::hook_installed(vars) => Finding::warning(
            "hook",
            format!(
                "the calling shell runs the hook ({} names it), but it has applied nothing: it applies a project whose environment exists, at a prompt inside it",
                vars::HOOK
            ),
            "build the environment if it is missing (`pyve init`), then press Enter at a prompt inside the project",
        ),
        Applied::Nothing => Finding::warning(
            "hook",
            "the shell hook is not active in the calling shell (no PYVE_STATE)",
            crate::cmd::hook_advice(vars),
        ),
    }
}

fn direnv(vars: &dyn Vars, root: &Path, wanted: Option<bool>) -> Finding {
    let envrc = root.join(".envrc");
    let has_block = block::file_has_block(&envrc);
    if wanted == Some(false) && !has_block {
        return Finding::ok("direnv", "not used (`direnv: false` in .pyve/config)");
    }
    let Some(direnv) = python::which(vars, "direnv") else {
        return Finding::ok(
            "direnv",
            if has_block {
                "direnv is not installed; .envrc is ready for it"
            } else {
                "direnv is not installed"
            },
        );
    };
    let layout = files::read_optional(&envrc)
        .ok()
        .flatten()
        .and_then(|bytes| {
            let own = match block::without_block(&envrc, &bytes) {
                Ok(Some(rest)) => rest,
                _ => bytes,
            };
            crate::shell::direnv::python_layout(&String::from_utf8_lossy(&own))
        });
    if let Some((line, text)) = layout {
        return Finding::warning(
            "direnv",
            format!(
                "{}:{line}: `{text}` activates a Python environment of its own{}",
                envrc.display(),
                if has_block {
                    ", beside pyve's block: two environments are on PATH"
                } else {
                    ""
                }
            ),
            "remove that line and run `pyve init --direnv`, or set `direnv: false` to keep .envrc yours",
        );
    }
    if !has_block {
        // Not a problem: the hook or `pyve run` may be how this project is
        // used; the hook's own finding says whether anything activates it.
        return Finding::ok(
            "direnv",
            "not used for this project: .envrc has no pyve block (`pyve init --direnv` adds it)",
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
