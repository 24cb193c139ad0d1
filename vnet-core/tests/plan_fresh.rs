//! `compile` of a sandbox takes a shortcut (`plan/fresh.rs`: the plan emitted straight
//! from the desired state, no diff) that must plan exactly what `diff` plans from
//! nothing: byte-identical JSON for the kernel model's topologies, the generator's
//! arbitrary valid topologies and `generate::large` at a few sizes.

mod kernel_model;

use proptest::prelude::*;

use kernel_model::topologies::{choice, valid};
use vnet_core::generate::{large, strategies::valid_topology, LargeParams};
use vnet_core::observed::ObservedState;
use vnet_core::plan::{compile, diff, Scope};
use vnet_core::ValidTopology;

/// The shortcut's plan and the diff's, as JSON.
fn both(t: &ValidTopology) -> (String, String) {
    (
        compile(t, &Scope::Sandbox).to_json(),
        diff(t, &Scope::Sandbox, &ObservedState::empty()).to_json(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn sandbox_compile_equals_the_diff_from_nothing(c in choice()) {
        let (fast, general) = both(&valid(&c));
        prop_assert_eq!(fast, general);
    }

    #[test]
    fn generated_topologies_agree(t in valid_topology()) {
        // The generator aims at valid topologies; one it gets wrong proves nothing here.
        if let Ok(t) = vnet_core::validate(t) {
            let (fast, general) = both(&t);
            prop_assert_eq!(fast, general);
        }
    }
}

#[test]
fn large_topologies_agree() {
    for cts in [1, 7, 1_001, 2_500] {
        let t = vnet_core::validate(large(&LargeParams::new(cts))).expect("large() is valid");
        let (fast, general) = both(&t);
        assert!(fast == general, "{cts} containers: the plans differ");
    }
}
