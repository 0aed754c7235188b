//! The environment holds the project's dependencies: `init` installs what
//! the project declares (uv.lock, pylock.toml, pyproject.toml,
//! requirements files), `sync` and `run` keep it in step, and uv, pip and
//! the hook work on the same environment. Packages come from the suite's
//! local wheel directory (tests/deps), with real uv and real pip.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::per_shell;
use crate::support::*;

/// A uv project: `beta` (which needs `alpha`) and `gamma` (a console
/// script), a `dev` group (`delta`) and a `docs` group (`epsilon`),
/// locked with real uv against the suite's wheels.
fn uv_project(sb: &Sandbox, rel: &str, extra: &str) -> PathBuf {
    let root = sb.path(rel);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("pyproject.toml"),
        format!(
            "[project]\nname = \"{}\"\nversion = \"0.1\"\nrequires-python = \">=3.8\"\n\
             dependencies = [\"beta\", \"gamma\"]\n{extra}\n[dependency-groups]\n\
             dev = [\"delta\"]\ndocs = [\"epsilon\"]\n",
            rel.replace('/', "-")
        ),
    )
    .unwrap();
    uv_ok(sb, &root, &["lock"]);
    root
}

fn uv_ok(sb: &Sandbox, dir: &Path, args: &[&str]) -> String {
    let out = sb
        .command(uv())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "uv {args:?}: {}", stderr(&out));
    stdout(&out)
}

/// `name==version` of every distribution in the environment but the
/// project itself.
fn installed(sb: &Sandbox, env: &Path) -> BTreeSet<String> {
    let python = env.join("bin/python");
    let out = uv_ok(
        sb,
        env,
        &[
            "pip",
            "freeze",
            "-q",
            "--exclude-editable",
            "--python",
            python.to_str().unwrap(),
        ],
    );
    out.lines()
        .map(str::to_owned)
        // What `uv venv --seed` adds so that pip works inside.
        .filter(|l| {
            !["pip==", "setuptools==", "wheel==", "packaging=="]
                .iter()
                .any(|s| l.starts_with(s))
        })
        .collect()
}

/// What `uv sync --frozen` installs for the project, by uv's own export.
fn locked(sb: &Sandbox, root: &Path, extra: &[&str]) -> BTreeSet<String> {
    let mut args = vec![
        "export",
        "--frozen",
        "--no-hashes",
        "--no-emit-project",
        "--no-header",
        "--no-annotate",
    ];
    args.extend_from_slice(extra);
    uv_ok(sb, root, &args)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Makes `path` newer than anything written so far (file times are coarse).
fn touch_later(path: &Path) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(3))
        .unwrap();
}

/// The project copied without its environment or pyve's local state, as
/// a teammate's clone would be.
fn clone(sb: &Sandbox, root: &Path, rel: &str) -> PathBuf {
    let copy = sb.path(rel);
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(root)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_dir_all(copy.join(".venv")).unwrap();
    copy
}

#[test]
fn a_uv_project_gets_exactly_its_locked_set_and_keeps_it_through_rebuilds_and_clones() {
    let sb = Sandbox::new();
    let root = uv_project(&sb, "app", "");
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(
        err.contains("installing the dependencies from uv.lock"),
        "{err}"
    );
    assert!(
        !err.contains("is not used"),
        "a lock's own pyproject is part of it: {err}"
    );
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(
        config.contains("\ndependencies: uv.lock\n"),
        "recorded: {config}"
    );
    let expected = locked(&sb, &root, &[]);
    assert_eq!(
        expected,
        set(&["alpha==2.0", "beta==1.0", "delta==1.0", "gamma==1.0"]),
        "uv's default groups"
    );
    assert_eq!(installed(&sb, &root.join(".venv")), expected);
    let out = sb.pyve(&root, &["run", "gamma"]);
    assert_eq!(stdout(&out).trim(), "gamma ran", "{}", stderr(&out));

    sb.pyve_ok(&root, &["init", "--force", "--no-direnv"]);
    assert_eq!(
        installed(&sb, &root.join(".venv")),
        expected,
        "a rebuild keeps it"
    );

    let copy = clone(&sb, &root, "teammate");
    sb.pyve_ok(&copy, &["allow"]);
    sb.pyve_ok(&copy, &["init", "--no-direnv"]);
    assert_eq!(
        installed(&sb, &copy.join(".venv")),
        expected,
        "a clone reproduces it"
    );

    // A group beyond the defaults, recorded for the next rebuild.
    sb.pyve_ok(
        &root,
        &["init", "--force", "--no-direnv", "--group", "docs"],
    );
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(config.contains("\ngroups: [docs]\n"), "{config}");
    assert_eq!(
        installed(&sb, &root.join(".venv")),
        locked(&sb, &root, &["--group", "docs"])
    );

    // Without pip when the project says so (uv's own commands suffice).
    let lean = uv_project(&sb, "lean", "");
    std::fs::create_dir_all(lean.join(".pyve")).unwrap();
    std::fs::write(lean.join(".pyve/config"), "venv:\n  pip: false\n").unwrap();
    sb.pyve_ok(&lean, &["init", "--no-direnv"]);
    assert!(!lean.join(".venv/bin/pip").exists());
    assert_eq!(installed(&sb, &lean.join(".venv")), expected);
    assert!(root.join(".venv/bin/pip").exists(), "pip by default");

    // Opting out is recorded too.
    let bare = uv_project(&sb, "bare", "");
    sb.pyve_ok(&bare, &["init", "--no-direnv", "--no-deps"]);
    assert!(std::fs::read_to_string(bare.join(".pyve/config"))
        .unwrap()
        .contains("\ndependencies: none\n"));
    assert_eq!(installed(&sb, &bare.join(".venv")), set(&[]));
}

#[test]
fn each_source_installs_what_it_declares() {
    let sb = Sandbox::new();
    // pylock.toml (PEP 751), exported by uv from a lock.
    let locked_project = uv_project(&sb, "locked", "");
    let only_pylock = sb.path("pylock");
    std::fs::create_dir_all(&only_pylock).unwrap();
    let out_file = only_pylock.join("pylock.toml");
    uv_ok(
        &sb,
        &locked_project,
        &[
            "export",
            "--frozen",
            "--no-emit-project",
            "--format",
            "pylock.toml",
            "-o",
            out_file.to_str().unwrap(),
        ],
    );
    sb.pyve_ok(&only_pylock, &["init", "--no-direnv"]);
    assert_eq!(
        installed(&sb, &only_pylock.join(".venv")),
        set(&["alpha==2.0", "beta==1.0", "delta==1.0", "gamma==1.0"])
    );

    // requirements.txt alone.
    let reqs = sb.path("reqs");
    std::fs::create_dir_all(&reqs).unwrap();
    std::fs::write(reqs.join("requirements.txt"), "alpha==1.0\n").unwrap();
    sb.pyve_ok(&reqs, &["init", "--no-direnv"]);
    assert_eq!(installed(&sb, &reqs.join(".venv")), set(&["alpha==1.0"]));
    assert!(std::fs::read_to_string(reqs.join(".pyve/config"))
        .unwrap()
        .contains("\ndependencies: requirements\n"));

    // A package without a lock: its dependencies, the dev group, and the
    // project itself, editable.
    let package = sb.path("pkg");
    std::fs::create_dir_all(package.join("src/pkg")).unwrap();
    std::fs::write(package.join("src/pkg/__init__.py"), "VALUE = 7\n").unwrap();
    std::fs::write(
        package.join("pyproject.toml"),
        "[project]\nname = \"pkg\"\nversion = \"0.1\"\ndependencies = [\"beta\"]\n\
         [dependency-groups]\ndev = [\"delta\"]\ndocs = [\"epsilon\"]\n\
         [build-system]\nrequires = [\"uv_build>=0.9,<0.14\"]\nbuild-backend = \"uv_build\"\n",
    )
    .unwrap();
    std::fs::write(package.join("requirements.txt"), "epsilon\n").unwrap();
    let err = sb.pyve_ok(&package, &["init", "--no-direnv"]);
    assert!(
        err.contains("note: requirements is not used: pyproject.toml comes first"),
        "{err}"
    );
    assert_eq!(
        installed(&sb, &package.join(".venv")),
        set(&["alpha==2.0", "beta==1.0", "delta==1.0"])
    );
    std::fs::write(package.join("src/pkg/__init__.py"), "VALUE = 8\n").unwrap();
    let out = sb.pyve(
        &package,
        &["run", "python", "-c", "import pkg; print(pkg.VALUE)"],
    );
    assert_eq!(stdout(&out).trim(), "8", "editable: {}", stderr(&out));

    // A lock only its own tool reads, without that tool: a clear error,
    // never an empty environment that looks ready.
    let poetry = sb.path("poetry");
    std::fs::create_dir_all(&poetry).unwrap();
    std::fs::write(poetry.join("poetry.lock"), "# poetry\n").unwrap();
    std::fs::write(
        poetry.join("pyproject.toml"),
        "[tool.poetry]\nname = \"p\"\n[tool.poetry.dependencies]\nalpha = \"*\"\n",
    )
    .unwrap();
    let out = sb.pyve(&poetry, &["init", "--no-direnv"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "poetry.lock needs poetry to install, and poetry is not on PATH; install it \
             (`uv tool install poetry`)"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!poetry.join(".venv").exists(), "nothing half-built");
}

#[test]
fn a_poetry_lock_is_installed_by_poetry() {
    let sb = Sandbox::new();
    let root = sb.path("poetry-app");
    std::fs::create_dir_all(&root).unwrap();
    let wheel = |name: &str| format!("file://{}", wheels().join(name).display());
    std::fs::write(
        root.join("pyproject.toml"),
        format!(
            "[project]\nname = \"poetry-app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\n\
             dependencies = [\"beta @ {}\", \"alpha @ {}\"]\n[tool.poetry]\npackage-mode = false\n",
            wheel("beta-1.0-py3-none-any.whl"),
            wheel("alpha-1.0-py3-none-any.whl")
        ),
    )
    .unwrap();
    std::os::unix::fs::symlink(poetry(), sb.path("tools/poetry")).unwrap();
    let out = sb
        .command("poetry")
        .args(["lock", "--no-interaction"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "poetry lock: {}", stderr(&out));
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(
        err.contains("installing the dependencies from poetry.lock"),
        "{err}"
    );
    assert!(std::fs::read_to_string(root.join(".pyve/config"))
        .unwrap()
        .contains("\ndependencies: poetry.lock\n"));
    // The set poetry.lock names, from the wheels' own URLs (poetry adds
    // their hash to the URL it records).
    let have: BTreeSet<String> = installed(&sb, &root.join(".venv"))
        .into_iter()
        .map(|line| line.split('#').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        have,
        BTreeSet::from([
            format!("alpha @ {}", wheel("alpha-1.0-py3-none-any.whl")),
            format!("beta @ {}", wheel("beta-1.0-py3-none-any.whl")),
        ])
    );
    let out = sb.pyve(
        &root,
        &[
            "run",
            "python",
            "-c",
            "import alpha; print(alpha.__version__)",
        ],
    );
    assert_eq!(stdout(&out).trim(), "1.0", "{}", stderr(&out));
}

#[test]
fn sync_and_run_keep_the_environment_in_step() {
    let sb = Sandbox::new();
    let root = sb.path("app");
    std::fs::create_dir_all(&root).unwrap();
    let reqs = root.join("requirements.txt");
    std::fs::write(&reqs, "alpha==1.0\n").unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    let import = |module: &str, extra: &[&str]| {
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        let code = format!("import {module}");
        args.extend_from_slice(&["python", "-c", &code]);
        sb.pyve(&root, &args)
    };
    // Fresh: run installs nothing and says nothing.
    let out = import("alpha", &[]);
    assert!(
        out.status.success() && stderr(&out).is_empty(),
        "{}",
        stderr(&out)
    );

    std::fs::write(&reqs, "alpha==1.0\ndelta\n").unwrap();
    touch_later(&reqs);
    let out = import("delta", &["--no-sync"]);
    assert_eq!(out.status.code(), Some(1), "--no-sync installs nothing");
    let out = import("delta", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("requirements.txt changed since the last sync"),
        "{}",
        stderr(&out)
    );

    std::fs::write(&reqs, "alpha==1.0\ndelta\nepsilon\n").unwrap();
    touch_later(&reqs);
    let out = sb.pyve(&root, &["doctor"]);
    assert!(
        stderr(&out).contains("changed since the environment was last synced"),
        "{}",
        stderr(&out)
    );
    let err = sb.pyve_ok(&root, &["sync"]);
    assert!(err.contains("is in step with requirements.txt"), "{err}");
    assert!(import("epsilon", &["--no-sync"]).status.success());
    let out = sb.pyve(&root, &["sync", "--locked"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--locked: requirements is not a lock"),
        "{}",
        stderr(&out)
    );

    // `sync_on_run: false` in the config turns the check off.
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    sb.write_config(&root, &format!("{config}sync_on_run: false\n"));
    std::fs::write(&reqs, "alpha==2.0\n").unwrap();
    touch_later(&reqs);
    let out = sb.pyve(
        &root,
        &[
            "run",
            "python",
            "-c",
            "import alpha; print(alpha.__version__)",
        ],
    );
    assert_eq!(stdout(&out).trim(), "1.0", "{}", stderr(&out));

    // uv's --locked: a lock out of date with pyproject.toml fails the sync.
    let app = uv_project(&sb, "uvapp", "");
    sb.pyve_ok(&app, &["init", "--no-direnv"]);
    let pyproject = std::fs::read_to_string(app.join("pyproject.toml")).unwrap();
    std::fs::write(
        app.join("pyproject.toml"),
        pyproject.replace("\"beta\", \"gamma\"", "\"beta\", \"gamma\", \"epsilon\""),
    )
    .unwrap();
    let out = sb.pyve(&app, &["sync", "--locked"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    sb.pyve_ok(&app, &["sync"]);
    assert!(installed(&sb, &app.join(".venv")).contains("epsilon==1.0"));
}

#[test]
fn named_environments_are_uvs_project_environment() {
    let sb = Sandbox::new();
    let root = uv_project(&sb, "named", "");
    sb.pyve_ok(&root, &["init", "--no-direnv", "--env", "prod"]);
    let prod = root.join(".pyve/envs/prod");
    let out = sb.pyve(
        &root,
        &[
            "run",
            "--env",
            "prod",
            "sh",
            "-c",
            "echo $UV_PROJECT_ENVIRONMENT",
        ],
    );
    assert_eq!(
        stdout(&out).trim(),
        prod.display().to_string(),
        "{}",
        stderr(&out)
    );
    // `uv add` through the environment lands in it, and makes no .venv.
    let out = sb.pyve(&root, &["run", "--env", "prod", "uv", "add", "alpha==1.0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("does not match"), "{}", stderr(&out));
    assert!(installed(&sb, &prod).contains("alpha==1.0"));
    assert!(!root.join(".venv").exists());
}

#[test]
fn interpreter_choice_follows_requires_python_and_pins_must_agree() {
    let sb = Sandbox::new();
    let root = sb.path("req");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"req\"\nversion = \"0.1\"\nrequires-python = \">=3.8\"\n",
    )
    .unwrap();
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(
        err.contains("the newest installed that requires-python `>=3.8` allows"),
        "says which and why: {err}"
    );

    let future = sb.path("future");
    std::fs::create_dir_all(&future).unwrap();
    std::fs::write(
        future.join("pyproject.toml"),
        "[project]\nname = \"f\"\nversion = \"0.1\"\nrequires-python = \">=3.99\"\n",
    )
    .unwrap();
    let out = sb.pyve(&future, &["init", "--no-direnv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("allowed by requires-python `>=3.99` in pyproject.toml"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("uv python install >=3.99"),
        "{}",
        stderr(&out)
    );
    let version = system_python_version();
    let minor: Vec<&str> = version.split('.').take(2).collect();
    let minor = minor.join(".");
    let out = sb.pyve(
        &future,
        &["init", "--no-direnv", "--python-version", &minor],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "--python-version asks for Python {minor}, but pyproject.toml's requires-python is `>=3.99`"
        )),
        "{}",
        stderr(&out)
    );

    // A config pin against .python-version: an error in init, a finding in doctor.
    std::fs::write(root.join(".python-version"), "3.98\n").unwrap();
    // The flag is this run's explicit choice: said, and recorded...
    let err = sb.pyve_ok(&root, &["init", "--no-direnv", "--python-version", &minor]);
    assert!(
        err.contains("pins 3.98: uv and pyenv use the pin here"),
        "{err}"
    );
    // ...so the next init without it refuses until they agree.
    let out = sb.pyve(&root, &["init", "--no-direnv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("asks for Python {minor}, but")),
        "{}",
        stderr(&out)
    );
    let out = sb.pyve(&root, &["doctor"]);
    assert!(stderr(&out).contains("error    pins"), "{}", stderr(&out));

    let out = sb.pyve(&root, &["init", "--python-version", "2.7"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("Python 2 is not supported"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_envrc_that_activates_python_is_reported_not_doubled() {
    let sb = Sandbox::new();
    let root = sb.path("direnv");
    std::fs::create_dir_all(&root).unwrap();
    let envrc = "export FOO=1\nlayout python3\n";
    std::fs::write(root.join(".envrc"), envrc).unwrap();
    let err = sb.pyve_ok(&root, &["init"]);
    assert!(
        err.contains(".envrc:2: `layout python3` already activates a Python environment"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".envrc")).unwrap(),
        envrc,
        "untouched"
    );
}

per_shell!(
    uv_and_pip_act_on_the_active_environment_which_stays_active,
    |sh: Sh| {
        let sb = Sandbox::new();
        let root = uv_project(&sb, "app", "");
        sb.pyve_ok(&root, &["init", "--no-direnv"]);
        let venv = root.join(".venv");
        let (d, err) = run(
            &sb,
            sh,
            &[
                cd(sh, &root),
                sh.prompt().into(),
                dump("entered"),
                // uv replaces the environment (as after `uv python pin`).
                "rm -rf .venv".into(),
                "uv sync -q".into(),
                sh.prompt().into(),
                dump("rebuilt"),
                // Synced by pyve, so it keeps a record to compare with.
                "pyve sync -q".into(),
                sh.prompt().into(),
                // uv installs what it adds: in step, nothing to say.
                "uv add -q alpha==1.0".into(),
                sh.prompt().into(),
                dump("added"),
                // A pull brings a new lock (a new file renamed in place).
                "cp uv.lock uv.lock.new".into(),
                "printf '\\n' >> uv.lock.new".into(),
                "touch -d '+5 seconds' uv.lock.new".into(),
                "mv uv.lock.new uv.lock".into(),
                sh.prompt().into(),
                sh.prompt().into(),
            ],
        );
        assert_eq!(
            var(&d["entered"], "UV_PROJECT_ENVIRONMENT"),
            venv.display().to_string()
        );
        assert_eq!(
            var(&d["rebuilt"], "VIRTUAL_ENV"),
            venv.display().to_string(),
            "{err}"
        );
        assert_eq!(
            path_entries(&d["rebuilt"])[0],
            venv.join("bin").display().to_string()
        );
        assert!(!err.contains("not activated"), "{err}");
        assert_eq!(
            err.matches("pyve: dependencies changed (uv.lock): pyve sync\n")
                .count(),
            1,
            "the pulled lock, once: {err}"
        );
        assert!(
            !err.contains("pyproject.toml): pyve sync"),
            "uv add synced it: {err}"
        );
        let have = installed(&sb, &venv);
        assert!(
            have.contains("alpha==1.0") && !root.join(".venv/.venv").exists(),
            "{have:?}"
        );

        // pip at the prompt installs into the environment.
        let other = sb.path("pip");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("requirements.txt"), "alpha==1.0\n").unwrap();
        sb.pyve_ok(&other, &["init", "--no-direnv"]);
        let reqs = other.join("requirements.txt");
        let (_, err) = run(
            &sb,
            sh,
            &[
                cd(sh, &other),
                sh.prompt().into(),
                format!(
                    "pip install -q --no-index --find-links {} epsilon",
                    sh.q(wheels())
                ),
                "python -m pip --version >/dev/null".into(),
                format!("printf 'alpha==1.0\\ndelta\\n' > {}", sh.q(&reqs)),
                format!("touch -d '+5 seconds' {}", sh.q(&reqs)),
                sh.prompt().into(),
                sh.prompt().into(),
                "pyve sync 2>/dev/null".into(),
                sh.prompt().into(),
            ],
        );
        assert!(
            installed(&sb, &other.join(".venv")).contains("epsilon==1.0"),
            "{err}"
        );
        assert_eq!(
            err.matches("pyve: dependencies changed (requirements.txt): pyve sync")
                .count(),
            1,
            "once, and gone after sync: {err}"
        );
    }
);
