//! Untimed checks that every method built the same thing and removed all of it: every
//! host end on the bridge, the container end's IPv6 off, the first container reaching
//! the last one, and afterwards no namespace and no link left.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::method::Method;
use crate::netns;
use crate::run::{cmd, succeeds};
use crate::topo::{Ct, BRIDGE};

/// `ip [-n NS] ARGS...`.
fn ip_in(ns: &Option<String>, args: &[&str]) -> Result<String> {
    let mut argv = vec!["ip"];
    if let Some(ns) = ns {
        argv.extend(["-n", ns.as_str()]);
    }
    argv.extend_from_slice(args);
    cmd(&argv)
}

/// After setup: the bridge has one port per container, IPv6 is off on the first
/// container's `eth0`, and the first container pings the last.
pub fn built<M: Method + ?Sized>(m: &M, cts: &[Ct]) -> Result<()> {
    let ports = ip_in(&m.bridge_ns(), &["-o", "link", "show", "master", BRIDGE])?
        .lines()
        .count();
    if ports != cts.len() {
        bail!(
            "{}: {ports} ports on {BRIDGE}, expected {}",
            m.name(),
            cts.len()
        );
    }
    let (Some(first), Some(last)) = (cts.first(), cts.last()) else {
        return Ok(());
    };
    let ns = m.ns_of(first);
    let v6 = cmd(&[
        "ip",
        "netns",
        "exec",
        &ns,
        "cat",
        "/proc/sys/net/ipv6/conf/eth0/disable_ipv6",
    ])?;
    if v6.trim() != "1" {
        bail!("{}: IPv6 is on on eth0 of {ns}", m.name());
    }
    let to = last.address.to_string();
    // The kernel brings carriers up in the background (linkwatch, rate-limited): on a
    // fresh bridge with 1,000 ports that may lag the setup by seconds, for every method.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !succeeds(&["ip", "netns", "exec", &ns, "ping", "-c1", "-W1", "-q", &to]) {
        if Instant::now() >= deadline {
            bail!("{}: {ns} does not reach {to}", m.name());
        }
    }
    Ok(())
}

/// After teardown: no named namespace and only `lo` in the benchmark's namespace. The
/// kernel removes a deleted namespace's links (and their veth peers here) a little
/// later, in the background: this waits for that (up to `SETTLE`), untimed, so one
/// method's cleanup work does not run into the next method's time.
pub fn clean() -> Result<()> {
    let deadline = Instant::now() + SETTLE;
    loop {
        match left_over() {
            Ok(()) => break,
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    // Namespaces vnet deleted are not visible from here; their cleanup also runs in
    // the background: a short pause lets it finish before the next method starts.
    std::thread::sleep(Duration::from_millis(500));
    Ok(())
}

/// How long the kernel may take to finish removing deleted namespaces.
const SETTLE: Duration = Duration::from_secs(60);

fn left_over() -> Result<()> {
    let left = netns::list()?;
    if !left.is_empty() {
        bail!("{} namespaces left, e.g. {}", left.len(), left[0]);
    }
    let links = cmd(&["ip", "-o", "link", "show"])?;
    let extra: Vec<&str> = links
        .lines()
        .filter_map(|l| l.split(':').nth(1).map(str::trim))
        .filter(|n| *n != "lo")
        .collect();
    if !extra.is_empty() {
        bail!("links left in the benchmark's namespace: {extra:?}");
    }
    Ok(())
}

/// After a failure: removes whatever is left (every named namespace, the bridge), so
/// the next method starts clean. Best effort.
pub fn scrub() {
    for name in netns::list().unwrap_or_default() {
        let _ = netns::delete(&name);
    }
    let _ = cmd(&["ip", "link", "del", BRIDGE]);
}
