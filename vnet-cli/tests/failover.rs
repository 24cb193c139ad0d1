//! Kernel tests of `vnet failover-test` (issue 7): the command runs the whole scenario
//! in private namespaces of its own; these tests run it in the test's private namespaces
//! ([`vnet_testkit::isolated`]) and check that nothing is left in `/run/netns`
//! afterwards.
//!
//! - done-means 1: the matrix (m1 down / hung x uplink MAC pinned / changed x normal /
//!   4-hour-ARP observer), 10 runs per case, each case's median outage under 200 ms and
//!   no run near the failure modes' 1 s (see [`STALL_MS`]);
//! - done-means 2: without announcements the stale state shows (m1 hung: the LAN
//!   switch keeps the router's MAC on m1's port; a changed uplink MAC with a sticky
//!   observer: its ARP entry keeps the old MAC), and the gateway started first costs
//!   the 1 s ARP retry.
//!
//! A test binary of its own: cargo runs test binaries one after the other, so the other
//! kernel tests (the `cli` binary's, run in parallel) never load the machine while these
//! time outages (inside the `cli` binary, several runs went over 200 ms while LXC and
//! Podman tests ran beside them). The two tests take a lock so they do not load the
//! machine for each other either. Needs
//! root; without it prints SKIPPED, and fails when `CI` is set.

use std::collections::BTreeSet;
use std::sync::Mutex;

use serde_json::Value;

use vnet_testkit::isolated;

#[path = "cli/common.rs"]
#[allow(dead_code)] // the other helpers serve the `cli` test binary
mod common;

use common::{code, seed_path, stderr, stdout, vnet};

/// Issue 17's goal: each case's median outage is under this.
const GOAL_MS: f64 = 200.0;
/// No run may reach this. The failure modes the matrix is for cost 1 s (the gateway's
/// first packet leaves an INCOMPLETE ARP entry) to minutes (stale switch FDB or ARP
/// cache); this machine's own stalls alone (a container's netlink steps taking 40-77 ms
/// instead of 3, then ~100 ms more to the first reply) took single runs to 236-300 ms,
/// with this stop's code and with the previous stop's alike (measured 2026-12-08), so
/// "every run under 200 ms" is not a property of vnet that a test can hold here.
const STALL_MS: f64 = 500.0;

/// One failover test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// The names in (the test's private) `/run/netns` (empty when it does not exist).
fn netns_files() -> BTreeSet<String> {
    std::fs::read_dir("/run/netns")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `vnet --output json failover-test SEED EXTRA...`, checks its exit code and
/// that it left no namespace file behind, and returns its document.
fn failover(extra: &[&str], exits: &[i32]) -> Value {
    let before = netns_files();
    let seed = seed_path();
    let mut args = vec![
        "--output",
        "json",
        "failover-test",
        seed.to_str().expect("UTF-8 path"),
    ];
    args.extend_from_slice(extra);
    let out = vnet(&args);
    assert!(
        exits.contains(&code(&out)),
        "failover-test {extra:?}: exit {}: {}{}",
        code(&out),
        stdout(&out),
        stderr(&out)
    );
    let after = netns_files();
    assert!(
        after.is_subset(&before),
        "namespaces left in /run/netns: {:?}",
        after.difference(&before).collect::<Vec<_>>()
    );
    serde_json::from_str(&stdout(&out)).expect("one JSON document")
}

/// The one case of a single-case report.
fn only_case(doc: &Value) -> &Value {
    let cases = doc["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 1, "{doc}");
    &cases[0]
}

/// The observer's neighbour entry for the router's uplink address after a run.
fn uplink_entry(run: &Value) -> &Value {
    run["observer_neighbours"]
        .as_array()
        .expect("observer_neighbours")
        .iter()
        .find(|n| n["dst"] == "192.168.46.200")
        .unwrap_or_else(|| panic!("no entry for the router's uplink: {run}"))
}

#[test]
fn every_case_of_the_matrix_recovers_in_10_runs_with_a_median_under_200_ms() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    isolated(
        "every_case_of_the_matrix_recovers_in_10_runs_with_a_median_under_200_ms",
        || {
            let doc = failover(&["--matrix", "--runs", "10"], &[0, 3]);
            assert_eq!(doc["from"], "gw46", "{doc}");
            assert_eq!(doc["target"], "192.168.199.2", "{doc}");
            assert_eq!(doc["failed_node"], "m1", "{doc}");
            assert_eq!(doc["failover_node"], "m2", "{doc}");
            assert_eq!(
                doc["announce_schedule_ms"],
                serde_json::json!([0, 20, 200, 1000, 5000])
            );
            // `met` (every run under 200 ms) is reported, not held: see [`STALL_MS`].
            let cases = doc["cases"].as_array().expect("cases");
            assert_eq!(cases.len(), 8, "{doc}");
            let mut seen = BTreeSet::new();
            // The MAC the observer ends with, per uplink MAC mode.
            let mut macs: [BTreeSet<String>; 2] = Default::default();
            for c in cases {
                let key = (
                    c["fail"].as_str().unwrap().to_string(),
                    c["uplink_mac"].as_str().unwrap().to_string(),
                    c["observer"].as_str().unwrap().to_string(),
                );
                seen.insert(key.clone());
                let runs = c["runs"].as_array().expect("runs");
                assert_eq!(runs.len(), 10, "{key:?}");
                for r in runs {
                    assert_eq!(r["recovered"], true, "{key:?}: {r}");
                    assert_eq!(
                        r["started"],
                        serde_json::json!(["mail", "dbms", "router"]),
                        "{r}"
                    );
                    // The observer saw the target before and after, and the failure cost it
                    // at least one echo (the outage is not a measuring artefact).
                    let (sent, lost) = (r["sent"].as_u64().unwrap(), r["lost"].as_u64().unwrap());
                    assert!(sent > 50 && lost >= 1 && lost < sent / 2, "{key:?}: {r}");
                    let ms = r["outage_ms"].as_f64().unwrap();
                    assert!((10.0..STALL_MS).contains(&ms), "{key:?}: {r}");
                    assert!(r["announcements"].as_u64().unwrap() >= 4, "{r}");
                    let entry = uplink_entry(r);
                    let mac = entry["lladdr"].as_str().expect("resolved").to_string();
                    macs[usize::from(key.1 == "changed")].insert(mac);
                }
                eprintln!(
                    "failover matrix {key:?}: min {} / median {} / max {} ms",
                    c["min_ms"], c["median_ms"], c["max_ms"]
                );
                assert!(c["median_ms"].as_f64().unwrap() < GOAL_MS, "{key:?}: {c}");
            }
            assert_eq!(seen.len(), 8, "every combination once: {seen:?}");
            // Pinned: one MAC on both nodes. Changed: the observer ends on m2's own MAC, which
            // is the same in every changed run and not the pinned one.
            assert_eq!(macs[0].len(), 1, "{macs:?}");
            assert_eq!(macs[1].len(), 1, "{macs:?}");
            assert!(macs[0].is_disjoint(&macs[1]), "{macs:?}");
        },
    );
}

#[test]
fn without_announcements_the_stale_state_shows_and_the_gateway_first_waits_1_s() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    isolated(
        "without_announcements_the_stale_state_shows_and_the_gateway_first_waits_1_s",
        || {
            let cap = ["--cap-ms", "3000"];

            // m1 hung: the switch sends the router's MAC to m1's port, where nothing answers.
            let doc = failover(
                &[&cap[..], &["--fail", "hung", "--no-announce"]].concat(),
                &[3],
            );
            let run = &only_case(&doc)["runs"][0];
            eprintln!("failover-test, m1 hung, no announcements: {run}");
            assert_eq!(doc["announce"], false, "{doc}");
            assert_eq!(run["announcements"], 0, "{run}");
            assert!(
                run["recovered"] == false || run["outage_ms"].as_f64().unwrap() >= 1000.0,
                "{run}"
            );

            // A changed uplink MAC and a 4-hour-ARP observer: its entry keeps the old MAC.
            let doc = failover(
                &[
                    &cap[..],
                    &[
                        "--uplink-mac",
                        "changed",
                        "--observer",
                        "sticky",
                        "--no-announce",
                    ],
                ]
                .concat(),
                &[3],
            );
            let case = only_case(&doc);
            let run = &case["runs"][0];
            eprintln!("failover-test, changed MAC, sticky observer, no announcements: {run}");
            assert_eq!(run["recovered"], false, "{run}");
            assert_eq!(run["outage_ms"].as_f64().unwrap(), 3000.0, "{run}");
            assert_eq!(case["unrecovered"], 1, "{case}");
            let entry = uplink_entry(run);
            assert_eq!(entry["state"], serde_json::json!(["REACHABLE"]), "{run}");

            // The gateway first: its first forwarded echo leaves an INCOMPLETE ARP entry for
            // mail, retried after 1 s (issue 7).
            let doc = failover(
                &[&cap[..], &["--gateway-first", "--no-announce"]].concat(),
                &[3],
            );
            let run = &only_case(&doc)["runs"][0];
            eprintln!("failover-test, gateway first, no announcements: {run}");
            assert_eq!(
                run["started"],
                serde_json::json!(["router", "mail", "dbms"]),
                "{run}"
            );
            assert_eq!(run["recovered"], true, "{run}");
            assert!(run["outage_ms"].as_f64().unwrap() >= 500.0, "{run}");

            // An unknown observer is a usage error, passed on from inside the private
            // namespaces; a case option with --matrix is one too (clap, before anything runs).
            let seed = seed_path();
            let seed = seed.to_str().expect("UTF-8 path");
            let out = vnet(&["failover-test", seed, "--from", "nosuch"]);
            assert_eq!(code(&out), 2, "{}", stderr(&out));
            assert!(
                stderr(&out).contains("no LAN host nosuch"),
                "{}",
                stderr(&out)
            );
            let out = vnet(&["failover-test", seed, "--matrix", "--fail", "hung"]);
            assert_eq!(code(&out), 2, "{}", stderr(&out));
        },
    );
}
