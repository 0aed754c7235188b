//! Shared fixtures: sandboxed HOME, real venvs, and scripts run by real
//! bash, zsh and fish with the installed hook.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// A command's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A command's stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn pyve_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pyve"))
}

/// The release archive scripts/test.sh built for this machine with
/// scripts/release.sh, as the release workflow builds it (static, musl):
/// its directory and file name.
pub fn release_archive() -> (PathBuf, String) {
    let dir = std::env::var_os("PYVE_TEST_RELEASE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release-assets"));
    let name = format!("pyve-{}-unknown-linux-musl.tar.gz", std::env::consts::ARCH);
    assert!(
        dir.join(&name).is_file(),
        "no {name} in {} (scripts/test.sh builds it with scripts/release.sh)",
        dir.display()
    );
    (dir, name)
}

/// The binary the installer puts in place, unpacked from the release
/// archive into the sandbox.
pub fn shipped_pyve(sb: &Sandbox) -> PathBuf {
    let (dir, name) = release_archive();
    let into = sb.path("shipped");
    std::fs::create_dir_all(&into).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(dir.join(&name))
        .arg("-C")
        .arg(&into)
        .status()
        .unwrap();
    assert!(status.success(), "tar -xzf {name}");
    let binary = into.join(name.trim_end_matches(".tar.gz")).join("pyve");
    assert!(binary.is_file(), "{} not in the archive", binary.display());
    binary
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sh {
    Bash,
    Zsh,
    Fish,
}

impl Sh {
    pub fn name(self) -> &'static str {
        match self {
            Sh::Bash => "bash",
            Sh::Zsh => "zsh",
            Sh::Fish => "fish",
        }
    }

    /// Single-quotes a value for this shell (test-side, independent of pyve).
    pub fn quote(self, value: &[u8]) -> Vec<u8> {
        let mut out = vec![b'\''];
        for &b in value {
            match (self, b) {
                (Sh::Fish, b'\\') => out.extend_from_slice(b"\\\\"),
                (Sh::Fish, b'\'') => out.extend_from_slice(b"\\'"),
                (_, b'\'') => out.extend_from_slice(b"'\\''"),
                _ => out.push(b),
            }
        }
        out.push(b'\'');
        out
    }

    pub fn q(self, path: &Path) -> String {
        String::from_utf8(self.quote(path.as_os_str().as_bytes())).expect("utf-8 path in test")
    }

    /// Sets and exports a variable from a shell expression.
    pub fn export(self, name: &str, expr: &str) -> String {
        match self {
            Sh::Fish => format!("set -gx {name} {expr}"),
            _ => format!("export {name}={expr}"),
        }
    }

    /// Prepends a directory to PATH.
    pub fn prepend_path(self, dir: &str) -> String {
        match self {
            Sh::Fish => format!("set -gx PATH {dir} $PATH"),
            _ => format!("PATH={dir}:$PATH"),
        }
    }

    pub fn append_path(self, dir: &str) -> String {
        match self {
            Sh::Fish => format!("set -gx PATH $PATH {dir}"),
            _ => format!("PATH=$PATH:{dir}"),
        }
    }

    /// What a prompt does: run the hook as the shell would before drawing it.
    pub fn prompt(self) -> &'static str {
        match self {
            Sh::Fish => "emit fish_prompt",
            _ => "__pyve_hook",
        }
    }
}

pub const SHELLS: [Sh; 3] = [Sh::Bash, Sh::Zsh, Sh::Fish];

/// A temporary world: HOME, XDG directories and a minimal PATH, so no test
/// touches the real home or depends on the machine's dotfiles.
pub struct Sandbox {
    _dir: TempDir,
    /// The temporary directory's real path (it may sit behind a symlink).
    base: PathBuf,
    pub home: PathBuf,
    pub base_path: String,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("pyve-it-")
            .tempdir()
            .unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let home = base.join("home");
        for sub in ["home", "run", "data", "tmp", "tools"] {
            std::fs::create_dir_all(base.join(sub)).unwrap();
        }
        std::fs::set_permissions(
            base.join("run"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        // uv is on every sandbox's PATH, as on a developer's machine;
        // tests of the standard library's venv say `venv.creator: stdlib`.
        std::os::unix::fs::symlink(uv(), base.join("tools/uv")).unwrap();
        // pyve itself is on PATH too, for `.envrc` (`has pyve`) and direnv.
        std::os::unix::fs::symlink(pyve_bin(), base.join("tools/pyve")).unwrap();
        let base_path = format!(
            "{}:/usr/local/bin:/usr/bin:/bin",
            base.join("tools").display()
        );
        Sandbox {
            _dir: dir,
            base,
            home,
            base_path,
        }
    }

    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.base.join(rel)
    }

    /// A directory with `.pyve/config` holding `config` (no environment),
    /// approved as the user would with `pyve allow`.
    pub fn project(&self, rel: impl AsRef<Path>, config: &str) -> PathBuf {
        let root = self.unapproved_project(rel, config);
        self.allow(&root);
        root
    }

    /// Like `project`, as a repository someone else made: not approved.
    pub fn unapproved_project(&self, rel: impl AsRef<Path>, config: &str) -> PathBuf {
        let root = self.path(rel);
        std::fs::create_dir_all(root.join(".pyve")).unwrap();
        std::fs::write(root.join(".pyve/config"), config).unwrap();
        root
    }

    /// A project with a real venv at `.venv`, approved.
    pub fn venv_project(&self, rel: impl AsRef<Path>, config: &str) -> PathBuf {
        let root = self.unapproved_project(rel, config);
        make_venv(&root.join(".venv"));
        self.allow(&root);
        root
    }

    /// A project `name` whose conda environment `name` pyve recorded as
    /// built (`conda-meta/pyve-built`), made without micromamba: returns the
    /// root and the prefix, which has empty `bin` and
    /// `etc/conda/{activate.d,deactivate.d,env_vars.d}` for the caller to
    /// fill. Not approved yet: approve after filling it.
    pub fn built_conda_project(&self, name: &str) -> (PathBuf, PathBuf) {
        let root = self.unapproved_project(
            name,
            &format!("backend: micromamba\nmicromamba:\n  env_name: {name}\n"),
        );
        let prefix = root.join(".pyve/envs").join(name);
        for dir in ["bin", "conda-meta", "etc/conda/activate.d"] {
            std::fs::create_dir_all(prefix.join(dir)).unwrap();
        }
        for dir in ["etc/conda/deactivate.d", "etc/conda/env_vars.d"] {
            std::fs::create_dir_all(prefix.join(dir)).unwrap();
        }
        std::fs::write(
            prefix.join("conda-meta/pyve-built"),
            "spec: environment.yml\n",
        )
        .unwrap();
        (root, prefix)
    }

    /// `pyve allow` in `root`.
    pub fn allow(&self, root: &Path) {
        self.pyve_ok(root, &["allow"]);
    }

    /// Rewrites the project's config and approves it again, as its owner
    /// would after reviewing an edit.
    pub fn write_config(&self, root: &Path, config: &str) {
        std::fs::write(root.join(".pyve/config"), config).unwrap();
        self.allow(root);
    }

    /// Installs a real interpreter into the sandbox's pyenv layout
    /// (`~/.pyenv/versions/<version>`, linked to the machine's install).
    pub fn pyenv_version(&self, version: &str, prefix: &Path) {
        let versions = self.home.join(".pyenv/versions");
        std::fs::create_dir_all(&versions).unwrap();
        std::os::unix::fs::symlink(prefix, versions.join(version)).unwrap();
    }

    /// `pyve ARGS` run in `dir`, as a shell there would run it.
    pub fn pyve(&self, dir: &Path, args: &[&str]) -> Output {
        self.pyve_command(dir, args).output().unwrap()
    }

    pub fn pyve_command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = self.command(pyve_bin());
        cmd.current_dir(dir).env("PWD", dir).args(args);
        cmd
    }

    /// Like `pyve`, but panics with stderr unless it exited 0; returns stderr.
    pub fn pyve_ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.pyve(dir, args);
        let stderr = stderr(&out);
        assert!(
            out.status.success(),
            "pyve {args:?} failed ({:?}):\n{stderr}",
            out.status
        );
        stderr
    }

    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("HOME", &self.home)
            .env("PATH", &self.base_path)
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("TMPDIR", self.path("tmp"))
            .env("TERM", "dumb")
            .env("LANG", "C.UTF-8")
            // micromamba (the real one, tests/conda): channel names resolve
            // to the suite's channels, the spy wrapper logs its calls, and
            // no .pyc is compiled (pip's take a second per environment).
            .env(
                "MAMBA_CHANNEL_ALIAS",
                format!("file://{}", conda_channels().display()),
            )
            .env("PYVE_TEST_MICROMAMBA_LOG", self.path("tmp/micromamba.log"))
            .env("MAMBA_COMPILE_PYC", "false")
            // pip inside conda environments (`- pip:` sections) installs
            // from the suite's wheel directory.
            .env("PIP_FIND_LINKS", wheels())
            .env("PIP_NO_INDEX", "1")
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            // uv: one cache for the whole run, and packages (pip for
            // `--seed`, the test wheels) from the suite's wheel directory.
            .env("UV_CACHE_DIR", uv_cache())
            .env("UV_FIND_LINKS", wheels())
            .env("UV_OFFLINE", "1")
            .current_dir(&self.base);
        cmd
    }

    /// conda-lock on this sandbox's PATH (in its tools directory).
    pub fn conda_lock_on_path(&self) {
        let dir = self.path("tools");
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(conda_lock_tool(), dir.join("conda-lock")).unwrap();
    }

    /// Writes the spy around the real micromamba as `<dir>/micromamba`.
    pub fn install_micromamba(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("micromamba");
        std::fs::write(&path, micromamba_wrapper()).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        path
    }

    /// micromamba on this sandbox's PATH (in its tools directory).
    pub fn micromamba_on_path(&self) -> PathBuf {
        self.install_micromamba(&self.path("tools"))
    }

    /// A directory `rel` holding `environment.yml`, not yet a project.
    pub fn conda_dir(&self, rel: &str, environment: &str) -> PathBuf {
        let root = self.path(rel);
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("environment.yml"), environment).unwrap();
        root
    }

    /// The `create` command lines pyve ran.
    pub fn micromamba_creates(&self) -> Vec<Vec<String>> {
        self.micromamba_calls()
            .into_iter()
            .filter(|c| c.first().map(String::as_str) == Some("create"))
            .collect()
    }

    /// Each micromamba command line pyve ran, as argument vectors.
    pub fn micromamba_calls(&self) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(self.path("tmp/micromamba.log")).unwrap_or_default();
        text.split_terminator('\x1e')
            .map(|call| call.split_terminator('\x1f').map(str::to_owned).collect())
            .collect()
    }

    /// Runs `body` in a non-interactive shell that installed the hook.
    pub fn script(&self, sh: Sh, body: &str) -> Output {
        self.script_command(sh, body).output().unwrap()
    }

    /// The command `script` runs, for tests that start several at once.
    pub fn script_command(&self, sh: Sh, body: &str) -> Command {
        let text = format!("{}\n{}\n{}\n", prelude(sh), hook_line(sh), body);
        let mut cmd = self.command(sh.name());
        match sh {
            Sh::Bash => cmd.args(["--norc", "--noprofile", "-c"]),
            Sh::Zsh => cmd.args(["-f", "-c"]),
            Sh::Fish => cmd.args(["--no-config", "-c"]),
        };
        cmd.arg(text);
        cmd
    }

    /// Writes a script file that a shell started from a test script can run:
    /// the dump helpers, the hook, then `body`. Returns the command line.
    pub fn child_script(&self, sh: Sh, name: &str, body: &str) -> String {
        let file = self.path("tmp").join(name);
        std::fs::write(
            &file,
            format!("{}\n{}\n{}\n", prelude(sh), hook_line(sh), body),
        )
        .unwrap();
        let program = match sh {
            Sh::Bash => "bash --norc --noprofile",
            Sh::Zsh => "zsh -f",
            Sh::Fish => "fish --no-config",
        };
        format!("{program} {}", sh.q(&file))
    }

    /// Like `script`, but panics with the shell's stderr unless it exited 0.
    pub fn script_ok(&self, sh: Sh, body: &str) -> Output {
        let output = self.script(sh, body);
        assert!(
            output.status.success(),
            "{} failed: {}\nstdout: {}",
            sh.name(),
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        output
    }
}

pub fn hook_line(sh: Sh) -> String {
    let bin = pyve_bin();
    match sh {
        Sh::Fish => format!("{} hook fish | source", sh.q(&bin)),
        _ => format!("eval \"$({} hook {})\"", sh.q(&bin), sh.name()),
    }
}

/// The real uv that scripts/test.sh fetched from PyPI.
pub fn uv() -> PathBuf {
    if let Some(path) = std::env::var_os("PYVE_TEST_UV") {
        return PathBuf::from(path);
    }
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools");
    std::fs::read_dir(&tools)
        .ok()
        .and_then(|entries| {
            entries
                .flatten()
                .map(|e| e.path().join("uv"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "uv is not in {}: run `bash scripts/test.sh`, which fetches it",
                tools.display()
            )
        })
}

/// Real CPython installs of the machine's pyenv (outside the sandbox):
/// version and prefix, newest first.
pub fn pyenv_installs() -> Vec<(String, PathBuf)> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")))
        .unwrap_or_default();
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(root.join("versions"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let plain = name.bytes().all(|b| b.is_ascii_digit() || b == b'.');
                    (plain && name.starts_with("3.") && e.path().join("bin/python3").is_file())
                        .then(|| (name, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|(v, _)| {
        std::cmp::Reverse(
            v.split('.')
                .map(|n| n.parse::<u32>().unwrap_or(0))
                .collect::<Vec<_>>(),
        )
    });
    found
}

/// The version of `python3` on the sandbox PATH (the system interpreter).
pub fn system_python_version() -> String {
    let out = Command::new(python())
        .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A real interpreter other than the system one: the machine's pyenv has
/// several; a test that needs two versions cannot pass without them.
pub fn other_python() -> (String, PathBuf) {
    let system = system_python_version();
    pyenv_installs()
        .into_iter()
        .find(|(v, _)| *v != system)
        .unwrap_or_else(|| panic!("this test needs a second CPython besides {system}: install one with pyenv (PYENV_ROOT or ~/.pyenv)"))
}

/// The interpreter that makes test venvs: the system one, never a shim.
pub fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

pub fn make_venv(dir: &Path) {
    let status = Command::new(python())
        .args(["-m", "venv", "--without-pip"])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success(), "python -m venv {}", dir.display());
}

/// Variables a dump reports, besides the prompt.
pub const DUMPED: &[&str] = &[
    "PATH",
    "VIRTUAL_ENV",
    "UV_PROJECT_ENVIRONMENT",
    "PYTHONHOME",
    "PYVE_BACKEND",
    "PYVE_ENV_NAME",
    "PYVE_PROJECT",
    "PYVE_PROMPT",
    "PYVE_STATE",
    "CONDA_PREFIX",
    "CONDA_SHLVL",
    "CONDA_DEFAULT_ENV",
    "CONDA_PROMPT_MODIFIER",
    "CONDA_PREFIX_1",
    "HELLO_HOME",
    "SHARED",
    "MY_VAR",
    "DROPPED",
    "HELLO_ACTIVATED",
    "HELLO_DEACTIVATED",
    "HELLO_SHLVL_SEEN",
    "ACTIVATE_ORDER",
    "DEACTIVATE_ORDER",
];

/// Defines `__dump LABEL`: prints each watched variable (or its absence)
/// and the prompt, separated by \x1f, records ended by \x1e.
fn prelude(sh: Sh) -> String {
    let names = DUMPED.join(" ");
    match sh {
        Sh::Bash => format!(
            r#"__dump() {{
  local n; printf '@%s\x1f' "$1"
  for n in {names}; do
    if [[ -v $n ]]; then printf '%s=%s\x1f' "$n" "${{!n}}"; else printf '%s\x1f' "$n"; fi
  done
  printf 'SHOWN=%s\x1f' "${{PS1@P}}"
  printf 'PS1=%s\x1e' "${{PS1-}}"
}}
PS1='PROMPT$ '"#
        ),
        Sh::Zsh => format!(
            r#"__dump() {{
  local n; printf '@%s\x1f' "$1"
  for n in {names}; do
    if (( ${{+parameters[$n]}} )); then printf '%s=%s\x1f' "$n" "${{(P)n}}"; else printf '%s\x1f' "$n"; fi
  done
  printf 'SHOWN=%s\x1f' "$(print -rnP -- "$PS1")"
  printf 'PS1=%s\x1e' "$PS1"
}}
PS1='PROMPT$ '"#
        ),
        Sh::Fish => format!(
            r#"function fish_prompt; printf 'PROMPT$ '; end
function __dump
  printf '@%s\x1f' $argv[1]
  for n in {names}
    if set -q $n
      if test $n = PATH
        printf '%s=%s' $n $PATH[1]; printf ':%s' $PATH[2..-1]; printf '\x1f'
      else
        printf '%s=%s\x1f' $n "$$n"
      end
    else
      printf '%s\x1f' $n
    end
  end
  set -l shown (fish_prompt | string collect -N)
  printf 'SHOWN=%s\x1fPS1=%s\x1e' "$shown" "$shown"
end"#
        ),
    }
}

/// One `__dump`: variable name to value (None when unset), plus `PS1` (the
/// prompt's source) and `SHOWN` (the prompt as the shell renders it).
/// Values are shown lossily as text; byte-exact checks live in `quoting`.
pub type Dump = BTreeMap<String, Option<String>>;

pub fn dumps(stdout: &[u8]) -> BTreeMap<String, Dump> {
    let mut out = BTreeMap::new();
    for record in stdout.split(|&b| b == 0x1e) {
        let Some(start) = record.iter().position(|&b| b == b'@') else {
            continue;
        };
        let mut fields = record[start + 1..].split(|&b| b == 0x1f);
        let label = String::from_utf8_lossy(fields.next().unwrap()).into_owned();
        let mut dump = Dump::new();
        for field in fields {
            match field.iter().position(|&b| b == b'=') {
                Some(eq) => dump.insert(
                    String::from_utf8_lossy(&field[..eq]).into_owned(),
                    Some(String::from_utf8_lossy(&field[eq + 1..]).into_owned()),
                ),
                None => dump.insert(String::from_utf8_lossy(field).into_owned(), None),
            };
        }
        out.insert(label, dump);
    }
    out
}

pub fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "<unset>".to_owned())
}

/// The dump without `PYVE_STATE`, whose fingerprints legitimately change
/// when files are recreated, for comparing what the user sees.
pub fn visible(dump: &Dump) -> Dump {
    let mut dump = dump.clone();
    dump.remove("PYVE_STATE");
    dump
}

pub fn var(dump: &Dump, name: &str) -> String {
    text(
        dump.get(name)
            .unwrap_or_else(|| panic!("{name} not dumped")),
    )
}

pub fn path_entries(dump: &Dump) -> Vec<String> {
    var(dump, "PATH").split(':').map(str::to_owned).collect()
}

/// Runs `steps` in a shell with the hook (it must exit 0): the dumps by
/// label, and stderr.
pub fn run(sandbox: &Sandbox, sh: Sh, steps: &[String]) -> (BTreeMap<String, Dump>, String) {
    let output = sandbox.script_ok(sh, &steps.join("\n"));
    (dumps(&output.stdout), stderr(&output))
}

pub fn cd(sh: Sh, path: &Path) -> String {
    format!("cd {}", sh.q(path))
}

/// The shell code that dumps under `label`.
pub fn dump(label: &str) -> String {
    format!("__dump {label}")
}

/// Writes an executable script that logs each call, then runs pyve.
pub fn counting_wrapper(sandbox: &Sandbox) -> (PathBuf, PathBuf) {
    // Under tmp/, not next to projects: writing the log must not touch a
    // directory the hook watches.
    let log = sandbox.path("tmp/engine-calls.log");
    let wrapper = sandbox.path("tmp/pyve-counting");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            pyve_bin().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    (wrapper, log)
}

pub fn count_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// Points the installed hook at another binary (a wrapper, or nothing).
pub fn set_exe(sh: Sh, exe: &Path) -> String {
    match sh {
        Sh::Fish => format!("set -g __pyve_exe {}", sh.q(exe)),
        _ => format!("__pyve_exe={}", sh.q(exe)),
    }
}

/// Generates a test module running `$body(sh)` once per shell.
#[macro_export]
macro_rules! per_shell {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::support::Sh;
            #[test]
            fn bash() {
                ($body)(Sh::Bash)
            }
            #[test]
            fn zsh() {
                ($body)(Sh::Zsh)
            }
            #[test]
            fn fish() {
                ($body)(Sh::Fish)
            }
        }
    };
}

/// The real micromamba the tests drive: `PYVE_TEST_MICROMAMBA` (set by
/// scripts/test.sh), else the shared build beside this checkout.
pub fn real_micromamba() -> PathBuf {
    test_tool(
        "PYVE_TEST_MICROMAMBA",
        "../shared/tools/micromamba/bin/micromamba",
    )
}

/// A tool scripts/test.sh provides: the variable it exports, else where it
/// puts the tool (relative to the checkout).
fn test_tool(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(default),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "{} is missing: run `bash scripts/test.sh`, which provides it",
        path.display()
    );
    path
}

fn conda_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conda")
}

/// What tests install as `micromamba`: a spy that logs each call (fields
/// ended by 0x1f, calls by 0x1e) and runs the real micromamba. Two faults
/// can be injected into `create`: `PYVE_TEST_MICROMAMBA_FAIL=after-install`
/// exits 1 after a successful run; `PYVE_TEST_MICROMAMBA_SLEEP=N` sleeps
/// after it; and
/// `PYVE_TEST_MICROMAMBA_PID` receives the real micromamba's process id.
pub fn micromamba_wrapper() -> String {
    format!(
        r#"#!/bin/sh
if [ -n "${{PYVE_TEST_MICROMAMBA_LOG:-}}" ]; then
  {{ for a in "$@"; do printf '%s\037' "$a"; done; printf '\036'; }} >>"$PYVE_TEST_MICROMAMBA_LOG"
fi
[ -n "${{PYVE_TEST_MICROMAMBA_PID:-}}" ] && echo $$ >"$PYVE_TEST_MICROMAMBA_PID"
if [ "$1" != create ] || [ -z "${{PYVE_TEST_MICROMAMBA_FAIL:-}}${{PYVE_TEST_MICROMAMBA_SLEEP:-}}" ]; then
  exec '{real}' "$@"
fi
'{real}' "$@" || exit
[ -n "${{PYVE_TEST_MICROMAMBA_SLEEP:-}}" ] && sleep "$PYVE_TEST_MICROMAMBA_SLEEP"
[ -n "${{PYVE_TEST_MICROMAMBA_FAIL:-}}" ] && exit 1
exit 0
"#,
        real = real_micromamba().display()
    )
}

/// The suite's test channels (`<dir>/conda-forge`, and `<dir>/other` with
/// the same packages), built once per run.
pub fn conda_channels() -> &'static Path {
    static CHANNELS: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    CHANNELS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("conda-channels-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let pip = std::fs::read_dir(seed_wheels())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("pip-"))
            .expect("pip's wheel among the seed wheels");
        let out = std::process::Command::new("/usr/bin/python3")
            .arg(conda_tests_dir().join("channel.py"))
            .arg("build")
            .arg(dir.join("conda-forge"))
            .args(["--python", "/usr/bin/python3"])
            .arg("--pip-wheel")
            .arg(pip)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "building the test channel failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        // A second channel with the same packages, for `--channel`.
        std::os::unix::fs::symlink("conda-forge", dir.join("other")).unwrap();
        dir
    })
}

/// Poetry, as scripts/test.sh installs it (`PYVE_TEST_POETRY`).
pub fn poetry() -> PathBuf {
    test_tool("PYVE_TEST_POETRY", "target/tools/poetry-2.2.1/bin/poetry")
}

/// The uv cache shared by every sandbox of this run.
fn uv_cache() -> &'static Path {
    static CACHE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("uv-cache"))
}

/// The suite's local wheel directory (tests/deps/wheels.py), with the
/// seed wheels scripts/test.sh fetched (`PYVE_TEST_SEED_WHEELS`: pip,
/// setuptools, wheel, packaging), built once per run.
pub fn wheels() -> &'static Path {
    static WHEELS: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    WHEELS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheels");
        let out = std::process::Command::new("/usr/bin/python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/deps/wheels.py"))
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "building the test wheels failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for entry in std::fs::read_dir(seed_wheels())
            .into_iter()
            .flatten()
            .flatten()
        {
            if entry.path().extension().is_some_and(|e| e == "whl") {
                std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
            }
        }
        dir
    })
}

/// pip, setuptools, wheel and packaging, as scripts/test.sh fetched them.
fn seed_wheels() -> PathBuf {
    std::env::var_os("PYVE_TEST_SEED_WHEELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/seed-wheels-2"))
}

/// Real pytest, httpx and their dependencies, and pluggy 1.5.0 and
/// 1.6.0, as scripts/test.sh fetched them (`PYVE_TEST_DOC_WHEELS`).
pub fn doc_wheels() -> PathBuf {
    let dir = std::env::var_os("PYVE_TEST_DOC_WHEELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/doc-wheels-1"));
    assert!(
        dir.join(".done").exists(),
        "no wheels at {} (scripts/test.sh fetches them)",
        dir.display()
    );
    dir
}

/// conda-lock, as scripts/test.sh installs it (`PYVE_TEST_CONDA_LOCK`).
pub fn conda_lock_tool() -> PathBuf {
    test_tool(
        "PYVE_TEST_CONDA_LOCK",
        "target/tools/conda-lock-4.0.3/bin/conda-lock",
    )
}

/// Writes a conda-lock file for `environment` to `out` with the real
/// conda-lock, solved by the real micromamba against the test channel, for
/// `platforms` (linux-64 when empty).
pub fn conda_lock_for(environment: &Path, out: &Path, platforms: &[&str]) {
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conda-lock-home");
    let mut command = std::process::Command::new(conda_lock_tool());
    command
        .arg("lock")
        .arg("--file")
        .arg(environment)
        .arg("--conda")
        .arg(real_micromamba())
        .arg("--lockfile")
        .arg(out)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &home)
        .env("MAMBA_ROOT_PREFIX", home.join("mamba"))
        .env(
            "MAMBA_CHANNEL_ALIAS",
            format!("file://{}", conda_channels().display()),
        )
        .current_dir(environment.parent().unwrap());
    for platform in if platforms.is_empty() {
        &["linux-64"][..]
    } else {
        platforms
    } {
        command.args(["--platform", platform]);
    }
    let result = command.output().unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// `conda_lock_for` this machine's platform.
pub fn conda_lock(environment: &Path, out: &Path) {
    conda_lock_for(environment, out, &[]);
}

// --- Fixtures several areas share. ---

/// A minimal, valid wheel (module `name` with `VALUE = 42`), built with
/// Python's zipfile so pip and uv install it offline.
pub fn make_wheel(dir: &Path, name: &str) -> PathBuf {
    let script = r#"
import base64, hashlib, sys, zipfile, os
out, name = sys.argv[1], sys.argv[2]
files = {
    f"{name}.py": b"VALUE = 42\n",
    f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
    f"{name}-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
path = os.path.join(out, f"{name}-1.0-py3-none-any.whl")
with zipfile.ZipFile(path, "w") as z:
    for n, data in files.items():
        z.writestr(n, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{n},sha256={digest},{len(data)}")
    record.append(f"{name}-1.0.dist-info/RECORD,,")
    z.writestr(f"{name}-1.0.dist-info/RECORD", "\n".join(record) + "\n")
print(path)
"#;
    let out = std::process::Command::new(python())
        .args(["-c", script])
        .arg(dir)
        .arg(name)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    PathBuf::from(stdout(&out).trim())
}

/// A tarball holding `bin/micromamba`, served once per connection on
/// 127.0.0.1, with no checksum file next to it. `cut` closes the
/// connection after that many bytes of the body (a broken download).
pub fn serve(body: Vec<u8>, cut: Option<usize>) -> String {
    serve_with_checksum(body, cut, None)
}

/// `serve`, with `checksum` as the file `<url>.sha256` (404 when None).
pub fn serve_with_checksum(body: Vec<u8>, cut: Option<usize>, checksum: Option<String>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let n = stream.read(&mut request).unwrap_or(0);
            let line = String::from_utf8_lossy(&request[..n]).into_owned();
            let path = line.split_whitespace().nth(1).unwrap_or_default();
            if path.ends_with(".sha256") {
                let reply = match &checksum {
                    Some(text) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    ),
                    None => {
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_owned()
                    }
                };
                let _ = stream.write_all(reply.as_bytes());
                continue;
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..cut.unwrap_or(body.len())]);
        }
    });
    format!("http://127.0.0.1:{port}/api/micromamba/linux-64/latest")
}

pub fn tarball(sb: &Sandbox) -> Vec<u8> {
    let stage = sb.path("stage");
    sb.install_micromamba(&stage.join("bin"));
    let out = sb.path("micromamba.tar.bz2");
    let status = std::process::Command::new("tar")
        .arg("-cjf")
        .arg(&out)
        .arg("-C")
        .arg(&stage)
        .arg("bin/micromamba")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(out).unwrap()
}

pub const NAMED_CONFIG: &str = "\
# three environments
environments:
  dev: {}
  prod:
    requirements: requirements-prod.txt
  gpu:
    backend: micromamba
    env_file: environment-gpu.yml
";

pub const ENVIRONMENT_GPU: &str = "\
channels:
  - conda-forge
dependencies:
  - python=3.11
";

/// The project of CONFIG with all three environments built by `pyve init`.
pub fn three_envs(sb: &Sandbox, rel: &str) -> PathBuf {
    sb.micromamba_on_path();
    let root = sb.path(rel);
    std::fs::create_dir_all(root.join(".pyve")).unwrap();
    std::fs::write(root.join(".pyve/config"), NAMED_CONFIG).unwrap();
    std::fs::write(root.join("environment-gpu.yml"), ENVIRONMENT_GPU).unwrap();
    let wheel = make_wheel(&root, "prod_pkg");
    std::fs::write(
        root.join("requirements-prod.txt"),
        format!("./{}\n", wheel.file_name().unwrap().to_string_lossy()),
    )
    .unwrap();
    sb.pyve_ok(&root, &["init", "--env", "dev", "--no-direnv"]);
    sb.pyve_ok(&root, &["init", "--env", "prod", "--install-deps"]);
    sb.pyve_ok(&root, &["init", "--env", "gpu"]);
    root
}

/// `program` on the test process's PATH.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}
