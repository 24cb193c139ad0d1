//! `lo` in namespaces vnet did not create (issue 16): on a real node a container's
//! namespace is its runtime's, and `ip netns add` or LXC leave `lo` down. The plan brings
//! it up (compile and repair alike), never marks it, and a teardown leaves it up; the
//! sandbox's `CreateNamespace` does it there, so its plans have no such step.

use vnet_core::plan::{compile, diff, expected_state, teardown, Action, Name, NsRef, Plan, Scope};
use vnet_core::{Document, Format, ValidTopology};

fn seed() -> ValidTopology {
    Document::parse(include_str!("../../examples/seed.toml"), Format::Toml)
        .expect("the seed parses")
        .validate()
        .expect("the seed is valid")
}

fn lo_up(ns: NsRef) -> Action {
    Action::SetUp {
        ns,
        link: Name::from("lo"),
    }
}

fn ups_of_lo(plan: &Plan) -> Vec<NsRef> {
    plan.actions()
        .filter_map(|a| match a {
            Action::SetUp { ns, link } if link.as_str() == "lo" => Some(ns.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_node_plan_brings_up_lo_of_each_container_and_not_of_the_node() {
    let t = seed();
    let plan = compile(&t, &Scope::Node("m1".into()));
    let cts = ["dbms", "mail", "router"].map(|c| NsRef::Ct(Name::from(c)));
    assert_eq!(ups_of_lo(&plan), cts.to_vec(), "{}", plan.to_json());
    // The sandbox creates its namespaces with `lo` up: no separate step.
    assert!(ups_of_lo(&compile(&t, &Scope::Sandbox)).is_empty());
}

#[test]
fn the_repair_plan_brings_lo_up_where_it_is_down_and_only_there() {
    let t = seed();
    let scope = Scope::Node("m1".into());
    let mut observed = expected_state(&t, &scope);
    assert!(diff(&t, &scope, &observed).is_empty(), "built is converged");
    let dbms = NsRef::Ct(Name::from("dbms"));
    let lo = observed
        .namespaces
        .get_mut(&dbms)
        .and_then(|n| n.links.get_mut("lo"))
        .expect("dbms holds lo");
    lo.up = false;
    let plan = diff(&t, &scope, &observed);
    assert_eq!(
        plan.actions().cloned().collect::<Vec<_>>(),
        vec![lo_up(dbms.clone())],
        "{}",
        plan.to_json()
    );
    // Its inverse (a rollback) puts `lo` back down, as it was found.
    assert_eq!(
        lo_up(dbms.clone()).inverse(),
        Action::SetDown {
            ns: dbms,
            link: Name::from("lo")
        }
    );
}

#[test]
fn a_node_teardown_leaves_lo_alone() {
    let t = seed();
    let down = teardown(&t, &Scope::Node("m1".into()));
    assert!(
        !down.actions().any(|a| matches!(a,
            Action::SetDown { link, .. } | Action::SetUp { link, .. } if link.as_str() == "lo")),
        "{}",
        down.to_json()
    );
}
