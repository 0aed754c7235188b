//! `pyve init`: decide the backend, name and interpreter, check everything,
//! then build the environment next to its final place and rename it in, so
//! an interrupted init never leaves a half environment that looks ready.
//! Concurrent inits in one project take turns on a lock file.

use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use nix::fcntl::{Flock, FlockArg};

use crate::backend::{self, micromamba, BuildRequest};
use crate::cli::{BackendChoice, InitArgs};
use crate::config::{self, Config};
use crate::error::{user, Error};
use crate::python::{self, Source, VersionRequest};
use crate::{ask, files, process, project, registry};

/// Conda specs, in the order the micromamba backend reads them.
const CONDA_SPECS: [&str; 2] = ["conda-lock.yml", "environment.yml"];

const NEW_CONFIG: &str =
    "# pyve project configuration: keys are described in docs/configuration.md\n";

pub fn run(args: InitArgs) -> Result<ExitCode, Error> {
    let flag_version = args
        .python_version
        .as_deref()
        .map(VersionRequest::parse)
        .transpose()
        .map_err(|m| Error::Usage(format!("--python-version: {m}")))?;
    if let Some(name) = &args.env_name {
        check_env_name(name).map_err(|m| Error::Usage(format!("--env-name: {m}")))?;
    }
    if let Some(name) = &args.env {
        if args.env_name.is_some() {
            return Err(Error::Usage(
                "--env-name names a project's single environment; with --env, NAME is the name"
                    .to_owned(),
            ));
        }
        micromamba::check_env_name(name).map_err(|m| Error::Usage(format!("--env: {m}")))?;
    }
    let cwd = super::current_dir()?;
    let root = project::find_root(&cwd).map_or(cwd, |(root, _)| root);
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    crate::trust::check_project_files(&root).map_err(|why| user(why.to_string()))?;
    let config_path = project::config_path(&root);
    let plan = plan(&args, flag_version, &root)?;

    // Every check passed: from here on pyve writes.
    process::catch_interrupts();
    let pyve_dir = root.join(".pyve");
    let created = !pyve_dir.exists();
    std::fs::create_dir_all(&pyve_dir)
        .map_err(|e| user(format!("cannot create {}: {e}", pyve_dir.display())))?;
    let lock = lock(&pyve_dir)?;
    // Declared after the lock, so it runs while the lock is still held.
    let mut undo = Undo {
        pyve_dir: created.then(|| pyve_dir.clone()),
        config_path: config_path.clone(),
    };
    // Another init may have written the config while this one waited.
    let plan = if files::read_optional(&config_path)? != plan.existing {
        info!(
            "{} changed while waiting; deciding again",
            config_path.display()
        );
        self::plan(&args, flag_version, &root)?
    } else {
        plan
    };
    let Plan {
        existing,
        text,
        backend,
        env_dir,
        builder,
        requirements,
        direnv,
        gitignore,
        named,
        adopted,
        all_envs,
        spec,
    } = plan;
    restore_interrupted_rebuild(backend, &env_dir);
    remove_leftovers(&env_dir);

    let marker = backend.marker(&env_dir);
    let inspection = marker.exists().then(|| backend.inspect(&env_dir));
    let keep = match &inspection {
        Some(existing) if existing.healthy() && !args.force => match builder.accepts(existing) {
            Ok(()) => true,
            Err(why) => {
                info!("rebuilding {}: {why}", env_dir.display());
                false
            }
        },
        Some(existing) => {
            let why = if args.force {
                "--force".to_owned()
            } else {
                existing
                    .findings
                    .iter()
                    .find(|f| f.is_error())
                    .map_or("it is not healthy".to_owned(), |f| f.message.clone())
            };
            info!("rebuilding {}: {why}", env_dir.display());
            false
        }
        None => false,
    };
    if keep {
        info!(
            "keeping the healthy environment at {} (Python {}); --force rebuilds it",
            env_dir.display(),
            inspection
                .as_ref()
                .and_then(|i| i.runs)
                .map(|v| v.to_string())
                .unwrap_or_default()
        );
        if !requirements.is_empty() {
            info!("installing {}", list(&requirements));
            builder.install(&env_dir, &root, &requirements)?;
        }
    } else {
        info!("creating {}: {}", env_dir.display(), builder.describe());
        let started = Instant::now();
        if let Some(parent) = env_dir.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| user(format!("cannot create {}: {e}", parent.display())))?;
        }
        if builder.in_place() {
            build_in_place(builder.as_ref(), &env_dir)?;
        } else {
            let build_dir = sibling(&env_dir, "tmp");
            let mut guard = files::RemoveOnDrop(Some(build_dir.clone()));
            builder.build(&build_dir)?;
            if !requirements.is_empty() {
                info!("installing {}", list(&requirements));
                builder.install(&build_dir, &root, &requirements)?;
            }
            builder.finish(&build_dir, &env_dir)?;
            process::check()?;
            swap_into_place(&build_dir, &env_dir)?;
            guard.0 = None;
        }
        done!(
            "created {} in {} ms",
            env_dir.display(),
            started.elapsed().as_millis()
        );
    }

    if existing.as_deref() != Some(text.as_bytes()) {
        files::write_atomic(&config_path, text.as_bytes())?;
        done!("wrote {}", config_path.display());
    }
    if let Some(name) = &named {
        // What was built (or kept), for listings; an environment the
        // project had before it named any is recorded as it is.
        if let Some((adopted_name, adopted_entry)) = adopted {
            registry::record(&root, &adopted_name, adopted_entry)?;
        }
        let entry = registry_entry(
            &root,
            backend,
            &env_dir,
            &spec,
            inspection.as_ref().filter(|_| keep).and_then(|i| i.runs),
            keep.then(|| registry::read(&root).ok())
                .flatten()
                .and_then(|mut all| all.remove(name.as_str()))
                .map(|entry| entry.created),
        );
        registry::record(&root, name, entry)?;
    }
    // The user made this project with this config: the hook may activate
    // it. A later edit of the config needs a new approval.
    let this_env = crate::trust::EnvRef {
        dir: env_dir.clone(),
        marker: marker.clone(),
    };
    let approval = crate::trust::grant(
        &crate::trust::Subject {
            project: &root,
            config: text.as_bytes(),
            envs: &all_envs,
        },
        (!keep).then_some(&this_env),
    );
    match approval {
        Ok(foreign) => {
            for dir in foreign {
                info!(
                    "note: the environment {} was not built by pyve on this machine \
                     (it came with the project, or was made by hand); `pyve init --force{}` rebuilds it",
                    dir.display(),
                    named
                        .as_ref()
                        .filter(|_| dir == env_dir)
                        .map_or(String::new(), |n| format!(" --env {n}"))
                );
            }
        }
        Err(e) => warn!("cannot record the approval of this project: {e}"),
    }
    undo.pyve_dir = None;
    update_block(&root.join(".gitignore"), &gitignore)?;
    if direnv {
        update_block(&root.join(".envrc"), ENVRC_BODY)?;
    }
    if args.vscode {
        let setting = crate::vscode::interpreter_setting(&root, &env_dir, named.is_some());
        crate::vscode::write(&root, &setting)?;
    }
    drop(undo);
    drop(lock);
    explain(&root, &env_dir, direnv);
    if let Some(name) = &named {
        explain_named(&root, name);
    }
    // A signal that arrived after the last step is still the user's wish
    // to stop; everything is in place, so it only changes the exit.
    process::check()?;
    Ok(ExitCode::SUCCESS)
}

/// Everything init decided before writing anything.
struct Plan {
    /// The config's bytes when read, to notice a concurrent change.
    existing: Option<Vec<u8>>,
    /// The config as it will be written.
    text: String,
    backend: &'static dyn backend::Backend,
    env_dir: PathBuf,
    builder: Box<dyn backend::Builder>,
    requirements: Vec<PathBuf>,
    direnv: bool,
    /// pyve's block for `.gitignore`.
    gitignore: String,
    /// The named environment built, if the project names them.
    named: Option<String>,
    /// The environment the project had before it named any, now named, to
    /// record in the registry.
    adopted: Option<(String, registry::Entry)>,
    /// Every environment of the project, for the approval.
    all_envs: Vec<crate::trust::EnvRef>,
    /// The files the environment is built from, for the registry.
    spec: Vec<String>,
}

/// Reads the config and the project, decides, and checks everything the
/// build needs. Writes nothing.
fn plan(args: &InitArgs, flag_version: Option<VersionRequest>, root: &Path) -> Result<Plan, Error> {
    let config_path = project::config_path(root);
    // Through the config's own checks (a directory, a dangling link,
    // something huge): init never rewrites what it could not read as one.
    let existing = match std::fs::symlink_metadata(&config_path) {
        Ok(_) => Some(config::read(&config_path).map_err(|e| user(e.to_string()))?),
        Err(_) => None,
    };
    let loaded = match &existing {
        Some(bytes) => config::parse(&config_path, bytes).map_err(|e| user(e.to_string()))?,
        None => config::parse(&config_path, b"").map_err(|e| user(e.to_string()))?,
    };
    for warning in &loaded.warnings {
        warn!("{warning}");
    }
    let config = loaded.config;
    // A project that names its environments builds one of them: `--env`,
    // else the active one.
    let target = match &args.env {
        Some(name) => Some(name.clone()),
        None if config.is_named() => {
            if args.env_name.is_some() {
                return Err(Error::Usage(
                    "this project names its environments; choose one with --env NAME".to_owned(),
                ));
            }
            project::resolve(root, &config)
                .map_err(|e| user(e.to_string()))?
                .named
        }
        None => None,
    };
    if let Some(name) = target {
        let (text, adopted) = named_config(args, flag_version, &config, root, &existing, &name)?;
        return finish_plan(
            args,
            flag_version,
            root,
            existing,
            text,
            Some(name),
            adopted,
        );
    }

    let backend_name = choose_backend(args.backend, &config, root)?;

    let conda = backend_name == "micromamba";
    let env_name = if conda {
        match &args.env_name {
            Some(name) => {
                micromamba::check_env_name(name)
                    .map_err(|m| Error::Usage(format!("--env-name: {m}")))?;
                name.clone()
            }
            None => {
                let (name, source) = micromamba::env_name(root, &config).map_err(user)?;
                if config.micromamba.env_name.is_none() {
                    info!("environment name `{name}`, from {source}");
                }
                name
            }
        }
    } else {
        match (&args.env_name, &config.env_name) {
            (Some(name), _) | (None, Some(name)) => name.clone(),
            (None, None) => root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "root".to_owned()),
        }
    };
    check_env_name(&env_name).map_err(|m| {
        user(format!(
            "the environment name {env_name:?}: {m}; choose one with --env-name"
        ))
    })?;

    // The config as it will be written: only the lines the flags change.
    let mut text = match &existing {
        Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        None => NEW_CONFIG.to_owned(),
    };
    let mut edit = |section: Option<&str>, key: &str, value: String| -> Result<(), Error> {
        let name = section.map_or(key.to_owned(), |s| format!("{s}.{key}"));
        text = edited(
            &config_path,
            &name,
            &value,
            config::set_value(&text, section, key, &value),
        )?;
        Ok(())
    };
    if config.backend.as_deref() != Some(backend_name) {
        edit(None, "backend", backend_name.to_owned())?;
    }
    if conda {
        // The resolved name is recorded, so the hook never has to derive it.
        if config.micromamba.env_name.as_ref() != Some(&env_name) {
            edit(
                Some("micromamba"),
                "env_name",
                config::yaml_string(&env_name),
            )?;
        }
    } else if let Some(name) = &args.env_name {
        if config.env_name.as_ref() != Some(name) {
            edit(None, "env_name", config::yaml_string(name))?;
        }
    }
    if let Some(version) = flag_version {
        if config.python.request() != Some(version) {
            edit(
                Some("python"),
                "version",
                config::yaml_string(&version.to_string()),
            )?;
        }
    }
    if args.no_direnv && config.direnv != Some(false) {
        edit(None, "direnv", "false".to_owned())?;
    }
    finish_plan(args, flag_version, root, existing, text, None, None)
}

/// A config edit through `config::set_value` and friends, or the error that
/// says which line to change by hand.
fn edited(
    config_path: &Path,
    name: &str,
    value: &str,
    result: Option<String>,
) -> Result<String, Error> {
    result.ok_or_else(|| {
        user(format!(
            "cannot update {} automatically (its `{name}` is not a simple `key: value` line); \
             set `{name}: {value}` by hand and run `pyve init` again",
            config_path.display()
        ))
    })
}

/// The config text with environment `name` in it: added when new (with
/// the flags' backend and Python), `default_env` set when there is none.
/// The first named environment of a project that had a single one keeps
/// that one too, under a name of its own and as the default, so nothing
/// the user had changes (returned to be recorded in the registry).
#[allow(clippy::type_complexity)]
fn named_config(
    args: &InitArgs,
    flag_version: Option<VersionRequest>,
    config: &Config,
    root: &Path,
    existing: &Option<Vec<u8>>,
    name: &str,
) -> Result<(String, Option<(String, registry::Entry)>), Error> {
    let config_path = project::config_path(root);
    let mut text = match existing {
        Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        None => NEW_CONFIG.to_owned(),
    };
    let mut adopted = None;
    let mut default = config.default_env.clone();
    if !config.is_named() {
        let single = project::resolve(root, config).ok();
        if let Some(single) = single.filter(|s| s.backend.marker(&s.env_dir).exists()) {
            let raw = String::from_utf8_lossy(&single.env_name).into_owned();
            let kept = micromamba::check_env_name(&raw)
                .map(|()| raw.clone())
                .or_else(|_| micromamba::derive_env_name(&raw))
                .unwrap_or_else(|_| "main".to_owned());
            let mut fields = Vec::new();
            if single.backend.name() != config.backend.as_deref().unwrap_or("venv") {
                fields.push(("backend", single.backend.name().to_owned()));
            }
            if project::lexical(&single.env_dir)
                != project::lexical(&root.join(".pyve/envs").join(&kept))
            {
                let relative = single
                    .env_dir
                    .strip_prefix(root)
                    .unwrap_or(&single.env_dir)
                    .to_string_lossy()
                    .into_owned();
                fields.push(("directory", config::yaml_string(&relative)));
            }
            info!(
                "the project's environment {} is kept as the named environment `{kept}`, the default",
                single.env_dir.display()
            );
            text = edited(
                &config_path,
                "environments",
                &kept,
                config::add_environment(&text, &kept, &fields),
            )?;
            adopted = Some((
                kept.clone(),
                registry_entry(
                    root,
                    single.backend,
                    &single.env_dir,
                    &spec_files(root, &single),
                    single.backend.inspect(&single.env_dir).runs,
                    None,
                ),
            ));
            default = Some(kept);
        }
        // The single environment's keys mean nothing once environments
        // are named; its place and name moved into its entry above.
        for (section, key) in [
            (None, "env_name"),
            (Some("venv"), "directory"),
            (Some("micromamba"), "env_name"),
        ] {
            let shown = section.map_or(key.to_owned(), |s| format!("{s}.{key}"));
            text = edited(
                &config_path,
                &shown,
                "(remove it)",
                config::remove_value(&text, section, key),
            )?;
        }
    }
    let adopted_here = adopted.as_ref().is_some_and(|(kept, _)| kept == name);
    match config.environments.get(name) {
        _ if adopted_here => {}
        None => {
            let mut fields = Vec::new();
            let conda_spec = CONDA_SPECS.iter().find(|f| root.join(f).is_file());
            let wanted = match (args.backend, config.backend.as_deref(), conda_spec) {
                (Some(BackendChoice::Venv), _, _) => Some("venv"),
                (Some(BackendChoice::Micromamba), _, _) => Some("micromamba"),
                (_, Some(_), _) => None,
                (_, None, Some(_)) => Some("micromamba"),
                (_, None, None) => None,
            };
            let inherited = config.backend.as_deref().unwrap_or("venv");
            if let Some(backend) = wanted.filter(|b| *b != inherited) {
                fields.push(("backend", backend.to_owned()));
            }
            if let Some(version) = flag_version {
                fields.push(("python_version", config::yaml_string(&version.to_string())));
            }
            text = edited(
                &config_path,
                "environments",
                name,
                config::add_environment(&text, name, &fields),
            )?;
            done!(
                "added the environment `{name}` to {}",
                config_path.display()
            );
        }
        Some(entry) => {
            let current = entry
                .backend
                .as_deref()
                .or(config.backend.as_deref())
                .unwrap_or("venv");
            let asked = match args.backend {
                Some(BackendChoice::Venv) => Some("venv"),
                Some(BackendChoice::Micromamba) => Some("micromamba"),
                _ => None,
            };
            if let Some(asked) = asked.filter(|a| *a != current) {
                return Err(user(format!(
                    "`{name}` is a {current} environment in {}; to make it {asked}, set \
                     `backend: {asked}` in its entry under `environments`, then run `pyve init --env {name} --force`",
                    config_path.display()
                )));
            }
            if let Some(version) = flag_version {
                if entry.python_request().or_else(|| config.python.request()) != Some(version) {
                    return Err(user(format!(
                        "--python-version {version}: `{name}` asks for {} in {}; set its \
                         `python_version: \"{version}\"` there, then run `pyve init --env {name}`",
                        entry
                            .python_request()
                            .or_else(|| config.python.request())
                            .map_or("no particular version".to_owned(), |v| v.to_string()),
                        config_path.display()
                    )));
                }
            }
        }
    }
    if default.is_none() {
        default = Some(name.to_owned());
    }
    if config.default_env != default {
        let value = default.unwrap_or_default();
        text = edited(
            &config_path,
            "default_env",
            &value,
            config::set_value(&text, None, "default_env", &value),
        )?;
    }
    if args.no_direnv && config.direnv != Some(false) {
        text = edited(
            &config_path,
            "direnv",
            "false",
            config::set_value(&text, None, "direnv", "false"),
        )?;
    }
    Ok((text, adopted))
}

/// The files an environment is built from, relative to the root: its conda
/// spec, or the requirements files it lists (that exist).
fn spec_files(root: &Path, resolved: &project::Resolved) -> Vec<String> {
    if resolved.backend.name() == "micromamba" {
        return micromamba::spec::detect(&resolved.conda_spec)
            .map(|s| vec![s.name])
            .unwrap_or_default();
    }
    resolved
        .requirements
        .clone()
        .unwrap_or_else(|| vec![PathBuf::from("requirements.txt")])
        .into_iter()
        .filter(|f| root.join(f).is_file())
        .map(|f| f.to_string_lossy().into_owned())
        .collect()
}

/// The registry's record of the environment at `env_dir` as it is now.
fn registry_entry(
    root: &Path,
    backend: &dyn backend::Backend,
    env_dir: &Path,
    spec: &[String],
    python: Option<python::Version>,
    created: Option<u64>,
) -> registry::Entry {
    let created = created.unwrap_or_else(|| {
        std::fs::metadata(backend.marker(env_dir))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or_else(registry::now, |d| d.as_secs())
    });
    registry::Entry {
        backend: backend.name().to_owned(),
        python: python
            .or_else(|| backend.inspect(env_dir).runs)
            .map(|v| v.to_string()),
        spec: spec.to_vec(),
        spec_sha256: registry::spec_digest(root, spec),
        created,
        directory: env_dir
            .strip_prefix(root)
            .unwrap_or(env_dir)
            .to_string_lossy()
            .into_owned(),
    }
}

/// Checks the config as it will be written and everything the build of the
/// environment it selects needs. Writes nothing.
fn finish_plan(
    args: &InitArgs,
    flag_version: Option<VersionRequest>,
    root: &Path,
    existing: Option<Vec<u8>>,
    text: String,
    named: Option<String>,
    adopted: Option<(String, registry::Entry)>,
) -> Result<Plan, Error> {
    let config_path = project::config_path(root);
    let new_config = config::parse(&config_path, text.as_bytes())
        .map_err(|e| {
            user(format!(
                "pyve produced an invalid config, nothing written: {e}"
            ))
        })?
        .config;
    let selector = match &named {
        Some(name) => project::Selector::Named(name),
        None => project::Selector::Active,
    };
    let resolved =
        project::resolve_env(root, &new_config, selector).map_err(|e| user(e.to_string()))?;
    project::check_env_dir(&resolved.env_dir).map_err(|e| user(e.to_string()))?;
    let backend = resolved.backend;
    let conda = backend.name() == "micromamba";
    let env_name = String::from_utf8_lossy(&resolved.env_name).into_owned();
    if conda && (args.install_deps || new_config.install_deps) {
        return Err(user(format!(
            "the micromamba backend installs only what the conda spec lists; \
             put pip packages under `- pip:` in {}'s dependencies instead of --install-deps",
            resolved.conda_spec.environment_name()
        )));
    }
    let python = match (flag_version, resolved.python) {
        (Some(version), _) => Some((version, Source::Flag)),
        (None, Some(version)) => Some((version, Source::Config(config_path.clone()))),
        (None, None) => python::find_pin(root)
            .map_err(user)?
            .map(|(version, file)| (version, Source::Pin(file))),
    };
    let env_dir = resolved.env_dir.clone();
    check_env_dir_is_ours(backend, root, &env_dir)?;
    let must_build = args.force || !backend.marker(&env_dir).exists();
    if must_build && env_dir.to_str().is_none() {
        // Measured: uv refuses such a path, and `python -m venv` fails
        // writing its activation scripts, half-way.
        return Err(user(format!(
            "{}: the environment's path is not valid UTF-8, and neither uv, venv nor conda can \
             build an environment there; rename the directory, or set venv.directory to a UTF-8 path",
            crate::config::shown(&env_dir)
        )));
    }

    let requirements = if args.install_deps || new_config.install_deps {
        requirement_files(root, resolved.requirements.as_deref())?
    } else {
        Vec::new()
    };
    let builder = backend.prepare(&BuildRequest {
        root,
        env_dir: &env_dir,
        config: &new_config,
        env_name: &env_name,
        python,
        interactive: ask::interactive(),
        yes: args.yes,
        strict: args.strict,
        auto_bootstrap: args.auto_bootstrap,
        bootstrap_to: args.bootstrap_to,
        conda_spec: &resolved.conda_spec,
    })?;
    let all_envs = project::all_envs(root, &new_config)
        .map_err(|e| user(e.to_string()))?
        .iter()
        .map(crate::trust::EnvRef::of)
        .collect();
    let spec = spec_files(root, &resolved);
    let direnv = !args.no_direnv && new_config.direnv != Some(false);
    // The shared files are checked now, so a broken block fails before
    // anything is built or written.
    let gitignore = gitignore_body(root, &env_dir, named.is_some());
    check_block(&root.join(".gitignore"), &gitignore)?;
    if direnv {
        check_block(&root.join(".envrc"), ENVRC_BODY)?;
    }
    Ok(Plan {
        existing,
        text,
        backend,
        env_dir,
        builder,
        requirements,
        direnv,
        gitignore,
        named,
        adopted,
        all_envs,
        spec,
    })
}

/// Backend selection, highest first: the flag, the config, the project's
/// files, then venv. A conda spec is never ignored without saying so.
fn choose_backend(
    flag: Option<BackendChoice>,
    config: &Config,
    root: &Path,
) -> Result<&'static str, Error> {
    let spec = CONDA_SPECS.iter().find(|f| root.join(f).is_file());
    let (name, reason) = match (flag, config.backend.as_deref(), spec) {
        (Some(BackendChoice::Venv), _, _) => ("venv", "--backend venv".to_owned()),
        (Some(BackendChoice::Micromamba), _, _) => {
            ("micromamba", "--backend micromamba".to_owned())
        }
        (_, Some(name), _) => (
            if name == "venv" { "venv" } else { "micromamba" },
            format!("`backend: {name}` in .pyve/config"),
        ),
        (_, None, Some(spec)) => ("micromamba", format!("{spec} in the project")),
        (_, None, None) => ("venv", String::new()),
    };
    if let (Some(spec), "venv") = (spec, name) {
        info!("note: {spec} is not used: {reason} selects a virtual environment (venv)");
    }
    Ok(name)
}

/// A name is shown in prompts and written to YAML: any text, but one line.
fn check_env_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters or newlines".to_owned());
    }
    Ok(())
}

/// pyve replaces only environments: a directory at the environment's path
/// that is something else is the user's, and stays.
fn check_env_dir_is_ours(
    backend: &dyn backend::Backend,
    root: &Path,
    env_dir: &Path,
) -> Result<(), Error> {
    // Replacing the project itself (`venv.directory: .` in a project that
    // is also a venv) or a directory above it would delete the project.
    let real_env = std::fs::canonicalize(env_dir).unwrap_or_else(|_| env_dir.to_owned());
    if root.starts_with(env_dir) || root.starts_with(&real_env) {
        return Err(user(format!(
            "the environment's path {} is the project directory or above it; \
             set venv.directory in .pyve/config to a directory inside the project, such as `.venv`",
            env_dir.display()
        )));
    }
    let Ok(metadata) = std::fs::symlink_metadata(env_dir) else {
        return Ok(());
    };
    if let Some(error) = super::unreadable_environment(env_dir, &backend.marker(env_dir)) {
        return Err(error);
    }
    let fix = "move it away, or point venv.directory in .pyve/config elsewhere";
    if metadata.file_type().is_symlink() || !metadata.is_dir() {
        return Err(user(format!(
            "{} exists and is not a directory pyve made; {fix}",
            env_dir.display()
        )));
    }
    let empty = std::fs::read_dir(env_dir).is_ok_and(|mut d| d.next().is_none());
    if !empty && !backend.marker(env_dir).exists() && !backend.unfinished(env_dir) {
        return Err(user(format!(
            "{} exists and is not an environment (no {}); {fix}",
            env_dir.display(),
            backend::marker_name(backend, env_dir)
        )));
    }
    Ok(())
}

fn requirement_files(root: &Path, listed: Option<&[PathBuf]>) -> Result<Vec<PathBuf>, Error> {
    let names = listed
        .map(<[PathBuf]>::to_vec)
        .unwrap_or_else(|| vec![PathBuf::from("requirements.txt")]);
    let listed = listed.is_some();
    for name in &names {
        if !root.join(name).is_file() {
            return Err(user(if listed {
                format!(
                    "requirements in .pyve/config lists {}, which does not exist in {}",
                    name.display(),
                    root.display()
                )
            } else {
                format!(
                    "--install-deps: no requirements.txt in {}; create it, or list files under `requirements:` in .pyve/config",
                    root.display()
                )
            }));
        }
    }
    Ok(names)
}

fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
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

/// Takes the project's lock: an exclusive `flock` on the `.pyve` directory
/// itself, so no lock file is left in the project. Says when it waits.
pub fn lock(pyve_dir: &Path) -> Result<Flock<File>, Error> {
    let file = File::open(pyve_dir).map_err(|e| {
        user(format!(
            "cannot open {} to lock it: {e}",
            pyve_dir.display()
        ))
    })?;
    let fail = |e: nix::errno::Errno| user(format!("cannot lock {}: {e}", pyve_dir.display()));
    let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => return Ok(lock),
        Err((file, nix::errno::Errno::EWOULDBLOCK)) => file,
        Err((_, e)) => return Err(fail(e)),
    };
    info!(
        "waiting for another `pyve init` or `pyve purge` in {} to finish",
        pyve_dir.parent().unwrap_or(pyve_dir).display()
    );
    // Blocking in flock would not notice Ctrl-C; poll instead.
    loop {
        process::check()?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => return Ok(lock),
            Err((f, nix::errno::Errno::EWOULDBLOCK)) => file = f,
            Err((_, e)) => return Err(fail(e)),
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The name prefix of build directories next to `env_dir`: hidden, so
/// `.venv` builds in `.venv.pyve-tmp-<pid>` and `env` in `.env.pyve-tmp-<pid>`.
pub fn build_prefix(env_dir: &Path) -> String {
    let name = env_dir.file_name().unwrap_or_default().to_string_lossy();
    let dot = if name.starts_with('.') { "" } else { "." };
    format!("{dot}{name}.pyve-")
}

/// A build directory next to `env_dir`, so the final rename never crosses
/// a filesystem.
fn sibling(env_dir: &Path, kind: &str) -> PathBuf {
    env_dir.with_file_name(format!(
        "{}{kind}-{}",
        build_prefix(env_dir),
        std::process::id()
    ))
}

/// Build directories of inits that were killed outright. Only called with
/// the lock held, so none of them belongs to a running init.
fn remove_leftovers(env_dir: &Path) {
    for leftover in leftovers(env_dir) {
        info!(
            "removing {}, left by an interrupted init",
            leftover.display()
        );
        let _ = std::fs::remove_dir_all(leftover);
    }
}

/// A rebuild in place that was killed outright left the old environment
/// aside (`…pyve-old-<pid>`) and an unfinished one (no marker) in its
/// place: put the old one back rather than lose it with the leftovers.
fn restore_interrupted_rebuild(backend: &dyn backend::Backend, env_dir: &Path) {
    if backend.marker(env_dir).exists() {
        return;
    }
    let old = leftovers(env_dir).into_iter().find(|l| {
        l.file_name()
            .is_some_and(|n| n.to_string_lossy().contains(".pyve-old-"))
            && backend.marker(l).exists()
    });
    if let Some(old) = old {
        let _ = std::fs::remove_dir_all(env_dir);
        if std::fs::rename(&old, env_dir).is_ok() {
            done!(
                "restored {} from a rebuild that was interrupted",
                env_dir.display()
            );
        }
    }
}

/// Build directories next to `env_dir` whose init process is gone.
pub fn leftovers(env_dir: &Path) -> Vec<PathBuf> {
    let Some(parent) = env_dir.parent() else {
        return Vec::new();
    };
    let prefix = build_prefix(env_dir);
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_prefix(&prefix)
                .is_some_and(is_stale)
        })
        .map(|e| e.path())
        .collect()
}

/// Whether a build directory's suffix (`tmp-<pid>`, `old-<pid>`) names a
/// process that is gone. Another project may share the environment's
/// parent directory; its running init's build is not a leftover.
fn is_stale(suffix: &str) -> bool {
    let Some(pid) = suffix
        .strip_prefix("tmp-")
        .or_else(|| suffix.strip_prefix("old-"))
        .and_then(|p| p.parse::<i32>().ok())
        .filter(|p| *p > 0)
    else {
        return false;
    };
    if pid as u32 == std::process::id() {
        return true;
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) == Err(nix::errno::Errno::ESRCH)
}

/// Builds where the environment will live (its files name their prefix).
/// An existing environment is moved aside first and put back if the build
/// fails; the marker is written only by `finish`, after a complete build,
/// so an interrupted build is never taken for a ready environment.
fn build_in_place(builder: &dyn backend::Builder, env_dir: &Path) -> Result<(), Error> {
    struct Restore {
        env_dir: PathBuf,
        old: Option<PathBuf>,
        armed: bool,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            if !self.armed {
                return;
            }
            let _ = std::fs::remove_dir_all(&self.env_dir);
            if let Some(old) = &self.old {
                let _ = std::fs::rename(old, &self.env_dir);
            }
        }
    }
    let old = if std::fs::symlink_metadata(env_dir).is_ok() {
        let old = sibling(env_dir, "old");
        std::fs::rename(env_dir, &old).map_err(|e| {
            user(format!(
                "cannot move {} aside to rebuild it: {e}",
                env_dir.display()
            ))
        })?;
        Some(old)
    } else {
        None
    };
    let mut restore = Restore {
        env_dir: env_dir.to_owned(),
        old,
        armed: true,
    };
    builder.build(env_dir)?;
    process::check()?;
    builder.finish(env_dir, env_dir)?;
    restore.armed = false;
    if let Some(old) = &restore.old {
        let _ = std::fs::remove_dir_all(old);
    }
    Ok(())
}

/// Moves the finished build to `env_dir`, replacing what is there in one
/// step where the system allows, then deletes the old environment.
fn swap_into_place(build_dir: &Path, env_dir: &Path) -> Result<(), Error> {
    let fail = |e: &dyn std::fmt::Display| {
        user(format!(
            "cannot move the new environment to {}: {e}",
            env_dir.display()
        ))
    };
    if std::fs::symlink_metadata(env_dir).is_err() {
        return std::fs::rename(build_dir, env_dir).map_err(|e| fail(&e));
    }
    #[cfg(target_os = "linux")]
    {
        use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
        if renameat2(
            AT_FDCWD,
            build_dir,
            AT_FDCWD,
            env_dir,
            RenameFlags::RENAME_EXCHANGE,
        )
        .is_ok()
        {
            // The build directory now holds the old environment.
            let _ = std::fs::remove_dir_all(build_dir);
            return Ok(());
        }
    }
    let old = sibling(env_dir, "old");
    std::fs::rename(env_dir, &old).map_err(|e| fail(&e))?;
    if let Err(e) = std::fs::rename(build_dir, env_dir) {
        let _ = std::fs::rename(&old, env_dir);
        return Err(fail(&e));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// `.gitignore`'s special characters, escaped so a path matches only itself.
fn gitignore_escape(relative: &[u8]) -> String {
    let mut out = String::new();
    for (i, c) in String::from_utf8_lossy(relative).chars().enumerate() {
        if matches!(c, '*' | '?' | '[' | '\\') || (i == 0 && matches!(c, '#' | '!')) {
            out.push('\\');
        }
        out.push(c);
    }
    if out.ends_with(' ') {
        out.insert(out.len() - 1, '\\');
    }
    out
}

fn gitignore_body(root: &Path, env_dir: &Path, named: bool) -> String {
    let mut body = String::from("# Managed by `pyve init`; `pyve purge` removes this block.\n");
    if let Ok(relative) = project::lexical(env_dir).strip_prefix(root) {
        if !relative.as_os_str().is_empty() && !relative.starts_with(".pyve/envs") {
            body.push_str(&format!(
                "/{}/\n",
                gitignore_escape(relative.as_os_str().as_bytes())
            ));
        }
    }
    body.push_str("/.pyve/envs/\n");
    if named {
        // Which environment is active is each checkout's own choice.
        body.push_str("/.pyve/current\n");
    }
    body
}

const ENVRC_BODY: &str = "\
# Managed by `pyve init`; `pyve purge` removes this block. Lines outside it are yours.
watch_file .pyve/config
if has pyve; then
  eval \"$(pyve export direnv)\"
else
  log_error \"pyve is not on PATH: install it to load this project's environment\"
fi
";

/// Fails now if pyve's block in a shared file could not be written later:
/// an unterminated block, or a symlink that leads nowhere.
fn check_block(path: &Path, body: &str) -> Result<(), Error> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::canonicalize(path).is_err()
    {
        return Err(user(format!(
            "{} is a symlink to nothing; remove it or point it at a file",
            path.display()
        )));
    }
    let current = files::read_optional(path)?.unwrap_or_default();
    files::with_block(path, &current, body).map(|_| ())
}

/// Sets pyve's block in a shared file, writing only when it changes.
fn update_block(path: &Path, body: &str) -> Result<(), Error> {
    let current = files::read_optional(path)?;
    let text = current.clone().unwrap_or_default();
    let updated = files::with_block(path, &text, body)?;
    if current.as_deref() != Some(updated.as_slice()) {
        files::write_atomic(path, &updated)?;
        done!("updated {}", path.display());
    }
    Ok(())
}

fn explain(root: &Path, env_dir: &Path, direnv: bool) {
    let (hook, rc_file) = super::hook_setup();
    done!("ready: {} in {}", env_dir.display(), root.display());
    detail!("  with the shell hook: add `{hook}` to {rc_file}, then cd into the project");
    if direnv {
        detail!("  with direnv: run `direnv allow` in the project");
    }
    detail!("  without any shell setup: `pyve run python`");
}

/// Which environment is active now that `name` is built, and how to switch.
fn explain_named(root: &Path, name: &str) {
    let active = config::load(&project::config_path(root))
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

#[cfg(test)]
mod tests {
    use super::gitignore_escape;

    #[test]
    fn gitignore_patterns_match_only_the_path() {
        assert_eq!(gitignore_escape(b".venv"), ".venv");
        assert_eq!(gitignore_escape(b"#env"), "\\#env");
        assert_eq!(gitignore_escape(b"e[1]*?"), "e\\[1]\\*\\?");
        assert_eq!(gitignore_escape(b"env "), "env\\ ");
    }
}
