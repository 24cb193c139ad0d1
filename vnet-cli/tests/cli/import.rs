//! `vnet import --node m1 --this-host` and `vnet apply FILE --node m1 --this-host
//! --adopt` on the article's network built by hand (issue 16, point 5): the test's
//! private namespace plays node m1, the containers are `ip netns add` namespaces, and
//! the admin's commands are a real shell script ([`BY_HAND`]).

use std::collections::BTreeMap;

use serde_json::Value;
use vnet_testkit::{isolated, network_state, scrub, sh, snapshot, NetworkState, Outcome};

use crate::common::TempDir;

/// The article's m1 as its admin builds it with `ip`, `sysctl` and `nft` (vzctl's
/// `--veth_add` names and MACs; a dummy device stands in for the node's NIC passed to
/// the router, which is hardware on the real node).
const BY_HAND: &str = r#"
set -e
ip link set lo up  # as on any real machine (the test's fresh namespace has it down)
ip link add br0 type bridge
ip link set br0 up
ip link add eth1 type ifb
for ct in router mail dbms; do ip netns add $ct; ip -n $ct link set lo up; done
ip link add veth1 address 00:12:34:56:78:9a type veth peer name eth0 address 00:12:34:56:78:9b netns router
ip link add veth102.0 address 00:12:34:56:78:9c type veth peer name eth0 address 00:12:34:56:78:9d netns mail
ip link add veth3 address 00:12:34:56:78:9e type veth peer name eth0 address 00:12:34:56:78:9f netns dbms
for v in veth1 veth102.0 veth3; do ip link set $v master br0 up; done
ip link set eth1 netns router
ip -n router address add 192.168.199.1/24 dev eth0
ip -n router address add 192.168.46.200/24 dev eth1
ip -n router link set eth0 up
ip -n router link set eth1 up
for ct in mail:2 dbms:3; do
  n=${ct%:*}
  ip -n $n address add 192.168.199.${ct#*:}/24 dev eth0
  ip -n $n link set eth0 up
  ip -n $n route add 192.168.0.0/16 via 192.168.199.1
done
ip netns exec router sysctl -qw net.ipv4.ip_forward=1
ip netns exec router nft add table ip nat
ip netns exec router nft 'add chain ip nat postrouting { type nat hook postrouting priority 100 ; }'
ip netns exec router nft add rule ip nat postrouting ip saddr 192.168.199.0/24 oifname eth1 masquerade
"#;

/// What the test leaves behind removed: the namespaces, the NIC's stand-in, the bridge.
const CLEANUP: &str = "ip netns del router; ip netns del mail; ip netns del dbms; \
                       ip link del eth1; ip link del br0; true";

/// Runs `command` with `$VNET` and the scratch directory `$D`.
fn step(dir: &TempDir, command: &str) -> Outcome {
    let env = [
        ("VNET", env!("CARGO_BIN_EXE_vnet")),
        ("D", dir.0.to_str().expect("UTF-8 path")),
        ("NO_COLOR", "1"),
    ];
    sh(command, &env)
}

/// `step`, which must exit with `code`.
fn expect(dir: &TempDir, command: &str, code: i32) -> Outcome {
    let o = step(dir, command);
    assert_eq!(
        o.code, code,
        "{command}: exit {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
        o.code, o.stdout, o.stderr
    );
    o
}

const NODE: &str = "--node m1 --this-host";

/// The state of the node (the test's own namespace) and of every namespace in
/// `/run/netns`, apart from the marks vnet writes (link aliases, route protocols) and
/// what turning IPv6 off on a link takes with it (its `disable_ipv6`, the kernel's
/// link-local IPv6 addresses and routes): everything adopting must leave as it was.
fn unmarked_state() -> NetworkState {
    let mut state = network_state();
    let mut node = BTreeMap::new();
    for (part, what) in [
        ("link", &["link", "show"][..]),
        ("address", &["address", "show"][..]),
        ("route4", &["-4", "route", "show", "table", "all"][..]),
    ] {
        let mut argv = vec!["ip", "-d", "-j"];
        argv.extend_from_slice(what);
        let text = vnet_testkit::run(&argv);
        let mut v: Value = serde_json::from_str(&text).unwrap_or(Value::Array(vec![]));
        scrub(&mut v);
        node.insert(part, v);
    }
    state.insert("(node m1)".into(), node);
    for parts in state.values_mut() {
        parts.remove("route6");
        parts.remove("sysctl");
        parts.remove("nft");
        for v in parts.values_mut() {
            strip_marks(v);
        }
    }
    state
}

/// Removes `ifalias` and `protocol` keys, and IPv6 link-local addresses (then sorts
/// arrays again, as `scrub` did).
fn strip_marks(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("ifalias");
            map.remove("protocol");
            if let Some(Value::Array(addrs)) = map.get_mut("addr_info") {
                addrs.retain(|a| !(a["family"] == "inet6" && a["scope"] == "link"));
            }
            map.values_mut().for_each(strip_marks);
        }
        Value::Array(items) => {
            items.iter_mut().for_each(strip_marks);
            items.sort_by_key(|x| x.to_string());
        }
        _ => {}
    }
}

#[test]
fn a_hand_built_m1_is_imported_adopted_verified_and_destroyed() {
    isolated(
        "import::a_hand_built_m1_is_imported_adopted_verified_and_destroyed",
        || {
            let dir = TempDir::new("import");
            expect(&dir, BY_HAND, 0);
            let imported = expect(
                &dir,
                &format!("$VNET import {NODE} --name article -o $D/m1.toml"),
                0,
            );
            assert!(
                imported
                    .stdout
                    .contains("1 bridge(s), 3 container(s), 3 veth pair(s), 1 NIC(s)"),
                "{}",
                imported.stdout
            );
            let text = std::fs::read_to_string(dir.0.join("m1.toml")).expect("written");
            for want in [
                "host_name = \"veth102.0\"",
                "host_mac = \"00:12:34:56:78:9C\"",
                "mac = \"00:12:34:56:78:9F\"",
                "192.168.46.200/24",
                "to = \"192.168.0.0/16\"",
                "via = \"192.168.199.1\"",
                "ipv4 = true",
                "source = \"192.168.199.0/24\"",
                "[[ct.nic]]",
            ] {
                assert!(text.contains(want), "{want} in the import:\n{text}");
            }
            expect(&dir, "$VNET check $D/m1.toml", 0);
            let refused = expect(&dir, &format!("$VNET apply $D/m1.toml {NODE}"), 4);
            assert!(
                refused.stderr.contains("in the way and not owned"),
                "without --adopt: {}",
                refused.stderr
            );
            let before = unmarked_state();
            let plan = expect(
                &dir,
                &format!("$VNET apply $D/m1.toml {NODE} --adopt --dry-run"),
                0,
            );
            for want in [
                "adopt link veth1",
                "adopt link veth102.0",
                "adopt link br0",
                "adopt link eth1",
                "adopt route 192.168.0.0/16",
            ] {
                assert!(
                    plan.stdout.contains(want),
                    "{want} in the plan:\n{}",
                    plan.stdout
                );
            }
            // The steps' titles (`  12. adopt link veth1`), not the commands under them:
            // the firewall table's load script deletes and remakes vnet's own table.
            let titles: Vec<&str> = plan
                .stdout
                .lines()
                .map(str::trim_start)
                .filter(|l| {
                    l.split_once(". ")
                        .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
                })
                .collect();
            for never in [
                "create link",
                "add address",
                "add route",
                "delete",
                "set MAC",
            ] {
                assert!(
                    !titles.iter().any(|t| t.contains(never)),
                    "{never} in the plan:\n{}",
                    plan.stdout
                );
            }
            expect(&dir, &format!("$VNET apply $D/m1.toml {NODE} --adopt"), 0);
            let after = unmarked_state();
            let changed = vnet_testkit::differences(&before, &after);
            assert!(
                changed.is_empty(),
                "adopting changed:\n{}",
                changed.join("\n")
            );
            let marked = vnet_testkit::run(&["ip", "-d", "-j", "link", "show", "veth1"]);
            assert!(marked.contains("vnet:article"), "{marked}");
            let route = vnet_testkit::run(&["ip", "-n", "mail", "route", "show", "192.168.0.0/16"]);
            assert!(route.contains("proto 118"), "{route}");
            expect(&dir, &format!("$VNET diff $D/m1.toml {NODE}"), 0);
            expect(&dir, &format!("$VNET verify $D/m1.toml {NODE}"), 0);
            expect(&dir, &format!("$VNET destroy $D/m1.toml {NODE}"), 0);
            let left = expect(
                &dir,
                "ip -br link; ip netns list; ip -n router -br link; \
                 ip -n mail route; ip netns exec router nft list ruleset",
                0,
            )
            .stdout;
            for gone in [
                "br0",
                "veth1",
                "veth102.0",
                "veth3",
                "192.168.0.0/16",
                "table inet vnet",
            ] {
                assert!(!left.contains(gone), "{gone} left after destroy:\n{left}");
            }
            // Forwarding, vnet's too once adopted, is back to the kernel's default.
            let forward = expect(
                &dir,
                "ip netns exec router sysctl -n net.ipv4.ip_forward",
                0,
            );
            assert_eq!(forward.stdout.trim(), "0");
            // The NIC is back on the node; the namespaces vnet did not create stay, and
            // so does the admin's own nft table.
            assert!(left.contains("eth1"), "{left}");
            for kept in ["router", "mail", "dbms", "table ip nat"] {
                assert!(left.contains(kept), "{kept} kept:\n{left}");
            }
            expect(&dir, CLEANUP, 0);
        },
    );
}

#[test]
fn adopting_refuses_a_mismatching_object_and_changes_nothing() {
    isolated(
        "import::adopting_refuses_a_mismatching_object_and_changes_nothing",
        || {
            let dir = TempDir::new("import-refused");
            expect(&dir, BY_HAND, 0);
            expect(
                &dir,
                &format!("$VNET import {NODE} --name article -o $D/m1.toml"),
                0,
            );
            // The admin changes mail's host end and a route after the import.
            expect(
                &dir,
                "ip link set veth102.0 address 02:00:00:00:00:01 && \
                 ip -n dbms route replace 192.168.0.0/16 via 192.168.199.2",
                0,
            );
            let before = snapshot();
            let refused = expect(&dir, &format!("$VNET apply $D/m1.toml {NODE} --adopt"), 4);
            let err = &refused.stderr;
            assert!(err.contains("nothing adopted, nothing changed"), "{err}");
            assert!(
                err.contains(
                    "node m1 link veth102.0: mac is 02:00:00:00:00:01, expected 00:12:34:56:78:9C"
                ),
                "the MAC difference is named: {err}"
            );
            assert!(
                err.contains("via 192.168.199.2"),
                "the route is named: {err}"
            );
            assert_eq!(snapshot(), before, "a refused adoption changes nothing");
            expect(&dir, CLEANUP, 0);
        },
    );
}

/// The shell backend adopts through the same plan, as `ip link set DEV alias` and `ip
/// route replace ... proto 118` commands, and verifies like the netlink backend.
#[test]
fn the_shell_backend_adopts_with_ip_commands() {
    isolated("import::the_shell_backend_adopts_with_ip_commands", || {
        let dir = TempDir::new("import-shell");
        expect(&dir, BY_HAND, 0);
        expect(
            &dir,
            &format!("$VNET import {NODE} --name article -o $D/m1.toml"),
            0,
        );
        let before = unmarked_state();
        expect(
            &dir,
            &format!("$VNET apply $D/m1.toml {NODE} --adopt --backend shell"),
            0,
        );
        let changed = vnet_testkit::differences(&before, &unmarked_state());
        assert!(
            changed.is_empty(),
            "adopting changed:\n{}",
            changed.join("\n")
        );
        let route = vnet_testkit::run(&["ip", "-n", "dbms", "route", "show", "192.168.0.0/16"]);
        assert!(route.contains("proto 118"), "{route}");
        expect(&dir, &format!("$VNET diff $D/m1.toml {NODE}"), 0);
        expect(&dir, &format!("$VNET destroy $D/m1.toml {NODE}"), 0);
        expect(&dir, CLEANUP, 0);
    });
}

/// Import reads the machine's own network, so it wants the same confirmation as the
/// node commands; a `--ct` without `=` is a usage error too. Nothing is read then.
#[test]
fn import_without_this_host_or_with_a_bad_ct_is_a_usage_error() {
    let dir = TempDir::new("import-usage");
    let o = expect(&dir, "$VNET import --node m1", 2);
    assert!(o.stderr.contains("--this-host"), "{}", o.stderr);
    let o = expect(&dir, "$VNET import --node m1 --this-host --ct web", 2);
    assert!(o.stderr.contains("NAME=NETNS"), "{}", o.stderr);
}
