//! Kernel tests of `apply`, `diff`, `destroy`, `verify`, `show` and `demo` on the
//! article's topology.
//!
//! Every test runs its `vnet` commands in private namespaces of its own
//! ([`vnet_testkit::isolated`], with a tmpfs on `/run/netns`): the sandbox namespaces,
//! their files and every link live only there and vanish with the test's child process,
//! also when an assertion fails. Nothing reaches the machine's network namespace or its
//! `/run/netns`. They need root; without it they print SKIPPED, and fail when `CI` is set.

use std::collections::BTreeMap;

use serde_json::Value;

use vnet_testkit::{isolated, sh, Outcome};

use crate::common::{seed_path, TempDir};

/// Runs `steps` (shell commands using `$VNET`, `$SEED` and a scratch directory `$D`) one
/// after another in the test's private namespaces ([`isolated`]), recording each one's
/// exit code and output even when it fails; returns them by name.
pub(crate) fn run_steps(steps: &[(&str, &str)]) -> BTreeMap<String, Outcome> {
    let dir = TempDir::new("kernel-steps");
    let seed = seed_path();
    let env = [
        ("VNET", env!("CARGO_BIN_EXE_vnet")),
        ("SEED", seed.to_str().expect("UTF-8 path")),
        ("D", dir.0.to_str().expect("UTF-8 path")),
        ("NO_COLOR", "1"),
    ];
    steps
        .iter()
        .map(|(name, command)| (name.to_string(), sh(command, &env)))
        .collect()
}

/// The step `name`, checked to have exited with `code`.
pub(crate) fn expect<'a>(
    steps: &'a BTreeMap<String, Outcome>,
    name: &str,
    code: i32,
) -> &'a Outcome {
    let s = &steps[name];
    assert_eq!(
        s.code, code,
        "step {name}: exit {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
        s.code, s.stdout, s.stderr
    );
    s
}

#[test]
fn seed_apply_verify_drift_repair_destroy() {
    isolated("kernel::seed_apply_verify_drift_repair_destroy", || {
        let steps = run_steps(&[
            ("apply", "$VNET --output json apply $SEED --sandbox"),
            ("again", "$VNET --output json apply $SEED --sandbox"),
            ("verify", "$VNET --output json verify $SEED --sandbox"),
            ("show", "$VNET --output json show $SEED --sandbox"),
            ("break", "ip -n vnet-mail route del 192.168.0.0/16"),
            ("broken", "$VNET verify $SEED --sandbox --timeout 1000"),
            (
                "broken_json",
                "$VNET --output json verify $SEED --sandbox --timeout 1000",
            ),
            ("drift", "$VNET diff $SEED --sandbox"),
            ("drift_json", "$VNET --output json diff $SEED --sandbox"),
            ("repair", "$VNET --output json apply $SEED --sandbox"),
            ("clean", "$VNET diff $SEED --sandbox"),
            ("destroy", "$VNET destroy $SEED --sandbox"),
            ("left", "ip netns list"),
            (
                "destroy_again",
                "$VNET --output json destroy $SEED --sandbox",
            ),
        ]);
        let apply = expect(&steps, "apply", 0).json();
        assert!(apply["steps"].as_u64().unwrap() > 30, "{apply}");
        assert_eq!(apply["namespaces_created"], 7, "{apply}");
        assert!(apply["mutating_requests"].as_u64().unwrap() > 0, "{apply}");
        assert_eq!(apply["verified"], true, "{apply}");
        assert!(apply["elapsed_ms"].is_u64(), "{apply}");

        let again = expect(&steps, "again", 0).json();
        assert_eq!(
            again["mutating_requests"], 0,
            "re-apply changes nothing: {again}"
        );
        assert_eq!(again["steps"], 0, "{again}");

        // Issue 6: an all-green matrix, every pair the model expects answered.
        let verify = expect(&steps, "verify", 0).json();
        assert_eq!(verify["matched"], true, "{verify}");
        let probes = verify["probes"].as_array().unwrap();
        assert!(probes.len() >= 15, "{verify}");
        for p in probes {
            assert_eq!(p["expected"], p["seen"], "{p}");
            if p["seen"] == true {
                assert!(p["rtt_ms"].as_f64().is_some(), "{p}");
            }
        }
        let seen = |from: &str, to: &str, probes: &[Value]| {
            probes
                .iter()
                .find(|p| p["from"] == from && p["to"] == to)
                .unwrap_or_else(|| panic!("a probe {from} -> {to}"))["seen"]
                .clone()
        };
        assert_eq!(seen("ct mail", "192.168.46.1", probes), true);

        let show = expect(&steps, "show", 0).json();
        let mail = show["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["ns"] == "ct mail")
            .expect("ct mail is shown");
        assert_eq!(mail["namespace"], "vnet-mail");
        assert_eq!(mail["links"]["eth0"]["up"], true, "{mail}");
        assert_eq!(mail["routes"][0]["dst"], "192.168.0.0/16", "{mail}");

        expect(&steps, "break", 0);
        let broken = expect(&steps, "broken", 3);
        assert!(
            broken
                .stdout
                .contains("ct mail -> 192.168.46.1 (host gw46): expected an answer"),
            "{}",
            broken.stdout
        );
        assert!(broken.stdout.contains('✗'), "{}", broken.stdout);
        let broken_json = expect(&steps, "broken_json", 3).json();
        let probes = broken_json["probes"].as_array().unwrap();
        assert_eq!(seen("ct mail", "192.168.46.1", probes), false);
        assert_eq!(seen("host gw46", "192.168.199.2", probes), false);
        // mail still reaches its own subnet: the route only carries the rest.
        assert_eq!(seen("ct mail", "192.168.199.1", probes), true);

        let drift = expect(&steps, "drift", 3);
        assert!(
            drift
                .stdout
                .contains("ct mail (vnet-mail): route 192.168.0.0/16 missing"),
            "{}",
            drift.stdout
        );
        assert!(
            drift
                .stdout
                .contains("route add 192.168.0.0/16 via 192.168.199.1"),
            "{}",
            drift.stdout
        );
        let drift_json = expect(&steps, "drift_json", 3).json();
        assert_eq!(
            drift_json["drift"].as_array().unwrap().len(),
            1,
            "{drift_json}"
        );
        assert_eq!(drift_json["drift"][0]["object"], "route 192.168.0.0/16");
        assert_eq!(drift_json["plan"]["steps"].as_array().unwrap().len(), 1);

        let repair = expect(&steps, "repair", 0).json();
        assert_eq!(repair["steps"], 1, "{repair}");
        assert_eq!(repair["mutating_requests"], 1, "{repair}");
        let clean = expect(&steps, "clean", 0);
        assert!(clean.stdout.contains("no drift"), "{}", clean.stdout);

        expect(&steps, "destroy", 0);
        assert_eq!(
            expect(&steps, "left", 0).stdout.trim(),
            "",
            "namespaces left behind"
        );
        let again = expect(&steps, "destroy_again", 0).json();
        assert_eq!(again["removed"], 0, "{again}");
    });
}

#[test]
fn dry_runs_change_nothing() {
    isolated("kernel::dry_runs_change_nothing", || {
        let steps = run_steps(&[
            ("plan", "$VNET apply $SEED --sandbox --prefix t2 --dry-run"),
            ("none", "ip netns list"),
            ("apply", "$VNET apply $SEED --sandbox --prefix t2"),
            ("break", "ip -n t2-mail route del 192.168.0.0/16"),
            (
                "repair_plan",
                "$VNET --output json apply $SEED --sandbox --prefix t2 --dry-run",
            ),
            ("still", "$VNET diff $SEED --sandbox --prefix t2"),
            (
                "teardown_plan",
                "$VNET destroy $SEED --sandbox --prefix t2 --dry-run",
            ),
            ("kept", "ip netns list"),
        ]);
        let plan = expect(&steps, "plan", 0);
        assert!(
            plan.stdout.contains("ip netns add t2-m1"),
            "{}",
            plan.stdout
        );
        assert_eq!(expect(&steps, "none", 0).stdout.trim(), "");
        let apply = expect(&steps, "apply", 0);
        assert!(
            apply.stdout.contains("built 7 namespaces"),
            "{}",
            apply.stdout
        );
        expect(&steps, "break", 0);
        let repair = expect(&steps, "repair_plan", 0).json();
        assert_eq!(repair["steps"], 1, "{repair}");
        assert_eq!(repair["dry_run"], true);
        // The dry run repaired nothing.
        expect(&steps, "still", 3);
        let teardown = expect(&steps, "teardown_plan", 0);
        assert!(
            teardown.stdout.contains("delete namespace"),
            "{}",
            teardown.stdout
        );
        assert_eq!(expect(&steps, "kept", 0).stdout.lines().count(), 7);
    });
}

#[test]
fn the_shell_backend_builds_the_same_network() {
    isolated("kernel::the_shell_backend_builds_the_same_network", || {
        let steps = run_steps(&[
            (
                "apply",
                "$VNET --output json apply $SEED --sandbox --backend shell",
            ),
            ("diff", "$VNET diff $SEED --sandbox"),
            ("verify", "$VNET verify $SEED --sandbox"),
            ("netlink", "$VNET --output json apply $SEED --sandbox"),
            ("destroy", "$VNET destroy $SEED --sandbox"),
            ("left", "ip netns list"),
        ]);
        let apply = expect(&steps, "apply", 0).json();
        assert_eq!(apply["backend"], "shell");
        assert!(apply["commands"].as_u64().unwrap() > 30, "{apply}");
        assert_eq!(apply["verified"], true);
        expect(&steps, "diff", 0);
        let verify = expect(&steps, "verify", 0);
        assert!(
            verify.stdout.contains("all 15 probes as the model expects"),
            "{}",
            verify.stdout
        );
        let netlink = expect(&steps, "netlink", 0).json();
        assert_eq!(netlink["mutating_requests"], 0, "the same state: {netlink}");
        expect(&steps, "destroy", 0);
        assert_eq!(expect(&steps, "left", 0).stdout.trim(), "");
    });
}

/// Puts in `$D/bin` an `ip` that runs the real one and, right after the command that
/// brings mail's host end `veth2` up, takes it down again: a change behind vnet's back
/// between its last step and its verification, at a fixed point.
const MEDDLING_IP: &str = r#"real=$(command -v ip) && mkdir -p "$D/bin" && printf '%s\n' '#!/bin/sh' "\"$real\" \"\$@\"; rc=\$?" 'case "$*" in "-n vnet-m1 link set veth2 up") "'"$real"'" -n vnet-m1 link set veth2 down ;; esac' 'exit $rc' > "$D/bin/ip" && chmod +x "$D/bin/ip""#;

/// The shell backend's apply, whose verification fails, is undone (the netlink
/// backend's own test, with a hook at the same point: `vnet-backend-netlink/tests/
/// seed.rs`).
#[test]
fn an_apply_whose_verification_fails_is_undone() {
    isolated(
        "kernel::an_apply_whose_verification_fails_is_undone",
        || {
            let steps = run_steps(&[
                ("meddler", MEDDLING_IP),
                (
                    "apply",
                    "PATH=\"$D/bin:$PATH\" $VNET apply $SEED --sandbox --backend shell",
                ),
                ("left", "ip netns list"),
            ]);
            expect(&steps, "meddler", 0);
            let apply = expect(&steps, "apply", 3);
            for part in [
                "applied, but verification failed",
                "applied steps undone",
                "link veth2: up is false, expected true",
            ] {
                assert!(apply.stderr.contains(part), "{}", apply.stderr);
            }
            assert_eq!(
                expect(&steps, "left", 0).stdout.trim(),
                "",
                "the sandbox is gone"
            );
        },
    );
}

/// `vnet apply` killed with SIGKILL at 13 moments from 1 ms to 150 ms in (creating
/// namespaces, links, addresses, ...): each time, the next apply finishes the network
/// and a destroy leaves nothing (FINDINGS case 26). A namespace gets its name only once
/// it is marked, and an unmarked link in vnet's own namespace counts as vnet's.
#[test]
fn an_apply_killed_at_any_moment_is_finished_by_the_next_and_destroyed_clean() {
    isolated(
        "kernel::an_apply_killed_at_any_moment_is_finished_by_the_next_and_destroyed_clean",
        || {
            let round =
        "for d in 0.001 0.003 0.005 0.008 0.01 0.015 0.02 0.03 0.04 0.06 0.08 0.1 0.15; do \
         $VNET apply $SEED --sandbox >/dev/null 2>&1 & p=$!; sleep $d; kill -9 $p 2>/dev/null; \
         wait $p 2>/dev/null; \
         $VNET apply $SEED --sandbox >/dev/null 2>\"$D/apply.$d\"; a=$?; \
         $VNET destroy $SEED --sandbox >/dev/null 2>\"$D/destroy.$d\"; x=$?; \
         echo \"$d apply $a destroy $x left $(ls /run/netns | wc -l)\"; \
         [ $a = 0 ] || cat \"$D/apply.$d\"; [ $x = 0 ] || cat \"$D/destroy.$d\"; \
         done";
            let steps = run_steps(&[("rounds", round)]);
            let rounds = expect(&steps, "rounds", 0);
            let lines: Vec<&str> = rounds.stdout.lines().collect();
            assert_eq!(lines.len(), 13, "{}", rounds.stdout);
            for line in lines {
                assert!(
                    line.ends_with("apply 0 destroy 0 left 0"),
                    "killed after {line}\n{}",
                    rounds.stdout
                );
            }
        },
    );
}

/// Without CAP_NET_ADMIN (or CAP_SYS_ADMIN, for namespaces) vnet refuses before any
/// change, naming the capability, exit 4 (FINDINGS case 20). `setpriv` (util-linux)
/// drops it from the bounding set, so root's `vnet` starts without it.
#[test]
fn a_missing_capability_is_named_before_any_change() {
    isolated(
        "kernel::a_missing_capability_is_named_before_any_change",
        || {
            let steps = run_steps(&[
                (
                    "no_net_admin",
                    "setpriv --bounding-set=-net_admin $VNET apply $SEED --sandbox",
                ),
                ("left", "ls /run/netns | wc -l"),
                ("applied", "$VNET apply $SEED --sandbox"),
                (
                    "no_sys_admin",
                    "setpriv --bounding-set=-sys_admin $VNET destroy $SEED --sandbox",
                ),
                ("kept", "ls /run/netns | wc -l"),
                ("destroy", "$VNET destroy $SEED --sandbox"),
            ]);
            let refused = expect(&steps, "no_net_admin", 4);
            assert!(
                refused.stderr.contains("missing capability CAP_NET_ADMIN"),
                "{}",
                refused.stderr
            );
            assert_eq!(expect(&steps, "left", 0).stdout.trim(), "0");
            expect(&steps, "applied", 0);
            let refused = expect(&steps, "no_sys_admin", 4);
            assert!(
                refused.stderr.contains("missing capability CAP_SYS_ADMIN"),
                "{}",
                refused.stderr
            );
            assert_eq!(
                expect(&steps, "kept", 0).stdout.trim(),
                "7",
                "destroy refused: all kept"
            );
            expect(&steps, "destroy", 0);
        },
    );
}

/// Four applies of one sandbox at once and four of other sandboxes (other prefixes)
/// beside them (FINDINGS case 36): they take turns (`vnet_cli::lock`), so every one
/// succeeds, exactly one of the four builds the shared sandbox and the others find it
/// done; then every sandbox is whole and destroys clean. Without the lock all four of
/// the same sandbox failed, undoing each other.
#[test]
fn concurrent_applies_take_turns_and_all_succeed() {
    isolated(
        "kernel::concurrent_applies_take_turns_and_all_succeed",
        || {
            let runs = "for i in 1 2 3 4; do \
          ($VNET --output json apply $SEED --sandbox >\"$D/same.$i\"; \
           echo $? >\"$D/same.$i.rc\") & \
          ($VNET --output json apply $SEED --sandbox --prefix p$i >/dev/null; \
           echo $? >\"$D/other.$i.rc\") & \
        done; wait; cat \"$D\"/*.rc | sort | uniq -c";
            let steps = run_steps(&[
                ("runs", runs),
                (
                    "same",
                    "cat \"$D\"/same.1 \"$D\"/same.2 \"$D\"/same.3 \"$D\"/same.4",
                ),
                ("diff", "$VNET diff $SEED --sandbox"),
                (
                    "others",
                    "for i in 1 2 3 4; do $VNET diff $SEED --sandbox --prefix p$i || exit 1; done",
                ),
                (
                    "destroy",
                    "$VNET destroy $SEED --sandbox && for i in 1 2 3 4; do \
                 $VNET destroy $SEED --sandbox --prefix p$i || exit 1; done",
                ),
                ("left", "ls /run/netns | wc -l"),
            ]);
            let codes = expect(&steps, "runs", 0);
            assert_eq!(
                codes.stdout.trim(),
                "8 0",
                "every apply succeeded: {}",
                codes.stdout
            );
            let same = expect(&steps, "same", 0);
            let builds: Vec<u64> = serde_json::Deserializer::from_str(&same.stdout)
                .into_iter::<Value>()
                .map(|doc| doc.unwrap()["mutating_requests"].as_u64().unwrap())
                .collect();
            assert_eq!(builds.len(), 4, "{}", same.stdout);
            assert_eq!(
                builds.iter().filter(|n| **n > 0).count(),
                1,
                "exactly one built it: {builds:?}"
            );
            expect(&steps, "diff", 0);
            expect(&steps, "others", 0);
            expect(&steps, "destroy", 0);
            assert_eq!(expect(&steps, "left", 0).stdout.trim(), "0");
        },
    );
}

#[test]
fn demo_runs_end_to_end_and_leaves_nothing() {
    isolated("kernel::demo_runs_end_to_end_and_leaves_nothing", || {
        let steps = run_steps(&[
            // From `/`, so the default file is found in the source tree.
            ("demo", "cd / && $VNET demo"),
            ("left", "ip netns list"),
        ]);
        let demo = expect(&steps, "demo", 0);
        for line in [
            "built 7 namespaces, 56 steps",
            "all 15 probes as the model expects",
            "ct mail (vnet-mail)",
            "route 192.168.0.0/16 via 192.168.199.1",
            "removed (",
        ] {
            assert!(demo.stdout.contains(line), "{line:?} in:\n{}", demo.stdout);
        }
        assert_eq!(expect(&steps, "left", 0).stdout.trim(), "");
    });
}

#[test]
fn building_needs_an_explicit_target() {
    // Refused before anything is touched: runs without root.
    let seed = seed_path();
    let seed = seed.to_str().unwrap();
    for (args, needle) in [
        (vec!["apply", seed], "--sandbox"),
        (vec!["apply", seed, "--node", "m1"], "--this-host"),
        (vec!["destroy", seed, "--node", "m1"], "--this-host"),
        (vec!["verify", seed], "--sandbox"),
    ] {
        let o = crate::common::vnet(&args);
        assert_eq!(crate::common::code(&o), 2, "{args:?}");
        assert!(
            crate::common::stderr(&o).contains(needle),
            "{args:?}: {}",
            crate::common::stderr(&o)
        );
    }
    let o = crate::common::vnet(&["apply", seed, "--sandbox", "--prefix", "../x"]);
    assert_eq!(crate::common::code(&o), 2);
}

#[test]
fn a_namespace_in_the_way_is_refused_and_left_alone() {
    isolated(
        "kernel::a_namespace_in_the_way_is_refused_and_left_alone",
        || {
            let steps = run_steps(&[
                // Not vnet's: no mark on its loopback.
                ("foreign", "ip netns add vnet-mail"),
                ("apply", "$VNET apply $SEED --sandbox"),
                ("after_apply", "ip netns list"),
                ("demo", "$VNET demo $SEED"),
                ("after_demo", "ip netns list"),
                ("destroy", "$VNET destroy $SEED --sandbox"),
                ("after_destroy", "ip netns list"),
            ]);
            expect(&steps, "foreign", 0);
            let apply = expect(&steps, "apply", 4);
            assert!(
                apply.stderr.contains("ct mail")
                    && apply.stderr.contains("not owned by topology article"),
                "{}",
                apply.stderr
            );
            let only_mail = |name: &str| {
                let list = expect(&steps, name, 0).stdout.clone();
                let names: Vec<&str> = list
                    .lines()
                    .map(|l| l.split_whitespace().next().unwrap_or(""))
                    .collect();
                assert_eq!(names, ["vnet-mail"], "{name}: {list}");
            };
            only_mail("after_apply");
            let demo = expect(&steps, "demo", 4);
            assert!(
                demo.stdout.contains("removed ("),
                "the demo cleans up: {}",
                demo.stdout
            );
            only_mail("after_demo");
            expect(&steps, "destroy", 0);
            only_mail("after_destroy");
        },
    );
}

#[test]
fn an_interrupted_demo_removes_the_sandbox() {
    isolated("kernel::an_interrupted_demo_removes_the_sandbox", || {
        // One SIGINT part-way (applying or probing); the demo finishes its current step,
        // removes the sandbox and fails. On a very fast machine it may finish first: then it
        // succeeds, and must have removed everything all the same.
        let steps = run_steps(&[
            (
                "demo",
                "$VNET demo $SEED & pid=$!; sleep 0.05; kill -INT $pid; wait $pid",
            ),
            ("left", "ip netns list"),
        ]);
        let demo = &steps["demo"];
        assert!(
            demo.code == 4 && demo.stderr.contains("interrupted") || demo.code == 0,
            "exit {}: {}",
            demo.code,
            demo.stderr
        );
        assert!(demo.stdout.contains("removed ("), "{}", demo.stdout);
        assert_eq!(expect(&steps, "left", 0).stdout.trim(), "");
    });
}
