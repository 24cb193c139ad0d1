//! A real node (`Scope::Node`): the node's own namespace (explicitly allowed) and
//! containers' namespaces found by pid, as on an OpenVZ host. The "node" here is the
//! test's private namespace and the "containers" are `unshare --net` processes in it.

mod common;

use std::process::{Child, Command};
use std::time::{Duration, Instant};
use vnet_core::plan::Name;

use common::{isolated, run, snapshot, succeeds};
use vnet_backend_netlink::{ApplyOptions, Backend, NamespaceMap, NsLocation};
use vnet_core::plan::{NsRef, Scope};
use vnet_core::{Document, Format};

/// Container stand-ins: processes each in a new network namespace; killed on drop.
struct Cts(Vec<(String, Child)>);

impl Drop for Cts {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start_ct(name: &str) -> (String, Child) {
    let own = std::fs::read_link("/proc/self/ns/net").unwrap();
    let child = Command::new("unshare")
        // A container's namespace has lo up, like any running system.
        .args(["--net", "sh", "-c", "ip link set lo up && exec sleep 120"])
        .spawn()
        .expect("unshare --net sleep");
    let path = format!("/proc/{}/ns/net", child.id());
    let deadline = Instant::now() + Duration::from_secs(5);
    // unshare runs before exec: wait until the process has its own namespace.
    let ready = || {
        std::fs::read_link(&path).ok().is_some_and(|ns| ns != own)
            && succeeds(&[
                "nsenter",
                "-t",
                &child.id().to_string(),
                "-n",
                "ip",
                "-br",
                "link",
                "show",
                "up",
                "lo",
            ])
            .then(|| {
                run(&[
                    "nsenter",
                    "-t",
                    &child.id().to_string(),
                    "-n",
                    "ip",
                    "-br",
                    "link",
                    "show",
                    "up",
                    "lo",
                ])
            })
            .is_some_and(|out| out.contains("lo"))
    };
    while !ready() {
        assert!(Instant::now() < deadline, "{name}: no namespace of its own");
        std::thread::sleep(Duration::from_millis(5));
    }
    (name.to_string(), child)
}

fn in_ct(pid: u32, argv: &[&str]) -> String {
    let t = pid.to_string();
    let mut full = vec!["nsenter", "-t", &t, "-n"];
    full.extend_from_slice(argv);
    run(&full)
}

/// The seed's containers, started, on a node (the test's namespace) with lo up and the
/// router's uplink NIC `eth1` there before it is passed in.
fn seed_cts() -> Cts {
    let cts = Cts(vec![start_ct("router"), start_ct("mail"), start_ct("dbms")]);
    run(&["ip", "link", "set", "lo", "up"]);
    run(&[
        "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "lanport",
    ]);
    cts
}

/// A backend for node m1 (the test's namespace, explicitly allowed) with `cts` found by
/// pid.
fn seed_backend(cts: &Cts) -> Backend {
    let mut map = NamespaceMap::explicit()
        .with(NsRef::Node("m1".into()), NsLocation::Current)
        .allow_current();
    for (name, child) in &cts.0 {
        map = map.with(
            NsRef::Ct(Name::from(name.as_str())),
            NsLocation::Pid(child.id()),
        );
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
        let pid = |n: &str| cts.0.iter().find(|(c, _)| c == n).unwrap().1.id();
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
        let router = in_ct(pid("router"), &["ip", "-br", "address", "show"]);
        assert!(
            router.contains("eth1") && router.contains("192.168.46.200/24"),
            "{router}"
        );
        assert!(router.contains("192.168.199.1/24"), "{router}");
        let mail = pid("mail").to_string();
        assert!(
            (0..5).any(|_| succeeds(&[
                "nsenter",
                "-t",
                &mail,
                "-n",
                "ping",
                "-c1",
                "-W1",
                "192.168.199.1"
            ])),
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
        let router = in_ct(pid("router"), &["ip", "-br", "link", "show"]);
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
            let router = cts.0.iter().find(|(c, _)| c == "router").unwrap().1.id();
            in_ct(
                router,
                &[
                    "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "x1",
                ],
            );
            let links = |pid| in_ct(pid, &["ip", "-d", "link", "show"]);
            let (node_before, router_before) = (snapshot(), links(router));
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
            assert_eq!(router_before, links(router), "the router is as it was");
            drop(cts);
        },
    );
}
