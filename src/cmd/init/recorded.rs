//! Where `pyve init` records the dependency source it installs from, in
//! the config text it writes, so a rebuild, a clone and `init --force`
//! install the same.

use std::path::Path;

use crate::text::shown;

use super::plan::{edited, Ask};
use super::Options;
use crate::backend::{self, Sources};
use crate::config::{self, Config, EnvEntry};
use crate::deps;
use crate::error::{user, Error};
use crate::layout;

/// Everything init records in the config text beyond the flags'
/// lines: the dependency source, `--record-channels`, `--dotenv`. For
/// settings in pyproject.toml nothing may change (pyve does not edit it).
/// Returns the text, and whether the user's `init.dependencies: false`
/// applies (neither the flags nor the project say): then nothing is
/// installed, and nothing recorded about it.
pub fn record_all(
    ask: &Ask,
    existing: Option<&[u8]>,
    text: String,
    named: Option<&str>,
) -> Result<(String, bool), Error> {
    let options = ask.options;
    let no_deps_by_default =
        !options.names_dependencies() && ask.user.and_then(|u| u.init.dependencies) == Some(false);
    let in_pyproject = ask.source == config::Source::Pyproject;
    let text = if (in_pyproject || no_deps_by_default) && !options.names_dependencies() {
        text
    } else {
        record_dependencies(ask, text, named)?
    };
    let text = record_channels(ask, text)?;
    let text = record_dotenv(ask, text)?;
    if in_pyproject {
        unchanged_table(ask.root, existing, &text)?;
    }
    Ok((text, no_deps_by_default))
}

/// Records where dependencies come from: the flags' choice (in the entry
/// of the named environment `--env` builds, which then differs from the
/// others), else the source found, at the top level (saying which others
/// are not used).
pub fn record_dependencies(ask: &Ask, text: String, named: Option<&str>) -> Result<String, Error> {
    let root = ask.root;
    let config_path = layout::config(root);
    let config = config::parse(&config_path, text.as_bytes())?.config;
    let entry = named.and_then(|n| config.environments.get(n).map(|e| (n, e)));
    let backend = match entry {
        Some((_, entry)) => backend::by_kind(entry.backend(&config)),
        None => backend::by_kind(config.backend()),
    };
    if backend
        .installs_dependencies(root, &Sources::default())
        .is_err()
    {
        return Ok(text);
    }
    let mut edits = Edits {
        text,
        config_path: &config_path,
        entry: entry.map(|(name, _)| name),
    };
    if record_flags(ask.options, &config, entry.map(|(_, e)| e), &mut edits)? {
        return Ok(edits.text);
    }
    let entry = entry.map(|(_, e)| e);
    if config.dependencies(entry).is_none() {
        if let Some(found) = found_source(root, &config, entry)? {
            edits.set(false, "dependencies", found)?;
        }
    }
    Ok(edits.text)
}

/// The config text being edited, and the named environment whose entry
/// the flags' choices go into.
struct Edits<'a> {
    text: String,
    config_path: &'a Path,
    entry: Option<&'a str>,
}

impl Edits<'_> {
    /// Sets `key` in the entry (`in_entry`, when there is one), else at
    /// the top level.
    fn set(&mut self, in_entry: bool, key: &str, value: String) -> Result<(), Error> {
        let (result, shown_key) = match self.entry.filter(|_| in_entry) {
            Some(name) => (
                config::set_entry_value(&self.text, name, key, &value),
                format!("environments.{name}.{key}"),
            ),
            None => (
                config::set_value(&self.text, None, key, &value),
                key.to_owned(),
            ),
        };
        self.text = edited(self.config_path, &shown_key, &value, result)?;
        Ok(())
    }
}

/// Records what `--group`, `--requirements`, `--no-deps` and `--deps`
/// say; true when they chose the source.
fn record_flags(
    options: &Options,
    config: &Config,
    entry: Option<&EnvEntry>,
    edits: &mut Edits,
) -> Result<bool, Error> {
    if !options.groups.is_empty() {
        edits.set(true, "groups", format!("[{}]", options.groups.join(", ")))?;
    }
    if !options.requirements.is_empty() {
        let files: Vec<String> = options
            .requirements
            .iter()
            .map(|f| config::yaml_string(f))
            .collect();
        edits.set(true, "requirements", format!("[{}]", files.join(", ")))?;
    }
    let wanted = if options.no_deps {
        "none".to_owned()
    } else if !options.requirements.is_empty() {
        "requirements".to_owned()
    } else if let Some(deps) = &options.deps {
        deps.clone()
    } else {
        return Ok(false);
    };
    let current = entry
        .and_then(|e| e.dependencies.as_deref())
        .or(config.dependencies.as_deref());
    if current != Some(wanted.as_str()) {
        edits.set(true, "dependencies", wanted)?;
    }
    Ok(true)
}

/// The first declaration file the project has, noting the others.
fn found_source(
    root: &Path,
    config: &Config,
    entry: Option<&EnvEntry>,
) -> Result<Option<String>, Error> {
    let listed = entry
        .and_then(|e| e.requirements.as_ref().map(config::Requirements::files))
        .or_else(|| config.requirements.clone());
    let groups = config.groups.clone().unwrap_or_default();
    let (declared, unused) = deps::resolve(root, None, &groups, listed.as_deref())?;
    let Some(declared) = declared else {
        return Ok(None);
    };
    // A lock's own pyproject.toml is part of it, not another source.
    let part_of = declared.files();
    for other in unused
        .into_iter()
        .filter(|k| !part_of.iter().any(|f| f.as_os_str() == k.name()))
    {
        info!(
            "note: {} is not used: {} comes first (`dependencies:` in .pyve/config chooses)",
            other.name(),
            declared.kind.name()
        );
    }
    Ok(Some(declared.kind.name().to_owned()))
}

/// `--record-channels`: the `--channel` list as `micromamba.channels`, the
/// default of every conda environment that names no `channels` itself.
fn record_channels(ask: &Ask, text: String) -> Result<String, Error> {
    let options = ask.options;
    if !options.record_channels {
        return Ok(text);
    }
    if let Some(bad) = config::bad_channel(Some(&options.channels)) {
        return Err(Error::usage(format!(
            "--channel `{}` is not a channel name or URL",
            crate::text::one_line(bad)
        )));
    }
    let current = config::parse(&layout::config(ask.root), text.as_bytes())?.config;
    if let Some(name) = &options.env {
        if current
            .environments
            .get(name)
            .is_some_and(|e| e.channels.is_some())
        {
            warn!(
                "environments.{}.channels in .pyve/config wins over micromamba.channels, \
                 which --record-channels writes; edit that entry to change its channels",
                crate::text::one_line(name)
            );
        }
    }
    let value = format!(
        "[{}]",
        options
            .channels
            .iter()
            .map(|c| config::yaml_string(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let result = config::set_value(&text, Some("micromamba"), "channels", &value);
    edited(
        &layout::config(ask.root),
        "micromamba.channels",
        &value,
        result,
    )
}

/// `--dotenv` records `dotenv: true` unless the config names dotenv files.
fn record_dotenv(ask: &Ask, text: String) -> Result<String, Error> {
    let config_path = layout::config(ask.root);
    if !ask.options.dotenv
        || !config::parse(&config_path, text.as_bytes())?
            .config
            .dotenv_files()
            .is_empty()
    {
        return Ok(text);
    }
    let result = config::set_value(&text, None, "dotenv", "true");
    edited(&config_path, "dotenv", "true", result)
}

/// pyve does not edit pyproject.toml: what the flags would record there
/// is an error naming the keys to set by hand.
fn unchanged_table(root: &Path, table: Option<&[u8]>, text: &str) -> Result<(), Error> {
    let table = String::from_utf8_lossy(table.unwrap_or_default());
    if table == text {
        return Ok(());
    }
    let mut section = String::new();
    let mut wanted = Vec::new();
    for line in text.lines() {
        if !line.starts_with(' ') {
            section = line.split(':').next().unwrap_or_default().to_owned();
        }
        if table.lines().any(|l| l == line) || line.trim_end().ends_with(':') {
            continue;
        }
        let (key, value) = line.trim().split_once(':').unwrap_or((line.trim(), ""));
        let key = if line.starts_with(' ') {
            format!("{section}.{key}")
        } else {
            key.to_owned()
        };
        wanted.push(format!("{key} = {}", value.trim()));
    }
    Err(user(format!(
        "{} keeps pyve's settings in [tool.pyve], which pyve does not edit, and this \
         would change them",
        shown(&root.join(config::source::PYPROJECT))
    ))
    .with_hint(format!(
        "set under [tool.pyve]: {}; then run `pyve init` again",
        wanted.join(", ")
    )))
}
