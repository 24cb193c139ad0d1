//! A bridge's `ports` on the real kernel: on a real node (the test's private namespace)
//! the node's own devices join vnet's bridge, come up, keep their alias, survive the
//! teardown; one in a bridge that is not vnet's, or a missing one, fails the apply with
//! nothing changed; in the sandbox a veth to nowhere stands in for each, and
//! traffic crosses the bridge past it.

use vnet_backend_netlink::{ApplyOptions, Backend, ErrorKind, NamespaceMap, NsLocation};
use vnet_core::plan::{NsRef, Scope};
use vnet_core::{Document, Format, ValidTopology};
use vnet_testkit::{isolated, link, ping, run, snapshot, succeeds};

/// Bridge `br0` on `m1` enslaving `ports`, with two containers on it.
fn topology(ports: &[&str]) -> ValidTopology {
    let ports: Vec<String> = ports.iter().map(|p| format!("{p:?}")).collect();
    let text = format!(
        r#"
name = "ports"

[[node]]
name = "m1"

[[bridge]]
name = "br0"
ports = [{}]

[[subnet]]
cidr = "198.18.0.0/24"
bridge = "br0"

[[ct]]
id = 101
name = "a"
node = "m1"
[[ct.veth]]
name = "eth0"
bridge = "br0"
addresses = ["198.18.0.10/24"]

[[ct]]
id = 102
name = "b"
node = "m1"
[[ct.veth]]
name = "eth0"
bridge = "br0"
addresses = ["198.18.0.11/24"]
"#,
        ports.join(", ")
    );
    Document::parse(&text, Format::Toml)
        .unwrap()
        .validate()
        .unwrap()
}

/// The node is the test's own namespace (explicitly allowed), the containers are
/// namespaces in the private `/run/netns`.
fn node_backend() -> Backend {
    for ct in ["ct-a", "ct-b"] {
        run(&["ip", "netns", "add", ct]);
        // A running container has lo up.
        run(&["ip", "-n", ct, "link", "set", "lo", "up"]);
    }
    Backend::new(
        NamespaceMap::explicit()
            .with(NsRef::Node("m1".into()), NsLocation::Current)
            .with(
                NsRef::Ct("a".into()),
                NsLocation::Path("/run/netns/ct-a".into()),
            )
            .with(
                NsRef::Ct("b".into()),
                NsLocation::Path("/run/netns/ct-b".into()),
            )
            .allow_current(),
    )
}

/// Applies `t` to node m1 with [`node_backend`], expecting a refusal that changes
/// nothing; returns the backend and the error.
fn refused(t: &ValidTopology) -> (Backend, vnet_backend_netlink::Error) {
    let b = node_backend();
    let before = snapshot();
    let err = b
        .apply(t, &Scope::Node("m1".into()), &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(before, snapshot(), "{err}: something changed");
    (b, err)
}

/// Removes [`node_backend`]'s container namespaces.
fn drop_cts() {
    for ct in ["ct-a", "ct-b"] {
        run(&["ip", "netns", "del", ct]);
    }
}

/// A device of the machine named `name` (a veth whose other end is `name-far`).
fn machine_device(name: &str) {
    let far = format!("{name}-far");
    run(&[
        "ip", "link", "add", name, "type", "veth", "peer", "name", &far,
    ]);
}

fn master(name: &str) -> Option<String> {
    let l = link_here(name);
    l["master"].as_str().map(str::to_string)
}

/// `ip -d -j link show NAME` in the test's own namespace.
fn link_here(name: &str) -> serde_json::Value {
    let text = run(&["ip", "-d", "-j", "link", "show", name]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v[0].clone()
}

#[test]
fn a_real_nodes_own_devices_join_the_bridge_and_stay_its_own() {
    isolated(
        "a_real_nodes_own_devices_join_the_bridge_and_stay_its_own",
        || {
            run(&["ip", "link", "set", "lo", "up"]);
            // The machine's devices (veths: this kernel has no dummy driver): one up with
            // its own alias, one down.
            machine_device("uplink");
            run(&["ip", "link", "set", "uplink", "alias", "the-admins-uplink"]);
            run(&["ip", "link", "set", "uplink", "up"]);
            machine_device("spare");
            let t = topology(&["uplink", "spare"]);
            let b = node_backend();
            let scope = Scope::Node("m1".into());
            let report = b.apply(&t, &scope, &ApplyOptions::default()).unwrap();
            assert!(report.verified);
            for p in ["uplink", "spare"] {
                assert_eq!(master(p).as_deref(), Some("br0"), "{p}");
                let flags = link_here(p)["flags"].to_string();
                assert!(flags.contains("\"UP\""), "{p} is up: {flags}");
            }
            assert_eq!(link_here("uplink")["ifalias"], "the-admins-uplink");
            let again = b.apply(&t, &scope, &ApplyOptions::default()).unwrap();
            assert_eq!(again.mutating_requests, 0, "{:?}", again.plan);

            b.destroy(&t, &scope).unwrap();
            assert!(!succeeds(&["ip", "link", "show", "br0"]), "bridge gone");
            for p in ["uplink", "spare"] {
                assert!(succeeds(&["ip", "link", "show", p]), "{p} stays");
                assert_eq!(master(p), None, "{p} left the bridge");
            }
            assert_eq!(link_here("uplink")["ifalias"], "the-admins-uplink");
            drop_cts();
        },
    );
}

#[test]
fn a_device_in_someone_elses_bridge_is_reported_before_any_change() {
    isolated(
        "a_device_in_someone_elses_bridge_is_reported_before_any_change",
        || {
            run(&["ip", "link", "set", "lo", "up"]);
            run(&["ip", "link", "add", "lanbr", "type", "bridge"]);
            machine_device("uplink");
            run(&["ip", "link", "set", "uplink", "master", "lanbr"]);
            let t = topology(&["uplink"]);
            let (b, err) = refused(&t);
            assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
            let text = err.to_string();
            assert!(text.contains("lanbr") && text.contains("uplink"), "{text}");
            // Nor does a destroy take it out of that bridge.
            b.destroy(&t, &Scope::Node("m1".into())).unwrap();
            assert_eq!(master("uplink").as_deref(), Some("lanbr"));
            drop_cts();
        },
    );
}

#[test]
fn a_missing_device_fails_the_apply_and_changes_nothing() {
    isolated(
        "a_missing_device_fails_the_apply_and_changes_nothing",
        || {
            run(&["ip", "link", "set", "lo", "up"]);
            let (_, err) = refused(&topology(&["nosuchdev"]));
            assert_eq!(err.to_string(), "no link nosuchdev in node m1");
            drop_cts();
        },
    );
}

#[test]
fn the_sandbox_stands_a_veth_in_for_each_device() {
    isolated("the_sandbox_stands_a_veth_in_for_each_device", || {
        let t = topology(&["uplink"]);
        let b = Backend::new(NamespaceMap::sandbox("vnet"));
        let before = snapshot();
        let report = b
            .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
            .unwrap();
        assert!(report.verified);
        let uplink = link("vnet-m1", "uplink");
        assert_eq!(uplink["linkinfo"]["info_kind"], "veth", "{uplink}");
        assert_eq!(uplink["master"], "br0", "{uplink}");
        let far = link("vnet-m1", "port+0");
        assert!(far["flags"].to_string().contains("\"UP\""), "{far}");
        assert!(ping("vnet-a", "198.18.0.11"), "a reaches b over br0");
        b.destroy(&t, &Scope::Sandbox).unwrap();
        assert_eq!(before, snapshot());
    });
}

#[test]
fn a_missing_underlay_is_refused_before_any_change() {
    isolated("a_missing_underlay_is_refused_before_any_change", || {
        let t = Document::parse(
            r#"
name = "under"

[[node]]
name = "m1"
underlay = { address = "198.18.100.1/24", dev = "eth0" }

[[node]]
name = "m2"
underlay = { address = "198.18.100.2/24", dev = "eth0" }

[[bridge]]
name = "br0"
mtu = 1450
stretch = { vni = 199 }

[[subnet]]
cidr = "198.18.1.0/24"
bridge = "br0"

[[ct]]
id = 101
name = "a"
node = "m1"
[[ct.veth]]
name = "eth0"
bridge = "br0"
mtu = 1450
addresses = ["198.18.1.1/24"]

[[ct]]
id = 102
name = "b"
node = "m2"
[[ct.veth]]
name = "eth0"
bridge = "br0"
mtu = 1450
addresses = ["198.18.1.2/24"]
"#,
            Format::Toml,
        )
        .unwrap()
        .validate()
        .unwrap();
        run(&["ip", "link", "set", "lo", "up"]);
        // The node has no eth0, the device its VXLAN tunnel would run over.
        let (_, err) = refused(&t);
        assert_eq!(err.to_string(), "no link eth0 in node m1");
        drop_cts();
    });
}
