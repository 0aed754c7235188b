//! The release workflow (.github/workflows/release.yml), read as data: it
//! parses, it builds exactly the targets install.sh installs, and every
//! `run:` step is valid bash calling only scripts this repository has,
//! but the GitHub-only steps docs/release.md names. The scripts run here
//! too: scripts/test.sh runs release.sh and smoke.sh on this machine's
//! build; release-notes.sh runs below.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::*;

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// A workflow expression (`${{ matrix.target }}`) as a plain word.
fn without_expressions(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("an expression ends") + start + 2;
        out.push_str("EXPR");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_workflow_builds_what_the_installer_installs() {
    let workflow: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&repo_file(".github/workflows/release.yml")).unwrap();
    assert_eq!(
        workflow["on"]["push"]["tags"][0].as_str(),
        Some("v*"),
        "released on a version tag"
    );
    let built: BTreeSet<String> = workflow["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|row| row["target"].as_str().unwrap().to_owned())
        .collect();
    let installed: BTreeSet<String> = repo_file("install.sh")
        .lines()
        .filter_map(|l| l.split(") target=").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(built.len(), 4);
    assert_eq!(built, installed);

    let docs = repo_file("docs/release.md");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut runs = 0;
    for (job, body) in workflow["jobs"].as_mapping().unwrap() {
        for step in body["steps"].as_sequence().unwrap() {
            if let Some(action) = step["uses"].as_str() {
                let name = action.split('@').next().unwrap();
                assert!(docs.contains(name), "docs/release.md names {name}");
                continue;
            }
            let script = without_expressions(step["run"].as_str().unwrap());
            runs += 1;
            let out = std::process::Command::new("bash")
                .args(["-n", "-c", &script])
                .output()
                .unwrap();
            assert!(out.status.success(), "{job:?}: {script}: {}", stderr(&out));
            for word in script.split_whitespace() {
                if word.starts_with("scripts/") || word.starts_with(".ci/") {
                    assert!(
                        root.join(word).is_file(),
                        "{job:?} runs {word}, which is missing"
                    );
                }
            }
            if script.contains("gh ") {
                assert!(docs.contains("gh release create"), "{script}");
            }
        }
    }
    assert!(runs >= 6, "{runs} run steps");
}

#[test]
fn release_notes_come_from_the_changelog_of_the_tagged_version() {
    let sb = Sandbox::new();
    let dir = sb.path("crate");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"pyve\"\nversion = \"1.2.3\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("CHANGELOG.md"),
        "# Changelog\n\n## [Unreleased]\n\n## [1.2.3] - 2026-12-01\n\n### Added\n- `pyve use`.\n\n\
         ## [1.2.2] - 2026-11-01\n- older\n",
    )
    .unwrap();
    let notes = |tag: &str| {
        sb.command("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/release-notes.sh"))
            .arg(tag)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let out = notes("v1.2.3");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "\n### Added\n- `pyve use`.\n");
    let out = notes("v1.2.4");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "release-notes.sh: the tag is v1.2.4, but Cargo.toml's version is 1.2.3; set it and tag again\n"
    );
    std::fs::write(
        dir.join("CHANGELOG.md"),
        "# Changelog\n\n## [Unreleased]\n- new\n",
    )
    .unwrap();
    let out = notes("1.2.3");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("has no \"## [1.2.3]\" section"),
        "{}",
        stderr(&out)
    );
}
