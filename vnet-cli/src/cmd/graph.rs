//! `vnet graph FILE --format dot|mermaid`: draw a valid topology.

use clap::ValueEnum;
use std::path::PathBuf;

use crate::cli::Global;
use crate::exit::{Exit, Outcome};
use crate::graph::{dot, mermaid, View};
use crate::{input, output};

/// Arguments of `vnet graph`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file (`.toml`, or `.json`); `-` reads it from standard input.
    pub file: PathBuf,
    /// The graph language.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

/// The graph languages `vnet graph` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart (Markdown, GitHub, mermaid-cli).
    Mermaid,
}

/// Validates the file and prints its graph. `--output json` is refused (exit 2): the
/// graph is already a machine format.
pub fn run(args: &Args, global: &Global) -> Outcome {
    global.refuse_json("graph", "Graphviz DOT or Mermaid (see --format)")?;
    let loaded = input::load_valid(&args.file, global)?;
    let view = View::of(&loaded.valid);
    let text = match args.format {
        GraphFormat::Dot => dot::render(&view),
        GraphFormat::Mermaid => mermaid::render(&view),
    };
    output::write_bytes(text.as_bytes());
    Ok(Exit::Success)
}
