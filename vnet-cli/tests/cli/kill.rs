//! Crash tests: `vnet apply` and `vnet destroy` killed with SIGKILL at every boundary
//! where a kill leaves something half-done (before each stage of an apply; between a
//! namespace file's creation and its mount; between a namespace's unmount and its
//! unlink; after each unlink), through the binary's test hook
//! (`VNET_TEST_KILL_AT=POINT:N`, `vnet_backend_netlink::ns::kill_point`), and at
//! pseudo-random moments from a fixed seed. After every kill the next run must recover:
//! an apply finishes the network, a destroy exits 0 and leaves nothing (no file or
//! mount in `/run/netns`, no link in the test's root namespace but `lo`).
//!
//! Each test runs in private namespaces of its own ([`vnet_testkit::isolated`], with a
//! tmpfs on `/run/netns`), so every `vnet` it runs, and everything those make,
//! lives and dies in namespaces of its own. Needs root; without it: SKIPPED, and a
//! failure when `CI` is set.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use vnet_testkit::isolated;

use crate::common::seed_path;
use crate::kernel::{expect, run_steps};

/// A `vnet COMMAND SEED --sandbox` process, output discarded but stderr kept.
fn vnet(command: &str, kill_at: Option<String>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vnet"));
    c.args(["--output", "json", command])
        .arg(seed_path())
        .arg("--sandbox")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match kill_at {
        Some(k) => c.env("VNET_TEST_KILL_AT", k),
        None => c.env_remove("VNET_TEST_KILL_AT"),
    };
    c
}

/// Runs `vnet COMMAND` to its end and expects exit 0; returns its JSON summary.
fn ok(command: &str, after: &str) -> serde_json::Value {
    let out = vnet(command, None).output().expect("vnet runs");
    assert!(
        out.status.success(),
        "{command} after {after}: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON summary")
}

/// Whether `status` is that of a process killed by SIGKILL.
fn was_killed(status: ExitStatus) -> bool {
    status.signal() == Some(nix::libc::SIGKILL)
}

/// Runs `vnet COMMAND` with the test hook set to kill it at `point`'s `n`-th passing,
/// and expects that kill.
fn killed_at_point(command: &str, point: &str, n: usize) {
    let out = vnet(command, Some(format!("{point}:{n}")))
        .output()
        .expect("vnet runs");
    assert!(
        was_killed(out.status),
        "{command} was to be killed at {point}:{n}, but ended {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts `vnet COMMAND`, kills it after `delay` if it still runs; whether the kill
/// landed (the process died of it).
fn killed_after(command: &str, delay: Duration) -> bool {
    let mut child = vnet(command, None).spawn().expect("vnet starts");
    std::thread::sleep(delay);
    if matches!(child.try_wait(), Ok(None)) {
        let _ = child.kill();
    }
    was_killed(child.wait().expect("wait for vnet"))
}

/// Files in `/run/netns`, mounts in it, and links in the test's root namespace.
fn leftovers() -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut files: Vec<String> = std::fs::read_dir("/run/netns")
        .expect("read /run/netns")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .expect("mountinfo")
        .lines()
        .filter(|l| {
            l.split(' ')
                .nth(4)
                .is_some_and(|p| p.starts_with("/run/netns/"))
        })
        .map(str::to_string)
        .collect();
    let out = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("ip runs");
    let links = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1).map(str::to_string))
        .filter(|name| name != "lo")
        .collect();
    (files, mounts, links)
}

/// The next destroy exits 0 and leaves nothing.
fn destroyed_clean(after: &str) {
    ok("destroy", after);
    let left = leftovers();
    assert_eq!(left, (vec![], vec![], vec![]), "left after {after}");
}

/// A small deterministic generator (xorshift64*), so every run kills at the same
/// moments relative to the measured durations.
struct Moments(u64);

impl Moments {
    /// A fraction in [0, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Kills at every boundary (27 with the seed), then at random moments until at least
/// 100 kills landed in total; every time the next run recovers.
#[test]
fn runs_killed_at_every_boundary_and_at_random_moments_are_recovered() {
    isolated(
        "kill::runs_killed_at_every_boundary_and_at_random_moments_are_recovered",
        || {
            let started = Instant::now();
            // One clean round measures the topology: its stages, namespaces, durations.
            let t0 = Instant::now();
            let applied = ok("apply", "nothing");
            let apply_time = t0.elapsed();
            let t0 = Instant::now();
            destroyed_clean("a clean apply");
            let destroy_time = t0.elapsed();
            let stages = applied["stages"].as_u64().expect("stages") as usize;
            let namespaces = applied["namespaces_created"].as_u64().expect("ns") as usize;
            assert!(stages >= 5 && namespaces == 7, "{applied}");
            let mut kills = 0;

            // Apply killed before each stage; the next apply finishes it.
            for k in 0..stages {
                killed_at_point("apply", "stage", k);
                kills += 1;
                let done = ok("apply", &format!("apply killed at stage {k}"));
                assert_eq!(done["verified"], true, "{done}");
                destroyed_clean(&format!("apply killed at stage {k}"));
            }
            // Apply killed between a namespace file and its mount; the next run, apply
            // or destroy by turns, takes the empty file for the debris it is.
            for n in 0..namespaces {
                killed_at_point("apply", "publish", n);
                kills += 1;
                let after = format!("apply killed at publish {n}");
                if n % 2 == 1 {
                    ok("apply", &after);
                }
                destroyed_clean(&after);
            }
            // Destroy killed after an unmount and after an unlink; the next destroy (or
            // an apply first, by turns) recovers.
            for point in ["unmounted", "deleted"] {
                for n in 0..namespaces {
                    ok("apply", "a clean destroy");
                    killed_at_point("destroy", point, n);
                    kills += 1;
                    let after = format!("destroy killed at {point} {n}");
                    if n % 2 == 1 {
                        ok("apply", &after);
                    }
                    destroyed_clean(&after);
                }
            }
            let at_boundaries = kills;

            // Random moments within each command's measured duration.
            let mut moments = Moments(0x19_5EED);
            let mut rounds = 0;
            while kills < 100 {
                rounds += 1;
                assert!(
                    rounds <= 150,
                    "only {kills} kills landed in {rounds} rounds"
                );
                let d = apply_time.mul_f64(moments.next());
                if killed_after("apply", d) {
                    kills += 1;
                }
                ok("apply", &format!("apply killed after {d:?}"));
                let d = destroy_time.mul_f64(moments.next());
                if killed_after("destroy", d) {
                    kills += 1;
                }
                destroyed_clean(&format!("destroy killed after {d:?}"));
            }
            eprintln!(
                "{kills} kills ({at_boundaries} at boundaries, {} at random moments in \
                 {rounds} rounds; apply {apply_time:?}, destroy {destroy_time:?}), every \
                 one recovered, in {:?}",
                kills - at_boundaries,
                started.elapsed()
            );
        },
    );
}

/// The deterministic form of a destroy killed between unmount and unlink (issue 19):
/// the empty file it leaves wedged every later destroy, apply and diff with exit 4.
#[test]
fn destroy_after_a_namespace_was_unmounted_exits_0_and_leaves_nothing() {
    isolated(
        "kill::destroy_after_a_namespace_was_unmounted_exits_0_and_leaves_nothing",
        || {
            let steps = run_steps(&[
                ("apply", "$VNET apply $SEED --sandbox"),
                ("umount", "umount /run/netns/vnet-dbms"),
                ("diff", "$VNET diff $SEED --sandbox"),
                ("destroy", "$VNET destroy $SEED --sandbox"),
                (
                    "left",
                    "ls -A /run/netns; ip -o link show | grep -v ': lo:'",
                ),
            ]);
            expect(&steps, "apply", 0);
            expect(&steps, "umount", 0);
            let diff = expect(&steps, "diff", 3);
            assert!(diff.stdout.contains("vnet-dbms"), "{}", diff.stdout);
            expect(&steps, "destroy", 0);
            assert_eq!(steps["left"].stdout, "", "nothing left");
        },
    );
}
