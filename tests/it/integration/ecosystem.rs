//! pyve among the other tools: version manager shims on PATH, VS Code's
//! settings, make, and the CI recipes of docs/ci.md run from the doc.

use std::path::{Path, PathBuf};

use crate::per_shell;
use crate::support::*;

/// `~/.pyenv/shims/python` and `python3` that say they are the shim.
fn shims(sb: &Sandbox) -> PathBuf {
    let dir = sb.home.join(".pyenv/shims");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["python", "python3"] {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\necho SHIM\n").unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    dir
}

per_shell!(shims_never_shadow_the_environment, |sh: Sh| {
    let sb = Sandbox::new();
    let shim_dir = shims(&sb);
    let root = sb.venv_project("shimmed", "");
    let prefix = "import sys; print(sys.prefix)";
    let ask = format!("python -c '{prefix}'");
    // The rc of a shell started inside the project puts the shims first
    // again, as `eval "$(pyenv init -)"` does.
    let child = sb.child_script(
        sh,
        "child",
        &format!(
            "{}\n{}\n{ask}",
            sh.prepend_path(&shim_dir.display().to_string()),
            sh.prompt()
        ),
    );
    let script = [
        sh.prepend_path(&shim_dir.display().to_string()),
        cd(sh, &root),
        sh.prompt().to_owned(),
        ask.clone(),
        child,
        cd(sh, &sb.path("tmp")),
        sh.prompt().to_owned(),
        "python".to_owned(),
    ]
    .join("\n");
    let out = sb.script_ok(sh, &script);
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let venv = root.join(".venv").display().to_string();
    assert_eq!(lines, [venv.clone(), venv, "SHIM".to_owned()], "{sh:?}");
});

#[test]
fn run_puts_the_environment_ahead_of_shims() {
    let sb = Sandbox::new();
    let shim_dir = shims(&sb);
    let root = sb.venv_project("runshim", "");
    let out = sb
        .pyve_command(
            &root,
            &["run", "python", "-c", "import sys; print(sys.prefix)"],
        )
        .env("PATH", format!("{}:{}", shim_dir.display(), sb.base_path))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        root.join(".venv").display().to_string()
    );
}

#[test]
fn init_vscode_writes_or_merges_the_interpreter_setting() {
    let sb = Sandbox::new();
    let root = sb.path("editor");
    std::fs::create_dir_all(root.join(".vscode")).unwrap();
    let mine = "{\n  // mine\n  \"editor.tabSize\": 2,\n}\n";
    std::fs::write(root.join(".vscode/settings.json"), mine).unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv", "--vscode"]);
    let settings = std::fs::read_to_string(root.join(".vscode/settings.json")).unwrap();
    assert_eq!(
        settings,
        "{\n  \"python.defaultInterpreterPath\": \"${workspaceFolder}/.venv/bin/python\",\n  // mine\n  \"editor.tabSize\": 2,\n}\n"
    );
    // The path it names is the environment's Python.
    assert!(root.join(".venv/bin/python").exists());
    // Again: nothing changes. A user's other choice is kept, with a warning.
    sb.pyve_ok(&root, &["init", "--no-direnv", "--vscode"]);
    assert_eq!(
        std::fs::read_to_string(root.join(".vscode/settings.json")).unwrap(),
        settings
    );
    let theirs = "{\"python.defaultInterpreterPath\": \"/opt/py/bin/python\"}";
    std::fs::write(root.join(".vscode/settings.json"), theirs).unwrap();
    let said = sb.pyve_ok(&root, &["init", "--no-direnv", "--vscode"]);
    assert!(
        said.contains("pyve: warning: ") && said.contains("/opt/py/bin/python"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".vscode/settings.json")).unwrap(),
        theirs
    );

    // Named environments: the default one; through .pyve/current once
    // `pyve activate` made it, so switching moves VS Code too.
    let named = sb.path("named");
    std::fs::create_dir_all(&named).unwrap();
    sb.pyve_ok(&named, &["init", "--no-direnv", "--env", "dev", "--vscode"]);
    let settings = std::fs::read_to_string(named.join(".vscode/settings.json")).unwrap();
    assert!(
        settings.contains("\"${workspaceFolder}/.pyve/envs/dev/bin/python\""),
        "{settings}"
    );
    sb.pyve_ok(&named, &["init", "--no-direnv", "--env", "prod"]);
    sb.pyve_ok(&named, &["activate", "prod"]);
    std::fs::remove_file(named.join(".vscode/settings.json")).unwrap();
    sb.pyve_ok(&named, &["init", "--no-direnv", "--vscode"]);
    let settings = std::fs::read_to_string(named.join(".vscode/settings.json")).unwrap();
    assert!(
        settings.contains("\"${workspaceFolder}/.pyve/current/bin/python\""),
        "{settings}"
    );
    assert!(named.join(".pyve/current/bin/python").exists());
}

/// The ```lang blocks of a doc, in order.
fn blocks(doc: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    doc.split(&fence)
        .skip(1)
        .map(|rest| rest[..rest.find("```").unwrap()].to_owned())
        .collect()
}

fn ci_doc() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md")).unwrap()
}

#[test]
fn the_makefile_recipe_runs_in_the_environment() {
    let sb = Sandbox::new();
    let root = sb.venv_project("made", "");
    let makefile = blocks(&ci_doc(), "make").remove(0);
    assert!(makefile.contains("\tpyve run "), "{makefile}");
    // The recipe's own targets, plus one that shows where `python` is.
    std::fs::write(
        root.join("Makefile"),
        format!("{makefile}\nwhere:\n\tpyve run python -c 'import sys; print(sys.prefix)'\n"),
    )
    .unwrap();
    let out = sb
        .command("make")
        .current_dir(&root)
        .args(["--no-print-directory", "-s", "where"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        root.join(".venv").display().to_string()
    );
}

/// One CI job of a recipe: what the test runs of it.
struct Job {
    name: String,
    env: Vec<(String, String)>,
    /// Shell steps, in order; steps that need the CI service are left out.
    steps: Vec<String>,
    /// What the job's cache keeps, as written (`~/` for the home).
    cached: Vec<String>,
    /// The job uses `mamba-org/setup-micromamba`.
    setup_micromamba: bool,
}

fn text(value: &serde_yaml_ng::Value) -> String {
    match value {
        serde_yaml_ng::Value::String(s) => s.clone(),
        other => serde_yaml_ng::to_string(other).unwrap().trim().to_owned(),
    }
}

fn env_of(value: Option<&serde_yaml_ng::Value>) -> Vec<(String, String)> {
    value
        .and_then(|v| v.as_mapping())
        .map(|m| m.iter().map(|(k, v)| (text(k), text(v))).collect())
        .unwrap_or_default()
}

fn github_jobs(workflow: &serde_yaml_ng::Value) -> Vec<Job> {
    let jobs = workflow["jobs"].as_mapping().unwrap();
    jobs.iter()
        .map(|(name, job)| {
            let mut steps = Vec::new();
            let mut cached = Vec::new();
            let mut setup_micromamba = false;
            for step in job["steps"].as_sequence().unwrap() {
                if let Some(uses) = step.get("uses") {
                    if text(uses).starts_with("actions/cache@") {
                        cached.extend(text(&step["with"]["path"]).lines().map(str::to_owned));
                    }
                    if text(uses).starts_with("mamba-org/setup-micromamba@") {
                        // No environment of its own: the action installs only micromamba.
                        let with = &step["with"];
                        assert!(
                            with.get("environment-file").is_none()
                                && with.get("create-args").is_none()
                        );
                        setup_micromamba = true;
                    }
                    continue;
                }
                if step
                    .get("name")
                    .is_some_and(|n| text(n).starts_with("Install"))
                {
                    continue;
                }
                steps.push(text(&step["run"]));
            }
            Job {
                name: text(name),
                env: env_of(job.get("env")),
                steps,
                cached,
                setup_micromamba,
            }
        })
        .collect()
}

fn gitlab_jobs(pipeline: &serde_yaml_ng::Value) -> Vec<Job> {
    let global = env_of(pipeline.get("variables"));
    pipeline
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, job)| job.get("script").is_some())
        .map(|(name, job)| {
            let mut env = global.clone();
            env.extend(env_of(job.get("variables")));
            Job {
                name: text(name),
                env,
                // GitLab stops at the first line that fails, as bash -e does.
                steps: vec![job["script"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .map(text)
                    .collect::<Vec<_>>()
                    .join("\n")],
                cached: job["cache"]["paths"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .map(text)
                    .collect(),
                setup_micromamba: false,
            }
        })
        .collect()
}

/// A checkout of an example project: unittest tests, and a vendored wheel
/// in requirements.txt (venv) or a locked environment.yml (conda).
fn checkout(sb: &Sandbox, dir: &Path, conda: bool) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    let test = if conda {
        // (The test channel's python is the machine's, so sys.prefix is not
        // the environment; its own `hello` and CONDA_PREFIX are.)
        "import os, shutil, unittest\n\nclass T(unittest.TestCase):\n    def test_env(self):\n        prefix = os.environ['CONDA_PREFIX']\n        self.assertIn('/.pyve/envs/', prefix)\n        self.assertEqual(shutil.which('hello'), os.path.join(prefix, 'bin', 'hello'))\n"
    } else {
        std::fs::create_dir_all(dir.join("wheels")).unwrap();
        make_wheel(&dir.join("wheels"), "vendored");
        std::fs::write(
            dir.join("requirements.txt"),
            "./wheels/vendored-1.0-py3-none-any.whl\n",
        )
        .unwrap();
        "import sys, unittest, vendored\n\nclass T(unittest.TestCase):\n    def test_env(self):\n        self.assertEqual(vendored.VALUE, 42)\n        self.assertTrue(sys.prefix.endswith('.venv'))\n"
    };
    std::fs::write(dir.join("tests/test_app.py"), test).unwrap();
    if conda {
        std::fs::write(
            dir.join("environment.yml"),
            "name: app\nchannels: [conda-forge]\ndependencies: [python=3.11, hello]\n",
        )
        .unwrap();
        conda_lock(&dir.join("environment.yml"), &dir.join("conda-lock.yml"));
    }
    let _ = sb;
}

fn run_steps(sb: &Sandbox, job: &Job, dir: &Path, url: &str) -> String {
    let mut said = String::new();
    for step in &job.steps {
        let mut command = sb.command("bash");
        command
            .args(["--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step])
            .current_dir(dir)
            .env("CI", "true")
            // A runner sets no XDG_DATA_HOME: pyve's data is in ~/.local/share.
            .env_remove("XDG_DATA_HOME")
            .env("PYVE_MICROMAMBA_URL", url);
        for (name, value) in &job.env {
            command.env(name, value);
        }
        if job.setup_micromamba {
            // What mamba-org/setup-micromamba leaves for later steps.
            let bin = sb.home.join("micromamba-bin");
            command
                .env("PATH", format!("{}:{}", bin.display(), sb.base_path))
                .env("MAMBA_ROOT_PREFIX", sb.home.join("micromamba"))
                .env("MAMBA_EXE", bin.join("micromamba"))
                .env("CONDARC", bin.join(".condarc"));
        }
        let out = command.output().unwrap();
        said.push_str(&stderr(&out));
        assert!(
            out.status.success(),
            "{}: `{step}` failed:\n{}{}",
            job.name,
            stdout(&out),
            stderr(&out)
        );
    }
    said
}

/// Runs a job on a fresh runner, then on another fresh runner with the
/// cache restored: a new checkout, no approvals, the cached paths back.
fn run_twice(job: &Job) {
    let sb = Sandbox::new();
    let conda = job.name.contains("conda");
    let url = if conda && !job.setup_micromamba {
        serve(tarball(&sb), None)
    } else {
        String::new()
    };
    if job.setup_micromamba {
        let bin = sb.home.join("micromamba-bin");
        sb.install_micromamba(&bin);
        std::fs::write(bin.join(".condarc"), "channels:\n  - conda-forge\n").unwrap();
    }
    let dir = sb.path("builds/project");
    checkout(&sb, &dir, conda);
    let first = run_steps(&sb, job, &dir, &url);
    if conda && !job.setup_micromamba {
        assert!(first.contains("downloading micromamba"), "{first}");
    }
    if job.setup_micromamba {
        assert!(!first.contains("downloading micromamba"), "{first}");
        assert!(
            first.contains("conda-lock.yml matches environment.yml"),
            "{first}"
        );
        // The root prefix the action chose holds micromamba's downloads.
        assert!(sb.home.join("micromamba/pkgs").is_dir());
    }
    assert!(!job.cached.is_empty(), "{}: no cache", job.name);
    let saved = sb.path("cache");
    for (i, path) in job.cached.iter().enumerate() {
        let from = match path.strip_prefix("~/") {
            Some(rest) => sb.home.join(rest),
            None => dir.join(path),
        };
        assert!(from.exists(), "{}: {path} was not made", job.name);
        let keep = saved.join(i.to_string());
        std::fs::create_dir_all(&keep).unwrap();
        assert!(std::process::Command::new("cp")
            .arg("-a")
            .arg(&from)
            .arg(&keep)
            .status()
            .unwrap()
            .success());
    }
    // A new runner: nothing of the last one but the cache.
    std::fs::remove_dir_all(sb.path("data")).unwrap();
    std::fs::create_dir_all(sb.path("data")).unwrap();
    let _ = std::fs::remove_dir_all(sb.home.join(".pyve"));
    let _ = std::fs::remove_dir_all(sb.home.join(".local/share"));
    checkout(&sb, &dir, conda);
    for (i, path) in job.cached.iter().enumerate() {
        let to = match path.strip_prefix("~/") {
            Some(rest) => sb.home.join(rest),
            None => dir.join(path),
        };
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let name = to.file_name().unwrap();
        assert!(std::process::Command::new("cp")
            .arg("-a")
            .arg(saved.join(i.to_string()).join(name))
            .arg(to.parent().unwrap())
            .status()
            .unwrap()
            .success());
    }
    let second = run_steps(
        &sb,
        job,
        &dir,
        "http://127.0.0.1:9/nothing-to-download-here",
    );
    assert!(
        second.contains("keeping the healthy environment"),
        "{}: {second}",
        job.name
    );
}

#[test]
fn the_ci_recipes_run_fresh_and_from_a_restored_cache() {
    let doc = ci_doc();
    let yaml = blocks(&doc, "yaml");
    let parsed: Vec<serde_yaml_ng::Value> = yaml
        .iter()
        .map(|text| serde_yaml_ng::from_str(text).unwrap())
        .collect();
    let github: Vec<Job> = parsed
        .iter()
        .filter(|v| v.get("jobs").is_some())
        .flat_map(github_jobs)
        .collect();
    let gitlab: Vec<Job> = parsed
        .iter()
        .filter(|v| v.get("jobs").is_none() && v.get("repos").is_none())
        .flat_map(gitlab_jobs)
        .collect();
    let names = |jobs: &[Job]| jobs.iter().map(|j| j.name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&github),
        ["test-venv", "test-conda", "test-conda-setup-micromamba"]
    );
    assert_eq!(names(&gitlab), ["test-venv", "test-conda"]);
    for job in github.iter().chain(&gitlab) {
        assert!(
            job.steps.iter().any(|s| s.contains("pyve run ")),
            "{}",
            job.name
        );
        assert!(job
            .steps
            .iter()
            .all(|s| !s.contains("pyve init") || s.contains("--no-direnv")));
        run_twice(job);
    }
}
