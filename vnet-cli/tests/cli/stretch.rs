//! Kernel test of a bridge stretched across two nodes with VXLAN (issue 7, done-means 4):
//! `examples/stretch.toml` applied in the sandbox (router and web on m1, db on m2, the
//! nodes' underlays on a LAN of their own), the verify matrix all green (db on m2 reaches
//! the router on m1 and the LAN host behind it over the tunnel), a re-apply that changes
//! nothing, a deleted flooding FDB entry found as drift and repaired, and a destroy that
//! leaves no namespace. Runs in a private network + mount namespace (see `kernel`).

use serde_json::Value;

use vnet_testkit::isolated;

use crate::kernel::{expect, run_steps};

fn stretch_path() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/stretch.toml").to_string()
}

#[test]
fn stretched_bridge_verifies_across_nodes_and_reapplies_clean() {
    isolated(
        "stretch::stretched_bridge_verifies_across_nodes_and_reapplies_clean",
        || {
            let f = stretch_path();
            let cmd = |args: &str| format!("$VNET {args}").replace("FILE", &format!("\"{f}\""));
            let steps = run_steps(&[
                ("apply", &cmd("--output json apply FILE --sandbox")),
                ("again", &cmd("--output json apply FILE --sandbox")),
                ("verify", &cmd("--output json verify FILE --sandbox")),
                ("link", "ip -n vnet-m2 -d -j link show vx-br0"),
                ("fdb", "bridge -n vnet-m2 fdb show dev vx-br0"),
                (
                    "break",
                    "bridge -n vnet-m1 fdb del 00:00:00:00:00:00 dev vx-br0 dst 198.18.100.2",
                ),
                ("drift", &cmd("diff FILE --sandbox")),
                ("repair", &cmd("--output json apply FILE --sandbox")),
                ("clean", &cmd("diff FILE --sandbox")),
                ("verify_again", &cmd("--output json verify FILE --sandbox")),
                ("destroy", &cmd("destroy FILE --sandbox")),
                ("left", "ip netns list"),
            ]);
            let apply = expect(&steps, "apply", 0).json();
            assert_eq!(apply["verified"], true, "{apply}");
            let again = expect(&steps, "again", 0).json();
            assert_eq!(again["steps"], 0, "re-apply plans nothing: {again}");
            assert_eq!(again["mutating_requests"], 0, "{again}");

            let verify = expect(&steps, "verify", 0).json();
            assert_eq!(verify["matched"], true, "{verify}");
            let probes = verify["probes"].as_array().unwrap();
            for p in probes {
                assert_eq!(p["expected"], p["seen"], "{p}");
            }
            let seen = |from: &str, to: &str| {
                probes
                    .iter()
                    .find(|p| p["from"] == from && p["to"] == to)
                    .unwrap_or_else(|| panic!("a probe {from} -> {to}: {verify}"))["seen"]
                    .clone()
            };
            // Across the tunnel: db (m2) to the router (m1), and through it to the LAN.
            assert_eq!(seen("ct db", "198.18.1.1"), true);
            assert_eq!(seen("ct db", "198.19.0.1"), true);
            assert_eq!(seen("host gw", "198.18.1.3"), true);
            assert_eq!(seen("ct web", "198.18.1.3"), true);

            let link: Value = serde_json::from_str(&expect(&steps, "link", 0).stdout).unwrap();
            let info = &link[0]["linkinfo"];
            assert_eq!(info["info_kind"], "vxlan", "{link}");
            assert_eq!(info["info_data"]["id"], 199, "{link}");
            assert_eq!(info["info_data"]["local"], "198.18.100.2", "{link}");
            assert_eq!(info["info_data"]["port"], 4789, "{link}");
            assert_eq!(info["info_data"]["link"], "eth0", "{link}");
            assert_eq!(link[0]["master"], "br0", "{link}");
            assert_eq!(link[0]["mtu"], 1450, "{link}");
            let fdb = &expect(&steps, "fdb", 0).stdout;
            assert!(
                fdb.contains("00:00:00:00:00:00 dst 198.18.100.1 self permanent"),
                "{fdb}"
            );

            expect(&steps, "break", 0);
            let drift = expect(&steps, "drift", 3);
            assert!(
                drift.stdout.contains("link vx-br0 kind"),
                "{}",
                drift.stdout
            );
            assert!(
                drift.stdout.contains(
                    "bridge -n vnet-m1 fdb append 00:00:00:00:00:00 dev vx-br0 dst 198.18.100.2"
                ),
                "{}",
                drift.stdout
            );
            let repair = expect(&steps, "repair", 0).json();
            assert_eq!(repair["verified"], true, "{repair}");
            expect(&steps, "clean", 0);
            let verify = expect(&steps, "verify_again", 0).json();
            assert_eq!(verify["matched"], true, "{verify}");

            expect(&steps, "destroy", 0);
            assert_eq!(
                expect(&steps, "left", 0).stdout.trim(),
                "",
                "nothing is left"
            );
        },
    );
}
