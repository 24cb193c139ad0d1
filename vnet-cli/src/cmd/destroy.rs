//! `vnet destroy FILE --sandbox`: remove everything the topology built. Idempotent: exit 0
//! when it is already gone or was never applied; namespaces and links vnet did not make
//! are left alone.

use std::path::PathBuf;

use vnet_core::plan::{self, listing};

use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::input;
use crate::sandbox::Target;
use crate::verbs::destroy::destroy;

/// Arguments of `vnet destroy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file (`.toml`, or `.json`).
    pub file: PathBuf,
    /// Where the topology was built.
    #[command(flatten)]
    pub target: Target,
    /// Print the teardown plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Tears down; exit 0 also when nothing was there.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = input::load_valid(&args.file, global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t)?;
    if args.dry_run {
        let teardown = plan::teardown(t, &target.scope);
        match global.output {
            Output::Human => print!(
                "{}",
                listing::listing(&teardown, &|ns| target.shell_name(ns))
            ),
            Output::Json => println!(
                "{}",
                serde_json::json!({ "dry_run": true, "steps": teardown.len(), "plan": teardown })
            ),
        }
        return Ok(Exit::Success);
    }
    let _lock = crate::lock::take()?;
    let summary = destroy(t, &target, global.output)?;
    match global.output {
        Output::Human => println!("{}", summary.line()),
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&summary).map_err(Failure::system)?
        ),
    }
    Ok(Exit::Success)
}
