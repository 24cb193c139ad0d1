//! A plan as JSON: stable (fields in declaration order, pretty, steps in plan order) so
//! plans can be stored, compared byte for byte and read back.

use serde::de::Error as _;

use super::Plan;

impl Plan {
    /// The plan as pretty JSON; the same plan always gives the same bytes.
    pub fn to_json(&self) -> String {
        // A plan holds only strings, numbers and enums: serializing cannot fail.
        serde_json::to_string_pretty(self).expect("a plan always serializes")
    }

    /// Reads a plan written by [`Plan::to_json`], checking that the steps are numbered
    /// from 0 in order and each comes after only earlier steps.
    pub fn from_json(text: &str) -> Result<Plan, serde_json::Error> {
        let plan: Plan = serde_json::from_str(text)?;
        for (i, step) in plan.steps.iter().enumerate() {
            if step.id != i {
                return Err(serde_json::Error::custom(format!(
                    "step {i} has id {}; steps are numbered from 0 in order",
                    step.id
                )));
            }
            if let Some(bad) = step.after.iter().find(|a| **a >= i) {
                return Err(serde_json::Error::custom(format!(
                    "step {i} comes after step {bad}, which is not before it"
                )));
            }
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::{Action, NsRef, Plan, Step};

    fn plan(after: Vec<usize>) -> Plan {
        let ns = NsRef::Ct("a".into());
        Plan {
            topology: "lab".into(),
            steps: vec![
                Step {
                    id: 0,
                    action: Action::CreateNamespace { ns: ns.clone() },
                    after: vec![],
                    stage: 0,
                },
                Step {
                    id: 1,
                    action: Action::SetUp {
                        ns,
                        link: "eth0".into(),
                    },
                    after,
                    stage: 1,
                },
            ],
        }
    }

    #[test]
    fn round_trips_and_rejects_steps_out_of_order() {
        let p = plan(vec![0]);
        let text = p.to_json();
        assert_eq!(Plan::from_json(&text).unwrap(), p);
        assert_eq!(Plan::from_json(&text).unwrap().to_json(), text);
        let bad = plan(vec![1]).to_json();
        let err = Plan::from_json(&bad).unwrap_err().to_string();
        assert!(err.contains("step 1 comes after step 1"), "{err}");
    }
}
