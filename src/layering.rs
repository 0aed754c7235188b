//! The architecture, checked: every `crate::` and `super::` path in `src/`
//! is resolved to the module it names, and each top-level module may use
//! only the modules `ALLOWED` lists for it (docs/architecture.md explains
//! the layers). The table itself must have no cycle, so neither can the
//! code. Also: no command module uses another, only `vars` reads the
//! process's environment, and files and functions stay small.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module may use, besides itself. `ui` (the output
/// macros) is a leaf every module may use.
const ALLOWED: &[(&str, &[&str])] = &[
    ("error", &[]),
    ("vars", &[]),
    ("text", &[]),
    ("digest", &[]),
    ("json", &[]),
    ("layout", &[]),
    ("health", &[]),
    ("pathlist", &[]),
    ("yaml", &[]),
    ("ask", &["text"]),
    ("paths", &["vars"]),
    ("ui", &["text", "vars"]),
    ("shell", &["text"]),
    ("files", &["digest", "error", "shell", "text"]),
    ("process", &["error", "paths", "shell", "ui", "vars"]),
    ("pyproject", &["error", "files", "text"]),
    ("variables", &["files", "text"]),
    (
        "python",
        &[
            "digest", "error", "files", "pathlist", "paths", "text", "vars",
        ],
    ),
    (
        "deps",
        &[
            "error",
            "files",
            "paths",
            "process",
            "pyproject",
            "text",
            "ui",
        ],
    ),
    (
        "config",
        &[
            "deps",
            "error",
            "files",
            "layout",
            "paths",
            "pyproject",
            "python",
            "text",
            "variables",
            "vars",
            "yaml",
        ],
    ),
    (
        "backend",
        &[
            "ask", "config", "deps", "digest", "error", "files", "health", "json", "layout",
            "paths", "process", "python", "text", "ui", "vars", "yaml",
        ],
    ),
    (
        "trust",
        &[
            "backend", "config", "digest", "error", "files", "layout", "paths", "shell", "text",
            "vars", "yaml",
        ],
    ),
    (
        "project",
        &[
            "backend",
            "config",
            "deps",
            "digest",
            "error",
            "files",
            "json",
            "layout",
            "paths",
            "process",
            "pyproject",
            "python",
            "text",
            "ui",
            "variables",
            "yaml",
        ],
    ),
    (
        "engine",
        &[
            "backend",
            "config",
            "deps",
            "digest",
            "files",
            "layout",
            "pathlist",
            "paths",
            "process",
            "project",
            "shell",
            "text",
            "trust",
            "variables",
            "vars",
        ],
    ),
    (
        "cmd",
        &[
            "ask",
            "backend",
            "config",
            "deps",
            "digest",
            "engine",
            "error",
            "files",
            "health",
            "json",
            "layout",
            "pathlist",
            "paths",
            "process",
            "project",
            "pyproject",
            "python",
            "shell",
            "text",
            "trust",
            "ui",
            "variables",
            "vars",
        ],
    ),
    ("cli", &["backend", "cmd", "config", "error", "shell", "ui"]),
    ("layering", &[]),
    ("main", &["cli", "cmd", "error", "process", "shell", "ui"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, with its module path (`cmd/init/plan.rs`
/// is `["cmd", "init", "plan"]`; a `mod.rs` is its directory).
fn sources() -> Vec<(PathBuf, Vec<String>)> {
    let mut out = Vec::new();
    let mut stack = vec![src()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src()).unwrap().with_extension("");
                let mut module: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if module.last().is_some_and(|m| m == "mod") {
                    module.pop();
                }
                out.push((path, module));
            }
        }
    }
    out.sort();
    out
}

/// The code of a file without comments and without its unit tests (they
/// may reach anywhere).
fn code(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.starts_with("#[cfg(test)]") {
            break;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        lines.push(line.to_owned());
    }
    lines
}

fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first identifiers of the items in a `{a, b::c, d}` group.
fn group(text: &str) -> Vec<String> {
    let mut depth = 0;
    let mut items = vec![String::new()];
    for c in text.chars().skip(1) {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => items.push(String::new()),
            c => items.last_mut().unwrap().push(c),
        }
    }
    items
        .iter()
        .map(|item| ident(item.trim()).to_owned())
        .filter(|name| !name.is_empty() && name != "self")
        .collect()
}

/// The module paths a file's code names: `crate::a::b` as `[a, b]`, and
/// `super::` resolved against the file's own module path.
fn references(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(['c', 's']) {
        let here = &rest[at..];
        let before = code.len() - rest.len() + at;
        let starts_word = before == 0
            || !code[..before]
                .ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        let (base, after): (Vec<String>, &str) = if starts_word && here.starts_with("crate::") {
            (Vec::new(), &here["crate::".len()..])
        } else if starts_word && here.starts_with("super::") {
            // A file's own module is its last component; `super` is its parent.
            let mut base = module[..module.len().saturating_sub(1)].to_vec();
            let mut after = &here["super::".len()..];
            while let Some(more) = after.strip_prefix("super::") {
                base.pop();
                after = more;
            }
            (base, after)
        } else {
            rest = &rest[at + 1..];
            continue;
        };
        let names = if after.starts_with('{') {
            group(after)
        } else {
            vec![ident(after).to_owned()]
        };
        for name in names {
            let mut path = base.clone();
            path.push(name);
            // The item after the module, when a command is named.
            let next = after[path.last().unwrap().len()..]
                .strip_prefix("::")
                .map(ident)
                .filter(|n| !n.is_empty());
            if let Some(next) = next.filter(|_| !after.starts_with('{')) {
                path.push(next.to_owned());
            }
            found.push(path);
        }
        rest = after;
    }
    found
}

fn allowed() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    ALLOWED
        .iter()
        .map(|(module, uses)| (*module, uses.iter().copied().collect()))
        .collect()
}

#[test]
fn the_allowed_imports_have_no_cycle() {
    let table = allowed();
    // Depth-first search for a back edge.
    fn visit<'a>(
        module: &'a str,
        table: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        assert!(!path.contains(&module), "cycle: {path:?} -> {module}");
        if done.contains(module) {
            return;
        }
        path.push(module);
        for used in &table[module] {
            visit(used, table, path, done);
        }
        path.pop();
        done.insert(module);
    }
    let mut done = BTreeSet::new();
    for module in table.keys() {
        visit(module, &table, &mut Vec::new(), &mut done);
    }
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let table = allowed();
    let mut problems = Vec::new();
    for (path, module) in sources() {
        let own = module.first().map_or("main", String::as_str);
        let own = if own == "main" { "main" } else { own };
        let Some(uses) = table.get(own) else {
            problems.push(format!("{own} is not in layering::ALLOWED"));
            continue;
        };
        for reference in references(&module, &code(&path).join("\n")) {
            let Some(target) = reference.first() else {
                continue;
            };
            let target = target.as_str();
            if target == own || target == "ui" || !table.contains_key(target) {
                continue;
            }
            if !uses.contains(target) {
                problems.push(format!(
                    "{}: {own} uses {}",
                    path.display(),
                    reference.join("::")
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn nothing_but_main_uses_the_command_line() {
    for (path, module) in sources() {
        let own = module.first().map_or("main", String::as_str);
        if own == "cli" || own == "main" {
            continue;
        }
        for reference in references(&module, &code(&path).join("\n")) {
            assert_ne!(
                reference.first().map(String::as_str),
                Some("cli"),
                "{} uses the command line",
                path.display()
            );
        }
    }
}

#[test]
fn no_command_uses_another() {
    let commands: BTreeSet<String> = std::fs::read_dir(src().join("cmd"))
        .unwrap()
        .flatten()
        .map(|e| e.path().with_extension(""))
        .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
        .filter(|name| name != "mod")
        .collect();
    let mut problems = Vec::new();
    for (path, module) in sources() {
        if module.first().map(String::as_str) != Some("cmd") || module.len() < 2 {
            continue;
        }
        let own = &module[1];
        for reference in references(&module, &code(&path).join("\n")) {
            let other = reference
                .get(1)
                .filter(|_| reference[0] == "cmd")
                .filter(|name| commands.contains(*name) && *name != own);
            if let Some(other) = other {
                problems.push(format!("{}: cmd::{own} uses cmd::{other}", path.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The engine's decisions take the shell's variables as an argument; the
/// process's own are read in one place.
#[test]
fn only_vars_reads_the_environment() {
    for (path, module) in sources() {
        if module == ["vars"] || module == ["layering"] {
            continue;
        }
        let code = code(&path).join("\n");
        for needle in ["env::var", "env::vars", "env::temp_dir", "env::home_dir"] {
            assert!(
                !code.contains(needle),
                "{} reads the environment ({needle}); take a `&dyn Vars`",
                path.display()
            );
        }
    }
}

/// Files stay readable and functions fit on a screen; the exceptions are
/// listed with their reason.
#[test]
fn files_and_functions_stay_small() {
    const MAX_FILE_LINES: usize = 600;
    const MAX_FUNCTION_LINES: usize = 80;
    let mut problems = Vec::new();
    for (path, _) in sources() {
        let text = std::fs::read_to_string(&path).unwrap();
        // Unit tests count toward neither limit.
        let code: Vec<&str> = text
            .lines()
            .take_while(|l| !l.starts_with("#[cfg(test)]"))
            .collect();
        if code.len() > MAX_FILE_LINES {
            problems.push(format!("{}: {} lines", path.display(), code.len()));
        }
        for (start, line) in code.iter().enumerate() {
            let trimmed = line.trim_start();
            let is_fn = ["fn ", "pub fn ", "pub(super) fn ", "pub(crate) fn "]
                .iter()
                .any(|p| trimmed.starts_with(p));
            if !is_fn || trimmed.ends_with(';') {
                continue;
            }
            let indent = &line[..line.len() - trimmed.len()];
            let end = code[start..]
                .iter()
                .position(|l| *l == format!("{indent}}}"))
                .unwrap_or(0);
            if end > MAX_FUNCTION_LINES {
                problems.push(format!(
                    "{}:{}: a function of {end} lines",
                    path.display(),
                    start + 1
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn references_are_resolved_the_way_rust_resolves_them() {
    let module = ["cmd", "init", "plan"].map(String::from);
    let found = references(
        &module,
        "use crate::{a, b::{c, d}, e::f};\nsuper::named::x();\nsuper::super::verdict(); $crate::ui::x",
    );
    let found: Vec<String> = found.iter().map(|r| r.join("::")).collect();
    assert_eq!(
        found,
        ["a", "b", "e", "cmd::init::named::x", "cmd::verdict"]
    );
}
