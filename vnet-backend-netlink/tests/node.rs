//! A real node (`Scope::Node`): the node's own namespace (explicitly allowed) and
//! containers' namespaces found by pid, as on an OpenVZ host. The "node" here is the
//! test's private namespace and the "containers" are [`vnet_testkit::Container`]s in it.

use vnet_core::plan::Name;

use vnet_backend_netlink::{ApplyOptions, Backend, NamespaceMap, NsLocation};
use vnet_core::plan::{NsRef, Scope};
use vnet_core::{Document, Format};
use vnet_testkit::{isolated, run, snapshot, succeeds, Container};

/// The seed's containers, started, on a node (the test's namespace) with lo up and the
/// router's uplink NIC `eth1` there before it is passed in.
fn seed_cts() -> Vec<Container> {
    let cts = ["router", "mail", "dbms"].map(Container::start).into();
    run(&["ip", "link", "set", "lo", "up"]);
    run(&[
        "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "lanport",
    ]);
    cts
}

/// A backend for node m1 (the test's namespace, explicitly allowed) with `cts` found by
/// pid.
fn seed_backend(cts: &[Container]) -> Backend {
    let mut map = NamespaceMap::explicit()
        .with(NsRef::Node("m1".into()), NsLocation::Current)
        .allow_current();
    for ct in cts {
        map = map.with(NsRef::Ct(Name::from(ct.name())), NsLocation::Pid(ct.pid()));
    }
    Backend::new(map)
}

#[test]
fn seed_on_a_real_node_with_containers_by_pid() {
    isolated("seed_on_a_real_node_with_containers_by_pid", || {
        let t = Document::parse(include_str!("../../examples/seed.toml"), Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        let cts = seed_cts();
        let ct = |n: &str| cts.iter().find(|c| c.name() == n).unwrap();
        // A NIC with jumbo frames: the topology gives no `mtu`, so vnet leaves it as it is
        // and must not expect the kernel's default.
        run(&["ip", "link", "set", "eth1", "mtu", "9000"]);
        let b = seed_backend(&cts);
        let scope = Scope::Node("m1".into());
        let report = b.apply(&t, &scope, &ApplyOptions::default()).unwrap();
        assert!(report.verified);

        let ports = run(&["ip", "-j", "link", "show", "master", "br0"]);
        for p in ["veth1", "veth2", "veth3"] {
            assert!(ports.contains(p), "{p} on br0: {ports}");
        }
        assert!(
            !succeeds(&["ip", "link", "show", "eth1"]),
            "eth1 left the node"
        );
        let router = ct("router").run(&["ip", "-br", "address", "show"]);
        assert!(
            router.contains("eth1") && router.contains("192.168.46.200/24"),
            "{router}"
        );
        assert!(router.contains("192.168.199.1/24"), "{router}");
        assert!(
            (0..5).any(|_| ct("mail").succeeds(&["ping", "-c1", "-W1", "192.168.199.1"])),
            "mail reaches the router over the node's bridge"
        );
        let again = b.apply(&t, &scope, &ApplyOptions::default()).unwrap();
        assert_eq!(again.mutating_requests, 0, "{:?}", again.plan);

        b.destroy(&t, &scope).unwrap();
        assert!(!succeeds(&["ip", "link", "show", "br0"]), "bridge gone");
        assert!(!succeeds(&["ip", "link", "show", "veth1"]), "veth gone");
        assert!(
            succeeds(&["ip", "link", "show", "eth1"]),
            "the NIC is back on the node"
        );
        let router = ct("router").run(&["ip", "-br", "link", "show"]);
        assert!(
            !router.contains("eth0") && !router.contains("eth1"),
            "{router}"
        );
        b.destroy(&t, &scope).unwrap();
        drop(cts);
    });
}

/// The router's own `eth1` (made inside the container, not vnet's) holds the name the
/// NIC would get there: the apply is refused before any change, naming the link, and
/// the NIC stays on the node.
#[test]
fn a_nic_whose_name_a_containers_own_link_holds_is_refused_before_any_change() {
    isolated(
        "a_nic_whose_name_a_containers_own_link_holds_is_refused_before_any_change",
        || {
            let t = Document::parse(include_str!("../../examples/seed.toml"), Format::Toml)
                .unwrap()
                .validate()
                .unwrap();
            let cts = seed_cts();
            let router = cts.iter().find(|c| c.name() == "router").unwrap();
            router.run(&[
                "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "x1",
            ]);
            let links = || router.run(&["ip", "-d", "link", "show"]);
            let (node_before, router_before) = (snapshot(), links());
            let b = seed_backend(&cts);
            let err = b
                .apply(&t, &Scope::Node("m1".into()), &ApplyOptions::default())
                .unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("link eth1") && text.contains("router"),
                "{text}"
            );
            assert_eq!(
                err.kind(),
                vnet_backend_netlink::ErrorKind::Conflict,
                "{err:?}"
            );
            assert_eq!(node_before, snapshot(), "the node is as it was");
            assert_eq!(router_before, links(), "the router is as it was");
            drop(cts);
        },
    );
}
