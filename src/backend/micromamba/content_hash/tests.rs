//! Hashes conda-lock 4.0.3 itself computed (its `compute_content_hashes`
//! on these files), and the spec forms of its parser.

use super::specs::{conda_dep, pip_dep};
use super::*;

/// (environment file, [(platform, conda-lock's hash)]).
const CASES: &[(&str, &[(&str, &str)])] = &[
    (
        r#"name: a
channels:
  - conda-forge
  - nodefaults
dependencies:
  - python=3.11
  - hello >=1.0
"#,
        &[
            (
                "linux-64",
                "1c41a1e2c5ded74556ef79cf129accf305002e187343742278b45e0cc5d9d4d0",
            ),
            (
                "osx-arm64",
                "4ac1fee7f9e20b4abae68e0aa1edfe9c83af99eac83a1558a8e86bf6b83c45b1",
            ),
            (
                "osx-64",
                "1bb78c1a5c04f29404a0e9b2700a006575b20122bb9dd2624f2dc02bdf04362b",
            ),
            (
                "win-64",
                "9f9c29bb99bd876ceb2b20472a44684c8e9f1f5df90e7a427cc52f5ad62b4e48",
            ),
        ],
    ),
    (
        r#"channels: [conda-forge, bioconda, file:///tmp/condalock-research/channels/conda-forge]
platforms: [linux-64, osx-arm64, win-64, osx-64, linux-aarch64]
dependencies:
  - python==3.11.9
  - Hello=1.0=0
  - zlibish 2.*  # [linux]
  - conda-forge::pip
  - hello[version='>=1.0,<2|==3']
  - numpy >=1.0, <2
  - bar 1.0 py*
  - baz=1.2.*
  - qux>=1.0.*
  - foo >=1|<0.5,!=0.7*
"#,
        &[
            (
                "linux-64",
                "3bfa2ecc1854c229e07e10437aa52757cbad11bcef5da7ee59b38d56aa6fe0b7",
            ),
            (
                "osx-arm64",
                "80a60bf0271cd2d4933d3d19add06b41ae5943d4f3b27fbde6472affbc902c87",
            ),
            (
                "win-64",
                "c130cb1c250a87bdfc992e6f5d26ec5ab5e399c8c810ac89d190acb54ffb214b",
            ),
            (
                "osx-64",
                "ef0bd61dbd97557435052743ba3305eb56cbbba2b2016c0ea4f3c5e37c17eee0",
            ),
            (
                "linux-aarch64",
                "e21e48bb50e2c0b42175b7696b0d411e75c1a7d9485752c65325529aed6c9bb7",
            ),
        ],
    ),
    (
        r#"channels:
  - conda-forge
category: dev
dependencies:
  - python 3.11.*
  - pip=25
  - pip:
    - Requests_OAuth[socks, Security] >= 2.0, <3
    - hello-world==1.0 --hash=sha256:abcd
    - "six"
    - attrs (>=20,<24)
    - -e ./local
"#,
        &[
            (
                "linux-64",
                "ca52b09e39082222df57a768c14d81663b4f08a155f11273c4cc90697866563a",
            ),
            (
                "osx-arm64",
                "fe8acf33debef5969d89db3a27feb3c83012a2dfd04387c959aa537ab9dfc6c2",
            ),
            (
                "osx-64",
                "eaef6afed4467361d3bf7b11a2097a67d2c369b0b3b7830b13969f99d6af4b9f",
            ),
            (
                "win-64",
                "e217a19f020044c7400b90cdaf96a3c6b11feab8ba2dd826518d357acf76e088",
            ),
        ],
    ),
    (
        r#"name: d
channels: [conda-forge]
platforms:
  - linux-64
  - osx-arm64
dependencies:
  - python=3.12
  - hello
  - zlibish # [osx]
  - pip:
    - tomli
"#,
        &[
            (
                "linux-64",
                "0b38332791b0e47a2052775b620f3a922ff0883ab698a577ce82e4174116ead0",
            ),
            (
                "osx-arm64",
                "3bb7bd9160394760c2e79b0e8ad01ae620def18bd086701187f50d11a3098954",
            ),
        ],
    ),
];

#[test]
fn hashes_match_conda_lock() {
    for (text, expected) in CASES {
        for (platform, hash) in *expected {
            assert_eq!(
                content_hash(text, platform, &[]).as_deref(),
                Ok(*hash),
                "{platform} of\n{text}"
            );
        }
    }
}
/// (spec, name, version, build, channel) as conda-lock parses them.
/// (spec, name, version, build, channel).
type CondaCase = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);
const CONDA_SPECS: &[CondaCase] = &[
    (r#"python"#, "python", "", None, None),
    (r#"python=3.11"#, "python", "3.11.*", None, None),
    (r#"python==3.11"#, "python", "3.11", None, None),
    (r#"python=3.11.9"#, "python", "3.11.9.*", None, None),
    (r#"python 3.11.*"#, "python", "3.11.*", None, None),
    (r#"python>=3.11"#, "python", ">=3.11", None, None),
    (r#"python >= 3.11"#, "python", ">=3.11", None, None),
    (r#"python >=1.0,<2"#, "python", ">=1.0,<2", None, None),
    (r#"python >=1.0, <2"#, "python", ">=1.0,<2", None, None),
    (r#"python=1.0=0"#, "python", "1.0", Some("0"), None),
    (r#"python 1.0 0"#, "python", "1.0", Some("0"), None),
    (r#"python=1.0=py*"#, "python", "1.0", Some("py*"), None),
    (r#"python[version='>=1.0']"#, "python", ">=1.0", None, None),
    (r#"python[build=0]"#, "python", "", Some("0"), None),
    (r#"python *"#, "python", "*", None, None),
    (r#"python=*"#, "python", "*", None, None),
    (r#"python >=1.0|<0.5"#, "python", ">=1.0|<0.5", None, None),
    (r#"python ~=1.0"#, "python", "~=1.0", None, None),
    (r#"python !=1.0"#, "python", "!=1.0", None, None),
    (r#"python=1"#, "python", "1.*", None, None),
    (r#"python==1.0.*"#, "python", "1.0.*", None, None),
    (r#"python>1.0.*"#, "python", ">1.0.*", None, None),
    (
        r#"python >=1.0,<2.0|==3"#,
        "python",
        ">=1.0,<2.0|==3",
        None,
        None,
    ),
    (r#"python=1.0=*"#, "python", "1.0", Some("*"), None),
    (r#"python * 0"#, "python", "*", Some("0"), None),
    (r#"python 1.2*"#, "python", "1.2.*", None, None),
    (r#"python 1.*.3"#, "python", "1.*.3", None, None),
    (
        r#"python >=1,<2|>=3,<4"#,
        "python",
        ">=1,<2|>=3,<4",
        None,
        None,
    ),
    (
        r#"python 1.0 *_cpython"#,
        "python",
        "1.0",
        Some("*_cpython"),
        None,
    ),
    (
        r#"python 2.0=h123_1"#,
        "python",
        "2.0",
        Some("h123_1"),
        None,
    ),
    (
        r#"python[version='1.2*', build='py*']"#,
        "python",
        "1.2.*",
        Some("py*"),
        None,
    ),
    (r#"python >=2 #comment"#, "python", ">=2", None, None),
    (r#"python=1.0 0"#, "python", "1.0", Some("0"), None),
    (r#"python <=1.7.0a1"#, "python", "<=1.7.0a1", None, None),
    (r#"python==1.0=0"#, "python", "==1.0", Some("0"), None),
    (
        r#"python[channel=bioconda]"#,
        "python",
        "",
        None,
        Some("bioconda"),
    ),
    (r#"Hello"#, "hello", "", None, None),
    (r#"Hello=3.11"#, "hello", "3.11.*", None, None),
    (r#"Hello==3.11"#, "hello", "3.11", None, None),
    (r#"Hello=3.11.9"#, "hello", "3.11.9.*", None, None),
    (r#"Hello 3.11.*"#, "hello", "3.11.*", None, None),
    (r#"Hello>=3.11"#, "hello", ">=3.11", None, None),
    (r#"Hello >= 3.11"#, "hello", ">=3.11", None, None),
    (r#"Hello >=1.0,<2"#, "hello", ">=1.0,<2", None, None),
    (r#"Hello >=1.0, <2"#, "hello", ">=1.0,<2", None, None),
    (r#"Hello=1.0=0"#, "hello", "1.0", Some("0"), None),
    (r#"Hello 1.0 0"#, "hello", "1.0", Some("0"), None),
    (r#"Hello=1.0=py*"#, "hello", "1.0", Some("py*"), None),
    (r#"Hello[version='>=1.0']"#, "hello", ">=1.0", None, None),
    (r#"Hello[build=0]"#, "hello", "", Some("0"), None),
    (r#"Hello *"#, "hello", "*", None, None),
    (r#"Hello=*"#, "hello", "*", None, None),
    (r#"Hello >=1.0|<0.5"#, "hello", ">=1.0|<0.5", None, None),
    (r#"Hello ~=1.0"#, "hello", "~=1.0", None, None),
    (r#"Hello !=1.0"#, "hello", "!=1.0", None, None),
    (r#"Hello=1"#, "hello", "1.*", None, None),
    (r#"Hello==1.0.*"#, "hello", "1.0.*", None, None),
    (r#"Hello>1.0.*"#, "hello", ">1.0.*", None, None),
    (
        r#"Hello >=1.0,<2.0|==3"#,
        "hello",
        ">=1.0,<2.0|==3",
        None,
        None,
    ),
    (r#"Hello=1.0=*"#, "hello", "1.0", Some("*"), None),
    (r#"Hello * 0"#, "hello", "*", Some("0"), None),
    (r#"Hello 1.2*"#, "hello", "1.2.*", None, None),
    (r#"Hello 1.*.3"#, "hello", "1.*.3", None, None),
    (
        r#"Hello >=1,<2|>=3,<4"#,
        "hello",
        ">=1,<2|>=3,<4",
        None,
        None,
    ),
    (
        r#"Hello 1.0 *_cpython"#,
        "hello",
        "1.0",
        Some("*_cpython"),
        None,
    ),
    (r#"Hello 2.0=h123_1"#, "hello", "2.0", Some("h123_1"), None),
    (
        r#"Hello[version='1.2*', build='py*']"#,
        "hello",
        "1.2.*",
        Some("py*"),
        None,
    ),
    (r#"Hello >=2 #comment"#, "hello", ">=2", None, None),
    (r#"Hello=1.0 0"#, "hello", "1.0", Some("0"), None),
    (r#"Hello <=1.7.0a1"#, "hello", "<=1.7.0a1", None, None),
    (r#"Hello==1.0=0"#, "hello", "==1.0", Some("0"), None),
    (
        r#"Hello[channel=bioconda]"#,
        "hello",
        "",
        None,
        Some("bioconda"),
    ),
    (
        r#"conda-forge::hello"#,
        "hello",
        "",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello=3.11"#,
        "hello",
        "3.11.*",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello==3.11"#,
        "hello",
        "3.11",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello=3.11.9"#,
        "hello",
        "3.11.9.*",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello 3.11.*"#,
        "hello",
        "3.11.*",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello>=3.11"#,
        "hello",
        ">=3.11",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello >= 3.11"#,
        "hello",
        ">=3.11",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello >=1.0,<2"#,
        "hello",
        ">=1.0,<2",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello >=1.0, <2"#,
        "hello",
        ">=1.0,<2",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello=1.0=0"#,
        "hello",
        "1.0",
        Some("0"),
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello 1.0 0"#,
        "hello",
        "1.0",
        Some("0"),
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello=1.0=py*"#,
        "hello",
        "1.0",
        Some("py*"),
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello[version='>=1.0']"#,
        "hello",
        ">=1.0",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello[build=0]"#,
        "hello",
        "",
        Some("0"),
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello *"#,
        "hello",
        "*",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello=*"#,
        "hello",
        "*",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello >=1.0|<0.5"#,
        "hello",
        ">=1.0|<0.5",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello ~=1.0"#,
        "hello",
        "~=1.0",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello !=1.0"#,
        "hello",
        "!=1.0",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello=1"#,
        "hello",
        "1.*",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello==1.0.*"#,
        "hello",
        "1.0.*",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello>1.0.*"#,
        "hello",
        ">1.0.*",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello >=1.0,<2.0|==3"#,
        "hello",
        ">=1.0,<2.0|==3",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello=1.0=*"#,
        "hello",
        "1.0",
        Some("*"),
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello * 0"#,
        "hello",
        "*",
        Some("0"),
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello 1.2*"#,
        "hello",
        "1.2.*",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello 1.*.3"#,
        "hello",
        "1.*.3",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello >=1,<2|>=3,<4"#,
        "hello",
        ">=1,<2|>=3,<4",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello 1.0 *_cpython"#,
        "hello",
        "1.0",
        Some("*_cpython"),
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello 2.0=h123_1"#,
        "hello",
        "2.0",
        Some("h123_1"),
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello[version='1.2*', build='py*']"#,
        "hello",
        "1.2.*",
        Some("py*"),
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello >=2 #comment"#,
        "hello",
        ">=2",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello=1.0 0"#,
        "hello",
        "1.0",
        Some("0"),
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello <=1.7.0a1"#,
        "hello",
        "<=1.7.0a1",
        None,
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello==1.0=0"#,
        "hello",
        "==1.0",
        Some("0"),
        Some("conda-forge"),
    ),
    (
        r#"conda-forge::hello[channel=bioconda]"#,
        "hello",
        "",
        None,
        Some("bioconda"),
    ),
];
/// (requirement, name, version, extras, hash) as conda-lock parses them.
/// (requirement, name, version, extras, hash).
type PipCase = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    Option<&'static str>,
);
const PIP_SPECS: &[PipCase] = &[
    (
        r#"Requests_OAuth[socks, Security] >= 2.0, <3"#,
        "requests-oauth",
        "<3,>=2.0",
        &["Security", "socks"],
        None,
    ),
    (r#"six"#, "six", "*", &[], None),
    (r#"attrs (>=20,<24)"#, "attrs", "<24,>=20", &[], None),
    (r#"foo==1.0.*"#, "foo", "==1.0.*", &[], None),
    (r#"foo~=1.4"#, "foo", "~=1.4", &[], None),
    (r#"foo<2,>=1"#, "foo", "<2,>=1", &[], None),
    (r#"foo ===1"#, "foo", "==1", &[], None),
    (r#"foo[Extra_X]"#, "foo", "*", &["Extra_X"], None),
    (r#"foo!=1.5, ==1.*"#, "foo", "!=1.5,==1.*", &[], None),
    (r#"a.b-c__d>=1"#, "a-b-c-d", ">=1", &[], None),
    (
        r#"x==1.0 --hash=sha256:ab"#,
        "x",
        "==1.0",
        &[],
        Some("sha256:ab"),
    ),
    (r#"foo [a] (>=1)"#, "foo", ">=1", &["a"], None),
];

#[test]
fn conda_specs_parse_as_conda_lock_parses_them() {
    for (spec, name, version, build, channel) in CONDA_SPECS {
        let dep = conda_dep(spec, "main").unwrap_or_else(|e| panic!("{spec}: {e:?}"));
        assert_eq!(
            (
                dep.name.as_str(),
                dep.version.as_str(),
                dep.build.as_deref(),
                dep.channel.as_deref()
            ),
            (*name, *version, *build, *channel),
            "{spec}"
        );
    }
}

#[test]
fn pip_requirements_parse_as_conda_lock_parses_them() {
    for (requirement, name, version, extras, hash) in PIP_SPECS {
        let dep = pip_dep(requirement, "main").unwrap();
        assert_eq!(
            (dep.name.as_str(), dep.version.as_str(), dep.hash.as_deref()),
            (*name, *version, *hash),
            "{requirement}"
        );
        assert_eq!(dep.extras, *extras, "{requirement}");
    }
}

#[test]
fn what_the_port_does_not_cover_is_said() {
    let marker = "channels: [c]\ndependencies:\n  - pip:\n    - foo; python_version < '3'\n";
    assert!(content_hash(marker, "linux-64", &[]).is_err());
    let url = "channels: [c]\ndependencies:\n  - pip:\n    - foo @ https://x/foo.whl\n";
    assert!(content_hash(url, "linux-64", &[]).is_err());
    let repos = "channels: [c]\npip-repositories: [https://x]\ndependencies: [a]\n";
    assert!(content_hash(repos, "linux-64", &[]).is_err());
}

#[test]
fn selectors_are_found_as_conda_lock_finds_them() {
    assert_eq!(selector("  - zlib  # [linux]"), Some("linux"));
    assert_eq!(selector("  - zlib # [osx] and [win]"), Some("win"));
    assert_eq!(selector("  - zlib # [linux] (note)"), None);
    assert_eq!(selector("  - zlib [linux]"), None);
    assert_eq!(selector("#[linux]"), None);
    assert_eq!(selector("  - zlib # []"), None);
}

#[test]
fn channels_replace_the_files_and_python_escapes() {
    let text = "channels: [conda-forge]\ndependencies: [python]\n";
    let own = content_hash(text, "linux-64", &[]).unwrap();
    let same = content_hash(text, "linux-64", &["conda-forge".to_owned()]).unwrap();
    let other = content_hash(text, "linux-64", &["bioconda".to_owned()]).unwrap();
    assert_eq!(own, same);
    assert_ne!(own, other);
    let mut out = String::new();
    json_string(&mut out, "é\u{1f600}\"\u{1}", true);
    assert_eq!(out, r#""\u00e9\ud83d\ude00\"\u0001""#);
}
