//! What a container runtime does for the peers in-process: turn IPv6 off for new links
//! in each container namespace (`net.ipv6.conf.default.disable_ipv6=1`, before any link
//! is created there) and create named namespaces (for the CNI method).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use vnet_backend_netlink::netlink::{Request, RequestCounter, RtSocket};
use vnet_backend_netlink::ns::{named, run_many, Netns};
use vnet_backend_netlink::ops;

use crate::isolate::{write_sysctl, DEFAULT_DISABLE_IPV6};

/// Where the methods' named namespaces live (a private tmpfs, see [`crate::isolate`]).
pub const DIR: &str = "/run/netns";

/// Sets `default.disable_ipv6=1` in each of the named namespaces, a few at once
/// (threads that enter them in turn; the cheapest way there is, in the peers' favour).
pub fn disable_ipv6_default(names: &[String]) -> Result<()> {
    let handles: Vec<Netns> = names
        .iter()
        .map(|n| Netns::open(Path::new(DIR).join(n)))
        .collect::<std::result::Result<_, _>>()?;
    let jobs: Vec<(&Netns, ())> = handles.iter().map(|h| (h, ())).collect();
    for r in run_many(&jobs, |_| {
        write_sysctl(Path::new(DEFAULT_DISABLE_IPV6), "1")
    }) {
        r??;
    }
    Ok(())
}

/// Creates the named namespace `name` as a runtime would: IPv6 off for new links and
/// `lo` up, inside it before it is handed to a plugin.
pub fn create(name: &str) -> Result<PathBuf> {
    let (_handle, made) = named::create(Path::new(DIR), name, || -> Result<()> {
        write_sysctl(Path::new(DEFAULT_DISABLE_IPV6), "1")?;
        let mut sock = RtSocket::open(RequestCounter::new())?;
        sock.execute_one(Request::new(ops::link::set_up("lo", true), 0, "set lo up"))?;
        Ok(())
    })?;
    made?;
    Ok(named::path(Path::new(DIR), name))
}

/// Deletes the named namespace `name` (unmount and unlink).
pub fn delete(name: &str) -> Result<()> {
    named::delete(Path::new(DIR), name)
        .map(|_| ())
        .map_err(|e| anyhow!("delete namespace {name}: {e}"))
}

/// The named namespaces that exist now.
pub fn list() -> Result<Vec<String>> {
    Ok(named::list(Path::new(DIR))?)
}
