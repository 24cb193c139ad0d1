//! A bridge's `ports`: devices of the node the bridge enslaves besides the containers'
//! host ends. On a real node they are the machine's (planned as `SetMaster`, released on
//! teardown, never created, marked or deleted, left alone in a bridge that is not vnet's);
//! in the sandbox a veth of vnet's, its other end in the node too, stands in for each.

use std::collections::BTreeSet;

use vnet_core::observed::{LinkKind, ObservedLink, ObservedState};
use vnet_core::plan::{
    compile, diff, expected_state, pristine_state, teardown, Action, LinkSpec, Name, NsRef, Plan,
    Scope,
};
use vnet_core::{Document, Format, ValidTopology};

const TOPOLOGY: &str = r#"
name = "ports"

[[node]]
name = "m1"

[[bridge]]
name = "br0"
mtu = 9000
ports = ["eth1", "bond0"]

[[subnet]]
cidr = "198.18.0.0/24"
bridge = "br0"

[[ct]]
id = 101
name = "web"
node = "m1"

[[ct.veth]]
name = "eth0"
bridge = "br0"
addresses = ["198.18.0.10/24"]
"#;

fn topology() -> ValidTopology {
    Document::parse(TOPOLOGY, Format::Toml)
        .expect("the topology parses")
        .validate()
        .expect("the topology is valid")
}

fn node() -> Scope {
    Scope::Node("m1".into())
}

fn m1() -> NsRef {
    NsRef::Node(Name::from("m1"))
}

fn set_master(port: &str) -> Action {
    Action::SetMaster {
        ns: m1(),
        link: Name::from(port),
        master: Name::from("br0"),
    }
}

fn clear_master(port: &str) -> Action {
    Action::ClearMaster {
        ns: m1(),
        link: Name::from(port),
        master: Name::from("br0"),
    }
}

/// The position of `a` in `plan`; panics with the plan when it is not there.
fn position(plan: &Plan, a: &Action) -> usize {
    plan.steps
        .iter()
        .position(|s| &s.action == a)
        .unwrap_or_else(|| panic!("{a:?} is not planned:\n{}", plan.to_json()))
}

/// Whether any action of `plan` other than `SetMaster`/`ClearMaster`/`SetUp` names `port`.
fn touches_otherwise(plan: &Plan, port: &str) -> Vec<Action> {
    plan.actions()
        .filter(|a| match a {
            Action::SetMaster { .. } | Action::ClearMaster { .. } | Action::SetUp { .. } => false,
            Action::CreateLink { spec, .. } | Action::DeleteLink { spec, .. } => {
                spec.name() == port
            }
            Action::SetMac { link, .. }
            | Action::SetMtu { link, .. }
            | Action::SetDown { link, .. }
            | Action::AddAddress { link, .. }
            | Action::DelAddress { link, .. } => link == port,
            Action::SetSysctl { sysctl, .. } => sysctl.link() == Some(port),
            _ => false,
        })
        .cloned()
        .collect()
}

#[test]
fn a_real_node_enslaves_its_own_devices_after_creating_the_bridge() {
    let t = topology();
    let plan = compile(&t, &node());
    let bridge = plan
        .steps
        .iter()
        .find(|s| matches!(&s.action, Action::CreateLink { spec, .. } if spec.name() == "br0"))
        .expect("the bridge is created");
    for port in ["eth1", "bond0"] {
        let at = position(&plan, &set_master(port));
        assert!(
            plan.steps[at].after.contains(&bridge.id),
            "enslaving {port} does not wait for the bridge"
        );
        assert_eq!(
            touches_otherwise(&plan, port),
            vec![],
            "{port} is the machine's"
        );
    }
    // The pristine state has them up already: no `SetUp` of a device in use.
    assert!(!plan
        .actions()
        .any(|a| matches!(a, Action::SetUp { link, .. } if link == "eth1")));
}

#[test]
fn teardown_on_a_real_node_releases_the_devices_and_keeps_them() {
    let t = topology();
    let plan = teardown(&t, &node());
    let bridge_gone = plan
        .steps
        .iter()
        .position(|s| matches!(&s.action, Action::DeleteLink { spec, .. } if spec.name() == "br0"))
        .expect("the bridge is deleted");
    for port in ["eth1", "bond0"] {
        assert!(position(&plan, &clear_master(port)) < bridge_gone);
        assert_eq!(
            touches_otherwise(&plan, port),
            vec![],
            "{port} is the machine's"
        );
    }
}

#[test]
fn the_expected_state_has_the_devices_in_the_bridge_unmarked() {
    let t = topology();
    let want = expected_state(&t, &node());
    let eth1 = &want.namespaces[&m1()].links["eth1"];
    assert_eq!(eth1.master.as_deref(), Some("br0"));
    assert_eq!(eth1.owner, None);
    assert!(eth1.up);
}

#[test]
fn the_sandbox_stands_a_veth_to_nowhere_in_for_each_device() {
    let t = topology();
    let plan = compile(&t, &Scope::Sandbox);
    let mut peers = Vec::new();
    for port in ["eth1", "bond0"] {
        let made = plan
            .steps
            .iter()
            .find(|s| matches!(&s.action, Action::CreateLink { spec, .. } if spec.name() == port))
            .unwrap_or_else(|| panic!("no stand-in for {port}"));
        let Action::CreateLink { ns, spec } = &made.action else {
            unreachable!("matched above")
        };
        assert_eq!(ns, &m1());
        // Both ends in the node, with the bridge's MTU (a smaller port would lower the
        // bridge's), the other end named so no topology name can clash with it.
        let LinkSpec::Veth {
            mtu: Some(9000),
            peer_ns,
            peer_name,
            ..
        } = spec
        else {
            panic!("{spec:?}")
        };
        assert_eq!(peer_ns, &m1());
        assert!(peer_name.starts_with("port+"), "{peer_name}");
        peers.push(peer_name.clone());
        let enslaved = position(&plan, &set_master(port));
        assert!(plan.steps[enslaved].after.contains(&made.id));
    }
    assert_ne!(peers[0], peers[1]);
    // The sandbox's state is what it expects, and planning again finds nothing to do.
    let want = expected_state(&t, &Scope::Sandbox);
    assert_eq!(
        want.namespaces[&m1()].links["eth1"].master.as_deref(),
        Some("br0")
    );
    assert!(diff(&t, &Scope::Sandbox, &want).is_empty());
}

/// The pristine state of the node with `eth1` changed by `change`.
fn observed_with(t: &ValidTopology, change: impl FnOnce(&mut ObservedLink)) -> ObservedState {
    let mut state = pristine_state(t, &node());
    let m1 = state.namespaces.get_mut(&m1()).expect("the node is there");
    change(
        m1.links
            .get_mut("eth1")
            .expect("the pristine state has eth1"),
    );
    state
}

#[test]
fn a_device_in_a_bridge_that_is_not_vnets_is_left_there() {
    let t = topology();
    let mut state = observed_with(&t, |l| l.master = Some("lanbr".into()));
    state
        .namespaces
        .get_mut(&m1())
        .expect("the node is there")
        .links
        .insert(
            "lanbr".into(),
            ObservedLink {
                kind: LinkKind::Bridge { stp: false },
                mac: None,
                mtu: 1500,
                up: true,
                master: None,
                owner: None,
                addresses: BTreeSet::new(),
            },
        );
    let plan = diff(&t, &node(), &state);
    let named: Vec<&Action> = plan
        .actions()
        .filter(|a| matches!(a, Action::SetMaster { link, .. } | Action::ClearMaster { link, .. } if link == "eth1"))
        .collect();
    assert_eq!(named, Vec::<&Action>::new());
    // bond0 is free and goes in as usual.
    position(&plan, &set_master("bond0"));
}

#[test]
fn a_device_that_is_down_is_brought_up_and_one_in_place_is_not_touched() {
    let t = topology();
    let plan = diff(&t, &node(), &observed_with(&t, |l| l.up = false));
    let up = Action::SetUp {
        ns: m1(),
        link: Name::from("eth1"),
    };
    assert!(position(&plan, &up) > 0);
    // Applied, the state is as expected and the next diff leaves the devices alone.
    let mut done = expected_state(&t, &node());
    for l in done
        .namespaces
        .get_mut(&m1())
        .expect("the node")
        .links
        .values_mut()
    {
        l.mac = l.mac.or(Some(vnet_core::model::Mac::new(2, 0, 0, 0, 0, 1)));
    }
    let again = diff(&t, &node(), &done);
    assert!(
        !again.actions().any(|a| format!("{a:?}").contains("eth1")),
        "{}",
        again.to_json()
    );
}
