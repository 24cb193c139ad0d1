//! vnet itself: the topology text parsed and validated, then one apply of its netlink
//! backend in sandbox scope (namespaces `vn-m1` with the bridge and `vn-c0`, ...). The
//! timed setup includes parse and validate (what `vnet apply FILE` pays) but not the
//! verification observe after executing (the peers verify nothing either; the
//! benchmark checks every method's result the same way, untimed).

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use vnet_backend_netlink::{ApplyOptions, Backend, ExecReport, NamespaceMap};
use vnet_core::plan::Scope;
use vnet_core::ValidTopology;

use crate::method::Method;
use crate::topo::{self, Ct};

/// Sandbox prefix of vnet's namespaces.
const PREFIX: &str = "vn";

/// vnet's netlink backend.
#[derive(Debug)]
pub struct Vnet {
    backend: Backend,
    topology: Option<ValidTopology>,
    /// The first apply's execution (per-stage times).
    pub exec: Option<ExecReport>,
    /// Wall time of parse and validate within the setup.
    pub validate: Duration,
}

impl Vnet {
    /// A vnet method over a fresh sandbox map.
    pub fn new() -> Self {
        Vnet {
            backend: Backend::new(NamespaceMap::sandbox(PREFIX)),
            topology: None,
            exec: None,
            validate: Duration::ZERO,
        }
    }

    fn options() -> ApplyOptions {
        ApplyOptions {
            verify: false,
            ..ApplyOptions::default()
        }
    }

    /// A second apply of the same topology: its time, and whether it changed nothing.
    pub fn second_apply(&self) -> Result<Duration> {
        let Some(t) = &self.topology else {
            bail!("second apply before the first");
        };
        let start = Instant::now();
        let report = self.backend.apply(t, &Scope::Sandbox, &Self::options())?;
        let took = start.elapsed();
        // Where a no-op apply's time goes: observing, and the planner's diff.
        let start = Instant::now();
        let observed = self.backend.observe(t, &Scope::Sandbox)?;
        let observing = start.elapsed();
        let start = Instant::now();
        let plan = vnet_core::plan::diff(t, &Scope::Sandbox, &observed);
        eprintln!(
            "vnet no-op apply {:.0} ms: observe alone {:.0} ms, diff alone {:.0} ms ({} steps)",
            took.as_secs_f64() * 1000.0,
            observing.as_secs_f64() * 1000.0,
            start.elapsed().as_secs_f64() * 1000.0,
            plan.len()
        );
        if report.mutating_requests != 0 || !report.plan.is_empty() {
            bail!(
                "the second apply was not a no-op: {} steps, {} mutating requests",
                report.plan.len(),
                report.mutating_requests
            );
        }
        Ok(took)
    }

    /// Every difference between the kernel and the topology (untimed check).
    pub fn mismatches(&self) -> Result<usize> {
        let Some(t) = &self.topology else {
            bail!("check before apply");
        };
        Ok(self.backend.check(t, &Scope::Sandbox)?.len())
    }
}

impl Method for Vnet {
    fn name(&self) -> &'static str {
        "vnet (netlink backend)"
    }

    fn missing(&self) -> Option<String> {
        None
    }

    fn setup(&mut self, cts: &[Ct]) -> Result<()> {
        let start = Instant::now();
        let t = topo::vnet_topology(cts)?;
        self.validate = start.elapsed();
        let report = self.backend.apply(&t, &Scope::Sandbox, &Self::options())?;
        self.exec = Some(report.exec);
        self.topology = Some(t);
        Ok(())
    }

    fn teardown(&mut self, _cts: &[Ct]) -> Result<()> {
        let Some(t) = &self.topology else {
            bail!("teardown before setup");
        };
        self.backend.destroy(t, &Scope::Sandbox)?;
        Ok(())
    }

    fn ns_of(&self, ct: &Ct) -> String {
        format!("{PREFIX}-{}", ct.name)
    }

    fn bridge_ns(&self) -> Option<String> {
        Some(format!("{PREFIX}-m1"))
    }

    fn check(&self, cts: &[Ct]) -> Result<()> {
        crate::check::built(self, cts)
    }
}
