//! Executing hand-written plans in a sandbox: every action family against the kernel,
//! checked with `ip -j`, `/proc/sys` and ping; and rollback at every step.

use vnet_backend_netlink::{ApplyOptions, Backend, Error, NamespaceMap};
use vnet_core::model::{Mac, PortRange, Proto, Verdict};
use vnet_core::plan::{
    Action, DnatRule, FilterChain, FilterRule, LinkSpec, NatRule, NsRef, Plan, RouteSpec, Ruleset,
    Step, Sysctl,
};
use vnet_testkit::{fault_at_every_step, isolated, link, ping, run, snapshot};

fn node() -> NsRef {
    NsRef::Node("n1".into())
}
fn ct(n: &str) -> NsRef {
    NsRef::Ct(n.into())
}
fn mac(last: u8) -> Mac {
    Mac::new(0x02, 0, 0, 0, 0, last)
}

/// A small network: node n1 with bridge br0, CTs a and b with veths on it; a has
/// forwarding on and a second leg, b routes 198.19.0.0/16 via a; a masquerades.
fn plan() -> Plan {
    let mut stages: Vec<Vec<Action>> = Vec::new();
    stages.push(
        [node(), ct("a"), ct("b")]
            .into_iter()
            .map(|ns| Action::CreateNamespace { ns })
            .collect(),
    );
    stages.push(vec![
        Action::CreateLink {
            ns: node(),
            spec: LinkSpec::Bridge {
                name: "br0".into(),
                mac: mac(0x10),
                stp: false,
                mtu: None,
            },
        },
        Action::CreateLink {
            ns: node(),
            spec: LinkSpec::Veth {
                name: "veth1".into(),
                mac: mac(0x9A),
                mtu: None,
                peer_ns: ct("a"),
                peer_name: "eth0".into(),
                peer_mac: mac(0x9B),
            },
        },
        Action::CreateLink {
            ns: node(),
            spec: LinkSpec::Veth {
                name: "veth2".into(),
                mac: mac(0x9C),
                mtu: Some(1400),
                peer_ns: ct("b"),
                peer_name: "eth0".into(),
                peer_mac: mac(0x9D),
            },
        },
        Action::CreateLink {
            ns: ct("a"),
            spec: LinkSpec::Veth {
                name: "up0".into(),
                mac: mac(0x20),
                mtu: None,
                peer_ns: ct("a"),
                peer_name: "up1".into(),
                peer_mac: mac(0x21),
            },
        },
    ]);
    let mut s3 = vec![
        Action::SetMaster {
            ns: node(),
            link: "veth1".into(),
            master: "br0".into(),
        },
        Action::SetMaster {
            ns: node(),
            link: "veth2".into(),
            master: "br0".into(),
        },
        Action::AddAddress {
            ns: ct("a"),
            link: "eth0".into(),
            address: "198.18.0.1/24".parse().unwrap(),
        },
        Action::AddAddress {
            ns: ct("b"),
            link: "eth0".into(),
            address: "198.18.0.2/24".parse().unwrap(),
        },
        Action::AddAddress {
            ns: ct("a"),
            link: "up0".into(),
            address: "198.19.0.1/24".parse().unwrap(),
        },
        Action::SetSysctl {
            ns: ct("a"),
            sysctl: Sysctl::Ipv4Forward,
            value: "1".into(),
            previous: "0".into(),
        },
    ];
    for (ns, l) in [
        (node(), "veth1"),
        (node(), "veth2"),
        (ct("a"), "eth0"),
        (ct("b"), "eth0"),
    ] {
        s3.push(Action::SetSysctl {
            ns,
            sysctl: Sysctl::DisableIpv6(l.into()),
            value: "1".into(),
            previous: "0".into(),
        });
    }
    stages.push(s3);
    stages.push(
        [
            (node(), "br0"),
            (node(), "veth1"),
            (node(), "veth2"),
            (ct("a"), "eth0"),
            (ct("b"), "eth0"),
            (ct("a"), "up0"),
            (ct("a"), "up1"),
        ]
        .into_iter()
        .map(|(ns, l)| Action::SetUp { ns, link: l.into() })
        .collect(),
    );
    stages.push(vec![
        Action::AddRoute {
            ns: ct("b"),
            route: RouteSpec {
                dst: "198.19.0.0/16".parse().unwrap(),
                via: Some("198.18.0.1".parse().unwrap()),
                dev: None,
                metric: None,
            },
        },
        Action::SetRuleset {
            ns: ct("a"),
            from: None,
            to: Some(ruleset()),
        },
    ]);
    let mut steps = Vec::new();
    for (stage, actions) in stages.into_iter().enumerate() {
        for action in actions {
            let id = steps.len();
            steps.push(Step {
                id,
                action,
                after: vec![],
                stage,
            });
        }
    }
    Plan {
        topology: "t1".into(),
        steps,
    }
}

/// a's firewall table: masquerade out of its uplink, a port forward to b, a forward
/// filter.
fn ruleset() -> Ruleset {
    Ruleset {
        masquerade: vec![NatRule {
            source: "198.18.0.0/24".parse().unwrap(),
            out: "up0".into(),
        }],
        dnat: vec![DnatRule {
            proto: Proto::Tcp,
            iif: Some("up0".into()),
            daddr: None,
            dport: PortRange::single(2525),
            to: "198.18.0.2".parse().unwrap(),
            to_port: Some(PortRange::single(25)),
        }],
        forward: Some(FilterChain {
            policy: Verdict::Drop,
            accept: vec![FilterRule {
                saddr: Some("198.18.0.0/24".parse().unwrap()),
                ..FilterRule::default()
            }],
        }),
        input: None,
    }
}

#[test]
fn every_action_family_reaches_the_kernel() {
    isolated("every_action_family_reaches_the_kernel", || {
        let backend = Backend::new(NamespaceMap::sandbox("vt"));
        let plan = plan();
        let report = backend.execute(&plan, &ApplyOptions::default()).unwrap();
        assert_eq!(report.applied, plan.len());

        let br = link("vt-n1", "br0");
        assert_eq!(br["address"], "02:00:00:00:00:10");
        assert_eq!(br["linkinfo"]["info_kind"], "bridge");
        let v1 = link("vt-n1", "veth1");
        assert_eq!(v1["address"], "02:00:00:00:00:9a");
        assert_eq!(v1["master"], "br0");
        assert_eq!(v1["ifalias"], "vnet:t1");
        let v2 = link("vt-n1", "veth2");
        assert_eq!(v2["mtu"], 1400);
        let a0 = link("vt-a", "eth0");
        assert_eq!(a0["address"], "02:00:00:00:00:9b");
        assert_eq!(a0["ifalias"], "vnet:t1", "peer carries the mark");
        let b0 = link("vt-b", "eth0");
        assert_eq!(b0["mtu"], 1400);
        let lo = link("vt-a", "lo");
        assert_eq!(lo["ifalias"], "vnet:t1");
        assert!(lo["flags"].as_array().unwrap().iter().any(|f| f == "UP"));
        let routes = run(&["ip", "-n", "vt-b", "route", "show", "proto", "118"]);
        assert!(routes.contains("198.19.0.0/16 via 198.18.0.1"), "{routes}");
        let fwd = run(&[
            "ip",
            "netns",
            "exec",
            "vt-a",
            "cat",
            "/proc/sys/net/ipv4/ip_forward",
        ]);
        assert_eq!(fwd.trim(), "1");
        let v6 = run(&[
            "ip",
            "netns",
            "exec",
            "vt-b",
            "cat",
            "/proc/sys/net/ipv6/conf/eth0/disable_ipv6",
        ]);
        assert_eq!(v6.trim(), "1");
        let nat = run(&[
            "ip", "netns", "exec", "vt-a", "nft", "list", "table", "inet", "vnet",
        ]);
        assert!(
            nat.contains("ip saddr 198.18.0.0/24 oifname \"up0\" masquerade"),
            "{nat}"
        );
        assert!(
            nat.contains("iifname \"up0\" tcp dport 2525 dnat ip to 198.18.0.2:25"),
            "{nat}"
        );
        // The nf_tables shortcut that spares an `nft` run per namespace without a table.
        let has_table = |ns: &str| {
            vnet_backend_netlink::ns::Netns::open(format!("/run/netns/{ns}"))
                .unwrap()
                .run(
                    "ask nf_tables",
                    vnet_backend_netlink::ops::nft::table_exists,
                )
                .unwrap()
        };
        assert!(has_table("vt-a"));
        assert!(!has_table("vt-b"));
        assert!(ping("vt-b", "198.18.0.1"), "b reaches a over the bridge");
        assert!(
            ping("vt-b", "198.19.0.1"),
            "b reaches a's other leg by its route"
        );

        let observed = backend
            .observe_namespaces(&[node(), ct("a"), ct("b"), ct("absent")])
            .unwrap();
        assert_eq!(observed.namespaces.len(), 3);
        let a = &observed.namespaces[&ct("a")];
        assert_eq!(a.owner.as_deref(), Some("t1"));
        assert_eq!(a.links["eth0"].mac, Some(mac(0x9B)));
        assert_eq!(a.links["eth0"].addresses.len(), 1);
        assert_eq!(a.ruleset, Some(ruleset()), "the table reads back as loaded");
        assert_eq!(a.sysctls[&Sysctl::Ipv4Forward], "1");
        assert_eq!(
            observed.namespaces[&node()].links["veth1"]
                .master
                .as_deref(),
            Some("br0")
        );
        assert_eq!(observed.namespaces[&ct("b")].routes.len(), 1);

        // The inverse plan takes everything away again.
        let undo: Vec<Step> = plan
            .undo_prefix(plan.len())
            .into_iter()
            .enumerate()
            .map(|(id, action)| Step {
                id,
                action,
                after: vec![],
                stage: id,
            })
            .collect();
        let undo = Plan {
            topology: "t1".into(),
            steps: undo,
        };
        backend.execute(&undo, &ApplyOptions::default()).unwrap();
        assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
    });
}

#[test]
fn a_failure_at_any_step_leaves_the_system_as_before() {
    isolated("a_failure_at_any_step_leaves_the_system_as_before", || {
        let backend = Backend::new(NamespaceMap::sandbox("vt"));
        let plan = plan();
        let actions: Vec<&Action> = plan.actions().collect();
        fault_at_every_step(&actions, |k| {
            let options = ApplyOptions {
                fail_at: Some(k),
                ..ApplyOptions::default()
            };
            match backend.execute(&plan, &options) {
                Err(Error::RolledBack { index, .. }) if index == k => Ok(()),
                other => Err(format!("expected a rollback at {k}, got {other:?}")),
            }
        });
    });
}

/// VLAN links need the kernel's 8021q support, which some kernels lack (no
/// `/proc/net/vlan`): then the kernel's EOPNOTSUPP must come back intact and the failed
/// plan must leave nothing behind.
#[test]
fn vlan_link_on_a_parent_or_the_kernels_refusal() {
    isolated("vlan_link_on_a_parent_or_the_kernels_refusal", || {
        let backend = Backend::new(NamespaceMap::sandbox("vt"));
        let actions = vec![
            Action::CreateNamespace { ns: ct("a") },
            Action::CreateLink {
                ns: ct("a"),
                spec: LinkSpec::Veth {
                    name: "up0".into(),
                    mac: mac(0x20),
                    mtu: None,
                    peer_ns: ct("a"),
                    peer_name: "up1".into(),
                    peer_mac: mac(0x21),
                },
            },
            Action::CreateLink {
                ns: ct("a"),
                spec: LinkSpec::Vlan {
                    name: "up0.46".into(),
                    parent: "up0".into(),
                    id: 46,
                    mtu: None,
                },
            },
        ];
        let steps = actions
            .into_iter()
            .enumerate()
            .map(|(id, action)| Step {
                id,
                action,
                after: vec![],
                stage: id,
            })
            .collect();
        let plan = Plan {
            topology: "t1".into(),
            steps,
        };
        match backend.execute(&plan, &ApplyOptions::default()) {
            Ok(_) => {
                let vlan = link("vt-a", "up0.46");
                assert_eq!(vlan["linkinfo"]["info_data"]["id"], 46);
                assert_eq!(vlan["link"], "up0");
                assert_eq!(vlan["ifalias"], "vnet:t1");
            }
            Err(e) => {
                assert!(
                    !std::path::Path::new("/proc/net/vlan").exists(),
                    "the kernel has 8021q, yet: {e}"
                );
                assert_eq!(e.errno(), Some(95), "{e}");
                assert!(
                    matches!(
                        e,
                        Error::RolledBack {
                            index: 2,
                            undone: 2,
                            ..
                        }
                    ),
                    "{e}"
                );
                assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
                eprintln!("NOTE: this kernel has no 802.1Q support; VLAN links are refused: {e}");
            }
        }
    });
}

fn staged(actions: Vec<(usize, Action)>) -> Plan {
    let steps = actions
        .into_iter()
        .enumerate()
        .map(|(id, (stage, action))| Step {
            id,
            action,
            after: vec![],
            stage,
        })
        .collect();
    Plan {
        topology: "t1".into(),
        steps,
    }
}

/// One stage of 600 addresses goes out as batches (more than fit in flight or in one
/// datagram); a duplicate among them fails alone with the kernel's EEXIST, and the
/// rollback removes every address that did go in.
#[test]
fn large_batches_are_acknowledged_one_by_one_and_rolled_back() {
    isolated(
        "large_batches_are_acknowledged_one_by_one_and_rolled_back",
        || {
            let backend = Backend::new(NamespaceMap::sandbox("vt"));
            let mut actions = vec![
                (0, Action::CreateNamespace { ns: ct("a") }),
                (
                    1,
                    Action::CreateLink {
                        ns: ct("a"),
                        spec: LinkSpec::Bridge {
                            name: "br0".into(),
                            mac: mac(1),
                            stp: false,
                            mtu: None,
                        },
                    },
                ),
            ];
            let addr = |i: usize| format!("198.18.{}.{}/32", i / 250, i % 250 + 1);
            for i in 0..600 {
                actions.push((
                    2,
                    Action::AddAddress {
                        ns: ct("a"),
                        link: "br0".into(),
                        address: addr(i).parse().unwrap(),
                    },
                ));
            }
            let ok = staged(actions.clone());
            let before = backend.counter().mutating();
            backend.execute(&ok, &ApplyOptions::default()).unwrap();
            // Namespace: lo up + mark; bridge: create + mark; 600 addresses.
            assert_eq!(backend.counter().mutating() - before, 2 + 2 + 600);
            let seen = backend.observe_namespaces(&[ct("a")]).unwrap();
            assert_eq!(seen.namespaces[&ct("a")].links["br0"].addresses.len(), 600);
            vnet_backend_netlink::ns::named::delete(std::path::Path::new("/run/netns"), "vt-a")
                .unwrap();

            // The same with a duplicate in the middle of the batch.
            actions.insert(
                400,
                (
                    2,
                    Action::AddAddress {
                        ns: ct("a"),
                        link: "br0".into(),
                        address: addr(7).parse().unwrap(),
                    },
                ),
            );
            let bad = staged(actions);
            let before = snapshot();
            let err = backend.execute(&bad, &ApplyOptions::default()).unwrap_err();
            assert_eq!(err.errno(), Some(17), "{err}");
            match &err {
                Error::RolledBack { index, undone, .. } => {
                    assert_eq!(*index, 400, "the duplicate is the failing step");
                    assert_eq!(*undone, 602, "namespace, bridge and 600 addresses undone");
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(before, snapshot());
        },
    );
}

/// Preflight refuses, before any change, a link name held by a link vnet does not own,
/// and the namespace vnet runs in unless explicitly allowed.
#[test]
fn preflight_refuses_foreign_objects_and_our_own_namespace() {
    isolated(
        "preflight_refuses_foreign_objects_and_our_own_namespace",
        || {
            use vnet_backend_netlink::NsLocation;
            let t = vnet_core::Document::parse(
                include_str!("../../examples/seed.toml"),
                vnet_core::Format::Toml,
            )
            .unwrap()
            .validate()
            .unwrap();
            let scope = vnet_core::plan::Scope::Sandbox;
            // Someone else's veth3 in the node namespace.
            run(&["ip", "netns", "add", "vnet-m1"]);
            run(&[
                "ip", "-n", "vnet-m1", "link", "add", "veth3", "type", "veth", "peer", "name", "x3",
            ]);
            let before = snapshot();
            let b = Backend::new(NamespaceMap::sandbox("vnet"));
            let err = b.apply(&t, &scope, &ApplyOptions::default()).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("veth3") || text.contains("namespace"),
                "{text}"
            );
            assert!(
                matches!(err, Error::NotOwned { .. } | Error::Many(_)),
                "{err:?}"
            );
            assert_eq!(err.kind(), vnet_backend_netlink::ErrorKind::Conflict);
            assert_eq!(before, snapshot(), "nothing changed");
            vnet_backend_netlink::ns::named::delete(std::path::Path::new("/run/netns"), "vnet-m1")
                .unwrap();

            // A real node mapped onto the namespace the process runs in, not allowed.
            let plan = staged(vec![(
                0,
                Action::CreateLink {
                    ns: node(),
                    spec: LinkSpec::Bridge {
                        name: "br9".into(),
                        mac: mac(9),
                        stp: false,
                        mtu: None,
                    },
                },
            )]);
            let map = NamespaceMap::explicit().with(node(), NsLocation::Current);
            let err = Backend::new(map).execute(&plan, &ApplyOptions::default());
            assert!(matches!(err, Err(Error::OwnNamespace { .. })), "{err:?}");
            let map =
                NamespaceMap::explicit().with(node(), NsLocation::Path("/proc/self/ns/net".into()));
            let err = Backend::new(map).execute(&plan, &ApplyOptions::default());
            assert!(matches!(err, Err(Error::OwnNamespace { .. })), "{err:?}");
            assert!(!vnet_testkit::succeeds(&["ip", "link", "show", "br9"]));
            // Allowed explicitly (this is the test's private namespace, not the machine's).
            let map = NamespaceMap::explicit()
                .with(node(), NsLocation::Current)
                .allow_current();
            Backend::new(map)
                .execute(&plan, &ApplyOptions::default())
                .unwrap();
            assert_eq!(link_in_current("br9")["address"], "02:00:00:00:00:09");
        },
    );
}

fn link_in_current(name: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&run(&["ip", "-j", "link", "show", name])).unwrap();
    v[0].clone()
}
