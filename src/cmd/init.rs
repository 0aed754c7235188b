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
use crate::{ask, files, process, project};

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
        eprintln!(
            "pyve: {} changed while waiting; deciding again",
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
    } = plan;
    restore_interrupted_rebuild(backend, &env_dir);
    remove_leftovers(&env_dir);

    let marker = backend.marker(&env_dir);
    let inspection = marker.exists().then(|| backend.inspect(&env_dir));
    let keep = match &inspection {
        Some(existing) if existing.healthy() && !args.force => match builder.accepts(existing) {
            Ok(()) => true,
            Err(why) => {
                eprintln!("pyve: rebuilding {}: {why}", env_dir.display());
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
            eprintln!("pyve: rebuilding {}: {why}", env_dir.display());
            false
        }
        None => false,
    };
    if keep {
        eprintln!(
            "pyve: keeping the healthy environment at {} (Python {}); --force rebuilds it",
            env_dir.display(),
            inspection
                .as_ref()
                .and_then(|i| i.runs)
                .map(|v| v.to_string())
                .unwrap_or_default()
        );
        if !requirements.is_empty() {
            eprintln!("pyve: installing {}", list(&requirements));
            builder.install(&env_dir, &root, &requirements)?;
        }
    } else {
        eprintln!(
            "pyve: creating {}: {}",
            env_dir.display(),
            builder.describe()
        );
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
                eprintln!("pyve: installing {}", list(&requirements));
                builder.install(&build_dir, &root, &requirements)?;
            }
            builder.finish(&build_dir, &env_dir)?;
            process::check()?;
            swap_into_place(&build_dir, &env_dir)?;
            guard.0 = None;
        }
        eprintln!(
            "pyve: created {} in {} ms",
            env_dir.display(),
            started.elapsed().as_millis()
        );
    }

    if existing.as_deref() != Some(text.as_bytes()) {
        files::write_atomic(&config_path, text.as_bytes())?;
        eprintln!("pyve: wrote {}", config_path.display());
    }
    // The user made this project with this config: the hook may activate
    // it. A later edit of the config needs a new approval.
    let approval = crate::trust::grant(
        &crate::trust::Subject {
            project: &root,
            config: text.as_bytes(),
            env_dir: &env_dir,
            marker: &marker,
        },
        !keep,
    );
    match approval {
        Ok(crate::trust::Approved::Known) => {}
        Ok(crate::trust::Approved::Foreign) => eprintln!(
            "pyve: note: the environment kept at {} was not built by pyve on this machine \
             (it came with the project, or was made by hand); `pyve init --force` rebuilds it",
            env_dir.display()
        ),
        Err(e) => eprintln!("pyve: warning: cannot record the approval of this project: {e}"),
    }
    undo.pyve_dir = None;
    update_block(&root.join(".gitignore"), &gitignore)?;
    if direnv {
        update_block(&root.join(".envrc"), ENVRC_BODY)?;
    }
    drop(undo);
    drop(lock);
    explain(&root, &env_dir, direnv);
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
        eprintln!("pyve: {warning}");
    }
    let config = loaded.config;

    let backend_name = choose_backend(args.backend, &config, root)?;
    let backend = backend::by_name(backend_name).expect("choose_backend returns known names");

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
                    eprintln!("pyve: environment name `{name}`, from {source}");
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
    if conda && (args.install_deps || config.install_deps) {
        return Err(user(
            "the micromamba backend installs only what the conda spec lists; \
             put pip packages under `- pip:` in environment.yml's dependencies instead of --install-deps",
        ));
    }

    let python = match (flag_version, config.python.request()) {
        (Some(version), _) => Some((version, Source::Flag)),
        (None, Some(version)) => Some((version, Source::Config(config_path.clone()))),
        (None, None) => python::find_pin(root)
            .map_err(user)?
            .map(|(version, file)| (version, Source::Pin(file))),
    };

    // The config as it will be written: only the lines the flags change.
    let mut text = match &existing {
        Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        None => NEW_CONFIG.to_owned(),
    };
    let mut edit = |section: Option<&str>, key: &str, value: String| -> Result<(), Error> {
        text = config::set_value(&text, section, key, &value).ok_or_else(|| {
            let name = section.map_or(key.to_owned(), |s| format!("{s}.{key}"));
            user(format!(
                "cannot update {} automatically (its `{name}` is not a simple `key: value` line); \
                 set `{name}: {value}` by hand and run `pyve init` again",
                config_path.display()
            ))
        })?;
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
    let new_config = config::parse(&config_path, text.as_bytes())
        .map_err(|e| {
            user(format!(
                "pyve produced an invalid config, nothing written: {e}"
            ))
        })?
        .config;
    let resolved = project::resolve(root, &new_config).map_err(|e| user(e.to_string()))?;
    project::check_env_dir(&resolved.env_dir).map_err(|e| user(e.to_string()))?;
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
        requirement_files(root, &new_config)?
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
    })?;
    let direnv = !args.no_direnv && new_config.direnv != Some(false);
    // The shared files are checked now, so a broken block fails before
    // anything is built or written.
    let gitignore = gitignore_body(root, &env_dir);
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
        eprintln!("pyve: note: {spec} is not used: {reason} selects a virtual environment (venv)");
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

fn requirement_files(root: &Path, config: &Config) -> Result<Vec<PathBuf>, Error> {
    let listed = config.requirements.is_some();
    let names = config
        .requirements
        .clone()
        .unwrap_or_else(|| vec![PathBuf::from("requirements.txt")]);
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
    eprintln!(
        "pyve: waiting for another `pyve init` or `pyve purge` in {} to finish",
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
        eprintln!(
            "pyve: removing {}, left by an interrupted init",
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
            eprintln!(
                "pyve: restored {} from a rebuild that was interrupted",
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

fn gitignore_body(root: &Path, env_dir: &Path) -> String {
    let mut body = String::from("# Managed by `pyve init`; `pyve purge` removes this block.\n");
    if let Ok(relative) = lexical(env_dir).strip_prefix(root) {
        if !relative.as_os_str().is_empty() {
            body.push_str(&format!(
                "/{}/\n",
                gitignore_escape(relative.as_os_str().as_bytes())
            ));
        }
    }
    body.push_str("/.pyve/envs/\n");
    body
}

/// `a/./b/../c` as `a/c`, without touching the filesystem (the path may
/// not exist yet): what a `.gitignore` pattern must name.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
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
        eprintln!("pyve: updated {}", path.display());
    }
    Ok(())
}

fn explain(root: &Path, env_dir: &Path, direnv: bool) {
    let (hook, rc_file) = super::hook_setup();
    eprintln!("pyve: ready: {} in {}", env_dir.display(), root.display());
    eprintln!("  with the shell hook: add `{hook}` to {rc_file}, then cd into the project");
    if direnv {
        eprintln!("  with direnv: run `direnv allow` in the project");
    }
    eprintln!("  without any shell setup: `pyve run python`");
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
