//! `pyve status`: where this shell stands, for the current directory: the
//! project, its environment and Python, whether it is approved, and
//! whether this shell's hook or direnv has it active. Nothing is run and
//! nothing is written, so it is safe in any directory, approved or not.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::Source;
use crate::engine::state;
use crate::error::Error;
use crate::json::{string as json_string, string_or_null as json_opt};
use crate::project::{self, Selector};
use crate::text::shown;
use crate::vars::{self, Vars};

/// Everything `status` reports; the JSON fields, in docs/commands.md.
#[derive(Default)]
struct Status {
    directory: PathBuf,
    project: Option<PathBuf>,
    backend: Option<&'static str>,
    /// The name in the prompt (`env_name`, or the named environment's).
    environment: Option<String>,
    /// The key under `environments:`, for a project that names them.
    named: Option<String>,
    environment_path: Option<PathBuf>,
    environment_exists: bool,
    python: Option<String>,
    prompt: Option<String>,
    trusted: bool,
    /// The approval in words: "approved by you", or why not.
    trust: Option<String>,
    hook_active: bool,
    direnv_active: bool,
    /// The environment is this shell's choice (`pyve use`).
    chosen_in_shell: bool,
    /// What kept status from knowing more (a broken config, say).
    problem: Option<String>,
    /// The project's own variables, as written (`${PROJECT_ROOT}` and the
    /// variable's own `${NAME}` unexpanded), after its dotenv files.
    variables: Vec<(String, String)>,
    /// Its dotenv files, and whether each is there.
    dotenv: Vec<(PathBuf, bool)>,
    /// Where the project's settings are.
    source: Option<Source>,
    /// Nothing was ever approved at this path (nor trusted where it is).
    never_approved: bool,
    /// The user's config, when there is one.
    user_config: Option<PathBuf>,
}

pub fn run(json_output: bool) -> Result<ExitCode, Error> {
    let vars = vars::process();
    let directory = super::current_dir(vars)?;
    let status = gather(vars, directory);
    let text = if json_output {
        json(&status)
    } else {
        // What it shows may come from the repository or the environment.
        crate::text::terminal(&human(&status)).into_owned()
    };
    super::write_stdout(text.as_bytes(), "the status")?;
    Ok(if status.problem.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn gather(vars: &dyn Vars, directory: PathBuf) -> Status {
    let found = super::find_root(vars, &directory);
    let user = super::user_config(vars);
    let mut status = Status {
        directory,
        user_config: user.map(|u| u.path.clone()),
        ..Status::default()
    };
    let Some(found) = found else {
        return status;
    };
    let source = found.source;
    status.source = Some(source);
    let root = std::fs::canonicalize(&found.root).unwrap_or(found.root);
    status.project = Some(root.clone());
    status.hook_active = state::applied_project(vars).as_deref() == Some(root.as_path());
    status.direnv_active = direnv_has(vars, &root);
    if let Err(why) = crate::trust::check_project_files(&root, source) {
        status.problem = Some(why.to_string());
        return status;
    }
    let chosen = super::shell_choice(vars, &root);
    let selector = Selector::active_or_shell(chosen.as_deref());
    let defaults = user.map(|u| &u.config);
    let loaded = project::load(&root, source, selector, defaults)
        .and_then(|(mut resolved, _warnings)| resolved.read_dotenv(true).map(|()| resolved));
    let resolved = match loaded {
        Ok(resolved) => resolved,
        Err(e) => {
            status.problem = Some(e.to_string());
            return status;
        }
    };
    let verdict = super::verdict(vars, &root, &resolved);
    status.trusted = verdict.is_trusted();
    status.never_approved = verdict == crate::trust::Verdict::Unknown;
    status.trust = Some(verdict.summary_for(source));
    status.backend = Some(resolved.backend.name());
    status.environment = Some(String::from_utf8_lossy(&resolved.env_name).into_owned());
    status.named = resolved.named.clone();
    status.chosen_in_shell = resolved.via == project::Via::Shell;
    status.environment_exists = resolved.marker().exists();
    if status.environment_exists {
        status.python = resolved.backend.installed_python(&resolved.env_dir);
    }
    status.prompt = Some(String::from_utf8_lossy(&resolved.prompt).into_owned());
    status.variables = resolved
        .variables
        .iter()
        .map(|(name, template)| {
            let written = crate::variables::written(template, name);
            (name.clone(), String::from_utf8_lossy(&written).into_owned())
        })
        .collect();
    status.dotenv = resolved
        .dotenv
        .iter()
        .map(|file| (file.clone(), file.exists()))
        .collect();
    status.environment_path = Some(resolved.env_dir);
    status
}

/// Whether direnv loaded this project's `.envrc`: direnv exports
/// `DIRENV_DIR` as `-` followed by the directory of the `.envrc`.
fn direnv_has(vars: &dyn Vars, root: &Path) -> bool {
    vars.get("DIRENV_DIR").is_some_and(|dir| {
        use std::os::unix::ffi::OsStrExt;
        dir.as_bytes()
            .strip_prefix(b"-")
            .is_some_and(|dir| same_dir(Path::new(std::ffi::OsStr::from_bytes(dir)), root))
    })
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || std::fs::canonicalize(a).is_ok_and(|a| a == b)
}

fn human(status: &Status) -> String {
    let Some(root) = &status.project else {
        return format!(
            "no pyve project in {} or above (`pyve init` makes one)\n",
            shown(&status.directory)
        );
    };
    let mut out = String::new();
    let mut line = |key: &str, value: &str| out.push_str(&format!("{key:<12} {value}\n"));
    line("project", &shown(root));
    if let Some(source) = status.source {
        line("settings", source.describe());
    }
    if let Some(problem) = &status.problem {
        line("problem", problem);
    }
    if let (Some(backend), Some(name), Some(path)) = (
        status.backend,
        &status.environment,
        &status.environment_path,
    ) {
        line("backend", backend);
        let named = status
            .named
            .as_ref()
            .map(|n| format!(", the named environment `{n}`"))
            .unwrap_or_default();
        let chosen = if status.chosen_in_shell {
            ", this shell's choice (`pyve use --reset` follows the project again)"
        } else {
            ""
        };
        let missing = if status.environment_exists {
            ""
        } else {
            " (not created yet: `pyve init`)"
        };
        line(
            "environment",
            &format!("{name} at {}{named}{chosen}{missing}", shown(path)),
        );
        line("python", status.python.as_deref().unwrap_or("unknown"));
    }
    for (index, (file, exists)) in status.dotenv.iter().enumerate() {
        let missing = if *exists {
            ""
        } else {
            " (not there: sets nothing)"
        };
        let key = if index == 0 { "dotenv" } else { "" };
        line(key, &format!("{}{missing}", shown(file)));
    }
    for (index, (name, value)) in status.variables.iter().enumerate() {
        let key = if index == 0 { "variables" } else { "" };
        line(key, &crate::text::one_line(&format!("{name}={value}")));
    }
    if let Some(trust) = &status.trust {
        let word = if status.trusted { "yes" } else { "no" };
        line("approved", &format!("{word}{}", why_not(status, trust)));
    }
    if let Some(path) = &status.user_config {
        line("user config", &shown(path));
    }
    let active = |on: bool| {
        if on {
            "active in this shell"
        } else {
            "not active in this shell"
        }
    };
    line("hook", active(status.hook_active));
    line("direnv", active(status.direnv_active));
    out
}

/// After "no": why the project is not approved, and what approves it.
fn why_not(status: &Status, trust: &str) -> String {
    if status.trusted {
        String::new()
    } else if status.source == Some(Source::Implicit) && status.never_approved {
        ": pyve recognises this Python project by its .venv, and activates it once you run \
         `pyve allow` here (nothing is written into the project), or when it is under one of \
         the trusted_paths of your pyve config; `pyve init` gives it settings of its own"
            .to_owned()
    } else {
        format!(": {trust}")
    }
}

fn json(status: &Status) -> String {
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
    let mut out = String::from("{\"directory\":");
    json_string(&mut out, &status.directory.to_string_lossy());
    let source = status.source.map(|s| {
        match s {
            Source::Pyve => "pyve_config",
            Source::Pyproject => "pyproject",
            Source::Implicit => "none",
        }
        .to_owned()
    });
    let fields: [(&str, Option<String>); 11] = [
        ("project", path(&status.project)),
        ("backend", status.backend.map(str::to_owned)),
        ("environment", status.environment.clone()),
        ("named", status.named.clone()),
        ("environment_path", path(&status.environment_path)),
        ("python", status.python.clone()),
        ("prompt", status.prompt.clone()),
        ("trust", status.trust.clone()),
        ("problem", status.problem.clone()),
        ("settings", source),
        ("user_config", path(&status.user_config)),
    ];
    for (key, value) in &fields {
        out.push_str(&format!(",\"{key}\":"));
        json_opt(&mut out, value.as_deref());
    }
    out.push_str(",\"variables\":{");
    for (index, (name, value)) in status.variables.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        json_string(&mut out, name);
        out.push(':');
        json_string(&mut out, value);
    }
    out.push_str("},\"dotenv\":[");
    for (index, (file, exists)) in status.dotenv.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str("{\"path\":");
        json_string(&mut out, &file.to_string_lossy());
        out.push_str(&format!(",\"exists\":{exists}}}"));
    }
    out.push(']');
    out.push_str(&format!(
        ",\"environment_exists\":{},\"trusted\":{},\"hook_active\":{},\"direnv_active\":{},\
         \"chosen_in_shell\":{}}}\n",
        status.environment_exists,
        status.trusted,
        status.hook_active,
        status.direnv_active,
        status.chosen_in_shell
    ));
    out
}
