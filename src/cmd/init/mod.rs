//! `pyve init`: decide the backend, name and interpreter, check everything
//! (`plan`), then build the environment next to its final place and swap
//! it in (`project::build`), so an interrupted init never leaves a half
//! environment that looks ready. Concurrent inits in one project take
//! turns on the project's lock.

mod named;
mod plan;
mod recorded;
mod shared;
mod vscode;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use crate::backend::{BootstrapTo, Inspection};
use crate::config::{names, BackendKind, Source};
use crate::error::{user, Error};
use crate::project::{self, build, registry};
use crate::python::VersionRequest;
use crate::text::shown;
use crate::trust::{self, EnvRef, Store, Subject};
use crate::vars::{self, Vars};
use crate::{config, files, layout, process};
use plan::{Ask, Plan};

pub struct Options {
    /// `--backend`; None: decide from the config and the project's files.
    pub backend: Option<BackendKind>,
    /// `--env-name`: the single environment's name.
    pub env_name: Option<String>,
    /// `--env`: the named environment to create or rebuild.
    pub env: Option<String>,
    pub python_version: Option<String>,
    /// `--direnv` (Some(true)) or `--no-direnv` (Some(false)), for this
    /// run only; None: `.envrc` is kept current where it has pyve's block,
    /// and written where direnv is what activates (see `plan::wants_envrc`).
    pub direnv: Option<bool>,
    pub vscode: bool,
    /// `--dotenv`: create `.env` and record `dotenv: true`.
    pub dotenv: bool,
    pub force: bool,
    pub yes: bool,
    /// `--install-deps`, from before dependencies were installed by default.
    pub install_deps: bool,
    /// `--no-deps`: install nothing (recorded).
    pub no_deps: bool,
    /// `--deps SOURCE`: where the dependencies are declared (recorded).
    pub deps: Option<String>,
    /// `--group NAME`…: dependency groups (recorded).
    pub groups: Vec<String>,
    /// `--requirements FILE`…: requirements files (recorded, with
    /// `dependencies: requirements`).
    pub requirements: Vec<String>,
    pub strict: bool,
    /// `--channel NAME`…: channels instead of the environment file's.
    pub channels: Vec<String>,
    /// `--record-channels`: keep them in the config.
    pub record_channels: bool,
    pub auto_bootstrap: bool,
    pub bootstrap_to: BootstrapTo,
    /// `--here`: the current directory is the project, even inside another.
    pub here: bool,
}

impl Options {
    /// Whether a flag says where dependencies come from (the backend must
    /// install them).
    pub fn names_dependencies(&self) -> bool {
        self.install_deps
            || self.deps.is_some()
            || !self.groups.is_empty()
            || !self.requirements.is_empty()
    }
}

/// The project init works on: the one `cwd` is the root of, or with
/// `--here` the directory itself. Inside another project's subdirectory it
/// refuses: rewriting that project's config and rebuilding its environment
/// is not what `pyve init` typed in `mono/pkg-a` asks for.
fn project_root(vars: &dyn Vars, cwd: PathBuf, here: bool) -> Result<(PathBuf, Source), Error> {
    match super::find_root(vars, &cwd) {
        // Settings in pyproject.toml stay there; a zero-config project
        // gets its .pyve/config.
        Some(found) if found.root == cwd && found.source == Source::Pyproject => {
            Ok((cwd, Source::Pyproject))
        }
        Some(found) if found.root != cwd && !here => {
            let root = found.root;
            let word = |p: &Path| crate::shell::posix_word(p.as_os_str().as_encoded_bytes());
            Err(user(format!(
                "{} is inside the project {}; `pyve init` here would rebuild its environment",
                shown(&cwd),
                shown(&root)
            ))
            .with_hint(format!(
                "to set up that project, run `cd {} && pyve init` (with the same options); to \
                 make this directory a project of its own, nested in it, run `pyve init --here`",
                word(&root)
            )))
        }
        _ => Ok((cwd, Source::Pyve)),
    }
}

pub fn run(options: Options) -> Result<ExitCode, Error> {
    let vars = vars::process();
    let flag_version = check_flags(&options)?;
    let cwd = super::current_dir(vars)?;
    let user_config = super::user_config(vars);
    let (root, source) = project_root(vars, cwd, options.here)?;
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    trust::check_project_files(&root, source)?;
    let ask = Ask {
        options: &options,
        flag_version,
        root: &root,
        source,
        user: user_config.map(|u| &u.config),
        vars,
    };
    let plan = plan::plan(&ask)?;

    // Every check passed: from here on pyve writes.
    process::catch_interrupts();
    let pyve_dir = layout::pyve_dir(&root);
    let created = !pyve_dir.exists();
    std::fs::create_dir_all(&pyve_dir)
        .map_err(|e| user(format!("cannot create {}: {e}", shown(&pyve_dir))))?;
    let lock = project::lock::take(&pyve_dir)?;
    // Declared after the lock, so it runs while the lock is still held.
    let mut undo = Undo {
        pyve_dir: created.then(|| pyve_dir.clone()),
        config_path: layout::config(&root),
    };
    // Another init may have written the config while this one waited.
    let now = match source {
        Source::Pyproject => config::source::approved_bytes(&root, source).ok(),
        _ => files::read_optional(&undo.config_path)?,
    };
    let plan = if now != plan.existing {
        info!(
            "{} changed while waiting; deciding again",
            source.file(&root).display()
        );
        plan::plan(&ask)?
    } else {
        plan
    };
    let (kept, runs) = make_environment(&plan, &options, &root, vars)?;
    record(&plan, &root, kept, runs, vars)?;
    undo.pyve_dir = None;
    shared::update_block(&root, &root.join(".gitignore"), &plan.gitignore)?;
    if plan.direnv {
        shared::update_block(&root, &root.join(".envrc"), shared::ENVRC_BODY)?;
    }
    if let Some(file) = plan.dotenv.first().filter(|_| options.dotenv) {
        shared::create_dotenv(&root, file)?;
    }
    if options.vscode {
        let setting = vscode::interpreter_setting(&root, &plan.env_dir, plan.named.is_some());
        let mut members = vec![(vscode::KEY, vscode::Value::Text(setting))];
        // The hook activates the environment in VS Code's terminal too;
        // the extension activating it again would stack a second prompt.
        if vars::hook_installed(vars) {
            members.push((vscode::ACTIVATE_KEY, vscode::Value::Flag(false)));
        }
        vscode::write(&root, &members)?;
    }
    drop(undo);
    drop(lock);
    explain(vars, &root, &plan);
    // A signal that arrived after the last step is still the user's wish
    // to stop; everything is in place, so it only changes the exit.
    process::check()?;
    Ok(ExitCode::SUCCESS)
}

/// The flags' own checks, before anything is read: `--python-version`
/// parsed, names by their rules.
fn check_flags(options: &Options) -> Result<Option<VersionRequest>, Error> {
    let flag_version = options
        .python_version
        .as_deref()
        .map(VersionRequest::parse)
        .transpose()
        .map_err(|e| Error::usage(format!("--python-version: {e}")))?;
    if let Some(name) = &options.env_name {
        names::check_display(name).map_err(|e| Error::usage(format!("--env-name: {e}")))?;
    }
    if let Some(name) = &options.env {
        if options.env_name.is_some() {
            return Err(Error::usage(
                "--env-name names a project's single environment; with --env, NAME is the name",
            ));
        }
        names::check(name).map_err(|e| Error::usage(format!("--env: {e}")))?;
    }
    Ok(flag_version)
}

/// Keeps the healthy environment there is, or builds one. Returns whether
/// it was kept, and the version its Python reported when it was inspected.
fn make_environment(
    plan: &Plan,
    options: &Options,
    root: &Path,
    vars: &dyn Vars,
) -> Result<(bool, Option<crate::python::Version>), Error> {
    let env_dir = &plan.env_dir;
    build::recover(plan.backend, env_dir);
    let exists = plan.backend.marker(env_dir).exists();
    let vouched = exists && vouched_for(plan, root, vars);
    if exists && !options.force && !vouched {
        rebuild_foreign(env_dir, options)?;
    }
    // Inspecting runs the environment's Python: only one vouched for, and
    // only when it may be kept.
    let inspection = (vouched && !options.force).then(|| plan.backend.inspect(env_dir));
    let runs = inspection.as_ref().and_then(|i| i.runs);
    if keep(plan, options, exists, inspection.as_ref()) {
        info!(
            "keeping the healthy environment at {} (Python {}); --force rebuilds it",
            env_dir.display(),
            runs.map(|v| v.to_string()).unwrap_or_default()
        );
        if let Some(declared) = &plan.declared {
            info!(
                "installing the dependencies from {}",
                build::describe(declared)
            );
            plan.builder.install(env_dir, root, declared)?;
        }
        return Ok((true, runs));
    }
    info!(
        "creating {}: {}",
        env_dir.display(),
        plan.builder.describe()
    );
    let started = Instant::now();
    build::build(plan.builder.as_ref(), env_dir, root, plan.declared.as_ref())?;
    done!(
        "created {} in {} ms",
        env_dir.display(),
        started.elapsed().as_millis()
    );
    Ok((false, runs))
}

/// Whether init may run the existing environment's programs (to inspect
/// it) and keep it: pyve built it on this machine (the approval store's
/// record of its builds says so), the user approved the project with this
/// very environment (`pyve allow` after review), or the user vouched for
/// every project (`PYVE_TRUST_ALL=1`: a CI cache restores environments
/// built elsewhere).
fn vouched_for(plan: &Plan, root: &Path, vars: &dyn Vars) -> bool {
    let env = EnvRef {
        dir: plan.env_dir.clone(),
        marker: plan.backend.marker(&plan.env_dir),
    };
    let store = Store::new(vars);
    vars::trust_all(vars)
        || store.built_here(root, &env)
        || store.approved_env(root, &env)
        // Approved, and rebuilt here since by the user's own tools (uv).
        || (store.approved_once(root) && trust::rebuilt_here(root, &env))
}

/// An environment pyve did not build on this machine (it came with the
/// repository, or another tool made it): pyve runs none of its programs
/// and does not adopt it. It is rebuilt when the person at the terminal
/// (or `--yes`) agrees; otherwise nothing changes.
fn rebuild_foreign(env_dir: &Path, options: &Options) -> Result<(), Error> {
    let what = format!(
        "the environment {} was not built by pyve on this machine (it came with the project, \
         or another tool made it), so pyve runs none of its programs and does not adopt it",
        shown(env_dir)
    );
    let refused = || {
        user(format!("{what}; nothing was changed"))
            .with_hint("rebuild it with `pyve init --force`, or move it away")
    };
    if !crate::ask::interactive() && !options.yes {
        return Err(refused());
    }
    info!("{what}");
    if crate::ask::confirm("Rebuild it now?", options.yes) {
        Ok(())
    } else {
        Err(refused())
    }
}

/// Whether the existing environment stays: healthy, not `--force`d, and
/// what the plan would build. Says why when it does not.
fn keep(plan: &Plan, options: &Options, exists: bool, inspected: Option<&Inspection>) -> bool {
    if !exists {
        return false;
    }
    let why = match inspected {
        _ if options.force => "--force".to_owned(),
        None => "it was not built by pyve on this machine".to_owned(),
        Some(existing) if !existing.healthy() => existing
            .findings
            .iter()
            .find(|f| f.is_error())
            .map_or("it is not healthy".to_owned(), |f| f.message.clone()),
        Some(existing) => match plan.builder.accepts(existing) {
            Ok(()) => return true,
            Err(why) => why,
        },
    };
    info!("rebuilding {}: {why}", plan.env_dir.display());
    false
}

/// Writes what was decided: the config, the registry's records, and the
/// approval of the project as it now is.
fn record(
    plan: &Plan,
    root: &Path,
    kept: bool,
    runs: Option<crate::python::Version>,
    vars: &dyn Vars,
) -> Result<(), Error> {
    let config_path = layout::config(root);
    if plan.existing.as_deref() != Some(plan.text.as_bytes()) {
        files::write_inside(root, &config_path, plan.text.as_bytes())?;
        done!("wrote {}", config_path.display());
    }
    if let Some(name) = &plan.named {
        // What was built (or kept), for listings; an environment the
        // project had before it named any is recorded as it is.
        if let Some((adopted_name, adopted_entry)) = &plan.adopted {
            registry::record(root, adopted_name, adopted_entry.clone())?;
        }
        let created = kept
            .then(|| registry::read(root).ok())
            .flatten()
            .and_then(|mut all| all.remove(name.as_str()))
            .map(|entry| entry.created);
        let runs = runs.filter(|_| kept);
        let entry =
            named::registry_entry(root, plan.backend, &plan.env_dir, &plan.spec, runs, created);
        registry::record(root, name, entry)?;
    }
    // The user made this project with this config: the hook may activate
    // it. A later edit of the config needs a new approval.
    let this_env = EnvRef {
        dir: plan.env_dir.clone(),
        marker: plan.backend.marker(&plan.env_dir),
    };
    let subject = Subject {
        project: root,
        config: plan.text.as_bytes(),
        envs: &plan.all_envs,
    };
    match Store::new(vars).grant(&subject, (!kept).then_some(&this_env)) {
        Ok(foreign) => {
            for dir in foreign {
                let env = plan
                    .named
                    .as_ref()
                    .filter(|_| dir == plan.env_dir)
                    .map_or(String::new(), |n| format!(" --env {n}"));
                info!(
                    "note: the environment {} was not built by pyve on this machine \
                     (it came with the project, or was made by hand); `pyve init --force{env}` rebuilds it",
                    dir.display(),
                );
            }
        }
        Err(e) => warn!("cannot record the approval of this project: {e}"),
    }
    Ok(())
}

/// Removes `.pyve/` when this init created it and then failed before any
/// config was written there: a failed first init leaves nothing behind.
struct Undo {
    pyve_dir: Option<PathBuf>,
    config_path: PathBuf,
}

impl Drop for Undo {
    fn drop(&mut self) {
        if let Some(dir) = &self.pyve_dir {
            if !self.config_path.exists() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// What is ready, and the ways to use it that still need a step: nothing
/// more in CI; the hook's line only when this shell shows no hook; direnv
/// only when it is installed.
fn explain(vars: &dyn Vars, root: &Path, plan: &Plan) {
    let shell = super::user_shell(vars);
    done!("ready: {} in {}", plan.env_dir.display(), root.display());
    if vars::in_ci(vars) {
        return;
    }
    if vars::hook_installed(vars) {
        detail!("  this shell's hook applies it at the next prompt inside the project");
    } else {
        detail!(
            "  with the shell hook: add `{}` to {}, then cd into the project",
            shell.hook_line(),
            shell.rc_file()
        );
    }
    if plan.direnv && crate::python::which(vars, "direnv").is_some() {
        // Written for direnv: it loads nothing until allowed.
        detail!("  with direnv: run `direnv allow` in the project");
    }
    detail!("  without any shell setup: `pyve run python`");
    if let Some(name) = &plan.named {
        explain_named(root, name);
    }
}

/// Which environment is active now that `name` is built, and how to switch.
fn explain_named(root: &Path, name: &str) {
    let active = config::load(&layout::config(root))
        .ok()
        .and_then(|loaded| project::resolve(root, &loaded.config).ok())
        .and_then(|resolved| resolved.named);
    match active {
        Some(active) if active == name => {
            detail!("  `{name}` is the active environment (`pyve envs` lists them all)")
        }
        Some(active) => detail!(
            "  the active environment is still `{active}`; switch with `pyve activate {name}`, \
             or run once with `pyve run --env {name} CMD`"
        ),
        None => {}
    }
}
