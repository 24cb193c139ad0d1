//! `vnet show FILE --sandbox`: what the kernel holds of the topology right now, per
//! namespace — links (kind, MAC, master, up, addresses), routes, sysctls and NAT — in a
//! compact form like `ip -br`.

use std::path::PathBuf;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Outcome};
use crate::input;
use crate::sandbox::Target;
use crate::verbs::show::{observe, render, shown};

/// Arguments of `vnet show`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file (`.toml`, or `.json`); `-` reads it from standard input.
    pub file: PathBuf,
    /// Where the topology was built.
    #[command(flatten)]
    pub target: Target,
}

/// Observes and prints; exit 0.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = input::load_valid(&args.file, global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t)?;
    let state = observe(t, &target)?;
    match global.output {
        Output::Human => crate::out!("{}", render(t, &target, &state)),
        Output::Json => {
            crate::output::json(&serde_json::json!({ "namespaces": shown(&target, &state) }))
        }
    }
    Ok(Exit::Success)
}
