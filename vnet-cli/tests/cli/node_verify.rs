//! `vnet verify FILE --node m1 --this-host` on a real node (issue 16, point 4): the
//! test's private namespace plays node m1, with container namespaces made as a runtime
//! makes them (`ip netns add`) and the NIC present; the article's bridge has an address
//! of the node's own. Verify probes every pair whose ends are both on m1 (the three
//! containers and the node through its bridge address), lists the pairs with an end
//! elsewhere (node m2, the LAN host gw46) as not probed here with the reason, and exits
//! 0; so is a container whose namespace is not here but which may run on m2. A
//! container that can run only on m1 and is not found makes it exit 3, as does a probed
//! pair broken by hand.

use vnet_testkit::isolated;

use crate::kernel::{expect, run_steps};

#[test]
fn verify_on_a_node_probes_the_pairs_on_it_and_lists_the_rest() {
    isolated(
        "node_verify::verify_on_a_node_probes_the_pairs_on_it_and_lists_the_rest",
        || {
            let node = "--node m1 --this-host";
            let steps = run_steps(&[
                (
                    "setup",
                    "sed 's/^nodes = \\[\"m1\", \"m2\"\\]$/&\\naddresses = [\"192.168.199.254\\/24\"]/' \
                     $SEED >$D/node.toml && grep -q 192.168.199.254 $D/node.toml && \
                     ip netns add router && ip netns add mail && ip netns add dbms && \
                     ip link add eth1 type veth peer name lanport",
                ),
                ("apply", &format!("$VNET apply $D/node.toml {node}")),
                ("verify", &format!("$VNET verify $D/node.toml {node}")),
                (
                    "json",
                    &format!("$VNET --output json verify $D/node.toml {node}"),
                ),
                (
                    "all",
                    &format!("$VNET --output json verify $D/node.toml {node} --pairs all"),
                ),
                (
                    "variants",
                    "sed 's/^name = \"mail\"$/&\\nnetns = \"name:mail-away\"/' $D/node.toml >$D/away.toml && \
                     sed -e '/^failover = /d' -e 's/^name = \"dbms\"$/&\\nnetns = \"name:dbms-away\"/' \
                     $D/node.toml >$D/missing.toml && grep -c -- -away $D/away.toml $D/missing.toml",
                ),
                (
                    "away",
                    &format!("$VNET --output json verify $D/away.toml {node}"),
                ),
                ("missing", &format!("$VNET verify $D/missing.toml {node}")),
                ("break", "ip -n mail route del 192.168.0.0/16"),
                (
                    "broken",
                    &format!("$VNET verify $D/node.toml {node} --timeout 1000"),
                ),
                ("destroy", &format!("$VNET destroy $D/node.toml {node}")),
                (
                    "cleanup",
                    "ip netns del router; ip netns del mail; ip netns del dbms; ip link del eth1",
                ),
            ]);
            expect(&steps, "setup", 0);
            expect(&steps, "apply", 0);

            let human = &expect(&steps, "verify", 0).stdout;
            assert!(human.contains("probes as the model expects"), "{human}");
            assert!(
                human.contains("not probed here:")
                    && human.contains("host gw46: a host on LAN lan46, outside node m1")
                    && human.contains("node m2: node m2 is another machine (this is m1)"),
                "{human}"
            );

            let doc = expect(&steps, "json", 0).json();
            assert_eq!(doc["matched"], true, "{doc:#}");
            let here = ["ct router", "ct mail", "ct dbms", "node m1"];
            let probes = doc["probes"].as_array().expect("probes");
            // From each of the 4 ends to the addresses of the other 3 (the router has
            // two, the node's 192.168.199.254 is m1's own): every pair on m1.
            assert_eq!(probes.len(), 4 * 5 - 5, "{doc:#}");
            for p in probes {
                let (from, to) = (p["from"].as_str().unwrap(), p["to_ns"].as_str().unwrap());
                assert!(here.contains(&from) && here.contains(&to), "{p}");
            }
            let node_probes = probes
                .iter()
                .filter(|p| p["from"] == "node m1" || p["to_ns"] == "node m1")
                .count();
            assert!(node_probes >= 6, "through the node's own address: {doc:#}");
            let answered = probes.iter().filter(|p| p["seen"] == true).count();
            assert!(answered >= 10, "{doc:#}");
            let elsewhere = &doc["not_probed_here"];
            let mut ends: Vec<&str> = elsewhere["ends"]
                .as_array()
                .expect("ends elsewhere")
                .iter()
                .map(|e| e["ns"].as_str().unwrap())
                .collect();
            ends.sort();
            assert_eq!(ends, ["host gw46", "node m2"], "{doc:#}");
            assert!(
                elsewhere["pairs"].as_u64().unwrap() > 0,
                "pairs with gw46 or m2 are counted: {doc:#}"
            );

            let all = expect(&steps, "all", 0).json();
            assert_eq!(all["matched"], true, "{all:#}");
            assert_eq!(all["probes"].as_array().map(Vec::len), Some(probes.len()));

            expect(&steps, "variants", 0);
            let away = expect(&steps, "away", 0).json();
            assert_eq!(away["matched"], true, "{away:#}");
            let mail = away["not_probed_here"]["ends"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["ns"] == "ct mail")
                .unwrap_or_else(|| panic!("mail is elsewhere: {away:#}"));
            assert_eq!(
                mail["reason"],
                "not running on node m1: /run/netns/mail-away does not exist; it may run on m2"
            );
            assert!(away["probes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["from"] != "ct mail" && p["to_ns"] != "ct mail"));
            let missing = &expect(&steps, "missing", 3).stdout;
            assert!(
                missing.contains(
                    "missing: ct dbms: not running on node m1: /run/netns/dbms-away does not \
                     exist, and it runs on no other node"
                ),
                "{missing}"
            );

            let broken = &expect(&steps, "broken", 3).stdout;
            assert!(
                broken.contains("ct mail -> 192.168.46.200 (ct router): expected an answer"),
                "{broken}"
            );
            expect(&steps, "destroy", 0);
            expect(&steps, "cleanup", 0);
        },
    );
}
