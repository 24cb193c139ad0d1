//! The two `ip` peers: the article's way (one `ip` process per operation) and
//! `ip -batch` (one process for all work in the benchmark's namespace, plus one
//! `ip -n NS -batch` per container for the work inside it: a batch line cannot name
//! another namespace). Both create the veth peer directly in the container namespace.
//! IPv6: the benchmark's own namespace has `default.disable_ipv6=1` before the bridge
//! and host ends are created; in each container namespace the harness writes
//! `default.disable_ipv6=1` in-process right after `ip netns add` (see [`crate::netns`]).

use std::fmt::Write;
use std::process::{Command, Stdio};

use anyhow::Result;

use crate::method::Method;
use crate::netns;
use crate::run::{cmd, with_stdin};
use crate::topo::{Ct, BRIDGE, PREFIX_LEN, ROUTE_TO, VIA};

/// MAC of the bridge, pinned as vnet pins it.
const BRIDGE_MAC: &str = "02:00:02:00:00:01";

/// What is missing for the `ip` methods.
fn ip_missing() -> Option<String> {
    let ok = Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    (!ok).then(|| "`ip` (apt-get install iproute2)".to_string())
}

/// One `ip` process per operation, as the article's scripts do.
#[derive(Debug)]
pub struct PerOperation;

impl Method for PerOperation {
    fn name(&self) -> &'static str {
        "ip, one process per operation"
    }

    fn missing(&self) -> Option<String> {
        ip_missing()
    }

    fn setup(&mut self, cts: &[Ct]) -> Result<()> {
        cmd(&[
            "ip", "link", "add", BRIDGE, "address", BRIDGE_MAC, "type", "bridge",
        ])?;
        cmd(&["ip", "link", "set", BRIDGE, "up"])?;
        for ct in cts {
            let ns = self.ns_of(ct);
            let addr = format!("{}/{PREFIX_LEN}", ct.address);
            let via = VIA.to_string();
            cmd(&["ip", "netns", "add", &ns])?;
            netns::disable_ipv6_default(std::slice::from_ref(&ns))?;
            cmd(&["ip", "-n", &ns, "link", "set", "lo", "up"])?;
            cmd(&[
                "ip",
                "link",
                "add",
                &ct.host,
                "address",
                &ct.host_mac,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "address",
                &ct.mac,
                "netns",
                &ns,
            ])?;
            cmd(&["ip", "link", "set", &ct.host, "master", BRIDGE])?;
            cmd(&["ip", "link", "set", &ct.host, "up"])?;
            cmd(&["ip", "-n", &ns, "address", "add", &addr, "dev", "eth0"])?;
            cmd(&["ip", "-n", &ns, "link", "set", "eth0", "up"])?;
            cmd(&["ip", "-n", &ns, "route", "add", ROUTE_TO, "via", &via])?;
        }
        Ok(())
    }

    fn teardown(&mut self, cts: &[Ct]) -> Result<()> {
        for ct in cts {
            cmd(&["ip", "netns", "del", &self.ns_of(ct)])?;
        }
        cmd(&["ip", "link", "del", BRIDGE])?;
        Ok(())
    }

    fn ns_of(&self, ct: &Ct) -> String {
        format!("op-{}", ct.name)
    }

    fn bridge_ns(&self) -> Option<String> {
        None
    }

    fn check(&self, cts: &[Ct]) -> Result<()> {
        crate::check::built(self, cts)
    }
}

/// `ip -batch`: the fewest `ip` processes the work allows.
#[derive(Debug)]
pub struct Batch;

impl Method for Batch {
    fn name(&self) -> &'static str {
        "ip -batch"
    }

    fn missing(&self) -> Option<String> {
        ip_missing()
    }

    fn setup(&mut self, cts: &[Ct]) -> Result<()> {
        let names: Vec<String> = cts.iter().map(|c| self.ns_of(c)).collect();
        let mut add = String::new();
        for ns in &names {
            let _ = writeln!(add, "netns add {ns}");
        }
        with_stdin(&["ip", "-batch", "-"], &[], &add)?;
        netns::disable_ipv6_default(&names)?;
        let mut links =
            format!("link add {BRIDGE} address {BRIDGE_MAC} type bridge\nlink set {BRIDGE} up\n");
        for (ct, ns) in cts.iter().zip(&names) {
            let _ = writeln!(
                links,
                "link add {} address {} type veth peer name eth0 address {} netns {ns}\n\
                 link set {} master {BRIDGE} up",
                ct.host, ct.host_mac, ct.mac, ct.host
            );
        }
        with_stdin(&["ip", "-batch", "-"], &[], &links)?;
        for (ct, ns) in cts.iter().zip(&names) {
            let inside = format!(
                "link set lo up\naddress add {}/{PREFIX_LEN} dev eth0\nlink set eth0 up\n\
                 route add {ROUTE_TO} via {VIA}\n",
                ct.address
            );
            with_stdin(&["ip", "-n", ns, "-batch", "-"], &[], &inside)?;
        }
        Ok(())
    }

    fn teardown(&mut self, cts: &[Ct]) -> Result<()> {
        let mut del = String::new();
        for ct in cts {
            let _ = writeln!(del, "netns del {}", self.ns_of(ct));
        }
        let _ = writeln!(del, "link del {BRIDGE}");
        with_stdin(&["ip", "-batch", "-"], &[], &del)?;
        Ok(())
    }

    fn ns_of(&self, ct: &Ct) -> String {
        format!("bt-{}", ct.name)
    }

    fn bridge_ns(&self) -> Option<String> {
        None
    }

    fn check(&self, cts: &[Ct]) -> Result<()> {
        crate::check::built(self, cts)
    }
}
