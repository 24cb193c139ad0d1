//! The command's own private namespaces: `vnet failover-test` re-executes itself under
//! `unshare --net --mount --propagation private` (at real-time priority, or nice -10:
//! [`scheduling`]) and mounts a tmpfs on `/run/netns`
//! there, so nothing it builds (nodes, containers, the LAN, ghosts of a hung node) is
//! visible to the machine or survives it.

use anyhow::{anyhow, Context};
use std::process::Command;

use crate::exit::{Exit, Failure, Outcome};

/// Marks the re-executed child that runs inside the private namespaces.
const CHILD_ENV: &str = "VNET_FAILOVER_TEST_CHILD";

/// Whether this process is the re-executed child (inside the private namespaces).
pub fn inside() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// How the measuring child is scheduled, as the command line that runs it: real-time
/// round-robin priority 1 (util-linux `chrt --rr 1`) where the system allows it, else
/// `nice -n -10`. Builds, tests or VMs running beside it on the machine would otherwise
/// stretch the move and the echoes' replies by their CPU use, which is no part of the
/// network's outage. Every thread of the child sleeps or blocks between its steps (the
/// observer in a 1 ms receive timeout), and the kernel keeps 5% of each CPU for
/// ordinary tasks, so the priority cannot lock the machine up.
const SCHED_ENV: &str = "VNET_FAILOVER_TEST_SCHED";

/// The scheduling the child runs with (for its report): `chrt --rr 1` or `nice -n -10`.
pub fn scheduling() -> String {
    std::env::var(SCHED_ENV).unwrap_or_else(|_| "as started".into())
}

/// The command prefix of the child's scheduling (see [`SCHED_ENV`]).
fn sched_prefix() -> &'static [&'static str] {
    const RT: &[&str] = &["chrt", "--rr", "1"];
    const NICE: &[&str] = &["nice", "-n", "-10"];
    let rt_allowed = Command::new(RT[0])
        .args(&RT[1..])
        .arg("true")
        .output()
        .is_ok_and(|o| o.status.success());
    if rt_allowed {
        RT
    } else {
        NICE
    }
}

/// Runs this same command line again under `unshare` in new network and mount
/// namespaces, with the scheduling of [`sched_prefix`], and exits as it does.
pub fn reexec() -> Outcome {
    if !nix::unistd::geteuid().is_root() {
        return Err(Failure::system(anyhow!(
            "vnet failover-test needs root (it creates network namespaces)"
        )));
    }
    let exe = std::env::current_exe()
        .context("find the vnet executable")
        .map_err(Failure::system)?;
    let sched = sched_prefix();
    let status = Command::new(sched[0])
        .args(&sched[1..])
        .args([
            "unshare",
            "--net",
            "--mount",
            "--propagation",
            "private",
            "--",
        ])
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(CHILD_ENV, "1")
        .env(SCHED_ENV, sched.join(" "))
        .status()
        .context("run chrt or nice, and unshare (util-linux) to get private namespaces")
        .map_err(Failure::system)?;
    match status.code() {
        Some(0) => Ok(Exit::Success),
        // The child printed its report and says a goal was missed: pass the code on.
        Some(3) => Ok(Exit::Drift),
        // The child printed its own error; pass its exit code on.
        Some(1) => Err(silent(Exit::Invalid)),
        Some(2) => Err(silent(Exit::Usage)),
        Some(4) => Err(silent(Exit::System)),
        _ => Err(Failure::system(anyhow!(
            "the failover test in its private namespaces ended with {status}"
        ))),
    }
}

/// A failure whose message was already printed (by the child).
fn silent(exit: Exit) -> Failure {
    Failure { exit, error: None }
}

/// Mounts a private tmpfs on `/run/netns` so the sandbox's namespace files live only in
/// this mount namespace.
pub fn private_run_netns() -> Result<(), Failure> {
    std::fs::create_dir_all("/run/netns")
        .context("create /run/netns")
        .map_err(Failure::system)?;
    nix::mount::mount(
        Some("tmpfs"),
        "/run/netns",
        Some("tmpfs"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .context("mount a private tmpfs on /run/netns")
    .map_err(Failure::system)
}
