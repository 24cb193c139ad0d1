//! macvlans in the planner, against the in-memory kernel: the example builds from
//! nothing; a macvlan whose parent (in the node's namespace) the repair deletes goes
//! with it, and the repair makes it again.

mod kernel_model;

use kernel_model::Kernel;
use vnet_core::model::{Mac, MacvlanMode};
use vnet_core::plan::{
    compile, diff, expected_state, pristine_state, Action, LinkSpec, NsRef, Scope,
};
use vnet_core::{Document, Format, ValidTopology};

fn example() -> ValidTopology {
    Document::parse(include_str!("../../examples/macvlan.toml"), Format::Toml)
        .unwrap()
        .validate()
        .unwrap()
}

#[test]
fn the_example_builds_from_nothing_as_expected() {
    let t = example();
    let mut k = Kernel::from_observed(t.name(), &pristine_state(&t, &Scope::Sandbox));
    k.apply(&compile(&t, &Scope::Sandbox)).unwrap();
    assert_eq!(k.observe(), expected_state(&t, &Scope::Sandbox));
    assert!(diff(&t, &Scope::Sandbox, &k.observe()).is_empty());
}

#[test]
fn a_macvlan_goes_with_the_parent_the_repair_replaces() {
    let t = example();
    let s = Scope::Sandbox;
    let mut k = Kernel::from_observed(t.name(), &pristine_state(&t, &s));
    k.apply(&compile(&t, &s)).unwrap();
    // m1's eth1 replaced by a bridge of ours, with web's and mail's macvlans on it: the
    // repair must delete it (wrong kind), which takes the macvlans along.
    let (m1, lan) = (NsRef::Node("m1".into()), NsRef::Lan("lan46".into()));
    let seen = k.observe();
    let eth1 = LinkSpec::from_observed(&m1, "eth1", &seen.namespaces[&m1].links["eth1"]);
    k.execute(&Action::DeleteLink {
        ns: m1.clone(),
        spec: eth1,
    })
    .unwrap();
    assert!(k.link(&lan, "mv+0").is_none(), "the peer went too");
    k.execute(&Action::CreateLink {
        ns: m1.clone(),
        spec: LinkSpec::Bridge {
            name: "eth1".into(),
            mac: Mac::new(2, 0, 0, 0, 0xee, 1),
            stp: false,
            mtu: None,
        },
    })
    .unwrap();
    for (ct, mac) in [("web", 2u8), ("mail", 3)] {
        k.execute(&Action::CreateLink {
            ns: NsRef::Ct(ct.into()),
            spec: LinkSpec::Macvlan {
                name: "eth0".into(),
                parent_ns: m1.clone(),
                parent: "eth1".into(),
                mode: MacvlanMode::Bridge,
                mac: Mac::new(2, 0, 0, 0, 0xee, mac),
                mtu: None,
            },
        })
        .unwrap();
    }
    let repair = diff(&t, &s, &k.observe());
    k.apply(&repair)
        .unwrap_or_else(|(i, e)| panic!("step {i}: {e}\n{repair:?}"));
    assert_eq!(k.observe(), expected_state(&t, &s));
}
