//! `vnet plan FILE`: what building (or tearing down) a topology would do, step by step,
//! without touching the machine.
//!
//! The default scope is the sandbox (every node, container, LAN and host as a namespace
//! named `<prefix>-<name>`), since that plan needs nothing from the machine; `--node N`
//! plans one real node, where the node is the namespace the commands run in and a
//! container is the `ip netns` name equal to its own name.

use std::path::PathBuf;

use vnet_core::plan::{compile, listing, teardown, Plan};

use crate::cli::{Global, Output};
use crate::exit::{Exit, Outcome};
use crate::verbs::target::Target;
use crate::{input, output};

/// Arguments of `vnet plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file (`.toml`, or `.json`); `-` reads it from standard input.
    pub file: PathBuf,
    /// Plan one real node (its bridges and the containers whose home it is).
    #[arg(long, value_name = "N", conflicts_with = "sandbox")]
    pub node: Option<String>,
    /// Plan the whole topology in private namespaces on this machine (the default).
    #[arg(long)]
    pub sandbox: bool,
    /// Prefix of the sandbox's namespace names (`<prefix>-<name>`).
    #[arg(long, value_name = "P", default_value = "vnet")]
    pub prefix: String,
    /// Show the plan that removes what the topology builds instead.
    #[arg(long)]
    pub teardown: bool,
}

/// Validates the file and prints the plan (or the teardown plan) for the chosen scope.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = input::load_valid(&args.file, global)?;
    let target = Target::choose(&loaded.valid, args.node.as_deref(), &args.prefix)?;
    let scope = target.scope();
    let plan: Plan = if args.teardown {
        teardown(&loaded.valid, &scope)
    } else {
        compile(&loaded.valid, &scope)
    };
    let text = match global.output {
        Output::Human => listing::listing(&plan, &*target.ns_names()),
        Output::Json => {
            let mut t = plan.to_json();
            t.push('\n');
            t
        }
    };
    output::write_bytes(text.as_bytes());
    Ok(Exit::Success)
}
