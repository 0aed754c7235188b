//! Environment names: what a named environment, or a conda environment at
//! `.pyve/envs/<name>`, may be called (conda's rules, which pyve applies
//! to every named environment so each one can be either kind).

use crate::error::{user, Error};

/// Names conda tools give a meaning of their own.
const RESERVED: [&str; 6] = ["base", "root", "default", "conda", "mamba", "micromamba"];
/// The longest name, in characters (the seed's rule): names are shown in
/// every prompt and exported to every process.
pub const MAX_LEN: usize = 255;

/// Lowercase, with every run of characters outside `[a-z0-9_-]` turned
/// into one `-`, and no `-` at either end.
pub fn sanitize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.trim().chars().flat_map(char::to_lowercase) {
        let keep = c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
        if keep {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// The rules a sanitized name must still meet, each with the name to use.
fn check_rules(name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(user("has no letters or digits").with_hint("choose a name such as `myproject`"));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        return Err(user(format!("`{name}` must start with a letter or `_`"))
            .with_hint(format!("use `env-{name}`")));
    }
    if name.len() > MAX_LEN {
        let cut = name[..MAX_LEN].trim_end_matches('-');
        return Err(user(format!(
            "is {} characters long, more than {MAX_LEN}",
            name.len()
        ))
        .with_hint(format!("use `{cut}`")));
    }
    if RESERVED.contains(&name) {
        return Err(user(format!(
            "`{name}` is reserved by conda ({})",
            RESERVED.join(", ")
        ))
        .with_hint(format!("use `{name}-env`")));
    }
    Ok(())
}

/// A name the user wrote (`--env`, the config): used exactly as written,
/// so it must already be in the sanitized form.
pub fn check(name: &str) -> Result<(), Error> {
    let clean = sanitize(name);
    if clean != name {
        let hint = if check_rules(&clean).is_ok() {
            format!("use `{clean}`")
        } else {
            "use lowercase letters, digits, `-` and `_`".to_owned()
        };
        return Err(user(format!(
            "`{}` is not a conda environment name (only lowercase letters, digits, `-` and `_`)",
            name.escape_default()
        ))
        .with_hint(hint));
    }
    check_rules(name)
}

/// A name taken from elsewhere (environment.yml's `name:`, the project
/// directory): sanitized, and made to meet the rules the way their hints
/// say (`2024` → `env-2024`, `base` → `base-env`), as micromamba takes
/// such names as they are. Only a name with nothing left is refused.
pub fn derive(raw: &str) -> Result<String, Error> {
    let mut name = sanitize(raw);
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("env-{name}");
    }
    if RESERVED.contains(&name.as_str()) {
        name.push_str("-env");
    }
    if name.len() > MAX_LEN {
        name = name[..MAX_LEN].trim_end_matches('-').to_owned();
    }
    check_rules(&name)?;
    Ok(name)
}

/// A name shown in prompts and written to YAML (a venv's `env_name`): any
/// text, but one line.
pub fn check_display(name: &str) -> Result<(), Error> {
    if name.trim().is_empty() {
        return Err(user("must not be empty"));
    }
    let length = name.chars().count();
    if length > MAX_LEN {
        return Err(user(format!(
            "is {length} characters long, more than {MAX_LEN}"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(user("must not contain control characters or newlines"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_like_the_rules_say() {
        assert_eq!(sanitize("My Project"), "my-project");
        assert_eq!(sanitize("ml_pipeline.v2"), "ml_pipeline-v2");
        assert_eq!(sanitize("  a  b!!c "), "a-b-c");
        assert_eq!(sanitize("Ünïcode"), "n-code");
        assert_eq!(sanitize("$(touch x)"), "touch-x");
        assert_eq!(derive("ML Dev").unwrap(), "ml-dev");
    }

    #[test]
    fn rejects_with_the_rule_and_a_name_to_use() {
        // Derived names are made to fit, as their hints say.
        assert_eq!(derive("2024 analysis").unwrap(), "env-2024-analysis");
        assert_eq!(derive("2024").unwrap(), "env-2024");
        assert_eq!(derive("Base").unwrap(), "base-env");
        assert_eq!(derive("micromamba").unwrap(), "micromamba-env");
        assert!(derive("!!!")
            .unwrap_err()
            .to_string()
            .contains("no letters"));
        assert_eq!(derive(&"a".repeat(300)).unwrap(), "a".repeat(255));
        assert!(derive(&"a".repeat(255)).is_ok());
        // Names the user writes are checked, not changed.
        let err = check("2024").unwrap_err();
        assert!(err.to_string().contains("start with a letter"));
        assert_eq!(err.hint(), Some("use `env-2024`"));
        assert!(check("ml-dev").is_ok());
        assert!(check("_x").is_ok());
        let err = check("ML Dev").unwrap_err();
        assert_eq!(err.hint(), Some("use `ml-dev`"));
        assert!(check("root").unwrap_err().to_string().contains("reserved"));
    }

    /// The two name rules, pinned: a display name is any one line of text;
    /// a named (or conda) environment's name is conda's form.
    #[test]
    fn display_names_are_one_line_of_any_text() {
        assert!(check_display("My Project (ü)").is_ok());
        assert!(check_display(" ").is_err());
        assert!(check_display("a\nb").is_err());
        assert!(check("My Project").is_err());
    }
}
