//! The netlink backend as an [`Executor`] of vnet-core's apply -> verify -> undo loop
//! ([`vnet_core::lifecycle::converge()`]): [`Backend::apply`](crate::Backend::apply)
//! runs it with one [`Session`] (its sockets are opened once, for executing and for
//! every look at the kernel).

use std::time::{Duration, Instant};

use vnet_core::lifecycle::{Executor, Mismatch};
use vnet_core::observed::ObservedState;
use vnet_core::plan::Plan;

use crate::error::{Error, Result};
use crate::exec::{self, Executed};
use crate::observe;
use crate::session::Session;
use crate::verify;

/// One apply in progress: the session, what the topology expects, and until when the
/// kernel may settle.
pub(crate) struct Applying<'s, 'm> {
    /// The sockets, per namespace.
    pub session: &'s mut Session<'m>,
    /// The topology's name.
    pub topology: &'s str,
    /// The expected state.
    pub expected: &'s ObservedState,
    /// What was observed before executing, while nothing has changed since (an empty
    /// plan): compared instead of observing every namespace a second time.
    pub unchanged: Option<ObservedState>,
    /// Tests only: fail at this step.
    pub fail_at: Option<usize>,
    /// Tests only: meddles with the kernel after executing, before verifying.
    pub before_verify: Option<fn()>,
    /// How long the kernel may take to settle.
    pub settle: Duration,
    /// Settle's deadline, set once a plan that changed something ran (none: no waiting).
    pub deadline: Option<Instant>,
}

impl Applying<'_, '_> {
    /// What the kernel holds of the expected state's namespaces, in the topology's
    /// terms (see [`crate::Backend::observe`]).
    pub fn observe(&mut self) -> Result<ObservedState> {
        observe_in(self.session, self.topology, self.expected)
    }
}

/// Observes the namespaces of `expected` in `topology`'s terms: unmarked links in its
/// own namespaces are its own, and gateway routes read without the kernel's device.
pub(crate) fn observe_in(
    session: &mut Session<'_>,
    topology: &str,
    expected: &ObservedState,
) -> Result<ObservedState> {
    let namespaces: Vec<_> = expected.namespaces.keys().cloned().collect();
    let mut observed = observe::observe(session, &namespaces)?;
    observed.adopt_unmarked_links(topology, expected);
    verify::normalize_routes(expected, &mut observed);
    Ok(observed)
}

impl Executor for Applying<'_, '_> {
    type Applied = Executed;
    type Error = Error;

    fn execute(&mut self, plan: &Plan) -> Result<Executed> {
        let done = exec::execute(self.session, plan, self.fail_at)?;
        // An empty plan changed nothing: the kernel has nothing to settle, and what was
        // observed before is still what is there.
        if !plan.is_empty() {
            self.unchanged = None;
            if let Some(meddle) = self.before_verify {
                meddle();
            }
            self.deadline = Some(Instant::now() + self.settle);
        }
        Ok(done)
    }

    fn count(applied: &Executed) -> usize {
        applied.applied.len()
    }

    fn differences(&mut self) -> Result<Vec<Mismatch>> {
        let observed = match self.unchanged.take() {
            Some(observed) => observed,
            None => {
                self.session.all_links_changed();
                self.observe()?
            }
        };
        Ok(verify::compare(self.topology, self.expected, &observed))
    }

    fn wait(&mut self) -> bool {
        if self.deadline.is_none_or(|d| Instant::now() >= d) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
        true
    }

    fn undo(&mut self, plan: &Plan, applied: &Executed) -> Vec<Error> {
        exec::undo_applied(self.session, plan, &applied.applied)
    }
}
