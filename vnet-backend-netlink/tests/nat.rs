//! Masquerade through vnet's nftables table: the LAN host sees the router's address,
//! rules come and go with the topology; and `examples/nat-vlan.toml`. (Rollback at every
//! step of a network with vnet's table is `tests/firewall.rs`'s, on a superset of this one.)

use vnet_backend_netlink::{ApplyOptions, Backend, NamespaceMap};
use vnet_core::plan::Scope;
use vnet_core::{Document, Format, ValidTopology};
use vnet_testkit::{isolated, ping, run, snapshot, succeeds};

/// The seed network with NAT on the router and no route back on the LAN host: only
/// masquerading lets mail's packets come back.
fn nat_topology(with_nat: bool) -> ValidTopology {
    let seed = include_str!("../../examples/seed.toml");
    let mut text = seed.replace(
        "route = [{ to = \"192.168.199.0/24\", via = \"192.168.46.200\" }]\n",
        "",
    );
    assert_ne!(
        text, seed,
        "seed.toml changed: the LAN host's route back is gone"
    );
    if with_nat {
        text = text.replace(
            "addresses = [\"192.168.46.200/24\"]\n",
            "addresses = [\"192.168.46.200/24\"]\n\n[[ct.nat]]\nsource = \"192.168.199.0/24\"\nout = \"eth1\"\n",
        );
    }
    Document::parse(&text, Format::Toml)
        .expect("parses")
        .validate()
        .expect("valid")
}

#[test]
fn lan_host_sees_the_router_as_source_and_the_table_goes_with_the_last_rule() {
    isolated(
        "lan_host_sees_the_router_as_source_and_the_table_goes_with_the_last_rule",
        || {
            let b = Backend::new(NamespaceMap::sandbox("vnet"));
            let without = nat_topology(false);
            b.apply(&without, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert!(
                !succeeds(&[
                    "ip",
                    "netns",
                    "exec",
                    "vnet-mail",
                    "ping",
                    "-c1",
                    "-W1",
                    "192.168.46.1"
                ]),
                "without NAT and without a route back, the LAN host cannot answer"
            );

            let with = nat_topology(true);
            let report = b
                .apply(&with, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert!(!report.plan.is_empty());
            let table = run(&[
                "ip",
                "netns",
                "exec",
                "vnet-router",
                "nft",
                "list",
                "table",
                "inet",
                "vnet",
            ]);
            assert!(
                table.contains("ip saddr 192.168.199.0/24 oifname \"eth1\" masquerade"),
                "{table}"
            );
            assert!(
                ping("vnet-mail", "192.168.46.1"),
                "masqueraded: the answer comes back"
            );
            // The LAN host saw the router's address: its neighbour table knows only it.
            let neigh = run(&["ip", "-n", "vnet-gw46", "neigh", "show"]);
            assert!(neigh.contains("192.168.46.200"), "{neigh}");
            assert!(!neigh.contains("192.168.199."), "{neigh}");
            let again = b
                .apply(&with, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert_eq!(again.mutating_requests, 0);
            assert!(again.plan.is_empty(), "{:?}", again.plan);

            // Dropping the rule from the topology deletes it, and the table with it.
            b.apply(&without, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            let tables = run(&[
                "ip",
                "netns",
                "exec",
                "vnet-router",
                "nft",
                "list",
                "tables",
            ]);
            assert!(!tables.contains("vnet"), "{tables}");
            b.destroy(&with, &Scope::Sandbox).unwrap();
            assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
        },
    );
}

/// `examples/nat-vlan.toml` needs 802.1Q. Where the kernel has it, the network is
/// applied and checked; where it has not (no `/proc/net/vlan`), apply must fail with
/// the kernel's EOPNOTSUPP and leave nothing behind.
#[test]
fn nat_vlan_example_applies_or_rolls_back_cleanly() {
    isolated("nat_vlan_example_applies_or_rolls_back_cleanly", || {
        let text = include_str!("../../examples/nat-vlan.toml");
        let t = Document::parse(text, Format::Toml)
            .expect("parses")
            .validate()
            .expect("valid");
        let b = Backend::new(NamespaceMap::sandbox("vnet"));
        let before = snapshot();
        match b.apply(&t, &Scope::Sandbox, &ApplyOptions::default()) {
            Ok(report) => {
                assert!(report.verified);
                assert!(ping("vnet-mail", "192.168.46.1"));
                assert!(ping("vnet-mail", "192.168.10.1"));
                let again = b
                    .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                    .unwrap();
                assert_eq!(again.mutating_requests, 0);
                b.destroy(&t, &Scope::Sandbox).unwrap();
            }
            Err(e) => {
                assert!(!std::path::Path::new("/proc/net/vlan").exists(), "{e}");
                assert_eq!(e.errno(), Some(95), "{e}");
                eprintln!("NOTE: no 802.1Q in this kernel; nat-vlan refused and rolled back: {e}");
            }
        }
        assert_eq!(before, snapshot());
    });
}
