//! The engine's decisions, table by table: each case is a directory, the
//! shell's variables, and what the engine must say. Projects, environments
//! and approvals are real files in a temporary directory; the shell is a
//! recorder, so each case reads exactly what was exported and unset.

use std::cell::RefCell;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::{run, Request};
use crate::shell::{protocol, Shell};
use crate::trust::{EnvRef, Store, Subject};
use crate::vars::{self, Map};

mod hostile;
mod sources;
mod variables;
mod watch;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Said {
    Export(String, Vec<u8>),
    Unset(String),
    Global(String, Vec<u8>),
    List(String, Vec<Vec<u8>>),
    Rehash,
    Call(String, Vec<Vec<u8>>),
    Source(Vec<u8>),
}

/// A shell that records what the engine tells it. Each call also writes
/// its number into the output, so what the engine takes back (it may
/// truncate its output) is not counted as said.
#[derive(Default)]
struct Recorder(RefCell<Vec<Said>>);

impl Recorder {
    fn say(&self, out: &mut Vec<u8>, said: Said) {
        let mut all = self.0.borrow_mut();
        out.extend_from_slice(format!("#{}\n", all.len()).as_bytes());
        all.push(said);
    }

    /// What the output still holds, in order.
    fn said(self, out: &[u8]) -> Vec<Said> {
        let all = self.0.into_inner();
        String::from_utf8_lossy(out)
            .lines()
            .filter_map(|l| l.strip_prefix('#')?.parse::<usize>().ok())
            .map(|i| all[i].clone())
            .collect()
    }
}

impl Shell for Recorder {
    fn hook_line(&self) -> &'static str {
        ""
    }
    fn rc_file(&self) -> &'static str {
        ""
    }
    fn init(&self, _exe: &Path) -> Vec<u8> {
        Vec::new()
    }
    fn export(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        self.say(out, Said::Export(name.into(), value.into()));
    }
    fn unset(&self, out: &mut Vec<u8>, name: &str) {
        self.say(out, Said::Unset(name.into()));
    }
    fn set_global(&self, out: &mut Vec<u8>, name: &str, value: &[u8]) {
        self.say(out, Said::Global(name.into(), value.into()));
    }
    fn set_list(&self, out: &mut Vec<u8>, name: &str, values: &[Vec<u8>]) {
        self.say(out, Said::List(name.into(), values.to_vec()));
    }
    fn watch(&self, out: &mut Vec<u8>, paths: &[Vec<u8>], _stamp: &[u8]) {
        self.say(out, Said::List(protocol::NEWER.into(), paths.to_vec()));
    }
    fn rehash(&self, out: &mut Vec<u8>) {
        self.say(out, Said::Rehash);
    }
    fn call(&self, out: &mut Vec<u8>, function: &str, arguments: &[&[u8]]) {
        let arguments = arguments.iter().map(|a| a.to_vec()).collect();
        self.say(out, Said::Call(function.into(), arguments));
    }
    fn source(&self, out: &mut Vec<u8>, script: &[u8]) {
        self.say(out, Said::Source(script.into()));
    }
}

/// What one engine run said, and the shell's variables after it.
struct Outcome {
    said: Vec<Said>,
    diagnostics: String,
    vars: Map,
}

impl Outcome {
    fn exported(&self, name: &str) -> Option<&[u8]> {
        self.said.iter().find_map(|s| match s {
            Said::Export(n, v) if n == name => Some(v.as_slice()),
            _ => None,
        })
    }

    fn unset(&self, name: &str) -> bool {
        self.said.contains(&Said::Unset(name.into()))
    }

    fn changes(&self) -> usize {
        self.said
            .iter()
            .filter(|s| matches!(s, Said::Export(..) | Said::Unset(_)))
            .count()
    }

    /// The prefix the engine asked for.
    fn prompt(&self) -> Option<&[u8]> {
        self.prompt_call().map(|a| a[0].as_slice())
    }

    /// All of the prompt call's arguments: the prefix, then the variable
    /// and value that say the environment is active.
    fn prompt_call(&self) -> Option<&[Vec<u8>]> {
        self.said.iter().find_map(|s| match s {
            Said::Call(f, a) if f == protocol::PROMPT => Some(a.as_slice()),
            _ => None,
        })
    }

    fn var(&self, name: &str) -> Option<String> {
        self.vars
            .0
            .get(name)
            .map(|v| v.to_string_lossy().into_owned())
    }
}

/// A temporary HOME with projects in it, and the shell's variables.
struct World {
    _dir: tempfile::TempDir,
    base: PathBuf,
    vars: Map,
    /// The shell's pid and its stamp (kept from the engine's output, as
    /// the hook keeps it): a new shell has another pid and no stamp.
    pid: u32,
    stamp: Option<PathBuf>,
    /// What this shell was told, kept from the engine's output as the hook
    /// keeps it when `keep_told` (most cases look at each run alone).
    diagnosed: Vec<u8>,
    keep_told: bool,
}

const PATH: &str = "/usr/bin:/bin";

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(dir.path()).unwrap();
    for sub in ["home", "run", "data", "elsewhere"] {
        std::fs::create_dir_all(base.join(sub)).unwrap();
    }
    let vars = Map::default()
        .with("HOME", base.join("home"))
        .with("XDG_DATA_HOME", base.join("data"))
        .with("XDG_RUNTIME_DIR", base.join("run"))
        .with("PATH", PATH);
    World {
        _dir: dir,
        base,
        vars,
        pid: std::process::id(),
        stamp: None,
        diagnosed: Vec::new(),
        keep_told: false,
    }
}

impl World {
    /// A venv project named `name` with its environment (not approved).
    fn project(&self, name: &str) -> PathBuf {
        let root = self.base.join(name);
        std::fs::create_dir_all(root.join(".pyve")).unwrap();
        std::fs::create_dir_all(root.join(".venv/bin")).unwrap();
        std::fs::write(root.join(".pyve/config"), "").unwrap();
        std::fs::write(root.join(".venv/pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        root
    }

    fn approve(&self, root: &Path) {
        let env = EnvRef {
            dir: root.join(".venv"),
            marker: root.join(".venv/pyvenv.cfg"),
        };
        let config = std::fs::read(root.join(".pyve/config")).unwrap();
        Store::new(&self.vars)
            .grant(
                &Subject {
                    project: root,
                    config: &config,
                    envs: std::slice::from_ref(&env),
                },
                Some(&env),
            )
            .unwrap();
    }

    /// Runs the engine in `pwd` with the shell's variables, then applies
    /// what it said to them, as the shell would.
    fn enter(&mut self, pwd: &Path) -> Outcome {
        let shell = Recorder::default();
        let mut diagnostics = Vec::new();
        let out = run(
            &Request {
                shell: &shell,
                pwd: pwd.to_owned(),
                stamp: self.stamp.clone(),
                diagnosed: self.diagnosed.clone(),
                shell_pid: self.pid,
                vars: &self.vars,
            },
            &mut diagnostics,
        );
        let said = shell.said(&out);
        for s in &said {
            match s {
                Said::Export(name, value) => {
                    self.vars
                        .0
                        .insert(name.clone(), OsString::from_vec(value.clone()));
                }
                Said::Unset(name) => {
                    self.vars.0.remove(name);
                }
                Said::Global(name, value) if name == protocol::STAMP => {
                    self.stamp = Some(PathBuf::from(OsString::from_vec(value.clone())));
                }
                Said::Global(name, value) if name == protocol::DIAGNOSED && self.keep_told => {
                    self.diagnosed = value.clone();
                }
                _ => {}
            }
        }
        Outcome {
            said,
            diagnostics: String::from_utf8(diagnostics).unwrap(),
            vars: self.vars.clone(),
        }
    }

    fn set(&mut self, name: &str, value: impl Into<OsString>) {
        self.vars.0.insert(name.to_owned(), value.into());
    }
}

fn bin(root: &Path) -> String {
    root.join(".venv/bin").display().to_string()
}

#[test]
fn entering_an_approved_project_applies_it_and_leaving_restores_everything() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    let inside = w.enter(&root);
    assert_eq!(inside.diagnostics, "");
    assert_eq!(
        inside.var("PATH").unwrap(),
        format!("{}:{PATH}", bin(&root))
    );
    assert_eq!(
        inside.var("VIRTUAL_ENV"),
        Some(root.join(".venv").display().to_string())
    );
    assert_eq!(inside.var("PYVE_ENV_NAME").as_deref(), Some("p"));
    assert!(inside.said.contains(&Said::Rehash));
    // The prefix, and what says the environment is still active: the
    // shell shows the prefix only while VIRTUAL_ENV holds the venv.
    let env = root.join(".venv").as_os_str().as_bytes().to_vec();
    let follows = [b"(venv:p)".to_vec(), b"VIRTUAL_ENV".to_vec(), env];
    assert_eq!(inside.prompt_call(), Some(&follows[..]));
    assert!(inside.exported(vars::STATE).is_some());
    // The last thing said is the directory handled.
    assert_eq!(
        inside.said.last(),
        Some(&Said::Global(
            protocol::PWD.into(),
            root.as_os_str().as_bytes().to_vec()
        ))
    );

    let outside = w.enter(&w.base.join("elsewhere"));
    assert_eq!(outside.var("PATH").as_deref(), Some(PATH));
    for name in ["VIRTUAL_ENV", "PYVE_ENV_NAME", "PYVE_PROJECT", vars::STATE] {
        assert!(outside.unset(name), "{name} unset");
        assert_eq!(outside.var(name), None);
    }
    assert_eq!(outside.prompt_call(), Some(&[Vec::new()][..]));
}

#[test]
fn a_second_run_with_nothing_changed_changes_nothing() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    let first = w.enter(&root);
    let again = w.enter(&root);
    assert_eq!(again.changes(), 0, "{:?}", again.said);
    assert_eq!(again.prompt_call(), first.prompt_call());
    assert_eq!(again.prompt(), Some(&b"(venv:p)"[..]));
}

#[test]
fn a_path_edit_made_inside_survives_leaving() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    w.enter(&root);
    let path = format!("/mine:{}", w.vars.0["PATH"].to_string_lossy());
    w.set("PATH", path);
    let outside = w.enter(&w.base.join("elsewhere"));
    assert_eq!(outside.var("PATH").unwrap(), format!("/mine:{PATH}"));
}

#[test]
fn a_variable_the_user_changed_inside_is_left_alone() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    w.enter(&root);
    w.set("VIRTUAL_ENV", "/theirs");
    let outside = w.enter(&w.base.join("elsewhere"));
    assert_eq!(outside.var("VIRTUAL_ENV").as_deref(), Some("/theirs"));
}

#[test]
fn switching_projects_swaps_one_environment_for_the_other() {
    let mut w = world();
    let (a, b) = (w.project("a"), w.project("b"));
    w.approve(&a);
    w.approve(&b);
    w.enter(&a);
    let in_b = w.enter(&b);
    assert_eq!(in_b.var("PATH").unwrap(), format!("{}:{PATH}", bin(&b)));
    assert_eq!(
        in_b.var("VIRTUAL_ENV"),
        Some(b.join(".venv").display().to_string())
    );
    assert_eq!(in_b.prompt(), Some(&b"(venv:b)"[..]));
}

#[test]
fn an_unapproved_project_is_told_once_and_nothing_is_applied() {
    let mut w = world();
    let root = w.project("p");
    let first = w.enter(&root);
    assert_eq!(first.changes(), 0, "{:?}", first.said);
    assert!(
        first
            .diagnostics
            .contains("not activated: you have not approved this project"),
        "{}",
        first.diagnostics
    );
    assert_eq!(first.diagnostics.lines().count(), 1);
    assert_eq!(first.prompt(), Some(&b""[..]));
    // The shell keeps what it was told; the next run says nothing.
    let told = first
        .said
        .iter()
        .find_map(|s| match s {
            Said::Global(n, v) if n == protocol::DIAGNOSED => Some(v.clone()),
            _ => None,
        })
        .unwrap();
    let shell = Recorder::default();
    let mut diagnostics = Vec::new();
    run(
        &Request {
            shell: &shell,
            pwd: root.clone(),
            stamp: None,
            diagnosed: told,
            shell_pid: std::process::id(),
            vars: &w.vars,
        },
        &mut diagnostics,
    );
    assert!(diagnostics.is_empty());
}

#[test]
fn a_corrupt_state_changes_nothing_and_says_how_to_clear_it() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    w.set(vars::STATE, "3;not a state");
    let out = w.enter(&root);
    assert_eq!(out.changes(), 0, "{:?}", out.said);
    assert!(
        out.diagnostics.contains("PYVE_STATE is corrupt"),
        "{}",
        out.diagnostics
    );
    assert!(
        out.diagnostics.contains("`unset PYVE_STATE`"),
        "{}",
        out.diagnostics
    );
    assert_eq!(out.prompt(), None, "the prompt is not touched either");
    // A shell that was open across the upgrade has an unsealed state.
    w.set(
        vars::STATE,
        "2;/p;/p;1;venv;/p/.venv;p;(venv:p);1;-;1;a=/p/.venv/bin",
    );
    let out = w.enter(&root);
    assert_eq!(out.changes(), 0, "{:?}", out.said);
    assert!(
        out.diagnostics
            .contains("PYVE_STATE was written by an older pyve, whose states carry no seal"),
        "{}",
        out.diagnostics
    );
}

#[test]
fn shims_put_in_front_again_are_moved_behind_the_environment() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    w.enter(&root);
    let path = format!("/h/.pyenv/shims:{}", w.vars.0["PATH"].to_string_lossy());
    w.set("PATH", path);
    let again = w.enter(&root);
    assert_eq!(
        again.var("PATH").unwrap(),
        format!("{}:/h/.pyenv/shims:{PATH}", bin(&root))
    );
    assert!(again.said.contains(&Said::Rehash));
}

#[test]
fn a_denied_project_is_reverted_at_the_next_run() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    w.enter(&root);
    Store::new(&w.vars).deny(&root).unwrap();
    let out = w.enter(&root);
    assert_eq!(out.var("PATH").as_deref(), Some(PATH));
    assert!(out.unset(vars::STATE));
    assert!(
        out.diagnostics.contains("you denied it"),
        "{}",
        out.diagnostics
    );
}

#[test]
fn the_environment_the_shell_already_has_is_not_added_twice() {
    let mut w = world();
    let root = w.project("p");
    w.approve(&root);
    w.set("PATH", format!("{}:{PATH}", bin(&root)));
    let inside = w.enter(&root);
    assert_eq!(inside.exported("PATH"), None);
    let outside = w.enter(&w.base.join("elsewhere"));
    assert_eq!(
        outside.var("PATH").unwrap(),
        format!("{}:{PATH}", bin(&root)),
        "not pyve's to remove"
    );
}

/// A conda-style environment whose own variables would make a state larger
/// than a variable may be: Linux would then refuse every later command in
/// the shell, the engine's too.
#[test]
fn an_environment_too_large_to_export_is_not_applied() {
    let mut w = world();
    let root = w.base.join("big");
    let prefix = root.join(".pyve/envs/big");
    std::fs::create_dir_all(prefix.join("conda-meta")).unwrap();
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::fs::create_dir_all(prefix.join("etc/conda/env_vars.d")).unwrap();
    std::fs::write(
        root.join(".pyve/config"),
        "backend: micromamba\nmicromamba:\n  env_name: big\n",
    )
    .unwrap();
    std::fs::write(
        prefix.join("conda-meta/pyve-built"),
        "spec: environment.yml\n",
    )
    .unwrap();
    // Each value and each file under its cap; together far over.
    for i in 0..18 {
        std::fs::write(
            prefix.join(format!("etc/conda/env_vars.d/{i:02}.json")),
            format!("{{\"V{i}\": \"{}\"}}", "x".repeat(8000)),
        )
        .unwrap();
    }
    let env = EnvRef {
        dir: prefix.clone(),
        marker: prefix.join("conda-meta/pyve-built"),
    };
    let config = std::fs::read(root.join(".pyve/config")).unwrap();
    Store::new(&w.vars)
        .grant(
            &Subject {
                project: &root,
                config: &config,
                envs: std::slice::from_ref(&env),
            },
            Some(&env),
        )
        .unwrap();
    let out = w.enter(&root);
    assert_eq!(out.changes(), 0, "{:?}", out.diagnostics);
    assert!(
        out.diagnostics
            .contains("not activated: its variables would make PYVE_STATE"),
        "{}",
        out.diagnostics
    );
    assert_eq!(out.prompt(), Some(&b""[..]));
}

/// A project whose environment is not built yet (a fresh clone, a purge):
/// one line says what to run, by what the user approved; nothing is
/// applied, and a denied project is not brought up again.
#[test]
fn a_project_without_its_environment_says_what_to_run() {
    let mut w = world();
    let root = w.project("fresh");
    std::fs::remove_dir_all(root.join(".venv")).unwrap();
    let shown = root.display();
    let out = w.enter(&root);
    assert_eq!(out.changes(), 0, "{:?}", out.said);
    assert_eq!(
        out.diagnostics,
        format!(
            "pyve: {shown}: a pyve project, not approved and with no environment yet; review \
             .pyve/config, then `pyve init` approves it and builds the environment\n"
        )
    );
    w.approve(&root);
    let out = w.enter(&root);
    assert_eq!(
        out.diagnostics,
        format!("pyve: {shown}: no environment yet; `pyve init` builds it\n")
    );
    std::fs::write(root.join(".pyve/config"), "env_name: other\n").unwrap();
    let out = w.enter(&root);
    assert_eq!(
        out.diagnostics,
        format!(
            "pyve: {shown}: no environment yet, and .pyve/config changed since you approved it \
             (key env_name); review the change, then `pyve init` approves it and builds the \
             environment\n"
        )
    );
    Store::new(&w.vars).deny(&root).unwrap();
    assert_eq!(w.enter(&root).diagnostics, "");
}

/// The named environment the project selects, when that one is missing.
#[test]
fn a_missing_named_environment_names_its_own_init() {
    let mut w = world();
    let root = w.project("named");
    std::fs::write(
        root.join(".pyve/config"),
        "environments:\n  staging:\n    backend: venv\ndefault_env: staging\n",
    )
    .unwrap();
    w.approve(&root);
    let out = w.enter(&root);
    assert_eq!(
        out.diagnostics,
        format!(
            "pyve: {}: no environment yet; `pyve init --env staging` builds it\n",
            root.display()
        )
    );
}
