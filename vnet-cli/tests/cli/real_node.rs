//! `vnet apply FILE --node m1 --this-host` on namespaces vnet did not create (issue 16):
//! the containers' namespaces are made as a runtime makes them (`ip netns add`, which
//! leaves `lo` down), the node's NIC is there, and vnet runs in the test's private
//! namespace, which plays node m1.

use vnet_testkit::isolated;

use crate::kernel::{expect, run_steps};

#[test]
fn a_node_whose_containers_lo_is_down_converges() {
    isolated(
        "real_node::a_node_whose_containers_lo_is_down_converges",
        || {
            let node = "--node m1 --this-host";
            let steps = run_steps(&[
                (
                    "setup",
                    "ip netns add router && ip netns add mail && ip netns add dbms && \
                 ip link add eth1 type veth peer name lanport",
                ),
                ("lo before", "ip -n dbms -j link show lo"),
                ("dry run", &format!("$VNET apply $SEED {node} --dry-run")),
                ("apply", &format!("$VNET apply $SEED {node}")),
                ("lo after", "ip -n dbms -j link show lo"),
                // Static neighbours: the neighbour table is one for the whole machine
                // (FINDINGS) and tests running meanwhile can fill it; the path vnet built is
                // what is checked, not ARP.
                (
                    "ping",
                    "ip -n mail neigh replace 192.168.199.1 lladdr 00:12:34:56:78:9b dev eth0 \
                 nud permanent && ip -n router neigh replace 192.168.199.2 lladdr \
                 00:12:34:56:78:9d dev eth0 nud permanent && for i in 1 2 3 4 5; do \
                 ip netns exec mail ping -c1 -W1 192.168.199.1 && exit 0; done; exit 1",
                ),
                ("router", "ip -n router -br address show"),
                ("diff", &format!("$VNET diff $SEED {node}")),
                ("again", &format!("$VNET --output json apply $SEED {node}")),
                ("lo taken down", "ip -n mail link set lo down"),
                ("drift", &format!("$VNET diff $SEED {node}")),
                ("repair", &format!("$VNET apply $SEED {node}")),
                ("repaired", &format!("$VNET diff $SEED {node}")),
                ("destroy", &format!("$VNET destroy $SEED {node}")),
                ("nic back", "ip -br link show eth1"),
                ("lo left up", "ip -n dbms -j link show lo"),
                (
                    "cleanup",
                    "ip netns del router; ip netns del mail; ip netns del dbms; ip link del eth1",
                ),
            ]);
            expect(&steps, "setup", 0);
            let is_up = |s: &str| s.contains("\"UP\"") || s.contains("UP,");
            assert!(
                !is_up(&expect(&steps, "lo before", 0).stdout),
                "ip netns add leaves lo down"
            );
            let dry = &expect(&steps, "dry run", 0).stdout;
            for ct in ["router", "mail", "dbms"] {
                assert!(
                    dry.contains(&format!("ip -n {ct} link set lo up")),
                    "the plan brings {ct}'s lo up:\n{dry}"
                );
            }
            expect(&steps, "apply", 0);
            assert!(is_up(&expect(&steps, "lo after", 0).stdout));
            expect(&steps, "ping", 0);
            let router = &expect(&steps, "router", 0).stdout;
            assert!(
                router.contains("192.168.46.200/24"),
                "the NIC is in the router: {router}"
            );
            expect(&steps, "diff", 0);
            let again = &expect(&steps, "again", 0).stdout;
            assert!(
                again.contains("\"steps\":0") || again.contains("\"steps\": 0"),
                "{again}"
            );
            let drift = &expect(&steps, "drift", 3).stdout;
            assert!(drift.contains("lo"), "diff names mail's lo:\n{drift}");
            expect(&steps, "repair", 0);
            expect(&steps, "repaired", 0);
            expect(&steps, "destroy", 0);
            expect(&steps, "nic back", 0);
            assert!(
                is_up(&expect(&steps, "lo left up", 0).stdout),
                "lo is the machine's: left up"
            );
            expect(&steps, "cleanup", 0);
        },
    );
}
