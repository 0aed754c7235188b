//! Verdicts, one per way a project can stand, on real files in a
//! temporary directory and a store chosen through the variables.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::*;
use crate::config::Source;
use crate::vars::Map;

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    store_dir: PathBuf,
    project: PathBuf,
    env: EnvRef,
}

const CONFIG: &[u8] = b"env_name: p\n";

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(dir.path()).unwrap();
    let vars = Map::default().with("XDG_DATA_HOME", base.join("data"));
    let project = base.join("p");
    let env_dir = project.join(".venv");
    std::fs::create_dir_all(env_dir.join("bin")).unwrap();
    std::fs::write(env_dir.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
    World {
        _dir: dir,
        store: Store::new(&vars),
        store_dir: base.join("data/pyve/trust"),
        env: EnvRef {
            marker: env_dir.join("pyvenv.cfg"),
            dir: env_dir,
        },
        project,
    }
}

impl World {
    fn subject<'a>(&'a self, config: &'a [u8], envs: &'a [EnvRef]) -> Subject<'a> {
        Subject {
            project: &self.project,
            config,
            envs,
        }
    }

    fn verdict(&self, config: &[u8]) -> Verdict {
        let envs = [self.env.clone()];
        decide(
            &self.store,
            &self.subject(config, &envs),
            Some(&self.activation()),
        )
    }

    fn activation(&self) -> Activation {
        Activation {
            path_prepend: vec![self.env.dir.join("bin").as_os_str().as_bytes().to_vec()],
            ..Activation::default()
        }
    }

    fn grant(&self, built: bool) -> Vec<PathBuf> {
        let envs = [self.env.clone()];
        let built = built.then_some(&self.env);
        self.store
            .grant(&self.subject(CONFIG, &envs), built)
            .unwrap()
    }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn nothing_is_trusted_before_an_approval() {
    let w = world();
    assert_eq!(w.verdict(CONFIG), Verdict::Unknown);
    assert!(!w.store.approved_once(&w.project));
}

#[test]
fn an_approval_covers_this_config_and_this_environment() {
    let w = world();
    assert!(w.grant(true).is_empty(), "built by pyve: not foreign");
    assert_eq!(w.verdict(CONFIG), Verdict::Trusted);
    assert!(w.store.approved_once(&w.project));
    match w.verdict(b"env_name: q\n") {
        Verdict::ConfigChanged(keys) => assert_eq!(keys, "key env_name"),
        other => panic!("{other:?}"),
    }
    // The environment replaced by other means: another directory inode.
    std::fs::rename(&w.env.dir, w.project.join("old")).unwrap();
    std::fs::create_dir_all(w.env.dir.join("bin")).unwrap();
    std::fs::write(&w.env.marker, "home = /usr/bin\n").unwrap();
    // Outside version control, only this machine can have made it (uv
    // replacing .venv): it stays approved.
    assert_eq!(w.verdict(CONFIG), Verdict::Trusted);
    // Files git tracks came with a pull: held back.
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(&w.project)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    assert_eq!(w.verdict(CONFIG), Verdict::Trusted, "untracked");
    git(&["add", "-f", ".venv/pyvenv.cfg"]);
    assert_eq!(w.verdict(CONFIG), Verdict::EnvChanged(w.env.dir.clone()));
    git(&["rm", "-q", "--cached", ".venv/pyvenv.cfg"]);
    assert_eq!(w.verdict(CONFIG), Verdict::Trusted);
    // Another version control system: pyve cannot ask it, so no.
    std::fs::remove_dir_all(w.project.join(".git")).unwrap();
    std::fs::create_dir(w.project.join(".hg")).unwrap();
    assert_eq!(w.verdict(CONFIG), Verdict::EnvChanged(w.env.dir.clone()));
}

/// A directory removed and made again at once gets the same inode number
/// (ext4 hands it out again), and a venv made the same way has the same
/// marker: the birth time still tells them apart.
#[test]
fn an_environment_made_again_in_the_same_inode_is_another() {
    let w = world();
    w.grant(true);
    git_init(&w.project);
    if crate::files::birth_time(&w.env.dir).is_none() {
        eprintln!("SKIPPED: this filesystem keeps no birth time");
        return;
    }
    std::fs::remove_dir_all(&w.env.dir).unwrap();
    std::fs::create_dir_all(w.env.dir.join("bin")).unwrap();
    std::fs::write(&w.env.marker, "home = /usr/bin\n").unwrap();
    std::process::Command::new("git")
        .args(["add", "-f", ".venv/pyvenv.cfg"])
        .current_dir(&w.project)
        .status()
        .unwrap();
    assert_eq!(w.verdict(CONFIG), Verdict::EnvChanged(w.env.dir.clone()));
}

fn git_init(dir: &Path) {
    let status = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn an_environment_pyve_did_not_build_is_reported_foreign() {
    let w = world();
    assert_eq!(w.grant(false), vec![w.env.dir.clone()]);
    assert_eq!(w.verdict(CONFIG), Verdict::Trusted);
}

#[test]
fn what_pyve_built_here_is_known_until_it_is_replaced() {
    let w = world();
    assert!(!w.store.built_here(&w.project, &w.env), "no record yet");
    assert!(!w.store.approved_env(&w.project, &w.env));
    w.grant(false);
    assert!(
        !w.store.built_here(&w.project, &w.env),
        "approved, not built"
    );
    assert!(w.store.approved_env(&w.project, &w.env));
    w.grant(true);
    assert!(w.store.built_here(&w.project, &w.env));
    w.store.deny(&w.project).unwrap();
    assert!(w.store.built_here(&w.project, &w.env), "a denial keeps it");
    assert!(
        !w.store.approved_env(&w.project, &w.env),
        "but not the approval"
    );
    std::fs::write(&w.env.marker, "home = /elsewhere\n").unwrap();
    assert!(!w.store.built_here(&w.project, &w.env), "changed since");
}

#[test]
fn a_denial_stands_until_allowed_again() {
    let w = world();
    w.grant(true);
    w.store.deny(&w.project).unwrap();
    assert_eq!(w.verdict(CONFIG), Verdict::Denied);
    assert!(!w.store.approved_once(&w.project));
    w.grant(false);
    assert_eq!(w.verdict(CONFIG), Verdict::Trusted);
    w.store.forget(&w.project);
    assert_eq!(w.verdict(CONFIG), Verdict::Unknown);
}

#[test]
fn a_store_others_can_write_approves_nothing() {
    let w = world();
    w.grant(true);
    chmod(&w.store_dir, 0o777);
    match w.verdict(CONFIG) {
        Verdict::StoreUnsafe(why) => assert!(why.starts_with("the trust store"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn what_activation_puts_on_path_must_be_yours() {
    let w = world();
    w.grant(true);
    chmod(&w.env.dir.join("bin"), 0o777);
    match w.verdict(CONFIG) {
        Verdict::NotYours(refused) => {
            assert_eq!(refused.path, w.env.dir.join("bin"));
            let blocked = Verdict::NotYours(refused).blocked(&w.project, Source::Pyve);
            assert!(blocked.contains("not activated: "), "{blocked}");
            assert!(blocked.contains("chmod o-w"), "{blocked}");
        }
        other => panic!("{other:?}"),
    }
    // An environment that does not exist yet puts nothing on PATH.
    let envs = [w.env.clone()];
    assert_eq!(
        decide(&w.store, &w.subject(CONFIG, &envs), None),
        Verdict::Trusted
    );
}

#[test]
fn a_marker_that_is_not_a_small_file_is_never_trusted() {
    let w = world();
    w.grant(true);
    std::fs::remove_file(&w.env.marker).unwrap();
    std::fs::create_dir(&w.env.marker).unwrap();
    assert!(matches!(w.verdict(CONFIG), Verdict::EnvUnusable(_)));
}

#[test]
fn refusals_name_the_fix_and_the_way_around() {
    let error = Verdict::Unknown.refused(Path::new("/p"), Source::Pyve);
    assert!(error.message().starts_with("/p: you have not approved"));
    assert!(error.hint().unwrap().contains("pyve allow"));
    assert!(error.hint().unwrap().contains("--trust"));
}
