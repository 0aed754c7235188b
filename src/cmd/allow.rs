//! `pyve allow [DIR]`: approve a project as it is now, so the hook
//! activates it. The approval covers the config's exact content and every
//! environment of the project that exists now; see `trust`.

use std::process::ExitCode;

use crate::cli::TrustArgs;
use crate::config::{self, shown};
use crate::error::{user, Error};
use crate::{project, trust};

pub fn run(args: TrustArgs) -> Result<ExitCode, Error> {
    let root = super::project_root(args.dir.as_deref())?;
    trust::check_project_files(&root).map_err(|why| user(format!("{why}; not approved")))?;
    let config_path = project::config_path(&root);
    let bytes = config::read(&config_path).map_err(|e| user(e.to_string()))?;
    let loaded = config::parse(&config_path, &bytes)
        .map_err(|e| user(format!("{e}; fix it, then run `pyve allow` again")))?;
    for warning in &loaded.warnings {
        warn!("{warning}");
    }
    let envs = project::all_envs(&root, &loaded.config).map_err(|e| user(e.to_string()))?;
    let mut missing = Vec::new();
    for resolved in &envs {
        if resolved.backend.marker(&resolved.env_dir).exists() {
            let activation = resolved.activation(&root);
            trust::check_environment(&resolved.env_dir, &activation)
                .map_err(|why| user(format!("{why}; not approved")))?;
        } else {
            missing.push(resolved);
        }
    }
    let refs: Vec<trust::EnvRef> = envs.iter().map(trust::EnvRef::of).collect();
    let foreign = trust::grant(
        &trust::Subject {
            project: &root,
            config: &bytes,
            envs: &refs,
        },
        None,
    )
    .map_err(|e| user(format!("cannot record the approval: {e}; not approved")))?;
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
        let init = match &resolved.named {
            Some(name) => format!("pyve init --env {name}"),
            None => "pyve init".to_owned(),
        };
        info!(
            "{} does not exist yet; create it with `{init}`",
            shown(&resolved.env_dir)
        );
    }
    if root.join(".pyve/bin/micromamba").exists() {
        info!(
            "note: this project has its own .pyve/bin/micromamba, which `pyve init` and \
             `pyve doctor` now run"
        );
    }
    Ok(ExitCode::SUCCESS)
}
