//! The config's parsing, validation and editing, on text.

use std::path::{Path, PathBuf};

use super::load::Loaded;
use super::*;

#[test]
fn environments_keep_their_order_and_are_checked() {
    let text = "default_env: prod\nenvironments:\n  prod:\n    requirements: r.txt\n  dev: {}\n  gpu:\n    backend: micromamba\n    env_file: gpu.yml\n";
    let loaded = parse_str(text).unwrap();
    assert_eq!(loaded.config.environments.names(), ["prod", "dev", "gpu"]);
    let prod = loaded.config.environments.get("prod").unwrap();
    assert_eq!(
        prod.requirements.as_ref().unwrap().files(),
        [PathBuf::from("r.txt")]
    );
    let err = parse_str("default_env: x\nenvironments:\n  dev: {}\n")
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("not one of the environments (dev)"),
        "{err}"
    );
    assert_eq!(err.line, Some(1));
    let err = parse_str("environments:\n  dev:\n    env_file: e.yml\n")
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("environments.dev.env_file"),
        "{err}"
    );
    assert_eq!(err.line, Some(3), "{err}");
    let err = parse_str("environments:\n  Dev: {}\n").err().unwrap();
    assert!(err.to_string().contains("use `dev`"), "{err}");
    assert_eq!(err.line, Some(2), "{err}");
    let err = parse_str("environments:\n  a: {}\n  a: {}\n")
        .err()
        .unwrap();
    assert!(err.to_string().contains("duplicate entry"), "{err}");
    let err = parse_str("environments:\n  a:\n    pyhton_version: '3.1'\n")
        .err()
        .unwrap();
    assert!(err.to_string().contains("pyhton_version"), "{err}");
    let loaded = parse_str("env_name: old\nenvironments:\n  a: {}\n").unwrap();
    assert!(
        loaded.warnings[0].contains("`env_name` is not used"),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn environments_are_added_and_keys_removed_in_place() {
    let out = add_environment("backend: venv\n", "dev", &[]).unwrap();
    assert_eq!(out, "backend: venv\nenvironments:\n  dev: {}\n");
    let out = add_environment(&out, "gpu", &[("backend", "micromamba".into())]).unwrap();
    assert_eq!(
        out,
        "backend: venv\nenvironments:\n  dev: {}\n  gpu:\n    backend: micromamba\n"
    );
    let nested = "environments:\n    a:\n        backend: venv\n# end\nprompt:\n  show: true\n";
    let out = add_environment(nested, "b", &[]).unwrap();
    assert_eq!(
        out,
        "environments:\n    a:\n        backend: venv\n    b: {}\n# end\nprompt:\n  show: true\n"
    );
    assert!(parse_str(&out)
        .unwrap()
        .config
        .environments
        .get("b")
        .is_some());
    assert!(add_environment("environments: {a: {}}\n", "b", &[]).is_none());
    let text = "env_name: x\nvenv:\n  directory: .v\n  creator: uv\nmicromamba:\n  env_name: y\n";
    let out = remove_value(text, None, "env_name").unwrap();
    let out = remove_value(&out, Some("venv"), "directory").unwrap();
    let out = remove_value(&out, Some("micromamba"), "env_name").unwrap();
    assert_eq!(out, "venv:\n  creator: uv\n");
    assert_eq!(remove_value(&out, None, "absent").unwrap(), out);
}

fn parse_str(s: &str) -> Result<Loaded, ConfigError> {
    parse(Path::new("/p/.pyve/config"), s.as_bytes())
}

#[test]
fn empty_and_comment_only_files_are_defaults() {
    for text in ["", "\n\n", "# nothing\n", "~\n"] {
        let loaded = parse_str(text).unwrap();
        assert!(loaded.config.prompt_show());
        assert_eq!(loaded.config.prompt_format(), DEFAULT_PROMPT_FORMAT);
    }
}

#[test]
fn wrong_type_names_line_and_key() {
    let err = parse_str("env_name: x\nprompt:\n  show: maybe\n")
        .err()
        .unwrap();
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.to_string().contains("show"), "{err}");
}

#[test]
fn unknown_top_level_keys_warn() {
    let loaded = parse_str("colour: blue\n").unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].contains("`colour`"));
}

#[test]
fn unknown_nested_keys_are_errors() {
    let err = parse_str("prompt:\n  shw: false\n").err().unwrap();
    assert!(err.to_string().contains("shw"), "{err}");
}

#[test]
fn unknown_placeholder_is_an_error() {
    assert!(parse_str("prompt:\n  format: '({envname})'\n").is_err());
    assert!(parse_str("prompt:\n  format: '[{env_name}] {}'\n").is_ok());
}

#[test]
fn non_mapping_and_non_utf8_are_errors() {
    assert!(parse_str("- a\n- b\n").is_err());
    let err = parse(Path::new("c"), b"env_name: x\n\xff\n").err().unwrap();
    assert_eq!(err.line, Some(2));
}

#[test]
fn python_version_must_be_quoted_text() {
    let err = parse_str("python:\n  version: 3.10\n").err().unwrap();
    assert!(err.to_string().contains("`version: \"3.10\"`"), "{err}");
    assert_eq!(err.line, Some(2));
    let loaded = parse_str("python:\n  version: '3.10'\n").unwrap();
    assert_eq!(loaded.config.python.request().unwrap().to_string(), "3.10");
    assert!(parse_str("python:\n  version: 'three'\n").is_err());
}

#[test]
fn creator_is_uv_or_stdlib() {
    let loaded = parse_str("venv:\n  creator: stdlib\n").unwrap();
    assert_eq!(loaded.config.venv.creator, Some(Creator::Stdlib));
    let err = parse_str("venv:\n  creator: conda\n").err().unwrap();
    assert!(err.to_string().contains("creator"), "{err}");
}

#[test]
fn set_value_changes_one_line_and_keeps_comments() {
    let text = "# mine\nbackend: venv  # why\nprompt:\n    show: false\n";
    let out = set_value(text, None, "env_name", &yaml_string("a \"b\"")).unwrap();
    assert_eq!(out, format!("{text}env_name: \"a \\\"b\\\"\"\n"));
    assert_eq!(
        parse_str(&out).unwrap().config.env_name.as_deref(),
        Some("a \"b\"")
    );
    let out = set_value(text, None, "backend", "venv").unwrap();
    assert_eq!(out, "# mine\nbackend: venv\nprompt:\n    show: false\n");
    let out = set_value(text, Some("prompt"), "format", "\"[x]\"").unwrap();
    assert_eq!(
        out,
        "# mine\nbackend: venv  # why\nprompt:\n    format: \"[x]\"\n    show: false\n"
    );
    let out = set_value(text, Some("python"), "version", "\"3.12\"").unwrap();
    assert!(out.ends_with("python:\n  version: \"3.12\"\n"), "{out}");
    let out = set_value(&out, Some("python"), "version", "\"3.11\"").unwrap();
    assert!(out.ends_with("python:\n  version: \"3.11\"\n"), "{out}");
    assert!(set_value("python: {version: '3.1'}\n", Some("python"), "version", "x").is_none());
}

#[test]
fn a_newline_in_the_path_stays_on_one_line() {
    let err = ConfigError::at(Path::new("/p/a\nb/.venv"), "bad");
    assert_eq!(err.to_string(), "/p/a\\nb/.venv: bad");
}

/// YAML-shaped text from the pieces configs are made of, plus noise.
fn yamlish() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let piece = prop_oneof![
        Just("backend: ".to_owned()),
        Just("python:\n  version: ".to_owned()),
        Just("venv:\n  directory: ".to_owned()),
        Just("prompt:\n  format: ".to_owned()),
        Just("micromamba:\n  env_name: ".to_owned()),
        Just("requirements: [".to_owned()),
        Just("\n".to_owned()),
        Just("  ".to_owned()),
        Just("- ".to_owned()),
        Just("{".to_owned()),
        Just("\"".to_owned()),
        Just("&a *a !!binary ".to_owned()),
        Just("3.10".to_owned()),
        Just("{env_name}".to_owned()),
        "[ -~]{0,8}",
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest::proptest! {
    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let _ = parse(Path::new("/p/.pyve/config"), &bytes);
    }

    #[test]
    fn parsing_yaml_shaped_text_never_panics(text in yamlish()) {
        if let Err(error) = parse_str(&text) {
            // Every error is one line, however odd the input.
            proptest::prop_assert!(!error.to_string().contains('\n'), "{}", error);
        }
    }
}

#[test]
fn env_and_dotenv_are_read_in_order_and_checked() {
    let text = "env:\n  B: two\n  A: 1\n  FLAG: true\n  P: \"$PROJECT_ROOT/x:$P\"\ndotenv:\n";
    let config = parse_str(text).unwrap().config;
    let names: Vec<&str> = config.env.0.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["B", "A", "FLAG", "P"]);
    let templates = config.env_templates();
    assert_eq!(templates[1].1, b"1");
    assert_eq!(templates[2].1, b"true");
    assert_eq!(
        crate::variables::expand(&templates[3].1, b"/r", Some(b"old")),
        b"/r/x:old"
    );
    assert_eq!(config.dotenv_files(), [PathBuf::from(".env")]);
    let files = |text: &str| parse_str(text).unwrap().config.dotenv_files();
    assert_eq!(files(""), Vec::<PathBuf>::new());
    assert_eq!(files("dotenv: true\n"), [PathBuf::from(".env")]);
    assert_eq!(files("dotenv: false\n"), Vec::<PathBuf>::new());
    assert_eq!(files("dotenv: .env.dev\n"), [PathBuf::from(".env.dev")]);
    assert_eq!(
        files("dotenv: [a.env, b.env]\n"),
        [PathBuf::from("a.env"), PathBuf::from("b.env")]
    );
    for (text, line, says) in [
        ("env:\n  OK: 1\n  1BAD: x\n", 3, "not a variable name"),
        ("env:\n  PYVE_X: x\n", 2, "pyve's own"),
        ("env:\n  V: 1.10\n", 2, "write it in quotes"),
        ("env:\n  V:\n", 2, "has no value"),
        ("env:\n  V: [a]\n", 2, "a list or a mapping"),
        ("env:\n  V: \"a\\0b\"\n", 2, "NUL"),
        ("env:\n  PATH: \"$PATH:/x\"\n", 2, "DIR[:DIR…]:$PATH"),
        ("dotenv: [.env, \"\"]\n", 1, "an entry is empty"),
    ] {
        let err = parse_str(text).err().unwrap_or_else(|| panic!("{text}"));
        assert_eq!(err.line, Some(line), "{text}: {err}");
        assert!(err.to_string().contains(says), "{text}: {err}");
    }
    let twice = parse_str("env:\n  A: 1\n  A: 2\n").err().unwrap();
    assert!(twice.to_string().contains("duplicate"), "{twice}");
}
