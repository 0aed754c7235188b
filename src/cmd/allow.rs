//! `pyve allow [DIR]`: approve a project as it is now, so the hook
//! activates it. The approval covers the config's exact content and every
//! environment of the project that exists now; see `trust`.

use std::path::Path;
use std::process::ExitCode;

use crate::error::{user, Error};
use crate::text::shown;
use crate::trust::{self, Store, Subject};
use crate::{config, layout, project, vars};

pub fn run(dir: Option<&Path>) -> Result<ExitCode, Error> {
    let vars = vars::process();
    let (root, source) = super::project_root(vars, dir)?;
    trust::check_project_files(&root, source).map_err(|refused| not_approved(refused.into()))?;
    // What the approval covers, and what it means, from one read.
    let (bytes, loaded) = config::source::load_approved(&root, source)
        .map_err(|e| user(format!("{e}; fix it, then run `pyve allow` again")))?;
    for warning in &loaded.warnings {
        warn!("{warning}");
    }
    let envs = project::all_envs(&root, &loaded.config)?;
    let mut missing = Vec::new();
    for resolved in &envs {
        if resolved.marker().exists() {
            let activation = resolved.activation(&root, &super::before(vars));
            trust::check_environment(&resolved.env_dir, &activation)
                .map_err(|refused| not_approved(refused.into()))?;
        } else {
            missing.push(resolved);
        }
    }
    let refs: Vec<trust::EnvRef> = envs.iter().map(super::env_ref).collect();
    let subject = Subject {
        project: &root,
        config: &bytes,
        envs: &refs,
    };
    let foreign = Store::new(vars)
        .grant(&subject, None)
        .map_err(|e| not_approved(e.context("cannot record the approval")))?;
    let described: Vec<String> = envs
        .iter()
        .map(|r| format!("{} environment {}", r.backend.name(), shown(&r.env_dir)))
        .collect();
    done!(
        "approved {} ({}); the hook activates it at the next prompt",
        shown(&root),
        described.join(", ")
    );
    for env_dir in foreign {
        info!(
            "note: {} was not built by `pyve init` on this machine (it came with the \
             project, or was made by hand); its programs now come first on PATH in this project. \
             `pyve init --force` rebuilds it from the config",
            shown(&env_dir)
        );
    }
    for resolved in missing {
        info!(
            "{} does not exist yet; create it with `{}`",
            shown(&resolved.env_dir),
            resolved.init_command()
        );
    }
    // Tools a project keeps for itself (`--bootstrap-to project`) run
    // only in projects the user approved, as from now.
    let mut tools: Vec<String> = std::fs::read_dir(layout::bin(&root))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| format!("{}/{}", layout::BIN, e.file_name().to_string_lossy()))
        .collect();
    tools.sort();
    if !tools.is_empty() {
        info!(
            "note: this project has its own {}, which `pyve init` and `pyve doctor` now run",
            crate::text::one_line(&tools.join(", "))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// An error that kept the project from being approved, saying so.
fn not_approved(error: Error) -> Error {
    let message = format!("{}; not approved", error.message());
    match error.hint() {
        Some(hint) => user(message).with_hint(hint),
        None => user(message),
    }
}
