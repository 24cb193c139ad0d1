//! Memory proportional to the work (issue 18): the `vnet` binary's peak RSS while it
//! applies, re-applies (a no-op), shows and destroys a generated topology of
//! [`CTS`] containers in sandbox scope must stay under [`BOUND_MIB`].
//!
//! Every namespace the sandbox holds has a netlink socket open for the whole command;
//! when each kept a 256 KiB receive buffer, these commands grew by ~300 KiB per
//! namespace: 138 MiB at 300 containers (this test's debug binary), 315-355 MiB at
//! 1,000 (release). With the buffer held only during a call, link dumps slimmed as they
//! are decoded and mimalloc v2, this test measures 51-58 MiB (about half of it reading,
//! validating and planning the topology). The bound leaves room for a loaded machine,
//! but not for a per-namespace cost of ~70 KiB coming back.
//! `scripts/rss` prints the per-command figures at 1,000 containers.
//!
//! The commands run in private namespaces of the test's own ([`vnet_testkit::isolated`],
//! a tmpfs on `/run/netns`; nothing reaches the machine's namespaces). The re-executed
//! test process runs only this test, so the peak of its children
//! (`getrusage(RUSAGE_CHILDREN)`, which covers every descendant waited for: the shell,
//! each `vnet`) is the `vnet` commands' alone. Needs root; skipped with a reason without
//! it, a failure under `CI`.

#[path = "cli/common.rs"]
#[allow(dead_code)] // the other helpers serve the `cli` test binary
mod common;

use common::TempDir;
use nix::sys::resource::{getrusage, UsageWho};
use vnet_core::generate::{large, LargeParams};
use vnet_core::source::to_toml;
use vnet_testkit::{isolated, sh};

/// Containers of the generated topology (plus two nodes, the LAN and its two hosts: 305
/// namespaces), enough that a per-namespace cost dominates, small enough for CI.
const CTS: usize = 300;
/// The most any of the commands may peak at.
const BOUND_MIB: i64 = 72;

#[test]
fn peak_rss_of_a_300_container_sandbox_stays_flat() {
    isolated("peak_rss_of_a_300_container_sandbox_stays_flat", || {
        let dir = TempDir::new("rss");
        let file = dir.write("large.toml", &to_toml(&large(&LargeParams::new(CTS))));
        let script = "set -e
            $VNET apply $FILE --sandbox >$D/apply.out
            ls /run/netns | wc -l >$D/namespaces
            $VNET apply $FILE --sandbox >$D/again.out
            $VNET show $FILE --sandbox >$D/show.out
            $VNET destroy $FILE --sandbox >$D/destroy.out
            ls /run/netns | wc -l >>$D/namespaces";
        let run = sh(
            script,
            &[
                ("VNET", env!("CARGO_BIN_EXE_vnet")),
                ("FILE", &file),
                ("D", dir.0.to_str().expect("UTF-8 path")),
                ("NO_COLOR", "1"),
            ],
        );
        assert_eq!(run.code, 0, "a vnet command failed: {}", run.stderr);
        let counts = std::fs::read_to_string(dir.0.join("namespaces")).expect("counts written");
        let counts: Vec<usize> = counts.lines().map(|l| l.trim().parse().unwrap()).collect();
        assert_eq!(
            counts,
            [CTS + 5, 0],
            "apply built every namespace, destroy removed them"
        );

        // ru_maxrss is in KiB on Linux.
        let peak_kib = getrusage(UsageWho::RUSAGE_CHILDREN)
            .expect("getrusage")
            .max_rss();
        eprintln!(
            "peak RSS of apply / no-op apply / show / destroy, {CTS} CTs: {:.1} MiB",
            peak_kib as f64 / 1024.0
        );
        assert!(
            peak_kib <= BOUND_MIB * 1024,
            "a vnet command peaked at {:.1} MiB with {CTS} containers (bound {BOUND_MIB} MiB): \
             memory grows with the namespaces again",
            peak_kib as f64 / 1024.0
        );
    });
}
