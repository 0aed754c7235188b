//! The project's own variables through the commands: `pyve run` and
//! `pyve export` apply them as the hook does, `status` and `doctor` show
//! them, `init --dotenv` makes `.env`, `purge` keeps one with variables in
//! it, and `init --vscode` keeps the Python extension from activating a
//! second time where the hook runs.

use std::os::unix::fs::PermissionsExt;

use crate::support::*;

const CONFIG: &str = "env:\n  GREETING: \"hi from $PROJECT_ROOT\"\n  LIST: \"$PROJECT_ROOT/src:$LIST\"\n  PATH: \"tools:$PATH\"\ndotenv: [.env, .env.local]\n";

#[test]
fn run_and_export_apply_env_and_dotenv_values() {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", CONFIG);
    std::fs::write(
        root.join(".env"),
        "export SECRET=\"two\\nlines\"\nGREETING=overridden\n",
    )
    .unwrap();
    let real = std::fs::canonicalize(&root).unwrap().display().to_string();
    let out = sb
        .pyve_command(
            &root,
            &[
                "run",
                "sh",
                "-c",
                "printf '%s|%s|%s|%s' \"$GREETING\" \"$LIST\" \"$SECRET\" \"$PATH\"",
            ],
        )
        .env("LIST", "/theirs")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let venv_bin = root.join(".venv/bin").display().to_string();
    assert_eq!(
        stdout(&out),
        format!(
            "hi from {real}|{real}/src:/theirs|two\nlines|{real}/tools:{venv_bin}:{}",
            sb.base_path
        )
    );
    // Unset before, LIST takes no empty entry (which would mean `.`).
    let out = sb.pyve(&root, &["run", "sh", "-c", "printf '%s' \"$LIST\""]);
    assert_eq!(stdout(&out), format!("{real}/src"));
    // export writes the same, quoted for the shell.
    let exported = sb.pyve(&root, &["export", "bash"]);
    let text = stdout(&exported);
    assert!(text.contains("export SECRET='two\nlines'"), "{text}");
    assert!(
        text.contains(&format!("export GREETING='hi from {real}'")),
        "{text}"
    );
    // direnv reloads when a dotenv file changes, or appears.
    let direnv = stdout(&sb.pyve(&root, &["export", "direnv"]));
    for file in [".env", ".env.local"] {
        let watched = format!("watch_file '{}'", root.join(file).display());
        assert!(direnv.contains(&watched), "{direnv}");
    }
}

#[test]
fn run_at_an_active_prompt_does_not_apply_a_reference_twice() {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", CONFIG);
    let real = std::fs::canonicalize(&root).unwrap().display().to_string();
    let out = sb.script_ok(
        Sh::Bash,
        &format!(
            "export LIST=/theirs\ncd {}\n__pyve_hook\n\"$__pyve_exe\" run sh -c 'printf \"%s\" \"$LIST\"'",
            Sh::Bash.q(&root)
        ),
    );
    assert_eq!(stdout(&out), format!("{real}/src:/theirs"));
}

#[test]
fn a_bad_dotenv_file_stops_run_with_its_line_and_doctor_says_so() {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", "dotenv: true\n");
    std::fs::write(root.join(".env"), "A=1\nLD_PRELOAD=/tmp/x.so\n").unwrap();
    let out = sb.pyve(&root, &["run", "true"]);
    assert_eq!(out.status.code(), Some(1));
    let said = stderr(&out);
    let file = std::fs::canonicalize(&root).unwrap().join(".env");
    assert!(
        said.contains(&format!(
            "pyve: {}:2: LD_PRELOAD: a dotenv file may not set LD_PRELOAD",
            file.display()
        )) && said.contains("under `env:` in .pyve/config"),
        "{said}"
    );
    // In .envrc: direnv watches the file and shows the line, so the fix
    // reloads.
    let direnv = sb.pyve(&root, &["export", "direnv"]);
    assert!(direnv.status.success(), "{}", stderr(&direnv));
    let text = stdout(&direnv);
    assert!(
        text.contains(&format!("watch_file '{}'", root.join(".env").display()))
            && text.contains("log_error")
            && text.contains("LD_PRELOAD"),
        "{text}"
    );
    let doctor = sb.pyve(&root, &["doctor"]);
    assert_eq!(doctor.status.code(), Some(1));
    assert!(
        stderr(&doctor).contains("LD_PRELOAD"),
        "{}",
        stderr(&doctor)
    );
    // One that others can write is refused too.
    std::fs::write(root.join(".env"), "A=1\n").unwrap();
    std::fs::set_permissions(root.join(".env"), std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = sb.pyve(&root, &["run", "true"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("writable"), "{}", stderr(&out));
}

#[test]
fn status_shows_the_variables_and_the_dotenv_files() {
    let sb = Sandbox::new();
    let root = sb.venv_project("p", CONFIG);
    std::fs::write(root.join(".env"), "SECRET=s\n").unwrap();
    let text = stdout(&sb.pyve(&root, &["status"]));
    assert!(
        text.contains(".env.local (not there: sets nothing)"),
        "{text}"
    );
    assert!(text.contains("variables    SECRET=s\n"), "{text}");
    assert!(text.contains("LIST=${PROJECT_ROOT}/src:${LIST}"), "{text}");
    let json = stdout(&sb.pyve(&root, &["status", "--json"]));
    assert!(
        json.contains("\"variables\":{\"SECRET\":\"s\",\"GREETING\""),
        "{json}"
    );
    assert!(json.contains("\"exists\":false"), "{json}");
}

#[test]
fn init_dotenv_makes_a_private_ignored_env_file_and_purge_keeps_one_in_use() {
    let sb = Sandbox::new();
    let root = sb.path("p");
    std::fs::create_dir_all(&root).unwrap();
    sb.pyve_ok(&root, &["init", "--no-direnv", "--dotenv"]);
    let env_file = root.join(".env");
    let mode = std::fs::metadata(&env_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let gitignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(gitignore.contains("\n/.env\n"), "{gitignore}");
    let config = std::fs::read_to_string(root.join(".pyve/config")).unwrap();
    assert!(config.contains("dotenv: true\n"), "{config}");
    // As made, it goes with the project.
    sb.pyve_ok(&root, &["purge", "--yes"]);
    assert!(!env_file.exists());

    sb.pyve_ok(&root, &["init", "--no-direnv", "--dotenv"]);
    let mut text = std::fs::read(&env_file).unwrap();
    text.extend_from_slice(b"TOKEN=mine\n");
    std::fs::write(&env_file, &text).unwrap();
    let out = sb.pyve(&root, &["run", "sh", "-c", "printf %s \"$TOKEN\""]);
    assert_eq!(stdout(&out), "mine");
    // A second init keeps it as it is.
    sb.pyve_ok(&root, &["init", "--no-direnv", "--dotenv"]);
    assert_eq!(std::fs::read(&env_file).unwrap(), text);
    let said = sb.pyve_ok(&root, &["purge", "--yes"]);
    assert!(
        said.contains("keep") && said.contains("holds your variables"),
        "{said}"
    );
    assert_eq!(std::fs::read(&env_file).unwrap(), text);
}

#[test]
fn init_vscode_turns_the_extensions_activation_off_where_the_hook_runs() {
    let sb = Sandbox::new();
    let root = sb.path("p");
    std::fs::create_dir_all(root.join(".vscode")).unwrap();
    std::fs::write(
        root.join(".vscode/settings.json"),
        "{\n  \"editor.tabSize\": 2\n}\n",
    )
    .unwrap();
    // Without the hook in the calling shell: only the interpreter.
    sb.pyve_ok(&root, &["init", "--no-direnv", "--vscode"]);
    let settings = std::fs::read_to_string(root.join(".vscode/settings.json")).unwrap();
    assert!(!settings.contains("activateEnvironment"), "{settings}");
    // Run from a shell with the hook (PYVE_HOOK names pyve's parent).
    let out = sb
        .pyve_command(&root, &["init", "--no-direnv", "--vscode"])
        .env("PYVE_HOOK", std::process::id().to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let settings = std::fs::read_to_string(root.join(".vscode/settings.json")).unwrap();
    assert_eq!(
        settings,
        "{\n  \"python.terminal.activateEnvironment\": false,\n  \"python.defaultInterpreterPath\": \"${workspaceFolder}/.venv/bin/python\",\n  \"editor.tabSize\": 2\n}\n"
    );
    // The user's own choice is kept, with a warning.
    let theirs = settings.replace(
        "\"python.terminal.activateEnvironment\": false",
        "\"python.terminal.activateEnvironment\": true",
    );
    std::fs::write(root.join(".vscode/settings.json"), &theirs).unwrap();
    let out = sb
        .pyve_command(&root, &["init", "--no-direnv", "--vscode"])
        .env("PYVE_HOOK", std::process::id().to_string())
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("activateEnvironment to true, kept"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".vscode/settings.json")).unwrap(),
        theirs
    );
}
