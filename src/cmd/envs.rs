//! `pyve envs` / `pyve env list` and `pyve env info NAME`: what a project's
//! environments are, which is active and why, from the config, the
//! registry and the directories themselves. Nothing is run: listing a
//! project must be fast and safe even before it is approved.

use std::collections::{BTreeMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::Config;
use crate::error::Error;
use crate::json::{string as json_string, string_or_null as json_opt};
use crate::project::{self, registry, Resolved, Via};
use crate::text::{shown, timestamp};
use crate::vars;

/// A project's environments, as listings show them.
struct Listing {
    root: PathBuf,
    config: Config,
    envs: Vec<Resolved>,
    /// The active one's name, or why none is.
    active: Result<(String, Via), String>,
    registry: BTreeMap<String, registry::Entry>,
}

fn load() -> Result<Listing, Error> {
    let vars = vars::process();
    let (root, config) = super::load_config(vars)?;
    let envs = project::all_envs(&root, &config)?;
    let chosen = super::shell_choice(vars, &root);
    let selector = project::Selector::active_or_shell(chosen.as_deref());
    let active = project::resolve_env(&root, &config, selector)
        .map(|r| (String::from_utf8_lossy(&r.env_name).into_owned(), r.via))
        .map_err(|e| e.to_string());
    let registry = if config.is_named() {
        registry::read(&root)?
    } else {
        BTreeMap::new()
    };
    Ok(Listing {
        root,
        config,
        envs,
        active,
        registry,
    })
}

/// One environment's facts, gathered without running anything.
struct Facts {
    name: String,
    backend: &'static str,
    path: PathBuf,
    exists: bool,
    active: bool,
    python: Option<String>,
    /// The version the config asks for.
    asked: Option<String>,
    spec: Vec<String>,
    /// Whether the spec files changed since creation; None: not known.
    spec_changed: Option<bool>,
    created: Option<u64>,
}

impl Listing {
    fn facts(&self, resolved: &Resolved) -> Facts {
        let name = String::from_utf8_lossy(&resolved.env_name).into_owned();
        let exists = resolved.marker().exists();
        let recorded = resolved.named.as_ref().and_then(|n| self.registry.get(n));
        let python = exists
            .then(|| resolved.backend.installed_python(&resolved.env_dir))
            .flatten()
            .or_else(|| recorded.and_then(|r| r.python.clone()).filter(|_| exists));
        let spec = recorded.map(|r| r.spec.clone()).unwrap_or_default();
        let spec_changed = recorded
            .filter(|_| exists)
            .map(|r| registry::spec_digest(&self.root, &r.spec) != r.spec_sha256);
        Facts {
            active: matches!(&self.active, Ok((active, _)) if *active == name),
            name,
            backend: resolved.backend.name(),
            path: resolved.env_dir.clone(),
            exists,
            python,
            asked: resolved.python.map(|v| v.to_string()),
            spec,
            spec_changed,
            created: recorded.filter(|_| exists).map(|r| r.created),
        }
    }

    fn via(&self) -> Option<&'static str> {
        match &self.active {
            Ok((_, Via::Pointer)) => Some("pointer"),
            Ok((_, Via::Default)) => Some("default"),
            Ok((_, Via::Single)) => Some("single"),
            Ok((_, Via::Shell)) => Some("shell"),
            Ok((_, Via::Explicit)) | Err(_) => None,
        }
    }
}

/// Disk usage of a directory tree, counting hard-linked files once and
/// never following links.
fn disk_usage(dir: &Path) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(path) = stack.pop() {
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if metadata.nlink() > 1
            && !metadata.is_dir()
            && !seen.insert((metadata.dev(), metadata.ino()))
        {
            continue;
        }
        total += metadata.blocks() * 512;
        if metadata.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    total
}

fn human_size(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

fn created_text(created: Option<u64>) -> Option<String> {
    created.map(|secs| timestamp(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)))
}

fn spec_text(facts: &Facts) -> String {
    if facts.spec.is_empty() {
        return "none recorded".to_owned();
    }
    let state = match facts.spec_changed {
        Some(true) => " (changed since creation; `pyve init --env NAME --force` rebuilds)",
        Some(false) => " (unchanged since creation)",
        None => "",
    };
    format!("{}{state}", facts.spec.join(", "))
}

fn write(text: &str) -> Result<ExitCode, Error> {
    super::write_stdout(text.as_bytes(), "the listing")
}

/// A listing for people: what it names may come from the repository.
fn write_text(text: &str) -> Result<ExitCode, Error> {
    write(&crate::text::terminal(text))
}

pub fn list(json_output: bool) -> Result<ExitCode, Error> {
    let listing = load()?;
    let all: Vec<Facts> = listing.envs.iter().map(|r| listing.facts(r)).collect();
    if json_output {
        let mut out = String::from("{\"project\":");
        json_string(&mut out, &listing.root.to_string_lossy());
        out.push_str(",\"named\":");
        out.push_str(if listing.config.is_named() {
            "true"
        } else {
            "false"
        });
        out.push_str(",\"active\":");
        json_opt(
            &mut out,
            listing.active.as_ref().ok().map(|(n, _)| n.as_str()),
        );
        out.push_str(",\"active_via\":");
        json_opt(&mut out, listing.via());
        out.push_str(",\"default\":");
        json_opt(&mut out, listing.config.default_env.as_deref());
        out.push_str(",\"environments\":[");
        for (i, facts) in all.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_facts(&mut out, facts, crate::ui::verbose());
        }
        out.push_str("]}\n");
        return write(&out);
    }
    let mut out = format!("Environments in {}:\n\n", shown(&listing.root));
    for facts in &all {
        let python = match (&facts.python, facts.exists) {
            (_, false) => "not created".to_owned(),
            (Some(version), true) => format!("Python {version}"),
            (None, true) => "Python ?".to_owned(),
        };
        let line = format!(
            "  {} {:<16} {:<12} {:<16}{}",
            if facts.active { '*' } else { ' ' },
            facts.name,
            format!("({})", facts.backend),
            python,
            if facts.active { " [active]" } else { "" }
        );
        out.push_str(line.trim_end());
        out.push('\n');
        if crate::ui::verbose() {
            out.push_str(&format!("      path:    {}\n", shown(&facts.path)));
            if facts.exists {
                out.push_str(&format!(
                    "      size:    {}\n",
                    human_size(disk_usage(&facts.path))
                ));
            }
            if listing.config.is_named() {
                out.push_str(&format!("      spec:    {}\n", spec_text(facts)));
            }
            if let Some(created) = created_text(facts.created) {
                out.push_str(&format!("      created: {created}\n"));
            }
        }
    }
    out.push('\n');
    out.push_str(&active_line(&listing.active));
    if let Some(default) = &listing.config.default_env {
        out.push_str(&format!("Default: {default} (via .pyve/config)\n"));
    }
    write_text(&out)
}

/// Which environment is active, and why.
fn active_line(active: &Result<(String, Via), String>) -> String {
    match active {
        Ok((name, Via::Pointer)) => format!("Active: {name} (via .pyve/current)\n"),
        Ok((name, Via::Shell)) => format!(
            "Active: {name} (in this shell, via `pyve use`; other shells follow .pyve/current)\n"
        ),
        Ok((name, Via::Default)) => {
            format!("Active: {name} (via default_env; no .pyve/current)\n")
        }
        Ok((name, _)) => format!(
            "Active: {name} (the project's only environment; `pyve init --env NAME` adds named ones)\n"
        ),
        Err(why) => format!("Active: none ({why})\n"),
    }
}

pub fn info(name: &str, json_output: bool) -> Result<ExitCode, Error> {
    let listing = load()?;
    let Some(resolved) = listing
        .envs
        .iter()
        .find(|r| r.named.as_deref() == Some(name))
    else {
        return Err(project::unknown_name(&listing.config, name));
    };
    let facts = listing.facts(resolved);
    let approved = super::verdict(vars::process(), &listing.root, resolved);
    if json_output {
        let mut out = String::new();
        json_facts(&mut out, &facts, true);
        out.pop();
        out.push_str(",\"approved\":");
        out.push_str(if approved.is_trusted() {
            "true"
        } else {
            "false"
        });
        out.push_str("}\n");
        return write(&out);
    }
    let active = if facts.active {
        format!("yes (via {})", listing.via().unwrap_or(""))
            .replace("via pointer", "via .pyve/current")
            .replace("via default", "via default_env")
    } else {
        format!("no (`pyve activate {}` switches to it)", facts.name)
    };
    let mut out = String::new();
    let mut line = |key: &str, value: String| out.push_str(&format!("{key:<10} {value}\n"));
    line("name:", facts.name.clone());
    line("backend:", facts.backend.to_owned());
    line("active:", active);
    line("path:", shown(&facts.path));
    line(
        "exists:",
        if facts.exists {
            "yes".to_owned()
        } else {
            format!("no; create it with `pyve init --env {}`", facts.name)
        },
    );
    line(
        "python:",
        match (&facts.python, &facts.asked) {
            (Some(v), Some(a)) => format!("{v} (asked: {a})"),
            (Some(v), None) => v.clone(),
            (None, Some(a)) => format!("asked: {a}"),
            (None, None) => "-".to_owned(),
        },
    );
    if let Some((label, text)) = resolved
        .backend
        .describe_sources(&listing.root, &resolved.sources)
    {
        line(&format!("{label}:"), text);
    }
    line("spec:", spec_text(&facts));
    if let Some(created) = created_text(facts.created) {
        line("created:", created);
    }
    if facts.exists {
        line("size:", human_size(disk_usage(&facts.path)));
    }
    line(
        "approved:",
        if approved.is_trusted() {
            "yes".to_owned()
        } else {
            format!("no: {}", approved.summary())
        },
    );
    write_text(&out)
}

fn json_facts(out: &mut String, facts: &Facts, verbose: bool) {
    out.push_str("{\"name\":");
    json_string(out, &facts.name);
    out.push_str(",\"backend\":");
    json_string(out, facts.backend);
    out.push_str(&format!(
        ",\"active\":{},\"exists\":{}",
        facts.active, facts.exists
    ));
    out.push_str(",\"python\":");
    json_opt(out, facts.python.as_deref());
    out.push_str(",\"python_requested\":");
    json_opt(out, facts.asked.as_deref());
    out.push_str(",\"path\":");
    json_string(out, &facts.path.to_string_lossy());
    out.push_str(",\"spec\":[");
    for (i, file) in facts.spec.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, file);
    }
    out.push_str("],\"spec_changed\":");
    out.push_str(match facts.spec_changed {
        Some(true) => "true",
        Some(false) => "false",
        None => "null",
    });
    out.push_str(",\"created\":");
    json_opt(out, created_text(facts.created).as_deref());
    if verbose {
        out.push_str(",\"size_bytes\":");
        if facts.exists {
            out.push_str(&disk_usage(&facts.path).to_string());
        } else {
            out.push_str("null");
        }
    }
    out.push('}');
}
