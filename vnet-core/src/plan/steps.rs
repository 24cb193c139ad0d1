//! [`Plan`] and [`Step`]: ordered actions with their dependencies.

use serde::{Deserialize, Serialize};

use super::Action;

/// One action of a plan, with the steps it must come after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Position in the plan, from 0.
    pub id: usize,
    /// What to do.
    pub action: Action,
    /// Ids of the steps this one needs (all smaller than `id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<usize>,
    /// The batch the step belongs to: steps of one stage are independent of each other,
    /// so a backend may run them in parallel or in one batch per namespace.
    pub stage: usize,
}

/// An ordered, dependency-aware list of actions for one topology.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The topology's name.
    pub topology: String,
    /// The steps, in an order where each comes after everything it needs.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// The actions in order.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.steps.iter().map(|s| &s.action)
    }

    /// The inverses of the first `k` actions, in reverse order: what undoes a plan that
    /// stopped after `k` steps.
    pub fn undo_prefix(&self, k: usize) -> Vec<Action> {
        self.steps[..k.min(self.steps.len())]
            .iter()
            .rev()
            .map(|s| s.action.inverse())
            .collect()
    }
}
