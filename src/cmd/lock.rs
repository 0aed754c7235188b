//! `pyve lock`: the conda lock file, written by conda-lock with the
//! micromamba pyve builds with (`--check`: whether it is stale).

use std::process::ExitCode;

use crate::backend::micromamba::locking::{self, LockRequest, Verdict};
use crate::backend::Sources;
use crate::config::BackendKind;
use crate::error::{user, Error};
use crate::trust::Store;
use crate::vars;

pub struct Options {
    pub check: bool,
    pub platforms: Vec<String>,
    pub channels: Vec<String>,
    pub env: Option<String>,
}

pub fn run(options: Options) -> Result<ExitCode, Error> {
    let vars = vars::process();
    let (root, sources) = conda_sources(vars, options.env.as_deref())?;
    if crate::config::bad_channel(Some(&options.channels)).is_some() {
        return Err(Error::usage(
            "--channel takes a channel name or URL, such as conda-forge",
        ));
    }
    if options.check {
        return Ok(match locking::check(&root, &sources)? {
            Verdict::Fresh(message) => {
                done!("{message}");
                ExitCode::SUCCESS
            }
            Verdict::Stale(reasons) => {
                warn!("the lock file is stale:\n  {}", reasons.join("\n  "));
                ExitCode::from(1)
            }
        });
    }
    let project_tools = vars::trust_all(vars) || Store::new(vars).approved_once(&root);
    let changes = locking::lock(&LockRequest {
        root: &root,
        sources: &sources,
        platforms: options.platforms,
        channels: options.channels,
        project_tools,
        vars,
    })?;
    if changes.is_empty() {
        done!("the lock file is written; no package changed");
    } else {
        done!("the lock file is written:\n  {}", changes.join("\n  "));
    }
    Ok(ExitCode::SUCCESS)
}

/// The conda environment's files: the project's (its active or `--env`
/// environment), or, before `pyve init`, an environment.yml in the
/// current directory.
fn conda_sources(
    vars: &dyn vars::Vars,
    env: Option<&str>,
) -> Result<(std::path::PathBuf, Sources), Error> {
    let cwd = super::current_dir(vars)?;
    let Ok((root, _)) = super::project_root(vars, None) else {
        if env.is_some() {
            return Err(super::no_project(&cwd));
        }
        return Ok((cwd, Sources::default()));
    };
    let selector = super::selector(vars, env);
    let project = super::find_project(vars, false, selector)?;
    for warning in &project.warnings {
        warn!("{warning}");
    }
    let resolved = project.resolved;
    if resolved.backend.kind() != BackendKind::Micromamba {
        return Err(user(format!(
            "pyve lock locks conda environments, and this one is a {} environment",
            resolved.backend.name()
        ))
        .with_hint(
            "for a uv project, `uv lock` writes uv.lock, which `pyve init` and `pyve sync` install",
        ));
    }
    Ok((root, resolved.sources))
}
