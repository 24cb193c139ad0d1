//! Removing what a topology built, with its summary (`vnet destroy`, `vnet demo`,
//! `vnet failover-test`).

use serde::Serialize;
use std::time::Instant;

use vnet_core::plan::{self};
use vnet_core::ValidTopology;

use crate::cli::Output;
use crate::exit::Failure;
use crate::progress::Progress;
use crate::sandbox::{backend_failure, Resolved};

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
