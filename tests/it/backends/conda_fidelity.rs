//! What the real micromamba does that a stand-in did not, each reproduced
//! with micromamba 2.8.1 and held to by pyve (issue 19's divergences):
//! spec files told apart by name, `name:` with a separator, the root
//! prefix and its rc files, rc channels, the pip it adds, variables with a
//! lock, a lock for another platform, success that is not one, `sel(...)`,
//! and env_vars.d files with numbers.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::support::*;

/// A directory holding `environment.yml`, with micromamba on PATH.
fn project(sb: &Sandbox, rel: &str, environment: &str) -> PathBuf {
    sb.micromamba_on_path();
    sb.conda_dir(rel, environment)
}

/// The conda package records in a prefix (`hello-2.0-0.json` → `hello`).
fn installed(prefix: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(prefix.join("conda-meta"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".json")?;
            Some(stem.rsplitn(3, '-').nth(2)?.to_owned())
        })
        .collect();
    names.sort();
    names
}

/// Files in `dir` whose names start with `prefix` (pyve's leftovers).
fn leftovers(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

#[test]
fn a_lock_file_under_any_name_is_read_as_a_lock() {
    let sb = Sandbox::new();
    let root = project(
        &sb,
        "gpu",
        "channels: [conda-forge]\ndependencies: [python]\n",
    );
    std::fs::create_dir_all(root.join(".pyve")).unwrap();
    std::fs::write(
        root.join(".pyve/config"),
        "environments:\n  gpu:\n    backend: micromamba\n    env_file: environment-gpu.yml\n    lock_file: conda-lock-gpu.yml\n",
    )
    .unwrap();
    std::fs::write(
        root.join("environment-gpu.yml"),
        "channels: [conda-forge]\ndependencies: [python=3.11, tool]\n",
    )
    .unwrap();
    // The documented name, which micromamba alone reads as an environment
    // file: "Empty environment created", exit 0.
    conda_lock(
        &root.join("environment-gpu.yml"),
        &root.join("conda-lock-gpu.yml"),
    );
    sb.pyve_ok(&root, &["init", "--env", "gpu", "--no-direnv"]);
    let prefix = root.join(".pyve/envs/gpu");
    assert_eq!(installed(&prefix), ["hello", "pip", "python", "tool"]);
    let out = sb.pyve(&root, &["run", "--env", "gpu", "tool"]);
    assert_eq!(stdout(&out), "tool 2.0\n", "{}", stderr(&out));
    // micromamba was handed a copy named as a lock, gone afterwards.
    let create = sb.micromamba_creates().remove(0);
    let file = &create[create.iter().position(|a| a == "-f").unwrap() + 1];
    assert!(file.ends_with("-lock.yml"), "{file}");
    assert!(!Path::new(file).exists());
    assert!(leftovers(&root.join(".pyve/envs"), ".conda-lock-gpu").is_empty());
}

#[test]
fn a_name_with_a_separator_builds_under_its_sanitized_name() {
    let sb = Sandbox::new();
    let text = "name: team/ml\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - hello\nvariables:\n  TEAM: ml\n";
    let root = project(&sb, "team", text);
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    let prefix = root.join(".pyve/envs/team-ml");
    assert!(prefix.join("conda-meta/pyve-built").is_file());
    let out = sb.pyve(&root, &["run", "sh", "-c", "hello; echo $TEAM"]);
    assert_eq!(
        stdout(&out),
        format!("hello 2.0 from {}\nml\n", prefix.display()),
        "{}",
        stderr(&out)
    );
    // The project's file is untouched and the copy beside it is gone.
    assert_eq!(
        std::fs::read_to_string(root.join("environment.yml")).unwrap(),
        text
    );
    assert!(leftovers(&root, ".environment").is_empty());
}

#[test]
fn the_root_prefix_is_never_the_project() {
    let sb = Sandbox::new();
    let root = project(
        &sb,
        "own",
        "channels: [conda-forge]\ndependencies: [python=3.11]\n",
    );
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    // The project's own micromamba, as `--bootstrap-to project` puts it
    // (beside .pyve/envs, which makes micromamba take .pyve for its root),
    // with an rc file there that a repository could ship.
    let own = sb.install_micromamba(&root.join(".pyve/bin"));
    std::fs::write(
        root.join(".pyve/.mambarc"),
        format!(
            "pkgs_dirs:\n  - {}\n",
            root.join(".pyve/injected").display()
        ),
    )
    .unwrap();
    let err = sb.pyve_ok(&root, &["init", "--no-direnv", "--force"]);
    assert!(err.contains("from the project's .pyve/bin"), "{err}");
    assert!(own.exists());
    // Its package cache is the user's, not .pyve/pkgs, and the project's
    // rc file was not read.
    assert!(!root.join(".pyve/pkgs").exists());
    assert!(!root.join(".pyve/injected").exists());
    assert!(sb.path("data/mamba/pkgs").is_dir());
    let gitignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(gitignore.contains("/.pyve/bin/\n"), "{gitignore}");

    // A root prefix the user chose is theirs to keep.
    let chosen = sb.path("chosen-root");
    let out = sb
        .pyve_command(&root, &["init", "--no-direnv", "--force"])
        .env("MAMBA_ROOT_PREFIX", &chosen)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(chosen.join("pkgs").is_dir());
    let last = sb.micromamba_calls().pop().unwrap();
    assert!(!last.contains(&"-r".to_owned()), "{last:?}");
    // micromamba 1.x's root prefix, when there is one, as micromamba
    // itself would take it.
    std::fs::create_dir_all(sb.home.join("micromamba/pkgs")).unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv", "--force"]);
    let last = sb.micromamba_calls().pop().unwrap();
    let r = last.iter().position(|a| a == "-r").unwrap();
    assert_eq!(
        last[r + 1],
        sb.home.join("micromamba").display().to_string()
    );
}

#[test]
fn channels_are_the_specs_whatever_the_rc_files_say() {
    let sb = Sandbox::new();
    let root = project(
        &sb,
        "rc",
        "channels: [conda-forge]\ndependencies: [python=3.11, hello]\n",
    );
    // `defaults` is on the network: appended, it fails an offline build.
    std::fs::write(sb.home.join(".condarc"), "channels:\n  - defaults\n").unwrap();
    let out = sb
        .pyve_command(&root, &["init", "--no-direnv"])
        .env("CONDA_CHANNELS", "defaults")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let prefix = root.join(".pyve/envs/rc");
    assert_eq!(installed(&prefix), ["hello", "pip", "python"]);
}

#[test]
fn pip_from_micromamba_and_the_spec_is_not_pip_behind_condas_back() {
    let sb = Sandbox::new();
    let root = project(
        &sb,
        "pipped",
        "channels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip:\n    - alpha==1.0\n",
    );
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    let out = sb.pyve(
        &root,
        &[
            "run",
            "python",
            "-c",
            "import alpha, pip; print(alpha.__version__)",
        ],
    );
    assert_eq!(stdout(&out), "1.0\n", "{}", stderr(&out));
    let doctor = stdout(&sb.pyve(&root, &["doctor", "--json"]));
    assert!(!doctor.contains(r#""check":"pip""#), "{doctor}");
    // What pip installs by hand is still said.
    let out = sb.pyve(
        &root,
        &["run", "python", "-m", "pip", "install", "--quiet", "beta"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doctor = stdout(&sb.pyve(&root, &["doctor", "--json"]));
    assert!(
        doctor.contains(r#""check":"pip","status":"warning""#),
        "{doctor}"
    );
    assert!(
        doctor.contains("beta-") && !doctor.contains("alpha-"),
        "{doctor}"
    );
}

#[test]
fn a_lock_keeps_the_environment_files_variables_and_must_be_for_this_platform() {
    let sb = Sandbox::new();
    let root = project(
        &sb,
        "vars",
        "channels: [conda-forge]\ndependencies: [python=3.11]\nvariables:\n  MY_VAR: 1.10\n  flag: on\n",
    );
    conda_lock(&root.join("environment.yml"), &root.join("conda-lock.yml"));
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    let out = sb.pyve(&root, &["run", "sh", "-c", "echo \"$MY_VAR $FLAG\""]);
    assert_eq!(stdout(&out), "1.10 on\n", "{}", stderr(&out));
    assert!(sb.micromamba_creates()[0].contains(&root.join("conda-lock.yml").display().to_string()));
    // conda-lock's hash leaves `variables:` out, so the lock stays fresh
    // when one changes; the environment is rebuilt all the same.
    let text = std::fs::read_to_string(root.join("environment.yml")).unwrap();
    std::fs::write(root.join("environment.yml"), text.replace("1.10", "2.0")).unwrap();
    sb.pyve_ok(&root, &["lock", "--check"]);
    let doctor = stderr(&sb.pyve(&root, &["doctor"]));
    assert!(
        doctor.contains("built from conda-lock.yml, which changed since"),
        "{doctor}"
    );
    let err = sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert!(
        err.contains(
            "conda-lock.yml (or `variables:` in environment.yml) changed since it was built"
        ),
        "{err}"
    );
    let out = sb.pyve(&root, &["run", "sh", "-c", "echo \"$MY_VAR $FLAG\""]);
    assert_eq!(stdout(&out), "2.0 on\n", "{}", stderr(&out));

    // A lock made for other platforms only: micromamba would create an
    // empty environment and succeed; pyve refuses before it runs.
    let other = project(
        &sb,
        "elsewhere",
        "channels: [conda-forge]\ndependencies: [python=3.11]\n",
    );
    conda_lock_for(
        &other.join("environment.yml"),
        &other.join("conda-lock.yml"),
        &["osx-arm64"],
    );
    let out = sb.pyve(&other, &["init", "--no-direnv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "conda-lock.yml: metadata.platforms is [osx-arm64], without this machine's linux-64"
        ),
        "{err}"
    );
    assert!(
        err.contains("add linux-64 to `platforms:` in environment.yml"),
        "{err}"
    );
    assert!(!other.join(".pyve").exists());
}

/// A channel served over HTTP whose packages come a byte every 5 ms, so
/// micromamba can be interrupted while it downloads. Returns the URL and
/// a flag set once a package was asked for.
fn slow_channel() -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = asked.clone();
    let channels = conda_channels().to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (channels, flag) = (channels.clone(), flag.clone());
            std::thread::spawn(move || {
                let mut request = [0u8; 4096];
                let n = stream.read(&mut request).unwrap_or(0);
                let line = String::from_utf8_lossy(&request[..n]).into_owned();
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let Ok(body) = std::fs::read(channels.join(path.trim_start_matches('/'))) else {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    return;
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                if !path.ends_with(".tar.bz2") {
                    let _ = stream.write_all(&body);
                    return;
                }
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                for byte in body {
                    if stream.write_all(&[byte]).is_err() {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            });
        }
    });
    (format!("http://127.0.0.1:{port}/conda-forge"), asked)
}

#[test]
fn success_from_micromamba_is_checked_before_the_environment_is_marked_built() {
    let sb = Sandbox::new();
    let (url, asked) = slow_channel();
    let root = project(
        &sb,
        "interrupted",
        &format!("channels: ['{url}']\ndependencies: [python=3.11, hello]\n"),
    );
    // On a terminal (--verbose gives micromamba pyve's), Ctrl-C that
    // reaches micromamba alone while it downloads: it says "Interrupted by
    // user" and exits 0, having installed nothing.
    let pid_file = sb.path("tmp/micromamba.pid");
    let mut command = sb.pyve_command(&root, &["init", "--no-direnv", "--verbose"]);
    command.env("PYVE_TEST_MICROMAMBA_PID", &pid_file);
    let mut session = rexpect::session::spawn_with_options(
        command,
        rexpect::reader::Options::new().timeout_ms(Some(60_000)),
    )
    .unwrap();
    let started = std::time::Instant::now();
    while !asked.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "micromamba never downloaded"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    session.exp_string("Interrupted by user").unwrap();
    session
        .exp_string("micromamba finished without an error, but the environment it made has no")
        .unwrap();
    session.exp_eof().unwrap();
    match session.process().wait().unwrap() {
        nix::sys::wait::WaitStatus::Exited(_, code) => assert_eq!(code, 1),
        other => panic!("{other:?}"),
    }
    assert!(!root
        .join(".pyve/envs/interrupted/conda-meta/pyve-built")
        .exists());
    // Nothing looks ready: the next init builds it (from the local channel).
    std::fs::write(
        root.join("environment.yml"),
        "channels: [conda-forge]\ndependencies: [python=3.11, hello]\n",
    )
    .unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    assert_eq!(
        installed(&root.join(".pyve/envs/interrupted")),
        ["hello", "pip", "python"]
    );
}

#[test]
fn selectors_numeric_names_and_env_vars_d_as_micromamba_reads_them() {
    let sb = Sandbox::new();
    let root = project(
        &sb,
        "sel",
        "name: 2024\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - sel(linux): tool\n  - sel(osx): hello=1.0\n",
    );
    sb.pyve_ok(&root, &["init", "--no-direnv"]);
    let prefix = root.join(".pyve/envs/env-2024");
    assert_eq!(installed(&prefix), ["hello", "pip", "python", "tool"]);
    let out = sb.pyve(&root, &["run", "hello"]);
    assert_eq!(
        stdout(&out),
        format!("hello 2.0 from {}\n", prefix.display())
    );

    // An env_vars.d file with a number: micromamba takes the values before
    // it and drops the rest of the file; so does pyve.
    std::fs::write(
        prefix.join("etc/conda/env_vars.d/mixed.json"),
        r#"{"b_first": "1", "A_NUMBER": 2, "c_after": "3"}"#,
    )
    .unwrap();
    let script =
        "printf '%s|' \"${B_FIRST-unset}\" \"${A_NUMBER-unset}\" \"${C_AFTER-unset}\" \"$SHARED\"";
    let theirs = sb
        .command(real_micromamba())
        .args(["run", "-r"])
        .arg(sb.path("mamba-root"))
        .arg("-p")
        .arg(&prefix)
        .args(["sh", "-c", script])
        .output()
        .unwrap();
    let ours = sb.pyve(&root, &["run", "sh", "-c", script]);
    assert_eq!(
        stdout(&theirs),
        "1|unset|unset|from-env-vars-d|",
        "{}",
        stderr(&theirs)
    );
    assert_eq!(stdout(&ours), stdout(&theirs), "{}", stderr(&ours));
    assert!(
        stderr(&ours).contains("`A_NUMBER` is not a string, so micromamba ignores it"),
        "{}",
        stderr(&ours)
    );
}
