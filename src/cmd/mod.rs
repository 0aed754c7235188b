//! One module per subcommand.

pub mod engine;
pub mod hook;
