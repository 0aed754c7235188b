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
/// The rows of a table of cases: tab-separated fields, `-` for none.
fn rows(table: &str) -> Vec<Vec<Option<&str>>> {
    table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split('\t').map(|f| (f != "-").then_some(f)).collect())
        .collect()
}

#[test]
fn conda_specs_parse_as_conda_lock_parses_them() {
    for row in rows(include_str!("conda_specs.tsv")) {
        let spec = row[0].unwrap();
        let dep = conda_dep(spec, "main").unwrap_or_else(|e| panic!("{spec}: {e:?}"));
        let version = row[2].map(|v| if v == "\"\"" { "" } else { v });
        assert_eq!(
            (
                Some(dep.name.as_str()),
                Some(dep.version.as_str()),
                dep.build.as_deref(),
                dep.channel.as_deref()
            ),
            (row[1], version, row[3], row[4]),
            "{spec}"
        );
    }
}

#[test]
fn pip_requirements_parse_as_conda_lock_parses_them() {
    for row in rows(include_str!("pip_specs.tsv")) {
        let requirement = row[0].unwrap();
        let dep = pip_dep(requirement, "main").unwrap();
        let extras: Vec<&str> = row[3].map(|e| e.split(',').collect()).unwrap_or_default();
        assert_eq!(
            (
                Some(dep.name.as_str()),
                Some(dep.version.as_str()),
                dep.hash.as_deref()
            ),
            (row[1], row[2], row[4]),
            "{requirement}"
        );
        assert_eq!(dep.extras, extras, "{requirement}");
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
