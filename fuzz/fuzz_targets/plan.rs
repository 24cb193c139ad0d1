//! Fuzz target: compile, teardown and diff never panic on valid-by-construction
//! topologies, and every plan they make is ordered (each step only needs earlier steps).
//!
//! The input seeds proptest's generator of valid topologies (`vnet_core::generate::
//! strategies::valid_topology`), so every run plans a topology that validates; the rest
//! of the input picks a perturbation of the expected state (a link or an address of some
//! namespace removed, a MAC changed) that `diff` must repair with an ordered plan.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use vnet_core::plan::{compile, diff, expected_state, teardown, Plan, Scope};
use vnet_core::validate;

fn assert_ordered(plan: &Plan) {
    for (i, step) in plan.steps.iter().enumerate() {
        assert_eq!(step.id, i, "step ids are positions");
        for &a in &step.after {
            assert!(a < step.id, "step {} needs later step {a}", step.id);
            assert!(plan.steps[a].stage < step.stage, "a prerequisite in the same stage");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 32 {
        return;
    }
    let (seed, rest) = data.split_at(32);
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, seed);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let Ok(tree) = vnet_core::generate::strategies::valid_topology().new_tree(&mut runner) else {
        return;
    };
    let valid = validate(tree.current()).expect("the generator makes valid topologies");

    let mut scopes = vec![Scope::Sandbox];
    scopes.extend(valid.topology().node.iter().map(|n| Scope::Node(n.name.clone())));
    for scope in &scopes {
        assert_ordered(&compile(&valid, scope));
        assert_ordered(&teardown(&valid, scope));

        // Perturb what the topology should produce, then ask for the repair.
        let mut observed = expected_state(&valid, scope);
        for (k, byte) in rest.iter().enumerate() {
            let Some((_, ns)) = observed.namespaces.iter_mut().nth(usize::from(*byte) % 8) else {
                continue;
            };
            let Some(name) = ns.links.keys().nth(k % 4).cloned() else {
                continue;
            };
            match byte % 3 {
                0 => {
                    ns.links.remove(&name);
                }
                1 => {
                    if let Some(link) = ns.links.get_mut(&name) {
                        link.addresses.clear();
                    }
                }
                _ => {
                    if let Some(link) = ns.links.get_mut(&name) {
                        link.mac = Some(vnet_core::model::Mac::new(2, 0, 0, 0, 0, *byte));
                    }
                }
            }
        }
        assert_ordered(&diff(&valid, scope, &observed));
    }
});
