//! `vnet destroy FILE --sandbox`: remove everything the topology built. Idempotent: exit 0
//! when it is already gone or was never applied; namespaces and links vnet did not make
//! are left alone.

use std::path::PathBuf;
use std::time::Duration;

use vnet_core::plan::{self, listing};

use crate::cli::{Global, Output};
use crate::exit::{Exit, Outcome};
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
    /// How long to wait, in seconds, while another run holds the namespace lock
    /// (`/run/netns`); then give up (exit 4), naming the holder's pid.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::lock::DEFAULT_WAIT.as_secs())]
    pub wait: u64,
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
            Output::Human => crate::out!(
                "{}",
                listing::listing(&teardown, &|ns| target.shell_name(ns))
            ),
            Output::Json => crate::output::json(
                &serde_json::json!({ "dry_run": true, "steps": teardown.len(), "plan": teardown }),
            ),
        }
        return Ok(Exit::Success);
    }
    let _lock = crate::lock::take_for(Duration::from_secs(args.wait))?;
    let summary = destroy(t, &target, global.output)?;
    match global.output {
        Output::Human => crate::outln!("{}", summary.line()),
        Output::Json => crate::output::json(&summary),
    }
    Ok(Exit::Success)
}
