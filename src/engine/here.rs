//! What the engine finds in a directory: the project as the state knew
//! it (compared by stat, nothing parsed), or loaded afresh; and the user's
//! config, read only when a decision needs it.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::model::{self, Model};
use super::state::State;
use super::Run;
use crate::config::{self, UserConfig};
use crate::{files, layout, project};

/// What the engine found for the directory.
pub(super) struct Here {
    /// The project's model, active or not (its environment may be
    /// missing, and is then watched for).
    pub model: Option<Model>,
    /// The state already describes exactly what should be active.
    pub unchanged: bool,
    /// The state was applied under an approval of these very files.
    pub approved_before: bool,
    /// Files to watch though no model came of them: the dotenv files of a
    /// project whose settings or dotenv files could not be read.
    pub watch: Vec<PathBuf>,
}

impl Here {
    /// No project here.
    pub(super) fn nothing() -> Here {
        Here {
            model: None,
            unchanged: false,
            approved_before: false,
            watch: Vec::new(),
        }
    }
}

impl Run<'_> {
    /// The user's config (`$XDG_CONFIG_HOME/pyve/config`), read the first
    /// time a decision needs it; its problems are told once per version.
    pub(super) fn user(&mut self, diagnostics: &mut dyn Write) -> Option<&UserConfig> {
        if self.user.is_none() {
            let vars = self.request.vars;
            let token = format!("user:{}", self.user_file().1).into_bytes();
            let token = || token.clone();
            let loaded = match config::user::load(vars) {
                Ok(Some(user)) => {
                    if !user.warnings.is_empty() {
                        self.told.tell(token(), &user.warnings, diagnostics);
                    }
                    Some(user.config)
                }
                Ok(None) => None,
                Err(error) => {
                    let line = format!("{error}; its settings are not used");
                    self.told.tell(token(), &[line], diagnostics);
                    None
                }
            };
            self.user = Some(loaded);
        }
        self.user.as_ref().and_then(Option::as_ref)
    }

    /// The user's config file and its fingerprint (`files::MISSING` when
    /// there is none), stat'ed once per run: the state's record of the
    /// config, the watch list and what was told all use it.
    pub(super) fn user_file(&mut self) -> &(Option<PathBuf>, String) {
        let vars = self.request.vars;
        self.user_file.get_or_insert_with(|| {
            let path = config::user::path(vars);
            let fp = path
                .as_deref()
                .map_or_else(|| files::MISSING.to_owned(), files::fingerprint_path);
            (path, fp)
        })
    }

    /// The project at `root` as the state knew it (stat only, nothing
    /// parsed), or loaded afresh when the state is about something else.
    pub(super) fn here(
        &mut self,
        found: &project::Found,
        state: Option<&State>,
        diagnostics: &mut dyn Write,
    ) -> Here {
        let (root, source) = (found.root.as_path(), found.source);
        // `.pyve/current` chooses among named environments: its link is
        // part of what the config decided (one lstat, only here).
        let pointer = files::fingerprint_link(&layout::pointer(root));
        // So is the user's config, with the prompt and the trusted paths.
        let user = self.user_file().1.clone();
        // And this shell's `pyve use`.
        let mut config_fp = format!(
            "{}{}+{pointer}+u:{user}",
            source.tag(),
            files::fingerprint(&found.metadata)
        );
        if let Some(name) = &self.chosen {
            config_fp.push_str(&format!("+use:{name}"));
        }
        let root_bytes = root.as_os_str().as_bytes();
        let known = state
            .filter(|s| {
                s.facts.root == root_bytes
                    && s.facts.config_fp.strip_prefix(config_fp.as_str())
                        == Some(&model::dotenv_fingerprint(&s.facts.dotenv))
            })
            .and_then(|s| Some((s, Model::from_state(s)?)));
        let Some((state, mut model)) = known else {
            let user = self.user(diagnostics).cloned();
            let chosen = self.chosen.as_deref();
            let at = model::At {
                root,
                source,
                config_fp,
                chosen,
                user: user.as_ref(),
            };
            let (model, watch) = match Model::load(at, &mut self.told, diagnostics) {
                Ok(model) => (Some(model.with_trust(&self.store)), Vec::new()),
                Err(watch) => (None, watch),
            };
            return Here {
                model,
                unchanged: false,
                approved_before: false,
                watch,
            };
        };
        model.facts.marker_fp = files::fingerprint_path(&model.marker());
        let model = model.with_trust(&self.store);
        let approved_before = model.facts.marker_fp == state.facts.marker_fp
            && model.facts.trust_fp == state.facts.trust_fp;
        Here {
            watch: Vec::new(),
            // An activation that reads the environment's own files is
            // recomputed; the diff then changes only what changed.
            unchanged: approved_before && !model.backend.reads_environment(),
            approved_before,
            model: Some(model),
        }
    }
}
