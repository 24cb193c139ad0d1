//! `vnet destroy FILE --sandbox`: remove everything the topology built. Idempotent: exit 0
//! when it is already gone or was never applied; namespaces and links vnet did not make
//! are left alone.

use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use vnet_core::plan::{self, listing};
use vnet_core::ValidTopology;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::input;
use crate::progress::Progress;
use crate::sandbox::{backend_failure, Resolved, Target};

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

/// What a destroy did.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The topology's name.
    pub topology: String,
    /// Steps of the full teardown plan.
    pub steps: usize,
    /// Steps that still had something to remove.
    pub removed: usize,
    /// Mutating netlink requests sent.
    pub mutating_requests: u64,
    /// Wall time in milliseconds.
    pub elapsed_ms: u128,
}

impl Summary {
    /// The line people read.
    pub fn line(&self) -> String {
        if self.removed == 0 {
            format!(
                "topology `{}` is not there: nothing to remove ({} ms)",
                self.topology, self.elapsed_ms
            )
        } else {
            // Deleting a namespace is an unmount and unlink, not a netlink request, so
            // a count of netlink changes says little here; steps say what was removed.
            format!(
                "removed topology `{}`: {} of {} teardown steps in {} ms",
                self.topology, self.removed, self.steps, self.elapsed_ms
            )
        }
    }
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

/// Removes what `t` built in the target, with a spinner for large teardowns.
pub fn destroy(t: &ValidTopology, target: &Resolved, output: Output) -> Result<Summary, Failure> {
    let start = Instant::now();
    let steps = plan::teardown(t, &target.scope).len();
    let progress = Progress::start(
        output,
        steps,
        format!("removing topology `{}` ({steps} steps)", t.name()),
    );
    let result = target.backend().destroy(t, &target.scope);
    progress.finish();
    let report = result.map_err(backend_failure)?;
    Ok(Summary {
        topology: t.name().to_string(),
        steps: report.steps,
        removed: report.applied,
        mutating_requests: report.mutating_requests,
        elapsed_ms: start.elapsed().as_millis(),
    })
}
