//! Integration tests: one binary (link time matters on two cores), one
//! module per area. Every test drives the real `pyve` binary; shell tests
//! run real bash, zsh and fish.

mod cli;
mod completions;
mod conda;
mod direnv;
mod ecosystem;
mod edges;
mod fastpath;
mod lifecycle;
mod named;
mod output;
mod pty;
mod quoting;
mod scenarios;
mod security;
mod status;
pub mod support;
mod themes;
