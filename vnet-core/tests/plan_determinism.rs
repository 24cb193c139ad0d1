//! The plan does not depend on the order elements are written in: the same topology
//! with its containers, bridges, subnets and LAN hosts shuffled compiles to a
//! byte-identical JSON plan, in both scopes, and so does its teardown.

mod kernel_model;

use proptest::prelude::*;

use kernel_model::topologies::{build, choice};
use vnet_core::plan::{compile, teardown, Scope};

fn shuffled<T: Clone + std::fmt::Debug>(v: Vec<T>) -> impl Strategy<Value = Vec<T>> {
    Just(v).prop_shuffle()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn shuffled_input_gives_byte_identical_plans(
        (t, cts, bridges, subnets, hosts) in choice().prop_flat_map(|c| {
            let t = build(&c);
            let hosts = t.lan.first().map(|l| l.host.clone()).unwrap_or_default();
            (
                Just(t.clone()),
                shuffled(t.ct.clone()),
                shuffled(t.bridge.clone()),
                shuffled(t.subnet.clone()),
                shuffled(hosts),
            )
        })
    ) {
        let mut other = t.clone();
        other.ct = cts;
        other.bridge = bridges;
        other.subnet = subnets;
        if let Some(lan) = other.lan.first_mut() {
            lan.host = hosts;
        }
        let a = vnet_core::validate(t).expect("generated topologies are valid");
        let b = vnet_core::validate(other).expect("a shuffle stays valid");
        for scope in [Scope::Sandbox, Scope::Node("m1".into())] {
            prop_assert_eq!(compile(&a, &scope).to_json(), compile(&b, &scope).to_json());
            prop_assert_eq!(teardown(&a, &scope).to_json(), teardown(&b, &scope).to_json());
        }
    }
}
