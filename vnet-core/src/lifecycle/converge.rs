//! Apply, verify, undo: the one loop every executor runs, so a plan is either in place
//! and verified or undone, whichever backend ran it.
//!
//! An [`Executor`] knows how to run a plan (netlink messages, or `ip` commands), how to
//! see what differs now (observing the kernel and comparing with the topology), how to
//! wait a little for the kernel's asynchronous work, and how to undo what it applied.
//! [`converge()`] strings these together the same way for all of them:
//!
//! 1. `execute` the plan; a failing step is the executor's to undo (it knows which part
//!    of the failing step already took effect), and ends the loop with
//!    [`ConvergeError::Execute`];
//! 2. ask for the `differences` until there are none, `wait`ing between two looks
//!    until the executor's settle time is over (a deleted namespace's veth peers vanish
//!    from other namespaces a little after the delete);
//! 3. when differences remain (or observing fails), `undo` every applied step, so the
//!    system is as it was before, and return [`ConvergeError::NotVerified`] with what
//!    was found and every undo that failed.
//!
//! The executor owns time (its `wait`), so this module stays free of effects and the
//! loop is tested with an in-memory executor below.

use crate::plan::Plan;

use super::Mismatch;

/// A backend that can run, check and undo plans.
pub trait Executor {
    /// What [`Executor::execute`] applied: what [`Executor::undo`] needs.
    type Applied;
    /// The executor's error.
    type Error;

    /// Runs `plan`. On a failing step it undoes what it applied itself and returns the
    /// error.
    fn execute(&mut self, plan: &Plan) -> Result<Self::Applied, Self::Error>;

    /// How many steps `applied` holds.
    fn count(applied: &Self::Applied) -> usize;

    /// Every difference between the system and the topology right now.
    fn differences(&mut self) -> Result<Vec<Mismatch>, Self::Error>;

    /// Waits before looking again; `false` when the settle time is over.
    fn wait(&mut self) -> bool;

    /// Undoes the steps of `plan` in `applied`, most recent first, best effort; returns
    /// every error.
    fn undo(&mut self, plan: &Plan, applied: &Self::Applied) -> Vec<Self::Error>;
}

/// Why verification failed.
#[derive(Debug)]
pub enum Unverified<E> {
    /// The system still differed when the settle time was over.
    Differs(Vec<Mismatch>),
    /// Observing the system failed.
    Observe(E),
}

/// How [`converge()`] failed.
#[derive(Debug)]
pub enum ConvergeError<E> {
    /// A step failed; the executor undid what it had applied.
    Execute(E),
    /// Every step ran, but the system did not match: the applied steps were undone.
    NotVerified {
        /// How many applied steps were undone.
        undone: usize,
        /// What verification found.
        cause: Unverified<E>,
        /// The undo's errors (empty: the system is as it was before).
        rollback: Vec<E>,
    },
}

/// Executes `plan` with `executor`, verifies the result, and undoes it when it does not
/// verify (see the module's overview).
pub fn converge<X: Executor>(
    executor: &mut X,
    plan: &Plan,
) -> Result<X::Applied, ConvergeError<X::Error>> {
    let applied = executor.execute(plan).map_err(ConvergeError::Execute)?;
    let cause = loop {
        match executor.differences() {
            Ok(found) if found.is_empty() => return Ok(applied),
            Ok(found) => {
                if !executor.wait() {
                    break Unverified::Differs(found);
                }
            }
            Err(e) => break Unverified::Observe(e),
        }
    };
    let rollback = executor.undo(plan, &applied);
    Err(ConvergeError::NotVerified {
        undone: X::count(&applied),
        cause,
        rollback,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{Field, Object};
    use crate::plan::{Action, NsRef, Step};

    /// An executor over a set of namespaces: `execute` creates them (failing at
    /// `fail_at`), `differences` reports the wanted ones missing, `undo` removes them.
    struct Memory {
        have: Vec<NsRef>,
        want: Vec<NsRef>,
        fail_at: Option<usize>,
        /// Namespaces the "kernel" only shows after this many looks.
        late: usize,
        waits_left: usize,
    }

    impl Executor for Memory {
        type Applied = Vec<NsRef>;
        type Error = String;

        fn execute(&mut self, plan: &Plan) -> Result<Vec<NsRef>, String> {
            let mut done = Vec::new();
            for (i, a) in plan.actions().enumerate() {
                if Some(i) == self.fail_at {
                    self.undo(plan, &done);
                    return Err(format!("step {i} failed"));
                }
                let ns = a.ns().unwrap().clone();
                self.have.push(ns.clone());
                done.push(ns);
            }
            Ok(done)
        }

        fn count(applied: &Vec<NsRef>) -> usize {
            applied.len()
        }

        fn differences(&mut self) -> Result<Vec<Mismatch>, String> {
            if self.late > 0 {
                self.late -= 1;
                return Ok(vec![missing(&self.want[0])]);
            }
            Ok(self
                .want
                .iter()
                .filter(|ns| !self.have.contains(ns))
                .map(missing)
                .collect())
        }

        fn wait(&mut self) -> bool {
            self.waits_left = self.waits_left.saturating_sub(1);
            self.waits_left > 0
        }

        fn undo(&mut self, _: &Plan, applied: &Vec<NsRef>) -> Vec<String> {
            self.have.retain(|ns| !applied.contains(ns));
            Vec::new()
        }
    }

    fn missing(ns: &NsRef) -> Mismatch {
        Mismatch {
            ns: ns.clone(),
            object: Object::Namespace,
            field: Field::Exists,
            desired: "yes".into(),
            found: "no".into(),
        }
    }

    fn plan(names: &[&str]) -> Plan {
        Plan {
            topology: "t".into(),
            steps: names
                .iter()
                .enumerate()
                .map(|(id, n)| Step {
                    id,
                    action: Action::CreateNamespace {
                        ns: NsRef::Node((*n).into()),
                    },
                    after: Vec::new(),
                    stage: 0,
                })
                .collect(),
        }
    }

    fn memory(want: &[&str]) -> Memory {
        Memory {
            have: Vec::new(),
            want: want.iter().map(|n| NsRef::Node((*n).into())).collect(),
            fail_at: None,
            late: 0,
            waits_left: 3,
        }
    }

    #[test]
    fn a_plan_that_verifies_stays_and_one_that_settles_late_too() {
        let mut m = memory(&["a", "b"]);
        m.late = 2;
        assert_eq!(converge(&mut m, &plan(&["a", "b"])).unwrap().len(), 2);
        assert_eq!(m.have.len(), 2);
    }

    #[test]
    fn a_plan_that_does_not_verify_is_undone_and_says_what_differed() {
        let mut m = memory(&["a", "b", "c"]);
        match converge(&mut m, &plan(&["a", "b"])) {
            Err(ConvergeError::NotVerified {
                undone,
                cause: Unverified::Differs(found),
                rollback,
            }) => {
                assert_eq!(undone, 2);
                assert_eq!(found, vec![missing(&NsRef::Node("c".into()))]);
                assert!(rollback.is_empty());
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(m.have.is_empty(), "undone: {:?}", m.have);
    }

    #[test]
    fn a_failing_step_is_the_executors_to_undo_and_nothing_is_verified() {
        let mut m = memory(&["a", "b"]);
        m.fail_at = Some(1);
        match converge(&mut m, &plan(&["a", "b"])) {
            Err(ConvergeError::Execute(e)) => assert_eq!(e, "step 1 failed"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(m.have.is_empty());
    }
}
