//! `pyve deny [DIR]`: revoke a project's approval. The hook reverts and
//! leaves the project alone from the next prompt; `run` and `export`
//! refuse it.

use std::process::ExitCode;

use crate::cli::TrustArgs;
use crate::config::shown;
use crate::error::{user, Error};

pub fn run(args: TrustArgs) -> Result<ExitCode, Error> {
    let root = super::project_root(args.dir.as_deref())?;
    crate::trust::deny(&root).map_err(|e| user(format!("cannot record the denial: {e}")))?;
    done!(
        "denied {}; the hook leaves it from the next prompt, and `pyve allow` approves it again",
        shown(&root)
    );
    Ok(ExitCode::SUCCESS)
}
