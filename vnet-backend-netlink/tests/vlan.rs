//! The NAT+VLAN example (`examples/nat-vlan.toml`, its addresses moved into 198.18.0.0/15)
//! on a kernel with 802.1Q: in a QEMU guest with Debian's kernel where this machine's
//! kernel has no 802.1Q (see `vnet_testkit::vm`). The VLAN links exist with their ids, traffic
//! crosses both VLANs (masqueraded, IPv6 routed), a fault at every step rolls back to the
//! state before, and destroy leaves nothing.

use vnet_backend_netlink::{ApplyOptions, Backend, Error, NamespaceMap};
use vnet_core::plan::Scope;
use vnet_core::{Document, Format, ValidTopology};
use vnet_testkit::vm::vlan_kernel;
use vnet_testkit::{fault_at_every_step, ip_json, link, ping, run, snapshot};

/// The example with its IPv4 networks 192.168.N.0/24 moved to 198.18.N.0/24 (the test
/// address range); the example file itself stays as the article has it.
fn nat_vlan() -> ValidTopology {
    let text = include_str!("../../examples/nat-vlan.toml").replace("192.168.", "198.18.");
    assert!(text.contains("198.18.10.200/24"), "nat-vlan.toml changed");
    Document::parse(&text, Format::Toml)
        .expect("parses")
        .validate()
        .expect("valid")
}

fn backend() -> Backend {
    Backend::new(NamespaceMap::sandbox("vnet"))
}

/// Asserts that `ns` has the VLAN link `name` on `parent` with 802.1Q id `id`.
fn assert_vlan(ns: &str, name: &str, parent: &str, id: u64) {
    let l = link(ns, name);
    let info = &l["linkinfo"];
    assert_eq!(info["info_kind"], "vlan", "{ns} {name}: {l}");
    assert_eq!(info["info_data"]["protocol"], "802.1Q", "{ns} {name}: {l}");
    assert_eq!(info["info_data"]["id"], id, "{ns} {name}: {l}");
    assert_eq!(l["link"], parent, "{ns} {name}: {l}");
}

#[test]
fn nat_vlan_network_crosses_both_vlans_and_destroy_leaves_nothing() {
    vlan_kernel(
        "nat_vlan_network_crosses_both_vlans_and_destroy_leaves_nothing",
        || {
            let t = nat_vlan();
            let b = backend();
            let before = snapshot();
            let report = b
                .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert!(report.verified && report.exec.applied == report.plan.len());

            assert_vlan("vnet-router", "eth1.10", "eth1", 10);
            assert_vlan("vnet-router", "eth1.20", "eth1", 20);
            assert_vlan("vnet-h10", "eth0.10", "eth0", 10);
            assert_vlan("vnet-h20", "eth0.20", "eth0", 20);
            let addrs = ip_json("vnet-router", &["address", "show", "dev", "eth1.20"]);
            let text = addrs.to_string();
            assert!(
                text.contains("198.18.20.200") && text.contains("fd00:20::200"),
                "{text}"
            );

            // The router reaches each VLAN's host over its tagged link.
            assert!(
                ping("vnet-router", "198.18.10.1"),
                "router -> h10 (VLAN 10)"
            );
            assert!(
                ping("vnet-router", "198.18.20.1"),
                "router -> h20 (VLAN 20)"
            );
            // mail is masqueraded onto both VLANs: the hosts know only the router.
            assert!(ping("vnet-mail", "198.18.10.1"), "mail -> h10 through NAT");
            assert!(ping("vnet-dbms", "198.18.20.1"), "dbms -> h20 through NAT");
            for host in ["vnet-h10", "vnet-h20"] {
                let neigh = run(&["ip", "-n", host, "-4", "neigh", "show"]);
                assert!(!neigh.contains("198.18.199."), "{host}: {neigh}");
            }
            // IPv6 is routed, not masqueraded: h20 sees mail's own address.
            assert!(ping("vnet-mail", "fd00:20::1"), "mail -> h20 over IPv6");
            // Tagged frames stay on their VLAN: h10's VLAN link is no way to h20.
            run(&[
                "ip",
                "-n",
                "vnet-h10",
                "route",
                "add",
                "198.18.20.0/24",
                "dev",
                "eth0.10",
            ]);
            assert!(
                !vnet_testkit::succeeds(&[
                    "ip",
                    "netns",
                    "exec",
                    "vnet-h10",
                    "ping",
                    "-c1",
                    "-W1",
                    "198.18.20.1"
                ]),
                "VLAN 10 reached VLAN 20's host directly"
            );
            run(&[
                "ip",
                "-n",
                "vnet-h10",
                "route",
                "del",
                "198.18.20.0/24",
                "dev",
                "eth0.10",
            ]);

            let again = b
                .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert!(again.plan.is_empty(), "second plan: {:?}", again.plan);
            assert_eq!(again.mutating_requests, 0);

            b.destroy(&t, &Scope::Sandbox).unwrap();
            assert_eq!(
                run(&["ip", "netns", "list"]).trim(),
                "",
                "destroy leaves nothing"
            );
            assert_eq!(before, snapshot(), "destroy leaves the state as before");
            b.destroy(&t, &Scope::Sandbox).unwrap();
        },
    );
}

#[test]
fn a_fault_at_any_step_of_the_nat_vlan_network_leaves_the_system_as_before() {
    vlan_kernel(
        "a_fault_at_any_step_of_the_nat_vlan_network_leaves_the_system_as_before",
        || {
            let t = nat_vlan();
            let b = backend();
            let plan = vnet_core::plan::compile(&t, &Scope::Sandbox);
            let actions: Vec<_> = plan.actions().collect();
            assert!(
                actions.len() > 30,
                "nat-vlan plan has {} steps",
                actions.len()
            );
            let before = snapshot();
            let steps = fault_at_every_step(&actions, |k| {
                let options = ApplyOptions {
                    fail_at: Some(k),
                    ..ApplyOptions::default()
                };
                match b.apply(&t, &Scope::Sandbox, &options) {
                    Err(Error::RolledBack { index, .. }) if index == k => Ok(()),
                    other => Err(format!("expected a rollback at {k}, got {other:?}")),
                }
            });
            // The whole network applies after all those rollbacks, and goes again.
            b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            b.destroy(&t, &Scope::Sandbox).unwrap();
            assert_eq!(before, snapshot());
            eprintln!("{steps} faults injected, each rolled back to the state before");
        },
    );
}
