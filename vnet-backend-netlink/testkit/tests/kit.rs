//! The kit's own checks, each in a private namespace of its own: the "only `lo`" check
//! rejects a namespace holding another link (and a re-executed child refuses to run its
//! body there), and the fault loop reports the step whose undo left something behind.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;

use vnet_testkit::{
    differences, fault_at_every_step, isolated, namespaces, network_state, only_lo, run,
};

/// The kit's marker for a re-executed child (`isolate::CHILD_ENV`).
const CHILD_ENV: &str = "VNET_TESTKIT_CHILD";

#[test]
fn only_lo_rejects_a_namespace_with_another_link() {
    isolated("only_lo_rejects_a_namespace_with_another_link", || {
        assert_eq!(only_lo(), Ok(()), "a fresh namespace");
        run(&[
            "ip", "link", "add", "tk0", "type", "veth", "peer", "name", "tk1",
        ]);
        let why = only_lo().expect_err("a namespace with a veth pair is not fresh");
        assert!(why.contains("tk0") && why.contains("tk1"), "{why}");
        run(&["ip", "link", "del", "tk0"]);
        assert_eq!(only_lo(), Ok(()), "the pair is gone");
    });
}

/// A body that prints a marker; run directly, it runs in a fresh namespace of its own.
#[test]
fn a_body_that_says_it_ran() {
    isolated("a_body_that_says_it_ran", || {
        println!("BODY RAN");
    });
}

#[test]
fn a_child_in_a_namespace_with_another_link_refuses_to_run_its_body() {
    isolated(
        "a_child_in_a_namespace_with_another_link_refuses_to_run_its_body",
        || {
            run(&[
                "ip", "link", "add", "tk2", "type", "veth", "peer", "name", "tk3",
            ]);
            // The child of `a_body_that_says_it_ran`, started as `isolated` starts it but
            // in this namespace, which holds the veth pair.
            let out = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "a_body_that_says_it_ran", "--nocapture"])
                .args(["--test-threads=1"])
                .env(CHILD_ENV, "a_body_that_says_it_ran")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{stdout}");
            assert!(!stdout.contains("BODY RAN"), "{stdout}");
            assert!(
                stderr.contains("refusing to run") && stderr.contains("tk2"),
                "{stderr}"
            );
        },
    );
}

#[test]
fn the_fault_loop_names_the_step_whose_undo_left_something() {
    isolated(
        "the_fault_loop_names_the_step_whose_undo_left_something",
        || {
            let steps = ["create namespace a", "create namespace b", "set up lo"];
            let mut tried = Vec::new();
            let failed = catch_unwind(AssertUnwindSafe(|| {
                fault_at_every_step(&steps, |k| {
                    tried.push(k);
                    if k == 1 {
                        run(&["ip", "netns", "add", "left-behind"]);
                    }
                    Ok(())
                })
            }))
            .expect_err("a namespace left behind at step 1");
            let text = failed.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(
                text.contains("fault at step 1 (\"create namespace b\")")
                    && text.contains("left-behind"),
                "{text}"
            );
            assert_eq!(tried, [0, 1]);
            run(&["ip", "netns", "del", "left-behind"]);
            // An apply that does not fail as expected is named with its step too.
            let wrong = catch_unwind(|| fault_at_every_step(&steps, |k| Err(format!("k={k}"))))
                .expect_err("the first step's outcome is wrong");
            let text = wrong.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(
                text.contains("fault at step 0 (\"create namespace a\"): k=0"),
                "{text}"
            );
            assert_eq!(fault_at_every_step(&steps, |_| Ok(())), 3);
            assert!(namespaces().is_empty());
        },
    );
}

#[test]
fn network_states_differ_by_a_link_and_not_by_its_index() {
    isolated(
        "network_states_differ_by_a_link_and_not_by_its_index",
        || {
            // Fixed MACs: a pair built again differs only in what the kernel assigns.
            let pair = [
                "link",
                "add",
                "tk4",
                "address",
                "02:00:5e:00:01:04",
                "type",
                "veth",
                "peer",
                "name",
                "tk5",
                "address",
                "02:00:5e:00:01:05",
            ];
            run(&["ip", "netns", "add", "tk"]);
            let empty = network_state();
            run(&[&["ip", "-n", "tk"][..], &pair[..]].concat());
            let first = network_state();
            let found = differences(&empty, &first);
            let parts: Vec<&str> = found
                .iter()
                .map(|d| d.split(':').next().unwrap_or_default())
                .collect();
            assert_eq!(parts, ["tk address", "tk link", "tk sysctl"], "{found:?}");
            assert!(found.iter().all(|d| d.contains("tk4")), "{found:?}");
            // Built again, the pair gets new interface indexes: the same state.
            run(&["ip", "-n", "tk", "link", "del", "tk4"]);
            run(&[&["ip", "-n", "tk"][..], &pair[..]].concat());
            assert_eq!(differences(&first, &network_state()), Vec::<String>::new());
            run(&["ip", "netns", "del", "tk"]);
            let gone = differences(&first, &network_state());
            assert_eq!(gone, ["tk: only in the first"]);
        },
    );
}

/// A misspelt name would run no test in the child and pass without testing anything:
/// `isolated` fails instead.
#[test]
fn a_name_that_runs_no_test_fails() {
    if !nix::unistd::Uid::effective().is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run kernel tests as root"
        );
        eprintln!("SKIPPED: a_name_that_runs_no_test_fails: needs root");
        return;
    }
    let failed = catch_unwind(|| isolated("no_such_test", || unreachable!()))
        .expect_err("no test of that name ran");
    let text = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.contains("ran no test of that name"), "{text}");
}
