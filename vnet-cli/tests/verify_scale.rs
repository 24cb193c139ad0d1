//! `vnet verify` at scale, on the kernel (issue 18): generated topologies
//! (`generate::large`: one bridge, a router, two LAN hosts) applied in private
//! namespaces and verified.
//!
//! - 1,000 containers (`VNET_VERIFY_CTS` for another size), by classes: exit 0 (no false
//!   failures), a summary of at most 200 lines, a peak RSS of at most 100 MiB, a plan
//!   linear in the containers whose probes stand for every pair.
//! - 200 containers, by default and with `--pairs all` (40,803 probes): exit 0, every
//!   probe as the model expects. The neighbour table is one for the whole machine
//!   (`gc_thresh3` = 1024); probing paces by its count and deletes each settled probe's
//!   entries, so the full matrix at 200 containers is correct and takes well under a
//!   minute.
//!
//! Each step's wall time is printed (`TIMING`); the time bound is a benchmark figure
//! (the README's performance section), not an assertion here.

use std::time::Instant;

use nix::sys::resource::{getrusage, UsageWho};
use vnet_core::generate::{large, LargeParams};
use vnet_testkit::{isolated, sh, Outcome};

/// The peak RSS `vnet verify` may reach at 1,000 containers (issue 18).
const RSS_BOUND_MIB: i64 = 100;

/// The most lines the people's summary may have.
const SUMMARY_LINES: usize = 200;

/// The size of the classes run, from `VNET_VERIFY_CTS` (1,000 when unset).
fn cts() -> usize {
    std::env::var("VNET_VERIFY_CTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// Writes the generated topology of `n` containers; returns its directory and file.
fn topology(n: usize) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("vnet-verify-scale-{n}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("large.toml");
    std::fs::write(
        &file,
        vnet_core::source::to_toml(&large(&LargeParams::new(n))),
    )
    .unwrap();
    let f = file.to_str().unwrap().to_string();
    (dir, f)
}

/// Runs `command` with `$VNET` and `$F` (the topology file), timed.
fn step(name: &str, n: usize, command: &str, file: &str) -> Outcome {
    let started = Instant::now();
    let out = sh(
        command,
        &[
            ("VNET", env!("CARGO_BIN_EXE_vnet")),
            ("F", file),
            ("NO_COLOR", "1"),
        ],
    );
    eprintln!(
        "TIMING {name} ({n} containers): {:?}, exit {}",
        started.elapsed(),
        out.code
    );
    out
}

fn ok(name: &str, o: &Outcome) {
    assert_eq!(
        o.code, 0,
        "{name}: exit {}\nstdout:\n{}\nstderr:\n{}",
        o.code, o.stdout, o.stderr
    );
}

/// The largest peak RSS of the children waited for so far, in KiB.
fn children_peak_kib() -> i64 {
    getrusage(UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage")
        .max_rss()
}

#[test]
fn a_thousand_containers_verify_in_a_short_summary_and_little_memory() {
    isolated(
        "a_thousand_containers_verify_in_a_short_summary_and_little_memory",
        || {
            let n = cts();
            let (dir, f) = topology(n);
            let apply = step("apply", n, "$VNET apply $F --sandbox", &f);
            let apply_peak = children_peak_kib();
            let verify = step("verify", n, "$VNET verify $F --sandbox", &f);
            // The children's peak is the larger of apply's and verify's: bounded, it
            // bounds verify's.
            let peak = children_peak_kib();
            let json = step(
                "verify json",
                n,
                "$VNET --output json verify $F --sandbox",
                &f,
            );
            let destroy = step("destroy", n, "$VNET destroy $F --sandbox", &f);
            std::fs::remove_dir_all(&dir).unwrap();
            ok("apply", &apply);
            ok("verify", &verify);
            ok("destroy", &destroy);
            eprintln!(
                "peak RSS, {n} containers: verify {} (apply {:.1} MiB)",
                if peak > apply_peak {
                    format!("{:.1} MiB", peak as f64 / 1024.0)
                } else {
                    format!("<= {:.1} MiB", apply_peak as f64 / 1024.0)
                },
                apply_peak as f64 / 1024.0
            );
            assert!(
                peak <= RSS_BOUND_MIB * 1024,
                "verify of {n} containers peaked at {:.1} MiB (bound {RSS_BOUND_MIB} MiB)",
                peak as f64 / 1024.0
            );
            let lines = verify.stdout.lines().count();
            eprintln!("verify printed {lines} lines:\n{}", verify.stdout);
            assert!(lines <= SUMMARY_LINES, "{lines} lines");
            assert!(
                verify.stdout.contains("classes of alike endpoints")
                    && verify.stdout.contains("as the model expects"),
                "{}",
                verify.stdout
            );
            ok("verify json", &json);
            let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
            assert_eq!(doc["matched"], true);
            let probes = doc["probes"].as_array().unwrap();
            // Linear: about one probe per two endpoints plus the class pairs.
            assert!(probes.len() <= n / 2 + 40, "{} probes", probes.len());
            let stands: u64 = probes
                .iter()
                .map(|p| p["stands_for"].as_u64().unwrap())
                .sum();
            assert_eq!(stands, doc["pairs"].as_u64().unwrap());
            assert_eq!(
                doc["not_probed_here"]["pairs"], 0,
                "the sandbox is all here"
            );
        },
    );
}

#[test]
fn two_hundred_containers_verify_by_default_and_with_pairs_all() {
    isolated(
        "two_hundred_containers_verify_by_default_and_with_pairs_all",
        || {
            let n = 200;
            let (dir, f) = topology(n);
            let apply = step("apply", n, "$VNET apply $F --sandbox", &f);
            let verify = step("verify", n, "$VNET verify $F --sandbox", &f);
            let all = step(
                "verify --pairs all",
                n,
                "$VNET verify $F --sandbox --pairs all",
                &f,
            );
            let destroy = step("destroy", n, "$VNET destroy $F --sandbox", &f);
            std::fs::remove_dir_all(&dir).unwrap();
            ok("apply", &apply);
            ok("destroy", &destroy);
            ok("verify", &verify);
            assert!(
                verify.stdout.contains("as the model expects"),
                "{}",
                verify.stdout
            );
            ok("verify --pairs all", &all);
            assert!(
                all.stdout.lines().count() <= SUMMARY_LINES,
                "{}",
                all.stdout
            );
            // The containers and 2 LAN hosts, to every other address (the router has
            // one more, its uplink): 40,803 probes, none a false failure.
            let probes = (n + 3) * (n + 1);
            assert!(
                all.stdout.contains(&format!(
                    "all {probes} probes as the model expects ({probes} answered)"
                )),
                "{}",
                all.stdout
            );
        },
    );
}
