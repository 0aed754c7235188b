//! `pyve deny [DIR]`: revoke a project's approval. The hook reverts and
//! leaves the project alone from the next prompt; `run` and `export`
//! refuse it.

use std::path::Path;
use std::process::ExitCode;

use crate::error::Error;
use crate::text::shown;
use crate::trust::Store;
use crate::vars;

pub fn run(dir: Option<&Path>) -> Result<ExitCode, Error> {
    let vars = vars::process();
    let (root, _) = super::project_root(vars, dir)?;
    Store::new(vars)
        .deny(&root)
        .map_err(|e| e.context("cannot record the denial"))?;
    done!(
        "denied {}; the hook leaves it from the next prompt, and `pyve allow` approves it again",
        shown(&root)
    );
    Ok(ExitCode::SUCCESS)
}
