//! [`Plan::restricted_to`]: the part of a plan that concerns some objects (one
//! container's network, for `vnet start`), still in a valid order.

use std::collections::BTreeMap;

use super::{Action, Plan, Step};

impl Plan {
    /// The steps whose action `keep` accepts, in the same order: ids renumbered from 0,
    /// `after` edges mapped to the kept steps (edges to dropped steps are dropped), and
    /// stages renumbered densely so their order is kept and none is empty.
    pub fn restricted_to(&self, keep: impl Fn(&Action) -> bool) -> Plan {
        let kept: Vec<&Step> = self.steps.iter().filter(|s| keep(&s.action)).collect();
        let ids: BTreeMap<usize, usize> = kept
            .iter()
            .enumerate()
            .map(|(new, s)| (s.id, new))
            .collect();
        let stages: BTreeMap<usize, usize> = kept
            .iter()
            .map(|s| s.stage)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .enumerate()
            .map(|(new, old)| (old, new))
            .collect();
        let steps = kept
            .iter()
            .enumerate()
            .map(|(id, s)| Step {
                id,
                action: s.action.clone(),
                after: s.after.iter().filter_map(|a| ids.get(a).copied()).collect(),
                stage: stages[&s.stage],
            })
            .collect();
        Plan {
            topology: self.topology.clone(),
            steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::NsRef;

    fn up(ns: &str, link: &str) -> Action {
        Action::SetUp {
            ns: NsRef::Node(ns.into()),
            link: link.into(),
        }
    }

    fn plan() -> Plan {
        let step = |id, action, after: Vec<usize>, stage| Step {
            id,
            action,
            after,
            stage,
        };
        Plan {
            topology: "t".into(),
            steps: vec![
                step(0, up("a", "x"), vec![], 0),
                step(1, up("b", "y"), vec![], 0),
                step(2, up("a", "z"), vec![0, 1], 1),
                step(3, up("b", "w"), vec![1], 2),
                step(4, up("a", "v"), vec![2, 3], 3),
            ],
        }
    }

    #[test]
    fn kept_steps_are_renumbered_with_their_edges_and_stages() {
        let only_a = plan().restricted_to(|a| a.ns() == Some(&NsRef::Node("a".into())));
        assert_eq!(only_a.topology, "t");
        let got: Vec<(usize, Action, Vec<usize>, usize)> = only_a
            .steps
            .into_iter()
            .map(|s| (s.id, s.action, s.after, s.stage))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, up("a", "x"), vec![], 0),
                (1, up("a", "z"), vec![0], 1),
                // Stage 2 had only a dropped step: stage 3 becomes 2.
                (2, up("a", "v"), vec![1], 2),
            ]
        );
    }

    #[test]
    fn keeping_all_or_nothing() {
        assert_eq!(plan().restricted_to(|_| true), plan());
        assert!(plan().restricted_to(|_| false).is_empty());
    }
}
