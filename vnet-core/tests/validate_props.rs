//! Properties of validation over generated topologies: valid ones validate clean, one
//! injected mistake gives exactly its rule, and TOML/JSON round-trips keep the model.
//!
//! Needs the `proptest` feature (`cargo test -p vnet-core --features proptest`).
#![cfg(feature = "proptest")]

use proptest::prelude::*;
use vnet_core::generate::strategies::{
    any_topology, inject, mistake, topology_with_mistake, valid_topology, Mistake,
};
use vnet_core::source::{to_json, to_toml};
use vnet_core::{validate, Document, Format, Rule};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn generated_topologies_validate_clean(t in valid_topology()) {
        if let Err(d) = validate(t.clone()) {
            prop_assert!(false, "{}\n{}", d.0.iter().map(|x| format!("{x}\n")).collect::<String>(), to_toml(&t));
        }
    }

    #[test]
    fn one_mistake_gives_exactly_its_rule((t, rule) in topology_with_mistake()) {
        let d = validate(t.clone()).expect_err("a mistake must be found");
        let others: Vec<String> = d.0.iter().filter(|x| x.rule != rule).map(|x| x.to_string()).collect();
        prop_assert!(others.is_empty(), "expected only {rule}, also got {others:?}\n{}", to_toml(&t));
        prop_assert!(!d.0.is_empty());
    }

    #[test]
    fn several_mistakes_never_panic_and_are_found(
        t in valid_topology(),
        ms in prop::collection::vec(mistake(), 1..=4),
    ) {
        let mut t = t;
        let mut rules: Vec<_> = ms.iter().map(|m| inject(&mut t, *m)).collect();
        // A later mistake that writes the same field undoes an earlier one: keep the last
        // of each such group.
        let mut last_of_group = std::collections::BTreeMap::new();
        for (i, m) in ms.iter().enumerate() {
            if let Some(g) = overwrites(*m) {
                last_of_group.insert(g, i);
            }
        }
        let keep: Vec<bool> = ms
            .iter()
            .enumerate()
            .map(|(i, m)| overwrites(*m).is_none_or(|g| last_of_group[&g] == i))
            .collect();
        let mut k = keep.iter();
        rules.retain(|_| *k.next().unwrap_or(&true));
        let d = validate(t).expect_err("mistakes must be found");
        // The size caps stop the other rules, so only without them is every rule seen.
        if !rules.contains(&Rule::LimitExceeded) {
            for r in &rules {
                prop_assert!(d.has(*r), "{r} missing from {d}");
            }
        }
    }

    #[test]
    fn validation_never_panics_on_arbitrary_topologies(t in any_topology()) {
        // Valid or not, it returns; when invalid, every finding names an element.
        if let Err(d) = validate(t) {
            prop_assert!(d.0.iter().all(|x| !x.path.is_empty() && !x.message.is_empty()));
        }
    }

    #[test]
    fn toml_and_json_round_trip(t in valid_topology()) {
        let toml = to_toml(&t);
        let back = Document::parse(&toml, Format::Toml).map_err(|e| TestCaseError::fail(format!("{e}\n{toml}")))?;
        prop_assert_eq!(&back.topology, &t);
        let json = to_json(&back.topology);
        let again = Document::parse(&json, Format::Json).map_err(|e| TestCaseError::fail(format!("{e}\n{json}")))?;
        prop_assert_eq!(&again.topology, &t);
    }
}

/// The field a mistake writes when another mistake writes it too.
fn overwrites(m: Mistake) -> Option<u8> {
    match m {
        Mistake::NameTooLong
        | Mistake::NameInvalid
        | Mistake::NameReserved
        | Mistake::NameDuplicate => Some(0),
        Mistake::MacInvalid | Mistake::MacDuplicate => Some(1),
        // Each stretches br0 and sets (or clears) the nodes' underlays.
        Mistake::StretchUnderlay | Mistake::StretchMtu | Mistake::StretchVni => Some(2),
        // A default route reaches every address, the forward's target too; that mistake
        // removes the router's default routes.
        Mistake::DefaultRouteDuplicate
        | Mistake::DefaultRouteVenet
        | Mistake::ForwardTargetUnreachable => Some(3),
        _ => None,
    }
}

/// Every mistake is reachable and names its own rule, so the property above covers all.
#[test]
fn every_mistake_has_a_distinct_rule() {
    let rules: std::collections::BTreeSet<_> = Mistake::ALL.iter().map(|m| m.rule()).collect();
    assert_eq!(rules.len(), Mistake::ALL.len());
    // An unknown key is a mistake of the text; a `Topology` value cannot hold one (the
    // tests of `Document::parse` cover it). A warning is no mistake: the topology stays
    // valid (validate_rules.rs tests `allow-shadowed`).
    let model_rules = vnet_core::Rule::ALL
        .iter()
        .filter(|r| **r != vnet_core::Rule::UnknownKey && !r.is_warning())
        .count();
    assert_eq!(rules.len(), model_rules, "a rule has no mistake");
}
