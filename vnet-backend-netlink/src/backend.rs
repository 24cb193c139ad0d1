//! [`Backend`]: the library API — observe, execute plans with rollback, and (with the
//! planner) apply and destroy topologies.

use std::time::{Duration, Instant};

use vnet_core::observed::ObservedState;
use vnet_core::plan::{NsRef, Plan};

use crate::error::Result;
use crate::exec;
use crate::netlink::RequestCounter;
use crate::ns::NamespaceMap;
use crate::observe;
use crate::preflight;
use crate::session::Session;

/// How to execute.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Tests only: fail at this step index (before running it), so the applied prefix
    /// is undone. `None` in normal use.
    pub fail_at: Option<usize>,
    /// Observe after executing and compare with the topology's expected state.
    pub verify: bool,
    /// How long verification waits for the kernel's asynchronous work (a deleted
    /// namespace's veth peers disappear from other namespaces a little later).
    pub settle: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            fail_at: None,
            verify: true,
            settle: Duration::from_secs(3),
        }
    }
}

/// What an execution did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecReport {
    /// Steps in the plan.
    pub steps: usize,
    /// Steps applied.
    pub applied: usize,
    /// Mutating netlink requests sent (each create/set/delete message counts).
    pub mutating_requests: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Executes vnet plans in the namespaces of a [`NamespaceMap`].
#[derive(Debug)]
pub struct Backend {
    map: NamespaceMap,
    counter: RequestCounter,
}

impl Backend {
    /// A backend over `map`.
    pub fn new(map: NamespaceMap) -> Self {
        Backend {
            map,
            counter: RequestCounter::new(),
        }
    }

    /// The namespace map.
    pub fn map(&self) -> &NamespaceMap {
        &self.map
    }

    /// Counts of every netlink request this backend sent.
    pub fn counter(&self) -> &RequestCounter {
        &self.counter
    }

    /// Observes `namespaces` (absent ones are left out).
    pub fn observe_namespaces(&self, namespaces: &[NsRef]) -> Result<ObservedState> {
        let mut session = Session::new(&self.map, self.counter.clone());
        observe::observe(&mut session, namespaces)
    }

    /// Executes `plan` as it is: preflight (privileges, vnet's own namespace), then
    /// stage by stage; a failure undoes the applied prefix.
    pub fn execute(&self, plan: &Plan, options: &ApplyOptions) -> Result<ExecReport> {
        let start = Instant::now();
        let before = self.counter.mutating();
        preflight::check_privileges()?;
        let mut session = Session::new(&self.map, self.counter.clone());
        preflight::check_own_namespace(&mut session, plan)?;
        let done = exec::execute(&mut session, plan, options.fail_at)?;
        Ok(ExecReport {
            steps: plan.len(),
            applied: done.applied.len(),
            mutating_requests: self.counter.mutating() - before,
            elapsed: start.elapsed(),
        })
    }
}
