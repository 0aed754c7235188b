//! The prompt path's cost, guarded by counts rather than timings: a bare
//! Enter forks and execs nothing, and an engine call with nothing to do
//! stays within a syscall budget. Needs strace; skipped (visibly) without.

use std::path::Path;
use std::process::Command;

use crate::per_shell;
use crate::support::*;

fn strace() -> Option<&'static str> {
    let found = Command::new("strace").arg("-V").output().is_ok();
    if !found {
        eprintln!("SKIPPED: strace not installed; the fast-path guard did not run");
    }
    found.then_some("strace")
}

/// Lines of an `strace -f` log between two marker stats.
fn between<'a>(log: &'a str, begin: &str, end: &str) -> Vec<&'a str> {
    let start = log.find(begin).expect("begin marker traced");
    let stop = log.find(end).expect("end marker traced");
    log[start..stop].lines().collect()
}

per_shell!(bare_enter_forks_and_execs_nothing, |sh: Sh| {
    let Some(strace) = strace() else { return };
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    std::fs::create_dir_all(root.join("a/b/c")).unwrap();
    let log = sandbox.path("tmp/strace.log");
    let test = if sh == Sh::Fish { "test -e" } else { "[[ -e" };
    let close = if sh == Sh::Fish { "" } else { " ]]" };
    let loop_body = match sh {
        // `math` is a builtin; `seq` would start processes of its own.
        Sh::Fish => {
            "set i 0; while test $i -lt 200; set i (math $i + 1); emit fish_prompt; end".to_owned()
        }
        _ => "for i in {1..200}; do __pyve_hook; done".to_owned(),
    };
    let body = format!(
        "cd {}\n{}\n{test} /pyve-marker-begin{close}\n{loop_body}\n{test} /pyve-marker-end{close}\necho \"VE=$VIRTUAL_ENV\"",
        sh.q(&root.join("a/b/c")),
        sh.prompt()
    );
    let script = sandbox.child_script(sh, "fast.sh", &body);
    let mut args: Vec<String> = vec!["-f".into(), "-o".into(), log.display().to_string()];
    args.extend(script.split(' ').map(|s| s.trim_matches('\'').to_owned()));
    let output = sandbox.command(strace).args(&args).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!("VE={}", root.join(".venv").display())),
        "the project was active during the loop"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    let window = between(&log, "/pyve-marker-begin", "/pyve-marker-end");
    let spawned: Vec<&&str> = window
        .iter()
        .filter(|l| {
            ["clone(", "clone3(", "fork(", "vfork(", "execve("]
                .iter()
                .any(|s| l.contains(s))
        })
        .collect();
    assert!(
        spawned.is_empty(),
        "200 prompts started processes: {spawned:#?}"
    );
    // One stat of the stamp per watched path and prompt, and the paths
    // watched in `p/a/b/c` are the ten that matter: c, b, a, p and
    // `p/.pyve`, p's parent, the config, the trust store, the marker and
    // the environment. None of them missing: a `.pyve` that is not there
    // is not watched (making one changes its directory, watched already).
    let stamp_stats = window
        .iter()
        .filter(|l| l.contains("stat") && l.contains("/stamp-"))
        .count();
    assert_eq!(
        stamp_stats,
        200 * 10,
        "stat calls of the stamp in 200 prompts"
    );
    let root_text = root.display().to_string();
    let missing: Vec<&&str> = window
        .iter()
        .filter(|l| l.contains("stat") && l.contains(&root_text) && l.contains("ENOENT"))
        .collect();
    assert!(
        missing.is_empty(),
        "watched paths that are not there: {missing:#?}"
    );
});

#[test]
fn engine_call_with_nothing_to_do_stays_within_a_syscall_budget() {
    let Some(strace) = strace() else { return };
    let sandbox = Sandbox::new();
    let root = sandbox.venv_project("p", "");
    // A first call activates; its state and stamp make the second a no-op.
    let first = sandbox
        .command(pyve_bin())
        .args(["_engine", "bash"])
        .arg(&root)
        .args(["", "", "4242"])
        .output()
        .unwrap();
    let text = stdout(&first);
    let field = |prefix: &str| {
        let line = text.lines().find(|l| l.starts_with(prefix)).unwrap();
        line[prefix.len()..].trim_matches('\'').to_owned()
    };
    let state = field("\\builtin export PYVE_STATE=");
    let stamp = field("__pyve_stamp=");
    let log = sandbox.path("tmp/engine.strace");
    let output = sandbox
        .command(strace)
        .args(["-f", "-c", "-o"])
        .arg(&log)
        .arg(pyve_bin())
        .args(["_engine", "bash"])
        .arg(&root)
        .args([stamp.as_str(), "", "4242"])
        .env("PYVE_STATE", &state)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = stdout(&output);
    assert!(
        !stdout.contains("export"),
        "nothing to do, nothing exported: {stdout}"
    );
    let summary = std::fs::read_to_string(&log).unwrap();
    let total: usize = summary
        .lines()
        .find(|l| l.trim_end().ends_with("total"))
        .and_then(|l| l.split_whitespace().nth(3).and_then(|n| n.parse().ok()))
        .expect("strace -c total line");
    // Measured: 68 for a dynamically linked debug or release build, 39
    // static; nearly all of it is process start-up. The budget catches a
    // new scan (of PATH, of a directory, of the config) on this path.
    assert!(
        total <= 90,
        "{total} syscalls for a no-op engine call:\n{summary}"
    );
    assert!(
        !summary.contains("getdents"),
        "the no-op engine call listed a directory:\n{summary}"
    );
}

// A directory change between two directories of the project starts no
// engine (issue 22); a nested project, one made later in a directory
// reached that way, and leaving still do. Counted by a wrapper around the
// binary, so every engine start is seen.
per_shell!(
    a_directory_change_inside_the_project_starts_no_engine,
    |sh: Sh| {
        let sandbox = Sandbox::new();
        let root = sandbox.venv_project("p", "");
        for dir in ["a/b", "c", "n/.pyve"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        // `n` is a project of its own (not approved, no environment).
        std::fs::write(root.join("n/.pyve/config"), "").unwrap();
        let (wrapper, log) = counting_wrapper(&sandbox);
        let count = format!("printf 'CALLS=%s\\n' \"$(grep -c _engine {})\"", sh.q(&log));
        let visit = |dir: &Path, steps: &mut Vec<String>| {
            steps.push(cd(sh, dir));
            steps.push(sh.prompt().to_owned());
            steps.push(count.clone());
        };
        // Entering, then a prompt after a pause: the stamp is set 20 ms back
        // (watch.rs), so the fixture's own writes just before count as changes
        // until then. From here on, only the directory changes count.
        let mut steps = vec![set_exe(sh, &wrapper)];
        visit(&root, &mut steps);
        steps.push("sleep 0.1".to_owned());
        steps.push(sh.prompt().to_owned());
        steps.push(format!(": > {}", sh.q(&log)));
        for dir in ["a", "a/b", "c", ""] {
            visit(&root.join(dir), &mut steps); // 0
        }
        steps.push("printf 'VE=%s\\n' \"$VIRTUAL_ENV\"".to_owned());
        visit(&root.join("n"), &mut steps); // 1: a nested project
        visit(&root.join("c"), &mut steps); // 2: back in p, from n
        visit(&root.join("a/b"), &mut steps); // still 2
                                              // A project made where the shell went without the engine.
        steps.push(format!("mkdir {}", sh.q(&root.join("a/b/.pyve"))));
        steps.push(format!(": > {}", sh.q(&root.join("a/b/.pyve/config"))));
        steps.push(sh.prompt().to_owned());
        steps.push(count.clone()); // 3
        visit(&sandbox.path(""), &mut steps); // 4: leaving
        let out = sandbox.script_ok(sh, &steps.join("\n"));
        let said = stdout(&out);
        // The first count is the entering's, before the log was emptied.
        let counts: Vec<&str> = said
            .lines()
            .filter_map(|l| l.strip_prefix("CALLS="))
            .map(str::trim)
            .skip(1)
            .collect();
        // Leaving runs the engine at least once more: outside a project the
        // hook watches every ancestor, /tmp too, which other tests write to.
        let left: u32 = counts.last().unwrap().parse().unwrap();
        assert!(left >= 4, "{sh:?}: {said}");
        assert_eq!(
            counts[..counts.len() - 1],
            ["0", "0", "0", "0", "1", "2", "2", "3"],
            "{sh:?}: {said}\n{}",
            std::fs::read_to_string(&log).unwrap()
        );
        assert!(
            said.contains(&format!("VE={}", root.join(".venv").display())),
            "{said}"
        );
    }
);
