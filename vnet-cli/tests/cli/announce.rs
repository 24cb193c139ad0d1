//! Kernel test of issue 17, point 1: `vnet start` returns once the containers' ports
//! forward and their first announcement is out, and leaves the schedule's later offsets
//! to a background announcer per container that sends them, ends when the schedule
//! does, and is ended by `vnet stop`.
//!
//! Runs in private namespaces ([`isolated`]); the announcers' records go to a scratch
//! directory (`VNET_RUN_DIR`), removed afterwards. Needs root; without it prints
//! SKIPPED, and fails when `CI` is set.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use vnet_testkit::isolated;

use crate::common::TempDir;
use crate::kernel::{expect, run_steps};

/// Whether process `pid` runs (a zombie waiting for its reaper counts as ended).
fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(") ")
                .is_some_and(|(_, r)| !r.starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Waits (at most `within`) until `pid` has ended.
fn ends_within(pid: u64, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while alive(pid) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// The announcers' records in `dir` (`CT.INODE` files) and the offsets each noted.
fn records(dir: &Path) -> Vec<(String, Vec<u64>)> {
    let Ok(entries) = std::fs::read_dir(dir.join("announce")) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u64>)> = entries
        .map(|e| {
            let e = e.expect("read the records directory");
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let sent = text
                .lines()
                .filter_map(|l| l.strip_prefix("sent ")?.split(' ').next()?.parse().ok())
                .collect();
            (e.file_name().to_string_lossy().into_owned(), sent)
        })
        .collect();
    out.sort();
    out
}

/// The announcer pids of a start's JSON report, by container.
fn announcers(start: &Value) -> Vec<(String, u64)> {
    start["started"]
        .as_array()
        .expect("started is a list")
        .iter()
        .map(|s| {
            let pid = s["announcer"]
                .as_u64()
                .unwrap_or_else(|| panic!("no announcer for {s}"));
            (s["ct"].as_str().unwrap().to_string(), pid)
        })
        .collect()
}

#[test]
fn start_returns_before_its_later_announcements_which_stop_cancels() {
    isolated(
        "announce::start_returns_before_its_later_announcements_which_stop_cancels",
        || {
            let run = TempDir::new("announce-run");
            let r = run.0.display().to_string();
            let setup = run_steps(&[("apply", "$VNET apply $SEED --sandbox")]);
            expect(&setup, "apply", 0);

            // The README's command with the long schedule: it used to take 10-20 s.
            let begin = Instant::now();
            let steps = run_steps(&[(
                "start",
                &format!(
                    "VNET_RUN_DIR={r} $VNET --output json start mail dbms router --node m2 \
                     $SEED --sandbox --announce-schedule 0,20,200,1000,5000"
                ),
            )]);
            let returned = begin.elapsed();
            let start = expect(&steps, "start", 0).json();
            assert!(
                returned < Duration::from_secs(1),
                "start took {returned:?}, not well under the schedule's 1 s: {start}"
            );
            for s in start["started"].as_array().unwrap() {
                assert_eq!(
                    s["later_ms"],
                    serde_json::json!([20, 200, 1000, 5000]),
                    "{s}"
                );
                let first: u64 = s["announced"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["arp_sent"].as_u64().unwrap())
                    .sum();
                assert!(first >= 1, "the first announcement is out on return: {s}");
            }
            let pids = announcers(&start);
            assert_eq!(pids.len(), 3, "{start}");
            for (ct, pid) in &pids {
                assert!(alive(*pid), "{ct}'s announcer {pid} runs after the start");
            }

            // The later offsets are sent while nobody waits for them.
            std::thread::sleep(Duration::from_millis(1500).saturating_sub(begin.elapsed()));
            let noted = records(&run.0);
            assert_eq!(noted.len(), 3, "{noted:?}");
            for (record, sent) in &noted {
                assert_eq!(sent, &[20, 200, 1000], "{record}: {noted:?}");
            }
            for (ct, pid) in &pids {
                assert!(alive(*pid), "{ct}'s announcer waits for +5000 ms");
            }

            // A stop ends each announcer, by its pid, and removes its record.
            let stop = run_steps(&[(
                "stop",
                &format!(
                    "VNET_RUN_DIR={r} $VNET --output json stop mail dbms router $SEED --sandbox"
                ),
            )]);
            let stop = expect(&stop, "stop", 0).json();
            for (ct, pid) in &pids {
                let s = stop["stopped"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["ct"] == ct.as_str())
                    .unwrap_or_else(|| panic!("{ct} in {stop}"));
                assert_eq!(s["announcer_ended"].as_u64(), Some(*pid), "{stop}");
                assert!(
                    ends_within(*pid, Duration::from_secs(1)),
                    "{ct}'s announcer {pid} ended"
                );
            }
            assert_eq!(records(&run.0), Vec::new(), "records gone after the stop");

            // A short schedule: the announcer ends on its own and removes its record.
            let short = run_steps(&[(
                "start",
                &format!(
                    "VNET_RUN_DIR={r} $VNET --output json start mail --node m2 $SEED --sandbox \
                     --announce-schedule 0,20,300"
                ),
            )]);
            let short = expect(&short, "start", 0).json();
            let (_, pid) = announcers(&short)[0].clone();
            assert!(
                ends_within(pid, Duration::from_secs(3)),
                "announcer {pid} ended"
            );
            assert_eq!(records(&run.0), Vec::new(), "its record went with it");

            // The container's namespace goes without a stop (a destroy): the announcer
            // notices at its next offset, ends and removes its record.
            let long = run_steps(&[
                (
                    "start",
                    &format!(
                        "VNET_RUN_DIR={r} $VNET --output json start mail --node m2 $SEED \
                         --sandbox --announce-schedule 0,100,5000"
                    ),
                ),
                ("destroy", "$VNET destroy $SEED --sandbox"),
            ]);
            let (_, pid) = announcers(&expect(&long, "start", 0).json())[0].clone();
            expect(&long, "destroy", 0);
            assert!(
                ends_within(pid, Duration::from_secs(3)),
                "announcer {pid} ended"
            );
            assert_eq!(
                records(&run.0),
                Vec::new(),
                "a gone namespace's record goes too"
            );
        },
    );
}
