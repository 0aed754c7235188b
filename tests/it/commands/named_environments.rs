//! Named environments: a venv `dev`, a venv `prod` with its own
//! requirements and a micromamba `gpu` in one project; listing, switching
//! with `pyve activate` (the hook follows at the next prompt, in every shell
//! inside), `run --env`, purging one, and moving the project.

use std::path::Path;

use crate::per_shell;
use crate::support::*;

/// The environment `pyve run ARGS python` runs in, as the Python it starts
/// sees it (`sys.prefix`: the test channel's conda Python is the machine's
/// own, run from the prefix as a venv runs it).
fn prefix(sb: &Sandbox, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut all: Vec<&str> = vec!["run"];
    all.extend(args);
    all.extend(["python", "-c", "import sys; print(sys.prefix)"]);
    let mut command = sb.pyve_command(dir, &all);
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{all:?}: {}", stderr(&out));
    stdout(&out).trim().to_owned()
}

/// A field of the JSON document `json`, read by Python's json module (so
/// the document is also proved to be valid JSON).
fn json_field(json: &str, expression: &str) -> String {
    let out = std::process::Command::new(python())
        .args([
            "-c",
            &format!("import json, sys; d = json.load(sys.stdin); print({expression})"),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(json.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "not JSON: {json}");
    stdout(&out).trim().to_owned()
}

#[test]
fn three_environments_list_run_switch_purge_one_and_move() {
    let sb = Sandbox::new();
    let root = three_envs(&sb, "ml");
    let envs = root.join(".pyve/envs");
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(
        config.starts_with(NAMED_CONFIG),
        "the user's text is kept: {config}"
    );
    assert!(config.contains("\ndefault_env: dev\n"), "{config}");
    let create = sb
        .micromamba_calls()
        .into_iter()
        .find(|c| c.first().map(String::as_str) == Some("create"))
        .unwrap();
    assert!(
        create.contains(&root.join("environment-gpu.yml").display().to_string()),
        "{create:?}"
    );

    // The listing, as the seed shows it.
    let listing = sb.pyve_ok(&root, &["envs"]);
    assert_eq!(listing, "", "human text only on stdout");
    let listing = stdout(&sb.pyve(&root, &["envs"]));
    let version = system_python_version();
    assert!(
        listing.starts_with(&format!("Environments in {}:\n\n", root.display())),
        "{listing}"
    );
    assert!(
        listing.contains(&format!(
            "  * dev              (venv)       Python {version:<9}[active]\n"
        )) || listing.contains(&format!(
            "  * dev              (venv)       Python {version}"
        )),
        "{listing}"
    );
    assert!(
        listing.contains("\n    prod             (venv)       Python"),
        "{listing}"
    );
    assert!(
        listing.contains("\n    gpu              (micromamba) Python 3.11"),
        "{listing}"
    );
    assert!(
        listing.ends_with(
            "\nActive: dev (via default_env; no .pyve/current)\nDefault: dev (via .pyve/config)\n"
        ),
        "{listing}"
    );
    assert!(
        listing.lines().all(|l| l == l.trim_end()),
        "no trailing blanks: {listing:?}"
    );
    let verbose = stdout(&sb.pyve(&root, &["env", "list", "--verbose"]));
    assert!(
        verbose.contains(&format!("path:    {}", envs.join("gpu").display())),
        "{verbose}"
    );
    assert!(
        verbose.contains("spec:    environment-gpu.yml (unchanged since creation)"),
        "{verbose}"
    );
    assert!(
        verbose.contains("spec:    requirements-prod.txt (unchanged since creation)"),
        "{verbose}"
    );
    assert!(verbose.contains("size:    "), "{verbose}");
    let json = stdout(&sb.pyve(&root, &["envs", "--json", "--verbose"]));
    assert_eq!(
        json_field(&json, "d['active'], d['active_via'], d['default']"),
        "dev default dev"
    );
    assert_eq!(
        json_field(
            &json,
            "[(e['name'], e['backend'], e['active']) for e in d['environments']]"
        ),
        "[('dev', 'venv', True), ('prod', 'venv', False), ('gpu', 'micromamba', False)]"
    );
    assert_eq!(
        json_field(&json, "d['environments'][2]['size_bytes'] > 0"),
        "True"
    );

    // run: the active one, one named, and in CI the default.
    assert_eq!(
        prefix(&sb, &root, &[], &[]),
        envs.join("dev").display().to_string()
    );
    assert_eq!(
        prefix(&sb, &root, &["--env", "gpu"], &[]),
        envs.join("gpu").display().to_string()
    );
    let out = sb.pyve(
        &root,
        &[
            "run",
            "--env",
            "prod",
            "python",
            "-c",
            "import prod_pkg; print(prod_pkg.VALUE)",
        ],
    );
    assert_eq!(stdout(&out).trim(), "42", "{}", stderr(&out));
    let out = sb.pyve(
        &root,
        &["run", "--env", "dev", "python", "-c", "import prod_pkg"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "dev does not have prod's requirements"
    );

    // Switching: a relative link, and run follows it, CI does not.
    let err = sb.pyve_ok(&root, &["activate", "gpu"]);
    assert!(
        err.contains("`gpu` (micromamba) is now the active environment"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_link(root.join(".pyve/current")).unwrap(),
        Path::new("envs/gpu")
    );
    assert_eq!(
        prefix(&sb, &root, &[], &[]),
        envs.join("gpu").display().to_string()
    );
    assert_eq!(
        prefix(&sb, &root, &[], &[("CI", "true")]),
        envs.join("dev").display().to_string(),
        "CI never guesses from the checkout's pointer"
    );
    let listing = stdout(&sb.pyve(&root, &["envs"]));
    assert!(listing.contains("  * gpu"), "{listing}");
    assert!(
        listing.contains("Active: gpu (via .pyve/current)\n"),
        "{listing}"
    );
    assert!(sb.pyve_ok(&root, &["activate", "gpu"]).contains("already"));

    // One in full; a spec changed since creation is said.
    let info = stdout(&sb.pyve(&root, &["env", "info", "prod"]));
    assert!(
        info.contains("spec:      requirements-prod.txt (unchanged since creation)"),
        "{info}"
    );
    assert!(
        info.contains("active:    no (`pyve activate prod` switches to it)"),
        "{info}"
    );
    assert!(info.contains("approved:  yes"), "{info}");
    // Edited (still installable: a later `pyve run` in prod syncs it).
    let spec = root.join("requirements-prod.txt");
    let edited = format!("{}# reviewed\n", std::fs::read_to_string(&spec).unwrap());
    std::fs::write(&spec, edited).unwrap();
    let info = stdout(&sb.pyve(&root, &["env", "info", "prod"]));
    assert!(info.contains("(changed since creation;"), "{info}");
    let json = stdout(&sb.pyve(&root, &["env", "info", "gpu", "--json"]));
    assert_eq!(
        json_field(&json, "d['name'], d['active'], d['approved'], d['spec']"),
        "gpu True True ['environment-gpu.yml']"
    );

    // Unknown names list the known ones, everywhere.
    for args in [
        &["env", "info", "nope"][..],
        &["activate", "nope"],
        &["run", "--env", "nope", "true"],
        &["purge", "--env", "nope", "--yes"],
    ] {
        let out = sb.pyve(&root, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("nope") && err.contains("dev, prod, gpu"),
            "{args:?}: {err}"
        );
        assert!(stdout(&out).is_empty());
    }

    // Purging one: its directory, its registry entry and the pointer to
    // it go; its config entry and the others stay.
    let err = sb.pyve_ok(&root, &["purge", "--env", "gpu", "--yes"]);
    assert!(err.contains("`gpu` stays in .pyve/config"), "{err}");
    assert!(err.contains("the default, `dev`, is active now"), "{err}");
    assert!(!envs.join("gpu").exists());
    assert!(std::fs::symlink_metadata(root.join(".pyve/current")).is_err());
    assert!(envs.join("dev/pyvenv.cfg").is_file() && envs.join("prod/pyvenv.cfg").is_file());
    let registry = std::fs::read_to_string(envs.join(".registry")).unwrap();
    assert!(
        !registry.contains("\"gpu\"") && registry.contains("\"prod\""),
        "{registry}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".pyve/config")).unwrap(),
        config
    );
    let listing = stdout(&sb.pyve(&root, &["envs"]));
    assert!(
        listing.contains("    gpu              (micromamba) not created"),
        "{listing}"
    );
    let out = sb.pyve(&root, &["activate", "gpu"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("create it with `pyve init --env gpu`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        prefix(&sb, &root, &[], &[]),
        envs.join("dev").display().to_string()
    );

    // Moved: the pointer is relative, the approval is not.
    sb.pyve_ok(&root, &["activate", "prod"]);
    let moved = sb.path("moved/ml");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(&root, &moved).unwrap();
    let listing = stdout(&sb.pyve(&moved, &["envs"]));
    assert!(
        listing.contains("Active: prod (via .pyve/current)"),
        "{listing}"
    );
    let out = sb.pyve(&moved, &["run", "true"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a moved project is another, unapproved one"
    );
    assert!(stderr(&out).contains("pyve allow"), "{}", stderr(&out));
    sb.pyve_ok(&moved, &["allow"]);
    assert_eq!(
        prefix(&sb, &moved, &[], &[]),
        moved.join(".pyve/envs/prod").display().to_string()
    );

    // Purging all removes every environment.
    sb.pyve_ok(&moved, &["purge", "--yes"]);
    assert!(!moved.join(".pyve").exists());
}

per_shell!(
    switching_follows_at_the_next_prompt_in_every_shell_inside,
    |sh: Sh| {
        let sb = Sandbox::new();
        let root = three_envs(&sb, "proj");
        let envs = root.join(".pyve/envs");
        let (d, stderr) = run(
            &sb,
            sh,
            &[
                dump("before"),
                cd(sh, &root),
                sh.prompt().into(),
                dump("dev"),
                "pyve activate prod 2>/dev/null".into(),
                sh.prompt().into(),
                dump("prod"),
                sh.prompt().into(),
                dump("prod-again"),
                "pyve activate gpu 2>/dev/null".into(),
                sh.prompt().into(),
                dump("gpu"),
                "pyve activate dev 2>/dev/null".into(),
                sh.prompt().into(),
                dump("dev-again"),
                cd(sh, &sb.path("")),
                sh.prompt().into(),
                dump("after"),
            ],
        );
        assert_eq!(stderr, "", "switching is silent");
        let dev = &d["dev"];
        assert_eq!(
            var(dev, "VIRTUAL_ENV"),
            envs.join("dev").display().to_string()
        );
        assert_eq!(var(dev, "SHOWN"), "(venv:dev) PROMPT$ ");
        let prod = &d["prod"];
        assert_eq!(
            var(prod, "VIRTUAL_ENV"),
            envs.join("prod").display().to_string()
        );
        assert_eq!(
            path_entries(prod)[0],
            envs.join("prod/bin").display().to_string()
        );
        assert_eq!(
            path_entries(prod)[1..].join(":"),
            var(&d["before"], "PATH"),
            "dev's bin is gone, nothing else changed"
        );
        assert_eq!(var(prod, "SHOWN"), "(venv:prod) PROMPT$ ");
        assert_eq!(d["prod-again"], d["prod"]);
        let gpu = &d["gpu"];
        assert_eq!(
            var(gpu, "CONDA_PREFIX"),
            envs.join("gpu").display().to_string()
        );
        assert_eq!(
            gpu.get("VIRTUAL_ENV"),
            Some(&None),
            "venv's variables are reverted"
        );
        assert_eq!(var(gpu, "SHOWN"), "(micromamba:gpu) PROMPT$ ");
        assert_eq!(
            path_entries(gpu)[0],
            envs.join("gpu/bin").display().to_string()
        );
        assert_eq!(
            visible(&d["dev-again"]),
            visible(dev),
            "back to dev exactly"
        );
        assert_eq!(d["after"], d["before"], "leaving restores everything");
    }
);

#[test]
fn the_first_named_environment_keeps_the_single_one_without_migration() {
    let sb = Sandbox::new();
    let root = sb.path("Old App");
    std::fs::create_dir_all(&root).unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv", "--env-name", "legacy"]);
    let single = stdout(&sb.pyve(&root, &["envs"]));
    assert!(single.contains("  * legacy           (venv)"), "{single}");
    assert!(
        single.contains("Active: legacy (the project's only environment;"),
        "{single}"
    );
    let out = sb.pyve(&root, &["activate", "legacy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("pyve init --env legacy"),
        "{}",
        stderr(&out)
    );

    let err = sb.pyve_ok(&root, &["init", "--env", "dev"]);
    assert!(
        err.contains("is kept as the named environment `legacy`, the default"),
        "{err}"
    );
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(
        !config.contains("env_name"),
        "the single environment's keys moved: {config}"
    );
    assert!(
        config.contains("  legacy:\n    directory: \".venv\"\n"),
        "{config}"
    );
    assert!(config.contains("default_env: legacy\n"), "{config}");
    // Nothing the user had changed: the same environment, the same prompt.
    assert_eq!(
        prefix(&sb, &root, &[], &[]),
        root.join(".venv").display().to_string()
    );
    let (d, stderr_text) = run(
        &sb,
        Sh::Bash,
        &[cd(Sh::Bash, &root), Sh::Bash.prompt().into(), dump("in")],
    );
    assert_eq!(stderr_text, "");
    assert_eq!(var(&d["in"], "SHOWN"), "(venv:legacy) PROMPT$ ");
    let listing = stdout(&sb.pyve(&root, &["envs"]));
    assert!(
        listing.contains("  * legacy") && listing.contains("    dev"),
        "{listing}"
    );
    let doctor = sb.pyve(&root, &["doctor"]);
    assert!(doctor.status.success(), "{}", stderr(&doctor));
    assert!(
        stderr(&doctor).contains("the registry agrees with .pyve/config (2 environments)"),
        "{}",
        stderr(&doctor)
    );
    // Its purge removes the directory it really is in.
    sb.pyve_ok(&root, &["purge", "--env", "legacy", "--yes"]);
    assert!(!root.join(".venv").exists());
    assert!(root.join(".pyve/envs/dev/pyvenv.cfg").is_file());
}

#[test]
fn every_error_names_the_environment_and_the_fix() {
    let sb = Sandbox::new();
    let root = three_envs(&sb, "p");
    let fails = |args: &[&str]| {
        let out = sb.pyve(&root, args);
        assert!(stdout(&out).is_empty(), "{args:?}");
        (out.status.code(), stderr(&out))
    };

    let (code, err) = fails(&["init", "--env", "Bad Name"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--env:") && err.contains("use `bad-name`"),
        "{err}"
    );
    let (code, err) = fails(&["init", "--env", "dev", "--backend", "micromamba"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("`dev` is a venv environment") && err.contains("--force"),
        "{err}"
    );
    let (code, err) = fails(&["init", "--env", "dev", "--env-name", "x"]);
    assert_eq!(code, Some(2), "{err}");

    // A pointer that is none of the environments (shipped by a repository,
    // say): nothing is activated and the message says how to choose.
    std::fs::remove_file(root.join(".pyve/current")).ok();
    std::os::unix::fs::symlink("../../elsewhere", root.join(".pyve/current")).unwrap();
    let (code, err) = fails(&["run", "true"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(".pyve/current: points at ../../elsewhere, which is none of the environments in .pyve/config (dev, prod, gpu)")
            && err.contains("pyve activate NAME"),
        "{err}"
    );
    let (_, hook_err) = run(
        &sb,
        Sh::Bash,
        &[cd(Sh::Bash, &root), Sh::Bash.prompt().into(), dump("in")],
    );
    assert!(hook_err.contains("points at ../../elsewhere"), "{hook_err}");
    let listing = stdout(&sb.pyve(&root, &["envs"]));
    assert!(listing.contains("Active: none ("), "{listing}");
    sb.pyve_ok(&root, &["activate", "prod"]);
    assert_eq!(
        prefix(&sb, &root, &[], &[]),
        root.join(".pyve/envs/prod").display().to_string()
    );

    // An environment replaced by a pull (files git tracks) needs a new
    // approval, like the single one.
    let prod = root.join(".pyve/envs/prod");
    std::fs::remove_dir_all(&prod).unwrap();
    make_venv(&prod);
    for args in [
        &["init", "-q"][..],
        &["add", "-f", ".pyve/envs/prod/pyvenv.cfg"],
    ] {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(&root)
            .status()
            .unwrap();
        assert!(status.success());
    }
    let (code, err) = fails(&["run", "true"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!(
            "the environment {} was created or replaced",
            prod.display()
        )),
        "{err}"
    );
    sb.pyve_ok(&root, &["init", "--env", "prod", "--force"]);
    assert_eq!(prefix(&sb, &root, &[], &[]), prod.display().to_string());

    // Config and registry disagree: doctor says so and how to repair.
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    sb.write_config(
        &root,
        &config.replace(
            "  gpu:\n    backend: micromamba\n    env_file: environment-gpu.yml\n",
            "",
        ),
    );
    let doctor = stderr(&sb.pyve(&root, &["doctor"]));
    assert!(
        doctor.contains("the registry lists `gpu`, which .pyve/config does not define")
            && doctor.contains("fix: pyve purge --env gpu"),
        "{doctor}"
    );
    let err = sb.pyve_ok(&root, &["purge", "--env", "gpu", "--yes"]);
    assert!(err.contains("removed the environment"), "{err}");
    assert!(!root.join(".pyve/envs/gpu").exists());
    let doctor = stderr(&sb.pyve(&root, &["doctor"]));
    assert!(doctor.contains("the registry agrees"), "{doctor}");
    // No default and no pointer: CI refuses to guess.
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    sb.write_config(&root, &config.replace("default_env: dev\n", ""));
    let mut command = sb.pyve_command(&root, &["run", "true"]);
    let out = command.env("CI", "true").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no `default_env`"),
        "{}",
        stderr(&out)
    );
    assert!(
        sb.pyve(&root, &["run", "true"]).status.success(),
        "locally the pointer says prod"
    );
}

// `init --env NAME --requirements FILE` records the file in that
// environment's entry (the other keeps its own), installs it, and the
// project stays approved: what init wrote, init approved.
per_shell!(
    init_env_records_its_own_requirements_and_stays_approved,
    |sh: Sh| {
        let sb = Sandbox::new();
        let root = sb.project(
            "proj",
            "environments:\n  dev: {}\n  prod:\n    backend: venv\ndefault_env: prod\n",
        );
        let wheel = make_wheel(&root, "prod_pkg");
        std::fs::write(
            root.join("requirements-prod.txt"),
            format!("./{}\n", wheel.file_name().unwrap().to_string_lossy()),
        )
        .unwrap();
        sb.pyve_ok(&root, &["init", "--env", "dev", "--no-deps"]);
        sb.pyve_ok(
            &root,
            &[
                "init",
                "--env",
                "prod",
                "--requirements",
                "requirements-prod.txt",
            ],
        );
        let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
        assert!(
            config.contains(
                "  prod:\n    backend: venv\n    requirements: [\"requirements-prod.txt\"]\n    \
                 dependencies: requirements\n"
            ),
            "{config}"
        );
        assert!(
            config.contains("  dev:\n    dependencies: none\n"),
            "{config}"
        );
        assert!(
            !config.contains("\ndependencies:"),
            "nothing at the top: {config}"
        );
        let import = ["run", "--env", "prod", "python", "-c", "import prod_pkg"];
        sb.pyve_ok(&root, &import);
        let out = sb.pyve(
            &root,
            &["run", "--env", "dev", "python", "-c", "import prod_pkg"],
        );
        assert!(!out.status.success(), "dev has its own set");
        // The hook applies it without asking for a new approval.
        sb.pyve_ok(&root, &["activate", "prod"]);
        let steps = [
            format!("cd {}", sh.q(&root)),
            sh.prompt().to_owned(),
            "printf 'VIRTUAL_ENV=%s\\n' \"$VIRTUAL_ENV\"".to_owned(),
        ];
        let out = sb.script(sh, &steps.join("\n"));
        assert_eq!(stderr(&out), "");
        assert_eq!(
            stdout(&out).trim_end(),
            format!("VIRTUAL_ENV={}", root.join(".pyve/envs/prod").display())
        );
        // A rebuild installs the same, from what was recorded.
        sb.pyve_ok(&root, &["init", "--env", "prod", "--force"]);
        sb.pyve_ok(&root, &import);
    }
);
