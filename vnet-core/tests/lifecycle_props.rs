//! Property tests of the lifecycle rules (`vnet_core::lifecycle`) over generated valid
//! topologies, in the sandbox and on a real node:
//!
//! - a container's steps are exactly those in its namespace or on its cables;
//! - the part of a plan that starts one container is a sub-plan of it, in its order;
//! - leaves first puts no gateway before a container that routes through it;
//! - an expected state is up for every container, and it is stopped once its
//!   namespace and cables are gone;
//! - a difference is its own exactly when it is in its namespace or on its cables.
//!
//! Needs the `proptest` feature (`cargo test -p vnet-core --features proptest`).
#![cfg(feature = "proptest")]

use proptest::prelude::*;

use vnet_core::generate::strategies::valid_topology;
use vnet_core::lifecycle::{
    concerns, leaves_first, own_mismatch, start_plan, Field, Mismatch, Object, State, Whereabouts,
};
use vnet_core::plan::{compile, expected_state, Name, NsRef, Plan, Scope};
use vnet_core::ValidTopology;

fn valid(t: vnet_core::Topology) -> ValidTopology {
    vnet_core::validate(t).expect("generated topologies are valid")
}

/// Whether `sub`'s actions appear in `plan` in the same order (a subsequence).
fn is_ordered_sub_plan(sub: &Plan, plan: &Plan) -> bool {
    let mut all = plan.actions();
    sub.actions().all(|a| all.any(|b| b == a))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_containers_steps_are_its_namespace_and_its_cables(t in valid_topology()) {
        let t = valid(t);
        for scope in [Scope::Sandbox, Scope::Node(t.home_node(&t.topology().ct[0]).to_string())] {
            let plan = compile(&t, &scope);
            for c in &t.topology().ct {
                let node = t.home_node(c).to_string();
                let objects = t.ct_objects(&c.name, &node, &scope);
                for a in plan.actions() {
                    let Some(ns) = a.ns() else { continue };
                    let inside = Some(ns) == objects.ns.as_ref();
                    let on_cable = a.link().is_some_and(|l| objects.has_link(ns, l));
                    prop_assert_eq!(concerns(&objects, a), inside || on_cable, "{:?}", a);
                    if concerns(&objects, a) && !inside {
                        prop_assert!(*ns != NsRef::Ct(Name::from(&c.name)));
                    }
                }
            }
        }
    }

    #[test]
    fn a_start_plan_is_a_sub_plan_in_order(t in valid_topology()) {
        let t = valid(t);
        for c in &t.topology().ct {
            for node in t.ct_nodes(c) {
                let placed = t.placed(&c.name, node).unwrap();
                for scope in [Scope::Sandbox, Scope::Node(node.to_string())] {
                    let plan = compile(&placed, &scope);
                    let mine = start_plan(&placed, &plan, &c.name, node, &scope);
                    prop_assert!(is_ordered_sub_plan(&mine, &plan));
                    // Stages never go backwards, and every `after` points to an earlier step.
                    for w in mine.steps.windows(2) {
                        prop_assert!(w[0].stage <= w[1].stage);
                    }
                    for s in &mine.steps {
                        prop_assert!(s.after.iter().all(|a| *a < s.id));
                    }
                }
            }
        }
    }

    #[test]
    fn leaves_start_before_the_gateways_they_route_through(t in valid_topology()) {
        let t = valid(t);
        let mut names: Vec<String> = t.topology().ct.iter().map(|c| c.name.clone()).collect();
        names.reverse();
        let order = leaves_first(&t, &names).unwrap();
        prop_assert_eq!(order.len(), names.len());
        let at = |n: &str| order.iter().position(|o| *o == n).unwrap();
        for c in &t.topology().ct {
            for r in c.route.iter().filter_map(|r| r.via) {
                for g in &t.topology().ct {
                    let owns = g.veth.iter().flat_map(|v| v.addresses.iter())
                        .chain(g.nic.iter().flat_map(|n| n.addresses.iter()))
                        .chain(g.vlan.iter().flat_map(|v| v.addresses.iter()))
                        .any(|a| a.ip() == r);
                    if owns && g.name != c.name {
                        prop_assert!(at(&c.name) < at(&g.name), "{} routes through {}", c.name, g.name);
                    }
                }
            }
        }
    }

    #[test]
    fn the_expected_state_is_up_and_without_the_container_stopped(t in valid_topology()) {
        let t = valid(t);
        let expected = expected_state(&t, &Scope::Sandbox);
        for c in &t.topology().ct {
            let now = Whereabouts::in_sandbox(&t, c, &expected);
            prop_assert!(now.running() && now.cabled(), "{:?}", now);
            prop_assert_eq!(State::of(&now, &[]), State::Up);
            let node = now.node.clone().unwrap();
            let objects = t.ct_objects(&c.name, &node, &Scope::Sandbox);
            let mut gone = expected.clone();
            gone.namespaces.remove(&NsRef::Ct(Name::from(&c.name)));
            for (ns, link) in &objects.links {
                if let Some(o) = gone.namespaces.get_mut(ns) {
                    o.links.remove(link);
                }
            }
            let then = Whereabouts::in_sandbox(&t, c, &gone);
            prop_assert_eq!(State::of(&then, &[]), State::Stopped, "{:?}", then);
            // Differences of its cables are its own; of the node's other links not.
            for (ns, o) in &expected.namespaces {
                for link in o.links.keys() {
                    let m = Mismatch {
                        ns: ns.clone(),
                        object: Object::Link(link.clone()),
                        field: Field::Up,
                        desired: "true".into(),
                        found: "false".into(),
                    };
                    let mine = Some(ns) == objects.ns.as_ref() || objects.has_link(ns, link);
                    prop_assert_eq!(own_mismatch(&objects, &m), mine, "{}", m);
                }
            }
        }
    }
}
