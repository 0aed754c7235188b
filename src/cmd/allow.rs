//! `pyve allow [DIR]`: approve a project as it is now, so the hook
//! activates it. The approval covers the config's exact content and the
//! environment that exists now; see `trust`.

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
        eprintln!("pyve: {warning}");
    }
    let resolved = project::resolve(&root, &loaded.config).map_err(|e| user(e.to_string()))?;
    let env_dir = &resolved.env_dir;
    let marker = resolved.backend.marker(env_dir);
    let exists = marker.exists();
    if exists {
        let activation = resolved.activation(&root);
        trust::check_environment(env_dir, &activation)
            .map_err(|why| user(format!("{why}; not approved")))?;
    }
    let approved = trust::grant(
        &trust::Subject {
            project: &root,
            config: &bytes,
            env_dir,
            marker: &marker,
        },
        false,
    )
    .map_err(|e| user(format!("cannot record the approval: {e}")))?;
    eprintln!(
        "pyve: approved {} ({} environment {}); the hook activates it at the next prompt",
        shown(&root),
        resolved.backend.name(),
        shown(env_dir)
    );
    if matches!(approved, trust::Approved::Foreign) {
        eprintln!(
            "pyve: note: {} was not built by `pyve init` on this machine (it came with the \
             project, or was made by hand); its programs now come first on PATH in this project. \
             `pyve init --force` rebuilds it from the config",
            shown(env_dir)
        );
    }
    if !exists {
        eprintln!("pyve: the environment does not exist yet; create it with `pyve init`");
    }
    if root.join(".pyve/bin/micromamba").exists() {
        eprintln!(
            "pyve: note: this project has its own .pyve/bin/micromamba, which `pyve init` and \
             `pyve doctor` now run"
        );
    }
    Ok(ExitCode::SUCCESS)
}
