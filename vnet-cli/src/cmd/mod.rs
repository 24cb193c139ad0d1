//! The subcommands. Each lives in its own file with a clap `Args` struct and a
//! `run(&Args, &Global) -> Outcome` function; adding one means adding the file, a variant
//! to [`Command`] and an arm to [`Command::run`].

pub mod check;
pub mod completions;
pub mod graph;
pub mod man;
pub mod plan;
pub mod render;

use clap::Subcommand;

use crate::cli::Global;
use crate::exit::Outcome;

/// Every subcommand of `vnet`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and validate a topology file; report every problem with its location.
    #[command(
        after_help = "Examples:\n  vnet check examples/seed.toml\n  vnet --output json check topology.json\n\nExit codes: 0 valid, 1 invalid (or unreadable), 2 usage error."
    )]
    Check(check::Args),
    /// Draw a valid topology as a Graphviz DOT or Mermaid graph.
    #[command(
        after_help = "Examples:\n  vnet graph examples/seed.toml | dot -Tsvg -o seed.svg\n  vnet graph examples/seed.toml --format mermaid > seed.mmd"
    )]
    Graph(graph::Args),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  vnet completions bash > /etc/bash_completion.d/vnet\n  vnet completions zsh > \"${fpath[1]}/_vnet\"\n  vnet completions fish > ~/.config/fish/completions/vnet.fish"
    )]
    Completions(completions::Args),
    /// Print the man page (roff) of vnet or of one subcommand.
    #[command(after_help = "Examples:\n  vnet man | man -l -\n  vnet man check > vnet-check.1")]
    Man(man::Args),
    /// Show, step by step, what building (or tearing down) a topology would do.
    #[command(
        after_help = "Examples:\n  vnet plan examples/seed.toml\n  vnet plan examples/seed.toml --prefix lab\n  vnet plan examples/seed.toml --node m1\n  vnet plan examples/seed.toml --teardown\n  vnet --output json plan examples/seed.toml > plan.json\n\nThe default scope is the sandbox (namespaces <prefix>-<name> on this machine).\nExit codes: 0 planned, 1 invalid topology, 2 usage error (e.g. unknown node)."
    )]
    Plan(plan::Args),
    /// Render a topology as a script (vzctl, iproute2) or persistence files.
    #[command(
        after_help = "Examples:\n  vnet render examples/seed.toml --dialect vzctl --node m1 > m1.sh\n  vnet render examples/seed.toml --dialect iproute2 --sandbox --prefix lab\n  vnet render examples/seed.toml --dialect etcnet --root /tmp/m1-root\n  vnet --output json render examples/seed.toml --dialect networkd\n\nExit codes: 0 rendered, 1 invalid topology, 2 usage error, 4 cannot write."
    )]
    Render(render::Args),
}

impl Command {
    /// Runs the subcommand.
    pub fn run(&self, global: &Global) -> Outcome {
        match self {
            Command::Check(args) => check::run(args, global),
            Command::Graph(args) => graph::run(args, global),
            Command::Completions(args) => completions::run(args, global),
            Command::Man(args) => man::run(args, global),
            Command::Plan(args) => plan::run(args, global),
            Command::Render(args) => render::run(args, global),
        }
    }
}
