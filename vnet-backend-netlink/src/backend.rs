//! [`Backend`]: the library API — observe, execute plans with rollback, and (with the
//! planner) apply and destroy topologies.

use std::time::{Duration, Instant};

use vnet_core::observed::ObservedState;
use vnet_core::plan::{self, NsRef, Plan, Scope};
use vnet_core::ValidTopology;

use vnet_core::lifecycle::converge::Unverified;
use vnet_core::lifecycle::{converge, ConvergeError, Executor};

use crate::applying::{self, Applying};
use crate::error::{Error, Result};
use crate::exec;
use crate::netlink::RequestCounter;
use crate::ns::NamespaceMap;
use crate::observe;
use crate::preflight;
use crate::session::Session;
use crate::verify;

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
    /// Tests only: runs after the plan is executed and before verification, to change
    /// the kernel behind vnet's back (as a racing admin, or an old kernel that ignores
    /// an attribute, would) so that verification fails. `None` in normal use.
    pub before_verify: Option<fn()>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            fail_at: None,
            verify: true,
            settle: Duration::from_secs(3),
            before_verify: None,
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
    /// Per stage: stage number, actions, wall time (where the time goes).
    pub stages: Vec<(usize, usize, Duration)>,
}

/// What an apply did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// The repair plan that was executed (empty when nothing differed).
    pub plan: Plan,
    /// The execution.
    pub exec: ExecReport,
    /// Mutating netlink requests of the whole apply (observing sends none).
    pub mutating_requests: u64,
    /// Whether the result was verified against the expected state.
    pub verified: bool,
}

/// Executes vnet plans in the namespaces of a [`NamespaceMap`].
#[derive(Debug)]
pub struct Backend {
    map: NamespaceMap,
    counter: RequestCounter,
    /// The real node this machine is (see [`crate::Site::Node`]); `None`: the sandbox,
    /// or a map of the caller's own.
    here: Option<String>,
}

impl Backend {
    /// A backend over `map`.
    pub fn new(map: NamespaceMap) -> Self {
        Backend {
            map,
            counter: RequestCounter::new(),
            here: None,
        }
    }

    /// The same backend, knowing that this machine is real node `node`.
    pub fn here_is(mut self, node: &str) -> Self {
        self.here = Some(node.to_string());
        self
    }

    /// The real node this machine is, when the backend was made for one.
    pub fn here(&self) -> Option<&str> {
        self.here.as_deref()
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
            stages: done.stages,
        })
    }

    /// What the kernel holds of `t` in `scope`, normalized to compare with
    /// [`plan::expected_state`]: absent namespaces are left out, and a route whose
    /// desired form names no device is reported without the device the kernel chose.
    pub fn observe(&self, t: &ValidTopology, scope: &Scope) -> Result<ObservedState> {
        let mut session = Session::new(&self.map, self.counter.clone());
        self.observe_in(&mut session, t.name(), &plan::expected_state(t, scope))
    }

    /// Observes the namespaces of `expected` (the topology's expected state, computed
    /// once by the caller and reused for preflight and verification), in `topology`'s
    /// terms: unmarked links in its own namespaces are its own (see
    /// [`ObservedState::adopt_unmarked_links`]).
    fn observe_in(
        &self,
        session: &mut Session<'_>,
        topology: &str,
        expected: &ObservedState,
    ) -> Result<ObservedState> {
        applying::observe_in(session, topology, expected)
    }

    /// The plan that would repair the kernel to `t` (observe, then
    /// [`plan::diff`]).
    pub fn diff(&self, t: &ValidTopology, scope: &Scope) -> Result<Plan> {
        let observed = self.observe(t, scope)?;
        Ok(plan::diff(t, scope, &observed))
    }

    /// Every difference between the kernel and `t` right now.
    pub fn check(&self, t: &ValidTopology, scope: &Scope) -> Result<Vec<verify::Mismatch>> {
        let expected = plan::expected_state(t, scope);
        let mut session = Session::new(&self.map, self.counter.clone());
        let observed = self.observe_in(&mut session, t.name(), &expected)?;
        Ok(verify::compare(t.name(), &expected, &observed))
    }

    /// Apply = observe, diff, preflight, execute (undoing the applied prefix on
    /// failure), observe again and compare with the expected state (undoing every
    /// applied step when they differ: [`Error::NotVerified`]). A second apply of an
    /// unchanged topology sends no mutating request.
    pub fn apply(
        &self,
        t: &ValidTopology,
        scope: &Scope,
        options: &ApplyOptions,
    ) -> Result<ApplyReport> {
        let before = self.counter.mutating();
        preflight::check_privileges()?;
        let mut session = Session::new(&self.map, self.counter.clone());
        let expected = plan::expected_state(t, scope);
        let observed = self.observe_in(&mut session, t.name(), &expected)?;
        let plan = plan::diff(t, scope, &observed);
        preflight::check_own_namespace(&mut session, &plan)?;
        preflight::check_in_the_way(t.name(), &plan, &observed)?;
        preflight::check_foreign_links(t.name(), &expected, &observed)?;
        preflight::check_devices_present(&plan, &observed)?;
        let start = Instant::now();
        let mut applying = Applying {
            session: &mut session,
            topology: t.name(),
            expected: &expected,
            unchanged: Some(observed),
            fail_at: options.fail_at,
            before_verify: options.before_verify,
            settle: options.settle,
            deadline: None,
        };
        let done = if options.verify {
            // An apply that cannot be verified is undone, like one that fails half-way:
            // the system is left as it was (nmstate's checkpoint rollback does the same).
            converge(&mut applying, &plan).map_err(|e| not_verified(e, plan.is_empty()))?
        } else {
            applying.execute(&plan)?
        };
        let exec = ExecReport {
            steps: plan.len(),
            applied: done.applied.len(),
            mutating_requests: self.counter.mutating() - before,
            elapsed: start.elapsed(),
            stages: done.stages,
        };
        Ok(ApplyReport {
            plan,
            exec,
            mutating_requests: self.counter.mutating() - before,
            verified: options.verify,
        })
    }

    /// Removes everything `t` built in `scope` ([`plan::teardown`]). Idempotent: parts
    /// already gone are fine, and destroying what was never applied succeeds. Failures
    /// do not stop the teardown; all of them are returned together. A namespace that
    /// does not carry this topology's mark (it existed before vnet) is left in place.
    pub fn destroy(&self, t: &ValidTopology, scope: &Scope) -> Result<ExecReport> {
        self.destroy_where(t, scope, &|_| true)
    }

    /// [`Backend::destroy`] cut to the teardown steps `keep` accepts (one container's
    /// objects on a real node: `vnet stop CT --node N --this-host`), with the same
    /// guarantees: only what is there, best effort, idempotent.
    pub fn destroy_where(
        &self,
        t: &ValidTopology,
        scope: &Scope,
        keep: &dyn Fn(&plan::Action) -> bool,
    ) -> Result<ExecReport> {
        let start = Instant::now();
        let before = self.counter.mutating();
        preflight::check_privileges()?;
        let mut session = Session::new(&self.map, self.counter.clone());
        let observed = self.observe_in(&mut session, t.name(), &plan::expected_state(t, scope))?;
        let full = plan::teardown(t, scope);
        preflight::check_own_namespace(&mut session, &full)?;
        // Only what is there: a teardown step whose object is gone is skipped, so a
        // second destroy sends nothing.
        let steps: Vec<_> = full
            .steps
            .iter()
            .filter(|s| {
                keep(&s.action)
                    && (still_there(t.name(), &s.action, &observed) || debris(&self.map, &s.action))
            })
            .cloned()
            .collect();
        let errors = exec::run_best_effort(&mut session, &full.topology, &steps);
        if !errors.is_empty() {
            return Err(Error::Many(errors));
        }
        Ok(ExecReport {
            steps: full.len(),
            applied: steps.len(),
            mutating_requests: self.counter.mutating() - before,
            elapsed: start.elapsed(),
            stages: Vec::new(),
        })
    }
}

/// Whether a teardown action deletes a sandbox namespace whose file is debris of a run
/// killed between unmounting and unlinking it (observed as absent): the deletion
/// removes the empty file.
fn debris(map: &NamespaceMap, action: &plan::Action) -> bool {
    matches!(action, plan::Action::DeleteNamespace { ns } if map.is_debris(ns))
}

/// The backend's error for a failed [`converge()`]: a step's own error, or
/// [`Error::NotVerified`] naming the first difference (an empty plan changed nothing,
/// so there the first difference is the error itself).
fn not_verified(e: ConvergeError<Error>, nothing_applied: bool) -> Error {
    match e {
        ConvergeError::Execute(e) => e,
        ConvergeError::NotVerified {
            undone,
            cause,
            rollback,
        } => {
            let source = match cause {
                // `converge` reports differences only when there are some.
                Unverified::Differs(found) => found
                    .into_iter()
                    .next()
                    .map_or_else(|| Error::Many(Vec::new()), Error::from),
                Unverified::Observe(e) => e,
            };
            if nothing_applied && rollback.is_empty() {
                return source;
            }
            Error::NotVerified {
                undone,
                rollback,
                source: Box::new(source),
            }
        }
    }
}

/// Whether a teardown action still has something to remove in `observed`.
fn still_there(topology: &str, action: &plan::Action, observed: &ObservedState) -> bool {
    use plan::Action::*;
    let Some(ns) = action.ns() else { return false };
    let Some(o) = observed.namespaces.get(ns) else {
        return false;
    };
    match action {
        // Only a namespace this topology made; one that existed before (no mark, or
        // another topology's) is never deleted.
        DeleteNamespace { .. } => o.owner.as_deref() == Some(topology),
        DeleteLink { spec, .. } => o.links.contains_key(spec.name()),
        // Only out of the bridge named: a device of the node in someone else's bridge
        // stays there.
        ClearMaster { link, master, .. } => o
            .links
            .get(link.as_str())
            .is_some_and(|l| l.master.as_deref() == Some(master.as_str())),
        SetDown { link, .. } => o.links.get(link.as_str()).is_some_and(|l| l.up),
        DelAddress { link, address, .. } => o
            .links
            .get(link.as_str())
            .is_some_and(|l| l.addresses.contains(address)),
        DelRoute { route, .. } => o
            .routes
            .iter()
            .any(|r| r.dst == route.dst && r.via == route.via && r.metric == route.metric),
        DelNat { rule, .. } => o.ruleset.iter().any(|r| r.masquerade.contains(rule)),
        SetRuleset { to: None, .. } => o.ruleset.is_some(),
        SetSysctl { sysctl, value, .. } => o.sysctls.get(sysctl).is_some_and(|v| v != value),
        MoveLink { name, .. } => o.links.contains_key(name.as_str()),
        SetMac { link, mac, .. } => o
            .links
            .get(link.as_str())
            .is_some_and(|l| l.mac != Some(*mac)),
        SetMtu { link, mtu, .. } => o.links.get(link.as_str()).is_some_and(|l| l.mtu != *mtu),
        _ => true,
    }
}
