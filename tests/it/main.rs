//! Integration tests: one binary (link time matters on two cores), grouped
//! by area. Every test drives the real `pyve` binary; shell tests run real
//! bash, zsh and fish. Shared fixtures live in `support`.

/// The prompt hook in real shells: its cost, its exact escaping, scripted
/// and interactive prompts, prompt themes.
pub mod hook {
    mod fast_path;
    mod interactive;
    pub mod more_shells;
    mod prompt_themes;
    mod quoting;
    mod scripted;
}

/// The commands people type: the command line itself, completions and the
/// man page, output for people, `status`, named environments, the
/// project's own variables.
mod commands {
    mod command_line;
    mod completions;
    mod export_json;
    mod first_minutes;
    mod getting_started;
    mod named_environments;
    mod output;
    mod settings;
    mod status;
    mod variables;
}

/// Each backend end to end: venv with real interpreters and uv, conda
/// environments built by micromamba.
mod backends {
    mod conda_fidelity;
    mod conda_lock;
    mod micromamba;
    mod venv;
}

/// pyve among everything else: direnv, version managers, editors and CI
/// recipes, the filesystem's edge cases, and hostile input.
mod integration {
    mod dependencies;
    mod direnv;
    mod ecosystem;
    mod edges;
    mod hardening;
    mod inherited_state;
    mod installer;
    mod release;
    mod security;
}

pub mod support;
