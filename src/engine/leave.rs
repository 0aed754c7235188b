//! Leaving an environment whose activation scripts ran.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::state::{Op, State};
use super::Run;
use crate::backend::Scripts;
use crate::shell::protocol;
use crate::{trust, vars};

impl Run<'_> {
    /// Its deactivation scripts run first, while the environment is still
    /// active, and the engine runs again on what they left, so PATH edits
    /// they make are not overwritten by a value computed before them.
    /// Returns whether it wrote that first phase.
    pub(super) fn leave_scripts_first(
        &mut self,
        state: &State,
        wanted: &[Op],
        diagnostics: &mut dyn Write,
    ) -> bool {
        let leaving = state.ops.iter().position(|op| {
            matches!(op, Op::Scripts { .. }) && !wanted.iter().any(|w| op.same_effect(w))
        });
        let Some(index) = leaving else {
            return false;
        };
        if let Op::Scripts { env_dir, .. } = &state.ops[index] {
            self.source_deactivation(Path::new(OsStr::from_bytes(env_dir)), diagnostics);
        }
        let mut remaining = state.clone();
        remaining.ops.remove(index);
        remaining.pid = self.request.shell_pid;
        // Sealed: the state was checked before anything was acted on.
        let encoded = self
            .seal()
            .map(|seal| remaining.encode(seal))
            .unwrap_or_default();
        let shell = self.shell();
        shell.export(&mut self.out, vars::STATE, encoded.as_bytes());
        shell.set_global(&mut self.out, protocol::DIAGNOSED, &self.told.encode());
        shell.rerun(&mut self.out);
        true
    }

    /// Sources the environment's deactivation scripts, unless since
    /// entering it became another user's or writable by others: then they
    /// are skipped, and a line says why.
    fn source_deactivation(&mut self, env_dir: &Path, diagnostics: &mut dyn Write) {
        let scripts = Scripts {
            dir: env_dir.join("etc/conda"),
        };
        let checked =
            crate::files::owner::check(env_dir).and_then(|()| trust::check_scripts(&scripts));
        if let Err(refused) = checked {
            let line = format!(
                "not running the deactivation scripts of {}: {}; {}",
                crate::text::shown(env_dir),
                refused.message(),
                refused.fix
            );
            let token = format!("leave:{}", crate::text::shown(&refused.path));
            self.told.tell(token.into_bytes(), &[line], diagnostics);
            return;
        }
        for script in scripts.list(false, self.shell().script_extension()) {
            self.shell()
                .source(&mut self.out, script.as_os_str().as_bytes());
        }
    }
}
