//! `pyve export json`: the activation as one JSON object with a stable
//! schema, read by a real consumer (nushell's `from json` and `load-env`,
//! the recipe docs/commands.md gives).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use super::super::hook::more_shells::Other;
use crate::support::*;

/// The recipe in docs/commands.md, word for word.
const RECIPE: &str = r#"def --env pyve-activate [] {
    let activation = (pyve export json | from json)
    load-env $activation.set
    for name in $activation.unset { hide-env -i $name }
    $env.PATH = ($activation.path.value | split row (char esep))
}"#;

#[test]
fn nushell_activates_a_project_with_the_recipe() {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "env_name: demo\n");
    let script = format!(
        "{RECIPE}\npyve-activate\n\
         print $'VIRTUAL_ENV=($env.VIRTUAL_ENV)'\n\
         print $'HOME_GONE=(($env.PYTHONHOME? | default gone))'\n\
         print $'FIRST=($env.PATH | first)'\n\
         print $'PREFIX=(^python -c \"import sys; print(sys.prefix)\")'"
    );
    let mut cmd = sandbox.command(Other::Nu.program());
    cmd.args(["-n", "-c", &script])
        .current_dir(&root)
        .env("PYTHONHOME", "/opt/elsewhere");
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let venv = root.join(".venv");
    assert!(
        text.contains(&format!("VIRTUAL_ENV={}\n", venv.display())),
        "{text}"
    );
    assert!(text.contains("HOME_GONE=gone\n"), "{text}");
    assert!(
        text.contains(&format!("FIRST={}\n", venv.join("bin").display())),
        "{text}"
    );
    // The python nushell runs is the environment's.
    assert!(
        text.contains(&format!("PREFIX={}\n", venv.display())),
        "{text}"
    );
}

#[test]
fn the_document_has_the_documented_keys() {
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "env_name: demo\nenv:\n  APP_MODE: dev\n");
    let out = sandbox
        .pyve_command(&root, &["export", "json"])
        .env("PYTHONHOME", "/opt/elsewhere")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let venv = root.join(".venv");
    let expected_start = format!(
        "{{\"version\":1,\"root\":\"{}\",\"backend\":\"venv\",\"environment\":\"{}\",\"env_name\":\"demo\",\"set\":{{",
        root.display(),
        venv.display()
    );
    assert!(text.starts_with(&expected_start), "{text}");
    assert!(
        text.contains(&format!("\"VIRTUAL_ENV\":\"{}\"", venv.display())),
        "{text}"
    );
    assert!(text.contains("\"APP_MODE\":\"dev\""), "{text}");
    assert!(!text.contains("\"PATH\":"), "PATH is never in set: {text}");
    assert!(text.contains("\"unset\":[\"PYTHONHOME\"]"), "{text}");
    assert!(
        text.contains(&format!(
            "\"path\":{{\"prepend\":[\"{}\"],\"value\":\"{}:{}\"}}",
            venv.join("bin").display(),
            venv.join("bin").display(),
            sandbox.base_path
        )),
        "{text}"
    );
    assert!(text.ends_with(",\"prompt\":\"(venv:demo)\"}\n"), "{text}");
    // A variable not set now is not in `unset`; a hidden prefix is null.
    sandbox.write_config(&root, "env_name: demo\nprompt:\n  show: false\n");
    sandbox.allow(&root);
    let text = stdout(&sandbox.pyve(&root, &["export", "json"]));
    assert!(text.contains("\"unset\":[]"), "{text}");
    assert!(text.ends_with(",\"prompt\":null}\n"), "{text}");
}

#[test]
fn a_value_that_is_not_utf8_is_refused_not_changed() {
    let sandbox = Sandbox::new();
    let parent = sandbox.path("p");
    std::fs::create_dir_all(&parent).unwrap();
    let root = parent.join(OsStr::from_bytes(b"caf\xe9"));
    std::fs::create_dir_all(root.join(".pyve")).unwrap();
    std::fs::write(root.join(".pyve/config"), "env_name: cafe\n").unwrap();
    // (python -m venv cannot be made at such a path: a link to one.)
    let shared = sandbox.path("shared-venv");
    make_venv(&shared);
    std::os::unix::fs::symlink(&shared, root.join(".venv")).unwrap();
    sandbox.allow(&root);
    let out = sandbox.pyve(&root, &["export", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let said = stderr(&out);
    assert!(
        said.contains("is not valid UTF-8, and JSON holds text only"),
        "{said}"
    );
    assert!(said.contains("pyve export bash"), "{said}");
}
