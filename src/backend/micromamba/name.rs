//! Conda environment names: what `.pyve/envs/<env_name>` may be called.

/// Names conda tools give a meaning of their own.
const RESERVED: [&str; 6] = ["base", "root", "default", "conda", "mamba", "micromamba"];
const MAX_LEN: usize = 255;

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
fn check_rules(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("has no letters or digits; choose a name such as `myproject`".to_owned());
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        return Err(format!(
            "`{name}` must start with a letter or `_`; use `env-{name}`"
        ));
    }
    if name.len() > MAX_LEN {
        let cut = name[..MAX_LEN].trim_end_matches('-');
        return Err(format!(
            "is {} characters long, more than {MAX_LEN}; use `{cut}`",
            name.len()
        ));
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "`{name}` is reserved by conda ({}); use `{name}-env`",
            RESERVED.join(", ")
        ));
    }
    Ok(())
}

/// A name the user wrote (`--env-name`, the config): used exactly as
/// written, so it must already be in the sanitized form.
pub fn check_env_name(name: &str) -> Result<(), String> {
    let clean = sanitize(name);
    if clean != name {
        let hint = if check_rules(&clean).is_ok() {
            format!("use `{clean}`")
        } else {
            "use lowercase letters, digits, `-` and `_`".to_owned()
        };
        return Err(format!(
            "`{}` is not a conda environment name (only lowercase letters, digits, `-` and `_`); {hint}",
            name.escape_default()
        ));
    }
    check_rules(name)
}

/// A name taken from elsewhere (environment.yml's `name:`, the project
/// directory): sanitized, then checked.
pub fn derive(raw: &str) -> Result<String, String> {
    let name = sanitize(raw);
    check_rules(&name)?;
    Ok(name)
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
        let err = derive("2024 analysis").unwrap_err();
        assert!(err.contains("start with a letter") && err.contains("env-2024-analysis"));
        let err = derive("Base").unwrap_err();
        assert!(
            err.contains("reserved") && err.contains("`base-env`"),
            "{err}"
        );
        assert!(derive("micromamba").is_err());
        assert!(derive("!!!").unwrap_err().contains("no letters"));
        let long = "a".repeat(300);
        assert!(derive(&long).unwrap_err().contains("more than 255"));
        assert!(derive(&"a".repeat(255)).is_ok());
        assert!(check_env_name("ml-dev").is_ok());
        assert!(check_env_name("_x").is_ok());
        let err = check_env_name("ML Dev").unwrap_err();
        assert!(err.contains("use `ml-dev`"), "{err}");
        assert!(check_env_name("root").unwrap_err().contains("reserved"));
    }
}
