//! Conda environments built by micromamba from the project's
//! `conda-lock.yml` or `environment.yml`, at `<root>/.pyve/envs/<env_name>`,
//! and activated by pyve itself: no micromamba process at prompt time.

mod name;
pub mod spec;
pub mod tool;
mod vars;

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use name::{check_env_name, derive as derive_env_name};

use super::{Activation, Backend, Before, BuildRequest, Builder, Inspection, Scripts};
use crate::cli::BootstrapTo;
use crate::config::{Config, LockPolicy};
use crate::error::{user, Error};
use crate::health::Finding;
use crate::{ask, process, python};
use spec::{LockStatus, Spec};
use tool::Tool;

pub struct Micromamba;

/// Written into the prefix once `micromamba create` succeeded: the marker
/// that the environment is complete, holding the digest of the spec it was
/// built from.
const MARKER: &str = "conda-meta/pyve-built";

/// Where a project's conda environments live.
pub fn envs_dir(root: &Path) -> PathBuf {
    root.join(".pyve/envs")
}

/// The environment's name, highest first: `micromamba.env_name`, the
/// config's `env_name`, environment.yml's `name:`, the directory's name.
/// Names the user wrote must already be valid; the others are sanitized.
pub fn env_name(root: &Path, config: &Config) -> Result<(String, &'static str), String> {
    if let Some(name) = &config.micromamba.env_name {
        return Ok((name.clone(), "micromamba.env_name in .pyve/config"));
    }
    if let Some(name) = &config.env_name {
        check_env_name(name).map_err(|m| format!("env_name in .pyve/config: {m}"))?;
        return Ok((name.clone(), "env_name in .pyve/config"));
    }
    let environment = root.join(spec::ENVIRONMENT_FILE);
    if environment.is_file() {
        if let Some(name) = spec::read_environment(&environment)?.name {
            let derived = name::derive(&name).map_err(|m| {
                format!("`name: {name}` in environment.yml: {m}; or set one with --env-name")
            })?;
            return Ok((derived, "name in environment.yml"));
        }
    }
    let base = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let derived = name::derive(&base).map_err(|m| {
        format!("the project directory's name {base:?}: {m}; set one with --env-name")
    })?;
    Ok((derived, "the project directory's name"))
}

impl Backend for Micromamba {
    fn name(&self) -> &'static str {
        "micromamba"
    }

    fn default_env_dir(&self, root: &Path, env_name: &[u8]) -> PathBuf {
        envs_dir(root).join(std::ffi::OsStr::from_bytes(env_name))
    }

    fn marker(&self, env_dir: &Path) -> PathBuf {
        env_dir.join(MARKER)
    }

    /// What `micromamba activate -p <prefix>` exports, stacked on a conda
    /// environment the shell already had: that one's prefix is saved as
    /// `CONDA_PREFIX_<n>` and its PATH entries stay behind this one's.
    fn activation(&self, prefix: &Path, env_name: &[u8], before: Before) -> Activation {
        let prefix_bytes = prefix.as_os_str().as_bytes().to_vec();
        let mut level = before("CONDA_SHLVL")
            .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse::<u32>().ok())
            .unwrap_or(0);
        let outer = before("CONDA_PREFIX");
        // This very environment already active (`pyve run` in a shell the
        // hook or direnv activated): the same level again, not one more.
        let again = outer.as_deref() == Some(prefix_bytes.as_slice());
        if again {
            level = level.saturating_sub(1);
        }
        let mut modifier = b"(".to_vec();
        modifier.extend_from_slice(env_name);
        modifier.extend_from_slice(b") ");
        let mut set = vec![
            ("CONDA_PREFIX".to_owned(), prefix_bytes),
            (
                "CONDA_SHLVL".to_owned(),
                (level + 1).to_string().into_bytes(),
            ),
            ("CONDA_DEFAULT_ENV".to_owned(), env_name.to_vec()),
            ("CONDA_PROMPT_MODIFIER".to_owned(), modifier),
        ];
        if level > 0 && !again {
            if let Some(outer) = outer {
                set.push((format!("CONDA_PREFIX_{level}"), outer));
            }
        }
        // The environment's own variables come after conda's, as conda
        // applies them; pyve's own variables come after both.
        let (own, warnings) = vars::read(prefix);
        set.extend(own);
        let etc = prefix.join("etc/conda");
        let has_scripts = ["activate.d", "deactivate.d"]
            .iter()
            .any(|d| etc.join(d).is_dir());
        Activation {
            path_prepend: vec![prefix.join("bin").as_os_str().as_bytes().to_vec()],
            set,
            unset: Vec::new(),
            scripts: has_scripts.then_some(Scripts { dir: etc }),
            warnings,
        }
    }

    fn prepare(&self, request: &BuildRequest) -> Result<Box<dyn Builder>, Error> {
        let root = request.root;
        let files = request.conda_spec;
        let spec = spec::detect(files).ok_or_else(|| {
            user(format!(
                "the micromamba backend needs {} in {}; create {} with:\n{}",
                files.describe(),
                root.display(),
                files.environment_name(),
                spec::minimal_environment_yml(request.env_name)
            ))
        })?;
        if !spec.is_lock {
            let file = spec::read_environment(&spec.path).map_err(user)?;
            if !file.has_channels {
                return Err(user(format!(
                    "{} lists no channels; pyve passes the file's channels to micromamba untouched, so add:\n  channels:\n    - conda-forge",
                    spec.path.display()
                )));
            }
        } else {
            spec::lock_packages(&spec.path).map_err(user)?;
        }
        let policy = if request.strict {
            LockPolicy::Strict
        } else {
            request.config.lock_file_policy.unwrap_or(LockPolicy::Warn)
        };
        check_lock(files, policy, request.interactive, request.yes)?;
        let tool = find_or_bootstrap(request)?;
        let digest = spec::digest(&spec.path).map_err(user)?;
        Ok(Box::new(CondaBuilder {
            tool,
            spec,
            digest,
            prefix: request.env_dir.to_owned(),
        }))
    }

    fn inspect(&self, prefix: &Path) -> Inspection {
        inspect(prefix)
    }

    fn reads_environment(&self) -> bool {
        true
    }

    fn diagnose(&self, root: &Path, prefix: &Path, files: &spec::SpecFiles) -> Vec<Finding> {
        diagnose(root, prefix, files)
    }

    /// A transaction (`micromamba install -p`) appends to the history and
    /// may add scripts or variables; `env config vars` edits the state.
    fn watched(&self, prefix: &Path) -> Vec<PathBuf> {
        vec![
            prefix.join("conda-meta/history"),
            prefix.join("conda-meta/state"),
            prefix.join("etc/conda/env_vars.d"),
        ]
    }

    fn unfinished(&self, prefix: &Path) -> bool {
        // Anything in `.pyve/envs` is pyve's; a prefix without the marker
        // is a create that failed or was killed.
        prefix.parent().is_some_and(|p| p.ends_with(".pyve/envs"))
    }
}

/// Applies the lock file policy: warns (and asks, on a terminal), refuses
/// under `strict`, or says nothing under `ignore`.
fn check_lock(
    files: &spec::SpecFiles,
    policy: LockPolicy,
    interactive: bool,
    yes: bool,
) -> Result<(), Error> {
    if policy == LockPolicy::Ignore {
        return Ok(());
    }
    let status = spec::lock_status(files).map_err(user)?;
    let strict = policy == LockPolicy::Strict;
    let (environment_file, lock_file) = (files.environment_name(), files.lock_name());
    match status {
        LockStatus::LockOnly | LockStatus::Fresh => Ok(()),
        LockStatus::Missing => {
            let advice = format!(
                "for reproducible builds, generate a lock file: {}{}",
                spec::lock_command(files),
                if files.lock.is_none() {
                    format!(" and set `lock_file: {lock_file}` in the environment's entry")
                } else {
                    String::new()
                }
            );
            if strict {
                return Err(user(format!(
                    "no {lock_file} (lock_file_policy is strict); {advice}"
                )));
            }
            // A note for people; CI logs stay quiet.
            if interactive {
                info!("using {environment_file} without a lock file; {advice}");
            }
            Ok(())
        }
        LockStatus::Stale {
            environment_modified,
            lock_modified,
            older,
            not_locked,
        } => {
            let mut message = format!("{lock_file} may be stale:\n");
            message.push_str(&format!(
                "  {environment_file}:  modified {}\n  {lock_file}:   modified {}\n",
                spec::timestamp(environment_modified),
                spec::timestamp(lock_modified)
            ));
            if older {
                message.push_str(&format!(
                    "  {environment_file} was changed after the lock was made\n"
                ));
            }
            if !not_locked.is_empty() {
                message.push_str(&format!("  not in the lock: {}\n", not_locked.join(", ")));
            }
            message.push_str(&format!(
                "{lock_file} is used, for reproducibility. To update it:\n  {}",
                spec::lock_command(files)
            ));
            if strict {
                return Err(user(format!("{message}\n(lock_file_policy is strict)")));
            }
            if !interactive {
                // No terminal: never a question, and CI logs stay quiet.
                return Ok(());
            }
            warn!("{message}");
            if yes {
                info!("continuing (--yes)");
                return Ok(());
            }
            if ask::confirm_default_yes("Continue anyway?") {
                Ok(())
            } else {
                Err(user(
                    "stopped; nothing was changed. Update the lock file and run `pyve init` again",
                ))
            }
        }
    }
}

/// The micromamba to build with; downloads one when asked to, or when the
/// person at the terminal agrees.
fn find_or_bootstrap(request: &BuildRequest) -> Result<Tool, Error> {
    if request.root.join(".pyve/bin/micromamba").exists() {
        if let Err(why) = tool::project_copy_usable(request.root) {
            info!("{why}");
        }
    }
    if let Some(found) = tool::find(request.root) {
        tool::version(&found.path).map_err(|e| {
            user(format!(
                "the micromamba found in {} does not work: {e}",
                found.origin
            ))
        })?;
        return Ok(found);
    }
    let to = request.bootstrap_to;
    if !request.auto_bootstrap {
        {
            let mut message = String::from("micromamba was not found. pyve looked at:\n");
            for place in tool::places(request.root) {
                message.push_str(&format!("  {place}\n"));
            }
            message.push_str(
                "Run `pyve init --auto-bootstrap` to download it to ~/.pyve/bin \
                 (or add `--bootstrap-to project` for this project's .pyve/bin), \
                 or install micromamba yourself. pyve never falls back to venv for a conda project",
            );
            // Only a person at a terminal is offered a download; `--yes`
            // alone (CI) never fetches and runs a binary.
            if !request.interactive {
                return Err(user(message));
            }
            info!("{message}");
            let url = tool::download_url()?;
            let place = match to {
                BootstrapTo::User => "~/.pyve/bin",
                BootstrapTo::Project => "this project's .pyve/bin",
            };
            if !ask::confirm(
                &format!("Download micromamba from {url} to {place} now?"),
                request.yes,
            ) {
                return Err(user("micromamba is needed; nothing was changed"));
            }
        }
    }
    let dir = tool::bootstrap_dir(request.root, to)?;
    let mut found = tool::bootstrap(&dir)?;
    found.origin = match to {
        BootstrapTo::Project => tool::Origin::Project,
        BootstrapTo::User => tool::Origin::User,
    };
    Ok(found)
}

struct CondaBuilder {
    tool: Tool,
    spec: Spec,
    digest: String,
    prefix: PathBuf,
}

impl Builder for CondaBuilder {
    fn describe(&self) -> String {
        format!(
            "micromamba create from {} (micromamba {} from {})",
            self.spec.file_name(),
            self.tool.path.display(),
            self.tool.origin
        )
    }

    fn accepts(&self, _existing: &Inspection) -> Result<(), String> {
        self.built_from_this_spec(&self.prefix)
    }

    fn build(&self, prefix: &Path) -> Result<(), Error> {
        let mut command = Command::new(&self.tool.path);
        command
            .args(["create", "-y", "-p"])
            .arg(prefix)
            .arg("-f")
            .arg(&self.spec.path);
        if let Some(root) = self.spec.path.parent() {
            command.current_dir(root);
        }
        process::run(&mut command, "creating the conda environment")
    }

    fn install(&self, _dir: &Path, _root: &Path, _requirements: &[PathBuf]) -> Result<(), Error> {
        Err(user(
            "the micromamba backend installs only what environment.yml lists; \
             put pip packages under `dependencies: - pip: [...]` there",
        ))
    }

    fn finish(&self, prefix: &Path, _final_dir: &Path) -> Result<(), Error> {
        let marker = prefix.join(MARKER);
        let text = format!("spec: {}\nsha256: {}\n", self.spec.file_name(), self.digest);
        std::fs::write(&marker, text)
            .map_err(|e| user(format!("cannot write {}: {e}", marker.display())))
    }

    fn in_place(&self) -> bool {
        true
    }
}

impl CondaBuilder {
    /// Whether the environment at `prefix` was built from this very spec.
    fn built_from_this_spec(&self, prefix: &Path) -> Result<(), String> {
        match built_from(prefix) {
            Some((file, digest)) if file == self.spec.file_name() && digest == self.digest => {
                Ok(())
            }
            Some((file, _)) if file != self.spec.file_name() => Err(format!(
                "it was built from {file}, and {} is used now",
                self.spec.file_name()
            )),
            _ => Err(format!(
                "{} changed since it was built",
                self.spec.file_name()
            )),
        }
    }
}

/// The spec file name and digest recorded in the marker.
pub fn built_from(prefix: &Path) -> Option<(String, String)> {
    let text = std::fs::read_to_string(prefix.join(MARKER)).ok()?;
    let mut file = None;
    let mut digest = None;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("spec: ") {
            file = Some(v.to_owned());
        } else if let Some(v) = line.strip_prefix("sha256: ") {
            digest = Some(v.to_owned());
        }
    }
    Some((file?, digest?))
}

fn diagnose(root: &Path, prefix: &Path, files: &spec::SpecFiles) -> Vec<Finding> {
    let mut findings = Vec::new();
    if root.join(".pyve/bin/micromamba").exists() {
        if let Err(why) = tool::project_copy_usable(root) {
            findings.push(Finding::warning(
                "micromamba",
                why,
                "pyve allow, if you trust the project's own micromamba",
            ));
        }
    }
    findings.push(match tool::find(root) {
        Some(found) => match tool::version(&found.path) {
            Ok(version) => Finding::ok(
                "micromamba",
                format!(
                    "micromamba {version} at {} (from {})",
                    found.path.display(),
                    found.origin
                ),
            ),
            Err(e) => Finding::error(
                "micromamba",
                format!("the micromamba in {} does not work: {e}", found.origin),
                "pyve init --auto-bootstrap",
            ),
        },
        None => Finding::error(
            "micromamba",
            format!(
                "micromamba not found; looked at {}",
                tool::places(root).join(", ")
            ),
            "pyve init --auto-bootstrap (or --bootstrap-to project), or install micromamba",
        ),
    });
    let Some(spec) = spec::detect(files) else {
        findings.push(Finding::error(
            "spec",
            format!("no {} in {}", files.describe(), root.display()),
            format!(
                "create {}:\n{}",
                files.environment_name(),
                spec::minimal_environment_yml("myproject")
            ),
        ));
        return findings;
    };
    findings.push(Finding::ok(
        "spec",
        format!("{} is used", spec.path.display()),
    ));
    let (environment_file, lock_file) = (files.environment_name(), files.lock_name());
    findings.push(match spec::lock_status(files) {
        Ok(LockStatus::Fresh) => Finding::ok("lock", format!("{lock_file} is fresh")),
        Ok(LockStatus::LockOnly) => Finding::ok(
            "lock",
            format!("{lock_file} (no {environment_file} to compare)"),
        ),
        Ok(LockStatus::Missing) => Finding::warning(
            "lock",
            format!("no {lock_file}: builds are not reproducible"),
            spec::lock_command(files),
        ),
        Ok(LockStatus::Stale {
            environment_modified,
            lock_modified,
            not_locked,
            ..
        }) => Finding::warning(
            "lock",
            format!(
                "{lock_file} may be stale: {environment_file} modified {}, {lock_file} modified {}{}",
                spec::timestamp(environment_modified),
                spec::timestamp(lock_modified),
                if not_locked.is_empty() {
                    String::new()
                } else {
                    format!("; not in the lock: {}", not_locked.join(", "))
                }
            ),
            spec::lock_command(files),
        ),
        Err(message) => Finding::error("lock", message, "fix the file"),
    });
    if prefix.join(MARKER).is_file() {
        let current = spec::digest(&spec.path).ok();
        match built_from(prefix) {
            Some((file, digest))
                if file == spec.file_name() && Some(&digest) == current.as_ref() =>
            {
                findings.push(Finding::ok(
                    "built",
                    format!("built from the current {file}"),
                ))
            }
            Some((file, _)) => findings.push(Finding::warning(
                "built",
                format!("built from {file}, which changed since (or another spec is used now)"),
                "pyve init",
            )),
            None => findings.push(Finding::warning(
                "built",
                "the build record is unreadable",
                "pyve init --force",
            )),
        }
    }
    findings
}

fn inspect(prefix: &Path) -> Inspection {
    let mut inspection = Inspection::default();
    if !prefix.join(MARKER).is_file() {
        let what = if prefix.join("conda-meta").is_dir() {
            format!(
                "{} is unfinished (a create failed or was interrupted)",
                prefix.display()
            )
        } else {
            format!("no environment at {}", prefix.display())
        };
        inspection
            .findings
            .push(Finding::error("environment", what, "pyve init"));
        return inspection;
    }
    inspection.exists = true;
    inspection.findings.push(Finding::ok(
        "environment",
        format!("{} exists", prefix.display()),
    ));
    let python = prefix.join("bin/python");
    match python::probe(&python) {
        Some((version, _)) => {
            inspection.runs = Some(version);
            inspection
                .findings
                .push(Finding::ok("python", format!("Python {version} runs")));
        }
        None if !python::is_executable(&python) => inspection.findings.push(Finding::error(
            "python",
            format!(
                "the environment has no Python ({} is missing)",
                python.display()
            ),
            "add `python` to the dependencies in environment.yml, then run `pyve init --force`",
        )),
        None => inspection.findings.push(Finding::error(
            "python",
            format!("{} does not run", python.display()),
            "pyve init --force",
        )),
    }
    let pip_installed = pip_packages(prefix);
    if !pip_installed.is_empty() {
        inspection.findings.push(Finding::warning(
            "pip",
            format!(
                "installed with pip, not conda: {}; mixing pip into a conda environment is against pyve's policy",
                pip_installed.join(", ")
            ),
            "list them in environment.yml (under `- pip:` if conda has no package), then run `pyve init --force`",
        ));
    }
    inspection
}

/// `*.dist-info` directories in site-packages that no conda package record
/// lists: what `pip install` put there behind conda's back.
fn pip_packages(prefix: &Path) -> Vec<String> {
    let Ok(lib) = std::fs::read_dir(prefix.join("lib")) else {
        return Vec::new();
    };
    let mut dist_infos = Vec::new();
    for entry in lib.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("python") {
            continue;
        }
        if let Ok(site) = std::fs::read_dir(entry.path().join("site-packages")) {
            dist_infos.extend(
                site.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".dist-info")),
            );
        }
    }
    if dist_infos.is_empty() {
        return Vec::new();
    }
    let mut records = String::new();
    if let Ok(meta) = std::fs::read_dir(prefix.join("conda-meta")) {
        for entry in meta.flatten() {
            if entry.path().extension().is_some_and(|e| e == "json") {
                records.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
    }
    let mut pip: Vec<String> = dist_infos
        .into_iter()
        .filter(|d| !records.contains(&format!("/{d}/")))
        .map(|d| d.trim_end_matches(".dist-info").to_owned())
        .collect();
    pip.sort();
    pip
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_packages_are_dist_infos_no_record_lists() {
        let prefix = tempfile::tempdir().unwrap();
        let site = prefix.path().join("lib/python3.11/site-packages");
        std::fs::create_dir_all(site.join("numpy-2.0.dist-info")).unwrap();
        std::fs::create_dir_all(site.join("requests-2.32.dist-info")).unwrap();
        std::fs::create_dir_all(prefix.path().join("conda-meta")).unwrap();
        std::fs::write(
            prefix.path().join("conda-meta/numpy-2.0-0.json"),
            r#"{"files": ["lib/python3.11/site-packages/numpy-2.0.dist-info/METADATA"]}"#,
        )
        .unwrap();
        assert_eq!(pip_packages(prefix.path()), ["requests-2.32"]);
    }
}
