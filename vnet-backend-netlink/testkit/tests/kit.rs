//! The kit's own checks, each in a private namespace of its own: the "only `lo`" check
//! rejects a namespace holding another link (and a re-executed child refuses to run its
//! body there), and the fault loop reports the step whose undo left something behind.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;

use vnet_testkit::{fault_at_every_step, isolated, namespaces, only_lo, run};

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
