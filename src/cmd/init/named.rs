//! `init --env NAME`: the config with environment NAME in it, and the
//! registry's record of what was built. The first named environment of a
//! project that had a single one keeps that one too, under a name of its
//! own and as the default, so nothing the user had changes.

use std::path::Path;

use super::plan::{edited, starting_text, Ask};
use crate::backend::{self, Backend};
use crate::config::{self, names, BackendKind, Config};
use crate::error::{user, Error};
use crate::project::{self, registry};
use crate::python;
use crate::text::shown;
use crate::{layout, paths};

/// The environment a project had before it named any, now named: its name
/// and its registry record.
pub type Adopted = (String, registry::Entry);

/// The config text with environment `name` in it: added when new (with
/// the flags' backend and Python), `default_env` set when there is none.
pub fn config_text(
    ask: &Ask,
    config: &Config,
    existing: &Option<Vec<u8>>,
    name: &str,
) -> Result<(String, Option<Adopted>), Error> {
    let config_path = layout::config(ask.root);
    let mut text = starting_text(existing);
    let mut adopted = None;
    let mut default = config.default_env.clone();
    if !config.is_named() {
        adopted = adopt_single(ask.root, config, &mut text)?;
        if let Some((kept, _)) = &adopted {
            default = Some(kept.clone());
        }
        // The single environment's keys mean nothing once environments
        // are named; its place and name moved into its entry above.
        for (section, key) in [
            (None, "env_name"),
            (Some("venv"), "directory"),
            (Some("micromamba"), "env_name"),
        ] {
            let shown_key = section.map_or(key.to_owned(), |s| format!("{s}.{key}"));
            let result = config::remove_value(&text, section, key);
            text = edited(&config_path, &shown_key, "(remove it)", result)?;
        }
    }
    if adopted.as_ref().is_none_or(|(kept, _)| kept != name) {
        text = entry(ask, config, name, text)?;
    }
    let default = default.unwrap_or_else(|| name.to_owned());
    if config.default_env.as_ref() != Some(&default) {
        let result = config::set_value(&text, None, "default_env", &default);
        text = edited(&config_path, "default_env", &default, result)?;
    }
    Ok((text, adopted))
}

/// The project's single environment, when it exists, as a named entry in
/// `text` (kept where it is).
fn adopt_single(root: &Path, config: &Config, text: &mut String) -> Result<Option<Adopted>, Error> {
    let Some(single) = project::resolve(root, config)
        .ok()
        .filter(|s| s.marker().exists())
    else {
        return Ok(None);
    };
    let raw = String::from_utf8_lossy(&single.env_name).into_owned();
    let kept = names::check(&raw)
        .map(|()| raw.clone())
        .or_else(|_| names::derive(&raw))
        .unwrap_or_else(|_| "main".to_owned());
    let mut fields = Vec::new();
    if single.backend.kind() != config.backend() {
        fields.push(("backend", single.backend.name().to_owned()));
    }
    if paths::lexical(&single.env_dir) != paths::lexical(&layout::envs(root).join(&kept)) {
        let relative = single
            .env_dir
            .strip_prefix(root)
            .unwrap_or(&single.env_dir)
            .to_string_lossy()
            .into_owned();
        fields.push(("directory", config::yaml_string(&relative)));
    }
    info!(
        "the project's environment {} is kept as the named environment `{kept}`, the default",
        single.env_dir.display()
    );
    let result = config::add_environment(text, &kept, &fields);
    *text = edited(&layout::config(root), "environments", &kept, result)?;
    let spec = single.backend.spec_files(root, &single.sources);
    let entry = registry_entry(root, single.backend, &single.env_dir, &spec, None, None);
    Ok(Some((kept, entry)))
}

/// `text` with a new entry for `name` (with the flags' backend and Python),
/// or an error when an existing entry disagrees with the flags.
fn entry(ask: &Ask, config: &Config, name: &str, text: String) -> Result<String, Error> {
    let config_path = layout::config(ask.root);
    let Some(entry) = config.environments.get(name) else {
        let mut fields = Vec::new();
        let claimed = BackendKind::ALL
            .into_iter()
            .find(|kind| backend::by_kind(*kind).claims(ask.root).is_some());
        let wanted = match (ask.options.backend, config.backend.is_some()) {
            (Some(kind), _) => Some(kind),
            (None, true) => None,
            (None, false) => claimed,
        };
        if let Some(kind) = wanted.filter(|kind| *kind != config.backend()) {
            fields.push(("backend", kind.name().to_owned()));
        }
        if let Some(version) = ask.flag_version {
            fields.push(("python_version", config::yaml_string(&version.to_string())));
        }
        let result = config::add_environment(&text, name, &fields);
        let text = edited(&config_path, "environments", name, result)?;
        done!(
            "added the environment `{name}` to {}",
            config_path.display()
        );
        return Ok(text);
    };
    let current = entry.backend(config);
    if let Some(asked) = ask.options.backend.filter(|asked| *asked != current) {
        return Err(user(format!(
            "`{name}` is a {current} environment in {}",
            shown(&config_path)
        ))
        .with_hint(format!(
            "to make it {asked}, set `backend: {asked}` in its entry under `environments`, \
             then run `pyve init --env {name} --force`"
        )));
    }
    if let Some(version) = ask.flag_version {
        let asked = entry.python_request(config);
        if asked != Some(version) {
            return Err(user(format!(
                "--python-version {version}: `{name}` asks for {} in {}",
                asked.map_or("no particular version".to_owned(), |v| v.to_string()),
                shown(&config_path)
            ))
            .with_hint(format!(
                "set its `python_version: \"{version}\"` there, then run `pyve init --env {name}`"
            )));
        }
    }
    Ok(text)
}

/// The registry's record of the environment at `env_dir` as it is now;
/// `python` is the version its Python reported, when it was run.
pub fn registry_entry(
    root: &Path,
    backend: &dyn Backend,
    env_dir: &Path,
    spec: &[String],
    python: Option<python::Version>,
    created: Option<u64>,
) -> registry::Entry {
    let created = created.unwrap_or_else(|| {
        std::fs::metadata(backend.marker(env_dir))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or_else(registry::now, |d| d.as_secs())
    });
    registry::Entry {
        backend: backend.name().to_owned(),
        // Read from its files when it was not run: nothing of an
        // environment pyve did not build here is run.
        python: python
            .map(|v| v.to_string())
            .or_else(|| backend.installed_python(env_dir)),
        spec: spec.to_vec(),
        spec_sha256: registry::spec_digest(root, spec),
        created,
        directory: env_dir
            .strip_prefix(root)
            .unwrap_or(env_dir)
            .to_string_lossy()
            .into_owned(),
    }
}
