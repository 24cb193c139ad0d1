//! The seed's node m1 as an admin builds it by hand, imported, checked, and adopted.

use super::*;
use crate::plan::{adopt, diff_adopted, expected_state, Name, RouteSpec, Scope};
use crate::{Document, Format, ValidTopology};

fn seed() -> ValidTopology {
    let text = include_str!("../../../examples/seed.toml");
    Document::parse(text, Format::Toml)
        .expect("seed parses")
        .validate()
        .expect("seed is valid")
}

/// m1 built by hand: the seed's expected state without marks, the NIC a hardware
/// device with a MAC, routes of protocol `boot` through `eth0`, NAT in the admin's table.
fn by_hand() -> Survey {
    let t = seed();
    let mut state = expected_state(&t, &Scope::Node("m1".into()));
    for ns in state.namespaces.values_mut() {
        for l in ns.links.values_mut() {
            l.owner = None;
            if l.mtu == 0 {
                l.mtu = 1500;
            }
        }
        let routes = std::mem::take(&mut ns.routes);
        ns.foreign_routes = routes
            .into_iter()
            .map(|r| {
                let dev = Some(Name::from("eth0"));
                (RouteSpec { dev, ..r }, 3)
            })
            .collect();
    }
    let router = NsRef::Ct("router".into());
    let eth1 = state
        .namespaces
        .get_mut(&router)
        .and_then(|n| n.links.get_mut("eth1"))
        .expect("the router's NIC");
    eth1.mac = Some([2, 0, 0, 0, 0, 0x46].into());
    let cables = [("router", "veth1"), ("mail", "veth2"), ("dbms", "veth3")]
        .into_iter()
        .map(|(ct, host)| ((ct.to_string(), "eth0".to_string()), host.to_string()))
        .collect();
    let rule = NatRule {
        source: "192.168.199.0/24".parse().expect("prefix"),
        out: "eth1".into(),
    };
    Survey {
        node: "m1".into(),
        state,
        cables,
        nat: BTreeMap::from([(router, BTreeSet::from([rule]))]),
        netns: BTreeMap::new(),
    }
}

#[test]
fn a_hand_built_m1_imports_to_a_valid_topology_that_adopts_without_changes() {
    let survey = by_hand();
    let imported = topology("article", &survey);
    assert!(imported.notes.is_empty(), "{:?}", imported.notes);
    let text = toml::to_string(&imported.topology).expect("TOML");
    let t = Document::parse(&text, Format::Toml)
        .expect("parses")
        .validate()
        .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    for want in [
        "host_name = \"veth2\"",
        "mac = \"00:12:34:56:78:9D\"",
        "192.168.199.3/24",
        "to = \"192.168.0.0/16\"",
        "ipv4 = true",
        "out = \"eth1\"",
        "lan = \"router-eth1\"",
    ] {
        assert!(text.contains(want), "{want} in\n{text}");
    }
    let scope = Scope::Node("m1".into());
    let adopted = adopt(&t, &scope, &survey.state).expect("it matches what it was read from");
    let plan = diff_adopted(&t, &scope, &adopted);
    let other: Vec<_> = plan
        .actions()
        .filter(|a| !matches!(a, crate::plan::Action::Adopt { .. }))
        .collect();
    // The NAT rule moves into vnet's table: the one change.
    assert_eq!(other.len(), 1, "{other:?}");
    assert!(matches!(other[0], crate::plan::Action::SetRuleset { .. }));
}

#[test]
fn a_veth_without_an_end_on_the_node_is_noted_not_imported() {
    let mut survey = by_hand();
    survey
        .cables
        .remove(&("mail".to_string(), "eth0".to_string()));
    let imported = topology("article", &survey);
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("ct mail: veth eth0")),
        "{:?}",
        imported.notes
    );
    // Its other end stays in the bridge, as one of the node's own devices.
    assert_eq!(imported.topology.bridge[0].ports, vec!["veth2".to_string()]);
}
