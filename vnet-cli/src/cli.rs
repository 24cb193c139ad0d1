//! The command line: global options and the subcommands, as clap derive types.

use clap::{Parser, ValueEnum};

use crate::cmd::Command;

/// Build, check and draw container virtual networks from one typed topology.
#[derive(Debug, Parser)]
#[command(
    name = "vnet",
    version,
    about,
    propagate_version = true,
    after_help = "Examples:\n  vnet check examples/seed.toml\n  vnet --output json check examples/seed.toml\n  vnet graph examples/seed.toml --format dot | dot -Tpng -o seed.png\n  cat examples/seed.toml | vnet check -\n\nA FILE of `-` is read from standard input.\nExit codes: 0 success, 1 invalid input, 2 usage error, 3 drift found or verification failed, 4 system error, 7 not running (`vnet status`: nothing of the container there)."
)]
pub struct Cli {
    /// Options every subcommand understands.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options that apply to every subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Output for people (human) or for programs (json).
    #[arg(long, global = true, value_enum, default_value_t = Output::Human)]
    pub output: Output,
}

/// The two output styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Readable text, diagnostics with source snippets.
    Human,
    /// One JSON document on stdout.
    Json,
}

impl Global {
    /// Refuses `--output json` (exit 2) for a subcommand whose output is already a
    /// format of its own (a graph, a completion script, a man page), rather than ignore
    /// it and hand a program something it cannot parse.
    pub fn refuse_json(&self, command: &str, writes: &str) -> Result<(), crate::exit::Failure> {
        match self.output {
            Output::Human => Ok(()),
            Output::Json => Err(crate::exit::Failure::usage(anyhow::anyhow!(
                "`vnet {command}` writes {writes}, not JSON: drop --output json"
            ))),
        }
    }
}

/// The clap command tree, for completions and the man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_tree_is_consistent() {
        // clap's own checks: no clashing flags, every default parses, and so on.
        super::command().debug_assert();
    }
}
