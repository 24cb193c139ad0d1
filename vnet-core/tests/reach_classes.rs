//! The class-based verify plan decides what the full matrix decides: for generated
//! topologies, every pair's expected verdict equals the verdict of the class probe that
//! stands for it, the class probes stand for every pair exactly once, and the plan grows
//! linearly with the containers.

use std::collections::BTreeMap;
use std::net::IpAddr;

use vnet_core::generate::{large, LargeParams};
use vnet_core::plan::NsRef;
use vnet_core::reach::{by_class, expectations, full, plan, Network, Role};
use vnet_core::ValidTopology;

/// Each namespace's addresses in the simulation's order.
fn slots(t: &ValidTopology) -> BTreeMap<NsRef, Vec<IpAddr>> {
    let mut out: BTreeMap<NsRef, Vec<IpAddr>> = BTreeMap::new();
    for (ns, a) in Network::from_topology(t).addresses() {
        out.entry(ns).or_default().push(a);
    }
    out
}

/// Checks the plan of `t` against its full matrix; returns how many probes it has.
fn agrees_with_the_full_matrix(t: &ValidTopology) -> usize {
    let p = by_class(t);
    let slots = slots(t);
    let slot = |ns: &NsRef, a: IpAddr| slots[ns].iter().position(|x| *x == a).unwrap();
    let class_of: BTreeMap<&NsRef, usize> = p
        .classes
        .iter()
        .enumerate()
        .flat_map(|(k, members)| members.iter().map(move |m| (m, k)))
        .collect();
    let mut verdicts = BTreeMap::new();
    for probe in &p.probes {
        if let Role::Class { from, to } = probe.role {
            let e = &probe.expectation;
            let prev = verdicts.insert((from, to, slot(&e.to_ns, e.to)), e.reachable);
            assert!(prev.is_none(), "two probes for one class pair: {e:?}");
        }
    }
    let all = expectations(t);
    assert_eq!(p.pairs, all.len());
    assert_eq!(
        p.probes.iter().map(|x| x.stands_for).sum::<usize>(),
        all.len()
    );
    for e in &all {
        let key = (class_of[&e.from], class_of[&e.to_ns], slot(&e.to_ns, e.to));
        let verdict = verdicts
            .get(&key)
            .unwrap_or_else(|| panic!("no class probe stands for {e:?}"));
        assert_eq!(
            *verdict, e.reachable,
            "{e:?} differs from its class probe {key:?}; classes {:?}",
            p.classes
        );
    }
    // Endpoint checks expect an answer, and each is a pair of the matrix.
    for probe in p.probes.iter().filter(|x| x.role == Role::Endpoint) {
        assert!(probe.expectation.reachable);
        assert!(all.contains(&probe.expectation));
    }
    p.probes.len()
}

#[test]
fn a_small_topology_keeps_the_full_matrix_by_default() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/seed.toml"
    ))
    .unwrap();
    let t = vnet_core::Document::parse(&text, vnet_core::Format::Toml)
        .unwrap()
        .validate()
        .unwrap();
    // mail and dbms are alike (same bridge, subnet and routes)...
    let classes = by_class(&t).classes;
    assert_eq!(classes.len(), 3, "{classes:?}");
    // ...but 15 pairs are few: the default plan probes them all.
    let p = plan(&t);
    assert!(p.probes.iter().all(|x| x.role == Role::Pair));
    let planned: Vec<_> = p.probes.iter().map(|x| x.expectation.clone()).collect();
    let mut sorted = planned.clone();
    sorted.sort();
    assert_eq!(sorted, expectations(&t));
    assert_eq!(full(&t).probes.len(), 15);
    agrees_with_the_full_matrix(&t);
}

#[test]
fn large_topologies_fall_into_few_classes_and_a_linear_plan() {
    for (cts, per_bridge) in [(60, 20), (120, 50)] {
        let params = LargeParams {
            per_bridge,
            routers: 2,
            ..LargeParams::new(cts)
        };
        let t = vnet_core::validate(large(&params)).unwrap();
        let probes = agrees_with_the_full_matrix(&t);
        let classes = by_class(&t).classes.len();
        // Class pairs (a router has two addresses) plus one per two endpoints.
        let bound = 2 * classes * classes + cts.div_ceil(2) + 2;
        assert!(probes <= bound, "{probes} probes for {cts} containers");
    }
}

#[test]
fn a_thousand_containers_need_about_one_probe_per_two_endpoints() {
    let t = vnet_core::validate(large(&LargeParams::new(1000))).unwrap();
    let p = plan(&t);
    assert!(p.probes.iter().any(|x| x.stands_for > 1000));
    assert_eq!(
        p.classes.len(),
        3,
        "{:?}",
        p.classes.iter().map(Vec::len).collect::<Vec<_>>()
    );
    // 1002 namespaces with 1003 addresses (the router has two), less their own.
    assert_eq!(p.pairs, 1002 * 1003 - 1003);
    assert!(p.probes.len() <= 520, "{} probes", p.probes.len());
    // Every namespace is in some probe.
    let mut seen = std::collections::BTreeSet::new();
    for x in &p.probes {
        seen.insert(x.expectation.from.clone());
        seen.insert(x.expectation.to_ns.clone());
    }
    assert_eq!(seen.len(), 1002);
}

#[cfg(feature = "proptest")]
mod props {
    use proptest::prelude::*;
    use vnet_core::generate::strategies::valid_topology;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn class_verdicts_equal_the_full_matrix(t in valid_topology()) {
            let t = vnet_core::validate(t).unwrap();
            super::agrees_with_the_full_matrix(&t);
        }
    }
}
