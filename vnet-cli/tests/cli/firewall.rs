//! Kernel test of the firewall topology through the `vnet` binary: `apply --sandbox`;
//! after `nft flush ruleset` in the router, `diff` and `verify` exit 3 (drift) and name
//! what is missing, and `apply` repairs it (issue 20's done-means chain). Runs in private
//! namespaces of its own ([`vnet_testkit::isolated`]).

use serde_json::Value;
use vnet_testkit::isolated;

use crate::kernel::{expect, run_steps};

/// `examples/firewall.toml` (the router masquerades, forwards SMTP and submission to
/// mail, drops the rest from the LAN; dbms answers mail only).
fn firewall_path() -> String {
    vnet_testkit::example_path("firewall.toml")
        .to_str()
        .expect("a UTF-8 path")
        .to_string()
}

/// Whether the probe `from` -> `to` was answered, in a `verify --output json` document.
fn seen(verify: &Value, from: &str, to: &str) -> Value {
    verify["probes"]
        .as_array()
        .expect("probes")
        .iter()
        .find(|p| p["from"] == from && p["to"] == to)
        .unwrap_or_else(|| panic!("a probe {from} -> {to} in {verify}"))["seen"]
        .clone()
}

#[test]
fn a_flushed_firewall_is_drift_and_apply_repairs_it() {
    isolated(
        "firewall::a_flushed_firewall_is_drift_and_apply_repairs_it",
        || {
            let fw = firewall_path();
            let cmd = |c: &str| c.replace("$FW", &fw);
            let steps = [
                ("apply", cmd("$VNET --output json apply $FW --sandbox")),
                (
                    "verify",
                    cmd("$VNET --output json verify $FW --sandbox --timeout 1000"),
                ),
                ("clean", cmd("$VNET diff $FW --sandbox")),
                (
                    "flush",
                    "ip netns exec vnet-router nft flush ruleset".into(),
                ),
                ("drift", cmd("$VNET diff $FW --sandbox")),
                ("drift_json", cmd("$VNET --output json diff $FW --sandbox")),
                (
                    "broken",
                    cmd("$VNET --output json verify $FW --sandbox --timeout 1000"),
                ),
                ("repair", cmd("$VNET --output json apply $FW --sandbox")),
                (
                    "table",
                    "ip netns exec vnet-router nft list table inet vnet".into(),
                ),
                ("repaired", cmd("$VNET diff $FW --sandbox")),
                (
                    "verify_again",
                    cmd("$VNET --output json verify $FW --sandbox --timeout 1000"),
                ),
                ("destroy", cmd("$VNET destroy $FW --sandbox")),
            ];
            let steps: Vec<(&str, &str)> = steps.iter().map(|(n, c)| (*n, c.as_str())).collect();
            let steps = run_steps(&steps);

            let apply = expect(&steps, "apply", 0).json();
            assert_eq!(apply["verified"], true, "{apply}");
            // The router's forward policy drops what the LAN host sends to mail itself
            // (only the port forwards pass). Whether verify exits 0 depends on the model
            // knowing the filter (issue 20 point 4), so only the probe is checked here.
            let verify = steps["verify"].json();
            assert_eq!(
                seen(&verify, "host gw46", "192.168.199.2"),
                false,
                "{verify}"
            );
            expect(&steps, "clean", 0);
            expect(&steps, "flush", 0);

            let drift = expect(&steps, "drift", 3);
            assert!(
                drift
                    .stdout
                    .contains("ct router (vnet-router): firewall missing"),
                "{}",
                drift.stdout
            );
            assert!(
                drift.stdout.contains("load the firewall table"),
                "{}",
                drift.stdout
            );
            let drift_json = expect(&steps, "drift_json", 3).json();
            let plan = drift_json["plan"]["steps"]
                .as_array()
                .expect("a repair plan");
            assert_eq!(plan.len(), 1, "{drift_json}");

            // Without the table the LAN host reaches mail itself: verify sees it and exits 3.
            let broken = expect(&steps, "broken", 3).json();
            assert_eq!(
                seen(&broken, "host gw46", "192.168.199.2"),
                true,
                "{broken}"
            );

            let repair = expect(&steps, "repair", 0).json();
            assert_eq!(repair["steps"], 1, "{repair}");
            assert_eq!(repair["verified"], true, "{repair}");
            let table = expect(&steps, "table", 0);
            assert!(
                table
                    .stdout
                    .contains("ip daddr 192.168.46.200 tcp dport 25 dnat ip to 192.168.199.2:25"),
                "{}",
                table.stdout
            );
            let repaired = expect(&steps, "repaired", 0);
            assert!(repaired.stdout.contains("no drift"), "{}", repaired.stdout);
            let again = steps["verify_again"].json();
            assert_eq!(seen(&again, "host gw46", "192.168.199.2"), false, "{again}");
            expect(&steps, "destroy", 0);
        },
    );
}
