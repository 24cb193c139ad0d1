//! Between runs: wait until the kernel has torn down the previous run's namespaces.
//!
//! Deleting a namespace returns at once; the kernel unregisters its links later on a
//! work queue, under the RTNL lock, with RCU grace periods. Left running into the next
//! run, that clean-up competes with the next move for the lock and would count in its
//! outage. So before the sandbox is destroyed a canary veth pair is planted: one end
//! in this process's own (private) namespace, the other in a namespace the destroy
//! removes; when the kernel's clean-up reaches the links of that namespace, the pair
//! goes, and the canary's end here with it ([`Canary::wait_gone`]).

use anyhow::{anyhow, Context};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::exit::Failure;

/// The canary's end in this process's namespace, and its peer's name inside the
/// doomed namespace.
const HERE: &str = "vfo-canary";
const THERE: &str = "vfo-canary-p";

/// How long the kernel may take to clean up.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A planted canary.
#[derive(Debug)]
pub struct Canary;

impl Canary {
    /// Plants the pair with its peer in the namespace `ns_name` (in `/run/netns`),
    /// iproute2's `ip link add ... type veth peer ... netns`.
    pub fn plant(ns_name: &str) -> Result<Canary, Failure> {
        let out = Command::new("ip")
            .args(["link", "add", HERE, "type", "veth", "peer", "name", THERE])
            .args(["netns", ns_name])
            .output()
            .context("run ip (iproute2) to plant the clean-up canary")
            .map_err(Failure::system)?;
        if !out.status.success() {
            return Err(Failure::system(anyhow!(
                "plant the clean-up canary in {ns_name}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(Canary)
    }

    /// Waits until the kernel has removed the canary (its peer's namespace was torn
    /// down), at most 10 s.
    pub fn wait_gone(self) -> Result<(), Failure> {
        let deadline = Instant::now() + TIMEOUT;
        while present()? {
            if Instant::now() >= deadline {
                return Err(Failure::system(anyhow!(
                    "the kernel did not tear down the previous run's namespaces within {} s",
                    TIMEOUT.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }
}

/// Whether the canary is still a link of this thread's namespace.
fn present() -> Result<bool, Failure> {
    let dev = std::fs::read_to_string("/proc/thread-self/net/dev")
        .context("read /proc/thread-self/net/dev")
        .map_err(Failure::system)?;
    Ok(has_link(&dev, HERE))
}

/// Whether `/proc/net/dev` text lists `name`.
fn has_link(dev: &str, name: &str) -> bool {
    dev.lines()
        .filter_map(|l| l.split_once(':'))
        .any(|(n, _)| n.trim() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_dev_lines_name_their_links() {
        let dev = "Inter-|   Receive\n face |bytes\n    lo: 0 0\nvfo-canary: 12 1\n";
        assert!(has_link(dev, HERE));
        assert!(!has_link(dev, THERE));
        assert!(!has_link(dev, "vfo"));
    }
}
