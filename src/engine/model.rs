//! A project as the engine sees it: the facts its state records (enough
//! to recompute the activation without reading the config again) and its
//! backend.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::state::{Facts, State};
use super::told::Told;
use crate::backend::{self, Activation, Before};
use crate::config::{Source, UserConfig};
use crate::trust::{self, EnvRef, Store, Subject};
use crate::{config, files, project};

pub(super) struct Model {
    pub facts: Facts,
    pub backend: &'static dyn backend::Backend,
}

/// Where a project is, as the engine found it, to load.
pub(super) struct At<'a> {
    pub root: &'a Path,
    pub source: Source,
    pub config_fp: String,
    /// This shell's `pyve use`.
    pub chosen: Option<&'a str>,
    pub user: Option<&'a UserConfig>,
}

/// Why a project is not activated: the line to say, unless `silent`.
pub(super) struct Blocked {
    pub line: String,
    /// A zero-config project never approved (or denied): every Python
    /// checkout with a `.venv` is one, and the hook says nothing there.
    pub silent: bool,
}

impl Model {
    pub fn from_state(state: &State) -> Option<Model> {
        Some(Model {
            backend: backend::by_name(&state.facts.backend)?,
            facts: state.facts.clone(),
        })
    }

    /// Parses the settings at `root` and reads the dotenv files they name.
    /// Problems are told unless this shell was already told about this very
    /// version of the files; then the error holds the dotenv files to watch
    /// (an edit in place that fixes one is noticed at the next prompt).
    pub fn load(
        at: At,
        told: &mut Told,
        diagnostics: &mut dyn Write,
    ) -> Result<Model, Vec<PathBuf>> {
        let At {
            root,
            source,
            config_fp,
            chosen,
            user,
        } = at;
        // Resolved here, on the slow path only: a project reached through a
        // symlink is the same project, with the same name and environment.
        let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
        // The config's own problems are told once per version of the file.
        let token = config_fp.clone().into_bytes();
        if let Err(refused) = trust::check_project_files(&real_root, source) {
            // A project found only by its `.venv` is every checkout: silent.
            if source != Source::Implicit {
                let line = format!("{refused}; environment not activated");
                told.tell(token, &[line], diagnostics);
            }
            return Err(Vec::new());
        }
        let selector = project::Selector::active_or_shell(chosen);
        let mut resolved = match project::load(&real_root, source, selector, user) {
            Ok((resolved, warnings)) => {
                if !warnings.is_empty() {
                    told.tell(token, &warnings, diagnostics);
                }
                resolved
            }
            Err(error) => {
                let line = format!("{error}; environment not activated");
                told.tell(token, &[line], diagnostics);
                return Err(Vec::new());
            }
        };
        // The dotenv files' fingerprints join the config's: a changed value
        // is read again, with no approval asked (the list is the config's).
        // Taken before they are read, so an edit made meanwhile is newer
        // than what the state records.
        let dotenv: Vec<Vec<u8>> = resolved
            .dotenv
            .iter()
            .map(|f| f.as_os_str().as_bytes().to_vec())
            .collect();
        let config_fp = config_fp + &dotenv_fingerprint(&dotenv);
        if let Err(error) = resolved.read_dotenv(true) {
            let line = format!("{error}; environment not activated");
            told.tell(config_fp.into_bytes(), &[line], diagnostics);
            return Err(resolved.dotenv);
        }
        Ok(Model {
            facts: Facts {
                root: root.as_os_str().as_bytes().to_vec(),
                project: real_root.into_os_string().into_vec(),
                config_fp,
                backend: resolved.backend.name().to_owned(),
                marker_fp: files::fingerprint_path(&resolved.marker()),
                env_dir: resolved.env_dir.into_os_string().into_vec(),
                env_name: resolved.env_name,
                prompt: resolved.prompt,
                show_prompt: resolved.show_prompt,
                trust_fp: String::new(),
                variables: resolved.variables,
                dotenv,
                source,
            },
            backend: resolved.backend,
        })
    }

    /// The dotenv files, as paths.
    pub fn dotenv(&self) -> impl Iterator<Item = &Path> {
        self.facts
            .dotenv
            .iter()
            .map(|f| Path::new(OsStr::from_bytes(f)))
    }

    /// The same model with the approval record's fingerprint as it is now.
    pub fn with_trust(mut self, store: &Store) -> Model {
        self.facts.trust_fp = store.record_fingerprint(self.project());
        self
    }

    fn project(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.facts.project))
    }

    pub fn marker(&self) -> PathBuf {
        self.backend.marker(self.facts.env_dir())
    }

    /// The environment exists (its marker did when the facts were taken).
    pub fn ready(&self) -> bool {
        self.facts.marker_fp != files::MISSING
    }

    pub fn activation(&self, before: Before) -> Activation {
        let facts = &self.facts;
        project::activation(
            self.backend,
            facts.env_dir(),
            &facts.env_name,
            &facts.project,
            &facts.prompt,
            &facts.variables,
            before,
        )
    }

    /// Says once per shell what to run in a project whose environment is
    /// not built yet (a fresh clone, a purge): `pyve init`, which builds
    /// it and approves the project, after a review of the config when the
    /// user has not approved it as it is. Nothing for a project the user
    /// denied, nor in this shell after its environment was `deleted` while
    /// the shell was inside (the user's own doing: leaving it is silent).
    pub fn tell_unbuilt(
        &self,
        store: &Store,
        told: &mut Told,
        chosen: Option<&str>,
        deleted: bool,
        diagnostics: &mut dyn Write,
    ) {
        let token = format!("new:{}", crate::digest::short(&self.facts.project)).into_bytes();
        if told.contains(&token) {
            return;
        }
        if deleted {
            told.tell(token, &[], diagnostics);
            return;
        }
        let project = self.project();
        let source = self.facts.source;
        let Ok(config) = config::source::approved_bytes(project, source) else {
            return;
        };
        let selector = project::Selector::active_or_shell(chosen);
        let init = project::load(project, source, selector, None)
            .map_or_else(|_| "pyve init".to_owned(), |(r, _)| r.init_command());
        let subject = Subject {
            project,
            config: &config,
            envs: &[],
        };
        let builds = format!("`{init}` approves it and builds the environment");
        let said = match trust::decide(store, &subject, None) {
            trust::Verdict::Denied => return,
            trust::Verdict::Trusted => format!("no environment yet; `{init}` builds it"),
            trust::Verdict::Unknown => format!(
                "a pyve project, not approved and with no environment yet; review \
                 {}, then {builds}",
                source.describe()
            ),
            verdict @ trust::Verdict::ConfigChanged(_) => format!(
                "no environment yet, and {}; review the change, then {builds}",
                verdict.summary_for(source)
            ),
            verdict => {
                let (reason, fix) = verdict.reason_for(source);
                format!("no environment yet, and {reason}; {fix}")
            }
        };
        let line = format!("{}: {said}", crate::text::shown(project));
        told.tell(token, &[line], diagnostics);
    }

    /// Whether `activation` may be applied, as `trust::decide` says;
    /// otherwise the one line that says why not.
    pub fn approval(&self, store: &Store, activation: &Activation) -> Result<(), Blocked> {
        let project = self.project();
        let source = self.facts.source;
        let config = config::source::approved_bytes(project, source).map_err(|e| Blocked {
            line: format!("{}: not activated: {e}", crate::text::shown(project)),
            silent: false,
        })?;
        let env = EnvRef {
            dir: self.facts.env_dir().to_owned(),
            marker: self.marker(),
        };
        let subject = Subject {
            project,
            config: &config,
            envs: std::slice::from_ref(&env),
        };
        match trust::decide(store, &subject, Some(activation)) {
            trust::Verdict::Trusted => Ok(()),
            verdict => Err(Blocked {
                // Until the user approved it (or trusts where it is), a
                // project found by its `.venv` alone is not theirs to hear
                // about: whatever holds it back is said only after that.
                silent: source == Source::Implicit
                    && (matches!(verdict, trust::Verdict::Unknown | trust::Verdict::Denied)
                        || store.record_fingerprint(project) == files::MISSING
                            && !store.under_trusted_path(project)),
                line: verdict.blocked(project, source),
            }),
        }
    }
}

/// What the dotenv files add to the config's fingerprint: nothing for a
/// project without any (no stat), else each file's fingerprint.
pub(super) fn dotenv_fingerprint(files: &[Vec<u8>]) -> String {
    let mut out = String::new();
    for file in files {
        out.push_str("+d:");
        out.push_str(&files::fingerprint_path(Path::new(OsStr::from_bytes(file))));
    }
    out
}
