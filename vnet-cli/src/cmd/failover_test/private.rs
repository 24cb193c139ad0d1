//! The command's own private namespaces: `vnet failover-test` re-executes itself under
//! `nice -n -10 unshare --net --mount --propagation private` and mounts a tmpfs on `/run/netns`
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

/// The scheduling priority the measuring child runs at (`nice -n`): builds or tests
/// running beside it on the machine would otherwise stretch the move and the echoes'
/// replies by their CPU use, which is no part of the network's outage.
pub const NICE: &str = "-10";

/// Runs this same command line again under `unshare` in new network and mount
/// namespaces, at priority [`NICE`] (coreutils' `nice`), and exits as it does.
pub fn reexec() -> Outcome {
    if !nix::unistd::geteuid().is_root() {
        return Err(Failure::system(anyhow!(
            "vnet failover-test needs root (it creates network namespaces)"
        )));
    }
    let exe = std::env::current_exe()
        .context("find the vnet executable")
        .map_err(Failure::system)?;
    let status = Command::new("nice")
        .args([
            "-n",
            NICE,
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
        .status()
        .context("run nice (coreutils) and unshare (util-linux) to get private namespaces")
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
