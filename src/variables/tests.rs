use super::*;

#[test]
fn names_are_what_every_shell_can_export() {
    for good in ["A", "_", "a_1", "DJANGO_SETTINGS_MODULE"] {
        assert!(is_name(good), "{good}");
    }
    for bad in ["", "1A", "A-B", "A.B", "A B", "É"] {
        assert!(!is_name(bad), "{bad}");
    }
}

#[test]
fn a_template_expands_the_root_and_the_prior_value_only() {
    let t = template(
        b"$PROJECT_ROOT/a:${PROJECT_ROOT}:$X:${X}:$Y:${Y}:$:${X",
        "X",
    );
    assert_eq!(
        expand(&t, b"/p", Some(b"old")),
        b"/p/a:/p:old:old:$Y:${Y}:$:${X"
    );
    // Unset, each reference takes one `:` along.
    assert_eq!(expand(&t, b"/p", None), b"/p/a:/p:$Y:${Y}:$:${X");
    let list =
        |text: &str, prior: Option<&[u8]>| expand(&template(text.as_bytes(), "L"), b"/p", prior);
    assert_eq!(list("$PROJECT_ROOT/src:$L", None), b"/p/src");
    assert_eq!(list("$PROJECT_ROOT/src:$L", Some(b"")), b"/p/src");
    assert_eq!(list("$PROJECT_ROOT/src:$L", Some(b"/x")), b"/p/src:/x");
    assert_eq!(list("$L:$PROJECT_ROOT/src", None), b"/p/src");
    assert_eq!(list("a:$L:b", None), b"a:b");
    assert_eq!(list("$L", None), b"");
    assert_eq!(list("x$L", None), b"x");
    assert_eq!(
        written(&t, "X"),
        b"${PROJECT_ROOT}/a:${PROJECT_ROOT}:${X}:${X}:$Y:${Y}:$:${X"
    );
    // A root holding what looks like a reference is inserted as bytes.
    assert_eq!(
        expand(&template(b"$PROJECT_ROOT", "X"), b"/$X\0R", None),
        b"/$X\0R"
    );
}

#[test]
fn path_must_prepend_to_itself() {
    let entries = |text: &str| {
        path_entries(&template(text.as_bytes(), "PATH"))
            .map(|e| e.iter().map(|x| x.to_vec()).collect::<Vec<_>>())
    };
    assert_eq!(
        entries("$PROJECT_ROOT/bin:tools:$PATH"),
        Some(vec![b"\0R/bin".to_vec(), b"tools".to_vec()])
    );
    assert_eq!(entries("bin:${PATH}"), Some(vec![b"bin".to_vec()]));
    for bad in [
        "$PATH:bin",
        "bin",
        "bin::$PATH",
        ":$PATH",
        "$PATH",
        "a:$PATH:b:$PATH",
    ] {
        assert_eq!(entries(bad), None, "{bad}");
    }
}

#[test]
fn the_forbidden_list_covers_loading_and_pyves_own_files() {
    for name in [
        "PATH",
        "BASH_ENV",
        "ENV",
        "PROMPT_COMMAND",
        "PS1",
        "PROMPT",
        "PYTHONSTARTUP",
        "PYTHONPATH",
        "PYTHONHOME",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "DYLD_INSERT_LIBRARIES",
        "PYVE_STATE",
        "XDG_DATA_HOME",
        "GIT_SSH_COMMAND",
        "PIP_INDEX_URL",
        "UV_INDEX_URL",
        "fish_user_paths",
        "fish_function_path",
        "PROMPT2",
        "MAILPATH",
        "HISTFILE",
        "HTTPS_PROXY",
        "SSL_CERT_FILE",
    ] {
        assert!(forbidden(name), "{name}");
    }
    for name in [
        "DATABASE_URL",
        "DEBUG",
        "DJANGO_SETTINGS_MODULE",
        "PATHS",
        "LD",
    ] {
        assert!(!forbidden(name), "{name}");
    }
}

#[test]
fn merging_keeps_the_first_place_and_the_last_value() {
    let mut vars = Vec::new();
    merge(&mut vars, "A".into(), b"1".to_vec());
    merge(&mut vars, "B".into(), b"2".to_vec());
    merge(&mut vars, "A".into(), b"3".to_vec());
    assert_eq!(
        vars,
        vec![("A".into(), b"3".to_vec()), ("B".into(), b"2".to_vec())]
    );
}
