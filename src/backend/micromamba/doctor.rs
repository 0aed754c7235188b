//! What `doctor` and `init` learn about a conda environment and what it
//! needs: micromamba itself, the spec, the lock, the build record, the
//! Python inside, and packages pip put there behind conda's back.

use std::path::Path;

use super::lock::{self, LockStatus};
use super::spec::{self, SpecFiles};
use super::{built_from, pip_allowed, tool, MARKER};
use crate::backend::{Diagnosis, Inspection};
use crate::health::Finding;
use crate::{files, python};

pub(super) fn diagnose(diagnosis: &Diagnosis) -> Vec<Finding> {
    let places = tool::Places {
        root: diagnosis.root,
        project_tools: diagnosis.project_tools,
        vars: diagnosis.vars,
    };
    let mut findings = Vec::new();
    if let Some(why) = places.project_copy_refused() {
        findings.push(Finding::warning(
            "micromamba",
            why,
            "pyve allow, if you trust the project's own micromamba",
        ));
    }
    findings.push(tool_finding(&places));
    let files = SpecFiles::new(diagnosis.root, diagnosis.sources);
    let Some(spec) = spec::detect(&files) else {
        findings.push(Finding::error(
            "spec",
            format!("no {} in {}", files.describe(), diagnosis.root.display()),
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
    findings.push(lock_finding(&files, &diagnosis.sources.channels));
    if diagnosis.env_dir.join(MARKER).is_file() {
        findings.push(built_finding(
            diagnosis.env_dir,
            &spec,
            &files,
            &diagnosis.sources.channels,
        ));
    }
    findings
}

/// Which micromamba a build would use, and whether it runs.
fn tool_finding(places: &tool::Places) -> Finding {
    let Some(found) = places.find() else {
        return Finding::error(
            "micromamba",
            format!(
                "micromamba not found; looked at {}",
                places.looked_at().join(", ")
            ),
            "pyve init --auto-bootstrap (or --bootstrap-to project), or install micromamba",
        );
    };
    match tool::version(&found.path) {
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
    }
}

fn lock_finding(files: &SpecFiles, channels: &[String]) -> Finding {
    let (environment_file, lock_file) = (files.environment_name(), files.lock_name());
    match lock::status(files, channels) {
        Ok(LockStatus::Fresh(basis)) => {
            Finding::ok("lock", format!("{lock_file} is fresh{}", basis.note()))
        }
        Ok(LockStatus::LockOnly) => Finding::ok(
            "lock",
            format!("{lock_file} (no {environment_file} to compare)"),
        ),
        Ok(LockStatus::Missing) => Finding::warning(
            "lock",
            format!("no {lock_file}: builds are not reproducible"),
            spec::lock_command(files),
        ),
        Ok(LockStatus::Stale(reasons, basis)) => Finding::warning(
            "lock",
            format!(
                "{lock_file} is stale{}: {}",
                basis.note(),
                reasons.join("; ")
            ),
            spec::lock_command(files),
        ),
        Err(error) => Finding::error("lock", error.to_string(), "fix the file"),
    }
}

/// Whether the environment was built from the spec as it is now.
fn built_finding(
    prefix: &Path,
    spec: &spec::Spec,
    files: &SpecFiles,
    channels: &[String],
) -> Finding {
    let variables = if spec.is_lock {
        spec::lock_variables(files).unwrap_or_default()
    } else {
        Vec::new()
    };
    let current = match spec::read_bytes(&spec.path) {
        Ok(bytes) => spec::build_digest(&bytes, spec.is_lock, channels, &variables),
        Err(error) => return Finding::error("spec", error.to_string(), "fix the file"),
    };
    match built_from(prefix) {
        Some((file, digest)) if file == spec.file_name() && digest == current => {
            Finding::ok("built", format!("built from the current {file}"))
        }
        Some((file, _)) => Finding::warning(
            "built",
            format!("built from {file}, which changed since (or another spec is used now)"),
            "pyve init",
        ),
        None => Finding::warning(
            "built",
            "the build record is unreadable",
            "pyve init --force",
        ),
    }
}

pub(super) fn inspect(prefix: &Path) -> Inspection {
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
        None if !files::is_executable(&python) => inspection.findings.push(Finding::error(
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
    let pip_installed = pip_packages(prefix, pip_allowed(prefix).as_deref());
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
/// lists and the spec's `- pip:` section does not name: what `pip install`
/// put there behind conda's back. `allowed` None: the spec's pip section
/// installs what pyve cannot name, so nothing is counted.
fn pip_packages(prefix: &Path, allowed: Option<&[String]>) -> Vec<String> {
    let Some(allowed) = allowed else {
        return Vec::new();
    };
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
                // A package's record lists its files: megabytes at most.
                if let Ok(bytes) = files::read_bounded(&entry.path(), 64 << 20) {
                    records.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
        }
    }
    let mut pip: Vec<String> = dist_infos
        .into_iter()
        .filter(|d| !records.contains(&format!("/{d}/")))
        .filter(|d| {
            let name = d.split('-').next().unwrap_or_default();
            !allowed.contains(&spec::normalize_pip(name))
        })
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
        std::fs::create_dir_all(site.join("Alpha_Pkg-1.0.dist-info")).unwrap();
        assert_eq!(
            pip_packages(prefix.path(), Some(&["alpha-pkg".to_owned()])),
            ["requests-2.32"]
        );
        assert!(pip_packages(prefix.path(), None).is_empty());
    }
}
