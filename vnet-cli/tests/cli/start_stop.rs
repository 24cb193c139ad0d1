//! Kernel test of `vnet start`, `vnet stop` and `vnet status` on the article's topology:
//! a container stopped, started on its failover node (its cable there, none left on its
//! home node), the router moved after its leaves so the LAN reaches the moved container
//! again, a node it may not run on refused, and stop idempotent.
//!
//! Runs in a private network + mount namespace like `kernel.rs` (its runner): nothing
//! reaches the machine's network namespace or its `/run/netns`. Needs root; without it
//! prints SKIPPED, and fails when `CI` is set.

use serde_json::Value;

use vnet_testkit::isolated;

use crate::kernel::{expect, run_steps};

/// The link named `name` in an `ip -j link` listing.
fn link<'a>(links: &'a Value, name: &str) -> Option<&'a Value> {
    links
        .as_array()
        .expect("ip -j link prints an array")
        .iter()
        .find(|l| l["ifname"] == name)
}

#[test]
fn a_container_stops_starts_on_its_failover_node_and_is_reached_there() {
    isolated(
        "start_stop::a_container_stops_starts_on_its_failover_node_and_is_reached_there",
        || {
            let steps = run_steps(&[
                ("apply", "$VNET apply $SEED --sandbox"),
                ("home", "$VNET --output json status mail $SEED --sandbox"),
                ("stop", "$VNET --output json stop mail $SEED --sandbox"),
                ("gone", "ip netns list"),
                ("stopped", "$VNET --output json status mail $SEED --sandbox"),
                (
                    "start",
                    "$VNET --output json start mail --node m2 $SEED --sandbox",
                ),
                ("m2", "ip -n vnet-m2 -j link"),
                ("m1", "ip -n vnet-m1 -j link"),
                ("moved", "$VNET --output json status mail $SEED --sandbox"),
                // The router (their gateway) on m1 has no cable to m2's br0; move it and
                // dbms too, given gateway first to show the leaves still start first.
                (
                    "follow",
                    "$VNET --output json start router dbms --node m2 $SEED --sandbox",
                ),
                ("ping", "ip netns exec vnet-gw46 ping -c1 -W2 192.168.199.2"),
                (
                    "again",
                    "$VNET --output json start mail --node m2 $SEED --sandbox",
                ),
                ("m9", "$VNET start mail --node m9 $SEED --sandbox"),
                ("stop1", "$VNET stop mail $SEED --sandbox"),
                ("stop2", "$VNET --output json stop mail $SEED --sandbox"),
                ("unknown", "$VNET stop nosuch $SEED --sandbox"),
            ]);
            expect(&steps, "apply", 0);
            let home = expect(&steps, "home", 0).json();
            assert_eq!(home["running"], true, "{home}");
            assert_eq!(home["node"], "m1", "{home}");
            assert_eq!(home["drift"], serde_json::json!([]), "{home}");

            let stop = expect(&steps, "stop", 0).json();
            assert_eq!(stop["stopped"][0]["was_running"], true, "{stop}");
            let gone = expect(&steps, "gone", 0);
            assert!(!gone.stdout.contains("vnet-mail"), "{}", gone.stdout);
            assert!(gone.stdout.contains("vnet-router"), "{}", gone.stdout);
            let stopped = expect(&steps, "stopped", 7).json();
            assert_eq!(stopped["state"], "stopped", "{stopped}");
            assert_eq!(stopped["running"], false, "{stopped}");
            assert_eq!(stopped["node"], Value::Null, "{stopped}");

            let start = expect(&steps, "start", 0).json();
            let mail = &start["started"][0];
            assert_eq!(mail["ct"], "mail", "{start}");
            assert_eq!(mail["node"], "m2", "{start}");
            assert!(mail["steps"].as_u64().unwrap() > 0, "{start}");
            assert_eq!(mail["announced"][0]["port"], "veth2", "{start}");
            // The first offset before the start returns, the others (20, 200 ms) by its
            // background announcer (issue 17).
            assert_eq!(mail["announced"][0]["arp_sent"], 1, "{start}");
            assert_eq!(mail["later_ms"], serde_json::json!([20, 200]), "{start}");
            assert!(mail["announcer"].as_u64().is_some(), "{start}");

            let m2 = expect(&steps, "m2", 0).json();
            let veth2 = link(&m2, "veth2").unwrap_or_else(|| panic!("no veth2 on m2: {m2}"));
            assert_eq!(veth2["master"], "br0", "{veth2}");
            assert_eq!(
                veth2["address"].as_str().unwrap().to_uppercase(),
                "00:12:34:56:78:9C"
            );
            let m1 = expect(&steps, "m1", 0).json();
            assert!(link(&m1, "veth2").is_none(), "veth2 left on m1: {m1}");
            assert!(link(&m1, "veth3").is_some(), "dbms untouched on m1: {m1}");

            let moved = expect(&steps, "moved", 0).json();
            assert_eq!(moved["running"], true, "{moved}");
            assert_eq!(moved["node"], "m2", "{moved}");

            let follow = expect(&steps, "follow", 0).json();
            let order: Vec<&str> = follow["started"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["ct"].as_str().unwrap())
                .collect();
            assert_eq!(order, ["dbms", "router"], "leaves first: {follow}");
            assert_eq!(follow["started"][1]["moved_from"], "m1", "{follow}");
            expect(&steps, "ping", 0);

            let again = expect(&steps, "again", 0).json();
            assert_eq!(again["started"][0]["steps"], 0, "{again}");
            assert_eq!(again["started"][0]["mutating_requests"], 0, "{again}");

            let m9 = &steps["m9"];
            assert!(m9.code == 1 || m9.code == 2, "m9: exit {}", m9.code);
            assert!(m9.stderr.contains("m9"), "{}", m9.stderr);

            expect(&steps, "stop1", 0);
            let stop2 = expect(&steps, "stop2", 0).json();
            assert_eq!(stop2["stopped"][0]["was_running"], false, "{stop2}");
            expect(&steps, "unknown", 1);
        },
    );
}
